"""Items missing from the feed over fakes: ``missing: zero_stock`` zeroes exactly what the
profile wrote before and today's file lacks (issue 13)."""

from __future__ import annotations

import json

from fakes import NO_LIMITS, World, row, variant

from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.update import update
from feedsync.domain.fields import Row
from feedsync.models import FinalizeInput, MatchInput, Run, ShardRef, UpdateInput

CATALOG = [variant(10 + i, 100 + i, sku, price=1000, stock=5) for i, sku in enumerate("ABCD")]


def _run(world: World, rows: list[Row], run_id: str) -> Run:
    ref = world.run(world.profile_record(), run_id=run_id)
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows))
    )
    if out.held:
        finalize(world.deps, FinalizeInput(run=ref, previewed=True))
        return world.run_record(ref)
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))
    finalize(world.deps, FinalizeInput(run=ref))
    return world.run_record(ref)


def test_zero_stock_zeroes_only_what_this_profile_wrote_and_the_file_lacks(world: World) -> None:
    # Given a profile that wrote A's and B's stock (C was already right, D never listed)
    world.profile(world.store(CATALOG), missing="zero_stock", limits=NO_LIMITS)
    _run(world, [row(2, "A", stock=7), row(3, "B", stock=8), row(4, "C", stock=5)], "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lists A and C only
    run = _run(world, [row(2, "A", stock=7), row(3, "C", stock=5)], "run_2")
    # Then B alone is set to 0 (D and C were never written by it, A is listed)
    sent = [(vid, ch) for _op, vid, ch in world.connectors["s1"].written()]
    assert sent == [(101, {"stock": [8, 0]})]
    assert run.counts["missing"] == 1 and run.counts["updated"] == 1
    # and the log says so after the file's rows
    log = world.blobs.csv(run.log_key or "")[1:]
    assert [(r[0], r[1], r[4]) for r in log] == [
        ("2", "A", "unchanged"),
        ("3", "C", "unchanged"),
        ("4", "B", "missing"),
    ]
    assert log[-1][6] == "not in today's file: stock set to 0 (was 8)"


def test_missing_items_are_left_alone_by_default(world: World) -> None:
    world.profile(world.store(CATALOG), limits=NO_LIMITS)
    _run(world, [row(2, "A", stock=7), row(3, "B", stock=8)], "run_1")
    world.connectors["s1"].calls.clear()
    run = _run(world, [row(2, "A", stock=7)], "run_2")
    assert world.connectors["s1"].calls == [] and run.counts["missing"] == 0


def test_zeroing_missing_items_counts_against_the_zero_stock_limit(world: World) -> None:
    # Given a profile with its default limits that wrote all four stocks
    world.profile(world.store(CATALOG), missing="zero_stock")
    first = _run(world, [row(i + 2, sku, stock=9) for i, sku in enumerate("ABCD")], "run_1")
    assert first.status == "succeeded"
    world.connectors["s1"].calls.clear()
    # When the next file lists 3 of the 4 (rows share 0.75: fine) and zeroes none itself
    run = _run(world, [row(i + 2, sku, stock=9) for i, sku in enumerate("ABC")], "run_2")
    # Then the missing D going to 0 is 1 in 3 matched items: over 0.3, held, nothing sent
    assert run.status == "held" and world.connectors["s1"].calls == []
    [reason] = run.held_reasons
    assert reason["rule"] == "max_zero_stock_share" and reason["examples"] == ["D"]


def test_a_file_with_refused_rows_zeroes_nothing(world: World) -> None:
    # Given a profile that wrote A's and B's stock
    world.profile(world.store(CATALOG), missing="zero_stock", limits=NO_LIMITS)
    _run(world, [row(2, "A", stock=7), row(3, "B", stock=8)], "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lists A, and a row the parser refused (it may be B's)
    ref = world.run(world.profile_record(), run_id="run_2")
    parsed = world.parsed(ref, [row(2, "A", stock=7)], row_errors=1)
    out = match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))
    # Then B is not zeroed: nothing is planned
    assert out.items == 0 and world.run_record(ref).counts["missing"] == 0
