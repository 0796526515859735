"""Update (updating): apply one shard of the plan (one Map item), batch by batch
(``core/shard_send.py``: the calls, their in-flight markers and results, recorded every
``PACING.calls`` calls or ``PACING.seconds`` seconds)."""

from __future__ import annotations

import logging

from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.core.in_flight import InFlight, read_marker, write_marker
from feedsync.core.run_results import ShardResults
from feedsync.core.shard_send import Pacing, send_shard
from feedsync.core.steps.common import profile_of, run_of, store_of
from feedsync.domain.plan import shard_from_json
from feedsync.errors import FeedsyncError
from feedsync.models import RunRef, UpdateInput, UpdateOutput

log = logging.getLogger(__name__)

# A record is two S3 writes and a DynamoDB write; a crash between records costs only a
# read-back of the window's items at finalize (one read, whatever their number), and the
# run's progress moves every few seconds. A cancel is still seen after the next call.
PACING = Pacing(calls=10, seconds=5.0)


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
    results_key = keys.result_key(ref.tenant_id, ref.run_id, index, ref.round)
    earlier = read_marker(deps, ref, index)
    started = resumed = -1
    if earlier is not None:
        # A retry starts over: what the earlier attempt sent stays in doubt (read back at
        # finalize) until this attempt records it again, so its results go.
        started = resumed = earlier.started
        # Every batch up to it in doubt before the earlier results go: dying in between
        # must not leave a marker that counts result lines no longer there.
        write_marker(deps, ref, index, InFlight(0, 0, started, (), resumed))
        deps.blobs.put_bytes(results_key, ShardResults().data(), "text/csv")
    sink = _StepSink(deps, ref, index, results_key)
    results = send_shard(
        connector,
        batches,
        sink,
        key_prefix=f"{ref.run_id}-{index}",
        location=location,
        started=started,
        resumed=resumed,
        pacing=PACING,
    )
    return UpdateOutput(
        shard=index, updated=results.updated, failed=results.failed, gone=results.gone
    )


class _StepSink:
    """The shard's marks in the run's storage: the in-flight marker, the results file and
    the run's progress (whose write answers whether a cancel was requested)."""

    def __init__(self, deps: Deps, ref: RunRef, index: int, results_key: str) -> None:
        self.deps, self.ref, self.index, self.results_key = deps, ref, index, results_key

    def mark(self, marker: InFlight) -> None:
        # In flight before it is sent: if the shard stops before recording the answers,
        # finalize reads these items back from the store instead of guessing.
        write_marker(self.deps, self.ref, self.index, marker)

    def record(self, results: ShardResults) -> bool:
        ref = self.ref
        self.deps.blobs.put_bytes(self.results_key, results.data(), "text/csv")
        return self.deps.repo.set_shard_progress(
            ref.tenant_id, ref.run_id, self.index, results.lines
        )

    def cancelled(self) -> bool:
        return self.deps.repo.cancel_requested(self.ref.tenant_id, self.ref.run_id)
