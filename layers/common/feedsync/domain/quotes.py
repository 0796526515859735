"""Rows lost to a stray quote: a quoted cell that holds whole records.

An unclosed quote that the file's end closes is caught by ``feed._end_of_file``; one
that a stray quote many lines later closes leaves a file that parses, with the rows in
between gone into one cell. This pass finds that cell (pure: the caller hands the text
again, and only when some record spanned lines).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Final


class SwallowedRowsError(csv.Error):
    """A quoted cell spans lines that look like whole records (a stray quote closed it)."""

    def __init__(self, row_no: int, last_line: int, whole: int, delimiters: int) -> None:
        super().__init__(f"row {row_no}: a quoted cell holds {whole} whole rows")
        self.row_no, self.last_line = row_no, last_line
        self.whole, self.delimiters = whole, delimiters


_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
# A cell's inner lines that count as whole records: at least two, and at least half of
# the non-blank ones; the header must have 3+ columns (a lone comma on a line is common
# in prose, so a two-column file cannot tell).
_MIN_WHOLE_LINES: Final = 2
_MIN_DELIMITERS: Final = 2


def find_swallowed_rows(lines: Iterable[str], delimiter: str, width: int | None) -> None:
    """Raise SwallowedRowsError for the first record holding a cell with whole records.

    A quote opened by mistake and closed by a stray quote many lines later makes one
    cell of everything between: its inner lines (all but its first and last) are raw
    records with exactly the header's count of delimiters, and none holds a quote (a
    quote would have ended the cell). A description written over several lines
    rarely has that exact count on two lines or more; see ``_MIN_WHOLE_LINES``.
    ``width`` is the header's cell count; None (not known yet): that of the first record
    on one line.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    last = 0
    for row_no, cells in enumerate(reader, start=1):
        line = reader.line_num
        if width is None and line - last == 1 and cells:
            width = len(cells)
        need = (width or 0) - 1
        if line - last > 1 and need >= _MIN_DELIMITERS:
            for cell in cells:
                if "\n" not in cell and "\r" not in cell:
                    continue
                inner = [t for t in _LINE_BREAK.split(cell)[1:-1] if t.strip()]
                whole = sum(1 for text in inner if text.count(delimiter) == need)
                if whole >= _MIN_WHOLE_LINES and 2 * whole >= len(inner):
                    raise SwallowedRowsError(row_no, line, whole, need)
        last = line
