"""Benchmark create mode: requests per minimum for creating new items at each double.

    .venv/bin/python bench/bench_create.py [--items 10000] [--only bigcommerce]

Per platform, at its double (a fresh store, its quota lifted: requests are counted, not
waited for): a file of ``--items`` new variants, half single items and half groups of 5
(sizes S to XL), gathered as the match step does (``domain/create.gather_creations``),
planned in the platform's create batches (``domain/plan.creation_shards``) and sent batch
by batch as the update step does (``core/creating.send``). Printed: requests counted at
the double / minimum (``ceil(products / the create operation's max batch)``: the
platform's largest create request; Shopify: + the one look-up of its primary location;
WooCommerce: + one ``variations/batch`` per 100 variations of each group, which that
endpoint takes per product), products and variants created, wall time. Target:
at most 1.05 per platform. Exit status 1 on FAIL.

A platform is one entry of ``PLATFORMS``: a context manager yielding its connector and a
function counting the requests its double received.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT / "local"))

from feedsync.core import creating  # noqa: E402
from feedsync.core.ports import StoreConnector  # noqa: E402
from feedsync.domain.capabilities import CREATE_OP  # noqa: E402
from feedsync.domain.create import CreateSettings, gather_creations, row_of  # noqa: E402
from feedsync.domain.plan import creation_shards  # noqa: E402
from feedsync.domain.writes import PlanItem  # noqa: E402
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector  # noqa: E402
from feedsync.platforms.shopify.connector import ShopifyConnector  # noqa: E402
from feedsync.platforms.woocommerce.connector import WooCommerceConnector  # noqa: E402
from feedsync_local.bigcommerce_double import SandboxStore  # noqa: E402
from feedsync_local.shopify_double import ShopifyDouble  # noqa: E402
from feedsync_local.woo_double import WooCommerceDouble  # noqa: E402

TARGET = 1.05
SIZES = ("S", "M", "L", "XL", "XXL")


@contextmanager
def bigcommerce() -> Iterator[tuple[StoreConnector, Callable[[], int]]]:
    with SandboxStore() as sandbox:
        store_hash, token = sandbox.create_store()
        sandbox.set_quota(10**9, 30.0)  # counting requests, not waiting
        connector = BigCommerceConnector(sandbox.api_url(store_hash), token, allow_private=True)
        yield connector, lambda: sum(sandbox.request_counts.values())


@contextmanager
def shopify() -> Iterator[tuple[StoreConnector, Callable[[], int]]]:
    with ShopifyDouble(restore_rate=10.0**9, maximum_available=10.0**9) as double:
        connector = ShopifyConnector(double.shop_url, double.access_token, allow_private=True)
        yield connector, lambda: int(double.stats()["graphql_requests"])


@contextmanager
def woocommerce() -> Iterator[tuple[StoreConnector, Callable[[], int]]]:
    with WooCommerceDouble() as double:
        key, secret = double.credentials
        connector = WooCommerceConnector(
            double.site_url, key, secret, allow_http=True, allow_private=True
        )
        yield connector, lambda: len(double.requests_log())


PLATFORMS: dict[str, Callable[[], Any]] = {
    "bigcommerce": bigcommerce,
    "shopify": shopify,
    "woocommerce": woocommerce,
}


def _variation_batches(planned: list[PlanItem]) -> int:
    """WooCommerce: a group's variations go to its own ``variations/batch`` (100 a request)."""
    return sum(
        math.ceil(len(item.new["variants"]) / 100)
        for item in planned
        if item.new is not None and item.new["group"] is not None
    )


# Requests a platform needs besides one per create batch: Shopify looks its primary location
# up once (stock is set at it); WooCommerce sends each group's variations apart.
FLOOR_EXTRA: dict[str, Callable[[list[PlanItem]], int]] = {
    "shopify": lambda planned: 1,
    "woocommerce": _variation_batches,
}


def new_rows(items: int) -> list[tuple[Any, ...]]:
    """``items`` new variants: half single items, half in groups of five sizes."""
    rows: list[tuple[Any, ...]] = []
    singles = items // 2
    for i in range(singles):
        values = {"sku": f"S-{i:06}", "name": f"Single {i}", "price": 1000 + i % 500, "stock": 3}
        rows.append(row_of(i + 2, values))
    for n in range(items - singles):
        group, size = divmod(n, len(SIZES))
        values = {"sku": f"G-{group:05}-{SIZES[size]}", "name": f"Group {group}", "price": 1500,
                  "stock": size}  # fmt: skip
        rows.append(row_of(singles + n + 2, values, group=f"G-{group:05}", options=(SIZES[size],)))
    return rows


def bench(name: str, items: int) -> float:
    label = name.capitalize()
    with PLATFORMS[name]() as (connector, requests):
        caps = connector.capabilities
        creation = caps.check_create()
        settings = CreateSettings({"Size": "Size"}, "Parent", creation.max_variants, label)
        planned, skipped = gather_creations(new_rows(items), settings)
        assert not skipped, skipped[:3]
        shards = list(creation_shards(planned, caps))
        before = requests()
        started = time.perf_counter()
        made = variants = 0
        for s, shard in enumerate(shards):
            for b, batch in enumerate(shard):
                answers = creating.send(connector, batch["items"], f"bench-{s}-{b}", False)
                for answer in answers:
                    created = answer.created
                    assert answer.ok and created is not None, answer
                    made += 1
                    variants += len(created.variants)
        elapsed = time.perf_counter() - started
        sent = requests() - before
    minimum = math.ceil(len(planned) / caps.op(CREATE_OP).max_batch)
    minimum += FLOOR_EXTRA.get(name, lambda planned: 0)(planned)
    ratio = sent / minimum
    verdict = "ok" if ratio <= TARGET else "FAIL"
    print(
        f"{name:12} create {variants:,} variants ({made:,} products): {sent:,} requests / "
        f"minimum {minimum:,} = {ratio:.3f} (target <= {TARGET}) {verdict}; {elapsed:.1f} s"
    )
    assert variants == items, (variants, items)
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--only", choices=sorted(PLATFORMS))
    args = parser.parse_args()
    names = [args.only] if args.only else list(PLATFORMS)
    ratios = [bench(name, args.items) for name in names]
    return 0 if all(r <= TARGET for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
