"""Store-side edits over fakes: the store wins for prices, stock follows the feed, and the
merchant can re-apply or dismiss (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import NO_LIMITS, World, row, variant

from feedsync.core import review
from feedsync.core.steps import match as match_step
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.select import select
from feedsync.core.steps.update import update
from feedsync.core.written import load_written
from feedsync.domain.fields import Row
from feedsync.errors import Conflict, InvalidRequest
from feedsync.models import (
    FinalizeInput,
    MatchInput,
    MatchOutput,
    Run,
    RunRef,
    SelectInput,
    ShardRef,
    UpdateInput,
)

CATALOG = [variant(10, 100, "A", price=1000, stock=5), variant(11, 110, "B", price=1000, stock=5)]


@pytest.fixture
def profile_id(world: World) -> str:
    return world.profile(world.store(CATALOG), limits=NO_LIMITS).profile_id


def _run(world: World, rows: list[Row], run_id: str) -> Run:
    """A file run straight through: match, shards, finalize."""
    ref = world.run(world.profile_record(), run_id=run_id)
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows))
    )
    _updates(world, ref, out)
    finalize(world.deps, FinalizeInput(run=ref))
    return world.run_record(ref)


def _updates(world: World, ref: RunRef, out: MatchOutput) -> None:
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))


def _hand_edit(world: World, **prices: int) -> None:
    """The merchant changed these prices in the store (a later refresh reads them)."""
    world.connectors["s1"].modified = [
        variant(10 + i, 100 + 10 * i, sku, price=prices[sku], stock=5)
        for i, sku in enumerate(("A", "B"))
        if sku in prices
    ]


def _sent(world: World) -> list[tuple[int, dict[str, Any]]]:
    return [(vid, changes) for _op, vid, changes in world.connectors["s1"].written()]


def _log(world: World, run: Run) -> dict[str, list[str]]:
    return {rec[1]: rec for rec in world.blobs.csv(run.log_key or "")[1:]}


def test_a_hand_edited_price_survives_a_sync_as_a_conflict(world: World, profile_id: str) -> None:
    # Given a first sync that wrote A's and B's prices (no conflict: the first write is the feed's)
    first = _run(world, [row(2, "A", price=1200), row(3, "B", price=1200)], "run_1")
    assert first.counts["conflicts"] == 0 and first.counts["updated"] == 2
    assert load_written(world.deps, "t1", profile_id) == {
        (100, "price"): 1200,
        (110, "price"): 1200,
    }
    # and the merchant set A's price by hand in the store to 99.99
    _hand_edit(world, A=9999)
    world.connectors["s1"].calls.clear()
    # When the next file says 12.50 for both
    run = _run(world, [row(2, "A", price=1250), row(3, "B", price=1250)], "run_2")
    # Then B was written, A kept (store wins), logged as a conflict with all three values
    assert _sent(world) == [(110, {"price": [1200, 1250]})]
    assert (run.counts["conflicts"], run.counts["changed"], run.counts["updated"]) == (1, 1, 1)
    line = _log(world, run)["A"]
    assert line[4] == "conflict" and line[5] == "price: 99.99 -> 12.50"
    assert "since feedsync wrote 12.00" in line[6] and "99.99 is kept" in line[6]
    # and the profile lists it as an open conflict
    listed = review.list_conflicts(world.deps, "t1", profile_id)
    assert listed["next"] is None
    [conflict] = listed["conflicts"]
    assert {k: conflict[k] for k in ("key", "field", "store_value", "feed_value")} == {
        "key": "A",
        "field": "price",
        "store_value": "99.99",
        "feed_value": "12.50",
    }
    assert conflict["last_written"] == "12.00" and conflict["run_id"] == "run_2"


def test_stock_follows_the_feed_whatever_the_store_did(world: World, profile_id: str) -> None:
    _run(world, [row(2, "A", stock=7)], "run_1")
    world.connectors["s1"].modified = [variant(10, 100, "A", price=1000, stock=2)]  # a sale
    world.connectors["s1"].calls.clear()
    run = _run(world, [row(2, "A", stock=9)], "run_2")
    assert _sent(world) == [(100, {"stock": [2, 9]})] and run.counts["conflicts"] == 0


def test_feed_wins_where_the_profile_says_so(world: World, profile_id: str) -> None:
    world.repo.update_profile("t1", profile_id, conflicts={"price": "feed_wins"})
    _run(world, [row(2, "A", price=1200)], "run_1")
    _hand_edit(world, A=9999)
    world.connectors["s1"].calls.clear()
    _run(world, [row(2, "A", price=1250)], "run_2")
    assert _sent(world) == [(100, {"price": [9999, 1250]})]


def test_reapply_writes_the_feed_value_and_closes_the_conflict(
    world: World, profile_id: str
) -> None:
    _run(world, [row(2, "A", price=1200)], "run_1")
    _hand_edit(world, A=9999)
    _run(world, [row(2, "A", price=1250)], "run_2")
    world.connectors["s1"].calls.clear()
    # When the merchant re-applies it
    started = review.reapply_conflicts(world.deps, "t1", profile_id, ["A"])
    payload = world.executions.started[started.run_id]
    ref = RunRef.model_validate(payload["run"])
    assert payload["action"] == "reapply"
    _updates(world, ref, select(world.deps, SelectInput(run=ref, action="reapply")))
    finalize(world.deps, FinalizeInput(run=ref))
    # Then the feed's value reached the store, the conflict is closed, the ledger knows it
    assert _sent(world) == [(100, {"price": [9999, 1250]})]
    assert world.run_record(ref).status == "succeeded" and started.trigger == "reapply"
    assert review.list_conflicts(world.deps, "t1", profile_id)["conflicts"] == []
    assert load_written(world.deps, "t1", profile_id)[(100, "price")] == 1250


def test_dismiss_stops_the_flag_until_the_feed_value_changes(world: World, profile_id: str) -> None:
    _run(world, [row(2, "A", price=1200)], "run_1")
    _hand_edit(world, A=9999)
    _run(world, [row(2, "A", price=1250)], "run_2")
    # When dismissed
    assert review.dismiss_conflicts(world.deps, "t1", profile_id, None) == 1
    # Then the same feed value keeps the store's price silently
    again = _run(world, [row(2, "A", price=1250)], "run_3")
    assert again.counts["conflicts"] == 0 and _log(world, again)["A"][4] == "unchanged"
    assert review.list_conflicts(world.deps, "t1", profile_id)["conflicts"] == []
    # and a new feed value is flagged again
    changed = _run(world, [row(2, "A", price=1300)], "run_4")
    assert changed.counts["conflicts"] == 1 and _log(world, changed)["A"][4] == "conflict"


def test_a_dismiss_while_a_run_matches_is_not_undone_by_that_run(
    world: World, profile_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an open conflict on A (feed 1250, store 9999)
    _run(world, [row(2, "A", price=1200)], "run_1")
    _hand_edit(world, A=9999)
    _run(world, [row(2, "A", price=1250)], "run_2")
    read_before = match_step.load_dismissed

    def dismissed_during_the_match(*args: Any) -> Any:
        seen = read_before(*args)  # the run has read the dismissed values ...
        assert review.dismiss_conflicts(world.deps, "t1", profile_id, None) == 1  # ... then
        return seen

    monkeypatch.setattr(match_step, "load_dismissed", dismissed_during_the_match)
    # When the merchant dismisses it while the next run with the same file matches
    _run(world, [row(2, "A", price=1250)], "run_3")
    # Then the conflict stays dismissed (not open again from that run's findings)
    assert review.list_conflicts(world.deps, "t1", profile_id)["conflicts"] == []


def test_reapply_and_dismiss_name_unknown_keys_and_need_an_open_conflict(
    world: World, profile_id: str
) -> None:
    with pytest.raises(Conflict) as nothing:
        review.reapply_conflicts(world.deps, "t1", profile_id, None)
    assert nothing.value.reason == "no_conflicts"
    _run(world, [row(2, "A", price=1200)], "run_1")
    _hand_edit(world, A=9999)
    _run(world, [row(2, "A", price=1250)], "run_2")
    with pytest.raises(InvalidRequest) as unknown:
        review.dismiss_conflicts(world.deps, "t1", profile_id, ["A", "NOPE"])
    assert unknown.value.field == "keys" and "NOPE" in unknown.value.message
    with pytest.raises(InvalidRequest):
        review.list_conflicts(world.deps, "t1", profile_id, cursor="x")
