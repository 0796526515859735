"""Old Excel ``.xls`` (BIFF, 97-2003) workbooks via python-calamine.

Cells become the text the merchant sees, as for ``.xlsx`` (see ``values.value_text``):
integer-valued numbers as plain digits (a barcode never becomes ``1.23457E+11``),
dates as ISO dates, TRUE/FALSE. An ``.xls`` sheet holds at most 65,536 rows, so
calamine reading the sheet at once is bounded. Unlike ``.xlsx``, the cell number
format is not available, so a barcode stored as a number with a ``000000000000``
format loses its leading zeros; matching by barcode does not mind, since barcodes
compare as GTIN-14 (zero-padded, check digit verified).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from feedsync.domain.feed import Record
from feedsync.errors import FeedFormatError, name_list
from feedsync.formats.table import Table
from feedsync.formats.values import value_text


def read_xls(path: str, file_name: str, *, sheet: object, header_row: int) -> Table:
    try:
        # By content, not by name: suppliers' .xls files arrive named .xlsx, or unnamed.
        with open(path, "rb") as handle:
            wb = CalamineWorkbook.from_filelike(handle)
            names: list[str] = list(wb.sheet_names)
            name = _sheet_name(names, sheet, file_name)
            rows: Iterator[list[Any]] = iter(wb.get_sheet_by_name(name).iter_rows())
    except FeedFormatError:
        raise
    except (CalamineError, OSError, ValueError) as exc:
        raise FeedFormatError(
            f"{file_name}: cannot be opened as an Excel .xls workbook ({exc})"
        ) from exc
    header: list[str] | None = None
    row_no = 0
    for _ in range(header_row):
        row = next(rows, None)
        row_no += 1
        if row is None:
            raise FeedFormatError(
                f"{file_name}: sheet {name!r} is empty"
                if row_no == 1
                else f"{file_name}: sheet {name!r} has fewer than {header_row} rows; "
                f"expected the header on row {header_row}"
            )
        header = [value_text(v) for v in row]
    if header is not None:
        while header and not header[-1].strip():
            header.pop()  # formatting often widens the sheet past the last column
    width = len(header) if header is not None else 0
    return Table(header, _records(rows, row_no, width), {"sheet": name, "sheets": names})


def _sheet_name(names: list[str], sheet: object, file_name: str) -> str:
    if not names:
        raise FeedFormatError(f"{file_name}: the workbook has no sheets")
    if sheet is None or sheet == "":
        return names[0]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    index: int | None = None
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        index = sheet
    elif isinstance(sheet, str) and sheet.strip().isdigit():
        index = int(sheet.strip())
    if index is not None and 0 <= index < len(names):
        return names[index]
    raise FeedFormatError(
        f"{file_name}: no sheet {sheet!r}; the workbook's sheets are: "
        f"{name_list(names)} (a number picks by position, from 0)"
    )


def _records(rows: Iterator[list[Any]], row_no: int, width: int) -> Iterator[Record]:
    for row_no, row in enumerate(rows, start=row_no + 1):  # noqa: B020
        cells = [value_text(v) for v in row]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        yield row_no, cells
