"""Helpers shared by the end-to-end suite (the fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import functools
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from feedsync.models.review import LIMITS_OFF

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 10
SIZES = ("S", "M", "L")
FINAL = frozenset(
    {"succeeded", "failed", "previewed", "partially_applied", "held", "skipped", "cancelled"}
)
# Every safety limit off (a profile body's "limits"), for flows that are not about them.
NO_LIMITS = LIMITS_OFF
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 45
# A held ``slow-*`` file is answered at the latest after this (a test that forgot to
# release it must not hang the server thread for ever).
SLOW_FILE_TIMEOUT_S = 60.0


def free_port() -> int:
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
    info: dict[str, Any]

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


# ---------------------------------------------------------------------- API client
class Api:
    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def request(
        self, method: str, path: str, json_body: Any = None, **kw: Any
    ) -> requests.Response:
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
            # These flows move prices a lot on purpose; the safety limits have tests of
            # their own (tests/integration/test_limits_held.py): pass limits={} for them.
            "limits": NO_LIMITS,
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
            assert time.monotonic() < deadline, (
                f"run {run_id} still {run['status']} after {timeout_s}s"
            )
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


# ------------------------------------------------------------------------- supplier
class Supplier:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.slow_released = threading.Event()
        self.slow_released.set()
        handler = functools.partial(
            _QuietFiles, directory=str(directory), released=self.slow_released
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, name: str, text: str) -> str:
        (self.directory / name).write_text(text, encoding="utf-8", newline="")
        return f"{self.url}/{name}"

    @contextlib.contextmanager
    def holding_slow_files(self) -> Iterator[None]:
        """Within the block, a ``slow-*`` file is not answered (its fetch, and so its
        run, waits); leaving the block answers it."""
        self.slow_released.clear()
        try:
            yield
        finally:
            self.slow_released.set()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    """Serves the directory; a file named ``slow-*`` is answered once ``released`` is set
    (keeps a run in its fetch step, e.g. while concurrent Starts hit the lock)."""

    def __init__(self, *args: Any, released: threading.Event, **kwargs: Any) -> None:
        self.released = released  # before the base class handles the request
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.lstrip("/").startswith("slow-"):
            self.released.wait(SLOW_FILE_TIMEOUT_S)
        super().do_GET()


def csv_text(
    rows: list[list[str]], header: tuple[str, ...] = ("SKU", "UPC", "Price", "Qty")
) -> str:
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


def ready_store(api: Api, name: str, api_url: str, token: str) -> dict[str, Any]:
    """A BigCommerce store connected through the API, once its catalog import is done."""
    created = api.ok("POST", "/stores", {
        "name": name, "platform": "bigcommerce", "api_url": api_url,
        "credentials": {"access_token": token},
    }, status=201)  # fmt: skip
    deadline = time.monotonic() + 60
    while (store := api.ok("GET", f"/stores/{created['store_id']}"))["status"] == "setting_up":
        assert time.monotonic() < deadline, store
        time.sleep(0.2)
    assert store["status"] == "ready", store
    return store  # type: ignore[no-any-return]


def demo_store(api: Api, serve: Served) -> dict[str, Any]:
    """A store on the demo sandbox store `feedsync serve` seeds, ready (catalog imported)."""
    demo = serve.info["demo"]
    return ready_store(api, "Demo", demo["api_url"], demo["access_token"])
