"""URL sources against a real loopback server whose redirects are malformed or odd.

A bad Location is a ``SourceError`` naming the profile's URL, the server that sent it and
the value (shortened, without secrets); a redirect's body is never read; a UTF-8 Location
leads to the file it names.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.errors import SourceError
from feedsync_local.httpserver import LoopbackServer, QuietHandler

FEED = b"SKU,Qty\nA-1,4\n"
BIG_BODY = 64 * 1024 * 1024
LONG = "http://example.com:99999/" + "x" * 400 + "/f.csv"
# /redirect?to=<Location>: a 302 to that Location (sent as its UTF-8 bytes)
ROUTES = {
    "/bad-port": "http://example.com:99999/f.csv",
    "/bad-ipv6": "http://[::1",
    "/bad-port-text": "http://example.com:abc/f.csv",
    "/bad-port-zero": "http://example.com:0/f.csv",
    "/to-ftp": "ftp://example.com/f.csv",
    "/empty": "",
    "/long": LONG,
    "/hop": "/bad-port",
    "/umlaut": "/files/Preisliste_März.csv",
}


class Supplier(QuietHandler):
    body_bytes_sent: list[int] = []
    body_done = threading.Event()

    def _handle(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        if path in ROUTES:
            self._redirect(ROUTES[path])
        elif path == "/no-location":
            self._answer(302, b"")
        elif path == "/echo":  # a redirect that repeats the query (a token) in a bad URL
            self._redirect(f"http://example.com:99999/f.csv?{query}")
        elif path == "/echo-long":  # ... with the token where the message cuts the value
            self._redirect(f"http://example.com:99999/{'x' * 60}?{query}")
        elif path == "/big-body":
            self._redirect_with_big_body()
        elif unquote(path) in ("/files/Preisliste_März.csv", "/files/stock.csv"):
            self._answer(200, FEED)
        else:
            self._answer(404, b"")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        # http.server sends headers as Latin-1: this sends the Location's UTF-8 bytes.
        self.send_header("Location", location.encode().decode("latin-1"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect_with_big_body(self) -> None:
        self.send_response(302)
        self.send_header("Location", "/files/stock.csv")
        self.send_header("Content-Length", str(BIG_BODY))
        self.end_headers()
        sent, chunk = 0, b"x" * (1024 * 1024)
        try:
            while sent < BIG_BODY:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client closed the connection
            self.close_connection = True
        finally:
            Supplier.body_bytes_sent.append(sent)
            Supplier.body_done.set()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = LoopbackServer(("127.0.0.1", 0), Supplier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def fetch(url: str, tmp_path: Path, **kwargs: Any) -> Any:
    return HttpSourceFetcher(allow_private=True).fetch_url(url, str(tmp_path), **kwargs)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/bad-port", "its port is not a number from 1 to 65535"),
        ("/bad-port-text", "its port is not a number from 1 to 65535"),
        ("/bad-port-zero", "its port is not a number from 1 to 65535"),
        ("/bad-ipv6", "it is not a valid URL"),
        ("/to-ftp", "it leads to ftp:, and only http and https are followed"),
        ("/empty", "it is empty or missing"),
    ],
)
def test_a_malformed_location_is_a_source_error_naming_the_file_and_the_value(
    base: str, tmp_path: Path, path: str, problem: str
) -> None:
    # Given a supplier URL that redirects to a malformed Location
    url = f"{base}{path}"
    # When it is fetched
    with pytest.raises(SourceError) as caught:
        fetch(url, tmp_path)
    # Then the error names the URL, says the server sent a bad redirect, shows the value
    assert caught.value.message == (
        f"{url}: the server sent a bad redirect (302), Location '{ROUTES[path]}' "
        f"({problem}); nothing was downloaded"
    )
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_a_redirect_without_a_location_is_a_bad_redirect(base: str, tmp_path: Path) -> None:
    # Given a supplier URL answering 302 with no Location at all
    url = f"{base}/no-location"
    # Then it fails as a bad redirect (not the empty 302 body taken for the file)
    with pytest.raises(SourceError, match=r"bad redirect \(302\), Location '' \(it is empty"):
        fetch(url, tmp_path)


def test_a_bad_location_on_a_later_hop_names_the_server_that_sent_it(
    base: str, tmp_path: Path
) -> None:
    # Given a URL whose first redirect is fine and whose second is malformed
    url = f"{base}/hop"
    # When it is fetched
    with pytest.raises(SourceError) as caught:
        fetch(url, tmp_path)
    # Then the error names the profile's URL and the hop that sent the bad Location
    assert caught.value.message.startswith(
        f"{url}: the server at {base}/bad-port sent a bad redirect (302), "
        "Location 'http://example.com:99999/f.csv'"
    )


def test_a_long_bad_location_is_shortened(base: str, tmp_path: Path) -> None:
    # Given a redirect to a 430-character malformed Location
    with pytest.raises(SourceError) as caught:
        fetch(f"{base}/long", tmp_path)
    # Then the message shows its first 100 characters and how many more, not the whole value
    more = len(LONG) - 100
    assert f"Location '{LONG[:100]}'... ({more} more characters) (its port" in caught.value.message
    assert LONG not in caught.value.message


@pytest.mark.parametrize("path", ["/echo", "/echo-long"])
def test_no_part_of_a_secret_in_a_bad_location_is_in_the_error(
    base: str, tmp_path: Path, path: str
) -> None:
    # Given a query-token source whose server repeats the token in a malformed redirect
    # (in a long one, right where the shown value is cut)
    auth = {"type": "query", "param": "key", "value": "tok-very-secret-value"}
    # When it is fetched
    with pytest.raises(SourceError) as caught:
        fetch(f"{base}{path}", tmp_path, auth=auth)
    # Then the error is the bad redirect, with the token replaced, not even its start shown
    assert "sent a bad redirect" in caught.value.message
    assert "key=***" in caught.value.message
    assert "tok-ver" not in str(caught.value)


def test_a_redirects_body_is_not_downloaded(base: str, tmp_path: Path) -> None:
    # Given a redirect that comes with a 64 MiB body
    Supplier.body_bytes_sent.clear()
    Supplier.body_done.clear()
    # When it is fetched
    got = fetch(f"{base}/big-body", tmp_path)
    # Then the file behind the redirect arrives, and the client hung up on the redirect's
    # body instead of reading it (the server could not send all of it)
    assert Path(got.path).read_bytes() == FEED
    assert Supplier.body_done.wait(10)
    assert Supplier.body_bytes_sent[0] < BIG_BODY


def test_a_utf8_location_leads_to_the_file_it_names(base: str, tmp_path: Path) -> None:
    # Given a redirect to /files/Preisliste_März.csv, the Location sent as UTF-8 bytes
    # When it is fetched
    got = fetch(f"{base}/umlaut", tmp_path)
    # Then that file arrives (not a 404 for the Latin-1 misreading "MÃ¤rz")
    assert (got.file_name, Path(got.path).read_bytes()) == ("Preisliste_März.csv", FEED)
