"""HTTP sources against a real nginx (see conftest.py): conditional GET, auth, redirects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.errors import SourceAuthError, SourceError, SourceNotFound, SourceUnchanged

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import Nginx

FEED = b"SKU,Qty\nA-1,4\n"


def fetcher() -> HttpSourceFetcher:
    return HttpSourceFetcher(allow_private=True, connect_timeout_s=5, read_timeout_s=10)


def test_nginx_sends_etag_and_last_modified(nginx: Nginx, tmp_path: Path) -> None:
    got = fetcher().fetch_url(f"http://127.0.0.1:{nginx.port}/feed.csv", str(tmp_path))
    assert Path(got.path).read_bytes() == FEED
    assert got.etag and got.etag.startswith('"')
    assert got.last_modified and got.last_modified.endswith("GMT")


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_an_unchanged_file_is_detected_by_a_304(
    nginx: Nginx, tmp_path: Path, validator: str
) -> None:
    # Given the last run's validators
    url = f"http://127.0.0.1:{nginx.port}/out/stock_2024-01.csv"
    first = fetcher().fetch_url(url, str(tmp_path))
    last = {validator: getattr(first, validator)}
    # When the same file is asked for conditionally, then nginx answers 304: unchanged
    with pytest.raises(SourceUnchanged, match="not modified"):
        fetcher().fetch_url(url, str(tmp_path / "again"), last)


def test_a_changed_file_is_downloaded_again(nginx: Nginx, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{nginx.port}/out/stock_2024-02.csv"
    first = fetcher().fetch_url(url, str(tmp_path))
    changed = nginx.root / "out" / "stock_2024-02.csv"
    changed.write_bytes(b"SKU,Qty\nA-1,22\n")
    last = {"etag": first.etag, "last_modified": first.last_modified}
    got = fetcher().fetch_url(url, str(tmp_path), last)
    assert Path(got.path).read_bytes() == b"SKU,Qty\nA-1,22\n"
    assert got.etag != first.etag


def test_a_missing_file_is_not_found(nginx: Nginx, tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match=r"file not found \(404\)"):
        fetcher().fetch_url(f"http://127.0.0.1:{nginx.port}/nope.csv", str(tmp_path))


def test_redirects_are_followed(nginx: Nginx, tmp_path: Path) -> None:
    got = fetcher().fetch_url(f"http://127.0.0.1:{nginx.port}/moved", str(tmp_path))
    assert (got.file_name, Path(got.path).read_bytes()) == ("feed.csv", FEED)


def auths(nginx: Nginx) -> dict[str, dict[str, str]]:
    return {
        "basic": {"type": "basic", "username": nginx.basic[0], "password": nginx.basic[1]},
        "bearer": {"type": "bearer", "token": nginx.bearer},
        "header": {"type": "header", "name": nginx.header[0], "token": nginx.header[1]},
        "query": {"type": "query", "name": nginx.query[0], "token": nginx.query[1]},
    }


@pytest.mark.parametrize("kind", ["basic", "bearer", "header", "query"])
def test_each_auth_kind_is_accepted(nginx: Nginx, tmp_path: Path, kind: str) -> None:
    url = f"http://127.0.0.1:{nginx.port}/{kind}/feed.csv"
    got = fetcher().fetch_url(url, str(tmp_path), None, auths(nginx)[kind])
    assert Path(got.path).read_bytes() == FEED


def test_the_briefs_key_names_work_too(nginx: Nginx, tmp_path: Path) -> None:
    # kind/user/param/value spellings, as keyword
    for kind, auth in {
        "basic": {"kind": "basic", "user": nginx.basic[0], "password": nginx.basic[1]},
        "header": {"kind": "header", "name": nginx.header[0], "value": nginx.header[1]},
        "query": {"kind": "query", "param": nginx.query[0], "value": nginx.query[1]},
    }.items():
        url = f"http://127.0.0.1:{nginx.port}/{kind}/feed.csv"
        assert fetcher().fetch_url(url, str(tmp_path), auth=auth).size == len(FEED)


@pytest.mark.parametrize("kind", ["basic", "bearer", "header", "query"])
def test_wrong_credentials_are_an_auth_error_without_the_secret(
    nginx: Nginx, tmp_path: Path, kind: str
) -> None:
    auth = dict(auths(nginx)[kind])
    secret_key = "password" if kind == "basic" else "token"
    auth[secret_key] = "wrong-secret-value"
    url = f"http://127.0.0.1:{nginx.port}/{kind}/feed.csv"
    with pytest.raises(SourceAuthError, match="refused the credentials") as caught:
        fetcher().fetch_url(url, str(tmp_path), None, auth)
    assert "wrong-secret-value" not in str(caught.value)


def test_missing_credentials_say_the_server_may_need_them(nginx: Nginx, tmp_path: Path) -> None:
    with pytest.raises(SourceAuthError, match=r"access denied \(401 Unauthorized\)"):
        fetcher().fetch_url(f"http://127.0.0.1:{nginx.port}/basic/feed.csv", str(tmp_path))


def test_credentials_follow_a_same_origin_redirect(nginx: Nginx, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{nginx.port}/bearer-moved"
    got = fetcher().fetch_url(url, str(tmp_path), None, auths(nginx)["bearer"])
    assert Path(got.path).read_bytes() == FEED


@pytest.mark.parametrize("kind", ["bearer", "query"])
def test_credentials_never_follow_a_redirect_to_another_origin(
    nginx: Nginx, tmp_path: Path, kind: str
) -> None:
    # The other origin answers 400 if any Authorization header or token parameter arrives
    url = f"http://127.0.0.1:{nginx.port}/elsewhere"
    got = fetcher().fetch_url(url, str(tmp_path), None, auths(nginx)[kind])
    assert Path(got.path).read_bytes() == FEED


def test_a_query_token_never_appears_in_errors(tmp_path: Path) -> None:
    # A refused port: requests' error text carries the full URL, query string included
    url = "http://127.0.0.1:9/feed.csv"
    with pytest.raises(SourceError, match="connection refused") as caught:
        fetcher().fetch_url(
            url, str(tmp_path), None, {"type": "query", "name": "token", "token": "sekrit-123"}
        )
    assert "sekrit-123" not in str(caught.value)
    assert caught.value.__cause__ is None  # the chain held the token: dropped


def test_an_unknown_auth_type_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown auth type 'digest'"):
        fetcher().fetch_url("http://127.0.0.1:9/x", str(tmp_path), None, {"type": "digest"})
