"""Rows of the per-row log CSV that merchants download after a run.

One line per feed row, in words a merchant understands: money as "12.99", an
empty store value as "(empty)", and the column and cell that made a row fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from feedsync.domain.feed import RowError
from feedsync.domain.fields import MONEY_FIELDS
from feedsync.domain.money import format_money
from feedsync.domain.reconcile import ROW_ERROR, Change, Outcome

# ``key`` is the store's key the row was matched on; ``file_key`` the SKU as the file wrote
# it when the profile's key_transform made the store's from it, else empty (a log written
# before it existed has no such column). A row the parser skipped is named by the file's key.
LOG_HEADER: Final = (
    "row", "key", "product_id", "variant_id", "status", "changes", "error", "file_key",
)  # fmt: skip
LogLine = tuple[str, str, str, str, str, str, str, str]

# What became of a "changed" row once the update step ran (the match's statuses are in
# ``reconcile``).
UPDATED: Final = "updated"
FAILED: Final = "failed"
# Its variant (or product) was deleted in the store after the catalog was read: the write
# could not happen, and the index forgets the item, so the next run finds it "not_found".
GONE: Final = "gone"
NOT_APPLIED: Final = "not_applied"
# The store's value changed since it was read: the write did not overwrite it.
STALE: Final = "stale"
GONE_MESSAGE: Final = "no longer in the store (deleted since the catalog was read)"
NOT_APPLIED_MESSAGE: Final = "the run stopped before this item was sent"
CANCELLED_MESSAGE: Final = "the run was cancelled before this item was sent"

# Spreadsheet apps run a cell starting with these as a formula; supplier text is untrusted.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def value_text(field: str, value: object) -> str:
    """A canonical value in the log's words (money as 12.99, None as (empty))."""
    if value is None:
        # Stock the store does not track, or holds at a location the index does not read; a
        # product in a state of the merchant's own (a draft, archived: ``fields.VISIBLE_AT``).
        if field == "visible":
            return "held back by the merchant (or not known)"
        return "(not known)" if field == "stock" else "(empty)"
    if field in MONEY_FIELDS and isinstance(value, int):
        return format_money(value)
    if isinstance(value, bool):  # a product's visibility (missing: disable)
        return "shown" if value else "hidden"
    return str(value)


def _change(field: str, old: object, new: object) -> str:
    if field == "description":  # the index holds a digest, and the text can be long
        verb = "set" if old is None else "replaced"
        return f"description: {verb} ({len(str(new)):,} characters)"
    return f"{field}: {value_text(field, old)} -> {value_text(field, new)}"


def format_changes(changes: Iterable[Change]) -> str:
    """Render changes for the log, e.g. "price: 12.99 -> 13.49; stock: 4 -> 7"."""
    return "; ".join(_change(f, old, new) for f, old, new in changes)


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in text that came from the supplier's file."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# The run's other CSV answers (its changes) neutralise the same way.
spreadsheet_safe = _cell


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


def outcome_log_row(outcome: Outcome, file_key: str = "") -> LogLine:
    row_no, key, status, pid, vid, changes, message = outcome
    return (
        str(row_no),
        _cell(key or ""),
        _id(pid),
        _id(vid),
        status,
        format_changes(changes),
        _cell(message),
        _cell(file_key),
    )


def applied_status(
    result: tuple[bool, str, bool] | tuple[bool, str, bool, bool] | None,
    noted: str = "",
    unsent: str = NOT_APPLIED_MESSAGE,
) -> tuple[str, str]:
    """Status and error text of a planned ("changed") row from the store's answer.

    ``result``: ``(ok, the platform's errors, gone)`` over every operation that carried
    the row, None when none reached the store; ``noted``: what the match noted (a product
    conflict), kept after the store's answer; ``unsent``: why none reached it.
    """
    if result is None:
        return NOT_APPLIED, "; ".join(text for text in (unsent, noted) if text)
    ok, errors, gone = result[0], result[1], result[2]
    if not ok and not gone and len(result) > 3 and result[3]:
        # the store refused to overwrite a value changed since it was read
        return STALE, "; ".join(text for text in (errors, noted) if text)
    if gone:  # the platform's own words add nothing a merchant can act on
        return GONE, "; ".join(text for text in (GONE_MESSAGE, noted) if text)
    return (UPDATED if ok else FAILED), "; ".join(text for text in (errors, noted) if text)


def row_error_log_row(err: RowError) -> LogLine:
    """A row skipped by the parser: "column 'Price': 'abc' — expected a price such as 12.99"."""
    if err.value:
        text = f"column '{err.column}': '{err.value}' — {err.message}"
    else:
        text = f"column '{err.column}': {err.message}"
    return (str(err.row_no), _cell(err.key), "", "", ROW_ERROR, "", _cell(text), "")
