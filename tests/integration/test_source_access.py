"""Issue 14, access and network, through the real state machine on moto.

- A supplier server that redirects to a malformed Location fails the run with a reason
  naming the file and the bad redirect; the store is untouched.
- A source password corrected with PATCH /profiles/{id} is the one the next run uses, even
  in a fetch process that had read (and cached) the old one.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from integration_harness import Harness, Shop, simple_product
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from feedsync.adapters.aws_misc import SecretsManagerSecrets
from feedsync.core import api
from feedsync.core.deps import Deps
from feedsync.models import PatchProfile, Run
from feedsync_local.httpserver import LoopbackServer

STORE = [
    simple_product("Lamp", "LAMP-1", "20.00", 5),
    simple_product("Desk", "DESK-1", "100.00", 2),
]
FEED = "SKU,Price,Qty\nLAMP-1,22.00,6\nDESK-1,100.00,2\n"
FTP_USER, FTP_PASSWORD = "supplier", "the-right-pass"


def assert_failed_and_store_untouched(
    h: Harness, shop: Shop, run: Run, before: dict[str, tuple[int | None, int]]
) -> None:
    assert run.status == "failed"
    assert h.spy.of(run.run_id) == ["preparing", "failed"]  # it ended in the fetch
    assert h.puts_to(shop) == [] and h.store_values(shop) == before


# ------------------------------------------------------------------- bad redirects
class Supplier:
    """A supplier's HTTP server on loopback: /feed.csv redirects to ``location``, which
    tests set; /files/feed.csv is the file."""

    def __init__(self) -> None:
        self.location = ""
        supplier = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/feed.csv":
                    self.send_response(302)
                    self.send_header("Location", supplier.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = FEED.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def supplier() -> Iterator[Supplier]:
    served = Supplier()
    threading.Thread(target=served.server.serve_forever, daemon=True).start()
    yield served
    served.server.shutdown()


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://example.com:99999/f.csv", "its port is not a number from 1 to 65535"),
        ("http://[::1", "it is not a valid URL"),
    ],
)
def test_a_malformed_redirect_fails_the_run_naming_the_file(
    h: Harness, supplier: Supplier, location: str, problem: str
) -> None:
    # Given a profile whose supplier URL redirects to a malformed Location
    shop = h.shop(STORE)
    url = f"{supplier.url}/feed.csv"
    supplier.location = location
    profile = h.profile(shop, {"type": "url", "url": url})
    before = h.store_values(shop)
    # When it runs
    failed = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the run failed on the fetch, naming the file, the bad redirect and its value;
    # nothing in the store changed
    assert failed.error == (
        f"{url}: the server sent a bad redirect (302), Location '{location}' ({problem}); "
        "nothing was downloaded"
    )
    assert_failed_and_store_untouched(h, shop, failed, before)
    # When the supplier fixes the redirect, Then the next run syncs the file
    supplier.location = "/files/feed.csv"
    again = h.run_to_end(shop.tenant, profile.profile_id)
    assert again.status == "succeeded", again.error
    assert h.store_values(shop)["LAMP-1"] == (2200, 6)


# ------------------------------------------------------------ a corrected password
@pytest.fixture(scope="module")
def ftp_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real FTP server (pyftpdlib) on loopback that takes only FTP_PASSWORD."""
    root: Path = tmp_path_factory.mktemp("ftp-access")
    (root / "stock.csv").write_text(FEED, encoding="utf-8")
    auth = DummyAuthorizer()
    auth.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elr")

    class Handler(FTPHandler):
        authorizer = auth

    server = FTPServer(("127.0.0.1", 0), Handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield int(server.address[1])
    server.close_all()


def ftp_source(port: int, password: str) -> dict[str, Any]:
    return {
        "type": "ftp",
        "host": "127.0.0.1",
        "port": port,
        "path": "/stock.csv",
        "username": FTP_USER,
        "credentials": {"password": password},
    }


def test_a_password_corrected_with_patch_is_used_at_the_next_run(h: Harness, ftp_port: int) -> None:
    # Given an FTP profile saved with a wrong password, whose run failed on the login
    # (so the fetch process has read the old password)
    shop = h.shop(STORE)
    profile = h.profile(shop, ftp_source(ftp_port, "a-wrong-pass"))
    before = h.store_values(shop)
    failed = h.run_to_end(shop.tenant, profile.profile_id)
    assert "login refused" in (failed.error or ""), failed.error
    assert_failed_and_store_untouched(h, shop, failed, before)
    # When the merchant sends the right password with PATCH /profiles/{id}, handled by
    # another process (the API Lambda: its own Secrets Manager adapter and cache)
    api_process: Deps = dataclasses.replace(h.deps, secrets=SecretsManagerSecrets())
    assert api_process.secrets is not h.deps.secrets
    patch = PatchProfile.model_validate({"source": ftp_source(ftp_port, FTP_PASSWORD)})
    patched = api.patch_profile(api_process, shop.tenant, profile.profile_id, patch)
    assert patched.public()["source"]["has_credentials"] is True  # type: ignore[index]
    assert FTP_PASSWORD not in patched.model_dump_json()
    # ... and the profile runs again
    again = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the fetch logged in with the new password and the file was synced
    assert again.status == "succeeded", again.error
    assert h.store_values(shop)["LAMP-1"] == (2200, 6)
