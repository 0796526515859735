"""Turn "changed" outcomes into a write plan: shards of batches, per write operation.

The platform's capabilities say which operation writes which field and how many
items one request may carry; this module only follows them. A batch is what one
store request carries (``{"op": name, "items": [...]}``); a shard is what one
worker (a Step Functions Map iteration) applies. Items are JSON-ready dicts because
the plan is written to storage between steps.

Requests are the scarce resource, so batches are filled to the operation's limit:
for every operation the plan sends ``ceil(items / max_batch)`` requests (per product
where a request may hold one product's items only).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from feedsync.domain.capabilities import Capabilities, WriteOp
from feedsync.domain.reconcile import CHANGED, Outcome

PlanItem = dict[str, Any]
Batch = dict[str, Any]  # {"op": name, "items": [PlanItem, ...]}
Shard = list[Batch]


def plan_items(
    changed: Iterable[Outcome], caps: Capabilities, refs: Mapping[int, str] | None = None
) -> dict[str, dict[int, PlanItem]]:
    """Items per operation, keyed so that one store item is written once per operation.

    A product-level change (e.g. the name) is keyed by product: the first row to
    change it wins and later rows of the same product with the same value ride along
    (``rows``); a later row asking for a different value is left out and returned
    with the conflict in ``item["conflicts"]`` of the kept item.
    """
    refs = refs or {}
    by_op: dict[str, dict[int, PlanItem]] = {}
    for row_no, key, status, pid, vid, changes, _msg in changed:
        if status != CHANGED or pid is None or vid is None:
            continue
        as_dict = {f: [old, new] for f, old, new in changes}
        for op, mine in caps.route(pid, vid, as_dict):
            # A simple product is its own variant: both levels meet in one item.
            item_key = pid if op.product_level else vid
            items = by_op.setdefault(op.name, {})
            item = items.get(item_key)
            if item is None:
                items[item_key] = {
                    "row": row_no,
                    "rows": [row_no],
                    "key": key,
                    "product_id": pid,
                    "variant_id": vid,
                    "ref": refs.get(vid),
                    "changes": mine,
                    # Where the changes land in the index: every variant of the product.
                    "product_level": op.product_level,
                }
                continue
            clash = {f: v for f, v in mine.items() if f in item["changes"]}
            if any(item["changes"][f][1] != v[1] for f, v in clash.items()):
                item.setdefault("conflicts", []).append(row_no)
                continue
            item["changes"].update(mine)
            if row_no not in item["rows"]:
                item["rows"].append(row_no)
    return by_op


def _batches(op: WriteOp, items: Iterable[PlanItem]) -> Iterator[Batch]:
    if op.per_product:
        groups: dict[Any, list[PlanItem]] = {}
        for item in items:
            groups.setdefault(item["product_id"], []).append(item)
        streams: Iterable[list[PlanItem]] = groups.values()
    else:
        streams = [list(items)]
    for group in streams:
        for start in range(0, len(group), op.max_batch):
            yield {"op": op.name, "items": group[start : start + op.max_batch]}


def build_plan(
    changed: Iterable[Outcome],
    caps: Capabilities,
    *,
    batches_per_shard: int = 20,
    refs: Mapping[int, str] | None = None,
) -> list[Shard]:
    """Shards of batches. Every serial operation's batches share one shard (in order).

    Above a bulk path's threshold, that operation's items go to its bulk operation.
    """
    if batches_per_shard < 1:
        raise ValueError("batches_per_shard must be at least 1")
    by_op = plan_items(changed, caps, refs)
    for path in caps.bulk:
        items = by_op.get(path.op)
        if items and len(items) > path.threshold:
            by_op.setdefault(path.bulk_op, {}).update(by_op.pop(path.op))
    shards: list[Shard] = []
    serial: Shard = []
    shard: Shard = []
    seen: set[str] = set()
    for op in caps.ops:
        if op.name in seen or op.name not in by_op:
            continue
        seen.add(op.name)
        for batch in _batches(op, by_op[op.name].values()):
            if op.serial:
                serial.append(batch)
                continue
            shard.append(batch)
            if len(shard) == batches_per_shard:
                shards.append(shard)
                shard = []
    if shard:
        shards.append(shard)
    if serial:
        shards.append(serial)
    return shards


def result_rows(item: PlanItem) -> list[int]:
    """The feed rows whose outcome this item decides."""
    rows: list[int] = item.get("rows") or [item["row"]]
    return rows
