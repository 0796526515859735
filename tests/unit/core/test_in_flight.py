"""A shard that stops part-way: batches recorded in flight, read back at finalize.

Over fakes: the update step marks each batch before sending it; when the shard dies
before recording a batch's answers, finalize asks the store (one modified-since read)
and logs what it holds, never a guess; the run's reason is the shard's own error.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from fakes import World, row, variant

from feedsync.core import in_flight, keys
from feedsync.core.catalog_import import CLOCK_SKEW_MARGIN
from feedsync.core.ports import ItemResult
from feedsync.core.shard_send import Pacing
from feedsync.core.steps import match as match_step
from feedsync.core.steps import update as update_step
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.update import update
from feedsync.domain.fields import VARIANT_POS, Variant
from feedsync.domain.plan import shard_from_json
from feedsync.domain.writes import PlanItem
from feedsync.errors import ShardsIncomplete, StoreUnavailable
from feedsync.models import (
    FinalizeInput,
    MatchInput,
    RunRef,
    ShardRef,
    StepError,
    UpdateInput,
)
from feedsync.platforms.registry import capabilities_for

SKUS = [f"S{i}" for i in range(6)]
CATALOG = [variant(10 + i, 100 + i, sku, price=1000) for i, sku in enumerate(SKUS)]
MAP_FAILED = StepError.model_validate({"Error": "States.ExceedToleratedFailureThreshold"})


class Crash(Exception):
    """What kills the update step in these tests (not a named feedsync error)."""


def small_batches(name: str, options: Any = None) -> Any:
    """The platform's capabilities with two items a batch: six rows make three batches."""
    caps = capabilities_for(name, options)
    return dataclasses.replace(
        caps, ops=tuple(dataclasses.replace(op, max_batch=2) for op in caps.ops)
    )


def small_batch_run(world: World, monkeypatch: pytest.MonkeyPatch) -> RunRef:
    """A run of a profile on a store of ``CATALOG`` whose batches hold two items, three a
    shard, started now."""
    monkeypatch.setattr(match_step, "capabilities_for", small_batches)
    world.deps.shard_batches = 3
    run = world.run(world.profile(world.store(CATALOG)))
    world.repo.update_run("t1", "run_1", started_at=world.clock())
    return run


@pytest.fixture
def ref(world: World, monkeypatch: pytest.MonkeyPatch) -> RunRef:
    return small_batch_run(world, monkeypatch)


def planned(world: World, ref: RunRef) -> UpdateInput:
    """Six price changes (10.00 -> 12.00), planned as one shard of three batches."""
    rows = [row(2 + i, sku, price=1200) for i, sku in enumerate(SKUS)]
    parsed = world.parsed(ref, rows)
    out = match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))
    [entry] = json.loads(world.blobs.get_bytes(out.manifest_key))
    step = UpdateInput(run=ref, shard=ShardRef.model_validate(entry))
    assert [len(b["items"]) for b in shard_from_json(world.blobs.get_bytes(step.shard.key))] == [
        2,
        2,
        2,
    ]
    return step


def holding(price: int, *variants: Variant) -> list[Variant]:
    """The variants as a modified-since read finds them, at ``price``."""
    at = VARIANT_POS["price"]
    return [(*v[:at], price, *v[at + 1 :]) for v in variants]  # type: ignore[misc]


def kill_at_batch(world: World, number: int, after_store_accepts: bool) -> None:
    """Batches before ``number`` go through; batch ``number`` kills the step, before the
    store gets it or right after the store accepted it (then the store holds it)."""
    connector = world.connectors["s1"]
    for _ in range(number):
        connector.script.append(lambda op, items: [ItemResult(True) for _ in items])

    def crash(op: str, items: list[PlanItem]) -> list[ItemResult]:
        if after_store_accepts:
            accepted = {item.variant_id for item in items}
            connector.modified += holding(1200, *(v for v in CATALOG if v[1] in accepted))
        raise Crash(f"injected crash in batch {number}")

    connector.script.append(crash)


def close_after_crash(world: World, ref: RunRef, step: UpdateInput) -> dict[str, list[str]]:
    """The shard dies; finalize finds it incomplete and MarkFailed closes the run."""
    with pytest.raises(Crash):
        update(world.deps, step)
    with pytest.raises(ShardsIncomplete) as raised:
        finalize(world.deps, FinalizeInput(run=ref))
    assert "injected crash" in raised.value.message
    finalize(world.deps, FinalizeInput(run=ref, error=MAP_FAILED))
    return {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}


def test_each_batch_is_on_record_in_flight_before_it_is_sent(
    world: World, ref: RunRef, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shard of three batches, a store that looks at the marker as each arrives,
    # and the blob writes counted
    step = planned(world, ref)
    seen: list[in_flight.InFlight | None] = []
    connector = world.connectors["s1"]
    for _ in range(3):
        connector.script.append(
            lambda op, items: (
                seen.append(in_flight.read_marker(world.deps, ref, 0))
                or [ItemResult(True) for _ in items]
            )
        )
    writes: list[str] = []
    put = world.blobs.put_bytes
    monkeypatch.setattr(
        world.blobs, "put_bytes", lambda key, *a, **kw: writes.append(key) or put(key, *a, **kw)
    )
    # When the shard is applied (the step records every 10 calls or 5 seconds)
    update(world.deps, step)
    # Then every batch was on record as in flight when the store got it: the first alone,
    # then, when the second went past it, a window looking ahead (nothing recorded yet)
    assert seen == [
        in_flight.InFlight(0, 0, 0),
        in_flight.InFlight(0, 0, 2, (0, 1, 2)),
        in_flight.InFlight(0, 0, 2, (0, 1, 2)),
    ]
    # and the book-keeping was two marker writes and one results write, not one of each
    # per batch
    marker = keys.in_flight_key("t1", "run_1", 0, 0)
    results = keys.result_key("t1", "run_1", 0, 0)
    assert writes == [marker, marker, results]
    assert world.run_record(ref).progress.shards == {"0": 6}


class Killed(BaseException):
    """The process dies (a Lambda timeout, out of memory): no code of the step runs on."""


Answer = Callable[[str, list[PlanItem]], list[ItemResult]]


def accepting(world: World) -> tuple[Answer, Answer]:
    """Store answers: one that accepts a batch (a modified-since read then finds it at the
    new price), and one that accepts it and then kills the step."""
    connector = world.connectors["s1"]

    def accept(op: str, items: list[PlanItem]) -> list[ItemResult]:
        accepted = {item.variant_id for item in items}
        connector.modified += holding(1200, *(v for v in CATALOG if v[1] in accepted))
        return [ItemResult(True) for _ in items]

    def killed(op: str, items: list[PlanItem]) -> list[ItemResult]:
        accept(op, items)
        raise Killed

    return accept, killed


def test_a_kill_between_records_reads_back_every_unrecorded_call_of_the_window(
    world: World, ref: RunRef
) -> None:
    # Given the step is killed right after the store accepted batch 2 (of 3), with batch 1
    # accepted before it and nothing recorded since (the step records every 10 calls)
    step = planned(world, ref)
    connector = world.connectors["s1"]
    accept, killed = accepting(world)

    connector.script.extend([accept, killed])
    with pytest.raises(Killed):
        update(world.deps, step)
    assert world.blobs.head(keys.result_key("t1", "run_1", 0, 0)) is None
    reads = len(connector.reads)
    # When the run closes
    with pytest.raises(ShardsIncomplete):
        finalize(world.deps, FinalizeInput(run=ref))
    finalize(world.deps, FinalizeInput(run=ref, error=MAP_FAILED))
    # Then the log is what the store holds: both calls' items read back updated, the
    # last batch (in the window's look-ahead) read back unchanged
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 4 + ["not_applied"] * 2
    assert "store shows no change to it" in log["S4"][6]
    assert world.run_record(ref).counts["updated"] == 4
    # and the store was read once for all of them
    assert len(connector.reads) == reads + 1


def test_a_crash_before_the_store_accepts_logs_the_batch_not_applied(
    world: World, ref: RunRef
) -> None:
    # Given the step dies sending batch 2 (of 3), before the store got it
    step = planned(world, ref)
    kill_at_batch(world, 1, after_store_accepts=False)
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then batch 1 is updated; batch 2, read back unchanged, and batch 3 are not_applied
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 2 + ["not_applied"] * 4
    assert "store shows no change to it" in log["S2"][6]
    assert log["S4"][6] == "the run stopped before this item was sent"
    # and the store was read once, for what changed since the run began
    started = world.run_record(ref).started_at
    assert started is not None
    assert world.connectors["s1"].reads[-1] == (started - CLOCK_SKEW_MARGIN, None)
    # and the run failed with the shard's own error, counting what reached the store
    run = world.run_record(ref)
    assert run.status == "failed"
    assert run.error == (
        "updating the store stopped on an unexpected error: injected crash in batch 1"
    )
    assert run.counts["updated"] == 2
    assert world.index().by_sku["S2"][4] == 1000


def test_a_crash_after_the_store_accepted_logs_the_batch_updated(world: World, ref: RunRef) -> None:
    # Given the step dies right after the store accepted batch 2, before recording it
    step = planned(world, ref)
    kill_at_batch(world, 1, after_store_accepts=True)
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then what the store holds is what the log says: batches 1 and 2 updated
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 4 + ["not_applied"] * 2
    run = world.run_record(ref)
    assert run.counts["updated"] == 4 and run.error is not None and "batch 1" in run.error
    # and the index holds the new price for them (a rerun sends only the last two)
    index = world.index()
    assert [index.by_sku[sku][4] for sku in SKUS] == [1200] * 4 + [1000] * 2


def test_a_value_neither_old_nor_new_is_failed_saying_what_the_store_holds(
    world: World, ref: RunRef
) -> None:
    # Given batch 1 in flight when the step died, and the store holding 11.00 for S0
    step = planned(world, ref)
    kill_at_batch(world, 0, after_store_accepts=False)
    world.connectors["s1"].modified = holding(1100, CATALOG[0])
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then S0 is failed naming the store's value; S1 (not modified) not_applied
    assert log["S0"][4] == "failed"
    assert "price is 11.00 (planned 12.00)" in log["S0"][6]
    assert log["S1"][4] == "not_applied"


def test_a_store_that_cannot_be_read_back_leaves_the_batch_failed_and_says_so(
    world: World, ref: RunRef
) -> None:
    # Given batch 1 in flight and a store that is down at finalize
    step = planned(world, ref)
    kill_at_batch(world, 0, after_store_accepts=True)
    connector = world.connectors["s1"]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("the store answered 503")

    connector.iter_variants = down  # type: ignore[method-assign]
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then the in-flight items say nobody knows, and why: never a guess
    assert [log[s][4] for s in ("S0", "S1")] == ["failed", "failed"]
    assert "could not be read back (the store answered 503)" in log["S0"][6]
    assert log["S2"][4] == "not_applied"


def test_a_retried_shard_keeps_in_doubt_what_its_first_attempt_sent(
    world: World, ref: RunRef
) -> None:
    # Given a first attempt that sent batches 1 and 2 and died in batch 3 (the store
    # accepted 1 and 2), and a retry that dies in its first batch before the store got it
    step = planned(world, ref)
    kill_at_batch(world, 2, after_store_accepts=False)
    with pytest.raises(Crash):
        update(world.deps, step)
    connector = world.connectors["s1"]
    connector.modified = holding(1200, *CATALOG[:4])
    connector.script.append(Crash("injected crash in the retry"))
    # When the retry dies and the run closes
    with pytest.raises(Crash):
        update(world.deps, step)
    finalize(world.deps, FinalizeInput(run=ref, error=MAP_FAILED))
    # Then what the first attempt got into the store is still logged updated
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 4 + ["not_applied"] * 2
    assert world.run_record(ref).error == (
        "updating the store stopped on an unexpected error: injected crash in the retry"
    )


def test_a_retry_that_dies_after_emptying_the_results_keeps_the_first_attempts_in_doubt(
    world: World, ref: RunRef, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a first attempt recording every 2 calls, whose calls the store all accepted,
    # killed during its third call (the first two recorded)
    monkeypatch.setattr(update_step, "PACING", Pacing(calls=2))
    step = planned(world, ref)
    connector = world.connectors["s1"]
    accept, killed = accepting(world)

    connector.script.extend([accept, accept, killed])
    with pytest.raises(Killed):
        update(world.deps, step)
    # and a retry that dies right after emptying the results file, before its first
    # marker (S3 refusing the write)
    results = keys.result_key("t1", "run_1", 0, 0)
    marker_key = keys.in_flight_key("t1", "run_1", 0, 0)
    put = world.blobs.put_bytes
    emptied: list[str] = []

    def failing(key: str, *args: Any, **kwargs: Any) -> None:
        if key == marker_key and emptied:
            raise Crash("injected S3 failure")
        put(key, *args, **kwargs)
        if key == results:
            emptied.append(key)

    monkeypatch.setattr(world.blobs, "put_bytes", failing)
    with pytest.raises(Crash):
        update(world.deps, step)
    monkeypatch.setattr(world.blobs, "put_bytes", put)
    assert emptied and len(world.blobs.csv(results)) == 1  # the header only
    # When the run closes
    finalize(world.deps, FinalizeInput(run=ref, error=MAP_FAILED))
    # Then every batch the first attempt sent is read back, not logged "not sent": all six
    # are updated
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 6


def test_a_shard_that_left_no_error_is_named_stopped_not_a_guess(world: World, ref: RunRef) -> None:
    # Given a shard that ended with no results and no error of its own (a timeout)
    planned(world, ref)
    # When finalized, Then the reason says it was stopped without an error
    with pytest.raises(ShardsIncomplete, match="recorded no error"):
        finalize(world.deps, FinalizeInput(run=ref))


def test_a_write_a_range_read_cannot_see_is_read_back_from_the_whole_catalog(
    world: World, ref: RunRef
) -> None:
    # Given an operation whose writes a modified-since read does not list (Shopify's
    # stock), and a step that died right after the store accepted batch 1
    connector = world.connectors["s1"]
    connector.capabilities = dataclasses.replace(
        connector.capabilities,
        ops=tuple(
            dataclasses.replace(op, range_read_sees=False) for op in connector.capabilities.ops
        ),
    )
    step = planned(world, ref)
    kill_at_batch(world, 0, after_store_accepts=False)
    # (the store took batch 1: the whole catalog holds it, a range read lists nothing)
    connector.variants = holding(1200, *CATALOG[:2]) + CATALOG[2:]
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then the whole catalog was read once more, and batch 1 is updated, not guessed
    assert [since for since, _ in connector.reads[-2:]] == [mock_since(world, ref), None]
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 2 + ["not_applied"] * 4


def mock_since(world: World, ref: RunRef) -> Any:
    started = world.run_record(ref).started_at
    assert started is not None
    return started - CLOCK_SKEW_MARGIN


def test_an_unexpected_error_of_any_size_is_the_runs_reason_capped(
    world: World, ref: RunRef
) -> None:
    # Given a shard that dies on an unexpected error with a 10,000-character message
    step = planned(world, ref)
    world.connectors["s1"].script.append(Crash("x" * 10_000))
    # When it runs, Then the run keeps the reason, cut to the message limit saying so
    with pytest.raises(Crash):
        update(world.deps, step)
    error = world.run_record(ref).shard_error
    assert error is not None and error.endswith("(6,000 more characters)")
    assert error.startswith("updating the store stopped on an unexpected error: xxx")
