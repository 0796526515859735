"""An item the merchant deleted in the store after the catalog was read, through the real state
machine into each platform (the sandbox store, the Shopify and WooCommerce doubles).

The catalog is refreshed before each run with the products modified since the last import,
and a deletion is never among them. Run 1 writes to the deleted item, the store says it
does not exist: the row is reported "gone" once (counted apart from failures) and the index
forgets the item. Run 2 finds the row "not_found" and sends nothing for it.

Every product is seeded as last modified long ago, and nothing in the deleted item's
product is written, so no refresh re-reads that product: only the index's own bookkeeping
can make run 2 see the row as not found.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from integration_harness import Harness

from feedsync.core import keys
from feedsync.core.catalog_store import load_catalog
from feedsync.domain.fields import VARIANT_ID
from feedsync.domain.runlog import GONE_MESSAGE
from feedsync.models import Run, Store
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
PLATFORMS = ("bigcommerce", "shopify", "woocommerce")
SHOPIFY_WRITES = (
    "FeedsyncVariantsBulkUpdate",
    "FeedsyncProductUpdate",
    "FeedsyncInventorySet",
    "FeedsyncBulkRun",
)


@dataclass
class Shop:
    """A store holding a tee in sizes S and M (one product) and a mug (a simple product),
    imported into feedsync; ``ids``: sku -> (product id, variant id)."""

    tenant: str
    store: Store
    ids: dict[str, tuple[int, int]]
    delete_variant: Callable[[str], None]
    delete_product: Callable[[str], None]
    writes: Callable[[], int]  # write requests the store has received so far
    price: Callable[[str], int]  # a variant's price in the store, in cents


def _bigcommerce(h: Harness) -> Shop:
    sandbox = h.sandbox
    store_hash, token = sandbox.create_store()
    seeded = sandbox.seed(
        store_hash,
        [
            {
                "name": "Tee",
                "type": "physical",
                "weight": 1,
                "price": 10,
                "variants": [
                    {"sku": "TEE-S", "price": 10, "inventory_level": 2},
                    {"sku": "TEE-M", "price": 10, "inventory_level": 2},
                ],
            },
            {"name": "Mug", "type": "physical", "weight": 1, "price": 5, "sku": "MUG",
             "inventory_level": 4},
        ],
    )  # fmt: skip
    for product in seeded:
        sandbox.set_modified(store_hash, product["id"], LONG_AGO)
    ids = {v["sku"]: (p["id"], v["id"]) for p in seeded for v in p["variants"]}
    tenant = h.tenant()
    store = h.platform_store(
        tenant, "bigcommerce", sandbox.api_url(store_hash), {"access_token": token}
    )
    prefix = f"/stores/{store_hash}/"

    def price(sku: str) -> int:
        [found] = [v for v in sandbox.variants(store_hash) if v["sku"] == sku]
        return round(found["price"] * 100)

    return Shop(
        tenant,
        store,
        ids,
        delete_variant=lambda sku: sandbox.delete_variant(store_hash, ids[sku][1]),
        delete_product=lambda sku: sandbox.delete_product(store_hash, ids[sku][0]),
        writes=lambda: sum(
            1 for m, t, _ in sandbox.requests_log if m != "GET" and t.startswith(prefix)
        ),
        price=price,
    )


def _shopify(h: Harness, double: ShopifyDouble) -> Shop:
    old = LONG_AGO.strftime("%Y-%m-%dT%H:%M:%SZ")
    seeded = double.seed(
        [
            {"title": "Tee", "updated_at": old, "variants": [
                {"sku": "TEE-S", "price": "10.00", "available": 2},
                {"sku": "TEE-M", "price": "10.00", "available": 2},
            ]},
            {"title": "Mug", "updated_at": old, "variants": [
                {"sku": "MUG", "price": "5.00", "available": 4},
            ]},
        ]
    )  # fmt: skip
    ids = {v["sku"]: (p["id"], v["id"]) for p in seeded for v in p["variants"]}
    tenant = h.tenant()
    creds = {"access_token": double.access_token}
    store = h.platform_store(tenant, "shopify", double.shop_url, creds)

    def writes() -> int:
        by_operation = double.stats()["by_operation"]
        return sum(by_operation.get(name, 0) for name in SHOPIFY_WRITES)

    return Shop(
        tenant,
        store,
        ids,
        delete_variant=lambda sku: double.delete_variant(ids[sku][1]),
        delete_product=lambda sku: double.delete_product(ids[sku][0]),
        writes=writes,
        price=lambda sku: round(float(double.variant(ids[sku][1])["price"]) * 100),
    )


def _woocommerce(h: Harness, double: WooCommerceDouble) -> Shop:
    old = LONG_AGO.strftime("%Y-%m-%dT%H:%M:%S")
    stock: dict[str, Any] = {"manage_stock": True, "stock_quantity": 2, "date_modified_gmt": old}
    tee, mug = double.seed(
        [
            {"name": "Tee", "type": "variable", "date_modified_gmt": old, "variations": [
                {"sku": "TEE-S", "regular_price": "10.00", **stock},
                {"sku": "TEE-M", "regular_price": "10.00", **stock},
            ]},
            {"name": "Mug", "sku": "MUG", "regular_price": "5.00", **stock, "stock_quantity": 4},
        ]
    )  # fmt: skip
    ids = {v["sku"]: (tee["id"], v["id"]) for v in tee["variation_objects"]}
    ids["MUG"] = (mug["id"], mug["id"])
    tenant = h.tenant()
    key, secret = double.credentials
    creds = {"consumer_key": key, "consumer_secret": secret}
    store = h.platform_store(tenant, "woocommerce", double.site_url, creds)

    def writes() -> int:
        return sum(n for (method, _), n in double.request_counts().items() if method != "GET")

    return Shop(
        tenant,
        store,
        ids,
        delete_variant=lambda sku: double.delete(ids[sku][1]),
        delete_product=lambda sku: double.delete(ids[sku][0]),
        writes=writes,
        price=lambda sku: round(float(double.item(ids[sku][1])["regular_price"]) * 100),
    )


@pytest.fixture
def make_shop(h: Harness, request: pytest.FixtureRequest) -> Callable[[str], Shop]:
    def make(platform: str) -> Shop:
        if platform == "bigcommerce":
            return _bigcommerce(h)
        if platform == "shopify":
            return _shopify(h, request.getfixturevalue("shopify"))
        return _woocommerce(h, request.getfixturevalue("woo"))

    return make


def _log(h: Harness, run: Run) -> dict[str, dict[str, str]]:
    assert run.log_key == keys.log_key(run.tenant_id, run.run_id)
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def _indexed(h: Harness, shop: Shop) -> set[int]:
    """Variant ids the stored catalog index holds now."""
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None
    return {v[VARIANT_ID] for v in load_catalog(h.deps, store).variants}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_variant_deleted_after_the_import_is_reported_gone_once_then_not_found(
    h: Harness, make_shop: Callable[[str], Shop], platform: str
) -> None:
    # Given a store whose catalog was imported, and a feed changing the tee's size S (price
    # and stock) and the mug's price, the tee's size M as it is
    shop = make_shop(platform)
    feed = "SKU,Price,Qty\nTEE-S,12.00,7\nTEE-M,10.00,2\nMUG,6.00,4\n"
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(feed)}
    )
    # And the merchant deletes the tee's size S in the store afterwards
    shop.delete_variant("TEE-S")
    gone_vid = shop.ids["TEE-S"][1]
    assert gone_vid in _indexed(h, shop)

    # When the sync runs
    first = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the size S is reported gone (not failed), the mug written, the size M unchanged
    assert first.status == "succeeded", first.error
    counts = first.counts
    assert (counts["changed"], counts["unchanged"], counts["not_found"]) == (2, 1, 0), counts
    assert (counts["updated"], counts["gone"], counts["failed"]) == (1, 1, 0), counts
    log = _log(h, first)
    assert log["TEE-S"]["status"] == "gone" and log["TEE-S"]["error"] == GONE_MESSAGE
    assert log["MUG"]["status"] == "updated" and log["TEE-M"]["status"] == "unchanged"
    assert shop.price("MUG") == 600
    # And the index forgot the size S alone
    assert _indexed(h, shop) == {shop.ids["TEE-M"][1], shop.ids["MUG"][1]}
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None and store.variant_count == 2

    # When the same feed runs again
    writes = shop.writes()
    second = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the size S is simply not found, and nothing is sent to the store
    assert second.status == "succeeded", second.error
    assert _log(h, second)["TEE-S"]["status"] == "not_found"
    counts = second.counts
    assert (counts["not_found"], counts["gone"], counts["failed"]) == (1, 0, 0), counts
    assert shop.writes() == writes


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_product_deleted_after_the_import_is_reported_gone_for_each_row_then_not_found(
    h: Harness, make_shop: Callable[[str], Shop], platform: str
) -> None:
    # Given a store whose catalog was imported, and a feed renaming the tee and changing
    # both its sizes (variant and product writes), and the mug's price
    shop = make_shop(platform)
    feed = "SKU,Price,Qty,Name\nTEE-S,12.00,7,Tee shirt\nTEE-M,12.00,7,Tee shirt\nMUG,6.00,4,Mug\n"
    profile = h.profile_for(
        shop.tenant,
        shop.store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping={"sku": "SKU", "price": "Price", "stock": "Qty", "name": "Name"},
        fields=["price", "stock", "name"],
    )
    # And the merchant deletes the whole tee in the store afterwards
    shop.delete_product("TEE-S")

    # When the sync runs
    first = h.run_to_end(shop.tenant, profile.profile_id)

    # Then both sizes are reported gone, and the mug is written
    assert first.status == "succeeded", first.error
    counts = first.counts
    assert (counts["changed"], counts["updated"], counts["gone"]) == (3, 1, 2), counts
    assert counts["failed"] == 0, counts
    log = _log(h, first)
    assert [log[sku]["status"] for sku in ("TEE-S", "TEE-M", "MUG")] == [
        "gone",
        "gone",
        "updated",
    ]
    assert log["TEE-M"]["error"] == GONE_MESSAGE
    assert shop.price("MUG") == 600
    # And the index forgot every variant of the tee
    assert _indexed(h, shop) == {shop.ids["MUG"][1]}

    # When the same feed runs again
    writes = shop.writes()
    second = h.run_to_end(shop.tenant, profile.profile_id)

    # Then both sizes are not found, and nothing is sent to the store
    assert second.status == "succeeded", second.error
    log = _log(h, second)
    assert [log[sku]["status"] for sku in ("TEE-S", "TEE-M", "MUG")] == [
        "not_found",
        "not_found",
        "unchanged",
    ]
    assert (second.counts["gone"], second.counts["failed"]) == (0, 0), second.counts
    assert shop.writes() == writes
