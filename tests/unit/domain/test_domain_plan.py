"""build_plan: changed outcomes -> shards of per-operation batches, by the platform's limits."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from feedsync.domain.fields import PRODUCT_FIELDS
from feedsync.domain.plan import Shard, build_plan, shard_from_json, shard_to_json
from feedsync.domain.reconcile import Outcome
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce
from feedsync.platforms.shopify.spec import capabilities as shopify
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce


def plan(*args: Any, **kwargs: Any) -> list[Shard]:
    return list(build_plan(*args, **kwargs))


def changed(n: int, *, per_product: int = 1, fields: tuple[str, ...] = ("price",)) -> list[Outcome]:
    out: list[Outcome] = []
    for i in range(n):
        pid = 1000 + i // per_product
        changes = tuple((f, 100, 200 + i) for f in fields)
        out.append((i + 2, f"SKU{i}", "changed", pid, 5000 + i, changes, ""))
    return out


def ops_and_sizes(shards: list[Shard]) -> list[list[tuple[str, int]]]:
    return [[(b["op"], len(b["items"])) for b in s] for s in shards]


def test_batches_fill_the_operation_limit_and_shards_hold_n_batches() -> None:
    # Given 120 price changes for BigCommerce (variant batches of 50)
    # When planned with 2 batches per shard
    shards = plan(changed(120), bigcommerce(), batches_per_shard=2)
    # Then the requests are ceil(120/50) and every shard but the last is full
    assert ops_and_sizes(shards) == [[("variants", 50), ("variants", 50)], [("variants", 20)]]


def test_product_level_fields_go_to_the_product_batch_once_per_product() -> None:
    # Given 30 variants of 3 products whose name and price changed
    outs = changed(30, per_product=10, fields=("price", "name"))
    outs = [(r, k, s, p, v, tuple(("name", None, "N") if c[0] == "name" else c for c in ch), m)
            for r, k, s, p, v, ch, m in outs]  # fmt: skip
    # When planned for BigCommerce
    shards = plan(outs, bigcommerce())
    # Then prices go in one variant batch and the name once per product (3 items, 1 request)
    assert ops_and_sizes(shards) == [[("variants", 30), ("products", 3)]]
    product_items = shards[0][1]["items"]
    assert product_items[0].result_rows == list(range(2, 12))


def test_a_second_row_with_another_product_value_is_a_conflict_not_a_write() -> None:
    # Given two variants of one product asking for different names
    outs: list[Outcome] = [
        (2, "A", "changed", 7, 70, (("name", "old", "First"),), ""),
        (3, "B", "changed", 7, 71, (("name", "old", "Second"),), ""),
    ]
    # When planned
    [[batch]] = plan(outs, bigcommerce())
    # Then one product item carries the first value and names the conflicting row
    [item] = batch["items"]
    assert item.changes == {"name": ["old", "First"]} and item.conflicts == [3]


def test_inventory_adjustments_are_serial_and_share_one_shard() -> None:
    # Given stock changes for a store writing stock by inventory adjustments (2,000, serial)
    shards = plan(changed(4500, fields=("price", "stock")), bigcommerce("adjustments"),
                        batches_per_shard=40)  # fmt: skip
    # Then all inventory batches sit in the last shard, one after another
    assert [op for op, _ in ops_and_sizes(shards)[-1]] == ["inventory"] * 3
    assert all(op == "variants" for s in shards[:-1] for op, _ in ops_and_sizes([s])[0])
    assert sum(n for s in shards for op, n in ops_and_sizes([s])[0] if op == "variants") == 4500


def test_per_product_operations_never_mix_products() -> None:
    # Given 3 products x 4 variants for Shopify (productVariantsBulkUpdate is per product)
    shards = plan(changed(12, per_product=4, fields=("price", "stock")), shopify())
    sizes = ops_and_sizes(shards)[0]
    # Then 3 variant requests (one per product) and one inventory request of 12
    assert sizes == [("variants_bulk", 4)] * 3 + [("inventory_set", 12)]
    for batch in shards[0][:3]:
        assert len({i.product_id for i in batch["items"]}) == 1


def test_above_the_bulk_threshold_shopify_variants_take_the_bulk_operation() -> None:
    # Given more variant changes than Shopify's bulk threshold
    shards = plan(changed(5001), shopify())
    # Then they go to one serial bulk operation
    assert ops_and_sizes(shards) == [[("variants_bulk_operation", 5001)]]


def test_woocommerce_routes_simple_products_and_variations_apart() -> None:
    # Given a simple product (id == variant id) and two variations of product 9
    outs: list[Outcome] = [
        (2, "S", "changed", 5, 5, (("price", 1, 2), ("name", "a", "b")), ""),
        (3, "V1", "changed", 9, 91, (("price", 1, 2),), ""),
        (4, "V2", "changed", 9, 92, (("stock", 1, 2),), ""),
    ]
    [shard] = plan(outs, woocommerce())
    # Then the simple product's price goes in a products/batch, the variations in one
    # variations/batch request for parent 9, and the name in a products/batch of names
    assert [(b["op"], [i.variant_id for i in b["items"]]) for b in shard] == [
        ("products_batch", [5]),
        ("variations_batch", [91, 92]),
        ("product_fields", [5]),
    ]
    assert shard[0]["items"][0].changes == {"price": [1, 2]}
    assert shard[2]["items"][0].changes == {"name": ["a", "b"]}


def test_a_variation_name_is_a_product_level_item_of_the_parent() -> None:
    # Given two variations of product 9 renaming it the same way
    outs: list[Outcome] = [
        (2, "V1", "changed", 9, 91, (("name", "a", "b"),), ""),
        (3, "V2", "changed", 9, 92, (("name", "a", "b"),), ""),
    ]
    [[batch]] = plan(outs, woocommerce())
    # Then one products/batch item for the parent, marked product-level, carries both rows
    [item] = batch["items"]
    assert batch["op"] == "product_fields" and item.product_level is True
    assert item.product_id == 9 and item.rows == [2, 3]


@pytest.mark.parametrize("n", [1, 49, 50, 51, 10_000])
def test_requests_are_the_minimum(n: int) -> None:
    # Given n changed variants on BigCommerce, when planned
    shards = plan(changed(n), bigcommerce())
    # Then the plan sends exactly ceil(n / 50) requests
    assert sum(len(s) for s in shards) == math.ceil(n / 50)


def test_unchanged_outcomes_and_an_empty_plan() -> None:
    outs: list[Outcome] = [(2, "A", "unchanged", 1, 1, (), "")]
    assert plan(outs, bigcommerce()) == []
    assert plan([], bigcommerce()) == []
    with pytest.raises(ValueError):
        plan(changed(1), bigcommerce(), batches_per_shard=0)


def test_plain_batches_stream_out_before_the_outcomes_end() -> None:
    # Given a stream of BigCommerce price changes, 2 batches per shard
    produced: list[int] = []

    def outcomes() -> Iterator[Outcome]:
        for out in changed(250):
            produced.append(out[0])
            yield out

    shards = build_plan(outcomes(), bigcommerce(), batches_per_shard=2)
    # When the first shard is taken
    first = next(shards)
    # Then it came out after 100 outcomes, not after all 250
    assert [len(b["items"]) for b in first] == [50, 50] and len(produced) == 100
    assert sum(len(b["items"]) for s in shards for b in s) == 150


def test_product_values_that_say_the_same_ride_along() -> None:
    # Given two rows of one product giving its brand in different letter case
    outs: list[Outcome] = [
        (2, "A", "changed", 7, 71, (("brand", "Acme", "Northwind"),), ""),
        (3, "B", "changed", 7, 72, (("brand", "Acme", "NORTHWIND"),), ""),
    ]
    # When planned, Then it is one product item that both rows share, not a conflict
    [[batch]] = list(build_plan(outs, bigcommerce()))
    [item] = batch["items"]
    assert item.result_rows == [2, 3] and item.conflicts == []


@pytest.mark.parametrize("caps", [bigcommerce(), shopify(), woocommerce()])
def test_product_fields_are_product_level_on_every_platform(caps) -> None:  # type: ignore[no-untyped-def]
    # Given each platform, When a product field is routed for a variation,
    # Then its operation writes it once per product (reconcile relies on this)
    for name in PRODUCT_FIELDS:
        if name in caps.writable_fields:
            [(op, _)] = caps.route(1, 2, {name: [None, "x"]})
            assert op.product_level, (caps.platform, name)


def test_a_shard_goes_to_storage_and_back_as_the_same_typed_items() -> None:
    # Given a plan with plain items (a ref each) and a product-level item with a conflict
    outs: list[Outcome] = [
        (2, "A", "changed", 7, 71, (("name", "old", "First"), ("price", 100, 150)), ""),
        (3, "B", "changed", 7, 72, (("name", "old", "Second"),), ""),
    ]
    [shard] = plan(outs, bigcommerce(), refs={71: "product"})
    # When it is written as JSON and read back
    back = shard_from_json(shard_to_json(shard))
    # Then every batch holds equal PlanItem records, in order
    assert back == shard
    variant, product = back[0]["items"][0], back[1]["items"][0]
    assert (variant.ref, variant.changes, variant.product_level) == (
        "product",
        {"price": [100, 150]},
        False,
    )
    assert (product.rows, product.conflicts, product.product_level) == ([2], [3], True)
