"""The home page in a real browser: a tile per profile, Start with its confirmation, the
tile following the run to Ready, Start disabled with its reason while a run is active, a
held or previewed run waiting for review, the menu per tile, and axe at both widths.

The e2e tenant is shared: each test finds its own tiles by a unique profile name. Feeds
here repeat the seeded values of product 10 (nothing to write) plus rows the file gets
wrong, so no other test's products move.
"""

from __future__ import annotations

import uuid

import pytest
from browser_support import (
    PHONE,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import (
    Api,
    Served,
    StoreInfo,
    Supplier,
    csv_text,
    seed_price,
    seed_stock,
    sku,
    upc,
)
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.e2e

PRODUCT = 10  # this file's product of the seeded catalog (see the module docstring)
RUN_TIMEOUT_MS = 60_000


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def seeded_row(size: str) -> list[str]:
    return [
        sku(PRODUCT, size),
        upc(PRODUCT, size),
        f"{seed_price(PRODUCT, size):.2f}",
        str(seed_stock(PRODUCT, size)),
    ]


def feed_with_a_row_error() -> str:
    """Two rows the store already holds, one whose price is not a price, one unknown SKU."""
    return csv_text(
        [
            seeded_row("S"),
            seeded_row("M"),
            [sku(PRODUCT, "L"), upc(PRODUCT, "L"), "call us", "3"],
            ["HOME-NOPE-1", "", "5.00", "1"],
        ]
    )


def tile(page: Page, name: str) -> Locator:
    return page.locator("li.tile").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_start_confirm_watch_it_reach_ready_with_start_disabled_meanwhile(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose supplier file is held back by the supplier's server
    name = unique("Home start")
    url = supplier.put(f"slow-home-{uuid.uuid4().hex[:6]}.csv", feed_with_a_row_error())
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        page.goto("/")
        card = tile(page, name)
        expect(card).to_be_visible()
        expect(card.locator(".live-status")).to_have_text("Ready")
        expect(card).to_contain_text("No run yet")
        expect(card.locator(".badge")).to_have_text("Needs a look")
        assert card.locator(".live-status").get_attribute("aria-live") == "polite"

        with supplier.holding_slow_files():
            # When the merchant clicks Start
            card.get_by_role("button", name="Start").click()

            # Then a dialog asks for confirmation, with the time warning and partial / full
            dialog = page.get_by_role("dialog", name="Start a sync")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text(
                "This may take a few minutes depending on your product count"
            )
            estimate = api.ok("GET", f"/profiles/{profile['profile_id']}")["estimate"]["text"]
            expect(dialog).to_contain_text(f"Estimated time: {estimate}")
            expect(dialog.get_by_label("Partial", exact=False)).to_be_checked()
            assert serious_accessibility_violations(page) == []
            screenshot(page, "home-start-dialog")
            dialog.get_by_label("Full", exact=False).check()
            dialog.get_by_role("button", name="Start").click()

            # Then the dialog closes, focus moves to the new run's link, and while the run
            # waits for its file Start is disabled with the reason in words
            expect(dialog).to_be_hidden()
            follow = card.get_by_role("link", name="Follow this run")
            expect(follow).to_be_focused()
            start = card.get_by_role("button", name="Start")
            expect(start).to_be_disabled(timeout=10_000)
            # ... and the tile says the run's phase: it waits in Preparing for the file
            expect(card.locator(".live-status")).to_have_text("Preparing", timeout=10_000)
            reason_id = start.get_attribute("aria-describedby")
            assert reason_id
            reason = page.locator(f"#{reason_id}")
            expect(reason).to_contain_text("Start is unavailable")
            expect(reason).to_contain_text("in progress")
            screenshot(page, "home-running")

        # When the supplier answers, the tile follows the run to Ready (polled every 3 s)
        expect(card.locator(".live-status")).to_have_text("Ready", timeout=RUN_TIMEOUT_MS)
        expect(card.get_by_role("button", name="Start")).to_be_enabled()

        # Then its last run is the one started here, in full mode, and the tile shows the
        # health the API gives, in words
        after = api.wait_profile_idle(profile["profile_id"])
        run = after["last_run"]
        assert run["status"] == "succeeded"
        started = api.ok("GET", f"/runs/{run['run_id']}")
        assert started["mode"] == "full" and started["trigger"] == "manual"
        assert follow.get_attribute("href") == f"#/runs/{run['run_id']}"
        expect(card.locator(".health-reason")).to_have_text(after["health"]["reason"])
        assert watch.foreign_requests == []
        assert watch.console_errors == []


def test_the_menu_opens_with_the_keyboard_and_links_to_edit_logs_and_history(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile with one run behind it
    name = unique("Home menu")
    url = supplier.put(f"home-menu-{uuid.uuid4().hex[:6]}.csv", feed_with_a_row_error())
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    run = api.sync(profile["profile_id"])
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        page.goto("/")
        card = tile(page, name)
        menu_button = card.get_by_role("button", name="More")

        # When the menu button is focused and opened with Enter
        menu_button.focus()
        page.keyboard.press("Enter")

        # Then it is expanded, focus is on its first link, and the arrows move through them
        expect(menu_button).to_have_attribute("aria-expanded", "true")
        expect(card.get_by_role("link", name="Edit Settings")).to_be_focused()
        page.keyboard.press("ArrowDown")
        view_logs = card.get_by_role("link", name="View Logs")
        expect(view_logs).to_be_focused()
        assert view_logs.get_attribute("href") == f"#/runs/{run['run_id']}"
        history = card.get_by_role("link", name="History")
        assert history.get_attribute("href") == f"#/profiles/{profile['profile_id']}/runs"

        # When Escape is pressed the menu closes and focus returns to its button
        page.keyboard.press("Escape")
        expect(menu_button).to_have_attribute("aria-expanded", "false")
        expect(menu_button).to_be_focused()
        expect(card.get_by_role("link", name="Edit Settings")).to_be_hidden()

        # When View Logs is chosen, the run's page opens
        menu_button.click()
        card.get_by_role("link", name="View Logs").click()
        expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()


def test_a_previewed_run_waits_for_review_and_apply_sends_it(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose file changes one price, started as a preview (nothing sent)
    name = unique("Home review")
    new_price = f"{seed_price(PRODUCT, 'L') + 1:.2f}"
    url = supplier.put(
        f"home-review-{uuid.uuid4().hex[:6]}.csv",
        csv_text(
            [[sku(PRODUCT, "L"), upc(PRODUCT, "L"), new_price, str(seed_stock(PRODUCT, "L"))]]
        ),
    )
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    preview = api.sync(profile["profile_id"], {"preview": True})
    assert preview["status"] == "previewed"
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        # When the home page shows its tile
        page.goto("/")
        card = tile(page, name)

        # Then the tile says it waits for review, with a link to the run
        expect(card).to_contain_text("Waiting for your review")
        card.get_by_role("link", name="see the changes and apply them").click()

        # Then the run's page lists the change, store value -> new value
        review = page.get_by_role("region", name="Waiting for your review")
        expect(review).to_be_visible()
        row = review.locator("tbody tr").filter(has_text=sku(PRODUCT, "L"))
        expect(row).to_contain_text(new_price)
        assert serious_accessibility_violations(page) == []
        screenshot(page, "run-review")

        # When the merchant applies it, the run is applied and the store holds the price
        review.get_by_role("button", name="Apply all changes").click()
        expect(page.locator(".status-text")).to_have_text("Status: Ready", timeout=RUN_TIMEOUT_MS)
    applied = api.wait_run(preview["run_id"])
    assert applied["status"] == "succeeded" and applied["counts"]["updated"] == 1
    api.wait_profile_idle(profile["profile_id"])


def test_home_is_accessible_and_fits_a_phone(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given at least one profile of this test's own
    name = unique("Home phone")
    url = supplier.put(f"home-phone-{uuid.uuid4().hex[:6]}.csv", feed_with_a_row_error())
    api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    for viewport, shot in ((None, "home"), (PHONE, "home-phone")):
        kwargs = {} if viewport is None else {"viewport": viewport}
        with dashboard_page(chromium, serve.api_url, serve.api_key, **kwargs) as (page, watch):
            # When the home page is open
            page.goto("/")
            expect(tile(page, name)).to_be_visible()

            # Then axe finds nothing serious, nothing is wider than the screen, and it
            # loaded nothing from elsewhere
            assert serious_accessibility_violations(page) == []
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= page.viewport_size["width"], width
            screenshot(page, shot, full_page=viewport is None)
            assert watch.foreign_requests == []


def test_serve_prints_where_the_dashboard_is(serve: Served) -> None:
    # Given what `feedsync serve` printed when it started (the fixture keeps its stdout)
    printed = (serve.stderr_path.parent / "stdout.txt").read_text(encoding="utf-8")

    # Then its first line is the dashboard's URL, the API's own origin
    first = printed.splitlines()[0]
    assert first.split()[:2] == ["dashboard", f"{serve.api_url}/"]
    assert "sign in with the API key, or as the demo user" in first
    # ... and the demo user it signs in as is printed with its password
    demo = serve.info["demo_user"]
    assert any(
        line.split()[:2] == ["demo", "user"] and demo["email"] in line and demo["password"] in line
        for line in printed.splitlines()
    )
