"""CSV files in the blob store: written through local disk, read as a stream.

Run files (rows, logs, results) can hold millions of lines, so neither direction
ever holds a whole file in memory.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TextIO, cast

from feedsync.core.deps import Deps


def text_lines(raw: IO[bytes]) -> Iterator[str]:
    """Stream bytes as text: UTF-8, BOM dropped, newlines kept for csv."""
    return io.TextIOWrapper(cast(io.BufferedReader, raw), encoding="utf-8-sig", newline="")


@contextmanager
def csv_to_blob(deps: Deps, key: str) -> Iterator[TextIO]:
    """Spool a CSV to local disk, then upload it (multipart when big).

    Nothing is uploaded if the block raises.
    """
    fd, path = tempfile.mkstemp(dir=deps.work_dir, suffix=".csv")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        deps.blobs.upload_file(path, key, "text/csv")
    finally:
        os.unlink(path)


def csv_records(deps: Deps, key: str) -> Iterator[list[str]]:
    """The records of a stored CSV, header skipped."""
    raw = deps.blobs.open_read(key)
    try:
        reader = csv.reader(text_lines(raw))
        next(reader, None)
        yield from reader
    finally:
        raw.close()
