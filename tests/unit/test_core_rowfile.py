"""The parsed-rows hand-off between parse and match: what is written reads back the same."""

from __future__ import annotations

import io

from feedsync.core.rowfile import HEADER, KEYED_HEADER, FileKeySlot, read_rows, write_rows
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


def test_keyed_rows_hand_their_file_key_to_the_slot_as_each_row_is_read() -> None:
    # Given rows a key transform made (the file's SKU last), one without a SKU
    keyed = [(2, "ACME-1", None, 100, *([None] * 9), "1"), (3, None, "4006381333931",
             200, *([None] * 9), None)]  # fmt: skip
    buf = io.StringIO(newline="")
    write_rows(buf, keyed, file_keys=True)  # type: ignore[arg-type]
    # When read back with a slot
    slot = FileKeySlot()
    seen = []
    for row in read_rows(io.StringIO(buf.getvalue(), newline=""), slot):
        seen.append((row, slot.of(row[0]), slot.of(row[0] + 1)))
    # Then each row keeps the usual layout, and the slot holds its file key while it is out
    # (and nothing for another row)
    assert buf.getvalue().splitlines()[0] == ",".join(KEYED_HEADER)
    assert seen == [(keyed[0][:13], "1", ""), (keyed[1][:13], "", "")]
