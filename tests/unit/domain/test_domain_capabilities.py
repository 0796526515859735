"""Platform capabilities: which operation writes which field, and the merchant's errors."""

from __future__ import annotations

import pytest

from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce
from feedsync.platforms.registry import capabilities_for
from feedsync.platforms.shopify.spec import capabilities as shopify
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce


def test_bigcommerce_routes_prices_to_variants_and_name_to_products() -> None:
    routed = bigcommerce().route(1, 2, {"price": [1, 2], "name": ["a", "b"]})
    assert [(op.name, changes) for op, changes in routed] == [
        ("variants", {"price": [1, 2]}),
        ("products", {"name": ["a", "b"]}),
    ]


def test_bigcommerce_adjustments_move_stock_to_the_inventory_operation() -> None:
    routed = bigcommerce("adjustments").route(1, 2, {"stock": [1, 5], "price": [1, 2]})
    assert [op.name for op, _ in routed] == ["variants", "inventory"]
    assert routed[1][1] == {"stock": [1, 5]}


def test_shopify_explains_why_there_is_no_sale_price() -> None:
    # When a profile asks Shopify for a sale price
    with pytest.raises(ValueError) as err:
        shopify().check_fields(["price", "sale_price"])
    # Then the message says what to map instead and lists what can be written
    assert "compareAtPrice" in str(err.value) and "writable fields: price" in str(err.value)


def test_woocommerce_refuses_cost_price_and_writes_name() -> None:
    caps = woocommerce()
    assert "name" in caps.writable_fields and "cost_price" not in caps.writable_fields
    with pytest.raises(ValueError, match="cost price"):
        caps.check_fields(["cost_price"])


def test_unknown_platform() -> None:
    with pytest.raises(ValueError, match="unsupported platform"):
        capabilities_for("magento")
    assert capabilities_for("bigcommerce", {"inventory": "adjustments"}).op("inventory").serial
