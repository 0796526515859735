"""Fixtures for the end-to-end suite: `feedsync serve` in a subprocess, driven over HTTP only.

* ``serve``    - the running stack's info file (api_url, api_key, sandbox api_url/token).
* ``api``      - a small HTTP client for the feedsync REST API (Bearer key).
* ``sandbox``  - the sandbox store over HTTP, seeded with a small catalog.
* ``supplier`` - a supplier web server in this process, serving a tmp dir.
* ``store``    - one feedsync store on the sandbox, created and imported once.
* ``chromium`` - Debian's Chromium under Playwright (browser_support.py: pages, axe, screenshots).

Helpers live in e2e_support.py. The catalog is ``PRODUCTS`` products x 3 sizes; tests
own disjoint products so they do not see each other's writes (the store's catalog
index is shared by all profiles).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import launch
from e2e_support import (
    PRODUCTS,
    ROOT,
    SIZES,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Api,
    Sandbox,
    Served,
    StoreInfo,
    Supplier,
    free_port,
    seed_price,
    seed_stock,
    sku,
    upc,
)
from playwright.sync_api import Browser, sync_playwright


def _stop(proc: subprocess.Popen[bytes]) -> str | None:
    """Ctrl-C first; SIGTERM if SIGINT is ignored (e.g. pytest started as a background job,
    whose children inherit SIG_IGN for SIGINT). Returns the signal that stopped it."""
    if proc.poll() is not None:
        return "exit"
    for sig, wait_s in ((signal.SIGINT, STOP_TIMEOUT_S / 2), (signal.SIGTERM, STOP_TIMEOUT_S)):
        proc.send_signal(sig)
        try:
            proc.wait(timeout=wait_s)
            return sig.name
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait(timeout=10)
    return None


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    info_file = tmp / "info.json"
    out_path, err_path = tmp / "stdout.txt", tmp / "stderr.txt"
    cmd = [
        sys.executable, "-m", "feedsync_local.cli", "serve",
        "--port", str(free_port()),
        "--sandbox-port", str(free_port()),
        "--files-port", str(free_port()),
        "--info-file", str(info_file),
        "--sandbox-quota", "150/30",
    ]  # fmt: skip
    # moto's Cognito checks two-step codes against its authenticator secret only when asked.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true"}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, env=env)
    served: Served | None = None
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        info: dict[str, Any] | None = None
        while info is None:
            if proc.poll() is not None:
                pytest.fail(
                    f"feedsync serve exited with {proc.returncode} before it was ready:\n"
                    + err_path.read_text(encoding="utf-8", errors="replace")[-4000:]
                )
            if info_file.exists():
                try:
                    info = json.loads(info_file.read_text(encoding="utf-8"))
                except ValueError:
                    info = None  # written but not flushed yet
            if info is None:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"feedsync serve wrote no info file within {START_TIMEOUT_S} s:\n"
                        + err_path.read_text(encoding="utf-8", errors="replace")[-4000:]
                    )
                time.sleep(0.2)
        served = Served(
            api_url=info["api_url"].rstrip("/"),
            api_key=info["api_key"],
            sandbox_url=info["sandbox"]["api_url"].rstrip("/"),
            sandbox_token=info["sandbox"]["access_token"],
            process=proc,
            stderr_path=err_path,
            info=info,
        )
        yield served
    finally:
        stopped_by = _stop(proc)
    assert stopped_by is not None, "feedsync serve did not exit on SIGINT nor SIGTERM"
    assert proc.returncode == 0, (
        f"feedsync serve exited with {proc.returncode} after {stopped_by}:\n"
        + err_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    )


@pytest.fixture(scope="session")
def api(serve: Served) -> Api:
    return Api(serve.api_url, serve.api_key)


@pytest.fixture(scope="session")
def sandbox(serve: Served) -> Sandbox:
    sb = Sandbox(serve.sandbox_url, serve.sandbox_token)
    for p in range(1, PRODUCTS + 1):
        body = {
            "name": f"E2E Tee #{p}",
            "type": "physical",
            "weight": 0.3,
            "sku": f"E2E-{p:02d}",
            "price": seed_price(p, "S"),
            "variants": [
                {
                    "sku": sku(p, size),
                    "upc": upc(p, size),
                    "price": seed_price(p, size),
                    "inventory_level": seed_stock(p, size),
                    "option_values": [{"label": size, "option_display_name": "Size"}],
                }
                for size in SIZES
            ],
        }
        resp = sb.call("POST", "/catalog/products", body)
        assert resp.status_code == 200, f"seeding product {p}: {resp.status_code} {resp.text}"
        assert len(resp.json()["data"]["variants"]) == len(SIZES)
    seeded = sb.variants()
    assert len(seeded) == PRODUCTS * len(SIZES)
    return sb


@pytest.fixture(scope="session")
def supplier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supplier]:
    server = Supplier(tmp_path_factory.mktemp("supplier"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store(api: Api, sandbox: Sandbox, serve: Served) -> StoreInfo:
    """Created after seeding, so the catalog import sees the whole catalog."""
    resp = api.post(
        "/stores",
        {
            "name": "E2E sandbox store",
            "platform": "bigcommerce",
            "api_url": serve.sandbox_url,
            "credentials": {"access_token": serve.sandbox_token},
        },
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    observed: list[dict[str, Any]] = []
    current = created
    deadline = time.monotonic() + 30
    while current["status"] == "setting_up":
        assert time.monotonic() < deadline, "catalog import did not finish in 30 s"
        time.sleep(0.2)
        got = api.get(f"/stores/{created['store_id']}")
        assert got.status_code == 200, got.text
        observed.append({"text": got.text, **got.json()})
        current = got.json()
    if not observed:
        got = api.get(f"/stores/{created['store_id']}")
        observed.append({"text": got.text, **got.json()})
    return StoreInfo(resp.status_code, created, current, observed)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; one per session, a new context per test."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()
