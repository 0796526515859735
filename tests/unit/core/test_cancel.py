"""POST /runs/{id}/cancel and what it does to a run, over fakes.

A cancel is recorded on the run; a step stops at its start (RunCancelled, caught by the
ASL into MarkCancelled), the update step between batches (no extra request: the progress
write answers it); finalize closes the run ``cancelled``, releases the lock and logs
exactly what reached the store.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import World, row
from test_in_flight import CATALOG, SKUS, planned, small_batches

from feedsync.core import keys
from feedsync.core.ports import ItemResult
from feedsync.core.steps import match as match_step
from feedsync.core.steps.fetch import fetch
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.parse import parse
from feedsync.core.steps.update import update
from feedsync.domain.runlog import CANCELLED_MESSAGE
from feedsync.domain.writes import PlanItem
from feedsync.errors import RunCancelled
from feedsync.models import FetchInput, FinalizeInput, MatchInput, ParseInput, RunRef, StepError
from tests.unit.api_support import call

CANCELLED = StepError.model_validate(
    {"Error": "RunCancelled", "Cause": json.dumps({"errorMessage": "run run_1 was cancelled"})}
)


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    """The fakes, as the tenant the API test requests come from."""
    made = World(str(tmp_path))
    made.tenant = "tenant-1"
    monkeypatch.setattr("routes.common.deps", lambda: made.deps)
    monkeypatch.setattr(match_step, "capabilities_for", small_batches)
    made.deps.shard_batches = 3
    return made


@pytest.fixture
def ref(world: World) -> RunRef:
    run = world.run(world.profile(world.store(CATALOG)))
    world.repo.update_run(world.tenant, "run_1", started_at=world.clock())
    return run


def log_of(world: World) -> dict[str, list[str]]:
    return {r[1]: r for r in world.blobs.csv(keys.log_key(world.tenant, "run_1"))[1:]}


def test_cancel_answers_202_and_records_the_request_once(world: World, ref: RunRef) -> None:
    # When a client cancels an active run, twice
    first = call("POST", "/runs/run_1/cancel")
    when = world.run_record(ref).cancel_requested_at
    world.clock.advance(5)
    second = call("POST", "/runs/run_1/cancel")
    # Then both are accepted, and the request keeps its first time
    assert first == second == (202, {"run_id": "run_1", "status": "cancelling"})
    assert when is not None and world.run_record(ref).cancel_requested_at == when


def test_cancel_of_an_unknown_or_another_tenants_run_is_404(world: World) -> None:
    # Given a run of another tenant
    world.tenant = "tenant-2"
    world.run(world.profile(world.store(CATALOG)))
    # When tenant-1 (the API key's) cancels it, or a run nobody has
    theirs, unknown = call("POST", "/runs/run_1/cancel"), call("POST", "/runs/run_9/cancel")
    # Then both are 404 and the other tenant's run is untouched
    assert theirs[0] == unknown[0] == 404 and theirs[1]["error"] == "not_found"
    assert world.repo.get_run("tenant-2", "run_1").cancel_requested_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("status", ["succeeded", "failed", "skipped", "cancelled"])
def test_cancel_of_a_finished_run_is_409_with_the_reason(
    world: World, ref: RunRef, status: str
) -> None:
    world.repo.update_run(world.tenant, "run_1", status=status)
    got = call("POST", "/runs/run_1/cancel")
    assert got[0] == 409 and got[1]["error"] == "run_finished"
    assert f"already ended ({status})" in got[1]["message"]
    assert world.run_record(ref).cancel_requested_at is None


def test_the_route_is_documented_with_each_answer() -> None:
    status, doc = call("GET", "/openapi.json")
    assert status == 200
    answers = doc["paths"]["/runs/{run_id}/cancel"]["post"]["responses"]
    assert {"202", "404", "409"} <= set(answers)
    schema = doc["components"]["schemas"]["CancelAccepted"]
    assert set(schema["properties"]) == {"run_id", "status"}


def test_a_cancel_while_updating_stops_between_batches_and_logs_the_store(
    world: World, ref: RunRef
) -> None:
    # Given a shard of three batches and a cancel arriving while batch 1 is sent
    step = planned(world, ref)
    connector = world.connectors["s1"]

    def cancel_then_write(op: str, items: list[PlanItem]) -> list[ItemResult]:
        assert call("POST", "/runs/run_1/cancel")[0] == 202
        return [ItemResult(True) for _ in items]

    connector.script.append(cancel_then_write)
    # When the shard runs and the run is finalized
    update(world.deps, step)
    result = finalize(world.deps, FinalizeInput(run=ref))
    # Then only batch 1 was sent, and the run is cancelled with the lock released
    assert len(connector.calls) == 1
    assert result.status == "cancelled"
    run = world.run_record(ref)
    assert run.status == "cancelled" and run.finished_at is not None
    assert run.reason is not None and "2 rows had reached the store" in run.reason
    profile = world.profile_record()
    assert profile.current_run_id is None and profile.status == "ready"
    assert profile.last_run is not None and profile.last_run.status == "cancelled"
    # and the log is what the store got: 2 updated, 4 never sent because of the cancel
    log = log_of(world)
    assert [log[sku][4] for sku in SKUS] == ["updated"] * 2 + ["not_applied"] * 4
    assert log["S5"][6] == CANCELLED_MESSAGE
    assert (run.counts["updated"], run.counts["failed"]) == (2, 0)
    assert world.index().by_sku["S1"][4] == 1200 and world.index().by_sku["S2"][4] == 1000


def test_a_cancel_after_the_last_batch_leaves_the_run_succeeded(world: World, ref: RunRef) -> None:
    # Given a cancel that arrives while the last batch is sent: everything reaches the store
    step = planned(world, ref)
    connector = world.connectors["s1"]
    connector.script.extend([lambda op, items: [ItemResult(True) for _ in items]] * 2)

    def late_cancel(op: str, items: list[PlanItem]) -> list[ItemResult]:
        call("POST", "/runs/run_1/cancel")
        return [ItemResult(True) for _ in items]

    connector.script.append(late_cancel)
    update(world.deps, step)
    # Then the run says what happened: it succeeded
    assert finalize(world.deps, FinalizeInput(run=ref)).status == "succeeded"


@pytest.mark.parametrize("phase", ["fetch", "parse", "match"])
def test_a_run_cancelled_before_updating_stops_at_the_next_step_writing_nothing(
    world: World, ref: RunRef, phase: str
) -> None:
    # Given a cancel requested before the step starts
    assert call("POST", "/runs/run_1/cancel")[0] == 202
    parsed = world.parsed(ref, [row(2, "S0", price=1200)])
    steps = {
        "fetch": lambda: fetch(world.deps, FetchInput(run=ref)),
        "parse": lambda: parse(world.deps, ParseInput(run=ref, fetch=world.fetched(ref))),
        "match": lambda: match(
            world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed)
        ),
    }
    # When the step runs, Then it stops with RunCancelled (the ASL's MarkCancelled)
    with pytest.raises(RunCancelled):
        steps[phase]()
    assert world.blobs.head(keys.manifest_key(world.tenant, "run_1")) is None
    # and MarkCancelled closes the run with nothing sent
    result = finalize(world.deps, FinalizeInput(run=ref, error=CANCELLED))
    assert result.status == "cancelled" and world.connectors["s1"].calls == []
    run = world.run_record(ref)
    assert run.status == "cancelled" and run.reason is not None and "before anything" in run.reason
    assert world.profile_record().current_run_id is None
    # and a redelivered MarkCancelled changes nothing
    assert finalize(world.deps, FinalizeInput(run=ref, error=CANCELLED)).status == "cancelled"
    assert world.repo.statuses("run_1").count("cancelled") == 1


def test_a_shard_that_starts_after_the_cancel_sends_nothing(world: World, ref: RunRef) -> None:
    step = planned(world, ref)
    call("POST", "/runs/run_1/cancel")
    update(world.deps, step)
    assert world.connectors["s1"].calls == []
    assert finalize(world.deps, FinalizeInput(run=ref)).status == "cancelled"
    assert set(r[4] for r in log_of(world).values()) == {"not_applied"}
