"""CSV feed reader: supplier file -> Row tuples (layout in ``fields``).

The caller opens the file (``encoding="utf-8-sig", newline=""``) and hands over the
text lines; this module does no I/O of its own. Rows come out as plain tuples so a
million-row feed costs one tuple per row. A row with a bad money/stock cell is not
yielded; it is recorded in ``row_errors`` so the merchant can see which row and
column to fix, and the rest of the file still syncs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Final, NamedTuple

from feedsync.domain.fields import CANONICAL_FIELDS, INT_FIELDS, MONEY_FIELDS, Row
from feedsync.domain.money import parse_money, parse_stock
from feedsync.errors import FeedFormatError, MissingColumnsError, NoDataRowsError


class RowError(NamedTuple):
    """One skipped row: spreadsheet row number, the file's column name, the raw cell."""

    row_no: int
    column: str
    value: str
    message: str


def _memo(parse: Callable[[str], int]) -> tuple[Callable[[str], int | None], Callable[[str], int]]:
    """Memoise a cell parser: feeds repeat a small set of price and stock spellings.

    Returns ``(get, miss)`` for the hot-loop idiom ``get(text) or miss(text)``: a plain
    dict ``get`` is several times cheaper than parsing. ``miss`` parses and stores
    (bounded, so all-distinct values cannot grow it without limit); errors are not
    stored. A cached 0 is falsy and simply re-parsed, which is still correct.
    """
    memo: dict[str, int] = {}

    def miss(text: str) -> int:
        value = parse(text)
        if len(memo) < _CACHE_MAX:
            memo[text] = value
        return value

    return memo.get, miss


_CACHE_MAX: Final = 50_000


def _clean_header(name: str) -> str:
    # A BOM can survive when the file was concatenated or saved twice by Excel.
    return name.strip().replace("\ufeff", "").strip()


def _is_blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


class CsvFeed:
    """Iterate a supplier CSV as Row tuples; one pass only.

    ``mapping`` maps canonical field name -> the file's column name. An empty column
    name means "not mapped". ``rows_read`` and ``row_errors`` are complete once
    iteration has finished. Wholly blank lines (e.g. trailing ones from a
    spreadsheet export) advance the row number but are not data rows.
    """

    def __init__(self, lines: Iterable[str], mapping: Mapping[str, str], *, file_name: str) -> None:
        self.file_name = file_name
        self.rows_read = 0
        self.row_errors: list[RowError] = []
        unknown = [f for f in mapping if f not in CANONICAL_FIELDS]
        if unknown:
            raise FeedFormatError(
                f"{file_name}: unknown field(s) {', '.join(repr(u) for u in unknown)} in the "
                f"column mapping; known fields are: {', '.join(CANONICAL_FIELDS)}"
            )
        self._reader = csv.reader(lines)
        try:
            header = next(self._reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FeedFormatError(f"{file_name}: the header row cannot be read ({exc})") from exc
        if header is None:
            raise FeedFormatError(f"{file_name}: the file is empty (no header row)")
        self.columns: list[str] = [_clean_header(h) for h in header]
        if _is_blank(self.columns):
            raise FeedFormatError(f"{file_name}: the first row is empty; expected a header row")
        self._row_no = 1  # the header is spreadsheet row 1

        wanted = {f: col.strip() for f, col in mapping.items() if col and col.strip()}
        missing = [col for col in dict.fromkeys(wanted.values()) if col not in self.columns]
        if missing:
            raise MissingColumnsError(file_name, missing, list(self.columns))
        for name in set(wanted.values()):
            if self.columns.count(name) > 1:
                raise FeedFormatError(
                    f"{file_name}: column {name!r} appears more than once in the header, so it "
                    "is not clear which one to use"
                )

        # (field, row position, column index, column name, kind) for mapped fields.
        self._mapped: list[tuple[str, int, int, str, str]] = []
        getter_idx: list[int] = []
        for pos, field in enumerate(CANONICAL_FIELDS, start=1):
            col = wanted.get(field)
            if col is None:
                getter_idx.append(-1)  # the "" sentinel appended to each row
                continue
            idx = self.columns.index(col)
            kind = "money" if field in MONEY_FIELDS else "int" if field in INT_FIELDS else "text"
            self._mapped.append((field, pos, idx, col, kind))
            getter_idx.append(idx)
        self._get = itemgetter(*getter_idx)
        self._need = max((m[2] for m in self._mapped), default=-1) + 1

    def __iter__(self) -> Iterator[Row]:
        """The hot loop: index the mapped cells, strip text, parse numbers, yield a tuple.

        Unmapped fields read a "" sentinel appended to the cell list, so the loop has no
        per-field branching on the mapping. Any ValueError sends the row to the slow
        path, which works out which cell was bad.
        """
        get = self._get
        need = self._need
        pmg, pm = _memo(parse_money)
        psg, ps = _memo(parse_stock)
        row_no = self._row_no
        n = self.rows_read
        try:
            for cells in self._reader:
                row_no += 1
                if len(cells) < need:
                    if _is_blank(cells):
                        continue
                    n += 1
                    self._short_row(row_no, cells)
                    continue
                cells.append("")
                sku, bc, pr, sp, rp, cp, st, nm = get(cells)
                try:
                    row = (
                        row_no,
                        sku.strip() or None,
                        bc.strip() or None,
                        (pmg(pr) or pm(pr)) if pr else None,
                        (pmg(sp) or pm(sp)) if sp else None,
                        (pmg(rp) or pm(rp)) if rp else None,
                        (pmg(cp) or pm(cp)) if cp else None,
                        (psg(st) or ps(st)) if st else None,
                        nm.strip() or None,
                    )
                except ValueError:
                    careful = self._careful_row(row_no, cells)
                    if careful is None:
                        n += 1
                        continue
                    row = careful
                if row[1] is None and row[2] is None and _is_blank(cells):
                    continue
                n += 1
                yield row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FeedFormatError(
                f"{self.file_name}: row {row_no + 1} cannot be read ({exc})"
            ) from exc
        finally:
            self._row_no = row_no
            self.rows_read = n

    def _careful_row(self, row_no: int, cells: list[str]) -> Row | None:
        """Parse cell by cell; blank-but-spaced cells are empty; record the first bad cell."""
        values: list[object] = [row_no, None, None, None, None, None, None, None, None]
        for _field, pos, idx, col, kind in self._mapped:
            raw = cells[idx]
            text = raw.strip()
            if not text:
                continue
            if kind == "text":
                values[pos] = text
                continue
            try:
                values[pos] = parse_money(text) if kind == "money" else parse_stock(text)
            except ValueError as exc:
                self.row_errors.append(RowError(row_no, col, raw, str(exc)))
                return None
        return tuple(values)  # type: ignore[return-value]

    def _short_row(self, row_no: int, cells: list[str]) -> None:
        for _field, _pos, idx, col, _kind in self._mapped:
            if idx >= len(cells):
                msg = f"row has {len(cells)} cells, expected {len(self.columns)}"
                self.row_errors.append(RowError(row_no, col, "", msg))
                return

    def require_rows(self) -> None:
        """Raise when the file had a header but no data rows (call after iterating)."""
        if self.rows_read == 0:
            raise NoDataRowsError(f"{self.file_name}: no data rows after the header")
