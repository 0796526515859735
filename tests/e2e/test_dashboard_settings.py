"""The settings page in a real browser: the global schedule edited (a wrong value refused
beside its field), the plan with its usage, and axe at both widths. The tenant is shared:
the schedule found is put back at the end."""

from __future__ import annotations

import pytest
from browser_support import PHONE, dashboard_page, screenshot, serious_accessibility_violations
from e2e_support import Api, Served
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e


def test_the_global_schedule_is_edited_and_the_plan_shows_its_usage(
    chromium: Browser, serve: Served, api: Api
) -> None:
    # Given the tenant's schedule and plan as the API has them
    before = api.ok("GET", "/settings/schedule")
    plan = api.ok("GET", "/plan")
    try:
        with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
            page.goto("/#/settings")
            expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()

            # Then the plan shows the profiles used of those allowed and its other limits
            used = f"{plan['usage']['profiles']:,} of {plan['plan']['max_profiles']:,}"
            expect(page.locator("dl.summary")).to_contain_text(used)
            expect(page.locator("dl.summary")).to_contain_text(f"{plan['plan']['max_rows']:,}")
            expect(page.get_by_label("Run profiles")).to_be_visible()
            assert serious_accessibility_violations(page) == []
            screenshot(page, "settings")

            # When a daily time that is no time is saved
            page.get_by_label("Run profiles").select_option("daily")
            page.get_by_label("At (hh:mm)").fill("25:00")
            page.get_by_role("button", name="Save schedule").click()

            # Then the API's refusal is shown beside the field, which is marked invalid
            at = page.get_by_label("At (hh:mm)")
            expect(at).to_have_attribute("aria-invalid", "true")
            problem = page.locator(f"#{at.get_attribute('aria-describedby')}")
            expect(problem).to_be_visible()
            assert api.ok("GET", "/settings/schedule") == before
            assert serious_accessibility_violations(page) == []

            # When a real time and a zone are saved
            at.fill("03:30")
            page.get_by_label("Time zone").fill("Europe/Berlin")
            page.get_by_role("button", name="Save schedule").click()

            # Then it says so, and the API holds that schedule
            expect(page.get_by_text("Saved.", exact=False)).to_be_visible()
            expect(at).not_to_have_attribute("aria-invalid", "true")
            stored = api.ok("GET", "/settings/schedule")
            assert stored["type"] == "daily" and stored["at"] == "03:30"
            assert stored["timezone"] == "Europe/Berlin"
            assert watch.foreign_requests == []

        with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, _w):
            page.goto("/#/settings")
            expect(page.get_by_label("Run profiles")).to_be_visible()
            expect(page.locator("dl.summary")).to_contain_text(used)
            assert serious_accessibility_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(page, "settings-phone", full_page=False)
    finally:
        api.ok("PUT", "/settings/schedule", before)
