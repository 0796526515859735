"""The dashboard's Content-Security-Policy: its own origin only, plus where the editor PUTs an
uploaded supplier file (the upload URL's origin: the files bucket, locally moto's S3)."""

from __future__ import annotations

import pytest

from feedsync_local.dashboard_files import UPLOAD_ORIGIN_ENV, content_security_policy


def _connect_sources(policy: str) -> list[str]:
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("connect-src"))
    return directive.split()[1:]


def test_uploads_go_to_the_local_stacks_s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the local stack's endpoint and no explicit upload origin
    monkeypatch.delenv(UPLOAD_ORIGIN_ENV, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123/some/path")

    # When the page's policy is made, then it may connect to itself and that origin only
    assert _connect_sources(content_security_policy()) == ["'self'", "http://127.0.0.1:5123"]


def test_an_upload_origin_given_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")
    monkeypatch.setenv(UPLOAD_ORIGIN_ENV, "https://files.example.s3.eu-west-1.amazonaws.com/")

    assert _connect_sources(content_security_policy()) == [
        "'self'",
        "https://files.example.s3.eu-west-1.amazonaws.com",
    ]


def test_without_either_the_page_connects_to_itself_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPLOAD_ORIGIN_ENV, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    policy = content_security_policy()

    assert _connect_sources(policy) == ["'self'"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
