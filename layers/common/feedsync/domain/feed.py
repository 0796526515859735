"""CSV feed reader: supplier file -> Row tuples (layout in ``fields``).

The caller opens the file (``encoding="utf-8-sig", newline=""``) and hands over the
text lines; this module does no I/O of its own. Rows come out as plain tuples so a
million-row feed costs one tuple per row. A row with a bad money/stock cell is not
yielded; it is recorded in ``row_errors`` so the merchant can see which row and
column to fix, and the rest of the file still syncs.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, islice, repeat
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


# Lines per block: big enough to amortise the per-block work, small enough to stay in cache.
BLOCK_LINES: Final = 2048
_EOL: Final = "\r\n"


class _Feeder:
    """The csv module's line source: pushed-back lines first, then the caller's lines."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.pending: deque[str] = deque()

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> str:
        if self.pending:
            return self.pending.popleft()
        return next(self.lines)


# A block of data records: (cell lists, [], 0), or with ``flat`` and equal-width lines
# (None, all cells of the block in row order, cells per row).
Block = tuple[list[list[str]] | None, list[str], int]


def _uniform(lines: list[str]) -> bool:
    counts = list(map(str.count, lines, repeat(",")))
    return counts.count(counts[0]) == len(counts)


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
        # One iterator over the caller's lines: the header is read through the csv module,
        # the data rows in blocks (see ``_blocks``), quoted records again via csv.
        self._lines: Iterator[str] = iter(lines)
        self._feeder = _Feeder(self._lines)
        self._reader = csv.reader(self._feeder)
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
        self._money_memo = _memo(parse_money)
        self._stock_memo = _memo(parse_stock)

    def __iter__(self) -> Iterator[Row]:
        """Yield the Row tuples (records come from ``_blocks``, rows from ``_rows``)."""
        records = chain.from_iterable(block[0] or () for block in self._blocks())
        try:
            yield from self._rows(records)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FeedFormatError(
                f"{self.file_name}: row {self._row_no + 1} cannot be read ({exc})"
            ) from exc

    def _blocks(self, flat: bool = False) -> Iterator[Block]:
        """Yield the data records (cell lists) in blocks of up to ``BLOCK_LINES`` lines.

        A block whose lines hold no quote character, no stray CR/LF inside a line and no
        over-long line is split with ``str.split`` in C-level bulk calls (the common
        case, 2-3x cheaper than csv.reader). Otherwise each line of the block is split
        on its own, and a line with a quote is handed to the csv module, which pulls
        continuation lines (quoted newlines) from the same source. A read error is
        raised only after the records before it have been yielded, so the caller's
        row number points at the record that failed.
        """
        lines = self._lines
        limit = csv.field_size_limit()
        while True:
            block: list[str] = []
            error: Exception | None = None
            try:
                block.extend(islice(lines, BLOCK_LINES))
            except UnicodeDecodeError as exc:
                error = exc
            if block:
                stripped = list(map(str.rstrip, block, repeat(_EOL)))
                joined = "\n".join(stripped)
                if (
                    '"' in joined
                    or "\r" in joined
                    or joined.count("\n") != len(stripped) - 1
                    or max(map(len, stripped)) > limit
                ):
                    records, csv_error = self._split_slowly(block, limit)
                    error = error or csv_error
                    if records:
                        yield records, [], 0
                elif flat and _uniform(stripped):
                    # Every line has the same number of cells: split the block as one
                    # string; cell j of row i is then flat[i * width + j].
                    width = stripped[0].count(",") + 1
                    yield None, joined.replace("\n", ",").split(","), width
                else:
                    yield list(map(str.split, stripped, repeat(","))), [], 0
            if error is not None:
                raise error
            if not block:
                return

    def _split_slowly(
        self, block: list[str], limit: int
    ) -> tuple[list[list[str]], Exception | None]:
        """Split line by line; quoted (or odd) lines go through the csv module."""
        records: list[list[str]] = []
        pending = self._feeder.pending
        pending.extend(block)
        try:
            while pending:
                line = pending.popleft()
                text = line.rstrip(_EOL)
                if '"' in text or "\r" in text or "\n" in text or len(text) > limit:
                    pending.appendleft(line)
                    cells = next(self._reader, None)
                    if cells is None:  # pragma: no cover - the pushed-back line is there
                        break
                    records.append(cells)
                else:
                    records.append(text.split(","))
        except (csv.Error, UnicodeDecodeError) as exc:
            return records, exc
        return records, None

    def _rows(self, records: Iterable[list[str]]) -> Iterator[Row]:
        """The hot loop: index the mapped cells, strip text, parse numbers, yield a tuple.

        Unmapped fields read a "" sentinel appended to the cell list, so the loop has no
        per-field branching on the mapping. Any ValueError sends the row to the slow
        path, which works out which cell was bad. ``rows_read`` and the row number are
        saved when the loop ends or stops.
        """
        get = self._get
        need = self._need
        pmg, pm = self._money_memo
        psg, ps = self._stock_memo
        row_no = self._row_no
        n = self.rows_read
        try:
            for cells in records:
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
