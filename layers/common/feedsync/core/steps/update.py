"""Update (updating): apply one shard of the plan (one Map item), batch by batch."""

from __future__ import annotations

import logging

from feedsync.core import creating, keys
from feedsync.core.deps import Deps
from feedsync.core.in_flight import InFlight, read_marker, write_marker
from feedsync.core.ports import ItemResult, item_refused_together
from feedsync.core.run_results import ShardResults
from feedsync.core.steps.common import profile_of, run_of, store_of
from feedsync.domain.capabilities import CREATE_OP
from feedsync.domain.plan import shard_from_json
from feedsync.domain.refusals import KNOWN_BAD
from feedsync.errors import FeedsyncError, StoreRequestError
from feedsync.models import UpdateInput, UpdateOutput

log = logging.getLogger(__name__)


def update(deps: Deps, step: UpdateInput) -> UpdateOutput:
    """Apply one shard. Values are absolute, so a retried shard is safe to re-send."""
    try:
        return _apply_shard(deps, step)
    except Exception as exc:
        # A shard runs in a child execution: its error does not reach the parent's Catch
        # intact, so leave the merchant-readable reason where finalize will find it
        # (whatever the error: an unexpected one is the shard's own reason too).
        if isinstance(exc, FeedsyncError):
            why = f"updating the store failed: {exc.message}"
        else:  # capped as every merchant-facing message is
            text = FeedsyncError(str(exc) or type(exc).__name__).message
            why = f"updating the store stopped on an unexpected error: {text}"
        try:
            deps.repo.update_run(step.run.tenant_id, step.run.run_id, shard_error=why)
        except Exception:  # the shard's own error is the one to raise
            log.exception("could not record the shard's error on run %s", step.run.run_id)
        raise


def _apply_shard(deps: Deps, step: UpdateInput) -> UpdateOutput:
    ref = step.run
    index = step.shard.index
    if run_of(deps, ref).cancel_requested_at is not None:
        return UpdateOutput(shard=index, updated=0, failed=0)  # cancelled: send nothing
    store = store_of(deps, ref)
    profile = profile_of(deps, ref)
    credentials = deps.secrets.get(store.secret_ref)
    connector = deps.connectors(store, credentials)
    location = profile.location_id or store.options.location_id
    batches = shard_from_json(deps.blobs.get_bytes(step.shard.key))
    results = ShardResults()
    results_key = keys.result_key(ref.tenant_id, ref.run_id, index, ref.round)
    earlier = read_marker(deps, ref, index)
    started = resumed = -1
    if earlier is not None:
        # A retry starts over: what the earlier attempt sent stays in doubt (read back at
        # finalize) until this attempt records it again, so its results go.
        started = resumed = earlier.started
        deps.blobs.put_bytes(results_key, results.data(), "text/csv")
    for number, batch in enumerate(batches):
        op, items = batch["op"], batch["items"]
        skipped = batch.get("known_bad")
        if skipped is not None:  # known bad, and the profile skips them: nothing to send
            for item, why in zip(items, skipped, strict=True):
                results.add(op, item, ItemResult(False, why), kind=KNOWN_BAD)
            deps.blobs.put_bytes(results_key, results.data(), "text/csv")
            deps.repo.set_shard_progress(ref.tenant_id, ref.run_id, index, results.lines)
            continue
        started = max(started, number)
        # In flight before it is sent: if the shard stops before recording the answers,
        # finalize reads these items back from the store instead of guessing.
        write_marker(deps, ref, index, InFlight(number, results.lines, started))
        batch_key = f"{ref.run_id}-{index}-{number}"
        if op == CREATE_OP:  # one an earlier attempt began: what it made is not made again
            answers = creating.send(
                connector, items, batch_key, resumed=number <= resumed, location=location
            )
        else:
            answers = connector.apply(op, items, batch_key=batch_key, location=location)
        if len(answers) != len(items):
            raise StoreRequestError(
                f"{store.platform} connector answered {len(answers)} results for "
                f"{len(items)} items of {op}"
            )
        remembered = batch.get("remembered")
        for n, (item, answer) in enumerate(zip(items, answers, strict=True)):
            if remembered and answer.shared:  # the item's own words, from when it was refused
                answer = item_refused_together(f"refused again, as before: {remembered[n]}")
            results.add(op, item, answer)
        # Results so far, after every batch: a shard that dies part-way still tells
        # finalize (and the merchant's log) exactly which items reached the store.
        deps.blobs.put_bytes(results_key, results.data(), "text/csv")
        cancelled = deps.repo.set_shard_progress(ref.tenant_id, ref.run_id, index, results.lines)
        if cancelled and number + 1 < len(batches):
            log.info("run %s cancelled: shard %d stops after batch %d", ref.run_id, index, number)
            break
    return UpdateOutput(
        shard=index, updated=results.updated, failed=results.failed, gone=results.gone
    )
