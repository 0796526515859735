"""Helpers for the integration tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from feedsync.core import api
from feedsync.core.deps import Deps
from feedsync.models import CreateStore, Profile, ProfileSettings, Run, Store
from feedsync.models.review import LIMITS_OFF
from feedsync_local.environment import LocalEnvironment

FINAL = {"succeeded", "failed", "previewed", "partially_applied", "held", "skipped", "cancelled"}
PHASES = ["queued", "preparing", "matching", "updating", "succeeded"]
RUN_TIMEOUT_S = 60.0
# Every safety limit off (a profile body's "limits"), for flows that are not about them.
NO_LIMITS = LIMITS_OFF


def cents(value: Any) -> int | None:
    """A sandbox money value (JSON number) as exact integer cents."""
    return None if value is None else int(Decimal(str(value)) * 100)


def simple_product(name: str, sku: str, price: str, stock: int) -> dict[str, Any]:
    """A POST /catalog/products body for a product with one (base) variant."""
    return {
        "name": name,
        "type": "physical",
        "weight": 1,
        "sku": sku,
        "price": float(price),
        "inventory_level": stock,
    }


@dataclass
class Shop:
    """A sandbox store, seeded, and the feedsync store that imported it."""

    tenant: str
    store_hash: str
    token: str
    store: Store
    seeded: list[dict[str, Any]]

    def seeded_variant(self, sku: str) -> dict[str, Any]:
        for product in self.seeded:
            for variant in product["variants"]:
                if variant["sku"] == sku:
                    return dict(variant)
        raise KeyError(sku)


@dataclass
class StatusSpy:
    """Every status the product writes to a run record, in write order (per run id)."""

    writes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, run_id: str, status: str) -> None:
        with self.lock:
            self.writes[run_id].append(status)

    def of(self, run_id: str) -> list[str]:
        with self.lock:
            return list(self.writes.get(run_id, []))


class Harness:
    def __init__(self, env: LocalEnvironment, files_dir: Path, spy: StatusSpy) -> None:
        self.env = env
        self.stack = env.stack
        self.sandbox = env.sandbox
        self.files_dir = files_dir
        self.spy = spy

    @property
    def deps(self) -> Deps:
        from feedsync.wiring import deps

        return deps()

    # ------------------------------------------------------------------ set-up helpers
    def tenant(self) -> str:
        tenant_id = f"t-{uuid.uuid4().hex[:12]}"
        self.env.new_tenant(tenant_id)
        return tenant_id

    def platform_store(
        self, tenant: str, platform: str, api_url: str, credentials: dict[str, str]
    ) -> Store:
        """Create a store (its catalog import runs in the background) and wait until ready."""
        body = CreateStore.model_validate(
            {"name": platform, "platform": platform, "api_url": api_url, "credentials": credentials}
        )
        store = api.create_store(self.deps, tenant, body)
        deadline = time.monotonic() + 30
        while True:
            got = self.deps.repo.get_store(tenant, store.store_id)
            if got is not None and got.status != "setting_up":
                assert got.status == "ready", got.error
                return got
            assert time.monotonic() < deadline, "catalog import did not finish"
            time.sleep(0.01)

    def shop(self, products: list[dict[str, Any]], tenant: str | None = None) -> Shop:
        tenant = tenant or self.tenant()
        store_hash, token = self.sandbox.create_store()
        seeded = self.sandbox.seed(store_hash, products)
        store = api.create_store(
            self.deps,
            tenant,
            CreateStore(
                name=f"shop {store_hash}",
                platform="bigcommerce",
                api_url=self.sandbox.api_url(store_hash),
                credentials={"access_token": token},
            ),
        )
        assert store.status == "setting_up"
        deadline = time.monotonic() + 30
        while True:
            got = self.deps.repo.get_store(tenant, store.store_id)
            if got is not None and got.status != "setting_up":
                break
            assert time.monotonic() < deadline, "catalog import did not finish"
            time.sleep(0.02)
        assert got.status == "ready", got.error
        assert got.variant_count == sum(len(p["variants"]) for p in seeded)
        return Shop(tenant, store_hash, token, got, seeded)

    def feed_url(self, content: str | bytes, name: str = "feed.csv") -> str:
        """Serve ``content`` from the supplier's file server; returns its URL."""
        folder = self.files_dir / uuid.uuid4().hex
        folder.mkdir()
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
        assert self.env.files is not None
        return f"{self.env.files.url}/{folder.name}/{name}"

    def profile(self, shop: Shop, source: dict[str, Any], **settings: Any) -> Profile:
        return self.profile_for(shop.tenant, shop.store.store_id, source, **settings)

    def profile_for(
        self, tenant: str, store_id: str, source: dict[str, Any], **settings: Any
    ) -> Profile:
        body = {
            "name": f"profile {uuid.uuid4().hex[:6]}",
            "store_id": store_id,
            "source": source,
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
            # These runs move prices and stock a lot on purpose; the safety limits have tests
            # of their own (test_limits_held.py): pass limits={} to have them.
            "limits": NO_LIMITS,
            **settings,
        }
        return api.create_profile(self.deps, tenant, ProfileSettings.model_validate(body))

    def url_profile(self, shop: Shop, content: str | bytes, **settings: Any) -> Profile:
        return self.profile(shop, {"type": "url", "url": self.feed_url(content)}, **settings)

    # --------------------------------------------------------------------- run helpers
    def start(self, tenant: str, profile_id: str, mode: str | None = None) -> Run:
        return api.start(self.deps, tenant, profile_id, "manual", mode)

    def wait_run(self, tenant: str, run_id: str, observed: list[str] | None = None) -> Run:
        """Poll the run record fast until a final status; ``observed`` gets each new status."""
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            run = self.deps.repo.get_run(tenant, run_id)
            assert run is not None, f"run {run_id} not recorded"
            if observed is not None and (not observed or observed[-1] != run.status):
                observed.append(run.status)
            # moto applies an update's fields one by one, so a read can see the final status
            # before the rest of its update (finished_at is written in the same update)
            if run.status in FINAL and run.finished_at is not None:
                return run
            assert time.monotonic() < deadline, f"run {run_id} stuck in {run.status}"
            time.sleep(0.005)

    def execution(self, run_id: str) -> dict[str, Any]:
        """describe_execution for the run (execution name == run id), once it has ended."""
        sfn = self.stack.client("stepfunctions")
        arn = self.stack.state_machine_arn.replace(":stateMachine:", ":execution:")
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            got: dict[str, Any] = sfn.describe_execution(executionArn=f"{arn}:{run_id}")
            if got["status"] != "RUNNING":
                return got
            assert time.monotonic() < deadline, f"execution {run_id} still RUNNING"
            time.sleep(0.02)

    def run_to_end(self, tenant: str, profile_id: str, mode: str | None = None) -> Run:
        run = self.start(tenant, profile_id, mode)
        final = self.wait_run(tenant, run.run_id)
        self.execution(run.run_id)
        return final

    def store_values(self, shop: Shop) -> dict[str, tuple[int | None, int]]:
        """sku -> (price in cents, stock) of every variant in the sandbox store."""
        return {
            v["sku"]: (cents(v["price"]), v["inventory_level"])
            for v in self.sandbox.variants(shop.store_hash)
        }

    def puts_to(self, shop: Shop) -> list[tuple[str, str, int]]:
        """Write requests the sandbox received for this store."""
        prefix = f"/stores/{shop.store_hash}/"
        return [r for r in self.sandbox.requests_log if r[0] != "GET" and r[1].startswith(prefix)]
