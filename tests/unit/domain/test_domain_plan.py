"""build_plan: batching and sharding of changed outcomes."""

from __future__ import annotations

import json

import pytest

from feedsync.domain.plan import build_plan
from feedsync.domain.reconcile import Outcome


def changed(n: int) -> list[Outcome]:
    return [
        (i + 2, f"S{i}", "changed", 1, 100 + i, (("price", 100, 200 + i),), "") for i in range(n)
    ]


def test_120_changes_make_batches_of_50_50_20() -> None:
    # Given 120 changed outcomes
    # When planned with batch_size 50 and 2 batches per shard
    shards = list(build_plan(changed(120), batch_size=50, batches_per_shard=2))
    # Then there are two shards: [50, 50] and [20]
    assert [[len(b) for b in s] for s in shards] == [[50, 50], [20]]


def test_items_are_json_ready_and_in_feed_order() -> None:
    # Given changed outcomes
    shards = list(build_plan(changed(3), batch_size=2))
    # When planned, Then items carry the row, key, ids and {field: [old, new]}
    first = shards[0][0][0]
    assert first == {
        "row": 2, "key": "S0", "product_id": 1, "variant_id": 100,
        "changes": {"price": [100, 200]},
    }  # fmt: skip
    assert [item["row"] for s in shards for b in s for item in b] == [2, 3, 4]
    json.dumps(shards)  # must not raise


def test_non_changed_outcomes_are_ignored() -> None:
    # Given a mixed stream of outcomes
    outs: list[Outcome] = [
        (2, "A", "unchanged", 1, 1, (), ""),
        (3, "B", "not_found", None, None, (), "no variant"),
        *changed(1),
    ]
    # When planned, Then only the changed one is in the plan
    assert [[len(b) for b in s] for s in build_plan(outs)] == [[1]]


def test_exact_multiple_leaves_no_empty_batch_or_shard() -> None:
    # Given exactly 4 batches' worth, When planned 2 batches per shard, Then 2 full shards
    shards = list(build_plan(changed(8), batch_size=2, batches_per_shard=2))
    assert [[len(b) for b in s] for s in shards] == [[2, 2], [2, 2]]


def test_nothing_changed_means_no_shards() -> None:
    # Given no outcomes, When planned, Then there is nothing to do
    assert list(build_plan([])) == []


def test_bad_sizes_are_refused() -> None:
    # Given a zero batch size, When planning starts, Then it is refused
    with pytest.raises(ValueError):
        list(build_plan(changed(1), batch_size=0))
