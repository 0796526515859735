"""Apply, retry and revert: the merchant decides what of a run reaches the store.

A run's changes file (``domain/changes.py``) is its plan and its before-image. An apply
sends some or all of its pending changes in a new execution of the same run; a retry and
a revert are new runs (``parent_run_id``) built from another run's changes. Each takes
the profile's lock like a run and goes through the select step, which checks every
change against the store as it is now (``core/steps/select.py``).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from feedsync.core import keys
from feedsync.core.api import get_profile, get_run
from feedsync.core.change_files import read_changes
from feedsync.core.deps import Deps
from feedsync.core.start import refusal, start_run, take_run_lock
from feedsync.core.steps.common import ref_of
from feedsync.core.written import (
    drop_conflicts,
    load_dismissed,
    open_conflicts,
    save_dismissed,
)
from feedsync.domain.changes import FAILED, PENDING, SENDING, UPDATED, shown_value
from feedsync.errors import Conflict, Gone, InvalidRequest
from feedsync.models import (
    ACTIVE_STATUSES,
    ApplyBody,
    Run,
    RunSummary,
    StartCommand,
    Trigger,
)

# Unknown keys named in a 422, at most (the rest are counted).
_NAMED_KEYS = 20


def _run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    run = get_run(deps, tenant_id, run_id)  # another tenant's run is NotFound too
    if run.status in ACTIVE_STATUSES:
        raise Conflict("run_active", f"run {run_id} is still {run.status}: wait for it to end")
    return run


def _kept_changes(deps: Deps, run: Run, until_what: str, expired: bool) -> str:
    """The run's changes file, or why it cannot be used any more (410)."""
    if expired:
        raise Gone(f"run {run.run_id}'s {until_what} is no longer kept: start a new run")
    if not run.changes_key or deps.blobs.head(run.changes_key) is None:
        if run.changes_key:
            raise Gone(f"run {run.run_id}'s changes are no longer kept: start a new run")
        raise Conflict("nothing_pending", f"run {run.run_id} has no changes")
    return run.changes_key


def _count(run: Run, status: str) -> int:
    return run.change_counts.get("status", {}).get(status, 0)


def _refuse_unknown(wanted: list[str], known: set[str], what: str) -> None:
    """422 naming the keys in ``wanted`` that are not ``known`` (nothing is done)."""
    unknown = [key for key in dict.fromkeys(wanted) if key not in known]
    if unknown:
        named = ", ".join(unknown[:_NAMED_KEYS])
        more = f" and {len(unknown) - _NAMED_KEYS} more" if len(unknown) > _NAMED_KEYS else ""
        raise InvalidRequest("keys", f"{what}: {named}{more}; nothing was done")


def apply_run(deps: Deps, tenant_id: str, run_id: str, body: ApplyBody) -> Run:
    """Send the run's pending changes (all, of ``keys``, or of the next ``limit`` items) in
    a new execution of the run; answers the run, queued."""
    run = _run(deps, tenant_id, run_id)
    expired = deps.clock() >= run.plan_expires_at
    changes_key = _kept_changes(deps, run, "plan", expired)
    if body.keys is not None:
        _check_keys(deps, run, changes_key, body.keys)
    elif _count(run, PENDING) == 0:
        raise Conflict("nothing_pending", f"run {run_id} has no pending changes to apply")
    profile = deps.repo.get_profile(tenant_id, run.profile_id)
    if profile is None:
        raise Conflict("profile_missing", f"profile {run.profile_id} no longer exists")
    refused = refusal(deps, tenant_id, profile)
    if refused is not None:
        raise refused
    if profile.store_id != run.store_id:
        raise Conflict("store_changed", "the profile now writes to another store than this run")
    now = deps.clock()
    if not take_run_lock(deps, tenant_id, run.profile_id, run_id, now):
        raise Conflict("already_running", "this profile is already running")
    round_no = run.round + 1
    applied = run.model_copy(update={"round": round_no, "status": "queued"})
    selection = body.model_dump(exclude_none=True)
    before = {
        "status": run.status,
        "round": run.round,
        "finished_at": run.finished_at,
        "error": run.error,
    }
    try:
        deps.blobs.put_bytes(
            keys.selection_key(tenant_id, run_id, round_no),
            json.dumps(selection).encode(),
            "application/json",
        )
        deps.repo.update_run(
            tenant_id,
            run_id,
            status="queued",
            round=round_no,
            finished_at=None,
            error=None,
            reason=None,
            shard_error=None,
            cancel_requested_at=None,
            started_at=now,  # an in-flight batch is read back from here
            progress={"done": 0, "total": 0, "shards": {}},
        )
        payload = {"run": ref_of(applied).model_dump(), "action": "apply"}
        deps.executions.start(applied.execution_name, payload)
    except Exception:
        with contextlib.suppress(Exception):  # the original error is the one to report
            if deps.executions.status(applied.execution_name) is not None:
                return applied  # the answer was lost, the execution runs
        with contextlib.suppress(Exception):
            deps.repo.update_run(tenant_id, run_id, **before)
            summary = RunSummary(run_id=run_id, status=run.status, finished_at=run.finished_at)
            deps.repo.release_run_lock(tenant_id, run.profile_id, run_id, summary, synced=False)
        raise
    return applied


def _check_keys(deps: Deps, run: Run, changes_key: str, wanted: list[str]) -> None:
    """Every key must be in the run's changes (422 naming those that are not), and some of
    them still pending (409)."""
    asked = set(wanted)
    known: set[str] = set()
    pending = False
    for line in read_changes(deps, changes_key):
        if line.key in asked:
            known.add(line.key)
            pending = pending or line.status in (PENDING, SENDING)
    _refuse_unknown(wanted, known, f"not among run {run.run_id}'s changes")
    if not pending:
        raise Conflict("nothing_pending", "none of these items has a pending change")


def retry_run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    """A new run re-sending the failed changes of ``run_id``, with the values it meant to
    write, checked against the store as it is now."""
    parent = _run(deps, tenant_id, run_id)
    if _count(parent, FAILED) == 0:
        raise Conflict("nothing_failed", f"run {run_id} has no failed changes to retry")
    _kept_changes(deps, parent, "plan", deps.clock() >= parent.plan_expires_at)
    return _child(deps, parent, "retry")


def revert_run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    """A new run putting back what ``run_id`` replaced, where the store still holds what
    that run wrote."""
    parent = _run(deps, tenant_id, run_id)
    if parent.trigger == "revert":
        raise Conflict(
            "is_a_revert",
            f"run {run_id} is itself a revert: revert run {parent.parent_run_id} again "
            "or start a new run",
        )
    if _count(parent, UPDATED) == 0:
        raise Conflict("nothing_written", f"run {run_id} wrote nothing to the store to revert")
    expired = deps.clock() >= parent.before_image_expires_at
    _kept_changes(deps, parent, "before-image", expired)
    return _child(deps, parent, "revert")


def _child(deps: Deps, parent: Run, trigger: Trigger) -> Run:
    profile = deps.repo.get_profile(parent.tenant_id, parent.profile_id)
    if profile is not None and profile.store_id != parent.store_id:
        raise Conflict("store_changed", "the profile now writes to another store than this run")
    cmd = StartCommand(
        tenant_id=parent.tenant_id,
        profile_id=parent.profile_id,
        trigger=trigger,
        mode=parent.mode,
        parent_run_id=parent.run_id,
    )
    return start_run(deps, cmd)


# ------------------------------------------------------------------ store-side edits
def list_conflicts(
    deps: Deps, tenant_id: str, profile_id: str, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """The profile's open conflicts (the store kept a value changed since feedsync wrote
    it), ``limit`` at a time from ``cursor``."""
    get_profile(deps, tenant_id, profile_id)
    start = 0
    if cursor is not None:
        if not cursor.isdigit():
            raise InvalidRequest("cursor", "not a cursor this API gave out")
        start = int(cursor)
    found = open_conflicts(deps, tenant_id, profile_id)
    page = found[start : start + limit]
    for c in page:
        for name in ("store_value", "feed_value", "last_written"):
            c[name] = shown_value(c["field"], c[name])
    more = start + limit < len(found)
    return {"conflicts": page, "next": str(start + limit) if more else None}


def _chosen(
    deps: Deps, tenant_id: str, profile_id: str, wanted: list[str] | None
) -> list[dict[str, Any]]:
    get_profile(deps, tenant_id, profile_id)
    found = open_conflicts(deps, tenant_id, profile_id)
    if wanted is not None:
        _refuse_unknown(wanted, {c["key"] for c in found}, "no open conflict for")
        asked = set(wanted)
        found = [c for c in found if c["key"] in asked]
    if not found:
        raise Conflict("no_conflicts", f"profile {profile_id} has no open conflicts")
    return found


def reapply_conflicts(deps: Deps, tenant_id: str, profile_id: str, wanted: list[str] | None) -> Run:
    """A run (``trigger: reapply``) writing the feed's values over the store's edits."""
    _chosen(deps, tenant_id, profile_id, wanted)
    cmd = StartCommand(tenant_id=tenant_id, profile_id=profile_id, trigger="reapply", keys=wanted)
    return start_run(deps, cmd)


def dismiss_conflicts(deps: Deps, tenant_id: str, profile_id: str, wanted: list[str] | None) -> int:
    """Leave these values to the store: not flagged again until the feed's value changes."""
    chosen = _chosen(deps, tenant_id, profile_id, wanted)
    dismissed = load_dismissed(deps, tenant_id, profile_id)
    for c in chosen:
        dismissed[(c["variant_id"], c["field"])] = c["feed_value"]
    save_dismissed(deps, tenant_id, profile_id, dismissed)
    drop_conflicts(deps, tenant_id, profile_id, {(c["variant_id"], c["field"]) for c in chosen})
    return len(chosen)
