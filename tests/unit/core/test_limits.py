"""Safety limits over fakes: a run over one is held with its reasons and writes nothing;
applying it on purpose writes its plan (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import World, row, variant

from feedsync.core import review
from feedsync.core.change_files import read_changes
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.select import select
from feedsync.core.steps.update import update
from feedsync.domain.fields import Row
from feedsync.domain.limits import LimitRules, LimitTally
from feedsync.models import (
    ApplyBody,
    FinalizeInput,
    MatchInput,
    MatchOutput,
    Run,
    RunRef,
    SafetyLimits,
    SelectInput,
    ShardRef,
    UpdateInput,
)

N = 10
CATALOG = [variant(10 + i, 100 + i, f"S{i}", price=1000, stock=5) for i in range(N)]


def _matched(world: World, rows: list[Row], *, synced_before: bool = True, **limits: Any) -> Run:
    """A run of ``rows`` through match (and MarkForReview when it stops there)."""
    profile = world.profile(world.store(CATALOG), limits=limits or {})
    if synced_before:  # the share rules start with the profile's second successful run
        world.repo.update_profile("t1", "p1", last_sync_at=world.clock(), last_file_rows=N)
    ref = world.run(profile)
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows))
    )
    if out.held or out.preview:
        finalize(world.deps, FinalizeInput(run=ref, previewed=True))
    else:
        _updates(world, ref, out)
        finalize(world.deps, FinalizeInput(run=ref))
    return world.run_record(ref)


def _updates(world: World, ref: RunRef, out: MatchOutput) -> None:
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))


def _rules(run: Run) -> dict[str, dict[str, Any]]:
    return {reason["rule"]: reason for reason in run.held_reasons}


def test_a_file_in_cents_is_held_naming_the_price_rule_and_writes_nothing(world: World) -> None:
    # Given a file whose prices are in cents (10.00 -> 1000.00)
    rows = [row(i + 2, f"S{i}", price=100_000) for i in range(N)]
    # When it runs (even as the profile's first sync: the price rule always applies)
    run = _matched(world, rows, synced_before=False)
    # Then it is held with the rule, the limit, the largest move and example keys
    assert run.status == "held" and world.connectors["s1"].calls == []
    price = _rules(run)["max_price_change_pct"]
    assert (price["limit"], price["measured"]) == (50, 9900.0)
    assert price["examples"] == [f"S{i}" for i in range(N)]
    # and every change is pending, the lock free
    assert {line.status for line in read_changes(world.deps, run.changes_key or "")} == {"pending"}
    assert world.profile_record().current_run_id is None


def test_a_half_empty_file_is_held_by_the_rows_rule(world: World) -> None:
    # Given a file with 4 of the 10 rows the last file had, every stock unchanged
    run = _matched(world, [row(i + 2, f"S{i}", stock=5) for i in range(4)])
    # Then it is held: rows share 0.4 under 0.5
    assert run.status == "held"
    assert _rules(run)["min_rows_share"]["measured"] == 0.4


def test_a_file_zeroing_forty_percent_of_stock_is_held(world: World) -> None:
    rows = [row(i + 2, f"S{i}", stock=0 if i < 4 else 5) for i in range(N)]
    run = _matched(world, rows)
    reasons = _rules(run)
    assert run.status == "held" and set(reasons) == {"max_zero_stock_share"}
    assert reasons["max_zero_stock_share"]["measured"] == 0.4
    assert reasons["max_zero_stock_share"]["examples"] == ["S0", "S1", "S2", "S3"]


def test_changing_most_items_is_held_only_from_the_second_sync(world: World) -> None:
    rows = [row(i + 2, f"S{i}", price=1100) for i in range(N)]  # 10 % each, all items
    # Given the profile's first sync, Then it goes through
    first = _matched(world, rows, synced_before=False)
    assert first.status == "succeeded" and first.held_reasons == []


def test_changing_most_items_on_a_later_sync_is_held(world: World) -> None:
    run = _matched(world, [row(i + 2, f"S{i}", price=1100) for i in range(N)])
    assert run.status == "held" and _rules(run)["max_changed_share"]["measured"] == 1.0


def test_a_limit_switched_off_does_not_hold(world: World) -> None:
    rows = [row(i + 2, f"S{i}", price=100_000) for i in range(N)]
    run = _matched(world, rows, max_price_change_pct=None, max_changed_share=None)
    assert run.status == "succeeded" and len(world.connectors["s1"].written()) == N


def test_applying_a_held_run_writes_its_plan(world: World) -> None:
    held = _matched(world, [row(i + 2, f"S{i}", price=100_000) for i in range(N)])
    # When the merchant applies it on purpose
    applying = review.apply_run(world.deps, "t1", held.run_id, ApplyBody())
    ref = RunRef.model_validate(world.executions.started[applying.execution_name]["run"])
    out = select(world.deps, SelectInput(run=ref, action="apply"))
    _updates(world, ref, out)
    finalize(world.deps, FinalizeInput(run=ref))
    # Then every planned price reached the store, and the run succeeded
    assert [ch["price"][1] for _op, _vid, ch in world.connectors["s1"].written()] == [100_000] * N
    assert world.run_record(ref).status == "succeeded"


def test_a_preview_over_a_limit_stays_a_preview_and_says_which(world: World) -> None:
    profile = world.profile(world.store(CATALOG))
    ref = world.run(profile)
    world.repo.update_run("t1", ref.run_id, preview=True)
    rows = [row(i + 2, f"S{i}", price=100_000) for i in range(N)]
    match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows)))
    finalize(world.deps, FinalizeInput(run=ref, previewed=True))
    run = world.run_record(ref)
    assert run.status == "previewed" and set(_rules(run)) == {"max_price_change_pct"}


def test_the_tally_measures_moves_both_ways_and_only_from_stock_to_zero() -> None:
    tally = LimitTally(LimitRules())
    tally.add("UP", [("price", 1000, 1600)])  # +60 %
    tally.add("DOWN", [("sale_price", 1000, 400)])  # -60 %
    tally.add("EDGE", [("price", 1000, 1500)])  # +50 %: not over
    tally.add("FREE", [("price", 0, 500)])  # no percentage from 0
    tally.add("ZERO", [("stock", 3, 0)])
    tally.add("STILL", [("stock", 0, 0), ("stock", None, 0)])
    assert (tally.price_moves, tally.price_keys, tally.largest_move_pct) == (2, ["UP", "DOWN"], 60)
    assert (tally.zeroed, tally.zeroed_keys) == (1, ["ZERO"])
    reasons = tally.reasons(matched=100, rows=100, last_rows=100, shares_apply=True)
    assert [r["rule"] for r in reasons] == ["max_price_change_pct"]


def test_limits_are_checked_where_they_are_set() -> None:
    for bad in ({"max_changed_share": 1.5}, {"min_rows_share": -0.1}, {"max_price_change_pct": -1}):
        with pytest.raises(ValueError):
            SafetyLimits.model_validate(bad)
    assert (
        SafetyLimits.model_validate({"max_changed_share": None}).rules().max_changed_share is None
    )


def test_the_rows_rule_compares_with_the_last_successful_file(world: World) -> None:
    # Given a profile whose last successful run read 10 rows
    first = _matched(world, [row(i + 2, f"S{i}", stock=5) for i in range(N)], synced_before=False)
    assert first.status == "succeeded"
    assert world.profile_record().last_file_rows == N
