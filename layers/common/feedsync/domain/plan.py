"""Turn "changed" outcomes into a write plan: shards of batches of plan items.

A batch is what one store write request carries; a shard is what one worker
(e.g. one Step Functions Map iteration) processes. Items are plain JSON-ready
dicts because the plan is written to storage between steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from feedsync.domain.reconcile import CHANGED, Outcome

PlanItem = dict[str, object]
Batch = list[PlanItem]
Shard = list[Batch]


def build_plan(
    changed: Iterable[Outcome], *, batch_size: int = 50, batches_per_shard: int = 20
) -> Iterator[Shard]:
    """Yield shards lazily so a large plan never has to sit in memory whole.

    Outcomes whose status is not "changed" are skipped, so the reconcile stream can
    be passed straight in. Every shard but the last is full; no batch or shard is empty.
    """
    if batch_size < 1 or batches_per_shard < 1:
        raise ValueError("batch_size and batches_per_shard must be at least 1")
    shard: Shard = []
    batch: Batch = []
    for row_no, key, status, pid, vid, changes, _msg in changed:
        if status != CHANGED:
            continue
        batch.append(
            {
                "row": row_no,
                "key": key,
                "product_id": pid,
                "variant_id": vid,
                "changes": {f: [old, new] for f, old, new in changes},
            }
        )
        if len(batch) == batch_size:
            shard.append(batch)
            batch = []
            if len(shard) == batches_per_shard:
                yield shard
                shard = []
    if batch:
        shard.append(batch)
    if shard:
        yield shard
