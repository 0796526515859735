"""Excel ``.xlsx`` via openpyxl in read-only mode (rows streamed, not loaded).

Cells are turned into the text the merchant sees in Excel: integers without ".0",
integer-valued floats as plain digits (a barcode never becomes ``1.23457E+11``),
integers formatted ``000000000000`` zero-padded to that width (GTINs keep their
leading zeros), dates as ISO dates (``2024-03-01``; with a time:
``2024-03-01 10:30:00``), TRUE/FALSE for booleans, and cached results for formulas.
Row numbers are the sheet's row numbers; empty rows are counted but are not data.
openpyxl parses the workbook XML with defusedxml when it is installed (it is).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from feedsync.domain.feed import Record
from feedsync.errors import FeedFormatError
from feedsync.formats.table import Table
from feedsync.formats.values import value_text


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


def _pick_sheet(wb: Any, sheet: object, file_name: str) -> Any:
    names: list[str] = list(wb.sheetnames)
    if sheet is None or sheet == "":
        return wb.worksheets[0]
    if isinstance(sheet, str) and sheet in names:
        return wb[sheet]
    index: int | None = None
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        index = sheet
    elif isinstance(sheet, str) and sheet.strip().isdigit():
        index = int(sheet.strip())
    if index is not None and 0 <= index < len(names):
        return wb.worksheets[index]
    raise FeedFormatError(
        f"{file_name}: no sheet {sheet!r}; the workbook's sheets are: "
        f"{', '.join(repr(n) for n in names)} (a number picks by position, from 0)"
    )


def read_xlsx(
    path: str, file_name: str, *, sheet: object, header_row: int, stack: ExitStack
) -> Table:
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
    ws = _pick_sheet(wb, sheet, file_name)
    if not hasattr(ws, "iter_rows"):
        raise FeedFormatError(f"{file_name}: sheet {ws.title!r} is a chart, not a table")
    rows: Iterator[Any] = iter(ws.iter_rows())
    header: list[str] | None = None
    row_no = 0
    try:
        for _ in range(header_row):
            row = next(rows, None)
            row_no += 1
            if row is None:
                raise FeedFormatError(
                    f"{file_name}: sheet {ws.title!r} is empty"
                    if row_no == 1
                    else f"{file_name}: sheet {ws.title!r} has fewer than {header_row} rows; "
                    f"expected the header on row {header_row}"
                )
            header = [_cell_text(c) for c in row]
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FeedFormatError(f"{file_name}: the sheet cannot be read ({exc})") from exc
    if header is not None:
        while header and not header[-1].strip():
            header.pop()  # formatting often widens the sheet past the last column
    width = len(header) if header is not None else 0
    info = {"sheet": ws.title, "sheets": list(wb.sheetnames)}
    return Table(header, _records(rows, row_no, width, file_name), info)


def _records(rows: Iterator[Any], row_no: int, width: int, file_name: str) -> Iterator[Record]:
    try:
        for row_no, row in enumerate(rows, start=row_no + 1):  # noqa: B020
            cells = [_cell_text(c) for c in row]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield row_no, cells
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise FeedFormatError(
            f"{file_name}: row {row_no + 1} of the sheet cannot be read ({exc})"
        ) from exc
