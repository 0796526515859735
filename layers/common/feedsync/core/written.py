"""What a profile wrote, its open conflicts and the ones the merchant dismissed (S3).

- ``written.csv``: per (variant, field), the value feedsync last wrote, as the catalog index
  holds it; finalize adds what each run got into the store.
- ``conflicts.csv``: the store-side edits the last run found (``domain/conflicts.py``), each
  with when it was first seen; ``GET /profiles/{id}/conflicts`` reads it.
- ``dismissed.csv``: (variant, field, feed value) the merchant chose to leave to the store;
  a conflict is flagged again once the feed value changes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from feedsync.core.deps import Deps
from feedsync.domain.changes import json_cell
from feedsync.domain.conflicts import Conflict, Key
from feedsync.domain.content import index_value

CONFLICT_HEADER = (
    "row", "key", "product_id", "variant_id", "field", "store_value", "feed_value",
    "last_written", "run_id", "since",
)  # fmt: skip


def _prefix(tenant_id: str, profile_id: str) -> str:
    return f"profiles/{tenant_id}/{profile_id}/"


def written_key(tenant_id: str, profile_id: str) -> str:
    return f"{_prefix(tenant_id, profile_id)}written.csv"


def conflicts_key(tenant_id: str, profile_id: str) -> str:
    return f"{_prefix(tenant_id, profile_id)}conflicts.csv"


def dismissed_key(tenant_id: str, profile_id: str) -> str:
    return f"{_prefix(tenant_id, profile_id)}dismissed.csv"


def _records(deps: Deps, key: str) -> list[list[str]]:
    if deps.blobs.head(key) is None:
        return []
    return list(csv.reader(io.StringIO(deps.blobs.get_bytes(key).decode("utf-8"))))[1:]


def _put(deps: Deps, key: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    deps.blobs.put_bytes(key, out.getvalue().encode("utf-8"), "text/csv")


def load_written(deps: Deps, tenant_id: str, profile_id: str) -> dict[Key, Any]:
    return {
        (int(vid), field): json.loads(value)
        for vid, field, value in _records(deps, written_key(tenant_id, profile_id))
    }


def remember_written(
    deps: Deps, tenant_id: str, profile_id: str, applied: Mapping[int, Mapping[str, Any]]
) -> None:
    """Add what reached the store (variant id -> {field: [old, new]}) to the ledger."""
    if not applied:
        return
    ledger = load_written(deps, tenant_id, profile_id)
    for vid, changes in applied.items():
        for field, (_old, new) in changes.items():
            # stock too: never a conflict (it always follows the feed), but it says the
            # profile wrote the item (missing: zero_stock)
            ledger[(vid, field)] = index_value(field, new)
    rows = ((vid, field, json_cell(value)) for (vid, field), value in sorted(ledger.items()))
    _put(deps, written_key(tenant_id, profile_id), ("variant_id", "field", "value"), rows)


def load_dismissed(deps: Deps, tenant_id: str, profile_id: str) -> dict[Key, Any]:
    return {
        (int(vid), field): json.loads(value)
        for vid, field, value in _records(deps, dismissed_key(tenant_id, profile_id))
    }


def save_dismissed(
    deps: Deps, tenant_id: str, profile_id: str, dismissed: Mapping[Key, Any]
) -> None:
    rows = ((vid, field, json_cell(value)) for (vid, field), value in sorted(dismissed.items()))
    _put(deps, dismissed_key(tenant_id, profile_id), ("variant_id", "field", "feed_value"), rows)


def open_conflicts(deps: Deps, tenant_id: str, profile_id: str) -> list[dict[str, Any]]:
    """The open conflicts, as the API shows them (values in their canonical form)."""
    out = []
    for rec in _records(deps, conflicts_key(tenant_id, profile_id)):
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


def save_conflicts(
    deps: Deps,
    tenant_id: str,
    profile_id: str,
    found: Iterable[Conflict],
    run_id: str,
    now: datetime,
) -> None:
    """The conflicts a run found replace the open ones; one already open keeps its since."""
    earlier = {
        (c["variant_id"], c["field"]): c["since"]
        for c in open_conflicts(deps, tenant_id, profile_id)
    }
    rows = [
        (
            c.row, c.key, c.product_id, c.variant_id, c.field, json_cell(c.store_value),
            json_cell(c.feed_value), json_cell(c.last_written), run_id,
            earlier.get((c.variant_id, c.field), now.isoformat()),
        )
        for c in found
    ]  # fmt: skip
    _put(deps, conflicts_key(tenant_id, profile_id), CONFLICT_HEADER, rows)


def drop_conflicts(deps: Deps, tenant_id: str, profile_id: str, keys: set[Key]) -> None:
    """Forget open conflicts (reapplied or dismissed)."""
    kept = [
        c for c in open_conflicts(deps, tenant_id, profile_id)
        if (c["variant_id"], c["field"]) not in keys
    ]  # fmt: skip
    rows = [
        (
            c["row"], c["key"], c["product_id"], c["variant_id"], c["field"],
            json_cell(c["store_value"]), json_cell(c["feed_value"]),
            json_cell(c["last_written"]), c["run_id"], c["since"],
        )
        for c in kept
    ]  # fmt: skip
    _put(deps, conflicts_key(tenant_id, profile_id), CONFLICT_HEADER, rows)
