"""Accounts in a real browser: a new merchant signs up, confirms the email, signs in, creates
a workspace and starts a first sync; the demo user `feedsync serve` prints signs in, creates an
API key that is shown once and revokes it; an invited viewer chooses a password at the first
sign-in and gets no Start; an owner manages users (the last owner cannot be demoted); two-step
verification; a forgotten password; an expired ID token refreshed. axe at desktop and 375 px.

Cognito is moto's (the local stack). Its ConfirmSignUp and ConfirmForgotPassword accept any
code (nothing is mailed), so the tests type a made-up code and then check through Cognito's
admin API that the user really is confirmed. The invitation's temporary password is mailed on
AWS; here the test sets a known one with AdminSetUserPassword (non-permanent) in its Given.
The TOTP code is computed from the secret the page shows, and moto checks it (conftest starts
serve with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true; moto's secret is the same for everyone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from browser_support import (
    PHONE,
    PageWatch,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import Api, Served, Supplier, csv_text, seed_price, seed_stock, sku, upc
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.e2e

PASSWORD = "Feedsync-e2e-1!"
USER_ITEM = "feedsync.user"  # dashboard/src/auth/session.js
PRODUCT = 10  # seeded values only: nothing is written to the shared catalog
RUN_TIMEOUT_MS = 60_000


def unique_email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture(scope="module")
def auth_config(serve: Served) -> dict[str, Any]:
    resp = requests.get(f"{serve.api_url}/auth/config", timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def cognito(auth_config: dict[str, Any]) -> Any:
    """Cognito's admin API on the local stack (moto), for Givens the mail would carry on AWS."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=auth_config["cognito_endpoint"],
        region_name=auth_config["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def cognito_origin(config: dict[str, Any]) -> str:
    parts = urlsplit(config["cognito_endpoint"])
    return f"{parts.scheme}://{parts.netloc}"


def only_feedsync_and_cognito(watch: PageWatch, config: dict[str, Any]) -> list[str]:
    """Requests the page made anywhere but feedsync and the Cognito endpoint it was given."""
    return [u for u in watch.foreign_requests if not u.startswith(cognito_origin(config))]


def heading(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", name=name, exact=True)


def sign_in(page: Page, email: str, password: str) -> None:
    expect(heading(page, "Sign in to feedsync")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def session_user(page: Page) -> dict[str, Any]:
    stored = page.evaluate(f"sessionStorage.getItem({json.dumps(USER_ITEM)})")
    assert stored, "no signed-in user in sessionStorage"
    return json.loads(stored)  # type: ignore[no-any-return]


def store_session_user(page: Page, user: dict[str, Any]) -> None:
    page.evaluate(
        "([item, value]) => sessionStorage.setItem(item, value)", [USER_ITEM, json.dumps(user)]
    )


def plan_status(serve: Served, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.get(f"{serve.api_url}/plan", headers=headers, timeout=30).status_code


def assert_accessible_at_both_widths(page: Page, name: str) -> None:
    assert serious_accessibility_violations(page) == []
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    assert serious_accessibility_violations(page) == []
    wide = page.evaluate(
        "(w) => [...document.querySelectorAll('body *')]"
        ".filter((e) => e.getBoundingClientRect().right > w)"
        ".map((e) => e.tagName + '.' + e.className + '#' + e.id)",
        PHONE["width"],
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    screenshot(page, f"{name}-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})


def new_owner(serve: Served, config: dict[str, Any], cognito: Any, workspace: str) -> str:
    """Given: a confirmed user who owns a new workspace (through Cognito and the API)."""
    email = unique_email("owner")
    cognito.sign_up(
        ClientId=config["client_id"],
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=config["user_pool_id"], Username=email)
    tokens = cognito.initiate_auth(
        ClientId=config["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    Api(serve.api_url, tokens["IdToken"]).ok("POST", "/tenants", {"name": workspace}, 201)
    return email


def wait_store_ready(api: Api, store_id: str) -> None:
    deadline = time.monotonic() + 30
    while api.ok("GET", f"/stores/{store_id}")["status"] == "setting_up":
        assert time.monotonic() < deadline, "catalog import did not finish in 30 s"
        time.sleep(0.2)


def unchanged_feed() -> str:
    return csv_text(
        [
            [
                sku(PRODUCT, s),
                upc(PRODUCT, s),
                f"{seed_price(PRODUCT, s):.2f}",
                str(seed_stock(PRODUCT, s)),
            ]
            for s in ("S", "M")
        ]
    )


def tile(page: Page, name: str) -> Locator:
    return page.locator("li.tile").filter(has=page.get_by_role("heading", name=name, exact=True))


@pytest.fixture
def clipboard_page(chromium: Browser, serve: Served) -> Iterator[tuple[Page, PageWatch]]:
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, watch):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        yield page, watch


def test_a_new_merchant_signs_up_creates_a_workspace_and_starts_a_first_sync(
    chromium: Browser,
    serve: Served,
    supplier: Supplier,
    sandbox: Any,
    auth_config: dict[str, Any],
    cognito: Any,
) -> None:
    email = unique_email("merchant")
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, watch):
        # Given the dashboard opened by someone with no account
        page.goto("/")
        expect(heading(page, "Sign in to feedsync")).to_be_visible()
        assert_accessible_at_both_widths(page, "accounts-signin")

        # When they create an account with their email and a password
        page.get_by_role("button", name="Create an account").click()
        expect(heading(page, "Create your account")).to_be_visible()
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        assert_accessible_at_both_widths(page, "accounts-signup")
        page.get_by_role("button", name="Create account").click()

        # Then the page asks for the code mailed to them; Cognito holds the user unconfirmed
        expect(heading(page, "Confirm your email")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(email)
        user = cognito.admin_get_user(UserPoolId=auth_config["user_pool_id"], Username=email)
        assert user["UserStatus"] == "UNCONFIRMED"
        assert_accessible_at_both_widths(page, "accounts-confirm")

        # When the code is typed (moto takes any code: see the module docstring)
        page.get_by_label("Confirmation code").fill("123456")
        page.get_by_role("button", name="Confirm", exact=True).click()

        # Then they are back at sign-in with the news, and Cognito has them confirmed
        expect(page.get_by_role("status")).to_contain_text("Your email is confirmed")
        user = cognito.admin_get_user(UserPoolId=auth_config["user_pool_id"], Username=email)
        assert user["UserStatus"] == "CONFIRMED"

        # When they sign in with a wrong password, then it is refused in words
        sign_in(page, email, "Not-the-password-1!")
        expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")

        # When they sign in with their password
        sign_in(page, email, PASSWORD)

        # Then, belonging to no workspace yet, they are asked to create one
        expect(heading(page, "Create your workspace")).to_be_visible()
        assert_accessible_at_both_widths(page, "accounts-workspace")
        page.get_by_label("Workspace name").fill("Tee Shop")
        page.get_by_role("button", name="Create workspace").click()

        # Then the home page shows, with the owner's pages in the navigation
        expect(heading(page, "Profiles")).to_be_visible()
        nav = page.get_by_role("navigation", name="Main")
        for owner_page in ("Users", "API keys", "Audit"):
            expect(nav.get_by_role("link", name=owner_page)).to_be_visible()
        expect(page.locator(".topbar .who")).to_contain_text("(owner)")

        # ... the tokens are in this tab's session only: no key, no cookie, nothing in the URL
        tokens = session_user(page)
        assert page.evaluate("sessionStorage.getItem('feedsync.apiKey')") is None
        assert page.evaluate("localStorage.length") == 0
        assert page.context.cookies() == []
        for token in (tokens["idToken"], tokens["accessToken"], tokens["refreshToken"]):
            assert token not in page.url
        me = Api(serve.api_url, tokens["idToken"]).ok("GET", "/me")
        assert (me["email"], me["role"], me["tenant_name"]) == (email, "owner", "Tee Shop")

        # Given a store and a profile, made through the API with the user's own token
        owner = Api(serve.api_url, tokens["idToken"])
        store = owner.ok(
            "POST",
            "/stores",
            {
                "name": "Tee Shop store",
                "platform": "bigcommerce",
                "api_url": serve.sandbox_url,
                "credentials": {"access_token": serve.sandbox_token},
            },
            201,
        )
        wait_store_ready(owner, store["store_id"])
        url = supplier.put(f"accounts-{uuid.uuid4().hex[:6]}.csv", unchanged_feed())
        owner.create_profile(store["store_id"], {"type": "url", "url": url}, name="First feed")

        # When they Start it from the home page and confirm
        page.reload()
        card = tile(page, "First feed")
        expect(card).to_be_visible()
        card.get_by_role("button", name="Start").click()
        dialog = page.get_by_role("dialog", name="Start a sync")
        dialog.get_by_role("button", name="Start").click()

        # Then the tile follows the run to Ready, and the run succeeded
        expect(card.get_by_role("link", name="Follow this run")).to_be_visible()
        expect(card.locator(".live-status")).to_have_text("Ready", timeout=RUN_TIMEOUT_MS)
        runs = owner.ok("GET", f"/profiles/{card.get_attribute('data-profile-id')}/runs")["runs"]
        assert [r["status"] for r in runs] == ["succeeded"]
        screenshot(page, "accounts-first-run")

        # ... and the page spoke only to feedsync and the Cognito endpoint it was given
        assert only_feedsync_and_cognito(watch, auth_config) == []
        assert [e for e in watch.console_errors if "401" not in e and "400" not in e] == []

        # When they sign out, the session is empty
        page.get_by_role("button", name="Sign out").click()
        expect(heading(page, "Sign in to feedsync")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0


def test_the_demo_user_signs_in_and_an_api_key_is_shown_once_then_revoked(
    clipboard_page: tuple[Page, PageWatch], serve: Served, auth_config: dict[str, Any]
) -> None:
    page, watch = clipboard_page
    demo = serve.info["demo_user"]
    key_name = f"nightly import {uuid.uuid4().hex[:6]}"

    # Given the demo user `feedsync serve` printed, signed in
    page.goto("/")
    sign_in(page, demo["email"], demo["password"])
    expect(heading(page, "Profiles")).to_be_visible()

    # When they open API keys and create an editor key
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(heading(page, "API keys")).to_be_visible()
    page.get_by_label("Name").fill(key_name)
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Create key").click()

    # Then the secret is shown once, with the warning, and copies to the clipboard
    secret_field = page.get_by_label("API key (editor)")
    expect(secret_field).to_be_visible()
    expect(page.locator("#new-key-warning")).to_contain_text("it will not be shown again")
    secret = secret_field.input_value()
    assert len(secret) > 20
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert_accessible_at_both_widths(page, "accounts-api-key-created")

    # ... the key works, and the list names it without its secret
    assert plan_status(serve, secret) == 200
    page.get_by_role("button", name="I have saved it").click()
    row = page.locator("tr", has_text=key_name)
    expect(row).to_contain_text("editor")
    assert secret not in page.content()
    page.reload()
    expect(page.locator("tr", has_text=key_name)).to_be_visible()
    assert secret not in page.content()

    # When they revoke it and confirm
    page.get_by_role("button", name=f"Revoke {key_name}").click()
    dialog = page.get_by_role("dialog", name="Revoke key")
    expect(dialog).to_contain_text(key_name)
    assert serious_accessibility_violations(page) == []
    screenshot(page, "accounts-api-key-revoke")
    dialog.get_by_role("button", name="Revoke key").click()

    # Then it leaves the list and the API refuses it at once
    expect(page.locator("tr", has_text=key_name)).to_have_count(0)
    assert plan_status(serve, secret) == 401
    assert only_feedsync_and_cognito(watch, auth_config) == []


def test_an_invited_viewer_chooses_a_password_and_gets_no_start(
    chromium: Browser,
    serve: Served,
    api: Api,
    store: Any,
    supplier: Supplier,
    auth_config: dict[str, Any],
    cognito: Any,
) -> None:
    # Given a profile in the demo workspace, and a viewer the owner invited
    name = f"Viewer sees {uuid.uuid4().hex[:6]}"
    url = supplier.put(f"viewer-{uuid.uuid4().hex[:6]}.csv", unchanged_feed())
    api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    email = unique_email("viewer")
    invited = api.ok("POST", "/users", {"email": email, "role": "viewer"}, 201)
    assert invited["status"] == "invited"
    # ... with the temporary password the invitation mail would carry (see the docstring)
    temporary = "Temporary-pass-1!"
    cognito.admin_set_user_password(
        UserPoolId=auth_config["user_pool_id"], Username=email, Password=temporary, Permanent=False
    )

    with dashboard_page(chromium, serve.api_url, api_key=None, viewport=PHONE) as (page, _watch):
        # When they sign in with it the first time
        page.goto("/")
        sign_in(page, email, temporary)

        # Then they are asked for a password of their own
        expect(heading(page, "Choose a new password")).to_be_visible()
        page.get_by_label("New password", exact=True).fill("Viewer-own-pass-1!")
        page.get_by_label("New password again").fill("Viewer-own-pass-2!")
        page.get_by_role("button", name="Set password and sign in").click()
        expect(page.get_by_role("alert")).to_have_text("The two passwords are not the same.")
        assert serious_accessibility_violations(page) == []
        screenshot(page, "accounts-new-password-phone", full_page=False)
        page.get_by_label("New password again").fill("Viewer-own-pass-1!")
        page.get_by_role("button", name="Set password and sign in").click()

        # Then they see the workspace's profiles, but Start is disabled with the reason
        card = tile(page, name)
        expect(card).to_be_visible()
        start = card.get_by_role("button", name="Start")
        expect(start).to_be_disabled()
        reason = page.locator(f"#{start.get_attribute('aria-describedby')}")
        expect(reason).to_contain_text("needs the editor role")
        expect(page.get_by_role("link", name="New profile")).to_have_count(0)
        # ... and no owner pages in the navigation
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Profiles")).to_be_visible()
        for owner_page in ("Users", "API keys", "Audit"):
            expect(nav.get_by_role("link", name=owner_page)).to_have_count(0)
        assert serious_accessibility_violations(page) == []
        screenshot(page, "accounts-viewer-phone", full_page=False)

        # When they open an owner's page by its address, the API's 403 names the role needed
        page.goto("/#/api-keys")
        expect(page.get_by_role("alert")).to_contain_text("needs the owner role")


def test_an_owner_invites_changes_a_role_and_cannot_demote_the_last_owner(
    chromium: Browser, serve: Served, auth_config: dict[str, Any], cognito: Any
) -> None:
    # Given an owner of a new workspace, signed in
    owner_email = new_owner(serve, auth_config, cognito, "Users shop")
    invitee = unique_email("staff")
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, _watch):
        page.goto("/")
        sign_in(page, owner_email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        expect(heading(page, "Users")).to_be_visible()
        expect(page.locator("tr", has_text=owner_email)).to_contain_text("Active")

        # When they invite someone as a viewer
        page.get_by_label("Email", exact=True).fill(invitee)
        page.get_by_label("Role", exact=True).select_option("viewer")
        page.get_by_role("button", name="Send invitation").click()

        # Then the list has them, invited
        expect(page.get_by_role("status")).to_contain_text(f"Invited {invitee} as viewer")
        row = page.locator("tr", has_text=invitee)
        expect(row).to_contain_text("Invited")
        expect(row.get_by_label(f"Role of {invitee}", exact=True)).to_have_value("viewer")

        # When their role is changed to editor
        row.get_by_label(f"Role of {invitee}", exact=True).select_option("editor")
        row.get_by_role("button", name=f"Change role of {invitee}").click()

        # Then the API holds the new role (the list, reloaded, says so)
        expect(row.get_by_role("button", name=f"Change role of {invitee}")).to_be_disabled()
        page.reload()
        again = page.locator("tr", has_text=invitee)
        expect(again.get_by_label(f"Role of {invitee}", exact=True)).to_have_value("editor")

        # When the only owner tries to make themself a viewer
        mine = page.locator("tr", has_text=owner_email)
        mine.get_by_label(f"Role of {owner_email}", exact=True).select_option("viewer")
        mine.get_by_role("button", name=f"Change role of {owner_email}").click()

        # Then the refusal is shown beside that row's action, and the role shown is still owner
        expect(mine.get_by_role("alert")).to_contain_text("last owner")
        expect(mine.get_by_label(f"Role of {owner_email}", exact=True)).to_have_value("owner")
        assert_accessible_at_both_widths(page, "accounts-users")

        # When they remove the invitee, confirming
        page.locator("tr", has_text=invitee).get_by_role("button", name=f"Remove {invitee}").click()
        dialog = page.get_by_role("dialog", name="Remove user")
        expect(dialog).to_contain_text(invitee)
        dialog.get_by_role("button", name="Remove user").click()

        # Then they are gone from the list
        expect(page.locator("tr", has_text=invitee)).to_have_count(0)

        # When they try to remove themself, the last owner: refused in the dialog
        page.get_by_role("button", name=f"Remove {owner_email}").click()
        dialog.get_by_role("button", name="Remove user").click()
        expect(dialog.get_by_role("alert")).to_be_visible()

        # And the audit page lists what happened, newest first
        dialog.get_by_role("button", name="Keep it").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
        expect(heading(page, "Audit")).to_be_visible()
        expect(page.locator("table")).to_contain_text("user.removed")
        actions = page.locator("td[data-label='What']").all_inner_texts()
        order = [actions.index(a) for a in ("user.removed", "user.role_changed", "user.invited")]
        assert order == sorted(order), actions
        assert_accessible_at_both_widths(page, "accounts-audit")

        # When the events are read two at a time
        page.goto("/#/audit?limit=2")
        pages = page.get_by_role("navigation", name="Audit pages")
        expect(page.locator("td[data-label='What']")).to_have_count(2)
        first = page.locator("td[data-label='What']").all_inner_texts()
        pages.get_by_role("button", name="Next").click()

        # Then the next page holds the older ones, and Previous goes back
        expect(pages).to_contain_text("Page 2")
        expect(page.locator("td[data-label='What']").first).not_to_have_text(first[0])
        second = page.locator("td[data-label='What']").all_inner_texts()
        assert actions[2:4] == second, (actions, second)
        pages.get_by_role("button", name="Previous").click()
        expect(pages).to_contain_text("Page 1")
        expect(page.locator("td[data-label='What']").first).to_have_text(first[0])


def totp_now(secret: str) -> str:
    """RFC 6238 (30 s, SHA-1, 6 digits) by hand: moto's fixed secret is shorter than the
    128 bits `cryptography`'s TOTP insists on."""
    if time.time() % 30 > 27:  # moto takes the current step only: not one about to end
        time.sleep(30 - time.time() % 30 + 0.1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def wrong_code(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_two_step_verification_is_set_up_and_then_asked_for_at_sign_in(
    chromium: Browser, serve: Served, auth_config: dict[str, Any], cognito: Any
) -> None:
    # Given an owner signed in, on Settings
    email = new_owner(serve, auth_config, cognito, "Careful shop")
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, _watch):
        page.goto("/")
        sign_in(page, email, PASSWORD)
        expect(heading(page, "Profiles")).to_be_visible()
        page.goto("/#/settings")
        expect(page.get_by_text("Off. With it on")).to_be_visible()

        # When they set up two-step verification
        page.get_by_role("button", name="Set up two-step verification").click()

        # Then the secret shows as text and as an otpauth address
        secret = page.locator("#totp-secret").inner_text().strip()
        assert secret
        uri = page.locator("#totp-uri").inner_text()
        assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
        assert serious_accessibility_violations(page) == []
        screenshot(page, "accounts-two-step")

        # When a wrong code is entered, then Cognito's refusal is shown in words
        page.get_by_label("Code from your app").fill(wrong_code(totp_now(secret)))
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("alert")).to_contain_text("not right")

        # When the app's current code is entered
        page.get_by_label("Code from your app").fill(totp_now(secret))
        page.get_by_role("button", name="Turn on").click()

        # Then it is on, for Cognito as well
        expect(page.get_by_role("status")).to_contain_text("Two-step verification is on")
        got = cognito.admin_get_user(UserPoolId=auth_config["user_pool_id"], Username=email)
        assert got.get("PreferredMfaSetting") == "SOFTWARE_TOKEN_MFA"

        # When they sign out and in again, a code is asked for, then they are in
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, email, PASSWORD)
        expect(heading(page, "Enter your sign-in code")).to_be_visible()
        assert serious_accessibility_violations(page) == []
        page.get_by_label("Code from your authenticator app").fill(wrong_code(totp_now(secret)))
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("alert")).to_contain_text("not right")
        page.get_by_label("Code from your authenticator app").fill(totp_now(secret))
        page.get_by_role("button", name="Verify").click()
        expect(heading(page, "Profiles")).to_be_visible()


def test_a_forgotten_password_is_reset_and_an_expired_token_refreshed(
    chromium: Browser, serve: Served, auth_config: dict[str, Any], cognito: Any
) -> None:
    # Given an owner who forgot the password
    email = new_owner(serve, auth_config, cognito, "Forgetful shop")
    with dashboard_page(chromium, serve.api_url, api_key=None) as (page, _watch):
        page.goto("/")
        page.get_by_role("button", name="Forgot your password?").click()
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_role("button", name="Send a reset code").click()

        # When the mailed code (any, on moto) and a new password are entered
        expect(heading(page, "Choose a new password")).to_be_visible()
        page.get_by_label("Reset code").fill("123456")
        page.get_by_label("New password", exact=True).fill("Brand-new-pass-1!")
        page.get_by_label("New password again").fill("Brand-new-pass-1!")
        assert serious_accessibility_violations(page) == []
        page.get_by_role("button", name="Change password").click()

        # Then the old password is refused and the new one signs in
        expect(page.get_by_role("status")).to_contain_text("Your password is changed")
        sign_in(page, email, PASSWORD)
        expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
        sign_in(page, email, "Brand-new-pass-1!")
        expect(heading(page, "Profiles")).to_be_visible()

        # When the ID token is no longer accepted (here: spoiled) and the page asks the API
        spoiled = {**session_user(page), "idToken": "e30.e30.c3BvaWxlZA"}
        store_session_user(page, spoiled)
        page.goto("/#/settings")

        # Then the 401 is answered by a refresh: new tokens, and the page loads
        expect(page.locator("dl.summary")).to_be_visible()
        assert session_user(page)["idToken"] != spoiled["idToken"]

        # When the refresh token is refused too, the tab is signed out
        broken = {**session_user(page), "idToken": "e30.e30.c3BvaWxlZA", "refreshToken": "nope"}
        store_session_user(page, broken)
        page.goto("/#/stores")
        expect(heading(page, "Sign in to feedsync")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0
