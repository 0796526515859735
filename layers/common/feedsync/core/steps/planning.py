"""Writing a run's plan: the match and select steps' shared last part."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.core.run_results import result_lines
from feedsync.core.written import load_refused
from feedsync.domain.capabilities import Capabilities
from feedsync.domain.plan import build_plan, shard_to_json
from feedsync.domain.reconcile import Outcome
from feedsync.domain.refusals import SKIP
from feedsync.models import Profile, RunRef


def write_plan(
    deps: Deps,
    ref: RunRef,
    profile: Profile,
    changed: list[Outcome],
    caps: Capabilities,
    refs: Mapping[int, str],
) -> list[dict[str, Any]]:
    """The changed outcomes as plan shards in S3 (this round's keys); the manifest's
    entries. Items still sending what the platform refused last time are set apart
    (isolated, or, with ``known_bad: skip``, never sent)."""
    known = load_refused(deps, ref.tenant_id, ref.profile_id) if changed else {}
    plan = build_plan(
        changed,
        caps,
        batches_per_shard=deps.shard_batches,
        refs=refs,
        known=known,
        skip_known=profile.known_bad == SKIP,
    )
    manifest: list[dict[str, Any]] = []
    for i, shard in enumerate(plan):
        key = keys.shard_key(ref.tenant_id, ref.run_id, i, ref.round)
        deps.blobs.put_bytes(key, shard_to_json(shard), "application/json")
        manifest.append({"index": i, "key": key, "items": result_lines(shard)})
    return manifest
