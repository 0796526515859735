"""URL sources: redirects are capped and every hop's address is checked."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.errors import SourceError
from feedsync_local.httpserver import LoopbackServer

FEED = b"SKU,Qty\nA-1,4\n"


class _Supplier(BaseHTTPRequestHandler):
    """/hops/N redirects N times before the file; /to-ip/PORT redirects to 127.0.0.1:PORT."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path.startswith("/hops/"):
            left = int(self.path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left else "/stock.csv")
        elif self.path == "/host.csv":
            body = f"Host\n{self.headers.get('Host')}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/to-ip/"):
            self._redirect(f"http://127.0.0.1:{self.path.rsplit('/', 1)[1]}/stock.csv")
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = LoopbackServer(("127.0.0.1", 0), _Supplier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


class _LocalhostIsPublic(HttpSourceFetcher):
    """Treat the name 'localhost' as a public host and 127.0.0.1 as private."""

    def _check_host(self, url: str) -> None:
        if "//localhost:" not in url:
            raise SourceError(f"{url}: private address")


def test_five_redirects_are_followed(port: int, tmp_path: Path) -> None:
    # Given a file behind five redirects
    fetcher = HttpSourceFetcher(allow_private=True)
    # When it is fetched
    got = fetcher.fetch_url(f"http://127.0.0.1:{port}/hops/4", str(tmp_path))
    # Then the file arrives, named by the final URL
    assert (got.file_name, Path(got.path).read_bytes()) == ("stock.csv", FEED)


def test_a_sixth_redirect_is_refused(port: int, tmp_path: Path) -> None:
    # Given a file behind six redirects
    fetcher = HttpSourceFetcher(allow_private=True)
    # Then the fetch fails naming the cause
    with pytest.raises(SourceError, match="more than 5 redirects"):
        fetcher.fetch_url(f"http://127.0.0.1:{port}/hops/5", str(tmp_path))


def test_a_redirect_to_a_private_address_is_refused(port: int, tmp_path: Path) -> None:
    # Given a "public" URL that redirects to a private address
    fetcher = _LocalhostIsPublic()
    # When it is fetched, then the redirect's target is refused before any request to it
    with pytest.raises(SourceError, match=r"127\.0\.0\.1"):
        fetcher.fetch_url(f"http://localhost:{port}/to-ip/{port}", str(tmp_path))


def test_loopback_is_refused_unless_allowed(port: int, tmp_path: Path) -> None:
    # Given the default fetcher (deployments refuse private addresses)
    # Then a loopback URL is refused with the address it resolved to
    with pytest.raises(SourceError, match=r"resolves to 127\.0\.0\.1"):
        HttpSourceFetcher().fetch_url(f"http://127.0.0.1:{port}/stock.csv", str(tmp_path))


def test_the_connection_goes_to_the_checked_address_with_the_urls_host_name(
    port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a supplier host name that DNS answers with a checked address (here loopback)
    real = socket.getaddrinfo
    lookups: list[str] = []

    def dns(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        if host == "supplier.example":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # When the file is fetched
    got = HttpSourceFetcher(allow_private=True).fetch_url(
        f"http://supplier.example:{port}/host.csv", str(tmp_path)
    )
    # Then the name was looked up once (the check), the connection used that answer (no
    # second lookup a rebinding DNS server could change), and the server saw the name
    assert lookups.count("supplier.example") == 1
    assert Path(got.path).read_text() == f"Host\nsupplier.example:{port}\n"
    assert got.file_name == "host.csv"
