"""A run's per-row log a page at a time, filtered by status and searched by key.

The log can hold millions of rows; the dashboard shows it as a table, so the API reads
one page from where the last one stopped (a ranged read, never the whole file), with
the cursor of the changes pages (byte offset, line, ETag): a log is written once, at
the end of its run, so its offsets stay true.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from feedsync.core.changes import Cursor, RecordScan, take_page
from feedsync.core.deps import Deps
from feedsync.domain.runlog import LOG_HEADER
from feedsync.errors import Gone, InvalidRequest, NotFound
from feedsync.models import Run

LOG_LIMIT_DEFAULT: Final = 100
LOG_LIMIT_MAX: Final = 1000
# A log written before a column was added has fewer (``file_key`` came last).
_LOG_COLUMNS: Final = range(5, len(LOG_HEADER) + 1)
_STATUS, _KEY, _FILE_KEY = LOG_HEADER.index("status"), 1, LOG_HEADER.index("file_key")


def _number(text: str) -> int | None:
    return int(text) if text else None


def present(record: Sequence[str]) -> dict[str, Any]:
    """One log line as the API answers it (ids as numbers, an absent column as null)."""
    line: dict[str, Any] = dict.fromkeys(LOG_HEADER)
    line.update(zip(LOG_HEADER, record, strict=False))
    for name in ("row", "product_id", "variant_id"):
        line[name] = _number(line[name] or "")
    return line


def _keeps(status: str | None, q: str | None) -> Callable[[Sequence[str]], bool]:
    wanted = (q or "").strip().lower()

    def keep(record: Sequence[str]) -> bool:
        if status is not None and record[_STATUS] != status:
            return False
        if not wanted:
            return True
        file_key = record[_FILE_KEY] if len(record) > _FILE_KEY else ""
        return wanted in record[_KEY].lower() or wanted in file_key.lower()

    return keep


def page_log(
    deps: Deps,
    run: Run,
    *,
    status: str | None = None,
    q: str | None = None,
    limit: int = LOG_LIMIT_DEFAULT,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` log lines under the filter from ``cursor`` on, and the next cursor
    (None after the last line). ``q``: the SKU or barcode contains it, as the store
    knows it or as the file wrote it."""
    if not 1 <= limit <= LOG_LIMIT_MAX:
        raise InvalidRequest("limit", f"expected 1 to {LOG_LIMIT_MAX}, got {limit}")
    if not run.log_key:
        raise NotFound(f"run {run.run_id} has no log yet (status: {run.status})")
    at = Cursor.decode(cursor) if cursor is not None else None
    try:
        scan = RecordScan(deps, run.log_key, at, columns=_LOG_COLUMNS)
    except NotFound:
        raise Gone(
            f"run {run.run_id}'s log is no longer kept (run files expire after 90 days)"
        ) from None
    return take_page(scan, _keeps(status, q), limit, at, present)
