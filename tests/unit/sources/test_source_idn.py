"""A supplier URL with an international host name is fetched by its ASCII (punycode) name."""

from __future__ import annotations

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
HOSTS_SEEN: list[str] = []


class _Feed(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        HOSTS_SEEN.append(self.headers.get("Host") or "")
        self.send_response(200)
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = LoopbackServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def test_an_international_host_name_is_looked_up_and_sent_in_its_ascii_form(
    port: int, dns: list[str], tmp_path: Path
) -> None:
    # Given a supplier URL whose host name is not ASCII
    url = f"http://bücher.example:{port}/stock.csv"
    # When it is fetched
    got = HttpSourceFetcher(allow_private=True).fetch_url(url, str(tmp_path))
    # Then DNS and the Host header saw its punycode name, and the file arrived
    assert Path(got.path).read_bytes() == FEED
    assert dns.count("xn--bcher-kva.example") == 1 and not [n for n in dns if not n.isascii()]
    assert HOSTS_SEEN[-1] == f"xn--bcher-kva.example:{port}"


def test_a_host_name_that_is_no_valid_international_name_is_named(
    dns: list[str], tmp_path: Path
) -> None:
    # Given a host name IDNA cannot encode (a label over 63 characters once encoded)
    url = "http://" + "ü" * 70 + ".example/stock.csv"
    # When it is fetched, Then the error names the URL and says the host name is not valid
    with pytest.raises(SourceError, match=r"is not a valid host name"):
        HttpSourceFetcher(allow_private=True).fetch_url(url, str(tmp_path))
    assert dns == []
