"""The one start path: every trigger (API, upload, schedule, chain) comes through here."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta

from feedsync.core import keys, schedules, tenant_guard
from feedsync.core.deps import Deps
from feedsync.core.run_events import announce, announce_run
from feedsync.core.source_check import stop_if_unchanged
from feedsync.core.steps.common import ref_of
from feedsync.errors import Conflict, NotFound
from feedsync.models import (
    ACTIVE_STATUSES,
    ExecutionStatusChange,
    Profile,
    Run,
    RunSummary,
    StartCommand,
    StatusOnly,
    Store,
)

# A run younger than this may not have its execution yet (start_run is between steps).
_START_GRACE = timedelta(minutes=2)


def start_run(deps: Deps, cmd: StartCommand) -> Run:
    """Apply the guards, take the profile's lock, record the run, start the execution.

    A trigger delivered twice with the same idempotency key gets the first run back.
    A scheduled fire or an upload that cannot run now is recorded as a ``skipped`` run with
    the reason (the history says why nothing happened), never queued; an ``automatic``
    schedule's fire that finds the last synced file raises ``SourceUnchanged`` and
    records only the check (core/source_check.py).
    """
    profile = deps.repo.get_profile(cmd.tenant_id, cmd.profile_id)
    if profile is None:
        raise NotFound(f"profile {cmd.profile_id} not found")
    if cmd.trigger == "schedule" and tenant_guard.refusal(deps, cmd.tenant_id) is None:
        # An unchanged file records a check and raises SourceUnchanged: before the claim
        # (a retried fire checks again, recording nothing more than a check). A disabled
        # tenant's fire probes nothing: it is recorded skipped with the reason (_start).
        stop_if_unchanged(deps, cmd, profile)
    run_id = deps.ids("run")
    if cmd.idempotency_key:
        earlier = _claimed_before(deps, cmd, run_id)
        if earlier is not None:
            return earlier
        try:
            return _start(deps, cmd, profile, run_id)
        except Exception:
            # Nothing recorded: a later delivery with this key may try again.
            with contextlib.suppress(Exception):
                if deps.repo.get_run(cmd.tenant_id, run_id) is None:
                    deps.repo.drop_idempotency_key(cmd.tenant_id, _idempotency_item(cmd))
            raise
    return _start(deps, cmd, profile, run_id)


def _idempotency_item(cmd: StartCommand) -> str:
    return f"{cmd.trigger}:{cmd.profile_id}:{cmd.idempotency_key}"


def _claimed_before(deps: Deps, cmd: StartCommand, run_id: str) -> Run | None:
    """The run an earlier delivery with this key started (None: ``run_id`` claimed it)."""
    first = deps.repo.claim_idempotency_key(cmd.tenant_id, _idempotency_item(cmd), run_id)
    return None if first is None else _first_run(deps, cmd.tenant_id, first)


def _first_run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    """The run an earlier delivery of this trigger started (it may be a moment behind)."""
    for _ in range(50):
        run = deps.repo.get_run(tenant_id, run_id)
        if run is not None:
            return run
        deps.sleep(0.1)
    raise Conflict("duplicate_trigger", f"this trigger already started run {run_id}")


def refusal(deps: Deps, tenant_id: str, profile: Profile) -> Conflict | None:
    """Why this profile cannot start (or apply) now, or None."""
    stopped = tenant_guard.refusal(deps, tenant_id)
    if stopped is not None:
        return stopped  # (an operator disabled the tenant: core/tenants.py)
    if not profile.enabled:
        return blocked(profile, None)
    return blocked(profile, deps.repo.get_store(tenant_id, profile.store_id))


def blocked(profile: Profile, store: Store | None) -> Conflict | None:
    """Why this profile cannot start with its store as it is, or None (the run lock aside)."""
    if not profile.enabled:
        why = profile.disabled_reason or "the profile is disabled"
        return Conflict("profile_disabled", f"profile is disabled: {why}")
    if store is None:
        return Conflict("store_missing", f"store {profile.store_id} no longer exists")
    if store.status == "setting_up":
        return Conflict("store_setting_up", "the store's catalog import is still running")
    if store.status != "ready":
        return Conflict("store_not_ready", f"the store's catalog import failed: {store.error}")
    if profile.source.type == "upload" and not profile.upload_key:
        return Conflict("no_file", "no file has been uploaded for this profile yet")
    return None


# Triggers no merchant waits on for an answer: what stops them goes into the history.
# (the reason each is recorded with when another run holds the lock)
_RECORDED_WHEN_REFUSED = {
    "schedule": "already_running: the previous run had not finished",
    "upload": "already_running: a run was in progress when the file arrived; the file is kept "
    "as the profile's file: Start syncs it",
}


def _new_run(deps: Deps, cmd: StartCommand, profile: Profile, run_id: str) -> Run:
    return Run(
        tenant_id=cmd.tenant_id,
        run_id=run_id,
        profile_id=profile.profile_id,
        store_id=profile.store_id,
        trigger=cmd.trigger,
        mode=cmd.mode or profile.mode,
        scheduled_time=cmd.scheduled_time,
        created_at=deps.clock(),
        preview=cmd.preview,
        parent_run_id=cmd.parent_run_id,
    )


def record_skipped(deps: Deps, cmd: StartCommand, reason: str) -> Run:
    """A trigger that will not run, recorded with why (e.g. an empty upload); once per
    idempotency key, as a run would be."""
    profile = deps.repo.get_profile(cmd.tenant_id, cmd.profile_id)
    if profile is None:
        raise NotFound(f"profile {cmd.profile_id} not found")
    run_id = deps.ids("run")
    if not cmd.idempotency_key:
        return _skipped(deps, _new_run(deps, cmd, profile, run_id), reason)
    if (earlier := _claimed_before(deps, cmd, run_id)) is not None:
        return earlier
    try:
        return _skipped(deps, _new_run(deps, cmd, profile, run_id), reason)
    except Exception:
        # Nothing recorded: the redelivery may record it (the key would name no run).
        with contextlib.suppress(Exception):
            deps.repo.drop_idempotency_key(cmd.tenant_id, _idempotency_item(cmd))
        raise


def _start(deps: Deps, cmd: StartCommand, profile: Profile, run_id: str) -> Run:
    run = _new_run(deps, cmd, profile, run_id)
    refused = refusal(deps, cmd.tenant_id, profile)
    if refused is not None:
        if cmd.trigger in _RECORDED_WHEN_REFUSED:
            return _skipped(deps, run, f"{refused.reason}: {refused.message}")
        raise refused
    if cmd.trigger == "schedule":
        # Black-outs stop scheduled runs only; a manual Start is the merchant's call.
        settings = schedules.tenant_settings(deps, cmd.tenant_id)
        blackout = schedules.blackout_reason(profile, settings, cmd.scheduled_time or deps.clock())
        if blackout:
            return _skipped(deps, run, blackout)
    if not take_run_lock(deps, cmd.tenant_id, cmd.profile_id, run_id, run.created_at):
        if cmd.trigger in _RECORDED_WHEN_REFUSED:
            return _skipped(deps, run, _RECORDED_WHEN_REFUSED[cmd.trigger])
        raise Conflict("already_running", "this profile is already running")
    ref = ref_of(run)
    try:
        deps.repo.put_run(run)
        if cmd.keys is not None:  # which items, for its select step (a reapply's)
            chosen = json.dumps({"keys": cmd.keys}).encode()
            deps.blobs.put_bytes(keys.selection_key(cmd.tenant_id, run_id, 0), chosen)
        # A retry, revert or reapply sends stored changes; every other run reads a file.
        action = cmd.trigger if cmd.trigger in ("retry", "revert", "reapply") else "run"
        deps.executions.start(run_id, {"run": ref.model_dump(), "action": action})
    except Exception as exc:
        # An answer lost after StartExecution succeeded: the execution runs, keep the lock.
        with contextlib.suppress(Exception):
            if deps.executions.status(run_id) is not None:
                return run
        # The execution never started: nothing will release the lock but us, so release
        # it first, then record the failed run (upsert: put_run itself may have failed).
        reason = f"could not start the run: {exc}"
        summary = RunSummary(run_id=run_id, status="failed", error=reason)
        deps.repo.release_run_lock(cmd.tenant_id, cmd.profile_id, run_id, summary, synced=False)
        failed = run.model_copy(
            update={"status": "failed", "error": reason, "finished_at": deps.clock()}
        )
        with contextlib.suppress(Exception):  # the original error is the one to report
            deps.repo.put_run(failed)
        announce_run(deps, failed)
        raise
    return run


def _skipped(deps: Deps, run: Run, reason: str) -> Run:
    """Record a trigger that did not run, so the history says why nothing happened."""
    skipped = run.model_copy(
        update={"status": "skipped", "reason": reason, "finished_at": deps.clock()}
    )
    deps.repo.put_run(skipped)
    announce_run(deps, skipped)
    return skipped


def take_run_lock(
    deps: Deps, tenant_id: str, profile_id: str, run_id: str, since: datetime
) -> bool:
    """Take the profile's lock for ``run_id``, freeing it first when its holder can no
    longer release it; False when another run holds it."""
    lock = (tenant_id, profile_id, run_id)
    return deps.repo.acquire_run_lock(*lock, since=since) or (
        clear_stale_lock(deps, tenant_id, profile_id)
        and deps.repo.acquire_run_lock(*lock, since=since)
    )


def clear_stale_lock(deps: Deps, tenant_id: str, profile_id: str) -> bool:
    """Free a lock whose run can no longer release it; True if it was freed.

    That is a run already final (its release failed), or one whose execution ended
    without reaching Finalize/MarkFailed (stopped, timed out, MarkFailed exhausted).
    """
    profile = deps.repo.get_profile(tenant_id, profile_id)
    holder = profile.current_run_id if profile else None
    if holder is None:
        return True  # released meanwhile
    run = deps.repo.get_run(tenant_id, holder)
    since = profile.current_run_since if profile else None
    if (run is None or run.status not in ACTIVE_STATUSES) and (
        since is not None and deps.clock() - since < _START_GRACE
    ):
        # a start in progress (its run record is being written), or an apply that has
        # just taken its finished run's lock (its status is being set)
        return False
    if run is not None and run.status in ACTIVE_STATUSES:
        # (an apply re-takes an older run's lock: the lock's own time counts too)
        if deps.clock() - max(run.created_at, since or run.created_at) < _START_GRACE:
            return False
        if deps.executions.status(run.execution_name) == "RUNNING":
            return False
        abandon_run(deps, run, "the run's execution ended before the run finished")
        announce(deps, tenant_id, run.run_id)
        return True
    summary = (
        RunSummary(run_id=holder, status=run.status, finished_at=run.finished_at, error=run.error)
        if run is not None
        else RunSummary(run_id=holder, status="failed", error="run record missing")
    )
    deps.repo.release_run_lock(tenant_id, profile_id, holder, summary, synced=False)
    return True


def abandon_run(deps: Deps, run: Run, reason: str) -> None:
    """Mark an active run failed and release its lock (its execution will not)."""
    if run.status not in ACTIVE_STATUSES:
        return
    now = deps.clock()
    deps.repo.update_run(run.tenant_id, run.run_id, status="failed", error=reason, finished_at=now)
    summary = RunSummary(
        run_id=run.run_id, status="failed", finished_at=now, counts=run.counts, error=reason
    )
    deps.repo.release_run_lock(run.tenant_id, run.profile_id, run.run_id, summary, synced=False)


def execution_ended(deps: Deps, change: ExecutionStatusChange) -> StatusOnly:
    """An execution stopped, timed out or failed: close its run if nothing else did."""
    ref = change.run_ref()
    run = deps.repo.get_run(ref.tenant_id, ref.run_id) if ref else None
    if run is None:
        return StatusOnly(status="unknown", detail=f"no run for execution {change.name}")
    if run.status in ACTIVE_STATUSES and change.name != run.execution_name:
        # an earlier apply's execution ending late: the run's current one goes on
        return StatusOnly(status=run.status, detail=f"{change.name} is not the run's current")
    if run.status in ACTIVE_STATUSES:
        reason = f"the run's execution ended ({change.status}) before the run finished"
        abandon_run(deps, run, reason)
        announce(deps, run.tenant_id, run.run_id)
        return StatusOnly(status="failed", detail=reason)
    return StatusOnly(status=run.status, detail="already closed")
