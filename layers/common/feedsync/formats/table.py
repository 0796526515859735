"""What every reader returns: the header, the records and what it found out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from feedsync.domain.feed import Record


class Table(NamedTuple):
    header: list[str] | None
    records: Iterator[Record]
    info: dict[str, Any]


def union_header(rows: list[dict[str, str]]) -> list[str]:
    """Keys in first-seen order over the given records."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in seen:
                seen[key] = None
    return list(seen)
