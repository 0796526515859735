"""A run's changes: one line per (feed row, field) the run writes or would write.

The changes file (``runs/{tenant}/{run}/changes.csv``) is both the plan a merchant
reviews before anything reaches the store and the run's before-image: ``store_value``
is what the store held, ``new_value`` what the run writes. It is in feed-row order
(plan order), one line per field, and every step that moves an item on (select,
finalize) rewrites it in one streaming pass, so it never sits in memory whole.

Values are stored as JSON (``null``, ``1299``, ``"text"``) in their canonical form
(money in cents); ``present`` turns them into the API's words. ``key`` is the store's key;
``file_key`` the SKU as the file wrote it when a key_transform made the key, else empty (a
file written before that column existed has nine columns and reads with it empty).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, NamedTuple

from feedsync.domain import runlog
from feedsync.domain.fields import MONEY_FIELDS, WRITABLE_FIELDS
from feedsync.domain.money import format_money
from feedsync.domain.runlog import GONE, GONE_MESSAGE, LogLine, outcome_log_row

CHANGES_HEADER: Final = (
    "row",
    "key",
    "product_id",
    "variant_id",
    "field",
    "store_value",
    "new_value",
    "status",
    "error",
    "file_key",
)

# Statuses a merchant sees.
PENDING: Final = "pending"  # planned, not yet sent (a preview, or not selected yet)
UPDATED: Final = "updated"
FAILED: Final = "failed"
STALE: Final = "stale"  # the store no longer held store_value when it was applied
SKIPPED: Final = "skipped"  # not written, and not to be: the item is gone, nothing to undo
REVERTED: Final = "reverted"  # a revert run put store_value back
# Internal: selected for the apply in progress (shown as pending until its answer).
SENDING: Final = "sending"

STATUSES: Final = (PENDING, UPDATED, FAILED, STALE, SKIPPED, REVERTED)
# What a change can be about: a field written, or an item created (create mode: one line
# per variant, ``domain/create.CREATE_FIELD``).
CHANGE_FIELDS: Final = (*WRITABLE_FIELDS, "create")


class ChangeLine(NamedTuple):
    row: int
    key: str
    product_id: int
    variant_id: int
    field: str
    store_value: Any
    new_value: Any
    status: str
    error: str = ""
    file_key: str = ""

    @property
    def shown_status(self) -> str:
        return PENDING if self.status == SENDING else self.status


def json_cell(value: Any) -> str:
    """A value as its JSON text (ints, the common case, without the json module)."""
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def encode(line: ChangeLine) -> tuple[str, ...]:
    """A line as the CSV stores it."""
    return (
        str(line.row),
        line.key,
        str(line.product_id),
        str(line.variant_id),
        line.field,
        json_cell(line.store_value),
        json_cell(line.new_value),
        line.status,
        line.error,
        line.file_key,
    )


def decode(record: list[str]) -> ChangeLine:
    """A stored CSV record (header excluded) as a ``ChangeLine``."""
    row, key, pid, vid, field, old, new, status, error, *file_key = record
    return ChangeLine(
        int(row), key, int(pid), int(vid), field, json.loads(old), json.loads(new), status, error,
        file_key[0] if file_key else "",
    )  # fmt: skip


def shown_value(field: str, value: Any) -> Any:
    """A canonical value in the API's words: money as "12.99", the rest as stored."""
    if field in MONEY_FIELDS and isinstance(value, int):
        return format_money(value)
    return value


def present(line: ChangeLine) -> dict[str, Any]:
    """One change as ``GET /runs/{id}/changes`` answers it."""
    return {
        "row": line.row,
        "key": line.key,
        "product_id": line.product_id,
        "variant_id": line.variant_id,
        "field": line.field,
        "store_value": shown_value(line.field, line.store_value),
        "new_value": shown_value(line.field, line.new_value),
        "status": line.shown_status,
        "error": line.error or None,
        "file_key": line.file_key or None,
    }


# Where the filters look in a stored record (``encode``'s order).
_KEY: Final = CHANGES_HEADER.index("key")
_FIELD: Final = CHANGES_HEADER.index("field")
_STATUS: Final = CHANGES_HEADER.index("status")


def record_filter(
    status: str | None = None, field: str | None = None, q: str | None = None
) -> Callable[[Sequence[str]], bool]:
    """Whether a stored record (not decoded: a scan of a million lines decodes only those it
    answers) is shown under the filters: ``status`` as shown (``sending`` is ``pending``),
    ``field`` exactly, ``q`` a case-insensitive part of ``key``; None matches all."""
    statuses = None if status is None else {status, SENDING} if status == PENDING else {status}
    needle = q.casefold() if q else None

    def keep(record: Sequence[str]) -> bool:
        return (
            (statuses is None or record[_STATUS] in statuses)
            and (field is None or record[_FIELD] == field)
            and (needle is None or needle in record[_KEY].casefold())
        )

    return keep


def _text(field: str, value: Any) -> str:
    text = runlog.value_text(field, value)
    # Numbers stay numbers (a stock of -5 is no formula); text from a file or a store may be.
    return text if isinstance(value, int | float) else runlog.spreadsheet_safe(text)


def csv_record(line: ChangeLine) -> tuple[str, ...]:
    """One change as the API's CSV answers it: ``present``'s columns, values in the log's
    words, spreadsheet formulas in supplier or store text neutralised."""
    return (
        str(line.row),
        runlog.spreadsheet_safe(line.key),
        str(line.product_id),
        str(line.variant_id),
        line.field,
        _text(line.field, line.store_value),
        _text(line.field, line.new_value),
        line.shown_status,
        runlog.spreadsheet_safe(line.error),
        runlog.spreadsheet_safe(line.file_key),
    )


def csv_records(
    records: Iterable[list[str]], keep: Callable[[Sequence[str]], bool]
) -> Iterator[tuple[str, ...]]:
    """The CSV answer's rows of the stored records ``keep`` keeps (only those decoded)."""
    for record in records:
        if keep(record):
            yield csv_record(decode(record))


class ChangeCounts:
    """Changes per status and per field, kept on the run as ``change_counts``."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}
        self.field: dict[str, int] = {}

    def add(self, line: ChangeLine) -> None:
        status = line.shown_status
        self.status[status] = self.status.get(status, 0) + 1
        self.field[line.field] = self.field.get(line.field, 0) + 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"status": dict(self.status), "field": dict(self.field)}


# A row's status in the run's log, from its changes' (first match wins).
_ROW_STATUS: Final = (
    (FAILED, FAILED),
    (STALE, STALE),
    (PENDING, PENDING),
    (SENDING, PENDING),
    (UPDATED, UPDATED),
    (REVERTED, REVERTED),
    (SKIPPED, SKIPPED),
)


def row_status(lines: list[ChangeLine]) -> tuple[str, str]:
    """One feed row's status and error text in the log, from all its changes: failed if
    any failed, then stale, pending, updated, reverted; skipped (``gone`` when the store
    no longer has the item) only when nothing else happened to it."""
    statuses = {line.status for line in lines}
    errors = "; ".join(dict.fromkeys(line.error for line in lines if line.error))
    for status, shown in _ROW_STATUS:
        if status in statuses:
            if shown == SKIPPED and any(line.error == GONE_MESSAGE for line in lines):
                return GONE, errors
            return shown, errors
    return PENDING, errors


def rows_of(lines: Iterable[ChangeLine]) -> Iterator[list[ChangeLine]]:
    """The file's lines grouped by feed row (a row's lines are consecutive)."""
    group: list[ChangeLine] = []
    for line in lines:
        if group and group[0].row != line.row:
            yield group
            group = []
        group.append(line)
    if group:
        yield group


def row_log_line(lines: list[ChangeLine]) -> LogLine:
    """A row's line in the run's log (``domain/runlog.LOG_HEADER``) from its changes."""
    first = lines[0]
    status, error = row_status(lines)
    changes = tuple((line.field, line.store_value, line.new_value) for line in lines)
    return outcome_log_row(
        (first.row, first.key, status, first.product_id, first.variant_id, changes, error),
        first.file_key,
    )
