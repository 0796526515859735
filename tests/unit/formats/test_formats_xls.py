"""Old Excel .xls workbooks: read as the merchant sees them, like .xlsx."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import xlwt
from formats_support import read_all

from feedsync.errors import FeedFormatError

MAPPING = {"sku": "SKU", "barcode": "EAN", "price": "Price", "stock": "Qty", "name": "Name"}


def old_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    """An Excel 97-2003 (BIFF) workbook, as old supplier systems still export."""
    book = xlwt.Workbook()
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for title, rows in sheets.items():
        sheet = book.add_sheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write(r, c, value, dates)
                else:
                    sheet.write(r, c, value)
    book.save(str(path))


def test_numbers_barcodes_and_dates_read_as_displayed(tmp_path: Path) -> None:
    # Given an .xls sheet with numeric barcodes, float prices, an integer stock and a date
    path = tmp_path / "feed.xls"
    old_workbook(
        path,
        {
            "Products": [
                ["SKU", "EAN", "Price", "Qty", "Name", "Updated"],
                ["A-1", 4006381333931.0, 12.5, 7, "Mug", dt.date(2024, 3, 1)],
                ["B-2", "0012345678905", 3.0, 0, "Cup", None],
                [None, None, None, None, None, None],
                ["C-3", 123456789012.0, 1.99, 2, "Bowl", None],
            ]
        },
    )
    # When read with detection
    feed, rows, info = read_all(path, None, MAPPING)
    # Then it is an .xls, barcodes are digits (never 4.00638E+12), the blank row is skipped
    assert (info["type"], info["sheet"], info["detected"]) == ("xls", "Products", True)
    assert [r[:5] for r in rows] == [
        (2, "A-1", "4006381333931", 1250, None),
        (3, "B-2", "0012345678905", 300, None),
        (5, "C-3", "123456789012", 199, None),
    ]
    assert [r[7] for r in rows] == [7, 0, 2] and rows[0][8] == "Mug"
    assert feed.rows_read == 3


def test_sheet_by_name_or_index_and_a_header_further_down(tmp_path: Path) -> None:
    # Given a workbook whose second sheet has a title line above the header
    path = tmp_path / "stock.xls"
    old_workbook(
        path,
        {
            "Notes": [["nothing here"]],
            "Stock": [["Acme stock list"], ["SKU", "Qty"], ["A-1", 4]],
        },
    )
    mapping = {"sku": "SKU", "stock": "Qty"}
    for sheet in ("Stock", 1, "1"):
        # When read by name or by position with the header on row 2
        _feed, rows, info = read_all(path, {"sheet": sheet, "header_row": 2}, mapping)
        # Then the row is read with its sheet row number
        assert info["sheet"] == "Stock" and [r[:2] for r in rows] == [(3, "A-1")]
        assert info["sheets"] == ["Notes", "Stock"]  # named for picking one
        assert rows[0][7] == 4
    # And an unknown sheet names the sheets there are
    with pytest.raises(FeedFormatError, match="'Notes', 'Stock'"):
        read_all(path, {"sheet": "Prices"}, mapping)


def test_an_xls_named_xlsx_is_read_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    # Given an old workbook saved under an .xlsx name, and a damaged .xls
    misnamed = tmp_path / "feed.xlsx"
    old_workbook(misnamed, {"S": [["SKU", "Qty"], ["A-1", 1]]})
    damaged = tmp_path / "broken.xls"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    mapping = {"sku": "SKU", "stock": "Qty"}
    # When read, Then the first is read as .xls even when the profile says xlsx
    _feed, rows, info = read_all(misnamed, {"type": "xlsx"}, mapping)
    assert info["type"] == "xls" and rows[0][:2] == (2, "A-1")
    # And the damaged one fails with the file's name and what it was read as
    with pytest.raises(FeedFormatError, match=r"broken\.xls: cannot be opened as an Excel \.xls"):
        read_all(damaged, None, mapping)
