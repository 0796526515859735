"""The stores page in a real browser: connect a store and watch its catalog import reach
ready, re-import by date, replace a token the store rejects; axe and 375 px on each view."""

from __future__ import annotations

import time
import uuid
from typing import Any

from browser_support import (
    PHONE,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import Api, Sandbox, Served
from playwright.sync_api import Browser, Page, expect

IMPORT_TIMEOUT_MS = 45_000


def _store_named(api: Api, name: str) -> dict[str, Any]:
    stores = api.ok("GET", "/stores")["stores"]
    found = [s for s in stores if s["name"] == name]
    assert len(found) == 1, f"{name!r} among {[s['name'] for s in stores]}"
    return found[0]


def _wait_store(api: Api, store_id: str, status: str, timeout_s: float = 45) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (store := api.ok("GET", f"/stores/{store_id}"))["status"] != status:
        assert time.monotonic() < deadline, f"store {store_id} still {store['status']}"
        time.sleep(0.2)
    return store  # type: ignore[no-any-return]


def _tab_to(page: Page, element_id: str, most: int = 30) -> None:
    """Tab from where the focus is (the page's h1) until the element has it."""
    for _ in range(most):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} not reached in {most} tabs")


def _no_page_faults(page: Page, watch: Any) -> None:
    assert serious_accessibility_violations(page) == []
    assert watch.foreign_requests == []
    assert watch.console_errors == []


def test_connect_a_store_and_watch_it_reach_ready(
    chromium: Browser, serve: Served, api: Api, sandbox: Sandbox
) -> None:
    name = f"UI store {uuid.uuid4().hex[:6]}"
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        # Given the stores page
        page.goto("/#/stores")
        expect(page.get_by_role("heading", name="Connect a store")).to_be_visible()
        _no_page_faults(page, watch)
        screenshot(page, "stores-connect")

        # When the merchant connects the sandbox store with its address and token
        page.get_by_label("Platform").select_option(label="BigCommerce")
        expect(page.get_by_text("api.bigcommerce.com/stores/")).to_be_visible()  # the hint
        page.get_by_label("Store name").fill(name)
        page.get_by_label("Store address").fill(serve.sandbox_url)
        page.get_by_label("Access token").fill(serve.sandbox_token)
        page.get_by_role("button", name="Connect store").click()

        # Then the store's page watches its import and says when it is ready, with the count
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        status = page.get_by_role("status").first
        expect(status).to_contain_text("Ready:", timeout=IMPORT_TIMEOUT_MS)
        stored = _store_named(api, name)
        assert stored["status"] == "ready"
        assert stored["variant_count"] >= len(sandbox.variants())
        expect(status).to_contain_text(f"{stored['variant_count']:,} variants")
        _no_page_faults(page, watch)
        screenshot(page, "stores-ready")

        # And the list shows it ready with its variant count
        page.get_by_role("link", name="← All stores").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name))
        expect(row).to_contain_text("Ready")
        expect(row).to_contain_text(f"{stored['variant_count']:,}")
        screenshot(page, "stores-list")

        # When the merchant re-imports what changed since a day
        row.get_by_role("link", name=name).click()
        page.get_by_label("What changed between two dates").check()
        page.get_by_label("From").fill("2024-01-01")
        page.get_by_role("button", name="Re-import").click()

        # Then the page follows the import by date until the store is ready again
        status = page.get_by_role("status").first
        expect(status).to_contain_text("Re-importing")
        expect(status).to_contain_text("Ready:", timeout=IMPORT_TIMEOUT_MS)
        expect(status).to_contain_text("(by date)")
        assert api.ok("GET", f"/stores/{stored['store_id']}")["import_mode"] == "by_date"
        _no_page_faults(page, watch)


def test_a_rejected_token_is_replaced_on_the_store_page(
    chromium: Browser, serve: Served, api: Api, sandbox: Sandbox
) -> None:
    # Given a store whose token the platform rejects
    name = f"UI rejected {uuid.uuid4().hex[:6]}"
    created = api.ok(
        "POST",
        "/stores",
        {
            "name": name,
            "platform": "bigcommerce",
            "api_url": serve.sandbox_url,
            "credentials": {"access_token": "not-the-token"},
        },
        status=201,
    )
    _wait_store(api, created["store_id"], "import_failed")

    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, watch):
        # When its page is opened (on a phone)
        page.goto(f"/#/stores/{created['store_id']}")

        # Then it says the import failed and what to do next
        status = page.get_by_role("status").first
        expect(status).to_contain_text("Import failed")
        expect(status).to_contain_text("Replace the token")
        _no_page_faults(page, watch)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "stores-rejected-phone")

        # When the merchant, with the keyboard alone, tabs to the token, types the right one
        # and presses Enter
        _tab_to(page, "f-credentials-access-token")
        page.keyboard.type(serve.sandbox_token)
        page.keyboard.press("Enter")

        # Then the store re-checks it at once and the page says it was accepted
        expect(page.get_by_text("New token accepted")).to_be_visible(timeout=IMPORT_TIMEOUT_MS)
        expect(status).to_contain_text("Ready:")
        assert api.ok("GET", f"/stores/{created['store_id']}")["status"] == "ready"
        _no_page_faults(page, watch)
        screenshot(page, "stores-token-replaced-phone")


def test_connect_refusal_is_shown_beside_the_field(
    chromium: Browser, serve: Served, api: Api
) -> None:
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        # Given the connect form filled with an address that is no URL
        page.goto("/#/stores")
        page.get_by_label("Store name").fill("Never saved")
        page.get_by_label("Store address").fill("not a url")
        page.get_by_label("Access token").fill("x")

        # When it is sent
        page.get_by_role("button", name="Connect store").click()

        # Then the API's refusal shows beside the address, which has the focus
        address = page.get_by_label("Store address")
        expect(address).to_be_focused()
        expect(address).to_have_attribute("aria-invalid", "true")
        error = page.locator("#f-api-url-error")
        expect(error).to_contain_text("URL")
        assert "Never saved" not in [s["name"] for s in api.ok("GET", "/stores")["stores"]]


def test_the_stores_list_reads_at_phone_width(
    chromium: Browser, serve: Served, api: Api, sandbox: Sandbox
) -> None:
    # Given at least one store
    assert api.ok("GET", "/stores")["stores"] or api.ok(
        "POST",
        "/stores",
        {
            "name": f"UI phone {uuid.uuid4().hex[:6]}",
            "platform": "bigcommerce",
            "api_url": serve.sandbox_url,
            "credentials": {"access_token": serve.sandbox_token},
        },
        status=201,
    )
    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, watch):
        # When the stores page is opened on a phone
        page.goto("/#/stores")
        expect(page.get_by_role("table", name="Your stores")).to_be_visible()

        # Then the page is no wider than the screen (the table scrolls in its own box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _no_page_faults(page, watch)
        screenshot(page, "stores-list-phone")
