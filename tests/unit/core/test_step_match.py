"""The match step over fakes: the plan's shards and manifest, and how many run at once."""

from __future__ import annotations

import json

import pytest
from fakes import NO_LIMITS, World, row, variant

from feedsync.core import keys
from feedsync.core.steps.match import match
from feedsync.domain.fields import Row, Variant
from feedsync.domain.plan import shard_from_json
from feedsync.domain.writes import PlanItem
from feedsync.models import MatchInput, MatchOutput, RunRef
from feedsync.platforms.registry import capabilities_for


def _catalog(n: int) -> list[Variant]:
    return [variant(100 + i, 1000 + i, f"SKU-{i}", price=1000, stock=5) for i in range(n)]


def _match(world: World, ref: RunRef, rows: list[Row], row_errors: int = 0) -> MatchOutput:
    parsed = world.parsed(ref, rows, row_errors)
    return match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))


def test_changes_are_planned_in_shards_listed_by_the_manifest(world: World) -> None:
    # Given a BigCommerce store (variant batches of 50, 2 batches per shard here) and a
    # feed changing 120 prices, leaving 1 unchanged and naming 1 unknown SKU
    profile = world.profile(world.store(_catalog(121)), limits=NO_LIMITS)
    ref = world.run(profile)
    rows = [row(i + 2, f"SKU-{i}", price=2000 + i) for i in range(120)]
    rows += [row(122, "SKU-120", price=1000), row(123, "NOPE", price=1)]
    # When matched
    out = _match(world, ref, rows, row_errors=2)
    # Then 3 requests' worth of items in 2 shards, each listed with its result lines
    assert (out.shards, out.items) == (2, 120)
    manifest = json.loads(world.blobs.get_bytes(out.manifest_key))
    assert manifest == [
        {"index": 0, "key": keys.shard_key("t1", "run_1", 0), "items": 100},
        {"index": 1, "key": keys.shard_key("t1", "run_1", 1), "items": 20},
    ]
    shards = [shard_from_json(world.blobs.get_bytes(m["key"])) for m in manifest]
    assert [[(b["op"], len(b["items"])) for b in s] for s in shards] == [
        [("variants", 50), ("variants", 50)],
        [("variants", 20)],
    ]
    first = shards[0][0]["items"][0]
    assert first == PlanItem(2, "SKU-0", 100, 1000, {"price": [1000, 2000]})
    # and the run moved to updating with the counts and the progress to expect
    run = world.run_record(ref)
    assert world.repo.statuses("run_1") == ["matching", "updating"]
    assert run.progress.total == 120 and run.progress.done == 0
    assert run.counts == {
        "rows": 122,
        "matched": 121,
        "not_found": 1,
        "duplicates": 0,
        "changed": 120,
        "unchanged": 1,
        "row_errors": 2,
        "conflicts": 0,  # nothing was written before: no store-side edit to keep
        "missing": 0,
    }
    # and every row has its outcome in the match log, in file order
    log = world.blobs.csv(keys.match_log_key("t1", "run_1"))
    assert [r[0] for r in log[1:]] == [str(n) for n in range(2, 124)]
    assert [r[4] for r in log[-2:]] == ["unchanged", "not_found"]


@pytest.mark.parametrize("platform", ["bigcommerce", "shopify", "woocommerce"])
def test_shards_run_as_many_at_once_as_the_platform_allows(world: World, platform: str) -> None:
    # Given one batch per shard and more stock changes than the platform's concurrency
    caps = capabilities_for(platform)
    world.deps.shard_batches = 1
    per_request = caps.op(caps.route(100, 1000, {"price": None})[0][0].name).max_batch
    n = per_request * (caps.concurrency + 1)
    profile = world.profile(
        world.store(_catalog(n), platform=platform), fields=["price"], limits=NO_LIMITS
    )
    ref = world.run(profile)
    # When matched
    out = _match(world, ref, [row(i + 2, f"SKU-{i}", price=5) for i in range(n)])
    # Then more shards than may run, and the Map's concurrency is the platform's
    assert out.shards > caps.concurrency
    assert out.concurrency == caps.concurrency


def test_nothing_to_change_is_an_empty_manifest_and_concurrency_one(world: World) -> None:
    # Given a feed that agrees with the store
    ref = world.run(world.profile(world.store(_catalog(3))))
    # When matched
    out = _match(world, ref, [row(2, "SKU-0", price=1000, stock=5)])
    # Then no shard, an empty manifest, and still a valid concurrency for the Map
    assert (out.shards, out.items, out.concurrency) == (0, 0, 1)
    assert json.loads(world.blobs.get_bytes(out.manifest_key)) == []


def test_what_changed_in_the_store_since_the_import_is_read_before_comparing(
    world: World,
) -> None:
    # Given an index saying stock 5, while another app set the store's stock to 9
    store = world.store(_catalog(2))
    world.connectors["s1"].modified = [variant(100, 1000, "SKU-0", price=1000, stock=9)]
    ref = world.run(world.profile(store))
    # When a feed saying 9 is matched
    out = _match(world, ref, [row(2, "SKU-0", stock=9)])
    # Then the refresh read what was modified since the last import, and nothing changes
    assert world.connectors["s1"].reads[0][0] is not None
    assert out.items == 0
    # and the stored index has the store's value now
    assert world.index().by_sku["SKU-0"][8] == 9
