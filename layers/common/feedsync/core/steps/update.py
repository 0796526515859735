"""Update (updating): apply one shard of the plan (one Map item), batch by batch."""

from __future__ import annotations

from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.core.run_results import ShardResults
from feedsync.core.steps.common import profile_of, store_of
from feedsync.domain.plan import shard_from_json
from feedsync.errors import FeedsyncError, StoreRequestError
from feedsync.models import UpdateInput, UpdateOutput


def update(deps: Deps, step: UpdateInput) -> UpdateOutput:
    """Apply one shard. Values are absolute, so a retried shard is safe to re-send."""
    try:
        return _apply_shard(deps, step)
    except FeedsyncError as exc:
        # A shard runs in a child execution: its error does not reach the parent's Catch
        # intact, so leave the merchant-readable reason where finalize will find it.
        deps.repo.update_run(
            step.run.tenant_id,
            step.run.run_id,
            shard_error=f"updating the store failed: {exc.message}",
        )
        raise


def _apply_shard(deps: Deps, step: UpdateInput) -> UpdateOutput:
    ref = step.run
    store = store_of(deps, ref)
    profile = profile_of(deps, ref)
    credentials = deps.secrets.get(store.secret_ref)
    connector = deps.connectors(store, credentials)
    location = profile.location_id or store.options.location_id
    batches = shard_from_json(deps.blobs.get_bytes(step.shard.key))
    results = ShardResults()
    results_key = keys.result_key(ref.tenant_id, ref.run_id, step.shard.index)
    for number, batch in enumerate(batches):
        op, items = batch["op"], batch["items"]
        batch_key = f"{ref.run_id}-{step.shard.index}-{number}"
        answers = connector.apply(op, items, batch_key=batch_key, location=location)
        if len(answers) != len(items):
            raise StoreRequestError(
                f"{store.platform} connector answered {len(answers)} results for "
                f"{len(items)} items of {op}"
            )
        for item, answer in zip(items, answers, strict=True):
            results.add(op, item, answer)
        # Results so far, after every batch: a shard that dies part-way still tells
        # finalize (and the merchant's log) exactly which items reached the store.
        deps.blobs.put_bytes(results_key, results.data(), "text/csv")
        deps.repo.set_shard_progress(ref.tenant_id, ref.run_id, step.shard.index, results.lines)
    return UpdateOutput(
        shard=step.shard.index, updated=results.updated, failed=results.failed, gone=results.gone
    )
