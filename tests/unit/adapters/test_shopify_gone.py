"""ShopifyConnector: an item deleted in the shop since the catalog was read is reported gone,
from the schema's userError codes (or a nodes look-up where productUpdate has none),
against a real ShopifyDouble on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_sleep import FakeSleep
from shopify_items import variant_items

from feedsync.domain.writes import PlanItem
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync_local.shopify_double import ShopifyDouble

LOOKUP = "FeedsyncProductsExist"


@pytest.fixture
def double() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as shop:
        yield shop


def _connector(double: ShopifyDouble, **kw: Any) -> ShopifyConnector:
    return ShopifyConnector(
        double.shop_url,
        double.access_token,
        sleep=FakeSleep(real=True),
        bulk_poll_s=0.02,
        **kw,
        allow_private=True,
    )


def _product(title: str, n: int) -> dict[str, Any]:
    return {
        "title": title,
        "variants": [{"sku": f"{title}-{i}", "price": "10.00", "available": 5} for i in range(n)],
    }


def _product_item(product: dict[str, Any], title: str) -> PlanItem:
    return PlanItem(
        row=1,
        key=product["variants"][0]["sku"],
        rows=[1],
        product_level=True,
        product_id=product["id"],
        variant_id=product["variants"][0]["id"],
        changes={"name": [product["title"], title]},
    )


def _lookups(double: ShopifyDouble) -> int:
    return int(double.stats()["by_operation"].get(LOOKUP, 0))


def test_a_deleted_variant_is_gone_by_its_code_and_its_siblings_are_written(
    double: ShopifyDouble,
) -> None:
    # Given a product of three variants; the merchant deletes the second, and the shop
    # refuses the third with a message that reads like a deletion (another code)
    [tee] = double.seed([_product("Tee", 3)])
    items = variant_items(tee, price=[1000, 1200])
    double.delete_variant(items[1].variant_id)
    double.reject_variant(items[2].variant_id, "Product variant does not exist in PIM")
    # When the product's variants are updated
    results = _connector(double).apply("variants_bulk", items, batch_key="b")
    # Then only the deleted one is gone (PRODUCT_VARIANT_DOES_NOT_EXIST), the refused one
    # is an ordinary failure, and the first was written
    assert [(r.ok, r.gone) for r in results] == [(True, None), (False, "variant"), (False, None)]
    assert "PRODUCT_VARIANT_DOES_NOT_EXIST" in results[1].message
    assert double.variant(items[0].variant_id)["price"] == "12.00"


def test_every_variant_of_a_deleted_product_is_gone_with_its_product(
    double: ShopifyDouble,
) -> None:
    # Given a product the merchant deleted after the catalog was read
    [tee] = double.seed([_product("Tee", 2)])
    double.delete_product(tee["id"])
    # When its variants are updated
    items = variant_items(tee, price=[1000, 1200])
    results = _connector(double).apply("variants_bulk", items, batch_key="b")
    # Then both are gone with their product (PRODUCT_DOES_NOT_EXIST)
    assert [(r.ok, r.gone) for r in results] == [(False, "product"), (False, "product")]


def test_stock_of_a_deleted_variant_is_gone_and_the_rest_is_set(double: ShopifyDouble) -> None:
    # Given three variants whose stock we read as 5; the merchant deletes the middle one
    [tee] = double.seed([_product("Tee", 3)])
    items = variant_items(tee, stock=[5, 8])
    double.delete_variant(items[1].variant_id)
    # When their stock is set (the mutation is all-or-nothing: the rest is sent again)
    results = _connector(double).apply("inventory_set", items, batch_key="s")
    # Then its inventory item is gone (INVALID_INVENTORY_ITEM), the others set
    assert [(r.ok, r.gone) for r in results] == [(True, None), (False, "variant"), (True, None)]
    assert double.available(int(items[0].ref)) == double.available(int(items[2].ref)) == 8


def test_a_product_update_of_a_deleted_product_is_looked_up_and_gone(
    double: ShopifyDouble,
) -> None:
    # Given two products: one deleted, one the shop refuses
    gone, refused = double.seed([_product("Gone", 1), _product("Kept", 1)])
    double.delete_product(gone["id"])
    double.reject_product(refused["id"], "Title is reserved")
    connector = _connector(double)
    # When their titles are written (one productUpdate each; its userErrors carry no code)
    [gone_result] = connector.apply("product_update", [_product_item(gone, "G")], batch_key="g")
    [refused_result] = connector.apply(
        "product_update", [_product_item(refused, "K")], batch_key="k"
    )
    # Then the deleted one is gone and the refused one is not: each was looked up once
    assert (gone_result.ok, gone_result.gone) == (False, "product")
    assert (refused_result.ok, refused_result.gone) == (False, None)
    assert "Title is reserved" in refused_result.message
    assert _lookups(double) == 2


def test_no_look_up_when_every_product_update_went_through(double: ShopifyDouble) -> None:
    [one] = double.seed([_product("One", 1)])
    item = _product_item(one, "Uno")
    results = _connector(double).apply("product_update", [item], batch_key="p")
    assert [(r.ok, r.gone) for r in results] == [(True, None)]
    assert _lookups(double) == 0


def test_the_bulk_paths_report_deleted_variants_and_products_from_their_result_lines(
    double: ShopifyDouble,
) -> None:
    # Given two products of two variants: one deleted whole, the other losing a variant
    gone, kept = double.seed([_product("Gone", 2), _product("Kept", 2)])
    double.delete_product(gone["id"])
    kept_items = variant_items(kept, price=[1000, 1500])
    double.delete_variant(kept_items[0].variant_id)
    connector = _connector(double)
    # When their prices go through a bulk mutation (one JSONL line per product)
    results = connector.apply(
        "variants_bulk_operation",
        variant_items(gone, price=[1000, 1500]) + kept_items,
        batch_key="bv",
    )
    # Then each line's userErrors say what is gone
    assert [(r.ok, r.gone) for r in results] == [
        (False, "product"),
        (False, "product"),
        (False, "variant"),
        (True, None),
    ]
    assert double.variant(kept_items[1].variant_id)["price"] == "15.00"
    # And product fields through a bulk mutation: the deleted product is looked up, gone
    product_results = connector.apply(
        "product_update_bulk_operation",
        [_product_item(gone, "G"), _product_item(kept, "K")],
        batch_key="bp",
    )
    assert [(r.ok, r.gone) for r in product_results] == [(False, "product"), (True, None)]
    assert _lookups(double) == 1
