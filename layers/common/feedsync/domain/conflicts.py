"""Store-side edits: a value changed in the store since feedsync wrote it is the merchant's.

feedsync remembers, per item and field, the value it last wrote (``core/written.py``).
At match time a store value that differs from it is a store-side edit; where the store
wins (by default for prices and content; stock always follows the feed, orders move it)
the store value stays, and the row says so. An item feedsync never wrote has no
conflict: the first write is the feed's. Only changed rows are looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from feedsync.domain.fields import CONTENT_FIELDS, MONEY_FIELDS
from feedsync.domain.reconcile import CHANGED, UNCHANGED, Outcome
from feedsync.domain.runlog import value_text

STORE_WINS: Final = "store_wins"
FEED_WINS: Final = "feed_wins"
CONFLICT: Final = "conflict"  # a row's status when every change it wanted was kept out
# Where the store wins unless the profile says otherwise.
DEFAULT_STORE_WINS: Final = frozenset((*MONEY_FIELDS, *CONTENT_FIELDS))
NEVER_STORE_WINS: Final = frozenset({"stock"})

Key = tuple[int, str]  # (variant id, field)


class Conflict(NamedTuple):
    row: int
    key: str
    product_id: int
    variant_id: int
    field: str
    store_value: Any
    feed_value: Any
    last_written: Any


def store_wins_fields(settings: Mapping[str, str]) -> frozenset[str]:
    """The fields where a store-side edit is kept, from the profile's ``conflicts``."""
    fields = set(DEFAULT_STORE_WINS)
    for field, policy in settings.items():
        if policy == STORE_WINS:
            fields.add(field)
        else:
            fields.discard(field)
    return frozenset(fields - NEVER_STORE_WINS)


def conflict_text(conflict: Conflict) -> str:
    """What the log says of a kept store value."""
    field = conflict.field
    return (
        f"{field}: changed in the store since feedsync wrote "
        f"{value_text(field, conflict.last_written)}; the store's "
        f"{value_text(field, conflict.store_value)} is kept (feed: "
        f"{value_text(field, conflict.feed_value)}; store wins)"
    )


def split_conflicts(
    outcome: Outcome,
    written: Mapping[Key, Any],
    dismissed: Mapping[Key, Any],
    store_wins: frozenset[str],
) -> tuple[Outcome, list[Conflict]]:
    """A changed outcome without the changes the store wins, and the conflicts found.

    A change whose store value is not what feedsync last wrote is a conflict, unless the
    merchant dismissed it for this very feed value (then it is kept out silently). A row
    left with no change becomes a ``conflict`` row.
    """
    row, key, status, pid, vid, changes, note = outcome
    if status != CHANGED or key is None or pid is None or vid is None:
        return outcome, []
    kept: list[tuple[str, Any, Any]] = []
    found: list[Conflict] = []
    quiet = False
    for change in changes:
        field, old, new = change
        if field in store_wins:
            last = written.get((vid, field), _NEVER)
            if last is not _NEVER and last != old:
                if (vid, field) in dismissed and dismissed[(vid, field)] == new:
                    quiet = True
                    continue
                found.append(Conflict(row, key, pid, vid, field, old, new, last))
                continue
        kept.append(change)
    if not found and not quiet:
        return outcome, []
    texts = [conflict_text(c) for c in found]
    if note:
        texts.insert(0, note)
    if kept:
        return (row, key, CHANGED, pid, vid, tuple(kept), "; ".join(texts)), found
    shown = tuple((c.field, c.store_value, c.feed_value) for c in found)
    if not found:  # only dismissed ones: the store's values stand, nothing to say
        return (row, key, UNCHANGED, pid, vid, (), note), found
    return (row, key, CONFLICT, pid, vid, shown, "; ".join(texts)), found


_NEVER: Final = object()
