"""The plan sets known-bad items apart: batches of their own, or never sent (skip)."""

from __future__ import annotations

from typing import Any

from feedsync.domain.plan import Shard, build_plan, shard_from_json, shard_to_json
from feedsync.domain.reconcile import Outcome
from feedsync.domain.refusals import Refusal
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce
from feedsync.platforms.shopify.spec import capabilities as shopify
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce


def plan(*args: Any, **kwargs: Any) -> list[Shard]:
    return list(build_plan(*args, **kwargs))


def prices(n: int) -> list[Outcome]:
    """n simple products (product id = variant id = 100 + i), each a new price 200 + i."""
    return [(i + 2, f"SKU{i}", "changed", 100 + i, 100 + i, (("price", 1, 200 + i),), "")
            for i in range(n)]  # fmt: skip


def refused(op: str, item_id: int, payload: dict[str, Any]) -> dict[tuple[str, int], Refusal]:
    return {(op, item_id): Refusal(payload, "price: must be positive", "run_1", "t0")}


def keys_of(shards: list[Shard]) -> list[tuple[str, list[str]]]:
    return [(b["op"], [i.key for i in b["items"]]) for s in shards for b in s]


def test_without_known_bad_items_the_plan_is_unchanged() -> None:
    # Given 60 price changes, When planned with an empty ledger and without one
    # Then the plans are the same
    assert keys_of(plan(prices(60), bigcommerce(), known={})) == keys_of(
        plan(prices(60), bigcommerce())
    )


def test_a_known_bad_item_gets_a_batch_of_its_own_where_a_refusal_rejects_the_request() -> None:
    # Given 60 price changes, SKU7 sending the price the platform refused (and SKU8 another
    # price than the one refused)
    known = {**refused("variants", 107, {"price": 207}), **refused("variants", 108, {"price": 1})}
    # When planned for BigCommerce (a refused item rejects its whole batch)
    shards = plan(prices(60), bigcommerce(), known=known)
    # Then SKU7 goes alone after the healthy batches; SKU8 is tried with the others
    batches = keys_of(shards)
    assert [len(items) for _, items in batches] == [50, 9, 1]
    assert batches[-1] == ("variants", ["SKU7"]) and "SKU8" in batches[0][1]


def test_a_known_bad_item_rides_along_where_the_platform_answers_per_item() -> None:
    # Given WooCommerce (each item answered on its own) and SKU7's refused price again
    known = refused("products_batch", 107, {"price": 207})
    # When planned
    shards = plan(prices(10), woocommerce(), known=known)
    # Then it stays in the one batch: isolating it would only cost a request
    assert keys_of(shards) == [("products_batch", [f"SKU{i}" for i in range(10)])]


def test_a_known_bad_product_level_item_is_set_apart_once_whole() -> None:
    # Given two variants of product 7 renaming it to "Bad" (refused before) and product 8's
    # new name
    outs: list[Outcome] = [
        (2, "A", "changed", 7, 70, (("name", "old", "Bad"),), ""),
        (3, "B", "changed", 7, 71, (("name", "old", "Bad"),), ""),
        (4, "C", "changed", 8, 80, (("name", "old", "Good"),), ""),
    ]
    # When planned for BigCommerce
    shards = plan(outs, bigcommerce(), known=refused("products", 7, {"name": "Bad"}))
    # Then product 7 (both its rows) goes in a batch of its own
    batches = [b for s in shards for b in s]
    assert [[i.product_id for i in b["items"]] for b in batches] == [[8], [7]]
    assert batches[1]["items"][0].result_rows == [2, 3]


def test_skipped_items_travel_with_their_reason_and_are_never_mixed_with_sent_ones() -> None:
    # Given SKU7's refused price again and a profile that skips known-bad items
    known = refused("variants", 107, {"price": 207})
    # When planned, and the shard stored and read back
    [shard] = plan(prices(3 + 8), bigcommerce(), known=known, skip_known=True)
    shard = shard_from_json(shard_to_json(shard))
    # Then SKU7 is in a batch of its own marked known bad, with the remembered reason
    sent, skipped = shard
    assert "known_bad" not in sent and "SKU7" not in [i.key for i in sent["items"]]
    assert [i.key for i in skipped["items"]] == ["SKU7"]
    assert skipped["known_bad"] == [
        "not sent: the platform refused this same change before "
        "(price: must be positive; run run_1, t0)"
    ]


def test_an_item_refused_through_a_bulk_path_is_known_bad_below_its_threshold_too() -> None:
    # Given SKU7's price refused by Shopify's bulk variant operation (a large run), and a
    # profile that skips known-bad items
    known = refused("variants_bulk_operation", 107, {"price": 207})
    # When a small run (below the bulk threshold) sends it the same price
    shards = plan(prices(10), shopify(), known=known, skip_known=True)
    # Then it is skipped all the same
    skipped = [b for s in shards for b in s if "known_bad" in b]
    assert [[i.key for i in b["items"]] for b in skipped] == [["SKU7"]]
