"""Shared by the format tests: read a whole file through open_feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedsync.domain.feed import RecordFeed
from feedsync.domain.fields import Row
from feedsync.formats import open_feed


def read_all(
    path: Path, fmt: dict[str, Any] | None, mapping: dict[str, str]
) -> tuple[RecordFeed, list[Row], dict[str, Any]]:
    """Open ``path`` as the supplier's file of the same name and read every row."""
    feed, info = open_feed(str(path), path.name, fmt or {}, mapping, work_dir=str(path.parent))
    with feed:
        rows = list(feed)
    return feed, rows, info
