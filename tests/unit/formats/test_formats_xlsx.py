"""Excel workbooks: numbers and dates as the merchant sees them, sheets, header rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError, NoDataRowsError
from feedsync.formats import open_feed

MAPPING = {"sku": "SKU", "barcode": "EAN", "price": "Price", "stock": "Qty", "name": "Name"}


def workbook(path: Path, sheets: dict[str, list[list[Any]]], fmt: dict[str, str] | None = None):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for coord, number_format in (fmt or {}).items():
            ws[coord].number_format = number_format
    wb.save(path)


def run(path: Path, fmt: dict[str, Any] | None = None, mapping: dict[str, str] | None = None):
    return read_all(path, fmt, mapping or MAPPING)


def test_numeric_barcodes_prices_and_dates_read_as_displayed(tmp_path: Path) -> None:
    # Given a sheet where barcodes are numbers (int and float), prices floats, a date column
    path = tmp_path / "feed.xlsx"
    workbook(
        path,
        {
            "Products": [
                ["SKU", "EAN", "Price", "Qty", "Name", "Since"],
                [1001, 123456789012.0, 12.5, 7.0, "Mug", dt.datetime(2024, 3, 1)],
                ["B-2", 4006381333931, 3, 0, "Pen", dt.date(2023, 12, 31)],
                ["C-3", 12345678905, 1.99, 1, "Zero-padded GTIN", None],
            ]
        },
        fmt={"B4": "0000000000000"},
    )
    # When opened with detection
    feed, rows, info = run(path, mapping={**MAPPING, "name": "Since"})
    # Then barcodes are plain digits (padding kept), integers lose ".0", dates are ISO
    assert rows == [
        (
            2,
            "1001",
            "123456789012",
            1250,
            None,
            None,
            None,
            7,
            "2024-03-01",
            None,
            None,
            None,
            None,
        ),
        (3, "B-2", "4006381333931", 300, None, None, None, 0, "2023-12-31", None, None, None, None),
        (4, "C-3", "0012345678905", 199, None, None, None, 1, None, None, None, None, None),
    ]
    assert info["type"] == "xlsx" and info["sheet"] == "Products"
    assert feed.row_errors == []


def test_sheet_by_name_and_by_index(tmp_path: Path) -> None:
    # Given two sheets with different data
    path = tmp_path / "feed.xlsx"
    workbook(
        path,
        {
            "Notes": [["nothing here"]],
            "Stock": [["SKU", "EAN", "Price", "Qty", "Name"], ["S1", None, 1, 2, "x"]],
        },
    )
    # When the sheet is chosen by name, and by 0-based index
    _, by_name, info = run(path, {"sheet": "Stock"})
    _, by_index, _ = run(path, {"sheet": 1})
    # Then both read the "Stock" sheet, and the workbook's sheets are named for picking
    assert (
        by_name
        == by_index
        == [(2, "S1", None, 100, None, None, None, 2, "x", None, None, None, None)]
    )
    assert info["sheet"] == "Stock"
    assert info["sheets"] == ["Notes", "Stock"]


def test_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    # Given a workbook, When a sheet that does not exist is asked for
    path = tmp_path / "feed.xlsx"
    workbook(path, {"A": [["SKU"]], "B": [["SKU"]]})
    # Then the error lists the sheets
    with pytest.raises(FeedFormatError, match=r"no sheet 'C'.*'A', 'B'"):
        run(path, {"sheet": "C"})


def test_empty_rows_are_skipped_but_counted_and_header_row(tmp_path: Path) -> None:
    # Given a title row, a blank row, the header on row 3, then data with a blank row
    path = tmp_path / "feed.xlsx"
    workbook(
        path,
        {
            "S": [
                ["Supplier X price list"],
                [],
                ["SKU", "EAN", "Price", "Qty", "Name"],
                ["A", None, 1, 1, "a"],
                [],
                ["B", None, 2, 2, "b"],
            ]
        },
    )
    # When opened with header_row=3
    feed, rows, _ = run(path, {"header_row": 3})
    # Then data keeps sheet row numbers and the blank row is not a row
    assert [(r[0], r[1]) for r in rows] == [(4, "A"), (6, "B")]
    assert feed.rows_read == 2


def test_no_header_sheet_by_letters(tmp_path: Path) -> None:
    # Given a header-less sheet
    path = tmp_path / "feed.xlsx"
    workbook(path, {"S": [["A1", 5, 2.5], ["B1", 0, 3]]})
    # When mapped by letters with header_row=0
    _, rows, _ = run(path, {"header_row": 0}, {"sku": "A", "stock": "B", "price": "C"})
    # Then rows are numbered from 1
    assert rows == [
        (1, "A1", None, 250, None, None, None, 5, None, None, None, None, None),
        (2, "B1", None, 300, None, None, None, 0, None, None, None, None, None),
    ]


def test_header_only_sheet_has_no_data_rows(tmp_path: Path) -> None:
    # Given a sheet with only a header
    path = tmp_path / "feed.xlsx"
    workbook(path, {"S": [["SKU", "EAN", "Price", "Qty", "Name"]]})
    # When read, Then require_rows fails
    feed, rows, _ = run(path)
    assert rows == []
    with pytest.raises(NoDataRowsError):
        feed.require_rows()


def test_corrupt_workbook_is_a_format_error(tmp_path: Path) -> None:
    # Given an .xlsx-shaped zip with a broken workbook part
    import zipfile

    path = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not-a-workbook")
    # When opened, Then the merchant is told it cannot be opened as a workbook
    with pytest.raises(FeedFormatError, match=r"bad\.xlsx: cannot be opened as an Excel"):
        run(path)


def test_a_damaged_legacy_xls_is_refused_naming_the_file(tmp_path: Path) -> None:
    # Given an OLE2 (.xls) file that is not a readable workbook
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    # When opened, Then the file is named and what it was read as
    with pytest.raises(FeedFormatError, match=r"old\.xls: cannot be opened as an Excel \.xls"):
        run(path)


def test_a_workbook_saved_without_the_xlsx_extension_still_opens(tmp_path: Path) -> None:
    # Given an xlsx file stored under a name without extension (as a download may be)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SKU", "Qty"])
    sheet.append(["A1", 4])
    path = tmp_path / "download"
    book.save(path)
    # When it is opened as the supplier's "stock.xlsx"
    feed, info = open_feed(
        str(path), "stock.xlsx", {}, {"sku": "SKU", "stock": "Qty"}, work_dir=str(tmp_path)
    )
    # Then it is read as a workbook
    with feed:
        rows = list(feed)
    assert info["type"] == "xlsx" and [r[1] for r in rows] == ["A1"]
