"""A BigCommerce sandbox store seeded with simple products, their price changes as plan
items, and a connector on it that counts waits without making them."""

from __future__ import annotations

from typing import Any

from fake_sleep import FakeSleep

from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore


def seeded(sandbox: SandboxStore, store_hash: str, n: int) -> list[dict[str, Any]]:
    sandbox.set_quota(1_000_000, 30.0)  # counting requests, not waiting
    sandbox.seed(
        store_hash,
        [
            {"name": f"P{i}", "type": "physical", "weight": 1, "price": 10.0, "sku": f"P-{i}"}
            for i in range(n)
        ],
    )
    return sandbox.variants(store_hash)


def price_plan(variants: list[dict[str, Any]], cents: int) -> list[PlanItem]:
    return [
        PlanItem(i + 1, v["sku"], v["product_id"], v["id"], {"price": [1000, cents]})
        for i, v in enumerate(variants)
    ]


def counting_connector(sandbox: SandboxStore, store: tuple[str, str]) -> BigCommerceConnector:
    return BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=FakeSleep(), allow_private=True
    )
