"""Turn "changed" outcomes into a write plan: shards of batches, per write operation.

The platform's capabilities say which operation writes which field and how many
items one request may carry; this module only follows them. A batch is what one
store request carries (one operation's ``PlanItem`` records); a shard is what one
worker (a Step Functions Map iteration) applies. A shard goes to storage between the
match and update steps as JSON (``shard_to_json`` / ``shard_from_json``).

Requests are the scarce resource, so batches are filled to the operation's limit:
for every operation the plan sends ``ceil(items / max batch)`` requests (per product
where a request may hold one product's items only).

Most changes go to a plain operation (e.g. BigCommerce's variant batch): those
batches are cut and their shards yielded as the outcomes stream in, so a large plan
never sits in memory whole. Only what needs the whole file first is held back:
product-level changes (one write per product), per-product operations (grouped by
product), serial operations (all in the last shard) and operations with a bulk path
(the count decides the path).

Known-bad items (``domain/refusals.py``: the payload the platform refused last time,
unchanged) are set apart: in batches of their own where a refusal rejects the whole
request (isolate), or in batches that are never sent and fail with the remembered
reason (skip: ``Batch.known_bad``). With no known-bad items the per-row cost is one
truth test.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import NotRequired, TypedDict

from feedsync.domain.capabilities import CREATE_OP, Capabilities, WriteOp
from feedsync.domain.content import same_feed_values
from feedsync.domain.reconcile import CHANGED, Outcome
from feedsync.domain.refusals import Refusal, RefusalKey, known_bad, skipped_message
from feedsync.domain.writes import Change, PlanItem


class Batch(TypedDict):
    """What one store request carries: items of one write operation."""

    op: str
    items: list[PlanItem]
    # Items skipped as known bad: never sent, each failed with this (per item) reason.
    known_bad: NotRequired[list[str]]
    # Known-bad items isolated: the platform's words for each when it last refused it.
    remembered: NotRequired[list[str]]


Shard = list[Batch]
# (field names, simple product?) -> [(operation, its field names)]
_Routes = dict[tuple[tuple[str, ...], bool], list[tuple[WriteOp, tuple[str, ...]]]]


_field_name = itemgetter(0)


def _routes_for(
    caps: Capabilities, cache: _Routes, pid: int, vid: int, names: tuple[str, ...]
) -> list[tuple[WriteOp, tuple[str, ...]]]:
    key = (names, pid == vid)
    routes = cache.get(key)
    if routes is None:
        routed = caps.route(pid, vid, dict.fromkeys(names))
        routes = cache[key] = [(op, tuple(mine)) for op, mine in routed]
    return routes


class _Planner:
    def __init__(
        self,
        caps: Capabilities,
        batches_per_shard: int,
        refs: Mapping[int, str],
        known: Mapping[RefusalKey, Refusal],
        skip_known: bool,
    ):
        self.caps = caps
        self.batches_per_shard = batches_per_shard
        self.refs = refs
        self.known = known
        self.skip_known = skip_known
        # An item refused through an operation's bulk path is known bad for the operation.
        self.bulk_of = {path.op: path.bulk_op for path in caps.bulk}
        self.apart: dict[str, list[PlanItem]] = {}  # known-bad items isolated, per op
        self.remembered: dict[tuple[str, int], str] = {}  # (op, row) isolated -> the reason
        self.skipped: dict[str, list[tuple[PlanItem, str]]] = {}  # ... skipped, with why
        bulk_sources = {path.op for path in caps.bulk}
        # Operations whose items are held until the end (see the module docstring).
        self.held_ops = {
            op.name for op in caps.ops if op.per_product or op.serial or op.name in bulk_sources
        }
        self.held: dict[str, dict[int, PlanItem]] = {}
        self.open: dict[str, list[PlanItem]] = {}
        self.shard: Shard = []
        self.done: deque[Shard] = deque()

    def add(self, outcome: Outcome, cache: _Routes) -> None:
        row_no, key, _status, pid, vid, changes, _msg = outcome
        assert key is not None and pid is not None and vid is not None  # matched by its key
        # The usual case, one field changed, skips the comprehensions (this runs per row).
        single = len(changes) == 1
        names = (changes[0][0],) if single else tuple(map(_field_name, changes))
        routes = cache.get((names, pid == vid))
        if routes is None:
            routes = _routes_for(self.caps, cache, pid, vid, names)
        ref = self.refs.get(vid) if self.refs else None
        whole = len(routes) == 1  # ... and one operation takes every change
        for op, fields in routes:
            if single:
                ((name, old, new),) = changes
                mine = {name: [old, new]}
            elif whole:
                mine = {f: [old, new] for f, old, new in changes}
            else:
                mine = {f: [old, new] for f, old, new in changes if f in fields}
            if op.product_level:
                self._hold_product(op, row_no, key, pid, vid, mine, ref)
                continue
            item = PlanItem(row_no, key, pid, vid, mine, ref)
            if self.known and self._set_apart(op, item, vid):
                continue
            if op.name in self.held_ops:
                self.held.setdefault(op.name, {})[vid] = item
            else:
                batch = self.open.get(op.name)
                if batch is None:
                    batch = self.open[op.name] = []
                batch.append(item)
                if len(batch) == op.max_batch:
                    self._push({"op": op.name, "items": batch})
                    self.open[op.name] = []

    def _hold_product(
        self,
        op: WriteOp,
        row_no: int,
        key: str,
        pid: int,
        vid: int,
        changes: dict[str, Change],
        ref: str | None,
    ) -> None:
        """One item per product: later rows agreeing ride along, disagreeing ones conflict.

        A simple product is its own variant, so both levels of one operation meet in
        one item (keyed by the product id, which is the variant id too). Only the
        product's first row makes an item; the others just join it.
        """
        items = self.held.setdefault(op.name, {})
        kept = items.get(pid)
        if kept is None:
            items[pid] = PlanItem(row_no, key, pid, vid, changes, ref, [row_no], True)
            return
        held = kept.changes
        for name, (_old, new) in changes.items():
            have = held.get(name)
            if have is not None and not same_feed_values(name, have[1], new):
                kept.conflicts.append(row_no)
                return
        held.update(changes)
        rows = kept.rows
        assert rows is not None  # set when the product was first held
        if row_no not in rows:
            rows.append(row_no)

    def _set_apart(self, op: WriteOp, item: PlanItem, item_id: int) -> bool:
        """Take a known-bad item out of the ordinary batches (True when taken)."""
        refusal = known_bad(self.known, op.name, item_id, item.changes)
        bulk = self.bulk_of.get(op.name)
        if refusal is None and bulk is not None:
            refusal = known_bad(self.known, bulk, item_id, item.changes)
        if refusal is None:
            return False
        if self.skip_known:
            self.skipped.setdefault(op.name, []).append((item, skipped_message(refusal)))
            return True
        if not op.refusal_rejects_batch:
            return False  # refused on its own, it costs the others nothing
        self.apart.setdefault(op.name, []).append(item)
        self.remembered[(op.name, item.row)] = refusal.reason
        return True

    def _push(self, batch: Batch) -> None:
        self.shard.append(batch)
        if len(self.shard) == self.batches_per_shard:
            self.done.append(self.shard)
            self.shard = []

    def finish(self) -> Iterator[Shard]:
        caps = self.caps
        if self.known:  # a product-level item is whole only now
            for op in caps.ops:
                products = self.held.get(op.name)
                if not op.product_level or not products:
                    continue
                for pid, item in list(products.items()):
                    if self._set_apart(op, item, pid):
                        del products[pid]
        for path in caps.bulk:
            items = self.held.get(path.op)
            if items and len(items) > path.threshold:
                self.held.setdefault(path.bulk_op, {}).update(self.held.pop(path.op))
        serial: Shard = []
        for op in caps.ops:
            left = self.open.pop(op.name, None)
            if left:
                self._push({"op": op.name, "items": left})
            held = self.held.get(op.name)
            for batch in _batches(op, (held or {}).values()):
                if op.serial:
                    serial.append(batch)
                else:
                    self._push(batch)
            for batch in _batches(op, self.apart.pop(op.name, ())):
                batch["remembered"] = [self.remembered[(op.name, i.row)] for i in batch["items"]]
                if op.serial:
                    serial.append(batch)
                else:
                    self._push(batch)
            skipped = self.skipped.pop(op.name, [])
            for start in range(0, len(skipped), op.max_batch):
                chunk = skipped[start : start + op.max_batch]
                self._push(
                    {
                        "op": op.name,
                        "items": [i for i, _ in chunk],
                        "known_bad": [w for _, w in chunk],
                    }
                )
        yield from self.drain()
        if self.shard:
            yield self.shard
            self.shard = []
        if serial:
            yield serial

    def drain(self) -> Iterator[Shard]:
        while self.done:
            yield self.done.popleft()


def _batches(op: WriteOp, items: Iterable[PlanItem]) -> Iterator[Batch]:
    if op.per_product:
        groups: dict[int, list[PlanItem]] = {}
        for item in items:
            groups.setdefault(item.product_id, []).append(item)
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
    known: Mapping[RefusalKey, Refusal] | None = None,
    skip_known: bool = False,
) -> Iterator[Shard]:
    """Shards of batches, yielded as they fill. Every serial operation's batches share
    the last shard (in order); above a bulk path's threshold, that operation's items go
    to its bulk operation. Outcomes that are not "changed" are skipped. ``known``: the
    profile's known-bad items, isolated (or, ``skip_known``, never sent)."""
    if batches_per_shard < 1:
        raise ValueError("batches_per_shard must be at least 1")
    per_shard = min(batches_per_shard, caps.batches_per_shard or batches_per_shard)
    planner = _Planner(caps, per_shard, refs or {}, known or {}, skip_known)
    cache: _Routes = {}
    for outcome in changed:
        if outcome[2] != CHANGED or outcome[3] is None or outcome[4] is None:
            continue
        planner.add(outcome, cache)
        if planner.done:
            yield from planner.drain()
    yield from planner.finish()


def creation_shards(
    items: list[PlanItem],
    caps: Capabilities,
    *,
    batches_per_shard: int = 20,
    op: str = CREATE_OP,
) -> Iterator[Shard]:
    """Create mode's items (``domain/create.py``) in batches of the platform's ``create``
    operation (or a revert's of ``delete``), shards of at most ``batches_per_shard``."""
    if not items:
        return
    write = caps.op(op)
    per_shard = min(batches_per_shard, caps.batches_per_shard or batches_per_shard)
    batches: list[Batch] = [
        {"op": write.name, "items": items[start : start + write.max_batch]}
        for start in range(0, len(items), write.max_batch)
    ]
    for start in range(0, len(batches), per_shard):
        yield batches[start : start + per_shard]


def shard_to_json(shard: Shard) -> bytes:
    """A shard as the match step stores it for the update step."""
    batches = []
    for b in shard:
        out: dict[str, object] = {"op": b["op"], "items": [i.to_json() for i in b["items"]]}
        for extra in ("known_bad", "remembered"):
            if extra in b:
                out[extra] = b[extra]
        batches.append(out)
    return json.dumps({"batches": batches}).encode()


def shard_from_json(data: bytes | str) -> Shard:
    """A stored shard's batches, items as ``PlanItem`` records again."""
    from_json = PlanItem.from_json
    shard: Shard = []
    for b in json.loads(data)["batches"]:
        batch: Batch = {"op": b["op"], "items": [from_json(i) for i in b["items"]]}
        if "known_bad" in b:
            batch["known_bad"] = b["known_bad"]
        if "remembered" in b:
            batch["remembered"] = b["remembered"]
        shard.append(batch)
    return shard
