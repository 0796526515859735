"""Shared by the format tests: read a whole file through open_feed; the cells an external
suite's case reads as, and the rows it expects as feedsync reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedsync.domain.feed import RecordFeed
from feedsync.domain.fields import ROW_POS, Row
from feedsync.formats import open_feed


def read_all(
    path: Path, fmt: dict[str, Any] | None, mapping: dict[str, str]
) -> tuple[RecordFeed, list[Row], dict[str, Any]]:
    """Open ``path`` as the supplier's file of the same name and read every row."""
    feed, info = open_feed(str(path), path.name, fmt or {}, mapping, work_dir=str(path.parent))
    with feed:
        rows = list(feed)
    return feed, rows, info


# The fields read as plain text: a case's columns are read through them, five at a time.
TEXT_FIELDS = ("sku", "barcode", "name", "description", "brand")


def read_cells(
    path: Path, fmt: dict[str, Any], columns: list[str]
) -> tuple[list[list[str | None]], list[int]]:
    """Every data row of ``path`` as its cells (stripped, None when empty), in order, and
    the rows reported as too short for the columns (feedsync skips and reports those)."""
    by_row: dict[int, list[str | None]] = {}
    short: set[int] = set()
    for start in range(0, len(columns), len(TEXT_FIELDS)):
        mapping = dict(zip(TEXT_FIELDS, columns[start : start + len(TEXT_FIELDS)], strict=False))
        feed, rows, _ = read_all(path, fmt, mapping)
        short.update(e.row_no for e in feed.row_errors)
        for row in rows:
            by_row.setdefault(row[0], []).extend(row[ROW_POS[f]] for f in mapping)  # type: ignore[misc]
    return [cells for _, cells in sorted(by_row.items())], sorted(short)


def as_feedsync_reads(rows: list[list[str]]) -> tuple[list[list[str | None]], list[int]]:
    """Expected rows as feedsync reads them: cells stripped, empty ones None; a wholly
    blank row left out; a row without every column skipped and reported (its number)."""
    width = max((len(row) for row in rows), default=0)
    out: list[list[str | None]] = []
    short: list[int] = []
    for row_no, row in enumerate(rows, start=1):
        cells = [cell.strip() or None for cell in row]
        if all(cell is None for cell in cells):
            continue
        if len(cells) < width:
            short.append(row_no)
        else:
            out.append(cells)
    return out, short
