"""Preview, apply, retry and revert over fakes: which changes each sends, what they become,
and every refusal (issue 12). The real state machine runs them in tests/integration."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from fakes import World, row, variant
from pydantic import ValidationError

from feedsync.core import review
from feedsync.core.change_files import read_changes, settle_changes
from feedsync.core.ports import ItemResult, item_stale
from feedsync.core.run_results import gather
from feedsync.core.start import execution_ended, start_run
from feedsync.core.steps import match as match_step
from feedsync.core.steps import select as select_step
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.select import select
from feedsync.core.steps.update import update
from feedsync.domain.capabilities import Capabilities
from feedsync.domain.changes import ChangeLine
from feedsync.domain.fields import Row
from feedsync.errors import Conflict, Gone, InvalidRequest, NotFound, StoreUnavailable
from feedsync.models import (
    ApplyBody,
    ExecutionStatusChange,
    FinalizeInput,
    MatchInput,
    MatchOutput,
    Run,
    RunRef,
    RunSummary,
    SelectInput,
    ShardRef,
    StartCommand,
    StepError,
    UpdateInput,
)
from feedsync.platforms.registry import capabilities_for

SKUS = ["A", "B", "C", "D"]
CATALOG = [variant(10 + i, 100 + i, sku, price=1000, stock=5) for i, sku in enumerate(SKUS)]
FEED = [row(i + 2, sku, price=1200 + i) for i, sku in enumerate(SKUS)]  # every price moves


def _two_a_batch(name: str, options: Any = None) -> Capabilities:
    """The platform's capabilities with two items a batch (so a run has several)."""
    caps = capabilities_for(name, options)
    ops = tuple(dataclasses.replace(op, max_batch=min(op.max_batch, 2)) for op in caps.ops)
    return dataclasses.replace(caps, ops=ops)


def _preview(world: World, rows: list[Row] = FEED) -> RunRef:
    """A preview run through match and MarkPreviewed, as the state machine runs it."""
    ref = world.run(world.profile(world.store(CATALOG)))
    world.repo.update_run(ref.tenant_id, ref.run_id, preview=True)
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows))
    )
    assert out.preview and out.shards == 0
    finalize(world.deps, FinalizeInput(run=ref, previewed=True))
    return ref


def _direct(world: World, answers: list[ItemResult] | None = None) -> RunRef:
    """A run of FEED straight through (the store answering ``answers`` to the first batch)."""
    rows = FEED
    ref = world.run(world.profile(world.store(CATALOG)))
    if answers is not None:
        world.connectors["s1"].script.append(answers)
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, rows))
    )
    _updates(world, ref, out)
    finalize(world.deps, FinalizeInput(run=ref))
    return ref


def _updates(world: World, ref: RunRef, out: MatchOutput) -> None:
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))


def _execute(world: World, run: Run) -> Run:
    """The execution the API started for ``run`` (apply, retry or revert), step by step."""
    payload = world.executions.started[run.execution_name]
    ref = RunRef.model_validate(payload["run"])
    out = select(world.deps, SelectInput(run=ref, action=payload["action"]))
    _updates(world, ref, out)
    finalize(world.deps, FinalizeInput(run=ref))
    world.executions.status_of[run.execution_name] = "SUCCEEDED"
    return world.run_record(ref)


def _apply(world: World, ref: RunRef, body: ApplyBody | None = None) -> Run:
    return _execute(world, review.apply_run(world.deps, "t1", ref.run_id, body or ApplyBody()))


def _changes(world: World, run_id: str) -> list[ChangeLine]:
    run = world.repo.get_run("t1", run_id)
    assert run is not None and run.changes_key
    return list(read_changes(world.deps, run.changes_key))


def _status_by_key(world: World, run_id: str) -> dict[str, str]:
    return {line.key: line.shown_status for line in _changes(world, run_id)}


def _sent(world: World) -> list[tuple[int, object]]:
    """(variant id, new price) of every item the store was sent, in order."""
    return [(vid, ch["price"][1]) for _op, vid, ch in world.connectors["s1"].written()]


# ----------------------------------------------------------------------------- preview
def test_a_preview_sends_nothing_and_keeps_every_change_pending(world: World) -> None:
    # Given a feed moving four prices, When it is previewed
    ref = _preview(world)
    # Then nothing was sent, the run is previewed and unlocked, every change pending
    run = world.run_record(ref)
    assert world.connectors["s1"].calls == []
    assert run.status == "previewed" and world.profile_record().current_run_id is None
    assert [(c.key, c.store_value, c.new_value, c.status) for c in _changes(world, "run_1")] == [
        ("A", 1000, 1200, "pending"),
        ("B", 1000, 1201, "pending"),
        ("C", 1000, 1202, "pending"),
        ("D", 1000, 1203, "pending"),
    ]
    assert run.change_counts == {"status": {"pending": 4}, "field": {"price": 4}}
    # and its log says each row is pending
    log = world.blobs.csv(run.log_key or "")
    assert [(r[1], r[4]) for r in log[1:]] == [(s, "pending") for s in SKUS]


# ------------------------------------------------------------------------------- apply
def test_apply_all_writes_exactly_what_a_direct_run_writes(world: World, tmp_path: object) -> None:
    # Given a preview, When everything is applied
    ref = _preview(world)
    run = _apply(world, ref)
    # Then the store got the previewed values, the run succeeded, all updated
    assert _sent(world) == [(100, 1200), (101, 1201), (102, 1202), (103, 1203)]
    assert run.status == "succeeded" and run.counts["updated"] == 4
    assert set(_status_by_key(world, "run_1").values()) == {"updated"}
    # and the same requests as a direct run of the same file make
    other = World(str(tmp_path))
    _direct(other)
    assert [(c.op, len(c.items)) for c in world.connectors["s1"].calls] == [
        (c.op, len(c.items)) for c in other.connectors["s1"].calls
    ]


def test_apply_selected_keys_sends_only_those_and_leaves_the_rest_pending(world: World) -> None:
    ref = _preview(world)
    # When B and D are applied
    run = _apply(world, ref, ApplyBody(keys=["D", "B"]))
    # Then only they reached the store; the run is partially applied
    assert _sent(world) == [(101, 1201), (103, 1203)]
    assert run.status == "partially_applied" and run.round == 1
    assert _status_by_key(world, "run_1") == {
        "A": "pending",
        "B": "updated",
        "C": "pending",
        "D": "updated",
    }
    assert world.profile_record().current_run_id is None


def test_a_limit_takes_the_next_items_in_plan_order_until_none_is_pending(world: World) -> None:
    ref = _preview(world)
    # When 3 items are applied, then 3 more, then 3 more
    first = _apply(world, ref, ApplyBody(limit=3))
    second = _apply(world, ref, ApplyBody(limit=3))
    # Then the first apply took A-C, the second D, and the run is done
    assert first.status == "partially_applied" and second.status == "succeeded"
    assert [vid for vid, _ in _sent(world)] == [100, 101, 102, 103]
    # and a third apply has nothing to do
    with pytest.raises(Conflict) as refused:
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody(limit=3))
    assert refused.value.reason == "nothing_pending"


def test_a_store_value_changed_since_the_preview_is_stale_and_not_written(world: World) -> None:
    ref = _preview(world)
    # Given C's price set by hand in the store after the preview (the refresh reads it)
    world.connectors["s1"].modified = [variant(12, 102, "C", price=999, stock=5)]
    # When everything is applied
    run = _apply(world, ref)
    # Then C was not sent and is stale, naming both values; the others were written
    assert [vid for vid, _ in _sent(world)] == [100, 101, 103]
    [stale] = [c for c in _changes(world, "run_1") if c.key == "C"]
    assert stale.status == "stale"
    assert "now holds 9.99" in stale.error and "not 10.00" in stale.error
    assert run.status == "succeeded" and run.counts["stale"] == 1
    log = {r[1]: r for r in world.blobs.csv(run.log_key or "")[1:]}
    assert log["C"][4] == "stale" and "9.99" in log["C"][6]


def test_changes_that_were_sending_when_an_apply_failed_are_pending_again(world: World) -> None:
    ref = _preview(world)
    applying = review.apply_run(world.deps, "t1", ref.run_id, ApplyBody())
    payload = world.executions.started[applying.execution_name]
    round_ref = RunRef.model_validate(payload["run"])
    select(world.deps, SelectInput(run=round_ref, action="apply"))
    # When the apply fails before any shard ran (MarkFailed)
    error = StepError(Error="StoreUnavailable", Cause="the store is down")
    finalize(world.deps, FinalizeInput(run=round_ref, error=error))
    # Then nothing is lost: every change is pending again, and can be applied
    assert set(_status_by_key(world, "run_1").values()) == {"pending"}
    world.executions.status_of[applying.execution_name] = "FAILED"
    assert _apply(world, ref).status == "succeeded"


# ------------------------------------------------------------------------ bad requests
def test_unknown_keys_are_named_and_nothing_is_applied(world: World) -> None:
    ref = _preview(world)
    with pytest.raises(InvalidRequest) as refused:
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody(keys=["A", "NOPE", "ZZ"]))
    assert refused.value.field == "keys" and "NOPE, ZZ" in refused.value.message
    assert not world.executions.started
    assert world.run_record(ref).status == "previewed"


def test_a_selection_is_keys_or_a_positive_limit() -> None:
    for body in ({"limit": 0}, {"limit": -2}, {"keys": []}, {"keys": ["A"], "limit": 1}):
        with pytest.raises(ValidationError):
            ApplyBody.model_validate(body)


def test_another_tenants_run_is_not_found(world: World) -> None:
    ref = _preview(world)
    for call in (review.revert_run, review.retry_run):
        with pytest.raises(NotFound):
            call(world.deps, "t2", ref.run_id)
    with pytest.raises(NotFound):
        review.apply_run(world.deps, "t2", ref.run_id, ApplyBody())


def test_an_expired_plan_is_gone(world: World) -> None:
    ref = _preview(world)
    world.clock.advance(timedelta(days=7).total_seconds())
    with pytest.raises(Gone):
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody())


def test_an_active_run_cannot_be_applied(world: World) -> None:
    ref = _preview(world)
    world.repo.update_run("t1", ref.run_id, status="updating")
    with pytest.raises(Conflict) as refused:
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody())
    assert refused.value.reason == "run_active"


# ------------------------------------------------------------------------ retry, revert
def test_retry_failed_sends_only_the_failed_items_with_their_planned_values(world: World) -> None:
    # Given a direct run in which B was refused by the store
    refused_b = [ItemResult(True), ItemResult(False, "price too low")] + [ItemResult(True)] * 2
    ref = _direct(world, refused_b)
    assert _status_by_key(world, "run_1")["B"] == "failed"
    world.connectors["s1"].calls.clear()
    # When the failed items are retried
    retry = review.retry_run(world.deps, "t1", ref.run_id)
    done = _execute(world, retry)
    # Then a new run sent B alone, with the value the first run meant to write
    assert (done.trigger, done.parent_run_id, done.status) == ("retry", "run_1", "succeeded")
    assert _sent(world) == [(101, 1201)]
    assert _status_by_key(world, done.run_id) == {"B": "updated"}


def test_a_run_without_failures_has_nothing_to_retry(world: World) -> None:
    ref = _direct(world)
    with pytest.raises(Conflict) as refused:
        review.retry_run(world.deps, "t1", ref.run_id)
    assert refused.value.reason == "nothing_failed"


def test_revert_puts_back_the_before_image_where_the_store_still_holds_what_was_written(
    world: World,
) -> None:
    # Given a direct run that wrote four prices, and D's price changed by hand since
    ref = _direct(world)
    world.connectors["s1"].calls.clear()
    world.connectors["s1"].modified = [variant(13, 103, "D", price=1500, stock=5)]
    # When it is reverted
    revert = review.revert_run(world.deps, "t1", ref.run_id)
    done = _execute(world, revert)
    # Then A-C got their old prices back, D (changed since) is stale and kept
    assert _sent(world) == [(100, 1000), (101, 1000), (102, 1000)]
    assert (done.trigger, done.parent_run_id) == ("revert", "run_1")
    assert _status_by_key(world, done.run_id) == {
        "A": "updated",
        "B": "updated",
        "C": "updated",
        "D": "stale",
    }
    # and the reverted run's changes say which were put back
    assert _status_by_key(world, "run_1") == {
        "A": "reverted",
        "B": "reverted",
        "C": "reverted",
        "D": "updated",
    }
    # and a revert cannot itself be reverted
    with pytest.raises(Conflict) as refused:
        review.revert_run(world.deps, "t1", done.run_id)
    assert refused.value.reason == "is_a_revert"


def test_a_run_that_wrote_nothing_cannot_be_reverted_and_an_old_one_is_gone(
    world: World,
) -> None:
    ref = _preview(world)
    with pytest.raises(Conflict) as refused:
        review.revert_run(world.deps, "t1", ref.run_id)
    assert refused.value.reason == "nothing_written"
    _apply(world, ref)
    world.clock.advance(timedelta(days=30).total_seconds())
    with pytest.raises(Gone):
        review.revert_run(world.deps, "t1", ref.run_id)


def test_a_write_the_store_refused_as_changed_since_read_is_stale_not_failed(
    world: World,
) -> None:
    # Given a preview, and a store whose compare-and-set write finds B changed since read
    # (as Shopify's inventorySetQuantities answers a stale compareQuantity)
    ref = _preview(world)
    world.connectors["s1"].script.append(
        [ItemResult(True), item_stale("changed in the store since it was read: 7")]
        + [ItemResult(True)] * 2
    )
    # When everything is applied
    run = _apply(world, ref)
    # Then B is stale (kept as the store has it), not failed, and nothing is left to retry
    [b] = [c for c in _changes(world, "run_1") if c.key == "B"]
    assert (b.status, b.error) == ("stale", "changed in the store since it was read: 7")
    assert run.change_counts["status"] == {"updated": 3, "stale": 1}
    with pytest.raises(Conflict):
        review.retry_run(world.deps, "t1", ref.run_id)


def test_applying_a_run_that_failed_sends_what_it_never_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given batches of two, and a direct run whose second batch failed for good
    for step in (match_step, select_step):
        monkeypatch.setattr(step, "capabilities_for", _two_a_batch)
    ref = world.run(world.profile(world.store(CATALOG)))
    out = match(
        world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=world.parsed(ref, FEED))
    )
    world.connectors["s1"].script.extend(
        [[ItemResult(True)] * 2, StoreUnavailable("the store answered 503 for 5 minutes")]
    )
    with pytest.raises(StoreUnavailable):
        _updates(world, ref, out)
    error = StepError(Error="States.TaskFailed", Cause="shard failed")
    failed = finalize(world.deps, FinalizeInput(run=ref, error=error))
    assert failed.status == "failed"
    assert world.run_record(ref).counts["pending"] == 2
    world.connectors["s1"].calls.clear()
    # When the failed run is applied
    run = _apply(world, ref)
    # Then the two items never sent reached the store, and the log and counts say every
    # row is updated (the first run's two and the apply's)
    assert _sent(world) == [(102, 1202), (103, 1203)]
    assert run.status == "succeeded"
    assert (run.counts["updated"], run.counts["pending"]) == (4, 0)
    log = world.blobs.csv(run.log_key or "")
    assert [(r[1], r[4]) for r in log[1:] if r[4] != "row_error"] == [
        (sku, "updated") for sku in SKUS
    ]


def test_a_preview_and_an_apply_obey_the_start_guards_and_take_the_lock(world: World) -> None:
    # Given a previewed run, and another run of the profile holding its lock
    ref = _preview(world)
    assert world.repo.acquire_run_lock("t1", "p1", "run_busy", since=world.clock())
    world.repo.put_run(
        Run(tenant_id="t1", run_id="run_busy", profile_id="p1", store_id="s1",
            trigger="manual", mode="partial", status="updating", created_at=world.clock())
    )  # fmt: skip
    # When a preview is started, or the previewed run applied, Then both are refused
    preview = StartCommand(tenant_id="t1", profile_id="p1", trigger="manual", preview=True)
    for attempt in (
        lambda: start_run(world.deps, preview),
        lambda: review.apply_run(world.deps, "t1", ref.run_id, ApplyBody()),
        lambda: review.revert_run(world.deps, "t1", _direct_on_free_lock(world)),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.reason == "already_running"
    # and a disabled profile refuses a preview as it refuses a Start
    world.repo.release_run_lock("t1", "p1", "run_busy", RunSummary(run_id="run_busy",
                                status="succeeded"), synced=False)  # fmt: skip
    world.repo.update_profile("t1", "p1", enabled=False, disabled_reason="paused")
    with pytest.raises(Conflict) as refused:
        start_run(world.deps, preview)
    assert refused.value.reason == "profile_disabled"
    with pytest.raises(Conflict):
        review.apply_run(world.deps, "t1", ref.run_id, ApplyBody())
    assert world.run_record(ref).status == "previewed"


def _direct_on_free_lock(world: World) -> str:
    """A finished direct run's id, recorded without touching the profile's lock."""
    world.repo.put_run(
        Run(tenant_id="t1", run_id="run_done", profile_id="p1", store_id="s1",
            trigger="manual", mode="partial", status="succeeded", created_at=world.clock(),
            changes_key="runs/t1/run_done/changes.csv",
            change_counts={"status": {"updated": 1}, "field": {"price": 1}})
    )  # fmt: skip
    world.blobs.put_bytes("runs/t1/run_done/changes.csv", b"row\n", "text/csv")
    return "run_done"


def test_an_apply_that_has_just_taken_the_lock_is_not_taken_over(world: World) -> None:
    # Given a previewed run whose apply has taken the profile's lock a moment ago (its
    # status not yet queued)
    ref = _preview(world)
    assert world.repo.acquire_run_lock("t1", "p1", ref.run_id, since=world.clock())
    # When a Start comes in, Then it is refused, not given the apply's lock
    with pytest.raises(Conflict) as refused:
        start_run(world.deps, StartCommand(tenant_id="t1", profile_id="p1", trigger="manual"))
    assert refused.value.reason == "already_running"
    assert world.profile_record().current_run_id == ref.run_id


def test_a_late_end_of_an_earlier_apply_does_not_close_the_current_one(world: World) -> None:
    # Given a run in its second apply
    ref = _preview(world)
    applying = review.apply_run(world.deps, "t1", ref.run_id, ApplyBody(limit=1))
    assert applying.execution_name == "run_1-apply-1"
    # When the EventBridge event of its first execution (the preview) arrives late
    change = ExecutionStatusChange(
        name="run_1", status="FAILED", input=json.dumps({"run": ref.model_dump()})
    )
    execution_ended(world.deps, change)
    # Then the apply goes on, still holding the lock
    assert world.run_record(ref).status == "queued"
    assert world.profile_record().current_run_id == ref.run_id


def test_a_retried_finalize_of_a_revert_still_marks_what_it_put_back(world: World) -> None:
    ref = _direct(world)
    revert = review.revert_run(world.deps, "t1", ref.run_id)
    payload = world.executions.started[revert.execution_name]
    rref = RunRef.model_validate(payload["run"])
    _updates(world, rref, select(world.deps, SelectInput(run=rref, action="revert")))
    # Given a first finalize that settled the changes and then died
    settle_changes(world.deps, world.run_record(rref).changes_key or "", gather(
        world.deps, rref), "")  # fmt: skip
    # When finalize runs again
    finalize(world.deps, FinalizeInput(run=rref))
    # Then the reverted run's changes still say they were put back
    assert set(_status_by_key(world, "run_1").values()) == {"reverted"}


def test_a_direct_run_logs_and_counts_a_value_changed_since_read_as_stale(world: World) -> None:
    stale = item_stale("changed in the store since it was read")
    ref = _direct(world, [ItemResult(True), stale, ItemResult(True), ItemResult(True)])
    run = world.run_record(ref)
    assert (run.counts["updated"], run.counts["failed"], run.counts["stale"]) == (3, 0, 1)
    log = {r[1]: r[4] for r in world.blobs.csv(run.log_key or "")[1:]}
    assert log["B"] == "stale"
