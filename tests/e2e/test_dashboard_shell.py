"""The dashboard's shell in a real browser: served at / beside the API, sign-in with the API
key kept in the tab's session only, nothing loaded from anywhere but feedsync itself."""

from __future__ import annotations

from typing import Any

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


def test_a_page_whose_api_fails_asks_again_later_and_later(
    chromium: Browser, serve: Served
) -> None:
    # Given a run page whose API answers 503 to every poll (an outage), on a browser clock
    # that the test moves by hand
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        asked: list[str] = []

        def outage(route: Any) -> None:
            asked.append(route.request.url)
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"error": "unavailable", "message": "try later"}',
            )

        page.clock.install()
        page.route("**/runs/run_outage", outage)
        page.goto("/#/runs/run_outage")
        expect(page.get_by_role("alert").first).to_be_visible()
        first = len(asked)

        # When a minute passes on the page's clock, a second at a time (each answer is
        # given real time to arrive before the clock moves on)
        _pass_seconds(page, 60)

        # Then it asked again with growing waits (2, 4, 8, 16, 30 s: about five more
        # requests), not once a second as it does while a run goes well
        assert 1 <= first <= 2
        assert 3 <= len(asked) - first <= 6

        # When the API answers again and a further minute passes
        page.unroute("**/runs/run_outage")
        _pass_seconds(page, 60)

        # Then the page shows the API's own answer for the run (it did not give up)
        expect(page.get_by_role("alert").first).not_to_contain_text("try later")


def _pass_seconds(page: Any, seconds: int) -> None:
    for _ in range(seconds):
        page.clock.run_for(1000)
        page.wait_for_timeout(40)
