"""Finalize, MarkFailed, MarkSkipped and MarkCancelled: close the run (one Lambda serves
all four).

Every path writes what reached the store to the log and the catalog index, releases
the profile's lock and is safe to run twice (Step Functions retries it).
"""

from __future__ import annotations

import json
import logging

from feedsync.core import keys
from feedsync.core.blobcsv import csv_records
from feedsync.core.catalog_store import apply_to_catalog
from feedsync.core.change_files import mark_reverted, settle_changes, write_changes_log
from feedsync.core.creating import add_created_to_catalog
from feedsync.core.deps import Deps
from feedsync.core.run_events import announce
from feedsync.core.run_results import RunOutcome, gather, write_log
from feedsync.core.start import abandon_run, start_run
from feedsync.core.steps.common import profile_of, ref_of, run_of, stock_elsewhere, store_of
from feedsync.core.written import drop_conflicts, remember_refused, remember_written
from feedsync.domain.runlog import CANCELLED_MESSAGE, NOT_APPLIED_MESSAGE
from feedsync.errors import Conflict, ShardsIncomplete
from feedsync.models import (
    ACTIVE_STATUSES,
    AfterSchedule,
    FinalizeInput,
    FinalizeOutput,
    Run,
    RunRef,
    RunStatus,
    RunSummary,
    StartCommand,
    StepError,
)

log = logging.getLogger(__name__)
# Runs that send another run's (or the profile's conflicts') stored changes, reading no file.
CHANGES_ONLY = ("retry", "revert", "reapply")


def finalize(deps: Deps, step: FinalizeInput) -> FinalizeOutput:
    """Close the run (succeeded, or failed/skipped on the error path), then announce how
    it ended (``core/run_events``). Idempotent."""
    result = _finalize(deps, step)
    announce(deps, step.run.tenant_id, step.run.run_id)
    return result


def _finalize(deps: Deps, step: FinalizeInput) -> FinalizeOutput:
    ref = step.run
    run = run_of(deps, ref)
    if step.error is not None:
        return _close_on_error(deps, run, step.error)
    if step.previewed:
        return mark_for_review(deps, run)

    outcome = gather(deps, ref, run.started_at, read_back=False)
    if outcome.unfinished:
        if run.cancel_requested_at is not None:  # the shards stopped between batches
            return mark_cancelled(deps, run)
        # The Map can report success past a failed child; the Catch path marks the run
        # (and reads back what the stopped shards were sending).
        total = len(outcome.manifest)
        why = (
            f"{len(outcome.unfinished)} of {total} update shards did not complete and "
            "recorded no error (the update function was stopped: a timeout or out of memory?)"
        )
        raise ShardsIncomplete(run.shard_error or why)
    counts = record(deps, ref, run, outcome)
    # An applied preview with changes still pending waits for the next apply.
    status: RunStatus = "partially_applied" if counts.get("pending") else "succeeded"
    now = deps.clock()
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status=status,
        shard_error=None,
        finished_at=now,
        progress={"done": run.progress.total, "total": run.progress.total, "shards": {}},
    )
    summary = RunSummary(run_id=ref.run_id, status=status, finished_at=now, counts=counts)
    deps.repo.release_run_lock(ref.tenant_id, ref.profile_id, ref.run_id, summary, True)
    if run.source.get("type") and ref.round == 0:  # the file it read: the next probe's
        deps.repo.update_profile(ref.tenant_id, ref.profile_id, last_source=run.source)
    if run.trigger not in CHANGES_ONLY and "rows" in counts:  # it read a file
        deps.repo.update_profile(ref.tenant_id, ref.profile_id, last_file_rows=counts["rows"])
    if counts.get("updated", 0) and run.trigger not in CHANGES_ONLY and not run.preview:
        _start_followers(deps, ref)
    return FinalizeOutput(run_id=ref.run_id, status=status, counts=counts)


def mark_for_review(deps: Deps, run: Run) -> FinalizeOutput:
    """A preview computed what it would change, or a run broke a safety limit (held): its
    changes are kept for review and apply, nothing was sent, the lock is released."""
    if run.status not in ACTIVE_STATUSES:  # a retried MarkForReview: the lock may be held
        done = RunSummary(run_id=run.run_id, status=run.status, finished_at=run.finished_at)
        deps.repo.release_run_lock(run.tenant_id, run.profile_id, run.run_id, done, False)
        return FinalizeOutput(run_id=run.run_id, status=run.status, counts=run.counts)
    status: RunStatus = "held" if run.held_reasons and not run.preview else "previewed"
    ref = ref_of(run)
    log_key = keys.log_key(ref.tenant_id, ref.run_id)
    if run.changes_key:
        write_changes_log(
            deps,
            run.changes_key,
            log_key,
            csv_records(deps, keys.match_log_key(ref.tenant_id, ref.run_id)),
            csv_records(deps, keys.row_errors_key(ref.tenant_id, ref.run_id)),
        )
    now = deps.clock()
    pending = run.counts.get("changed", 0) + run.counts.get("missing", 0)
    counts = {**run.counts, "pending": pending}
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status=status,
        finished_at=now,
        counts=counts,
        log_key=log_key,
    )
    summary = RunSummary(run_id=ref.run_id, status=status, finished_at=now, counts=counts)
    deps.repo.release_run_lock(ref.tenant_id, ref.profile_id, ref.run_id, summary, synced=False)
    return FinalizeOutput(run_id=ref.run_id, status=status, counts=counts)


def _close_on_error(deps: Deps, run: Run, error: StepError) -> FinalizeOutput:
    if run.status not in ACTIVE_STATUSES:  # already closed (a redelivered failure)
        return FinalizeOutput(
            run_id=run.run_id, status=run.status, counts=run.counts, error=run.error
        )
    if error.error == "SourceUnchanged":
        return mark_skipped(deps, run, f"source unchanged: {_error_text(error)}")
    if error.error == "RunCancelled":
        return mark_cancelled(deps, run)
    # A shard's own reason beats the Map's generic States.* error.
    return mark_failed(deps, run, run.shard_error or _error_text(error))


def mark_failed(deps: Deps, run: Run, reason: str) -> FinalizeOutput:
    """The run failed: what batches reached the store is still logged and indexed."""
    ref = ref_of(run)
    if deps.blobs.head(keys.manifest_key(ref.tenant_id, ref.run_id, ref.round)) is not None:
        outcome = gather(deps, ref, run.started_at)
        run = run.model_copy(update={"counts": record(deps, ref, run, outcome)})
    abandon_run(deps, run, reason)
    return FinalizeOutput(run_id=run.run_id, status="failed", counts=run.counts, error=reason)


def mark_cancelled(deps: Deps, run: Run) -> FinalizeOutput:
    """Cancelled on request: what reached the store is logged and indexed like a failed
    run's (in-flight items read back); what was never sent says the run was cancelled."""
    if run.status not in ACTIVE_STATUSES:  # already closed (a retried MarkCancelled)
        return FinalizeOutput(run_id=run.run_id, status=run.status, counts=run.counts)
    ref = ref_of(run)
    counts = run.counts
    reason = "cancelled on request before anything was sent to the store"
    if deps.blobs.head(keys.manifest_key(ref.tenant_id, ref.run_id, ref.round)) is not None:
        outcome = gather(deps, ref, run.started_at)
        counts = record(deps, ref, run, outcome, unsent=CANCELLED_MESSAGE)
        reason = (
            f"cancelled on request while updating: {counts.get('updated', 0)} rows had "
            "reached the store (see the log)"
        )
    now = deps.clock()
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status="cancelled",
        reason=reason,
        shard_error=None,
        finished_at=now,
    )
    summary = RunSummary(run_id=ref.run_id, status="cancelled", finished_at=now, counts=counts)
    deps.repo.release_run_lock(ref.tenant_id, ref.profile_id, ref.run_id, summary, synced=False)
    return FinalizeOutput(run_id=ref.run_id, status="cancelled", counts=counts)


def mark_skipped(deps: Deps, run: Run, reason: str) -> FinalizeOutput:
    """Nothing to do this time (an automatic schedule saw the same file): no sync."""
    now = deps.clock()
    deps.repo.update_run(
        run.tenant_id, run.run_id, status="skipped", reason=reason, finished_at=now
    )
    summary = RunSummary(run_id=run.run_id, status="skipped", finished_at=now)
    deps.repo.release_run_lock(run.tenant_id, run.profile_id, run.run_id, summary, synced=False)
    return FinalizeOutput(run_id=run.run_id, status="skipped", counts=run.counts)


def record(
    deps: Deps, ref: RunRef, run: Run, outcome: RunOutcome, unsent: str = NOT_APPLIED_MESSAGE
) -> dict[str, int]:
    """Write the per-row log and patch the index with what reached the store; the counts.

    ``unsent``: what the log says of a planned row nothing was sent for.
    """
    log_key = keys.log_key(ref.tenant_id, ref.run_id)
    # A preview's applies, a retry, a revert and any later apply of a run: the changes decide
    # each row's outcome over every apply so far (this execution's results are only a part).
    by_changes = run.preview or ref.round > 0 or run.trigger in CHANGES_ONLY
    extra: dict[str, object] = {}
    row_counts = {"updated": 0, "failed": 0, "gone": 0, "stale": 0, "pending": 0}
    created: int | None = None
    if run.changes_key and deps.blobs.head(run.changes_key) is not None:
        follow_up = run.trigger in ("revert", "reapply")
        settled = settle_changes(deps, run.changes_key, outcome, unsent, updated_lines=follow_up)
        extra["change_counts"] = settled.counts.as_dict()
        row_counts.update(settled.rows)
        created = settled.created
        if by_changes:
            _log_from_changes(deps, ref, run, log_key)
        # from every line it updated (not only this call's): a retried finalize still does it
        if run.trigger == "revert" and settled.updated_rows:
            _mark_parent_reverted(deps, run, settled.updated_rows)
        if run.trigger == "reapply" and settled.updated_variants:  # the feed's values won
            drop_conflicts(deps, ref.tenant_id, ref.profile_id, settled.updated_variants)
    moved: dict[str, int] = {}
    if not by_changes:
        moved = write_log(deps, ref, outcome, log_key, unsent)
    applied = outcome.applied
    remember_written(deps, ref.tenant_id, ref.profile_id, applied, outcome.applied_products)
    at = deps.clock().isoformat()
    refused = {key: refusal._replace(at=at) for key, refusal in outcome.refused.items()}
    remember_refused(
        deps, ref.tenant_id, ref.profile_id, refused, applied, outcome.applied_products
    )
    store = store_of(deps, ref)
    if stock_elsewhere(profile_of(deps, ref), store):
        # Stock written at another location is not the stock the index holds.
        applied = {
            vid: {f: c for f, c in ch.items() if f != "stock"} for vid, ch in applied.items()
        }
    gone_variants, gone_products = outcome.gone_variants, outcome.gone_products
    if applied or outcome.applied_products or gone_variants or gone_products:
        index = apply_to_catalog(
            deps,
            store,
            applied,
            outcome.applied_products,
            gone_variants=gone_variants,
            gone_products=gone_products,
        )
        if gone_variants or gone_products:
            deps.repo.update_store(ref.tenant_id, ref.store_id, variant_count=len(index))
    if by_changes:
        counts = {**run.counts, **row_counts}
    else:  # the log's words for this run; what is left to apply (or stale) from the changes
        left = {"pending": row_counts["pending"]}
        counts = {**run.counts, **outcome.counts(), **left}
        for name, more in moved.items():  # rows with a refused value are failed
            counts[name] += more
    if created:  # create mode: rows that made a variant are counted apart from updates
        counts["updated"] = max(0, counts.get("updated", 0) - (0 if not by_changes else created))
        counts["created"] = created
    if outcome.created:  # into the index at once: the next run updates them
        add_created_to_catalog(deps, store, ref, outcome)
    deps.repo.update_run(ref.tenant_id, ref.run_id, counts=counts, log_key=log_key, **extra)
    return counts


def _log_from_changes(deps: Deps, ref: RunRef, run: Run, log_key: str) -> None:
    assert run.changes_key is not None
    if run.trigger in CHANGES_ONLY:  # no file of its own: its changes are its log
        write_changes_log(deps, run.changes_key, log_key, None, None)
        return
    write_changes_log(
        deps,
        run.changes_key,
        log_key,
        csv_records(deps, keys.match_log_key(ref.tenant_id, ref.run_id)),
        csv_records(deps, keys.row_errors_key(ref.tenant_id, ref.run_id)),
    )


def _mark_parent_reverted(deps: Deps, run: Run, reverted: set[tuple[int, str]]) -> None:
    parent = run.parent_run_id and deps.repo.get_run(run.tenant_id, run.parent_run_id)
    if parent and parent.changes_key and deps.blobs.head(parent.changes_key) is not None:
        counts = mark_reverted(deps, parent.changes_key, reverted)
        deps.repo.update_run(run.tenant_id, parent.run_id, change_counts=counts.as_dict())


def _error_text(error: StepError) -> str:
    """The merchant-readable reason: a Lambda's errorMessage, else the States.* error."""
    cause = error.cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"])
    if error.error.startswith("States."):
        return f"{error.error}: {cause}" if cause else error.error
    return cause or error.error


def _start_followers(deps: Deps, ref: RunRef) -> None:
    """Profiles scheduled to run after this one, now that it succeeded with changes."""
    for profile in deps.repo.list_profiles(ref.tenant_id):
        schedule = profile.schedule
        if not isinstance(schedule, AfterSchedule) or schedule.profile_id != ref.profile_id:
            continue
        cmd = StartCommand(
            tenant_id=ref.tenant_id,
            profile_id=profile.profile_id,
            trigger="chain",
            idempotency_key=f"after:{ref.run_id}",  # a retried finalize starts it once
        )
        try:
            start_run(deps, cmd)
        except Conflict:
            pass  # busy or disabled: the chain waits for next time
        except Exception:  # a follower's trouble must not fail the run that finished
            log.exception("could not start %s after %s", profile.profile_id, ref.run_id)
