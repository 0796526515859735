"""Benchmark create mode on Shopify and WooCommerce: requests to create 10,000 items.

    .venv/bin/python bench/bench_create_platforms.py [--items 10000] [--only shopify]

Per platform, at its double: ``items`` new items, half of them single products and half
variants of groups of 5 (so 10,000 items are 5,000 single products and 1,000 groups: 6,000
products), sent as the update step sends a create plan: batches of the ``create``
operation's ``max_batch`` plan items (one per product), each through ``connector.apply``.
Printed: requests counted at the double / minimum, and whether every item was made. The
minimum per platform:

* Shopify: one document per ``create`` batch (``ceil(products / 10)``: a document carries 10
  aliased ``productSet`` mutations, 10 points each), plus the one look-up of the shop's
  primary location every connector makes before it writes stock;
* WooCommerce: one ``POST /products/batch`` per 100 products, plus one
  ``POST /products/{id}/variations/batch`` per 100 variations of each group (the endpoint
  takes one product's variations: a group costs a request of its own whatever its size).

Target: requests / minimum <= 1.05. Shopify's bucket is made fast (the bench counts
requests, not refill time). Exit status 1 on FAIL.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))
sys.path.insert(0, str(ROOT / "local"))

from feedsync.domain.capabilities import CREATE_OP  # noqa: E402
from feedsync.domain.create import NewProduct, NewVariant  # noqa: E402
from feedsync.domain.writes import PlanItem  # noqa: E402
from feedsync.platforms.shopify.connector import ShopifyConnector  # noqa: E402
from feedsync.platforms.woocommerce.connector import WooCommerceConnector  # noqa: E402
from feedsync_local.shopify_double import ShopifyDouble  # noqa: E402
from feedsync_local.woo_double import WooCommerceDouble  # noqa: E402

GROUP_SIZE = 5
TARGET = 1.05
SIZES = ("S", "M", "L", "XL", "XXL")


def create_items(count: int) -> list[PlanItem]:
    """``count`` new items: half single products, half groups of ``GROUP_SIZE`` sizes."""
    singles = count // 2
    groups = (count - singles) // GROUP_SIZE
    items: list[PlanItem] = []
    row = 1
    for i in range(singles):
        variant: NewVariant = {
            "row": row,
            "key": f"NEW-{i}",
            "options": {},
            "fields": {"price": 1000 + i % 500, "stock": 5},
        }
        new: NewProduct = {
            "group": None,
            "fields": {"name": f"New item {i}", "brand": "Acme"},
            "option_names": [],
            "variants": [variant],
            "visible": False,
            "category": None,
        }
        items.append(
            PlanItem(row, variant["key"], 0, 0, {}, rows=[row], product_level=True, new=new)
        )
        row += 1
    for g in range(groups):
        variants: list[NewVariant] = [
            {
                "row": row + j,
                "key": f"G{g}-{size}",
                "options": {"Size": size},
                "fields": {"price": 2000 + j, "stock": 3},
            }
            for j, size in enumerate(SIZES[:GROUP_SIZE])
        ]
        group: NewProduct = {
            "group": f"G{g}",
            "fields": {"name": f"New group {g}", "description": "<p>New</p>"},
            "option_names": ["Size"],
            "variants": variants,
            "visible": False,
            "category": None,
        }
        rows = [v["row"] for v in variants]
        items.append(PlanItem(row, f"G{g}", 0, 0, {}, rows=rows, product_level=True, new=group))
        row += GROUP_SIZE
    return items


def apply_all(connector: Any, items: list[PlanItem]) -> tuple[int, int]:
    """Send the items in ``create`` batches; (variants made, items failed)."""
    size = connector.capabilities.op(CREATE_OP).max_batch
    made = failed = 0
    for start in range(0, len(items), size):
        for result in connector.apply(CREATE_OP, items[start : start + size], batch_key=str(start)):
            if result.ok and result.created is not None:
                made += len(result.created.variants)
            else:
                failed += 1
    return made, failed


def report(
    platform: str, count: int, sent: int, minimum: int, made: int, failed: int, secs: float
) -> bool:
    ratio = sent / minimum
    verdict = "ok" if ratio <= TARGET and failed == 0 and made == count else "FAIL"
    print(
        f"  {platform:<11} create {count:>6,} items   requests {sent:>6} / minimum {minimum:>6} "
        f"= {ratio:.3f}  ({made:,} variants made, {failed} failed, {secs:.1f} s) {verdict}"
    )
    return verdict == "ok"


def shopify_run(count: int) -> bool:
    items = create_items(count)
    with ShopifyDouble(restore_rate=1_000_000.0, maximum_available=1_000_000.0) as double:
        connector = ShopifyConnector(double.shop_url, double.access_token, allow_private=True)
        double.reset_log()
        started = time.perf_counter()
        made, failed = apply_all(connector, items)
        secs = time.perf_counter() - started
        sent = double.stats()["graphql_requests"]
        batch = connector.capabilities.op(CREATE_OP).max_batch
        minimum = math.ceil(len(items) / batch) + 1  # + the primary location, looked up once
        return report("shopify", count, sent, minimum, made, failed, secs)


def woocommerce_run(count: int) -> bool:
    items = create_items(count)
    with WooCommerceDouble() as double:
        key, secret = double.credentials
        connector = WooCommerceConnector(
            double.site_url, key, secret, allow_http=True, allow_private=True
        )
        started = time.perf_counter()
        made, failed = apply_all(connector, items)
        secs = time.perf_counter() - started
        sent = len(double.requests_log())
        batch = connector.capabilities.op(CREATE_OP).max_batch
        groups = [i for i in items if i.new is not None and i.new["group"] is not None]
        minimum = math.ceil(len(items) / batch) + sum(
            math.ceil(len(g.new["variants"]) / 100) for g in groups if g.new is not None
        )
        return report("woocommerce", count, sent, minimum, made, failed, secs)


RUNS: dict[str, Callable[[int], bool]] = {"shopify": shopify_run, "woocommerce": woocommerce_run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--only", choices=sorted(RUNS), action="append")
    args = parser.parse_args()
    print(f"create mode: requests / minimum to create {args.items:,} items (target <= {TARGET})")
    passed = [RUNS[name](args.items) for name in args.only or list(RUNS)]
    if not all(passed):
        sys.exit(1)


if __name__ == "__main__":
    main()
