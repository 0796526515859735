"""Batches in flight: recorded by the update step before it sends one, read back at finalize.

A shard records its results every few calls (``core/shard_send.Pacing``). A shard that
stops between sending a batch and recording its answers (a crash, a timeout, the store's
connection dropping) leaves batches nobody knows the fate of; the marker names them, and
finalize asks the store what it holds for those items with one read of the products
modified since the run began (the catalog refresh's own read: paged, never a request per
item).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from feedsync.core import keys
from feedsync.core.catalog_import import CLOCK_SKEW_MARGIN
from feedsync.core.deps import Deps
from feedsync.core.ports import Creator
from feedsync.core.steps.common import profile_of, stock_elsewhere, store_of
from feedsync.domain.fields import VARIANT_ID, Variant
from feedsync.domain.readback import IN_DOUBT, read_back_status
from feedsync.domain.runlog import FAILED
from feedsync.domain.writes import ItemResult, PlanItem, item_created
from feedsync.errors import FeedsyncError
from feedsync.models import RunRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InFlight:
    """A shard's marker: the first batch in flight, the result lines recorded before it,
    and the furthest batch any attempt of the shard may have begun (a retried shard starts
    over): with paced records, a window's marker looks ahead of the call it was written
    for, never up to a create batch not begun.

    A call that carries items of several stored batches (``core/shard_send.py``) names
    them all in ``batches`` (``batch`` is the first); ``resumed``: the furthest batch an
    earlier attempt began: up to it, items this attempt has not recorded stay in doubt
    (a stream call leaves items of earlier batches unsent for a while).
    """

    batch: int
    lines: int
    started: int
    batches: tuple[int, ...] = ()
    resumed: int = -1

    def doubtful(self, recorded: int) -> list[int]:
        """Batches that may have reached the store without a result line, given the
        result lines the shard's file holds (their recorded items are not in doubt)."""
        covered = self.batches or (self.batch,)
        first = self.batch if recorded <= self.lines else max(covered) + 1
        out = set(range(first, self.started + 1)) | set(range(self.resumed + 1))
        if recorded <= self.lines:  # the call's answers were never recorded
            out.update(covered)
        return sorted(out)


def read_marker(deps: Deps, ref: RunRef, shard: int) -> InFlight | None:
    key = keys.in_flight_key(ref.tenant_id, ref.run_id, shard, ref.round)
    if deps.blobs.head(key) is None:
        return None
    data = json.loads(deps.blobs.get_bytes(key))
    return InFlight(
        int(data["batch"]),
        int(data["lines"]),
        int(data["started"]),
        tuple(int(b) for b in data.get("batches", ())),
        int(data.get("resumed", -1)),
    )


def write_marker(deps: Deps, ref: RunRef, shard: int, marker: InFlight) -> None:
    body: dict[str, object] = {
        "batch": marker.batch,
        "lines": marker.lines,
        "started": marker.started,
    }
    if marker.batches:
        body["batches"] = list(marker.batches)
    if marker.resumed >= 0:
        body["resumed"] = marker.resumed
    key = keys.in_flight_key(ref.tenant_id, ref.run_id, shard, ref.round)
    deps.blobs.put_bytes(key, json.dumps(body).encode(), "application/json")


def read_back(
    deps: Deps, ref: RunRef, since: datetime | None, items: list[tuple[str, PlanItem]]
) -> list[tuple[str, str]]:
    """``(status, message)`` per ``(op, item)``, from what the store holds now.

    One read of the products modified since the run began; an item it does not list was
    not changed, unless its operation is one such a read cannot see (``range_read_sees``):
    those few take one read of the whole catalog rather than a guess.
    """
    store = store_of(deps, ref)
    unreadable = ("stock",) if stock_elsewhere(profile_of(deps, ref), store) else ()
    wanted = {item.variant_id for _op, item in items}
    try:
        connector = deps.connectors(store, deps.secrets.get(store.secret_ref))
        start = None if since is None else since - CLOCK_SKEW_MARGIN
        held = _listed(connector.iter_variants(modified_since=start), wanted)
        caps = connector.capabilities
        unseen = {
            item.variant_id
            for op, item in items
            if item.variant_id not in held and not caps.op(op).range_read_sees
        }
        if unseen and start is not None:
            held.update(_listed(connector.iter_variants(), unseen))
    except FeedsyncError as exc:
        # Not knowing is said as such: the merchant checks these items in the store.
        log.warning("could not read back %d in-flight items: %s", len(items), exc.message)
        why = f"{IN_DOUBT}, and the store could not be read back ({exc.message}): check it there"
        return [(FAILED, why)] * len(items)
    return [read_back_status(item, held.get(item.variant_id), unreadable) for _op, item in items]


NOT_CREATED_MESSAGE = f"{IN_DOUBT}; the store has none of it: it was not created"


def read_back_created(deps: Deps, ref: RunRef, items: list[PlanItem]) -> list[ItemResult | None]:
    """Create items of a batch in flight: what the store made of each, looked up by their
    SKUs (``Creator.find_created``): ``item_created`` with the ids found (a variant not
    found is not created), None when the store has nothing of it."""
    store = store_of(deps, ref)
    try:
        connector = cast(Creator, deps.connectors(store, deps.secrets.get(store.secret_ref)))
        found = connector.find_created(items)
    except FeedsyncError as exc:
        log.warning("could not look up %d in-flight creations: %s", len(items), exc.message)
        why = f"{IN_DOUBT}, and the store could not be read back ({exc.message}): check it there"
        return [ItemResult(False, why)] * len(items)
    out: list[ItemResult | None] = []
    for item, have in zip(items, found, strict=True):
        if have is None or not have.variants:
            out.append(None)
            continue
        assert item.new is not None
        left = [v["key"] for v in item.new["variants"] if v["key"] not in have.variants]
        note = f"{IN_DOUBT}; not in the store: {', '.join(left)}" if left else ""
        out.append(item_created(have.product_id, have.variants, note))
    return out


def _listed(variants: Iterable[Variant], wanted: set[int]) -> dict[int, Variant]:
    return {v[VARIANT_ID]: v for v in variants if v[VARIANT_ID] in wanted}
