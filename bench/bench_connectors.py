"""Benchmark the store connectors against their local doubles.

    .venv/bin/python bench/bench_connectors.py [--sizes 10000,100000] [--only bigcommerce]

For each platform and size: seed the double, plan the changes with the platform's
capabilities (``domain.plan.build_plan``, exactly what the match step does) and apply
every batch through the connector, as the update step does. Printed per run:

* requests sent (counted by the double) / minimum requests, where the minimum is
  ``ceil(items / max batch)`` per operation (per product where a request holds one
  product's items only). Target 1.00 without faults;
* the same with one item in 1,000 refused by the platform (target <= 1.05; BigCommerce,
  which rejects the whole batch for one item: <= 1.30, its shards sent by the update
  step's own loop, ``core/shard_send.py``; ``bench_known_bad.py`` measures the next run
  with the same refused items);
* BigCommerce: 4 update shards (threads, one connector each) sharing one rate budget
  under a scaled window of 150 requests / 3 s: achieved request rate / allowed rate
  (target >= 0.90) and the 429s seen (target 0);
* Shopify: points spent / points available over the run (bucket 2,000, 100/s). Above
  5,000 variant changes Shopify's bulk path replaces per-product mutations; its minimum
  is counted as 3 GraphQL requests (staged upload, run, one poll) per bulk operation.
"""

from __future__ import annotations

import argparse
import math
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.adapters.rate_budget import LocalRateBudget  # noqa: E402
from feedsync.core.shard_send import send_shard  # noqa: E402
from feedsync.domain.capabilities import Capabilities  # noqa: E402
from feedsync.domain.plan import Shard, build_plan  # noqa: E402
from feedsync.domain.reconcile import Outcome  # noqa: E402
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector  # noqa: E402
from feedsync.platforms.shopify.connector import ShopifyConnector  # noqa: E402
from feedsync.platforms.shopify.spec import capabilities as shopify  # noqa: E402
from feedsync.platforms.woocommerce.connector import WooCommerceConnector  # noqa: E402
from feedsync_local.bigcommerce_double import SandboxStore  # noqa: E402
from feedsync_local.shopify_double import ShopifyDouble  # noqa: E402
from feedsync_local.woo_double import WooCommerceDouble  # noqa: E402

BULK_HANDSHAKE = 3
Target = tuple[int, int, int | None, int | None]  # product id, variant id, ref, stock


def outcomes(targets: Iterable[Target], fields: tuple[str, ...]) -> list[Outcome]:
    """A "changed" outcome per variant: every field in ``fields`` gets a new value."""
    out: list[Outcome] = []
    for n, (pid, vid, _ref, stock) in enumerate(targets):
        changes = []
        for f in fields:
            if f == "stock":
                changes.append((f, stock, (stock or 0) + 3))
            else:
                changes.append((f, 1000, 1234 + n % 50))
        out.append((n + 2, f"SKU{n}", "changed", pid, vid, tuple(changes), ""))
    return out


def _one_per(targets: list[Target], every: int) -> list[int]:
    """One variant id per ``every`` targets, at a seeded random place in each block."""
    if not every:
        return []
    rng = random.Random(1000)
    return [
        targets[start + rng.randrange(min(every, len(targets) - start))][1]
        for start in range(0, len(targets), every)
    ]


def minimum_requests(plan: list[Shard], caps: Capabilities) -> int:
    """ceil(items / max batch) per operation (per product for per-product operations)."""
    groups: dict[tuple[str, int | None], int] = {}
    for shard in plan:
        for batch in shard:
            op = caps.op(batch["op"])
            for item in batch["items"]:
                key = (op.name, item.product_id if op.per_product else None)
                groups[key] = groups.get(key, 0) + 1
    bulk_ops = {path.bulk_op for path in caps.bulk}
    return sum(
        # A bulk operation's least is its handshake: stage the upload, run it, poll once.
        BULK_HANDSHAKE * math.ceil(n / caps.op(name).max_batch)
        if name in bulk_ops
        else math.ceil(n / caps.op(name).max_batch)
        for (name, _), n in groups.items()
    )


def apply_plan(
    connectors: list[Any], plan: list[Shard], done_at: list[float] | None = None
) -> tuple[int, int, float]:
    """Apply every batch with one worker per connector; returns (ok, failed, seconds).

    ``done_at`` collects when each batch finished (seconds since the start)."""
    work: queue.Queue[tuple[int, int, dict[str, Any]]] = queue.Queue()
    for s, shard in enumerate(plan):
        for b, batch in enumerate(shard):
            work.put((s, b, batch))
    tally = {"ok": 0, "failed": 0}
    lock = threading.Lock()

    def worker(connector: Any) -> None:
        while True:
            try:
                s, b, batch = work.get_nowait()
            except queue.Empty:
                return
            results = connector.apply(batch["op"], batch["items"], batch_key=f"bench-{s}-{b}")
            with lock:
                if done_at is not None:
                    done_at.append(time.perf_counter() - started)
                for ok, _ in results:
                    tally["ok" if ok else "failed"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in connectors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally["ok"], tally["failed"], time.perf_counter() - started


class _NoMarks:
    """The update step's marks, not kept (``shard_send.ShardSink``); never a cancel."""

    def mark(self, marker: Any) -> None:
        del marker

    def record(self, results: Any) -> bool:
        del results
        return False

    def cancelled(self) -> bool:
        return False


def send_plan(connector: Any, plan: list[Shard]) -> tuple[int, int, float]:
    """Send every shard through the update step's own loop (``core/shard_send.py``: a
    BigCommerce shard's batches as one stream); returns (ok, failed, seconds)."""
    started = time.perf_counter()
    ok = failed = 0
    for s, shard in enumerate(plan):
        results = send_shard(connector, shard, _NoMarks(), key_prefix=f"bench-{s}")
        ok, failed = ok + results.updated, failed + results.failed
    return ok, failed, time.perf_counter() - started


def report(platform: str, label: str, sent: int, minimum: int, extra: str = "") -> None:
    ratio = sent / minimum if minimum else float("nan")
    print(
        f"  {platform:<11} {label:<34} requests {sent:>7} / minimum {minimum:>7} "
        f"= {ratio:.3f}{extra}"
    )


# --------------------------------------------------------------------------- bigcommerce
def bigcommerce_runs(sizes: list[int]) -> None:
    with SandboxStore() as sandbox:
        for n in sizes:
            for label, every in (("price+stock", 0), ("1 bad item per 1,000", 1000)):
                sandbox.set_quota(10**9, 30.0)  # counting requests, not waiting
                store_hash, token = sandbox.create_store()
                products = sandbox.seed(store_hash, _bc_products(n))
                targets = [
                    (p["id"], v["id"], None, v["inventory_level"])
                    for p in products
                    for v in p["variants"]
                ]
                for vid in _one_per(targets, every):
                    sandbox.reject_variant(store_hash, vid, "price: must be positive")
                connector = BigCommerceConnector(
                    sandbox.api_url(store_hash), token, allow_private=True
                )
                caps = connector.capabilities
                plan = list(build_plan(outcomes(targets, ("price", "stock")), caps))
                sandbox.reset_log()
                ok, failed, secs = send_plan(connector, plan)
                sent = sum(sandbox.request_counts.values())
                report(
                    "bigcommerce",
                    f"{n:>7,} variants, {label}",
                    sent,
                    minimum_requests(plan, caps),
                    f"  ({ok} ok, {failed} refused, {secs:.1f} s)",
                )
        _bigcommerce_rate(sandbox)


def _bc_products(n: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"Bench product {i}",
            "type": "physical",
            "weight": 1,
            "sku": f"BENCH-{i:07d}",
            "price": 10.0,
            "inventory_level": 5,
        }
        for i in range(n)
    ]


def _bigcommerce_rate(sandbox: SandboxStore, requests_to_send: int = 750) -> None:
    """4 shards, one shared budget, a 150 / 3 s window: how close to the quota, 429s."""
    store_hash, token = sandbox.create_store()
    items = requests_to_send * 50
    products = sandbox.seed(store_hash, _bc_products(items))
    targets = [(p["id"], v["id"], None, 5) for p in products for v in p["variants"]]
    sandbox.set_quota(150, 3.0)
    budget = LocalRateBudget()
    connectors = [
        BigCommerceConnector(sandbox.api_url(store_hash), token, budget=budget, allow_private=True)
        for _ in range(4)
    ]
    plan = list(build_plan(outcomes(targets, ("price",)), connectors[0].capabilities))
    sandbox.reset_log()
    done_at: list[float] = []
    _ok, _failed, secs = apply_plan(connectors, plan, done_at)
    sent = sum(sandbox.request_counts.values())
    allowed = 150 / 3.0
    # Steady state: whole windows after the first one (its quota is there at once, and a
    # fixed window lets the last one's quota go at once too), counted against the quota.
    window, quota = 3.0, 150
    whole = int((max(done_at) - window) // window) if done_at else 0
    in_whole = sum(1 for t in done_at if window < t <= window * (1 + whole))
    ratio = in_whole / (quota * whole) if whole else float("nan")
    print(
        f"  bigcommerce rate: 4 shards sharing one budget, window {quota}/{window:.0f} s: "
        f"{sent} requests in {secs:.1f} s; steady state {in_whole} requests in {whole} whole "
        f"windows = {in_whole / (whole * window):.1f}/s of {allowed:.0f}/s allowed -> ratio "
        f"{ratio:.3f}; 429s {sandbox.rate_limited}"
    )


# ------------------------------------------------------------------------------ shopify
def shopify_runs(sizes: list[int]) -> None:
    for n in sizes:
        for label, every in (("price+stock", 0), ("1 bad item per 1,000", 1000)):
            with ShopifyDouble() as double:
                products = double.seed_catalog(n // 4, 4)
                targets = [
                    (p["id"], v["id"], v["inventory_item_id"], 5)
                    for p in products
                    for v in p["variants"]
                ]
                for vid in _one_per(targets, every):
                    double.reject_variant(vid, "Price must be positive")
                # As for a store whose import remembered the primary location.
                connector = ShopifyConnector(
                    double.shop_url,
                    double.access_token,
                    location=str(double.primary_location_id),
                    allow_private=True,
                )
                caps = connector.capabilities
                plan = list(
                    build_plan(
                        outcomes(targets, ("price", "stock")),
                        caps,
                        refs={vid: str(ref) for _p, vid, ref, _s in targets},
                    )
                )
                double.reset_log()
                ok, failed, secs = apply_plan([connector], plan)
                stats = double.stats()
                sent = stats["graphql_requests"]
                minimum = minimum_requests(plan, caps)
                samples = stats["available"]
                span = samples[-1][0] - samples[0][0] if samples else 0.0
                available = 2000 + 100 * span
                report(
                    "shopify",
                    f"{n:>7,} variants, {label}",
                    sent,
                    minimum,
                    f"  ({ok} ok, {failed} refused, {secs:.1f} s; points "
                    f"{stats['points_spent']:.0f} / {available:.0f} available = "
                    f"{stats['points_spent'] / available:.2f}; throttled {stats['throttled']})",
                )
    # The per-product path (below the bulk threshold), counted with a fast bucket.
    per_product = _without_bulk(shopify())
    with ShopifyDouble(restore_rate=100_000.0, maximum_available=100_000.0) as double:
        products = double.seed_catalog(1000, 4)
        targets = [(p["id"], v["id"], v["inventory_item_id"], 5) for p in products
                   for v in p["variants"]]  # fmt: skip
        connector = ShopifyConnector(double.shop_url, double.access_token, allow_private=True)
        plan = list(build_plan(outcomes(targets, ("price",)), per_product))
        double.reset_log()
        ok, failed, secs = apply_plan([connector], plan)
        report(
            "shopify",
            "4,000 variants per product (no bulk)",
            double.stats()["graphql_requests"],
            minimum_requests(plan, per_product),
            f"  ({ok} ok, {failed} refused, {secs:.1f} s)",
        )


def _without_bulk(caps: Capabilities) -> Capabilities:
    from dataclasses import replace

    return replace(caps, bulk=())


# -------------------------------------------------------------------------- woocommerce
def woocommerce_runs(sizes: list[int]) -> None:
    for n in sizes:
        for label, every in (("price+stock", 0), ("1 bad item per 1,000", 1000)):
            with WooCommerceDouble() as double:
                simple = n // 2
                parents = (n - simple) // 50
                double.seed_catalog(simple=simple, variable=parents, variations_each=50)
                targets: list[Target] = []
                for product in double.products():
                    if product["variations"]:
                        targets += [(product["id"], v, None, 5) for v in product["variations"]]
                    else:
                        targets.append((product["id"], product["id"], None, 5))
                for vid in _one_per(targets, every):
                    double.reject_item(vid, "Invalid price")
                key, secret = double.credentials
                connector = WooCommerceConnector(
                    double.site_url, key, secret, allow_http=True, allow_private=True
                )
                caps = connector.capabilities
                plan = list(build_plan(outcomes(targets, ("price", "stock")), caps))
                double.reset_log()
                ok, failed, secs = apply_plan([connector], plan)
                report(
                    "woocommerce",
                    f"{n:>7,} variants, {label}",
                    sum(double.request_counts().values()),
                    minimum_requests(plan, caps),
                    f"  ({ok} ok, {failed} refused, {secs:.1f} s)",
                )


RUNS: dict[str, Callable[[list[int]], None]] = {
    "bigcommerce": bigcommerce_runs,
    "shopify": shopify_runs,
    "woocommerce": woocommerce_runs,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--only", choices=sorted(RUNS), action="append")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("connector benchmark: requests sent / minimum (ceil(items / max batch) per operation)")
    for name in args.only or list(RUNS):
        started = time.perf_counter()
        RUNS[name](sizes)
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
