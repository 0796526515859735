"""A sync through the real state machine into Shopify and WooCommerce (their local doubles)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from integration_harness import Harness

from feedsync.core import keys
from feedsync.models import Store
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble


def _store(h: Harness, tenant: str, platform: str, url: str, creds: dict[str, str]) -> Store:
    return h.platform_store(tenant, platform, url, creds)


def _log(h: Harness, tenant: str, run_id: str) -> dict[str, dict[str, str]]:
    run = h.deps.repo.get_run(tenant, run_id)
    assert run is not None and run.log_key == keys.log_key(tenant, run_id)
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def test_a_run_writes_prices_and_stock_to_shopify(h: Harness, shopify: ShopifyDouble) -> None:
    # Given a Shopify shop with one product of three variants, one of which Shopify refuses
    [product] = shopify.seed(
        [
            {
                "title": "Hoodie",
                "variants": [
                    {"sku": "HD-S", "price": "30.00", "available": 3},
                    {"sku": "HD-M", "price": "30.00", "available": 3},
                    {"sku": "HD-L", "price": "30.00", "available": 3},
                ],
            }
        ]
    )
    small, medium, large = product["variants"]
    shopify.reject_variant(large["id"], "Price is too high for this market")
    tenant = h.tenant()
    store = _store(h, tenant, "shopify", shopify.shop_url, {"access_token": shopify.access_token})
    assert store.variant_count == 3
    # (the import remembered the primary location its stock was read at)
    assert store.options.location_id == f"gid://shopify/Location/{shopify.primary_location_id}"
    lookups = shopify.stats()["by_operation"].get("FeedsyncPrimaryLocation", 0)
    feed = "SKU,Price,Qty\nHD-S,32.00,3\nHD-M,30.00,9\nHD-L,99.00,3\nHD-X,1.00,1\n"
    profile = h.profile_for(
        tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)}, name="shopify feed"
    )
    # When the sync runs through the state machine
    run = h.run_to_end(tenant, profile.profile_id)
    # Then the price and the stock reached Shopify, the refused variant is reported
    assert run.status == "succeeded", run.error
    assert run.counts["changed"] == 3 and run.counts["updated"] == 2, run.counts
    assert run.counts["failed"] == 1 and run.counts["not_found"] == 1, run.counts
    assert shopify.variant(small["id"])["price"] == "32.00"
    # and neither the refresh nor the update shards looked the location up again
    assert shopify.stats()["by_operation"].get("FeedsyncPrimaryLocation", 0) == lookups
    assert shopify.available(medium["inventory_item_id"]) == 9
    log = _log(h, tenant, run.run_id)
    assert log["HD-L"]["status"] == "failed" and "too high" in log["HD-L"]["error"]
    assert log["HD-S"]["status"] == "updated" and log["HD-X"]["status"] == "not_found"


def test_sale_price_on_shopify_is_refused_with_what_to_map_instead(
    h: Harness, shopify: ShopifyDouble
) -> None:
    # Given a Shopify store
    shopify.seed([{"title": "Cap", "variants": [{"sku": "CAP", "price": "5.00"}]}])
    tenant = h.tenant()
    store = _store(h, tenant, "shopify", shopify.shop_url, {"access_token": shopify.access_token})
    # When a profile asks to write a sale price, Then it is refused with the mapping to use
    with pytest.raises(Exception) as err:
        h.profile_for(
            tenant,
            store.store_id,
            {"type": "url", "url": h.feed_url("SKU,Sale\nCAP,4.00\n")},
            mapping={"sku": "SKU", "sale_price": "Sale"},
            fields=["sale_price"],
        )
    assert "compareAtPrice" in str(err.value)


def test_a_run_writes_simple_products_and_variations_to_woocommerce(
    h: Harness, woo: WooCommerceDouble
) -> None:
    # Given a WooCommerce shop with a simple product and a variable one with two variations
    simple, variable = woo.seed(
        [
            {"name": "Poster", "sku": "PST", "regular_price": "10.00", "manage_stock": True,
             "stock_quantity": 2},
            {"name": "Tee", "type": "variable", "variations": [
                {"sku": "TEE-S", "regular_price": "15.00", "manage_stock": True,
                 "stock_quantity": 1},
                {"sku": "TEE-M", "regular_price": "15.00", "manage_stock": True,
                 "stock_quantity": 1},
            ]},
        ]
    )  # fmt: skip
    tee_s, tee_m = variable["variation_objects"]
    woo.reject_item(tee_m["id"], "Invalid stock quantity")
    tenant = h.tenant()
    key, secret = woo.credentials
    store = _store(
        h, tenant, "woocommerce", woo.site_url, {"consumer_key": key, "consumer_secret": secret}
    )
    assert store.variant_count == 3
    feed = "SKU,Price,Qty\nPST,11.50,2\nTEE-S,15.00,8\nTEE-M,15.00,4\n"
    profile = h.profile_for(
        tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)}, name="woo feed"
    )
    # When the sync runs
    run = h.run_to_end(tenant, profile.profile_id)
    # Then one products/batch and one variations/batch request carried the changes
    assert run.status == "succeeded", run.error
    assert run.counts["updated"] == 2 and run.counts["failed"] == 1, run.counts
    assert woo.item(simple["id"])["regular_price"] == "11.50"
    assert woo.item(tee_s["id"])["stock_quantity"] == 8
    counts: dict[Any, int] = woo.request_counts()
    assert counts[("POST", "/products/batch")] == 1
    assert counts[("POST", "/products/{id}/variations/batch")] == 1
    assert "Invalid stock quantity" in _log(h, tenant, run.run_id)["TEE-M"]["error"]
