"""The parsed-rows hand-off between parse and match: what is written reads back the same."""

from __future__ import annotations

import io

from feedsync.core.rowfile import HEADER, read_rows, write_rows
from feedsync.domain.fields import Row

ROWS: list[Row] = [
    (2, "A-1", "0012345678905", 1299, None, 1500, 700, 4, "Mug, blue", None, None, None, None),
    (3, "B,2", None, None, 999, None, None, 0, 'Tee "crew"\nline two', "<p>Soft &amp; warm</p>",
     "Acme", "0.25", "https://cdn.example/b.jpg"),
    (7, None, "4006381333931", 10**15, None, None, None, None, None, None, None, None, None),
]  # fmt: skip


def test_rows_read_back_exactly_as_written() -> None:
    # Given rows with Nones, zeros, big numbers, commas, quotes and newlines in text
    buf = io.StringIO(newline="")
    # When written and read back
    write_rows(buf, ROWS)
    back = list(read_rows(io.StringIO(buf.getvalue(), newline="")))
    # Then every row is the same tuple, and the file starts with the header
    assert back == ROWS
    assert buf.getvalue().splitlines()[0] == ",".join(HEADER)


def test_an_empty_feed_writes_only_the_header() -> None:
    buf = io.StringIO(newline="")
    write_rows(buf, [])
    assert list(read_rows(io.StringIO(buf.getvalue()))) == []
