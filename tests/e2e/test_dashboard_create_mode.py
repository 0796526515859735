"""The editor's "New products" section (create mode, issue 17) and a viewer's read-only pages
(issue 18), in a real browser: create mode is switched on, saved, shown again and held by the
API's profile; the API's refusal of a group without options shows at the options; a store
whose platform cannot create has the switch disabled with the reason; a viewer sees every
write control disabled with "needs the editor role". Screenshots at desktop and 375 px."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from browser_support import (
    PHONE,
    SCREENSHOTS,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import Api, Served, StoreInfo, Supplier
from playwright.sync_api import Browser, Locator, Page, expect

GROUPED_FILE = (
    "SKU,Price,Name,Parent,Size,Colour\n"
    "NEW-TEE-S,12.00,New Tee,NEW-TEE,S,Red\n"
    "NEW-TEE-M,12.00,New Tee,NEW-TEE,M,Red\n"
)


def _shot(page: Page, name: str, full_page: bool = True) -> None:
    screenshot(page, name, full_page=full_page)


def _section_shot(section: Locator, name: str) -> None:
    """The whole section, however tall, beside the page's own screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The sticky Save bar left where it is, so it does not lie across the stitched capture
    # (through the CSSOM: the page's CSP refuses an injected stylesheet).
    bar = section.page.locator(".sticky-actions")
    bar.evaluate("bar => { bar.style.position = 'static'; }")
    section.screenshot(path=str(path))
    bar.evaluate("bar => { bar.style.position = ''; }")


def _grouped_profile(api: Api, store: StoreInfo, supplier: Supplier) -> dict[str, Any]:
    url = supplier.put(f"create-{uuid.uuid4().hex[:6]}.csv", GROUPED_FILE)
    return api.create_profile(
        store.store_id,
        {"type": "url", "url": url},
        name=f"UI create {uuid.uuid4().hex[:6]}",
        mapping={"sku": "SKU", "price": "Price", "name": "Name"},
        fields=["price"],
    )


def _edit(page: Page, profile: dict[str, Any]) -> Locator:
    """The editor opened on the profile, its file previewed; the New products section."""
    page.goto(f"/#/profiles/{profile['profile_id']}/edit")
    expect(page.get_by_role("heading", name=f"Edit settings: {profile['name']}")).to_be_visible()
    expect(page.get_by_role("button", name="Preview again")).to_be_visible()  # columns known
    return page.get_by_role("region", name="New products")


def test_an_editor_switches_create_mode_on_and_sees_it_again(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose file has a parent code and size and colour columns
    profile = _grouped_profile(api, store, supplier)

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        section = _edit(page, profile)

        # Then create mode is off, and its settings are not asked for yet
        switch = section.get_by_label("Create products the store does not have yet")
        expect(switch).not_to_be_checked()
        expect(section.get_by_label("Category (optional)")).to_have_count(0)

        # When the merchant switches it on
        switch.check()

        # Then new products are hidden by default, with the reason beside it
        expect(section.get_by_label("Hidden (a draft)")).to_be_checked()
        expect(section.get_by_text("so you can check its name, price and pictures")).to_be_visible()
        # And the group column is picked from the file's columns
        group = section.get_by_label("Group rows into one product by")
        expect(group.locator("option")).to_have_text(
            [
                "— each row is a product of its own —",
                "SKU",
                "Price",
                "Name",
                "Parent",
                "Size",
                "Colour",
            ]
        )

        # When they group by Parent, tell variants apart by Size and Colour, give a category,
        # and hold runs that would create more than 250 products
        group.select_option("Parent")
        options = section.get_by_role("group", name="Options that tell the variants apart")
        for at, (name, column) in enumerate((("Size", "Size"), ("Colour", "Colour")), start=1):
            options.get_by_role("button", name="Add an option").click()
            expect(options.get_by_label(f"Option {at} name")).to_be_focused()
            options.get_by_label(f"Option {at} name").fill(name)
            options.get_by_label(f"Option {at} column").select_option(column)
        section.get_by_label("Category (optional)").fill("23")
        # (the profile was made with every safety limit off)
        section.get_by_label("Hold a run that would create too many products").check()
        limit = section.get_by_label("At most this many new products per run")
        expect(limit).to_have_value("1000")  # the model's default
        limit.fill("250")
        assert serious_accessibility_violations(page) == []
        _section_shot(section, "create-mode-desktop")
        page.get_by_role("button", name="Save", exact=True).click()

        # Then it is saved, and the API's profile holds it
        expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
        held = api.ok("GET", f"/profiles/{profile['profile_id']}")
        assert held["create"] == {
            "enabled": True,
            "visible": False,
            "category": "23",
            "group": "Parent",
            "options": {"Size": "Size", "Colour": "Colour"},
        }
        assert held["limits"]["max_created"] == 250

        # When the editor is opened again, at a phone's width
        page.set_viewport_size(PHONE)
        page.reload()
        section = _edit(page, profile)

        # Then it shows what was saved
        expect(section.get_by_label("Create products the store does not have yet")).to_be_checked()
        expect(section.get_by_label("Hidden (a draft)")).to_be_checked()
        expect(section.get_by_label("Category (optional)")).to_have_value("23")
        expect(section.get_by_label("Group rows into one product by")).to_have_value("Parent")
        expect(section.get_by_label("Option 1 name")).to_have_value("Size")
        expect(section.get_by_label("Option 1 column")).to_have_value("Size")
        expect(section.get_by_label("Option 2 name")).to_have_value("Colour")
        expect(section.get_by_label("Option 2 column")).to_have_value("Colour")
        expect(section.get_by_label("At most this many new products per run")).to_have_value("250")
        assert serious_accessibility_violations(page) == []
        _section_shot(section, "create-mode-phone")

        # When they switch it off again and save
        section.get_by_label("Create products the store does not have yet").uncheck()
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the profile keeps its settings but creates nothing (create is sent whole)
        expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
        assert api.ok("GET", f"/profiles/{profile['profile_id']}")["create"] == {
            **held["create"],
            "enabled": False,
        }
        assert watch.console_errors == []


def test_a_group_without_options_shows_the_api_message_at_the_options(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile whose file has a parent code
    profile = _grouped_profile(api, store, supplier)

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        section = _edit(page, profile)

        # When the merchant groups rows by Parent but names no option, and saves
        section.get_by_label("Create products the store does not have yet").check()
        section.get_by_label("Group rows into one product by").select_option("Parent")
        page.get_by_role("button", name="Save", exact=True).click()

        # Then the API's words are shown at the options, and focus is moved there
        words = (
            "the variants of a group are told apart by their option values: "
            "name at least one option column"
        )
        options = section.get_by_role("group", name="Options that tell the variants apart")
        expect(options).to_have_accessible_description(re.compile(rf"Error: {re.escape(words)}$"))
        expect(options.get_by_role("button", name="Add an option")).to_be_focused()
        # And nothing was saved
        assert api.ok("GET", f"/profiles/{profile['profile_id']}")["create"]["enabled"] is False


def test_a_store_that_cannot_create_has_the_switch_disabled_with_the_reason(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo
) -> None:
    # Given an Amazon store (its listings need a product type feedsync does not know)
    amazon = serve.info["amazon"]
    name = f"Amazon {uuid.uuid4().hex[:6]}"
    created = api.ok(
        "POST",
        "/stores",
        {
            "name": name,
            "platform": "amazon",
            "api_url": amazon["endpoint"],
            "credentials": {k: amazon[k] for k in ("client_id", "client_secret", "refresh_token")},
            "options": {k: amazon[k] for k in ("seller_id", "marketplace_id", "token_url")},
        },
        status=201,
    )
    _wait_imported(api, created["store_id"])  # an import left running would outlive the stack

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        # When a new profile is set up on it
        page.goto("/#/profiles/new")
        store_field = page.get_by_label("Store", exact=True)
        store_field.select_option(created["store_id"])
        section = page.get_by_role("region", name="New products")

        # Then the switch is disabled, and says why
        switch = section.get_by_label("Create products the store does not have yet")
        expect(switch).to_be_disabled()
        expect(switch).to_have_accessible_description(
            "Not for this store: Amazon: creating listings needs a product type; "
            "create mode is not available."
        )

        # When the BigCommerce store is picked instead, Then it can be switched on
        store_field.select_option(store.store_id)
        expect(switch).to_be_enabled()


def _wait_imported(api: Api, store_id: str) -> None:
    deadline = time.monotonic() + 90
    while api.ok("GET", f"/stores/{store_id}")["status"] == "setting_up":
        assert time.monotonic() < deadline, "the Amazon store's import did not end in 90 s"
        time.sleep(0.2)


def _viewer_key(api: Api) -> str:
    created = api.ok(
        "POST", "/api-keys", {"name": f"viewer {uuid.uuid4().hex[:6]}", "role": "viewer"}, 201
    )
    return str(created["key"])


def test_a_viewer_sees_the_write_controls_disabled_with_the_reason(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile, and a viewer's key
    profile = _grouped_profile(api, store, supplier)
    viewer = _viewer_key(api)

    for viewport, suffix in (({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")):
        with dashboard_page(chromium, serve.api_url, viewer, viewport) as (page, watch):
            # When the viewer opens the profile's settings
            page.goto(f"/#/profiles/{profile['profile_id']}/edit")
            expect(
                page.get_by_role("heading", name=f"Edit settings: {profile['name']}")
            ).to_be_visible()

            # Then they read the settings, but Save and every input are disabled, with the reason
            expect(
                page.get_by_text("Changing these settings needs the editor role.")
            ).to_be_visible()
            save = page.get_by_role("button", name="Save", exact=True)
            expect(save).to_be_disabled()
            expect(save).to_have_accessible_description("Save needs the editor role")
            expect(page.get_by_label("Profile name")).to_have_value(profile["name"])
            expect(page.get_by_label("Profile name")).to_be_disabled()
            expect(page.get_by_role("button", name="Preview file")).to_be_disabled()
            expect(
                page.get_by_label("Create products the store does not have yet")
            ).to_be_disabled()
            # and the schedule's run times are worked out for them too (a read)
            expect(
                page.get_by_text("It runs only when you click Start (or upload a file).")
            ).to_be_visible()
            assert serious_accessibility_violations(page) == []
            _shot(page, f"viewer-editor-{suffix}", full_page=False)

            # When they open the store's page
            page.goto(f"/#/stores/{store.store_id}")
            expect(page.get_by_role("heading", name=store.created["name"])).to_be_visible()

            # Then re-import, the token and the name are disabled, each with the reason;
            # reading the status still works
            for button, reason in (
                ("Re-import", "Re-importing needs the editor role."),
                ("Replace token", "Replacing the token needs the editor role."),
                ("Rename", "Renaming needs the editor role."),
            ):
                expect(page.get_by_role("button", name=button, exact=True)).to_be_disabled()
                expect(page.get_by_text(reason)).to_be_visible()
            expect(page.get_by_role("button", name="Check Status")).to_be_enabled()
            assert serious_accessibility_violations(page) == []
            _shot(page, f"viewer-store-{suffix}")

            # And on the stores list, connecting a store is disabled with the reason
            page.goto("/#/stores")
            expect(page.get_by_role("button", name="Connect store")).to_be_disabled()
            expect(page.get_by_text("Connecting a store needs the editor role.")).to_be_visible()

            # And in Settings, the global schedule and the alert address cannot be saved
            page.goto("/#/settings")
            for button, reason in (
                ("Save schedule", "Changing the global schedule needs the editor role."),
                ("Save address", "Changing the alert address needs the editor role."),
            ):
                expect(page.get_by_role("button", name=button)).to_be_disabled()
                expect(page.get_by_text(reason)).to_be_visible()

            # And the viewer's pages asked the API for nothing it would refuse
            assert watch.console_errors == [], watch.console_errors
