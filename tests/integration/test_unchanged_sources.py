"""Issue 19: an automatic schedule's fire that finds the last file costs no execution.

On the local stack (moto, the real state machine), each fire delivered to the start
function as Scheduler delivers it, for each source type: URL (the loopback file server),
FTP (pyftpdlib), SFTP (OpenSSH, as tests/unit/sources runs it) and upload. An unchanged
source starts no execution and writes no run, and the profile counts the check; a
changed one still runs; a server without validators still runs; a probe that fails
still runs, and fails with its cause.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from integration_harness import Harness, Shop, simple_product
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from feedsync.core import api
from feedsync.models import Profile, Run
from feedsync_local.httpserver import LoopbackServer

# The real OpenSSH server of the source tests (its fixture, loaded from that conftest).
_spec = importlib.util.spec_from_file_location(
    "feedsync_source_servers", Path(__file__).parents[1] / "unit" / "sources" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_servers = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_servers)
sshd = _servers.sshd

STORE = [simple_product("Bag", "BAG-1", "20.00", 4)]
FEED = b"SKU,Price,Qty\nBAG-1,21.00,4\n"
NEW_FEED = b"SKU,Price,Qty\nBAG-1,23.00,4\n"
AUTOMATIC = {"type": "automatic", "every_minutes": 15}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FTP_USER, FTP_PASSWORD = "supplier", "unchanged-ftp-pw"


# ------------------------------------------------------------------------ helpers
def fire(h: Harness, profile: Profile, minutes: int) -> dict[str, Any]:
    """Deliver a scheduled fire to the start function, as Scheduler's target input."""
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    event = {
        "tenant_id": profile.tenant_id,
        "profile_id": profile.profile_id,
        "trigger": "schedule",
        "scheduled_time": at,
        "idempotency_key": at,
    }
    answer: dict[str, Any] = h.stack.invoke_arn(h.stack.env["START_FUNCTION_ARN"], event)
    return answer


def fired_run(h: Harness, profile: Profile, minutes: int) -> Run:
    """A fire that starts a run, followed to its end (its Finalize done)."""
    answer = fire(h, profile, minutes)
    (started,) = answer["runs"]
    run = h.wait_run(profile.tenant_id, started["run_id"])
    h.execution(run.run_id)
    return run


def executions(h: Harness) -> set[str]:
    sfn = h.stack.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=h.stack.state_machine_arn)
    return {e["name"] for page in pages for e in page["executions"]}


def record(h: Harness, profile: Profile) -> Profile:
    got = h.deps.repo.get_profile(profile.tenant_id, profile.profile_id)
    assert got is not None
    return got


def assert_checked_without_a_run(h: Harness, profile: Profile, minutes: int) -> dict[str, Any]:
    """Fire; it must start no execution, write no run, take no lock and count the check."""
    before_runs = [r.run_id for r in h.deps.repo.list_runs(profile.tenant_id, profile.profile_id)]
    before_checks = record(h, profile).checks
    before = executions(h)
    answer = fire(h, profile, minutes)
    assert answer["runs"] == [] and "checked, no run started" in answer["unchanged"]
    new = executions(h) - before  # (another test's late run aside: none of this tenant's)
    assert not [n for n in new if h.deps.repo.get_run(profile.tenant_id, n.split("-")[0])]
    after = [r.run_id for r in h.deps.repo.list_runs(profile.tenant_id, profile.profile_id)]
    assert after == before_runs
    now = record(h, profile)
    assert now.checks == before_checks + 1 and now.last_checked_at is not None
    assert now.current_run_id is None and now.status == "ready"
    return answer


# ---------------------------------------------------------------------------- URL
def test_an_unchanged_url_costs_no_execution_and_a_changed_one_runs(h: Harness) -> None:
    # Given an automatic profile whose first fire synced the file (the loopback file
    # server answers If-Modified-Since with 304)
    shop = h.shop(STORE)
    url = h.feed_url(FEED)
    path = h.files_dir / url.rsplit("/", 2)[-2] / "feed.csv"
    os.utime(path, (1_700_000_000, 1_700_000_000))
    profile = h.profile(shop, {"type": "url", "url": url}, schedule=AUTOMATIC)
    first = fired_run(h, profile, 0)
    assert first.status == "succeeded" and first.counts["updated"] == 1
    changed_at = record(h, profile).last_changed_at
    assert changed_at is not None and record(h, profile).checks == 0
    # When it fires twice more with the file untouched
    answer = assert_checked_without_a_run(h, profile, 15)
    assert_checked_without_a_run(h, profile, 30)
    # Then neither started anything, the profile counts both, and the API shows it
    assert "not modified (304)" in answer["unchanged"]
    (view,) = api.profile_views(h.deps, shop.tenant, [record(h, profile)])
    assert view["checks"] == 2 and view["last_checked_at"] is not None
    assert view["last_changed_at"] is not None
    # When the supplier publishes a new file, Then the next fire runs and syncs it, and
    # the profile says it changed then (its checks counted from there)
    path.write_bytes(NEW_FEED)
    os.utime(path, (1_800_000_000, 1_800_000_000))
    third = fired_run(h, profile, 45)
    assert third.status == "succeeded" and third.counts["updated"] == 1
    assert h.store_values(shop)["BAG-1"] == (2300, 4)
    now = record(h, profile)
    assert now.checks == 0 and now.last_changed_at is not None
    assert now.last_changed_at > changed_at


class NoValidators:
    """A supplier whose server sends neither ETag nor Last-Modified."""

    def __init__(self) -> None:
        self.body = FEED
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stock.csv"


@pytest.fixture
def no_validators() -> Iterator[NoValidators]:
    served = NoValidators()
    threading.Thread(target=served.server.serve_forever, daemon=True).start()
    yield served
    served.server.shutdown()


def test_a_server_without_validators_still_runs(h: Harness, no_validators: NoValidators) -> None:
    # Given an automatic profile on a server that cannot say whether its file changed
    shop = h.shop(STORE)
    profile = h.profile(shop, {"type": "url", "url": no_validators.url}, schedule=AUTOMATIC)
    assert fired_run(h, profile, 0).status == "succeeded"
    # When it fires again with the same file
    second = fired_run(h, profile, 15)
    # Then the run started, and Fetch's sha256 found the same file: skipped, as before
    assert second.status == "skipped" and "sha256" in (second.reason or "")
    assert record(h, profile).checks == 0


def test_a_probe_that_fails_still_runs_and_fails_with_its_cause(h: Harness) -> None:
    # Given an automatic profile whose file was synced, then removed by the supplier
    shop = h.shop(STORE)
    url = h.feed_url(FEED)
    profile = h.profile(shop, {"type": "url", "url": url}, schedule=AUTOMATIC)
    assert fired_run(h, profile, 0).status == "succeeded"
    (h.files_dir / url.rsplit("/", 2)[-2] / "feed.csv").unlink()
    # When it fires
    failed = fired_run(h, profile, 15)
    # Then the run is in the history, failed with the cause
    assert failed.status == "failed" and "file not found (404)" in (failed.error or "")
    assert record(h, profile).checks == 0


# ---------------------------------------------------------------------------- FTP
@pytest.fixture(scope="module")
def ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A real FTP server (pyftpdlib, MLST) on loopback."""
    root = tmp_path_factory.mktemp("ftp-unchanged")
    auth = DummyAuthorizer()
    auth.add_user(FTP_USER, FTP_PASSWORD, str(root), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": auth})
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield int(server.address[1]), root
    server.close_all()


def test_an_unchanged_ftp_file_costs_no_execution(h: Harness, ftp: tuple[int, Path]) -> None:
    # Given an automatic FTP profile whose first fire synced the file
    port, root = ftp
    name = f"stock-{uuid.uuid4().hex[:6]}.csv"
    (root / name).write_bytes(FEED)
    os.utime(root / name, (1_700_000_000, 1_700_000_000))
    source = {
        "type": "ftp",
        "host": "127.0.0.1",
        "port": port,
        "path": f"/{name}",
        "username": FTP_USER,
        "credentials": {"password": FTP_PASSWORD},
    }
    shop = h.shop(STORE)
    profile = h.profile(shop, source, schedule=AUTOMATIC)
    first = fired_run(h, profile, 0)
    assert first.status == "succeeded" and first.source["mtime"] == 1_700_000_000
    # When it fires again, Then the size and time said unchanged: no execution, no run
    answer = assert_checked_without_a_run(h, profile, 15)
    assert "same size and modification time" in answer["unchanged"]
    # When the supplier rewrites the file, Then the next fire syncs it
    (root / name).write_bytes(NEW_FEED)
    os.utime(root / name, (1_700_000_600, 1_700_000_600))
    again = fired_run(h, profile, 30)
    assert again.status == "succeeded" and h.store_values(shop)["BAG-1"] == (2300, 4)


def test_an_ftp_login_refused_at_the_probe_is_a_failed_run(
    h: Harness, ftp: tuple[int, Path]
) -> None:
    # Given an automatic FTP profile that synced, whose password the supplier then changed
    port, root = ftp
    (root / "login.csv").write_bytes(FEED)
    source = {
        "type": "ftp",
        "host": "127.0.0.1",
        "port": port,
        "path": "/login.csv",
        "username": FTP_USER,
        "credentials": {"password": FTP_PASSWORD},
    }
    shop = h.shop(STORE)
    profile = h.profile(shop, source, schedule=AUTOMATIC)
    assert fired_run(h, profile, 0).status == "succeeded"
    from feedsync.models import PatchProfile

    wrong = {**source, "credentials": {"password": "not-the-password"}}
    api.patch_profile(
        h.deps, shop.tenant, profile.profile_id, PatchProfile.model_validate({"source": wrong})
    )
    # When it fires, Then the refused login is a failed run saying so (no silent check)
    failed = fired_run(h, profile, 15)
    assert failed.status == "failed" and "login refused" in (failed.error or "")


# --------------------------------------------------------------------------- SFTP
def test_an_unchanged_sftp_file_costs_no_execution(h: Harness, sshd: Any) -> None:
    # Given an automatic SFTP profile (host key pinned) whose first fire synced the file
    path = sshd.root / f"stock-{uuid.uuid4().hex[:6]}.csv"
    path.write_bytes(FEED)
    path.chmod(0o644)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    source = {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": sshd.port,
        "path": str(path),
        "username": sshd.user,
        "host_key_fingerprint": sshd.fingerprints["ed25519"],
        "credentials": {"password": sshd.password},
    }
    shop = h.shop(STORE)
    profile = h.profile(shop, source, schedule=AUTOMATIC)
    assert fired_run(h, profile, 0).status == "succeeded"
    # When it fires again, Then its stat said unchanged: no execution, no run
    assert_checked_without_a_run(h, profile, 15)
    # When the supplier replaces the file, Then the next fire syncs it
    path.write_bytes(NEW_FEED)
    os.utime(path, (1_700_000_600, 1_700_000_600))
    again = fired_run(h, profile, 30)
    assert again.status == "succeeded" and h.store_values(shop)["BAG-1"] == (2300, 4)


# ------------------------------------------------------------------------- upload
def upload(h: Harness, shop: Shop, profile: Profile, body: bytes, count: int) -> Run:
    """PUT a file to the profile's presigned URL; its upload run, followed to its end."""
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    assert requests.put(grant["upload_url"], data=body, timeout=30).status_code == 200
    deadline = time.monotonic() + 30
    while len(runs := h.deps.repo.list_runs(shop.tenant, profile.profile_id)) < count:
        assert time.monotonic() < deadline, "no run started by the upload"
        time.sleep(0.02)
    run = h.wait_run(shop.tenant, runs[0].run_id)
    h.execution(run.run_id)
    return run


def test_an_upload_profiles_fire_on_the_same_version_costs_no_execution(h: Harness) -> None:
    # Given an automatic upload profile whose uploaded file was synced by its upload run
    shop = h.shop(STORE)
    profile = h.profile(shop, {"type": "upload"}, schedule=AUTOMATIC)
    synced = upload(h, shop, profile, FEED, 1)
    assert synced.status == "succeeded" and synced.trigger == "upload"
    # When the schedule fires with no new upload, Then it is a check: no execution, no run
    answer = assert_checked_without_a_run(h, profile, 15)
    assert "same uploaded version" in answer["unchanged"]
    # When a new file is uploaded (its own run) and then the schedule fires, Then that
    # version was synced already: a check again; a Start still runs
    assert upload(h, shop, profile, NEW_FEED, 2).status == "succeeded"
    assert_checked_without_a_run(h, profile, 30)
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
