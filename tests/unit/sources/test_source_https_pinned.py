"""HTTPS URL sources connect to the checked address but verify the URL's own host name."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.errors import SourceError
from feedsync_local.httpserver import LoopbackServer

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import Cert

FEED = b"SKU,Qty\nA-1,4\n"


class _Feed(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)


@pytest.fixture(scope="module")
def https_port(cert: Cert) -> Iterator[int]:
    server = LoopbackServer(("127.0.0.1", 0), _Feed)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def _fetcher(cert: Cert) -> HttpSourceFetcher:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins
    session.verify = cert.ca_file
    return HttpSourceFetcher(allow_private=True, session=session)


def test_https_verifies_the_urls_name_on_the_pinned_connection(
    cert: Cert, https_port: int, dns: list[str], tmp_path: Path
) -> None:
    # Given a certificate for "localhost" and an https URL by that name
    # When fetched
    got = _fetcher(cert).fetch_url(f"https://localhost:{https_port}/stock.csv", str(tmp_path))
    # Then it arrived over the checked address, looked up once
    assert Path(got.path).read_bytes() == FEED and dns.count("localhost") == 1


def test_https_to_a_name_the_certificate_does_not_cover_is_refused(
    cert: Cert, https_port: int, dns: list[str], tmp_path: Path
) -> None:
    # Given a name that resolves to the same server, whose certificate does not name it
    # When fetched, Then TLS verification fails (the pinned address is not trusted blindly)
    with pytest.raises(SourceError, match=r"(?i)hostname mismatch|doesn.t match"):
        _fetcher(cert).fetch_url(f"https://supplier.example:{https_port}/s.csv", str(tmp_path))
