"""Writing a run's plan: the match and select steps' shared last part."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.core.run_results import result_lines
from feedsync.core.written import load_refused
from feedsync.domain.capabilities import DELETE_OP, Capabilities
from feedsync.domain.plan import build_plan, creation_shards, shard_to_json
from feedsync.domain.reconcile import Outcome
from feedsync.domain.refusals import SKIP
from feedsync.domain.writes import PlanItem
from feedsync.models import Profile, RunRef


def write_plan(
    deps: Deps,
    ref: RunRef,
    profile: Profile,
    changed: list[Outcome],
    caps: Capabilities,
    refs: Mapping[int, str],
    creations: list[PlanItem] | None = None,
    deletes: list[PlanItem] | None = None,
) -> list[dict[str, Any]]:
    """The changed outcomes as plan shards in S3 (this round's keys); the manifest's
    entries. Items still sending what the platform refused last time are set apart
    (isolated, or, with ``known_bad: skip``, never sent). ``creations``: create mode's
    items, in shards of their own after the updates'; ``deletes``: a revert's deletions
    of what a run created."""
    known = load_refused(deps, ref.tenant_id, ref.profile_id) if changed else {}
    plan = build_plan(
        changed,
        caps,
        batches_per_shard=deps.shard_batches,
        refs=refs,
        known=known,
        skip_known=profile.known_bad == SKIP,
    )
    per_shard = deps.shard_batches
    created = creation_shards(creations or [], caps, batches_per_shard=per_shard)
    deleted = creation_shards(deletes or [], caps, batches_per_shard=per_shard, op=DELETE_OP)
    manifest: list[dict[str, Any]] = []
    for i, shard in enumerate(chain(plan, created, deleted)):
        key = keys.shard_key(ref.tenant_id, ref.run_id, i, ref.round)
        deps.blobs.put_bytes(key, shard_to_json(shard), "application/json")
        manifest.append({"index": i, "key": key, "items": result_lines(shard)})
    return manifest
