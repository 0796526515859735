"""The dashboard's Content-Security-Policy: its own origin only, plus where the editor PUTs an
uploaded supplier file (the upload URL's origin: the files bucket, locally moto's S3) and where
the sign-in forms call Cognito (locally moto's server as well)."""

from __future__ import annotations

import pytest

from feedsync_local.dashboard_files import (
    COGNITO_ENDPOINT_ENV,
    UPLOAD_ORIGIN_ENV,
    content_security_policy,
)


def _connect_sources(policy: str) -> list[str]:
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("connect-src"))
    return directive.split()[1:]


@pytest.fixture(autouse=True)
def _no_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (UPLOAD_ORIGIN_ENV, COGNITO_ENDPOINT_ENV, "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def test_uploads_and_sign_in_go_to_the_local_stacks_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the local stack's endpoint (moto: S3 and Cognito) and no explicit origins
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123/some/path")

    # When the page's policy is made, then it may connect to itself and that origin, once
    assert _connect_sources(content_security_policy()) == ["'self'", "http://127.0.0.1:5123"]


def test_an_upload_origin_given_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an upload origin besides the local endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")
    monkeypatch.setenv(UPLOAD_ORIGIN_ENV, "https://files.example.s3.eu-west-1.amazonaws.com/")

    # Then uploads go there, and Cognito is still the local endpoint
    assert _connect_sources(content_security_policy()) == [
        "'self'",
        "https://files.example.s3.eu-west-1.amazonaws.com",
        "http://127.0.0.1:5123",
    ]


def test_the_cognito_endpoint_the_api_names_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the endpoint `GET /auth/config` hands the browser, and an upload origin
    monkeypatch.setenv(COGNITO_ENDPOINT_ENV, "https://cognito-idp.eu-central-1.amazonaws.com/")
    monkeypatch.setenv(UPLOAD_ORIGIN_ENV, "https://files.example.s3.eu-central-1.amazonaws.com")

    # Then the page may call both, and nothing else
    assert _connect_sources(content_security_policy()) == [
        "'self'",
        "https://files.example.s3.eu-central-1.amazonaws.com",
        "https://cognito-idp.eu-central-1.amazonaws.com",
    ]


def test_without_any_the_page_connects_to_itself_only() -> None:
    policy = content_security_policy()

    assert _connect_sources(policy) == ["'self'"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
