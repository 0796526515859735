"""WooCommerceConnector: an item deleted in the shop since the catalog was read is reported
gone, from the batch answer's per-item error code, against a real WooCommerceDouble."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_sleep import FakeSleep

from feedsync.domain.writes import PlanItem
from feedsync.platforms.woocommerce.connector import WooCommerceConnector
from feedsync_local.woo_double import WooCommerceDouble


@pytest.fixture
def double() -> Iterator[WooCommerceDouble]:
    with WooCommerceDouble() as shop:
        yield shop


def _connector(double: WooCommerceDouble) -> WooCommerceConnector:
    key, secret = double.credentials
    return WooCommerceConnector(
        double.site_url, key, secret, sleep=FakeSleep(), allow_http=True, allow_private=True
    )


def _seed(double: WooCommerceDouble) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A variable tee (three sizes) and two simple products (mug, cap)."""
    stock = {"regular_price": "10.00", "manage_stock": True, "stock_quantity": 2}
    tee, mug, cap = double.seed(
        [
            {
                "name": "Tee",
                "type": "variable",
                "variations": [{"sku": f"TEE-{s}", **stock} for s in ("S", "M", "L")],
            },
            {"name": "Mug", "sku": "MUG", **stock},
            {"name": "Cap", "sku": "CAP", **stock},
        ]
    )
    return tee, mug, cap


def _item(pid: int, vid: int, **changes: list[Any]) -> PlanItem:
    return PlanItem(row=1, key=str(vid), product_id=pid, variant_id=vid, changes=changes, rows=[1])


def test_a_deleted_variation_is_gone_and_its_siblings_are_written(
    double: WooCommerceDouble,
) -> None:
    # Given the tee as it was read; the merchant deletes size M
    tee, _, _ = _seed(double)
    sizes = [v["id"] for v in tee["variation_objects"]]
    double.delete(sizes[1])
    items = [_item(tee["id"], vid, price=[1000, 1250]) for vid in sizes]
    # When the tee's variations batch is written
    results = _connector(double).apply("variations_batch", items, batch_key="v")
    # Then size M is gone as a variation (woocommerce_rest_product_variation_invalid_id)
    assert [(r.ok, r.gone) for r in results] == [(True, None), (False, "variant"), (True, None)]
    assert "variation_invalid_id" in results[1].message
    assert double.item(sizes[2])["regular_price"] == "12.50"


def test_a_deleted_product_is_gone_and_the_other_products_are_written(
    double: WooCommerceDouble,
) -> None:
    # Given the mug deleted after the catalog was read
    tee, mug, cap = _seed(double)
    double.delete(mug["id"])
    # When the simple products' prices and the tee's name go in product batches
    connector = _connector(double)
    prices = [_item(p["id"], p["id"], price=[1000, 900]) for p in (mug, cap)]
    price_results = connector.apply("products_batch", prices, batch_key="p")
    double.delete(tee["id"])  # and then the tee too, variations and all
    name = _item(tee["id"], tee["variation_objects"][0]["id"], name=["Tee", "T-shirt"])
    name_results = connector.apply("product_fields", [name], batch_key="n")
    # Then the mug and the tee are gone as products (woocommerce_rest_product_invalid_id)
    assert [(r.ok, r.gone) for r in price_results] == [(False, "product"), (True, None)]
    assert [(r.ok, r.gone) for r in name_results] == [(False, "product")]
    assert double.item(cap["id"])["regular_price"] == "9.00"


def test_the_error_code_decides_never_the_message(double: WooCommerceDouble) -> None:
    # Given the shop refusing one product with "Invalid ID." under another code, and
    # another with the invalid-id code under other words
    _, mug, cap = _seed(double)
    double.reject_item(mug["id"], "Invalid ID.", code="woocommerce_rest_product_not_saved")
    double.reject_item(cap["id"], "Nope", code="woocommerce_rest_product_invalid_id")
    items = [_item(p["id"], p["id"], price=[1000, 900]) for p in (mug, cap)]
    # When written
    results = _connector(double).apply("products_batch", items, batch_key="p")
    # Then only the invalid-id code is taken as gone
    assert [(r.ok, r.gone) for r in results] == [(False, None), (False, "product")]
