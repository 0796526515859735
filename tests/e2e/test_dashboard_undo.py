"""Retry and Revert on a run's page, Delete on a profile's and a store's page, in a real
browser: each asks first in a dialog, then the API acts (a retry or revert is a new run,
whose page the browser opens and which links back to its parent); a refusal shows the API's
words in the dialog; a viewer sees every one of them disabled with the reason.

The e2e tenant is shared: each test makes its own profile. This file owns product 8 of the
seeded catalog (test_dashboard_editor.py only previews a file naming it, never runs it):
size L gets a stock over BigCommerce's maximum, refused before sending (a failed change,
nothing written); sizes S and M get new prices, and every test that writes them reverts
them, so the store ends as it began.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import (
    Api,
    Sandbox,
    Served,
    StoreInfo,
    Supplier,
    csv_text,
    ready_store,
    seed_price,
    seed_stock,
    sku,
    upc,
)
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

PRODUCT = 8  # this file's product of the seeded catalog (see the module docstring)
OVER_MAX_STOCK = "2147483648"  # BigCommerce's inventory_level maximum + 1
FINISHED = re.compile(r"^Status: (Ready|Failed|Partly applied)$")


def _row(size: str, price: str | None = None, stock: str | None = None) -> list[str]:
    p = PRODUCT
    return [
        sku(p, size),
        upc(p, size),
        price if price is not None else f"{seed_price(p, size):.2f}",
        stock if stock is not None else str(seed_stock(p, size)),
    ]


def _profile_run(
    api: Api, store: StoreInfo, supplier: Supplier, rows: list[list[str]], name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A profile on its own file of ``rows``, synced once: (profile, finished run)."""
    tag = uuid.uuid4().hex[:6]
    url = supplier.put(f"undo-{tag}.csv", csv_text(rows))
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name=f"{name} {tag}")
    return profile, api.sync(profile["profile_id"])


def _store_prices(sandbox: Sandbox, *sizes: str) -> dict[str, float]:
    variants = sandbox.variants()
    return {sku(PRODUCT, s): float(variants[sku(PRODUCT, s)]["price"]) for s in sizes}


def _opened_run(page: Page, parent_id: str) -> str:
    """The run the browser moved on to from ``parent_id``'s page (its id from the URL)."""
    expect(page).not_to_have_url(re.compile(f"#/runs/{re.escape(parent_id)}$"))
    expect(page).to_have_url(re.compile(r"#/runs/[^/]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name=f"Run {run_id}")).to_be_visible()
    return run_id


def _revert_by_api(api: Api, run: dict[str, Any]) -> None:
    """Put back what ``run`` wrote (a test's clean-up), and wait for the profile."""
    child = api.ok("POST", f"/runs/{run['run_id']}/revert", None, 202)
    assert api.wait_run(child["run_id"])["status"] == "succeeded"
    api.wait_profile_idle(run["profile_id"])


def _fits_the_phone(page: Page) -> None:
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_failed_change_is_retried_from_the_run_page_in_a_new_run_linking_back(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a finished run whose one change failed (a stock BigCommerce refuses)
    profile, run = _profile_run(
        api, store, supplier, [_row("L", stock=OVER_MAX_STOCK)], "Undo retry"
    )
    assert run["change_counts"]["status"].get("failed") == 1, run
    assert run["change_counts"]["status"].get("updated", 0) == 0
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        page.goto(f"/#/runs/{run['run_id']}")
        expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()

        # Then Retry is offered, and Revert is not (the run wrote nothing)
        retry = page.get_by_role("button", name="Retry failed changes")
        expect(retry).to_be_enabled()
        expect(page.get_by_role("button", name="Revert this run")).to_have_count(0)
        assert serious_accessibility_violations(page) == []
        screenshot(page, "undo-retry-offered")

        # When Retry is pressed, the dialog says what will happen before anything does
        retry.click()
        dialog = page.get_by_role("dialog", name="Retry failed changes")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("sends the 1 change that failed in this run again")
        assert serious_accessibility_violations(page) == []
        screenshot(page, "undo-retry-dialog", full_page=False)

        # When it is confirmed
        dialog.get_by_role("button", name="Retry failed changes").click()

        # Then the browser is on the new run's page, which follows the run to its end
        new_id = _opened_run(page, run["run_id"])
        expect(page.locator(".status-text")).to_have_text(FINISHED, timeout=60_000)
        screenshot(page, "undo-retry-run")
        # And the API holds it as a retry of the first run
        child = api.wait_run(new_id)
        assert (child["trigger"], child["parent_run_id"]) == ("retry", run["run_id"])
        # And its log is the change it sent again, refused again for the same reason
        line = page.locator("table tbody tr")
        expect(line).to_have_count(1)
        expect(line).to_contain_text(sku(PRODUCT, "L"))
        expect(line).to_contain_text("BigCommerce takes at most 2,147,483,647")

        # When the link to its parent is followed, the first run's page is back
        parent = page.get_by_role("link", name=f"run {run['run_id']}")
        expect(page.locator(".parent-run")).to_contain_text("sends again the failed changes of")
        parent.click()
        expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()
        assert watch.foreign_requests == [] and watch.console_errors == []
    api.wait_profile_idle(profile["profile_id"])


def test_a_run_is_reverted_from_its_page_and_the_store_holds_the_old_values_again(
    chromium: Browser,
    serve: Served,
    api: Api,
    sandbox: Sandbox,
    store: StoreInfo,
    supplier: Supplier,
) -> None:
    # Given a succeeded run that changed the price of size S
    before = _store_prices(sandbox, "S")
    profile, run = _profile_run(api, store, supplier, [_row("S", price="55.25")], "Undo revert")
    assert run["status"] == "succeeded" and run["change_counts"]["status"]["updated"] == 1, run
    assert _store_prices(sandbox, "S") == {sku(PRODUCT, "S"): 55.25}

    # When its page is opened at 375 px, Revert is offered and its dialog fits the phone
    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, _w):
        page.goto(f"/#/runs/{run['run_id']}")
        page.get_by_role("button", name="Revert this run").click()
        expect(page.get_by_role("dialog", name="Revert this run")).to_be_visible()
        _fits_the_phone(page)
        screenshot(page, "undo-revert-dialog-phone", full_page=False)

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        page.goto(f"/#/runs/{run['run_id']}")
        expect(page.get_by_role("button", name="Retry failed changes")).to_have_count(0)

        # When Revert is pressed and confirmed
        page.get_by_role("button", name="Revert this run").click()
        dialog = page.get_by_role("dialog", name="Revert this run")
        expect(dialog).to_contain_text("puts back the 1 value this run replaced")
        expect(dialog).to_contain_text("where the store still holds what this run wrote")
        screenshot(page, "undo-revert-dialog", full_page=False)
        dialog.get_by_role("button", name="Revert this run").click()

        # Then the browser follows the new run to its end, a revert of the first
        new_id = _opened_run(page, run["run_id"])
        expect(page.locator(".status-text")).to_have_text("Status: Ready", timeout=60_000)
        expect(page.locator(".parent-run")).to_contain_text("puts back what")
        child = api.wait_run(new_id)
        assert (child["trigger"], child["parent_run_id"]) == ("revert", run["run_id"])
        # And its log is the price it put back
        expect(page.locator("table tbody tr")).to_contain_text(
            f"55.25 -> {before[sku(PRODUCT, 'S')]:.2f}"
        )
        # And a revert offers no revert of its own (the API refuses one)
        expect(page.get_by_role("button", name="Revert this run")).to_have_count(0)
        assert serious_accessibility_violations(page) == []
        screenshot(page, "undo-revert-run")

        # And the store holds the old price again
        api.wait_profile_idle(profile["profile_id"])
        assert _store_prices(sandbox, "S") == before

        # And back on the first run, its changes are reverted: nothing left to revert
        page.get_by_role("link", name=f"run {run['run_id']}").click()
        expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()
        expect(page.locator("dl.summary")).to_be_visible()
        expect(page.get_by_role("button", name="Revert this run")).to_have_count(0)
        assert watch.foreign_requests == [] and watch.console_errors == []


def _new_store(api: Api, serve: Served) -> dict[str, Any]:
    """A store of this test's own on the e2e sandbox, ready."""
    name = f"Undo store {uuid.uuid4().hex[:6]}"
    return ready_store(api, name, serve.sandbox_url, serve.sandbox_token)


def test_a_store_in_use_is_refused_then_deleted_once_its_profile_is(
    chromium: Browser, serve: Served, api: Api, supplier: Supplier
) -> None:
    # Given a store of its own and a profile syncing to it
    own = _new_store(api, serve)
    url = supplier.put(f"undo-delete-{uuid.uuid4().hex[:6]}.csv", csv_text([_row("S")]))
    name = f"Undo delete {uuid.uuid4().hex[:6]}"
    profile = api.create_profile(own["store_id"], {"type": "url", "url": url}, name=name)
    store_page = f"/#/stores/{own['store_id']}"

    for viewport, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        with dashboard_page(chromium, serve.api_url, serve.api_key, viewport) as (page, watch):
            # When the store is deleted from its page while the profile uses it
            page.goto(store_page)
            expect(page.get_by_role("heading", name=own["name"])).to_be_visible()
            page.get_by_role("button", name="Delete store").click()
            dialog = page.get_by_role("dialog", name="Delete store")
            expect(dialog).to_contain_text(f"Delete {own['name']} from feedsync?")
            dialog.get_by_role("button", name="Delete store").click()

            # Then the dialog shows the API's refusal, naming the profile, and the store stays
            alert = dialog.get_by_role("alert")
            expect(alert).to_contain_text("1 profile(s) sync to this store")
            expect(alert).to_contain_text(profile["profile_id"])
            assert api.get(f"/stores/{own['store_id']}").status_code == 200
            assert serious_accessibility_violations(page) == []
            if suffix == "phone":
                _fits_the_phone(page)
            screenshot(page, f"undo-store-refused-{suffix}", full_page=False)
            dialog.get_by_role("button", name="Keep it").click()
            expect(dialog).to_be_hidden()
            # (the browser logs the refused request itself: the one error expected)
            assert [e for e in watch.console_errors if "409 (Conflict)" not in e] == []
            assert watch.foreign_requests == []

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        # When the profile is deleted from its page, after the dialog names it
        page.goto(f"/#/profiles/{profile['profile_id']}/edit")
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()
        page.get_by_role("button", name="Delete profile").click()
        dialog = page.get_by_role("dialog", name="Delete profile")
        expect(dialog).to_contain_text(f"Delete {name}?")
        assert serious_accessibility_violations(page) == []
        screenshot(page, "undo-profile-delete-dialog", full_page=False)
        dialog.get_by_role("button", name="Delete profile").click()

        # Then the browser is back on the profiles, and the API lists it no more
        expect(page.get_by_role("heading", name="Profiles", exact=True)).to_be_visible()
        listed = [p["profile_id"] for p in api.ok("GET", "/profiles")["profiles"]]
        assert profile["profile_id"] not in listed
        assert api.get(f"/profiles/{profile['profile_id']}").status_code == 404

        # When the store is deleted now that no profile uses it
        page.goto(store_page)
        page.get_by_role("button", name="Delete store").click()
        page.get_by_role("dialog", name="Delete store").get_by_role(
            "button", name="Delete store"
        ).click()

        # Then the browser is back on the stores list, without it, and the API has it no more
        expect(page.get_by_role("heading", name="Stores", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=own["name"])).to_have_count(0)
        assert api.get(f"/stores/{own['store_id']}").status_code == 404
        screenshot(page, "undo-store-deleted")
        assert watch.foreign_requests == [] and watch.console_errors == []


def test_a_viewer_sees_retry_revert_and_delete_disabled_with_the_reason(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a run that updated a price and had a change fail, and a viewer's key
    rows = [_row("M", price="56.75"), _row("L", stock=OVER_MAX_STOCK)]
    profile, run = _profile_run(api, store, supplier, rows, "Undo viewer")
    counted = run["change_counts"]["status"]
    assert (counted.get("updated"), counted.get("failed")) == (1, 1), run
    viewer = str(
        api.ok(
            "POST", "/api-keys", {"name": f"viewer {uuid.uuid4().hex[:6]}", "role": "viewer"}, 201
        )["key"]
    )
    try:
        for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
            with dashboard_page(chromium, serve.api_url, viewer, viewport) as (page, watch):
                # When the viewer opens the run's page
                page.goto(f"/#/runs/{run['run_id']}")
                expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()

                # Then Retry and Revert show, disabled, with the reason
                expect(
                    page.get_by_text("Retrying or reverting a run needs the editor role.")
                ).to_be_visible()
                for name in ("Retry failed changes", "Revert this run"):
                    expect(page.get_by_role("button", name=name)).to_be_disabled()
                assert serious_accessibility_violations(page) == []
                if suffix == "phone":
                    _fits_the_phone(page)
                page.get_by_role("heading", name="Retry or revert").scroll_into_view_if_needed()
                screenshot(page, f"undo-viewer-run-{suffix}", full_page=suffix == "desktop")

                # And on the profile's page, Delete profile is disabled with the reason
                page.goto(f"/#/profiles/{profile['profile_id']}/edit")
                expect(page.get_by_role("button", name="Delete profile")).to_be_disabled()
                expect(
                    page.get_by_text("Deleting the profile needs the editor role.")
                ).to_be_visible()
                assert serious_accessibility_violations(page) == []

                # And on the store's page, Delete store is disabled with the reason
                page.goto(f"/#/stores/{store.store_id}")
                expect(page.get_by_role("button", name="Delete store")).to_be_disabled()
                expect(
                    page.get_by_text("Deleting the store needs the editor role.")
                ).to_be_visible()
                assert serious_accessibility_violations(page) == []
                if suffix == "phone":
                    _fits_the_phone(page)
                screenshot(page, f"undo-viewer-store-{suffix}")
                assert watch.console_errors == [], watch.console_errors
    finally:
        _revert_by_api(api, run)  # the price of size M back as it was
