"""The profile editor's settings beyond the columns, in a real browser: fixed values, the stock
location, price tiers and webhooks are saved, shown again when the editor reopens, held by the
API's profile, and the API's refusals of them show beside the field they are about; axe and
375 px on the way."""

from __future__ import annotations

import re
import uuid
from typing import Any

from browser_support import PHONE, dashboard_page, screenshot, serious_accessibility_violations
from e2e_support import Api, Served, StoreInfo, Supplier
from playwright.sync_api import Browser, Page, expect

HOOK_URL = "http://127.0.0.1:9/feedsync-hook"  # the local stack takes loopback http webhooks


def _url_profile(api: Api, store: StoreInfo, supplier: Supplier, name: str) -> dict[str, Any]:
    """A profile reading a small file with SKU and price columns only (no stock, no brand)."""
    url = supplier.put(f"settings-{uuid.uuid4().hex[:6]}.csv", "SKU,Price\nNOT-IN-STORE,1.00\n")
    return api.create_profile(
        store.store_id,
        {"type": "url", "url": url},
        name=name,
        mapping={"sku": "SKU", "price": "Price"},
        fields=["price"],
    )


def _edit(page: Page, profile: dict[str, Any]) -> None:
    page.goto(f"/#/profiles/{profile['profile_id']}/edit")
    expect(page.get_by_role("heading", name=f"Edit settings: {profile['name']}")).to_be_visible()


def _refused_beside(page: Page, label: str, words: str, within: Any = None) -> None:
    """The field is focused, marked invalid, and described by the API's words."""
    field = (within or page).get_by_label(label, exact=True)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(rf"Error: {re.escape(words)}$"))


def test_fixed_values_location_tiers_and_webhooks_are_saved_and_shown_again(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose file has no stock and no brand column, on a BigCommerce store
    profile = _url_profile(api, store, supplier, f"UI settings {uuid.uuid4().hex[:6]}")
    own_location = api.ok("GET", f"/stores/{store.store_id}")["options"]["location_id"]

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        _edit(page, profile)

        # When the merchant gives every row a stock of 10 and the brand Acme, and writes stock
        fixed = page.get_by_role("group", name="Fixed values")
        fixed.get_by_label("Stock, fixed").fill("10")
        fixed.get_by_label("Brand, fixed").fill("Acme")
        page.get_by_role("group", name="Values written to your store").get_by_label("Stock").check()

        # And sends the stock to location 7 (the help says what an empty one means)
        location = page.get_by_label("Stock location ID")
        default = (
            f"Leave empty to use the store's own location ({own_location})."
            if own_location
            else "Leave empty to use the store's default location."
        )
        expect(location).to_have_accessible_description(default)
        location.fill("7")

        # And marks up by price range: 50 % below 10.00, 30 % from 10.00, tiered by cost
        tiers = page.get_by_role("group", name="Markup by price range (tiers)")
        tiers.get_by_role("button", name="Add a tier").click()
        first = tiers.get_by_role("group", name="Tier 1")
        expect(first.get_by_label("Prices from")).to_be_focused()
        first.get_by_label("Prices from").fill("0")
        first.get_by_label("Up to").fill("10")
        first.get_by_label("Markup (%)").fill("50")
        tiers.get_by_role("button", name="Add a tier").click()
        second = tiers.get_by_role("group", name="Tier 2")
        expect(second.get_by_label("Prices from")).to_have_value("10")  # follows on from tier 1
        second.get_by_label("Markup (%)").fill("30")
        tiers.get_by_label("Pick the tier by").select_option("cost")

        # And adds a webhook told of failures and of every successful run
        page.get_by_role("button", name="Add a webhook").click()
        hook = page.get_by_role("group", name="Webhook 1")
        expect(hook.get_by_label("Address (URL)")).to_be_focused()
        hook.get_by_label("Address (URL)").fill(HOOK_URL)
        hook.get_by_label("It finished, but the store refused items").uncheck()
        hook.get_by_label("A safety limit held it").uncheck()
        hook.get_by_label("Every successful run").check()
        assert serious_accessibility_violations(page) == []
        page.get_by_role("button", name="Save", exact=True).click()

        # Then it is saved, and the signing secret is shown this once, as the status line says
        expect(page.get_by_role("status").filter(has_text="Saved.")).to_contain_text(
            "Copy the signing secret under Notifications: it is shown once."
        )
        secret = page.locator("#webhook-secret")
        expect(secret).to_have_text(_starts_with("whsec_"))
        shown_secret = secret.inner_text()
        page.get_by_role("heading", name="Notifications").evaluate("h => h.scrollIntoView()")
        screenshot(page, "editor-settings-secret", full_page=False)

        # And the API's profile holds every value
        held = api.ok("GET", f"/profiles/{profile['profile_id']}")
        assert held["constants"] == {"stock": "10", "brand": "Acme"}
        assert held["fields"] == ["price", "stock"]
        assert held["location_id"] == "7"
        price_rules = held["rules"]["price_rules"]
        assert [(t["min"], t.get("max"), t["markup_percent"]) for t in price_rules["tiers"]] == [
            ("0.00", "10.00", "50"),
            ("10.00", None, "30"),
        ]
        assert price_rules["tiers_by"] == "cost"
        assert held["webhooks"] == [{"url": HOOK_URL, "events": ["failed", "succeeded"]}]
        assert held["has_webhook_secret"] is True
        assert "webhook_secret" not in held  # shown once, by the save's answer only
        screenshot(page, "editor-settings-desktop")

        # When the editor is opened again
        page.reload()
        _edit(page, profile)

        # Then it shows what was saved, and no secret any more
        fixed = page.get_by_role("group", name="Fixed values")
        expect(fixed.get_by_label("Stock, fixed")).to_have_value("10")
        expect(fixed.get_by_label("Brand, fixed")).to_have_value("Acme")
        expect(fixed.get_by_label("Price, fixed", exact=True)).to_have_value("")
        expect(page.get_by_label("Stock location ID")).to_have_value("7")
        tiers = page.get_by_role("group", name="Markup by price range (tiers)")
        for at, (low, high, markup) in enumerate((("0.00", "10.00", "50"), ("10.00", "", "30"))):
            tier = tiers.get_by_role("group", name=f"Tier {at + 1}")
            expect(tier.get_by_label("Prices from")).to_have_value(low)
            expect(tier.get_by_label("Up to")).to_have_value(high)
            expect(tier.get_by_label("Markup (%)")).to_have_value(markup)
        expect(tiers.get_by_label("Pick the tier by")).to_have_value("cost")
        hook = page.get_by_role("group", name="Webhook 1")
        expect(hook.get_by_label("Address (URL)")).to_have_value(HOOK_URL)
        expect(hook.get_by_label("The run failed")).to_be_checked()
        expect(hook.get_by_label("It finished, but the store refused items")).not_to_be_checked()
        expect(hook.get_by_label("Every successful run")).to_be_checked()
        expect(page.locator("#webhook-secret")).to_have_count(0)
        expect(page.get_by_text("This profile has a signing secret.")).to_be_visible()

        # When the merchant makes a new signing secret, confirming with the keyboard
        page.get_by_role("button", name="Make a new signing secret").click()
        expect(page.get_by_role("button", name="Yes, make a new secret")).to_be_focused()
        page.keyboard.press("Enter")

        # Then a new secret is shown, not the old one
        expect(page.locator("#webhook-secret")).to_have_text(_starts_with("whsec_"))
        assert page.locator("#webhook-secret").inner_text() != shown_secret

        # When the second tier, the webhook, the location and the fixed brand are removed
        tiers.get_by_role("button", name="Remove tier 2").click()
        page.get_by_role("button", name="Remove webhook 1").click()
        expect(page.get_by_role("button", name="Add a webhook")).to_be_focused()
        page.get_by_label("Stock location ID").fill("")
        page.get_by_role("group", name="Fixed values").get_by_label("Brand, fixed").fill("")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

        # Then the API's profile has lost them too
        held = api.ok("GET", f"/profiles/{profile['profile_id']}")
        assert held["constants"] == {"stock": "10"}
        assert held["location_id"] is None
        assert [t["min"] for t in held["rules"]["price_rules"]["tiers"]] == ["0.00"]
        assert held["webhooks"] == []
        assert watch.foreign_requests == []
        assert watch.console_errors == []


def test_the_apis_refusals_show_beside_the_fixed_value_tier_location_and_webhook(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose price comes from a column
    profile = _url_profile(api, store, supplier, f"UI refusals {uuid.uuid4().hex[:6]}")

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        _edit(page, profile)
        fixed = page.get_by_role("group", name="Fixed values")

        # When the price also gets a fixed value and the profile is saved
        fixed.get_by_label("Price, fixed", exact=True).fill("5.00")
        expect(fixed.get_by_label("Price, fixed", exact=True)).to_have_accessible_description(
            "Read from the column “Price”: leave this empty."
        )
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the API's refusal shows beside the price's fixed value, focused
        _refused_beside(page, "Price, fixed", "is mapped to a column already", fixed)

        # When it is emptied, and the stock's fixed value is not a number
        fixed.get_by_label("Price, fixed", exact=True).fill("")
        fixed.get_by_label("Stock, fixed").fill("lots")
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the refusal names what the stock takes, beside it
        _refused_beside(page, "Stock, fixed", "expected a whole number of items such as 7", fixed)
        fixed.get_by_label("Stock, fixed").fill("")

        # When two price tiers overlap
        tiers = page.get_by_role("group", name="Markup by price range (tiers)")
        tiers.get_by_role("button", name="Add a tier").click()
        tiers.get_by_role("group", name="Tier 1").get_by_label("Up to").fill("10")
        tiers.get_by_role("group", name="Tier 1").get_by_label("Markup (%)").fill("50")
        tiers.get_by_role("button", name="Add a tier").click()
        second = tiers.get_by_role("group", name="Tier 2")
        second.get_by_label("Prices from").fill("5")
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the refusal shows beside the tier that overlaps
        _refused_beside(page, "Prices from", "tier overlaps tier 1", second)
        screenshot(page, "editor-settings-refused-tier", full_page=False)
        second.get_by_label("Prices from").fill("10")

        # When the stock location is not one the platform can have
        page.get_by_label("Stock location ID").fill("main-warehouse")
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the platform's rule shows beside it
        location = page.get_by_label("Stock location ID")
        expect(location).to_be_focused()
        expect(location).to_have_attribute("aria-invalid", "true")
        expect(location).to_have_accessible_description(
            re.compile(r"Error: a BigCommerce location id is a number, not 'main-warehouse'$")
        )
        location.fill("")

        # When a webhook is told of no event at all
        page.get_by_role("button", name="Add a webhook").click()
        hook = page.get_by_role("group", name="Webhook 1")
        hook.get_by_label("Address (URL)").fill(HOOK_URL)
        for event in (
            "The run failed",
            "It finished, but the store refused items",
            "A safety limit held it",
        ):
            hook.get_by_label(event).uncheck()
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the refusal shows beside its events, and the focus is on the first one
        events = hook.get_by_role("group", name="Tell it when")
        expect(events.get_by_label("The run failed")).to_be_focused()
        expect(events).to_have_accessible_description("Error: must not be empty")
        assert serious_accessibility_violations(page) == []

        # And the API's profile still holds what it held before
        held = api.ok("GET", f"/profiles/{profile['profile_id']}")
        assert held["constants"] == {}
        assert held["rules"] == {}
        assert held["webhooks"] == []
        assert held["location_id"] is None


def test_a_new_profiles_webhook_secret_is_shown_after_creating_it_at_phone_width(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    name = f"UI new hook {uuid.uuid4().hex[:6]}"
    url = supplier.put(f"hook-{uuid.uuid4().hex[:6]}.csv", "SKU,Price\nNOT-IN-STORE,1.00\n")
    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, watch):
        # Given a new profile on a phone: columns typed, a fixed stock, a tier and a webhook
        page.goto("/#/profiles/new")
        page.get_by_label("Profile name").fill(name)
        page.get_by_label("Store", exact=True).select_option(value=store.store_id)
        page.get_by_label("File address (URL)").fill(url)
        columns = page.get_by_role("group", name="Columns")
        columns.get_by_label("SKU", exact=True).fill("SKU")
        columns.get_by_label("Price", exact=True).fill("Price")
        page.get_by_role("group", name="Fixed values").get_by_label("Stock, fixed").fill("3")
        tiers = page.get_by_role("group", name="Markup by price range (tiers)")
        tiers.get_by_role("button", name="Add a tier").click()
        tiers.get_by_role("group", name="Tier 1").get_by_label("Markup (%)").fill("25")
        page.get_by_role("button", name="Add a webhook").click()
        page.get_by_role("group", name="Webhook 1").get_by_label("Address (URL)").fill(HOOK_URL)

        # Then nothing is wider than the phone, and axe finds nothing serious
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_accessibility_violations(page) == []

        # When it is created
        page.get_by_role("button", name="Create profile").click()

        # Then its editor opens with the signing secret the creation answered, shown this once
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()
        expect(page.locator("#webhook-secret")).to_have_text(_starts_with("whsec_"))
        created = [p for p in api.ok("GET", "/profiles")["profiles"] if p["name"] == name]
        assert len(created) == 1
        assert created[0]["constants"] == {"stock": "3"}
        assert created[0]["rules"]["price_rules"]["tiers"] == [
            {"min": "0.00", "markup_percent": "25"}
        ]
        assert created[0]["webhooks"] == [
            {"url": HOOK_URL, "events": ["failed", "failed_items", "held"]}
        ]
        page.get_by_role("heading", name="Notifications").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_accessibility_violations(page) == []
        screenshot(page, "editor-settings-phone")
        assert watch.foreign_requests == []


def test_the_stock_location_is_offered_where_the_platform_has_locations(
    chromium: Browser, serve: Served, api: Api
) -> None:
    # Given a WooCommerce store (no stock locations) and a BigCommerce store set to location 3
    suffix = uuid.uuid4().hex[:6]
    woo = serve.info["woocommerce"]
    woo_store = api.ok("POST", "/stores", {
        "name": f"UI Woo {suffix}", "platform": "woocommerce", "api_url": woo["api_url"],
        "credentials": {k: woo[k] for k in ("consumer_key", "consumer_secret")},
    }, status=201)  # fmt: skip
    located = api.ok("POST", "/stores", {
        "name": f"UI located {suffix}", "platform": "bigcommerce", "api_url": serve.sandbox_url,
        "credentials": {"access_token": serve.sandbox_token}, "options": {"location_id": "3"},
    }, status=201)  # fmt: skip

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        page.goto("/#/profiles/new")
        store = page.get_by_label("Store", exact=True)

        # When the new profile is for the WooCommerce store, Then no location is asked for
        store.select_option(value=woo_store["store_id"])
        expect(page.get_by_role("heading", name="What to update")).to_be_visible()
        expect(page.get_by_label("Stock location ID")).to_have_count(0)

        # When it is for the BigCommerce store, Then the location is asked for, and the store's
        # own is named as what an empty one means
        store.select_option(value=located["store_id"])
        expect(page.get_by_label("Stock location ID")).to_have_accessible_description(
            "Leave empty to use the store's own location (3)."
        )


def _starts_with(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}\S+$")
