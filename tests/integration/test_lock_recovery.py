"""A lock whose run can no longer release it is recovered, never held for ever."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from integration_harness import Harness, simple_product

from feedsync.errors import Conflict
from feedsync.models import Run

FEED = "SKU,Price,Qty\nCAP-1,9.50,2\n"


def _orphaned_run(h: Harness, age: timedelta) -> tuple[str, str, str]:
    """A run that holds the profile's lock, still "preparing", with no execution behind it.

    This is what a stopped or timed-out execution, or an exhausted MarkFailed, leaves.
    """
    shop = h.shop([simple_product("Cap", "CAP-1", "9.00", 1)])
    profile = h.url_profile(shop, FEED)
    run_id = h.deps.ids("run")
    created = datetime.now(UTC) - age
    assert h.deps.repo.acquire_run_lock(shop.tenant, profile.profile_id, run_id, since=created)
    h.deps.repo.put_run(
        Run(
            tenant_id=shop.tenant,
            run_id=run_id,
            profile_id=profile.profile_id,
            store_id=shop.store.store_id,
            trigger="manual",
            mode="partial",
            status="preparing",
            created_at=created,
        )
    )
    return shop.tenant, profile.profile_id, run_id


def test_start_takes_over_the_lock_of_an_orphaned_run(h: Harness) -> None:
    # Given a run that holds the lock but has no execution, started 5 minutes ago
    tenant, profile_id, stuck_id = _orphaned_run(h, timedelta(minutes=5))
    # When a start comes in
    new = h.start(tenant, profile_id)
    # Then the orphan is closed as failed with a reason, and the new run succeeds
    stuck = h.deps.repo.get_run(tenant, stuck_id)
    assert stuck is not None and stuck.status == "failed"
    assert "ended before the run finished" in (stuck.error or "")
    assert h.wait_run(tenant, new.run_id).status == "succeeded"


def test_a_just_started_run_keeps_its_lock(h: Harness) -> None:
    # Given a run that holds the lock and was created seconds ago (its execution may be
    # about to start)
    tenant, profile_id, young_id = _orphaned_run(h, timedelta(seconds=5))
    # When a start comes in, then it is refused and the young run is left alone
    with pytest.raises(Conflict) as refused:
        h.start(tenant, profile_id)
    young = h.deps.repo.get_run(tenant, young_id)
    assert refused.value.reason == "already_running"
    assert young is not None and young.status == "preparing"


def test_the_execution_watcher_closes_a_run_whose_execution_ended(h: Harness) -> None:
    # Given a run whose execution was stopped before Finalize/MarkFailed ran
    tenant, profile_id, stuck_id = _orphaned_run(h, timedelta(seconds=5))
    ref = {"tenant_id": tenant, "run_id": stuck_id, "profile_id": profile_id, "store_id": "s"}
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": stuck_id, "status": "ABORTED", "input": json.dumps({"run": ref})},
    }
    # When EventBridge delivers the status change to the watcher, twice (at-least-once)
    out = h.stack.invoke("ExecutionWatchFunction", event)
    again = h.stack.invoke("ExecutionWatchFunction", event)
    # Then the run is failed with the reason, the lock is free, and the redelivery is a no-op
    run = h.deps.repo.get_run(tenant, stuck_id)
    profile = h.deps.repo.get_profile(tenant, profile_id)
    assert out["status"] == "failed" and again["detail"] == "already closed"
    assert run is not None and run.status == "failed" and "ABORTED" in (run.error or "")
    assert profile is not None and profile.current_run_id is None and profile.status == "ready"


def _lock_without_record(h: Harness, taken_ago: timedelta) -> tuple[str, str, str]:
    """A lock taken by a start that has not written its run record yet (or never will)."""
    shop = h.shop([simple_product("Cap", "CAP-1", "9.00", 1)])
    profile = h.url_profile(shop, FEED)
    run_id = h.deps.ids("run")
    since = datetime.now(UTC) - taken_ago
    assert h.deps.repo.acquire_run_lock(shop.tenant, profile.profile_id, run_id, since=since)
    return shop.tenant, profile.profile_id, run_id


def test_a_start_between_another_starts_lock_and_its_run_record_is_refused(h: Harness) -> None:
    # Given another start that took the lock a moment ago and is about to write its run
    # record (under load, fifty simultaneous starts meet here)
    tenant, profile_id, holder = _lock_without_record(h, timedelta(seconds=1))
    # When a second start comes in, Then it is refused and the first keeps the lock
    with pytest.raises(Conflict) as refused:
        h.start(tenant, profile_id)
    profile = h.deps.repo.get_profile(tenant, profile_id)
    assert refused.value.reason == "already_running"
    assert profile is not None and profile.current_run_id == holder


def test_a_lock_whose_run_record_never_came_is_taken_over_after_the_grace(h: Harness) -> None:
    # Given a lock taken 5 minutes ago by a start that died before writing its run record
    tenant, profile_id, holder = _lock_without_record(h, timedelta(minutes=5))
    # When a start comes in
    new = h.start(tenant, profile_id)
    # Then it takes the lock over and runs to the end
    assert new.run_id != holder
    assert h.wait_run(tenant, new.run_id).status == "succeeded"
