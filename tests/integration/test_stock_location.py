"""Stock written at another location than the one the catalog index reads."""

from __future__ import annotations

from integration_harness import Harness

from feedsync.core.catalog_store import load_catalog
from feedsync.domain.fields import VARIANT_POS
from feedsync.models import Store
from feedsync_local.shopify_double import ShopifyDouble


def _store(h: Harness, tenant: str, shopify: ShopifyDouble) -> Store:
    creds = {"access_token": shopify.access_token}
    return h.platform_store(tenant, "shopify", shopify.shop_url, creds)


def test_stock_for_another_location_is_written_not_compared(
    h: Harness, shopify: ShopifyDouble
) -> None:
    # Given a shop whose index reads stock at the primary location (3 each), a warehouse
    # holding 0, and a profile writing stock to the warehouse
    [product] = shopify.seed(
        [{"title": "Tee", "variants": [{"sku": "T-1", "price": "9.00", "available": 3}]}]
    )
    [variant] = product["variants"]
    warehouse = shopify.add_location("Warehouse")
    tenant = h.tenant()
    store = _store(h, tenant, shopify)
    feed = "SKU,Qty\nT-1,7\n"
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping={"sku": "SKU", "stock": "Qty"},
        fields=["stock"],
        location_id=str(warehouse),
    )

    # When a partial sync runs twice
    first = h.run_to_end(tenant, profile.profile_id)
    second = h.run_to_end(tenant, profile.profile_id)

    # Then the warehouse got the feed's 7 on the first run and again on the second: the
    # index cannot know the warehouse's stock, so stock is written, never compared
    assert first.status == "succeeded", first.error
    assert first.counts["changed"] == 1 and first.counts["updated"] == 1, first.counts
    assert shopify.available(variant["inventory_item_id"], warehouse) == 7
    assert second.counts["changed"] == 1 and second.counts["updated"] == 1, second.counts
    # And the index still holds the primary location's 3, untouched by those writes
    assert shopify.available(variant["inventory_item_id"]) == 3
    index = load_catalog(h.deps, h.deps.repo.get_store(tenant, store.store_id))
    assert index.by_sku["T-1"][VARIANT_POS["stock"]] == 3


def test_stock_for_the_indexed_location_named_by_number_is_compared(
    h: Harness, shopify: ShopifyDouble
) -> None:
    # Given a profile naming the store's own location by number (the store keeps its GID)
    shopify.seed([{"title": "Cap", "variants": [{"sku": "C-1", "price": "5.00", "available": 4}]}])
    tenant = h.tenant()
    store = _store(h, tenant, shopify)
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url("SKU,Qty\nC-1,4\n")},
        mapping={"sku": "SKU", "stock": "Qty"},
        fields=["stock"],
        location_id=str(shopify.primary_location_id),
    )
    # When a partial sync runs
    run = h.run_to_end(tenant, profile.profile_id)
    # Then the same stock is recognised as unchanged
    assert run.status == "succeeded", run.error
    assert run.counts["unchanged"] == 1 and run.counts["changed"] == 0, run.counts


def test_items_created_for_a_profile_with_a_location_are_stocked_there(
    h: Harness, shopify: ShopifyDouble
) -> None:
    # Given a shop with a warehouse, and a create profile that writes stock there
    shopify.seed(
        [{"title": "Old", "variants": [{"sku": "OLD-1", "price": "9.00", "available": 1}]}]
    )
    warehouse = shopify.add_location("Warehouse")
    tenant = h.tenant()
    store = _store(h, tenant, shopify)
    feed = "SKU,Name,Price,Qty\nNEW-1,New mug,12.50,7\n"
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping={"sku": "SKU", "name": "Name", "price": "Price", "stock": "Qty"},
        fields=["price", "stock"],
        location_id=str(warehouse),
        create={"enabled": True},
    )

    # When the run creates the new item
    run = h.run_to_end(tenant, profile.profile_id)

    # Then its stock of 7 is at the warehouse, not at the shop's primary location
    assert run.status == "succeeded", run.error
    assert run.counts["created"] == 1, run.counts
    variants = [
        shopify.variant(v) for p in shopify.product_ids() for v in shopify.product(p)["variant_ids"]
    ]
    [created] = [v for v in variants if v["sku"] == "NEW-1"]
    assert shopify.available(created["inventory_item_id"], warehouse) == 7
    assert created["available"] in (None, 0)
