"""The update step over fakes: one result line per feed row, gone items, named errors."""

from __future__ import annotations

import pytest
from fakes import World, variant

from feedsync.core import keys
from feedsync.core.ports import ItemResult, item_gone
from feedsync.core.run_results import RESULT_HEADER
from feedsync.core.steps.update import update
from feedsync.domain.plan import Batch, shard_to_json
from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.models import RunRef, ShardRef, UpdateInput

CATALOG = [variant(7, 71, "A"), variant(7, 72, "B"), variant(8, 81, "C"), variant(9, 91, "D")]


def _item(row: int, vid: int, pid: int, **changes: list[object]) -> PlanItem:
    return PlanItem(row, f"SKU{row}", pid, vid, dict(changes))


def _shard(world: World, ref: RunRef, batches: list[Batch], index: int = 0) -> UpdateInput:
    key = keys.shard_key(ref.tenant_id, ref.run_id, index)
    world.blobs.put_bytes(key, shard_to_json(batches))
    return UpdateInput(run=ref, shard=ShardRef(index=index, key=key, items=0))


def _results(world: World, index: int = 0) -> list[list[str]]:
    return world.blobs.csv(keys.result_key("t1", "run_1", index))


@pytest.fixture
def ref(world: World) -> RunRef:
    return world.run(world.profile(world.store(CATALOG), location_id="loc-2"))


def test_every_feed_row_gets_its_result_line_and_the_progress_is_absolute(
    world: World, ref: RunRef
) -> None:
    # Given a shard of two batches: two variant prices, then a product name carried by
    # rows 4 and 5 that row 6 contradicted
    product = PlanItem(4, "C", 8, 81, {"name": ["a", "b"]}, rows=[4, 5], product_level=True)
    product.conflicts.append(6)
    step = _shard(
        world,
        ref,
        [
            {
                "op": "variants",
                "items": [_item(2, 71, 7, price=[1, 2]), _item(3, 72, 7, price=[1, 3])],
            },
            {"op": "products", "items": [product]},
        ],
        index=3,
    )
    # and a store that refuses the second price
    connector = world.connectors["s1"]
    connector.script.append([ItemResult(True), ItemResult(False, "price below cost")])
    # When the shard is applied
    out = update(world.deps, step)
    # Then the connector got typed items, one batch each, with stable keys and the location
    assert [(c.op, c.batch_key, c.location) for c in connector.calls] == [
        ("variants", "run_1-3-0", "loc-2"),
        ("products", "run_1-3-1", "loc-2"),
    ]
    assert connector.calls[1].items == [product]
    assert world.credentials_seen == [{"access_token": "tok"}]  # the store's secret
    # and the result file has a line per feed row, conflicts last
    assert _results(world, 3) == [
        list(RESULT_HEADER),
        ["2", "71", "variants", "1", "", "", ""],
        ["3", "72", "variants", "0", "price below cost", "", ""],
        ["4", "81", "products", "1", "", "", ""],
        ["5", "81", "products", "1", "", "", ""],
        ["6", "81", "products", "0", "row 4 sets a different value for product 8", "", "conflict"],
    ]
    assert (out.shard, out.updated, out.failed, out.gone) == (3, 3, 2, 0)
    # and the run's progress for this shard is the absolute count of lines
    assert world.run_record(ref).progress.shards == {"3": 5}
    # When the same shard is retried, Then the count is set again, never added
    update(world.deps, step)
    assert world.run_record(ref).progress.shards == {"3": 5}


def test_items_the_store_no_longer_has_are_gone_not_failed(world: World, ref: RunRef) -> None:
    # Given a store where variant 72 and all of product 9 were deleted
    connector = world.connectors["s1"]
    connector.gone_variants.add(72)
    connector.gone_products.add(9)
    product_item = PlanItem(7, "D", 9, 91, {"name": ["a", "b"]}, rows=[7], product_level=True)
    step = _shard(
        world,
        ref,
        [
            {
                "op": "variants",
                "items": [_item(2, 71, 7, price=[1, 2]), _item(3, 72, 7, price=[1, 2])],
            },
            {"op": "products", "items": [product_item]},
        ],
    )
    # When applied
    out = update(world.deps, step)
    # Then the gone rows say what is gone and count as gone, not as failures
    lines = {r[0]: r for r in _results(world)[1:]}
    assert lines["3"][3:] == ["0", "variant 72 not found", "variant", ""]
    assert lines["7"][3:] == ["0", "product 9 not found", "product", ""]
    assert (out.updated, out.failed, out.gone) == (1, 0, 2)


def test_a_gone_variant_of_a_product_level_item_is_its_product(world: World, ref: RunRef) -> None:
    # Given a product-level item whose connector reports its variant gone
    item = PlanItem(2, "A", 7, 71, {"name": ["a", "b"]}, rows=[2], product_level=True)
    world.connectors["s1"].script.append([item_gone("variant", "gone")])
    # When applied, Then the item stands for its product: the product is gone
    update(world.deps, _shard(world, ref, [{"op": "products", "items": [item]}]))
    assert _results(world)[1][5] == "product"


def test_a_wrong_number_of_results_is_a_named_error_and_recorded(world: World, ref: RunRef) -> None:
    # Given a connector that answers one result for a batch of two, after a good batch
    connector = world.connectors["s1"]
    # (batches of two: a store that carries piles re-packs a shard's batches as a stream)
    connector.script.extend([[ItemResult(True)] * 2, [ItemResult(True)]])
    step = _shard(
        world,
        ref,
        [
            {
                "op": "variants",
                "items": [_item(2, 71, 7, price=[1, 2]), _item(5, 91, 9, price=[1, 2])],
            },
            {
                "op": "variants",
                "items": [_item(3, 72, 7, price=[1, 2]), _item(4, 81, 8, price=[1, 2])],
            },
        ],
    )
    # When the shard is applied, Then StoreRequestError names the mismatch
    with pytest.raises(StoreRequestError, match="answered 1 results for 2 items of variants"):
        update(world.deps, step)
    # and the run keeps the reason for finalize, and the first batch's result
    run = world.run_record(ref)
    assert run.shard_error == (
        "updating the store failed: bigcommerce connector answered 1 results for 2 items "
        "of variants"
    )
    assert [r[0] for r in _results(world)[1:]] == ["2", "5"]
    assert run.progress.shards == {"0": 2}


def test_a_store_wide_error_leaves_its_reason_on_the_run(world: World, ref: RunRef) -> None:
    # Given a store that rejects the token
    world.connectors["s1"].script.append(StoreAuthError("the store rejected the access token"))
    step = _shard(world, ref, [{"op": "variants", "items": [_item(2, 71, 7, price=[1, 2])]}])
    # When the shard is applied, Then the named error propagates (for the ASL's Catch)
    with pytest.raises(StoreAuthError):
        update(world.deps, step)
    # and the run says why, for the merchant; no result file claims anything was written
    assert world.run_record(ref).shard_error == (
        "updating the store failed: the store rejected the access token"
    )
    assert world.blobs.head(keys.result_key("t1", "run_1", 0)) is None
