"""Excel ``.xlsx``: the streaming reader (``xlsx_stream``), openpyxl read-only as fallback.

Cells are turned into the text the merchant sees in Excel: integers without ".0",
integer-valued floats as plain digits (a barcode never becomes ``1.23457E+11``),
integers formatted ``000000000000`` zero-padded to that width (GTINs keep their
leading zeros), dates as ISO dates (``2024-03-01``; with a time:
``2024-03-01 10:30:00``), TRUE/FALSE for booleans, and cached results for formulas.
Row numbers are the sheet's row numbers; empty rows are counted but are not data.

The streaming reader (zipfile + expat) is several times faster than openpyxl and gives
the same cells; whatever it does not understand (Strict OOXML, a missing part, an odd
structure) is read with openpyxl, which parses with defusedxml. ``info["reader"]`` says
which ran: ``stream``, ``openpyxl``, or ``stream+openpyxl`` when the switch came mid-sheet.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import islice
from typing import Any, TypeVar

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from feedsync.domain.feed import Record
from feedsync.errors import FeedFormatError, name_list
from feedsync.formats.table import Table
from feedsync.formats.values import value_text
from feedsync.formats.xlsx_stream import SheetRef, Unsupported, open_book

# What a broken sheet raises on either path (SheetError is a ValueError).
_SHEET_ERRORS = (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError)
_T = TypeVar("_T")


def _cell_text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if type(value) is str:
        return value
    if type(value) is int or (type(value) is float and value.is_integer()):
        fmt = cell.number_format
        digits = str(int(value))
        if fmt and len(fmt) > 1 and fmt.strip("0") == "" and value >= 0:
            return digits.zfill(len(fmt))
        return digits
    return value_text(value)


def _sheet_index(sheet: object) -> int | None:
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        return sheet
    if isinstance(sheet, str) and sheet.strip().isdigit():
        return int(sheet.strip())
    return None


def _no_sheet(sheet: object, names: list[str], file_name: str) -> FeedFormatError:
    return FeedFormatError(
        f"{file_name}: no sheet {sheet!r}; the workbook's sheets are: "
        f"{name_list(names)} (a number picks by position, from 0)"
    )


def _choice(names: list[str], sheet: object, file_name: str) -> str | int:
    """The profile's ``sheet`` as a sheet name, or a position among the worksheets (as
    openpyxl's ``wb[name]`` and ``wb.worksheets[i]``: a position skips chart sheets)."""
    if sheet is None or sheet == "":
        return 0
    if isinstance(sheet, str) and sheet in names:
        return sheet
    index = _sheet_index(sheet)
    if index is not None and 0 <= index < len(names):
        return index
    raise _no_sheet(sheet, names, file_name)


def _nth(worksheets: list[_T], index: int, sheet: object, names: list[str], file_name: str) -> _T:
    if index < len(worksheets):
        return worksheets[index]
    if not worksheets:  # e.g. a Strict Open XML workbook, whose sheets openpyxl cannot see
        raise FeedFormatError(
            f"{file_name}: no worksheet could be read from the workbook (if it was saved as "
            "'Strict Open XML Spreadsheet', save it as 'Excel Workbook')"
        )
    raise _no_sheet(sheet, names, file_name)


def _pick_sheet(wb: Any, sheet: object, file_name: str) -> Any:
    names: list[str] = list(wb.sheetnames)
    choice = _choice(names, sheet, file_name)
    if isinstance(choice, str):
        return wb[choice]
    return _nth(list(wb.worksheets), choice, sheet, names, file_name)


def _pick_ref(sheets: list[SheetRef], sheet: object, file_name: str) -> SheetRef:
    """``_pick_sheet`` on the streaming reader's sheet list (a name finds worksheets
    before chart sheets, as openpyxl's ``wb[name]`` does)."""
    names = [s.name for s in sheets]
    worksheets = [s for s in sheets if s.path is not None]
    choice = _choice(names, sheet, file_name)
    if isinstance(choice, str):
        return next(s for s in worksheets + sheets if s.name == choice)
    return _nth(worksheets, choice, sheet, names, file_name)


def read_xlsx(
    path: str, file_name: str, *, sheet: object, header_row: int, stack: ExitStack
) -> Table:
    try:
        book = open_book(path, file_name)
    except Unsupported:
        return _read_openpyxl(path, file_name, sheet=sheet, header_row=header_row, stack=stack)
    stack.callback(book.close)
    ref = _pick_ref(book.sheets, sheet, file_name)
    if ref.path is None:
        raise FeedFormatError(f"{file_name}: sheet {ref.name!r} is a chart, not a table")
    info: dict[str, Any] = {
        "sheet": ref.name,
        "sheets": [s.name for s in book.sheets],
        "reader": "stream",
    }

    def fallback(given: int) -> Iterator[list[str]]:
        """Something mid-sheet the stream does not handle: openpyxl from the next row."""
        info["reader"] = "stream+openpyxl" if given else "openpyxl"
        ws = _pick_sheet(_load(path, file_name, stack), sheet, file_name)
        return islice(_texts(ws), given, None)

    return _header_and_records(book.rows(ref.path, fallback), ref.name, file_name, header_row, info)


def _load(path: str, file_name: str, stack: ExitStack) -> Any:
    try:
        # A file object, not the path: openpyxl refuses paths without an .xlsx extension,
        # and fetched files keep whatever name the supplier gave them.
        handle = stack.enter_context(open(path, "rb"))  # noqa: SIM115
        wb = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FeedFormatError(
            f"{file_name}: cannot be opened as an Excel .xlsx workbook ({exc})"
        ) from exc
    stack.callback(wb.close)
    return wb


def _texts(ws: Any) -> Iterator[list[str]]:
    # Read-only openpyxl stops at the sheet's <dimension>; exporters that write a stale
    # one would silently lose every row below it. Read what the sheet holds instead.
    ws.reset_dimensions()
    return ([_cell_text(c) for c in row] for row in ws.iter_rows())


def _read_openpyxl(
    path: str, file_name: str, *, sheet: object, header_row: int, stack: ExitStack
) -> Table:
    wb = _load(path, file_name, stack)
    ws = _pick_sheet(wb, sheet, file_name)
    if not hasattr(ws, "iter_rows"):
        raise FeedFormatError(f"{file_name}: sheet {ws.title!r} is a chart, not a table")
    info = {"sheet": ws.title, "sheets": list(wb.sheetnames), "reader": "openpyxl"}
    return _header_and_records(_texts(ws), ws.title, file_name, header_row, info)


def _header_and_records(
    rows: Iterator[list[str]], title: str, file_name: str, header_row: int, info: dict[str, Any]
) -> Table:
    header: list[str] | None = None
    row_no = 0
    try:
        for _ in range(header_row):
            row = next(rows, None)
            row_no += 1
            if row is None:
                raise FeedFormatError(
                    f"{file_name}: sheet {title!r} is empty"
                    if row_no == 1
                    else f"{file_name}: sheet {title!r} has fewer than {header_row} rows; "
                    f"expected the header on row {header_row}"
                )
            header = row
    except _SHEET_ERRORS as exc:
        raise FeedFormatError(
            f"{file_name}: row {row_no + 1} of the sheet cannot be read ({exc})"
        ) from exc
    if header is not None:
        while header and not header[-1].strip():
            header.pop()  # formatting often widens the sheet past the last column
    width = len(header) if header is not None else 0
    return Table(header, _records(rows, row_no, width, file_name), info)


def _records(
    rows: Iterator[list[str]], row_no: int, width: int, file_name: str
) -> Iterator[Record]:
    try:
        for row_no, cells in enumerate(rows, start=row_no + 1):  # noqa: B020
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield row_no, cells
    except _SHEET_ERRORS as exc:
        raise FeedFormatError(
            f"{file_name}: row {row_no + 1} of the sheet cannot be read ({exc})"
        ) from exc
