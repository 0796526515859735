"""What a profile wrote, its open conflicts and the ones the merchant dismissed (S3).

- ``written.csv``: per (variant, field), the value feedsync last wrote, as the catalog index
  holds it; finalize adds what each run got into the store. A product's ``visible`` is kept
  per (product, "visible"): whether feedsync hid it (``missing: disable``).
- ``conflicts.csv``: the store-side edits the last run found (``domain/conflicts.py``), each
  with when it was first seen; ``GET /profiles/{id}/conflicts`` reads it.
- ``dismissed.csv``: (variant, field, feed value) the merchant chose to leave to the store;
  a conflict is flagged again once the feed value changes.
- ``refused.csv``: per (operation, item), the payload the platform last refused, its words,
  the run and when (``domain/refusals.py``); the match step reads it to isolate or skip
  an item still sending the same payload.

Each is loaded whole (bounded by the profile's items; fine at today's catalog sizes).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from feedsync.core import keys
from feedsync.core.blobcsv import csv_records
from feedsync.core.deps import Deps
from feedsync.domain.capabilities import VISIBLE
from feedsync.domain.changes import json_cell
from feedsync.domain.conflicts import Conflict, Key
from feedsync.domain.content import index_value
from feedsync.domain.refusals import Refusal, RefusalKey, forget_accepted, merged

CONFLICT_HEADER = (
    "row", "key", "product_id", "variant_id", "field", "store_value", "feed_value",
    "last_written", "run_id", "since",
)  # fmt: skip


def _records(deps: Deps, key: str) -> Iterator[list[str]]:
    """The file's records (none when a profile has none yet)."""
    if deps.blobs.head(key) is not None:
        yield from csv_records(deps, key)


def _put(deps: Deps, key: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    deps.blobs.put_bytes(key, out.getvalue().encode("utf-8"), "text/csv")


def load_written(deps: Deps, tenant_id: str, profile_id: str) -> dict[Key, Any]:
    return {
        (int(vid), field): json.loads(value)
        for vid, field, value in _records(deps, keys.written_key(tenant_id, profile_id))
    }


def remember_written(
    deps: Deps,
    tenant_id: str,
    profile_id: str,
    applied: Mapping[int, Mapping[str, Any]],
    applied_products: Mapping[int, Mapping[str, Any]] | None = None,
) -> None:
    """Add what reached the store (variant id -> {field: [old, new]}) to the ledger, and a
    product's visibility (product id -> {"visible": [old, new]}: missing: disable)."""
    shown = {
        pid: changes[VISIBLE]
        for pid, changes in (applied_products or {}).items()
        if VISIBLE in changes
    }
    if not applied and not shown:
        return
    ledger = load_written(deps, tenant_id, profile_id)
    for vid, changes in applied.items():
        for field, (_old, new) in changes.items():
            # stock too: never a conflict (it always follows the feed), but it says the
            # profile wrote the item (missing: zero_stock)
            ledger[(vid, field)] = index_value(field, new)
    for pid, (_old, new) in shown.items():
        # keyed by the product (the field is only ever a product's): whether feedsync hid it
        ledger[(pid, VISIBLE)] = new
    rows = ((vid, field, json_cell(value)) for (vid, field), value in sorted(ledger.items()))
    _put(deps, keys.written_key(tenant_id, profile_id), ("variant_id", "field", "value"), rows)


REFUSED_HEADER = ("op", "level", "id", "key", "payload", "reason", "run_id", "at")


def load_refused(deps: Deps, tenant_id: str, profile_id: str) -> dict[RefusalKey, Refusal]:
    """The profile's known-bad items (empty when none was ever refused)."""
    return {
        (op, int(item_id)): Refusal(
            json.loads(payload), reason, run_id, at, key, level == "product"
        )
        for op, level, item_id, key, payload, reason, run_id, at in _records(
            deps, keys.refused_key(tenant_id, profile_id)
        )
    }


def remember_refused(
    deps: Deps,
    tenant_id: str,
    profile_id: str,
    refused: Mapping[RefusalKey, Refusal],
    applied: Mapping[int, Mapping[str, Any]],
    applied_products: Mapping[int, Mapping[str, Any]],
) -> None:
    """Add what the platform refused this run; strike what it accepted (``applied``:
    variant id -> changes, ``applied_products``: product id -> changes). The file is
    read only when the run refused something, or wrote something and a file exists."""
    key = keys.refused_key(tenant_id, profile_id)
    wrote = bool(applied or applied_products)
    if not refused and not (wrote and deps.blobs.head(key) is not None):
        return
    ledger = load_refused(deps, tenant_id, profile_id)
    changed = forget_accepted(ledger, applied, applied_products)
    if not refused and not changed:
        return
    merged(ledger, refused)
    rows = (
        (op, "product" if r.product_level else "variant", item_id, r.key,
         json.dumps(r.payload, sort_keys=True, ensure_ascii=False), r.reason, r.run_id, r.at)
        for (op, item_id), r in sorted(ledger.items())
    )  # fmt: skip
    _put(deps, key, REFUSED_HEADER, rows)


def load_dismissed(deps: Deps, tenant_id: str, profile_id: str) -> dict[Key, Any]:
    return {
        (int(vid), field): json.loads(value)
        for vid, field, value in _records(deps, keys.dismissed_key(tenant_id, profile_id))
    }


def save_dismissed(
    deps: Deps, tenant_id: str, profile_id: str, dismissed: Mapping[Key, Any]
) -> None:
    rows = ((vid, field, json_cell(value)) for (vid, field), value in sorted(dismissed.items()))
    key = keys.dismissed_key(tenant_id, profile_id)
    _put(deps, key, ("variant_id", "field", "feed_value"), rows)


def open_conflicts(deps: Deps, tenant_id: str, profile_id: str) -> list[dict[str, Any]]:
    """The open conflicts, as the API shows them (values in their canonical form)."""
    out = []
    for rec in _records(deps, keys.conflicts_key(tenant_id, profile_id)):
        row, key, pid, vid, field, store, feed, last, run_id, since = rec
        out.append(
            {
                "row": int(row),
                "key": key,
                "product_id": int(pid),
                "variant_id": int(vid),
                "field": field,
                "store_value": json.loads(store),
                "feed_value": json.loads(feed),
                "last_written": json.loads(last),
                "run_id": run_id,
                "since": since,
            }
        )
    return out


def _conflict_cells(c: dict[str, Any]) -> tuple[Any, ...]:
    return (
        c["row"], c["key"], c["product_id"], c["variant_id"], c["field"],
        json_cell(c["store_value"]), json_cell(c["feed_value"]), json_cell(c["last_written"]),
        c["run_id"], c["since"],
    )  # fmt: skip


def save_conflicts(
    deps: Deps,
    tenant_id: str,
    profile_id: str,
    found: Iterable[Conflict],
    run_id: str,
    now: datetime,
) -> None:
    """The conflicts a run found replace the open ones; one already open keeps its since.

    A dismiss takes no run lock, so one may land while the run matches: what it dismissed
    (read again here, after the match) is not opened again.
    """
    earlier = {
        (c["variant_id"], c["field"]): c["since"]
        for c in open_conflicts(deps, tenant_id, profile_id)
    }
    dismissed = load_dismissed(deps, tenant_id, profile_id)
    rows = (
        _conflict_cells(
            {**c._asdict(), "run_id": run_id,
             "since": earlier.get((c.variant_id, c.field), now.isoformat())}
        )
        for c in found
        if (c.variant_id, c.field) not in dismissed
        or dismissed[(c.variant_id, c.field)] != c.feed_value
    )  # fmt: skip
    _put(deps, keys.conflicts_key(tenant_id, profile_id), CONFLICT_HEADER, rows)


def drop_conflicts(deps: Deps, tenant_id: str, profile_id: str, dropped: set[Key]) -> None:
    """Forget open conflicts (reapplied or dismissed)."""
    rows = (
        _conflict_cells(c)
        for c in open_conflicts(deps, tenant_id, profile_id)
        if (c["variant_id"], c["field"]) not in dropped
    )
    _put(deps, keys.conflicts_key(tenant_id, profile_id), CONFLICT_HEADER, rows)


def forget_store_items(deps: Deps, tenant_id: str, profile_id: str) -> None:
    """A profile moved to another store: what it wrote, its open and dismissed conflicts and
    the items the store refused are the old store's items (their ids mean nothing in the new
    one), so all of it goes: in the new store an item feedsync never wrote has no conflict."""
    for key in (
        keys.written_key(tenant_id, profile_id),
        keys.conflicts_key(tenant_id, profile_id),
        keys.dismissed_key(tenant_id, profile_id),
        keys.refused_key(tenant_id, profile_id),
    ):
        deps.blobs.delete(key)
