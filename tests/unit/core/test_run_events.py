"""Every run outcome is put on the bus once, and a bus in trouble changes no run."""

from __future__ import annotations

import json
from datetime import timedelta

from fakes import NO_LIMITS, World, variant
from notify_fakes import FakeRunEvents

from feedsync.core.start import execution_ended, start_run
from feedsync.core.steps.finalize import finalize
from feedsync.errors import NotificationUnavailable
from feedsync.models import (
    ExecutionStatusChange,
    FinalizeInput,
    StartCommand,
    StepError,
)

CATALOG = [variant(7, 71, "A")]


def _failure(message: str) -> StepError:
    cause = json.dumps({"errorType": "NoDataRowsError", "errorMessage": message})
    return StepError.model_validate({"Error": "NoDataRowsError", "Cause": cause})


def test_a_failed_run_puts_one_run_finished_event_with_its_outcome(world: World) -> None:
    # Given a bus and a run whose parse failed
    world.deps.events = bus = FakeRunEvents()
    ref = world.run(world.profile(world.store(CATALOG), limits=NO_LIMITS))
    # When MarkFailed closes it
    finalize(world.deps, FinalizeInput(run=ref, error=_failure("feed.csv: no data rows")))
    # Then one "Run Finished" event says who, what and why
    assert len(bus.put_events) == 1
    detail_type, detail = bus.put_events[0]
    assert detail_type == "Run Finished"
    assert detail["status"] == "failed" and detail["error"] == "feed.csv: no data rows"
    assert (detail["tenant_id"], detail["profile_id"], detail["run_id"]) == ("t1", "p1", "run_1")
    assert detail["trigger"] == "manual" and detail["finished_at"] is not None
    assert {"counts", "held_reasons", "created_at", "started_at", "store_id"} <= set(detail)


def test_a_bus_that_fails_does_not_fail_or_change_the_run(world: World) -> None:
    # Given a bus that is throttling
    world.deps.events = FakeRunEvents(fail=NotificationUnavailable("EventBridge: Throttling"))
    ref = world.run(world.profile(world.store(CATALOG), limits=NO_LIMITS))
    # When the run is closed
    result = finalize(world.deps, FinalizeInput(run=ref, error=_failure("bad file")))
    # Then it is closed as if nothing happened: failed, lock released
    assert result.status == world.run_record(ref).status == "failed"
    assert world.profile_record().current_run_id is None


def test_a_skipped_schedule_fire_is_announced(world: World) -> None:
    # Given a disabled profile whose schedule fires
    world.deps.events = bus = FakeRunEvents()
    world.profile(world.store(CATALOG), enabled=False)
    # When the start path records the fire as skipped
    run = start_run(world.deps, StartCommand(tenant_id="t1", profile_id="p1", trigger="schedule"))
    # Then the skipped run is on the bus too
    assert run.status == "skipped"
    assert bus.statuses() == ["skipped"]
    assert "profile_disabled" in bus.put_events[0][1]["reason"]


def test_an_execution_that_ended_without_finalize_is_announced_failed(world: World) -> None:
    # Given a run whose execution was stopped before Finalize
    world.deps.events = bus = FakeRunEvents()
    ref = world.run(world.profile(world.store(CATALOG), limits=NO_LIMITS))
    world.clock.advance(timedelta(minutes=5).total_seconds())
    change = ExecutionStatusChange.model_validate(
        {"name": ref.run_id, "status": "ABORTED", "input": json.dumps({"run": ref.model_dump()})}
    )
    # When the execution watch closes it
    execution_ended(world.deps, change)
    # Then its failure is announced once
    assert bus.statuses() == ["failed"]
    assert "ABORTED" in bus.put_events[0][1]["error"]


def test_an_active_run_is_not_announced(world: World) -> None:
    # Given a run still queued
    world.deps.events = bus = FakeRunEvents()
    ref = world.run(world.profile(world.store(CATALOG), limits=NO_LIMITS))
    # When something asks to announce it
    from feedsync.core.run_events import announce

    announce(world.deps, ref.tenant_id, ref.run_id)
    # Then nothing is put (its end will be)
    assert bus.put_events == []
