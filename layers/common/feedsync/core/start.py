"""The one start path: every trigger (API, upload, schedule, chain) comes through here."""

from __future__ import annotations

import contextlib

from feedsync.core.deps import Deps
from feedsync.errors import Conflict, NotFound
from feedsync.models import Run, RunRef, RunSummary, StartCommand


def start_run(deps: Deps, cmd: StartCommand) -> Run:
    """Apply the guards, take the profile's lock, record the run, start the execution."""
    profile = deps.repo.get_profile(cmd.tenant_id, cmd.profile_id)
    if profile is None:
        raise NotFound(f"profile {cmd.profile_id} not found")
    if not profile.enabled:
        why = profile.disabled_reason or "the profile is disabled"
        raise Conflict("profile_disabled", f"profile is disabled: {why}")
    store = deps.repo.get_store(cmd.tenant_id, profile.store_id)
    if store is None:
        raise Conflict("store_missing", f"store {profile.store_id} no longer exists")
    if store.status == "setting_up":
        raise Conflict("store_setting_up", "the store's catalog import is still running")
    if store.status != "ready":
        raise Conflict("store_not_ready", f"the store's catalog import failed: {store.error}")
    if profile.source.type == "upload" and not profile.upload_key:
        raise Conflict("no_file", "no file has been uploaded for this profile yet")

    run_id = deps.ids("run")
    if not deps.repo.acquire_run_lock(cmd.tenant_id, cmd.profile_id, run_id):
        raise Conflict("already_running", "this profile is already running")
    run = Run(
        tenant_id=cmd.tenant_id,
        run_id=run_id,
        profile_id=profile.profile_id,
        store_id=profile.store_id,
        trigger=cmd.trigger,
        mode=cmd.mode or profile.mode,
        created_at=deps.clock(),
    )
    ref = RunRef(
        tenant_id=run.tenant_id,
        run_id=run_id,
        profile_id=run.profile_id,
        store_id=run.store_id,
    )
    try:
        deps.repo.put_run(run)
        deps.executions.start(run_id, {"run": ref.model_dump()})
    except Exception as exc:
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
        raise
    return run
