"""The dashboard's shell in a real browser: served at / beside the API, sign-in with the API
key kept in the tab's session only, nothing loaded from anywhere but feedsync itself."""

from __future__ import annotations

from browser_support import dashboard_page, screenshot, serious_accessibility_violations
from e2e_support import Served
from playwright.sync_api import Browser, expect


def test_sign_in_keeps_the_key_in_the_session_only(chromium: Browser, serve: Served) -> None:
    # Given the dashboard opened with no key
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, watch):
        page.goto("/")
        expect(page.get_by_role("heading", name="Sign in to feedsync")).to_be_visible()
        assert serious_accessibility_violations(page) == []
        screenshot(page, "signin")

        # When the merchant chooses the API key instead of email and password
        page.get_by_role("button", name="Sign in with an API key").click()
        expect(page.get_by_role("heading", name="Sign in with an API key")).to_be_visible()
        assert serious_accessibility_violations(page) == []

        # When a wrong key is tried
        page.get_by_label("API key").fill("not-a-key")
        page.get_by_role("button", name="Sign in", exact=True).click()

        # Then it is refused with a message, and nothing is kept
        expect(page.get_by_role("alert")).to_contain_text("not accepted")
        assert page.evaluate("sessionStorage.length") == 0

        # When the tenant's key is entered
        page.get_by_label("API key").fill(serve.api_key)
        page.get_by_role("button", name="Sign in", exact=True).click()

        # Then the profiles page shows, the key is in sessionStorage only, never in the URL
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        assert serve.api_key not in page.url
        assert page.evaluate("localStorage.length") == 0
        assert page.evaluate("sessionStorage.getItem('feedsync.apiKey')") == serve.api_key
        assert page.context.cookies() == []

        # And every request the page made went to feedsync's own origin, and the only error
        # the browser logged is the refused key's 401
        assert watch.foreign_requests == []
        assert [e for e in watch.console_errors if "401" not in e] == []
        assert len(watch.console_errors) == 1

        # When the merchant signs out, the key is gone
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to feedsync")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0


def test_the_page_is_served_with_a_policy_that_allows_only_its_own_origin(
    chromium: Browser, serve: Served
) -> None:
    # Given the dashboard's page
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, _watch):
        # When it is loaded
        response = page.goto("/")

        # Then its CSP forbids other origins for scripts, styles, fonts and connections
        assert response is not None and response.status == 200
        policy = response.headers["content-security-policy"]
        for directive in ("script-src 'self'", "style-src 'self'", "connect-src 'self'"):
            assert directive in policy
        assert "default-src 'none'" in policy
