"""A run's changes file: lines round-trip, a row's status over its changes, the API's words."""

from __future__ import annotations

import csv
import io

from feedsync.domain.changes import (
    CHANGES_HEADER,
    ChangeCounts,
    ChangeLine,
    decode,
    encode,
    present,
    row_log_line,
    row_status,
    rows_of,
)
from feedsync.domain.runlog import GONE_MESSAGE


def _line(row: int, field: str, status: str, error: str = "", **kw: object) -> ChangeLine:
    values = {"store_value": 1000, "new_value": 1299, **kw}
    return ChangeLine(row, f"SKU-{row}", 7, 70 + row, field, values["store_value"],
                      values["new_value"], status, error)  # fmt: skip


def test_a_line_survives_the_csv_with_its_json_values() -> None:
    # Given lines holding cents, None, text with a comma, quotes and non-ASCII, and a weight
    lines = [
        _line(2, "price", "pending"),
        _line(3, "stock", "updated", store_value=None, new_value=0),
        _line(
            4,
            "name",
            "failed",
            'refused, "too long"',
            store_value="Blåbær, 1 kg",
            new_value='Say "hi"',
        ),
        _line(5, "weight", "stale", store_value="1.5", new_value="2"),
    ]
    # When written as CSV and read back
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHANGES_HEADER)
    writer.writerows(encode(line) for line in lines)
    records = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    # Then every line is what was written, values keeping their types
    assert [decode(r) for r in records] == lines
    assert records[0][5:7] == ["1000", "1299"] and records[1][5] == "null"


def test_a_row_is_failed_before_stale_before_pending_before_updated() -> None:
    assert row_status([_line(2, "price", "updated"), _line(2, "stock", "failed", "no")]) == (
        "failed",
        "no",
    )
    assert row_status([_line(2, "price", "stale", "moved"), _line(2, "stock", "pending")])[0] == (
        "stale"
    )
    assert row_status([_line(2, "price", "sending"), _line(2, "stock", "updated")])[0] == "pending"
    assert row_status([_line(2, "price", "reverted")])[0] == "reverted"
    assert row_status([_line(2, "price", "skipped", GONE_MESSAGE)])[0] == "gone"
    assert row_status([_line(2, "description", "skipped", "not kept")])[0] == "skipped"


def test_rows_group_consecutive_lines_and_log_their_changes() -> None:
    lines = [_line(2, "price", "updated"), _line(2, "stock", "updated", store_value=1,
             new_value=4), _line(3, "price", "pending")]  # fmt: skip
    groups = list(rows_of(lines))
    assert [len(g) for g in groups] == [2, 1]
    assert row_log_line(groups[0]) == (
        "2", "SKU-2", "7", "72", "updated", "price: 10.00 -> 12.99; stock: 1 -> 4", "", ""
    )  # fmt: skip


def test_the_api_shows_money_as_decimal_text_and_sending_as_pending() -> None:
    shown = present(_line(2, "price", "sending"))
    assert shown == {
        "row": 2,
        "key": "SKU-2",
        "product_id": 7,
        "variant_id": 72,
        "field": "price",
        "store_value": "10.00",
        "new_value": "12.99",
        "status": "pending",
        "error": None,
        "file_key": None,
    }
    counts = ChangeCounts()
    for line in (_line(2, "price", "sending"), _line(3, "stock", "updated")):
        counts.add(line)
    assert counts.as_dict() == {
        "status": {"pending": 1, "updated": 1},
        "field": {"price": 1, "stock": 1},
    }


def test_a_changes_file_from_before_file_keys_still_reads() -> None:
    # Given a stored record of nine columns (written before file_key) and one of ten
    old = ["2", "SKU-2", "7", "72", "price", "1000", "1299", "updated", ""]
    new = ["2", "ACME-2", "7", "72", "price", "1000", "1299", "updated", "", "2"]
    # When decoded
    # Then the old one has no file key, the new one its own; encoding gives the ten back
    assert decode(old).file_key == "" and present(decode(old))["file_key"] is None
    assert decode(new).file_key == "2" and present(decode(new))["file_key"] == "2"
    assert list(encode(decode(new))) == new
