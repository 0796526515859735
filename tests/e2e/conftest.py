"""Fixtures for the end-to-end suite: `feedsync serve` in a subprocess, driven over HTTP only.

* ``serve``    - the running stack's info file (api_url, api_key, sandbox api_url/token).
* ``api``      - a small HTTP client for the feedsync REST API (Bearer key).
* ``sandbox``  - the sandbox store over HTTP, seeded with a small catalog.
* ``supplier`` - a supplier web server in this process, serving a tmp dir.
* ``store``    - one feedsync store on the sandbox, created and imported once.

The catalog is ``PRODUCTS`` products x 3 sizes; tests own disjoint products so they do
not see each other's writes (the store's catalog index is shared by all profiles).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 10
SIZES = ("S", "M", "L")
FINAL = frozenset({"succeeded", "failed", "previewed", "held", "skipped", "cancelled"})
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 45


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sku(product: int, size: str) -> str:
    return f"E2E-{product:02d}-{size}"


def upc(product: int, size: str) -> str:
    return f"{700000000000 + product * 10 + SIZES.index(size):012d}"


def seed_price(product: int, size: str) -> float:
    """10.00 + product, plus 0.25 per size step: every variant has its own price."""
    return round(10 + product + 0.25 * SIZES.index(size), 2)


def seed_stock(product: int, size: str) -> int:
    return 5 + SIZES.index(size)


# ------------------------------------------------------------------------- the server
@dataclass
class Served:
    api_url: str
    api_key: str
    sandbox_url: str
    sandbox_token: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    info_file = tmp / "info.json"
    out_path, err_path = tmp / "stdout.txt", tmp / "stderr.txt"
    cmd = [
        sys.executable, "-m", "feedsync.local.cli", "serve",
        "--port", str(_free_port()),
        "--sandbox-port", str(_free_port()),
        "--info-file", str(info_file),
        "--sandbox-quota", "150/30",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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
        )
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                pytest.fail(f"feedsync serve did not exit within {STOP_TIMEOUT_S} s of SIGINT")
    assert proc.returncode == 0, (
        f"feedsync serve exited with {proc.returncode} after SIGINT:\n"
        + err_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    )


# ---------------------------------------------------------------------- API client
class Api:
    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, json_body: Any = None, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 60)
        if json_body is not None:
            kw["json"] = json_body
        return self.session.request(method, self.base + path, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, body, **kw)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        resp = self.request(method, path, body)
        assert resp.status_code == status, f"{method} {path} -> {resp.status_code}: {resp.text}"
        return resp.json()

    # -- flows ------------------------------------------------------------------------
    def create_profile(self, store_id: str, source: dict[str, Any], **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": extra.pop("name", "e2e profile"),
            "store_id": store_id,
            "source": source,
            "format": {"type": "csv"},
            "mapping": {"sku": "SKU", "barcode": "UPC", "price": "Price", "stock": "Qty"},
            "match_by": "sku",
            "fields": ["price", "stock"],
            "mode": "partial",
        }
        body.update(extra)
        created = self.ok("POST", "/profiles", body, status=201)
        assert created["profile_id"]
        return created  # type: ignore[no-any-return]

    def start(self, profile_id: str, body: Any = None) -> dict[str, Any]:
        started = self.ok("POST", f"/profiles/{profile_id}/runs", {} if body is None else body, 202)
        return started  # type: ignore[no-any-return]

    def wait_run(self, run_id: str, timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.ok("GET", f"/runs/{run_id}")
            if run["status"] in FINAL:
                return run  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout_s}s"
            time.sleep(0.2)

    def wait_profile_idle(self, profile_id: str, timeout_s: float = 30) -> dict[str, Any]:
        """The lock is released just after the run turns final; wait for it."""
        deadline = time.monotonic() + timeout_s
        while True:
            profile = self.ok("GET", f"/profiles/{profile_id}")
            if profile["status"] == "ready" and not profile.get("current_run_id"):
                return profile  # type: ignore[no-any-return]
            assert time.monotonic() < deadline, f"profile {profile_id} still {profile['status']}"
            time.sleep(0.2)

    def sync(self, profile_id: str, body: Any = None) -> dict[str, Any]:
        started = self.start(profile_id, body)
        run = self.wait_run(started["run_id"])
        self.wait_profile_idle(profile_id)
        return run


@pytest.fixture(scope="session")
def api(serve: Served) -> Api:
    return Api(serve.api_url, serve.api_key)


# -------------------------------------------------------------------------- sandbox
class Sandbox:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token
        self.requests_made = 0

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        self.requests_made += 1
        return self.session.request(method, self.base + path, json=body, timeout=30)

    def variants(self) -> dict[str, dict[str, Any]]:
        """Every variant of the store by SKU (one request: the catalog is < 250 variants)."""
        resp = self.call("GET", "/catalog/variants?limit=250")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["meta"]["pagination"]["total_pages"] <= 1
        return {v["sku"]: v for v in body["data"]}


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


# ------------------------------------------------------------------------- supplier
class Supplier:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        handler = functools.partial(_QuietFiles, directory=str(directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, name: str, text: str) -> str:
        (self.directory / name).write_text(text, encoding="utf-8", newline="")
        return f"{self.url}/{name}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def supplier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supplier]:
    server = Supplier(tmp_path_factory.mktemp("supplier"))
    yield server
    server.stop()


def csv_text(rows: list[list[str]], header: tuple[str, ...] = ("SKU", "UPC", "Price", "Qty")) -> str:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------------------- store
@dataclass
class StoreInfo:
    created_status: int
    created: dict[str, Any]
    store: dict[str, Any]
    observed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def store_id(self) -> str:
        return str(self.store["store_id"])


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
