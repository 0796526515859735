"""Feed reader: supplier records -> Row tuples (layout in ``fields``).

``RecordFeed`` takes a header (or None for a file without one) and an iterable of
``(row_no, cells)`` records, whatever the file format; ``feedsync.formats`` turns
CSV, Excel, JSON and XML files into that shape. ``CsvFeed`` is the thin CSV
wrapper: the caller opens the file (e.g. ``encoding="utf-8-sig", newline=""``) and
hands over the text lines; this module does no I/O of its own. Rows come out as
plain tuples so a million-row feed costs one tuple per row. A row with a bad
money/stock cell is not yielded; it is recorded in ``row_errors`` so the merchant
can see which row and column to fix, and the rest of the file still syncs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, count, islice
from operator import itemgetter
from typing import Final, NamedTuple, Protocol

from feedsync.domain.cells import check_mapping_fields as check_mapping_fields
from feedsync.domain.cells import clean_header, is_blank
from feedsync.domain.cells import column_index as column_index
from feedsync.domain.cells import column_letter as column_letter
from feedsync.domain.cells import parse_image_url as parse_image_url
from feedsync.domain.cells import parse_weight as parse_weight
from feedsync.domain.cells import unreadable as unreadable
from feedsync.domain.fields import (
    CANONICAL_FIELDS,
    DECIMAL_FIELDS,
    FILE_KEY,
    INT_FIELDS,
    MONEY_FIELDS,
    ROW_POS,
    Row,
)
from feedsync.domain.keys import EmptyKeyColumn, KeyTransform, store_key
from feedsync.domain.money import (
    parse_money,
    parse_stock,
    row_message,
    to_decimal_comma,
    with_decimal_comma,
)
from feedsync.domain.quotes import SwallowedRowsError, find_swallowed_rows
from feedsync.domain.rules import CompiledRules, barcode_key, gtin_key, normalize_sku
from feedsync.errors import (
    FeedFormatError,
    MissingColumnsError,
    NoDataRowsError,
    name_list,
    shorten,
)

Record = tuple[int, list[str]]
"""One record: its row number as the merchant counts it, and its cells as text."""


class RowError(NamedTuple):
    """One skipped row: spreadsheet row number, the file's column name, the raw cell, and
    the row's SKU (else barcode) as the file wrote it, so the log can name the item."""

    row_no: int
    column: str
    value: str
    message: str
    key: str = ""


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


def _no_key() -> str:
    """A template column is empty: the generated loop's row goes to the careful path."""
    raise ValueError("empty key column")


_CACHE_MAX: Final = 50_000
# How many leading records a header-less feed looks at to learn the column count.
_WIDTH_PEEK: Final = 100


# Kinds whose constants are amounts (re-spelled for a decimal-comma file).
_NUMBERS: Final = ("money", "int")


def _kind(field: str) -> str:
    if field in MONEY_FIELDS:
        return "money"
    if field in INT_FIELDS:
        return "int"
    if field in DECIMAL_FIELDS:
        return "decimal"
    return "url" if field == "image_url" else "text"


_ROW_LOOP_TEMPLATE: Final = """
def loop(records, feed, tail, pmg, pm, psg, ps, parse_weight, parse_url, is_blank, key_parts,
         no_key):
    {key_parts} = key_parts
    row_no = feed._row_no
    n = feed.rows_read
    try:
        for row_no, cells in records:
{read}            key1 = {key1}
            key2 = {key2}
            if {keys_none}is_blank({cells}):
                continue
            try:
                row = (row_no, {store_key}, key2, {fields}{file_key})
            except ValueError:
                row = feed._careful_row(row_no, cells)
                if row is None:
                    n += 1
                    continue
            n += 1
            yield row
    except (csv.Error, UnicodeError) as exc:
        raise feed._unreadable(row_no, exc) from exc
    finally:
        feed._loop_ended(row_no, n)
"""
# A record too short for the mapped cells: skipped if blank, else counted and reported.
_SHORT_ROW: Final = """\
                if is_blank(cells):
                    continue
                n += 1
                feed._short_row(row_no, cells)
                continue
"""
# Reading the mapped cells ({cells}: one "vN = cells[i]" line each). Without constants
# a short record raises IndexError there, so the common case checks no length.
_READ_CELLS: Final = (
    """\
            try:
{cells}            except IndexError:
"""
    + _SHORT_ROW
)
# With constants the tail is appended first, and a short record would read the tail's
# values as its missing cells: the length is checked before.
_READ_CELLS_AND_TAIL: Final = (
    """\
            if len(cells) < {need}:
"""
    + _SHORT_ROW
    + """\
            cells.extend(tail)
{cells}"""
)
_LoopKey = tuple[tuple[tuple[int, int, str], ...], bool, bool, tuple[int, ...] | None]
_ROW_LOOPS: dict[_LoopKey, Callable[..., Iterator[Row]]] = {}


def _row_loop(
    mapped: tuple[tuple[int, int, str], ...],
    has_constants: bool,
    *,
    money_fast_path: bool,
    key_cells: tuple[int, ...] | None = None,
) -> Callable[..., Iterator[Row]]:
    """The hot loop for one mapping, as plain Python generated once per mapping.

    ``mapped`` is (row position, cell index, kind) per mapped field. The generated
    loop reads only the mapped cells and builds the row tuple with constants (None)
    for the rest, so a feed mapping 4 of 12 fields pays for 4. Constants ride after
    the cells (``tail``), read like cells. Without ``money_fast_path`` (a file with
    decimal commas) every amount goes through the parser. ``key_cells``: the profile's
    key_transform, None without one, () for a prefix and suffix (``key_parts``), else the
    template's cell indexes (between ``key_parts``' literals); the row then carries the
    store's key at the SKU's place and the file's SKU last. The source is built from
    integers and fixed snippets only, never from file or merchant text.
    """
    key = (mapped, has_constants, money_fast_path, key_cells)
    loop = _ROW_LOOPS.get(key)
    if loop is not None:
        return loop
    by_pos = {pos: (f"v{i}", kind) for i, (pos, _idx, kind) in enumerate(mapped)}
    exprs = []
    for pos in range(1, len(CANONICAL_FIELDS) + 1):
        name, kind = by_pos.get(pos, ("", "none"))
        exprs.append(
            {
                "none": "None",
                "text": f"{name}.strip() or None",
                # "12.99" (digits, a dot, two digits) is parse_money's own fast path
                # as one int(): its cents are the digits without the dot. A memo
                # lookup costs more here: prices vary, so it misses the CPU cache.
                "money": (
                    f"int({name}c) if {name}[-3:-2] == '.' and "
                    f"({name}c := {name}.replace('.', '', 1)).isascii() and {name}c.isdigit() "
                    f"else (pmg({name}) or pm({name})) if {name} else None"
                    if money_fast_path
                    else f"(pmg({name}) or pm({name})) if {name} else None"
                ),
                "int": f"(psg({name}) or ps({name})) if {name} else None",
                "decimal": f"parse_weight({name}) if {name} else None",
                "url": f"parse_url({name}) if {name} else None",
            }[kind]
        )
    indexes = [int(idx) for _p, idx, _k in mapped]
    # Plain indexing (specialised for lists) is cheaper than an itemgetter call + unpack.
    lines = [f"v{i} = cells[{idx}]\n" for i, idx in enumerate(indexes)] or ["pass\n"]
    store_key, parts = "key1", "_"
    if key_cells is not None:  # the file's SKU (key1) made the store's
        template = [int(idx) for idx in key_cells]
        lines += [f"t{j} = cells[{idx}]\n" for j, idx in enumerate(template)]
        indexes += template
        parts = ", ".join(f"k{j}" for j in range(len(template) + 1 if template else 2))
        inner = "".join(f" + (t{j}.strip() or no_key()) + k{j + 1}" for j in range(len(template)))
        store_key = f"k0{inner or ' + key1 + k1'} if key1 is not None else None"
    if has_constants:
        need = max((i for i in indexes if i >= 0), default=-1) + 1
        read = _READ_CELLS_AND_TAIL.format(need=need, cells=" " * 12 + (" " * 12).join(lines))
    else:
        read = _READ_CELLS.format(cells=" " * 16 + (" " * 16).join(lines))
    # A key read from a cell that is not None shows the record is not blank; a key from a
    # constant shows nothing (a blank line would become a row with only the constant).
    from_cells = {pos for pos, idx, _k in mapped if idx >= 0}
    source = _ROW_LOOP_TEMPLATE.format(
        read=read,
        # The keys (sku, barcode) first: a row without either may be a blank line.
        key1=exprs[0],
        key2=exprs[1],
        keys_none="".join(f"key{pos} is None and " for pos in (1, 2) if pos in from_cells),
        fields=", ".join(exprs[2:]),
        cells="cells[: -len(tail)]" if has_constants else "cells",
        key_parts=parts,
        store_key=store_key,
        file_key="" if key_cells is None else ", key1",
    )
    namespace: dict[str, object] = {"csv": csv}
    exec(compile(source, "<feedsync row loop>", "exec"), namespace)
    loop = namespace["loop"]  # type: ignore[assignment]
    _ROW_LOOPS[key] = loop  # type: ignore[assignment]
    return loop  # type: ignore[return-value]


class RecordFeed:
    """Iterate a supplier file's records as Row tuples; one pass only.

    ``header`` is the file's header row (cleaned of BOMs and padding here), or None
    for a file without one. ``records`` yields ``(row_no, cells)``; ``row_no`` is the
    number the merchant sees (spreadsheet row, JSON record, ...). ``mapping`` maps
    canonical field name -> the file's column name; an empty name means "not
    mapped". Without a header, columns are given as a letter ("C") or a 1-based
    number ("3") and are reported by letter.

    ``header_required``: a None header means the file was empty (FeedFormatError)
    rather than "no header". ``header_row`` is only used in messages.

    ``rows_read`` and ``row_errors`` are complete once iteration has finished. Wholly
    blank records (e.g. trailing lines from a spreadsheet export) keep their row
    number but are not data rows. ``close()`` (also run when iteration ends, and by
    ``with``) releases whatever the reader registered with ``on_close``.
    """

    def __init__(
        self,
        header: list[str] | None,
        records: Iterable[Record],
        mapping: Mapping[str, str],
        *,
        file_name: str,
        header_required: bool = True,
        header_row: int = 1,
    ) -> None:
        self.file_name = file_name
        self._rules: CompiledRules | None = None
        self._parse_money: Callable[[str], int] = parse_money
        self._parse_stock: Callable[[str], int] = parse_stock
        self._decimal_comma = False
        self.rows_read = 0
        self.row_errors: list[RowError] = []
        self.has_header = header is not None
        self._closers: list[Callable[[], object]] = []
        self._key: KeyTransform | None = None
        self._key_cells: list[tuple[int, str]] = []  # a template's (cell index, column)
        self._key_index: dict[str, int] = {}
        # Create mode's columns (use_create_columns); None: not in create mode.
        self._extra_idx: tuple[int, ...] | None = None
        self._cells: tuple[list[str], int] = ([], 0)  # the record read last, its own width
        self._width = 0  # without a header: the widest of the first records
        check_mapping_fields(mapping, file_name)
        wanted = {f: col.strip() for f, col in mapping.items() if col and col.strip()}
        if header is None:
            if header_required:
                raise FeedFormatError(f"{file_name}: the file is empty (no header row)")
            self._records, self.columns, index_of = self._no_header(records, wanted)
            self._row_no = 0
        else:
            self._records = records
            self.columns = [clean_header(h) for h in header]
            if is_blank(self.columns):
                where = "the first row" if header_row <= 1 else f"row {header_row}"
                raise FeedFormatError(f"{file_name}: {where} is empty; expected a header row")
            missing = [col for col in dict.fromkeys(wanted.values()) if col not in self.columns]
            if missing:
                raise MissingColumnsError(file_name, missing, list(self.columns))
            for name in set(wanted.values()):
                if self.columns.count(name) > 1:
                    raise FeedFormatError(
                        f"{file_name}: column {shorten(name)} appears more than once in the "
                        "header, so it is not clear which one to use"
                    )
            index_of = {col: self.columns.index(col) for col in wanted.values()}
            self._row_no = header_row  # records after the header start at header_row + 1

        self._columns_of = {f: index_of[col] for f, col in wanted.items()}
        self.use_constants({})

    def use_constants(self, constants: Mapping[str, str]) -> None:
        """Values for fields the file lacks (e.g. brand "Acme"), set before iterating.

        They ride at the end of every record (after the "" sentinel for unmapped fields),
        so the hot loop reads them like cells, with the same parsing and validation.
        Constants are the profile's own text, always written with a decimal dot; in a
        decimal-comma file their amounts are re-spelled to read as the cells do.
        """
        clash = sorted(set(constants) & set(self._columns_of))
        if clash:
            raise FeedFormatError(f"{self.file_name}: {clash} are both mapped and constant")
        check_mapping_fields(constants, self.file_name)
        self._constants = dict(constants)
        self._tail = [
            to_decimal_comma(value) if self._decimal_comma and _kind(f) in _NUMBERS else value
            for f, value in constants.items()
        ] + [""]
        const_idx = {f: i - len(self._tail) for i, f in enumerate(constants)}
        # (field, row position, column index, column name, kind) for mapped fields.
        self._mapped: list[tuple[str, int, int, str, str]] = []
        getter_idx: list[int] = []
        for pos, field in enumerate(CANONICAL_FIELDS, start=1):
            if field in self._columns_of:
                idx = self._columns_of[field]
                col = self.columns[idx]
            elif field in const_idx:
                idx, col = const_idx[field], f"{field} (constant)"
            else:
                getter_idx.append(-1)  # the "" sentinel after each record's cells
                continue
            self._mapped.append((field, pos, idx, col, _kind(field)))
            getter_idx.append(idx)
        self._get = itemgetter(*getter_idx)
        self._need = max((m[2] for m in self._mapped), default=-1) + 1

    def _no_header(
        self, records: Iterable[Record], wanted: Mapping[str, str]
    ) -> tuple[Iterable[Record], list[str], dict[str, int]]:
        """Resolve letter/number references; columns are named by letter.

        The width (for the "missing column" check and the column list) comes from the
        widest of the first records; they are handed back to the hot loop unchanged.
        """
        index_of: dict[str, int] = {}
        bad: list[str] = []
        for col in wanted.values():
            idx = column_index(col)
            if idx is None:
                bad.append(col)
            else:
                index_of[col] = idx
        if bad:
            raise FeedFormatError(
                f"{self.file_name}: the file has no header row, so mapped columns must be a "
                f"letter (C) or a number (3); got {name_list(bad)}"
            )
        it = iter(records)
        peeked: list[Record] = []
        try:
            for rec in it:
                peeked.append(rec)
                if len(peeked) >= _WIDTH_PEEK:
                    break
        except (csv.Error, UnicodeError) as exc:
            raise self._unreadable(peeked[-1][0] if peeked else 0, exc) from exc
        width = self._width = max((len(cells) for _, cells in peeked), default=0)
        columns = [column_letter(i) for i in range(width)]
        if peeked:
            missing = [c for c in dict.fromkeys(wanted.values()) if index_of[c] >= width]
            if missing:
                raise MissingColumnsError(self.file_name, missing, columns)
        columns += [column_letter(i) for i in range(width, max(index_of.values(), default=-1) + 1)]
        return chain(peeked, it), columns, index_of

    def use_key_transform(self, transform: KeyTransform | None) -> None:
        """The profile's ``key_transform`` (``domain/keys.py``), set before iterating: a row
        with a SKU carries the store's key in its place and the file's SKU last
        (``fields.FILE_KEY``). A template's column the file lacks is a file-level error
        naming it, as a missing mapped column is."""
        self._key, self._key_cells = transform, []
        if transform is None:
            return
        if "sku" not in self._columns_of:
            raise FeedFormatError(
                f"{self.file_name}: key_transform reshapes the file's SKU, and no column is "
                "mapped to sku"
            )
        names = list(dict.fromkeys(transform.columns))
        if self.has_header:
            missing = [name for name in names if name not in self.columns]
            index_of = {name: self.columns.index(name) for name in names if name not in missing}
            twice = [name for name in index_of if self.columns.count(name) > 1]
            if twice:
                raise FeedFormatError(
                    f"{self.file_name}: column {shorten(twice[0])} of key_transform's template "
                    "appears more than once in the header, so it is not clear which one to use"
                )
        else:
            refs = {name: column_index(name) for name in names}
            bad = [name for name, idx in refs.items() if idx is None]
            if bad:
                raise FeedFormatError(
                    f"{self.file_name}: the file has no header row, so key_transform's template "
                    f"names columns by letter ({{C}}) or number ({{3}}); got {name_list(bad)}"
                )
            index_of = {name: idx for name, idx in refs.items() if idx is not None}
            width = self._width
            missing = [name for name in names if width and index_of[name] >= width]
        if missing:
            columns = self.columns if self.has_header else self.columns[: self._width]
            raise MissingColumnsError(
                self.file_name, missing, list(columns), named_by="key_transform's template"
            )
        self._key_index = index_of
        self._key_cells = [
            (index_of[name], name if self.has_header else column_letter(index_of[name]))
            for name in transform.columns
        ]

    def use_rules(self, rules: CompiledRules | None) -> None:
        """The profile's rules, set before iterating.

        Stock words (">10", "in stock") are read by the rules' stock parser; price rules,
        SKU folding and barcode keys (GTIN-14) run on the parsed row, off the no-rules
        hot path; barcodes are keyed only when rows are matched by them.
        """
        self._rules = rules
        self._parse_stock = rules.stock if rules and rules.stock else parse_stock
        if self._decimal_comma:
            self._parse_stock = with_decimal_comma(self._parse_stock, words=True)

    def use_decimal_comma(self) -> None:
        """Read amounts as "1.234,50" (set before ``use_rules`` and iterating): the
        file's format says its decimal separator is a comma."""
        if self._decimal_comma:
            return
        self._decimal_comma = True
        self._parse_money = with_decimal_comma(parse_money)
        self._parse_stock = with_decimal_comma(self._parse_stock, words=True)
        self.use_constants(self._constants)

    def use_create_columns(self, group: list[str], options: list[str]) -> None:
        """Create mode (``domain/create.py``), set before iterating: each row carries the
        group column's text (None without one, or blank) and each option column's after
        ``fields.FILE_KEY``. A column the file lacks is a file-level error naming it."""
        columns = group + options
        refs = {n: self.columns.index(n) if n in self.columns else None for n in columns}
        if not self.has_header:
            refs = {name: column_index(name) for name in columns}
        missing = [name for name, idx in refs.items() if idx is None]
        if missing:
            raise MissingColumnsError(
                self.file_name, missing, list(self.columns), named_by="create mode"
            )
        # Without a group column, an index past any record reads as None.
        self._extra_idx = tuple(refs[n] or 0 for n in columns) if group else (1 << 30,)

    def _tapped(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self._cells = (record[1], len(record[1]))  # (before constants extend it)
            yield record

    def _with_extras(self, rows: Iterator[Row]) -> Iterator[Row]:
        """Create mode's cells after the file key (each row is yielded right after its
        record is read, so the record read last is the row's)."""
        keyed, idx = self._key is not None, self._extra_idx or ()
        for row in rows:
            cells, width = self._cells
            extras = tuple((cells[i].strip() or None) if i < width else None for i in idx)
            yield (*row, *extras) if keyed else (*row, None, *extras)  # type: ignore[misc]

    def __iter__(self) -> Iterator[Row]:
        if self._extra_idx is not None:
            self._records = self._tapped(self._records)
            rows = self._with_extras(self._rows())
        else:
            rows = self._rows()
        rules = self._rules
        if rules and (rules.money or rules.sku_case_insensitive or rules.match_barcodes):
            return self._ruled(rows, rules)
        return rows

    def _ruled(self, rows: Iterator[Row], rules: CompiledRules) -> Iterator[Row]:
        """Price rules, SKU folding and barcode keys, on rows the hot loop parsed."""
        money = [(ROW_POS[f], rule) for f, rule in rules.money.items()]
        cost_pos = ROW_POS["cost_price"]
        fold = rules.sku_case_insensitive
        key = (
            (gtin_key if rules.validate_barcodes else barcode_key) if rules.match_barcodes else None
        )
        barcode_col = next((m[3] for m in self._mapped if m[0] == "barcode"), "barcode")
        sku_at = 1 if self._key is None else FILE_KEY  # the SKU as the file wrote it
        for row in rows:
            values = list(row)
            if key is not None and row[2] is not None:
                try:
                    values[2] = key(row[2])
                except ValueError as exc:
                    # Counted as read, reported, not yielded (like any bad cell).
                    self.row_errors.append(
                        RowError(row[0], barcode_col, row[2], str(exc), values[sku_at] or row[2])  # type: ignore[arg-type]
                    )
                    continue
            if fold and row[1] is not None:
                values[1] = normalize_sku(row[1], case_insensitive=True)
            cost = row[cost_pos]
            for pos, rule in money:
                if values[pos] is not None:
                    values[pos] = rule(values[pos], cost)  # type: ignore[arg-type]
            yield tuple(values)  # type: ignore[misc]

    def _rows(self) -> Iterator[Row]:
        """The hot loop: index the mapped cells, strip text, parse numbers, yield a tuple.

        The loop is specialised to this feed's mapping (see ``_row_loop``): unmapped
        fields cost nothing per row. Any ValueError sends the row to the slow path,
        which works out which cell was bad.
        """
        key = self._key
        loop = _row_loop(
            tuple((m[1], m[2], m[4]) for m in self._mapped),
            len(self._tail) > 1,
            money_fast_path=not self._decimal_comma,
            key_cells=None if key is None else tuple(idx for idx, _col in self._key_cells),
        )
        pmg, pm = _memo(self._parse_money)
        psg, ps = _memo(self._parse_stock)
        parts = () if key is None else key.literals or (key.prefix, key.suffix)
        return loop(
            self._records, self, self._tail, pmg, pm, psg, ps, parse_weight, parse_image_url,
            is_blank, parts, _no_key,
        )  # fmt: skip

    def _loop_ended(self, row_no: int, rows_read: int) -> None:
        self._row_no = row_no
        self.rows_read = rows_read
        self.close()

    def _unreadable(self, row_no: int, exc: Exception) -> FeedFormatError:
        return unreadable(self.file_name, f"row {row_no + 1}", exc)

    def _careful_row(self, row_no: int, cells: list[str]) -> Row | None:
        """Parse cell by cell; blank-but-spaced cells are empty; record the first bad cell
        (a template's empty column first: it belongs to the SKU, the first field)."""
        values: list[object] = [row_no, *([None] * len(CANONICAL_FIELDS))]
        sku = self._key and cells[self._columns_of["sku"]].strip()
        if sku and self._key_cells:
            for idx, col in self._key_cells:
                if not cells[idx].strip():
                    why = str(EmptyKeyColumn(col, self._key.template))  # type: ignore[union-attr]
                    self.row_errors.append(RowError(row_no, col, cells[idx], why, sku))
                    return None
        for _field, pos, idx, col, kind in self._mapped:
            raw = cells[idx]
            text = raw.strip()
            if not text:
                continue
            if kind == "text":
                values[pos] = text
                continue
            try:
                if kind == "money":
                    values[pos] = self._parse_money(text)
                elif kind == "int":
                    values[pos] = self._parse_stock(text)
                elif kind == "url":
                    values[pos] = parse_image_url(text)
                else:
                    values[pos] = parse_weight(text)
            except ValueError as exc:
                key = self._key_cell(cells)
                self.row_errors.append(RowError(row_no, col, raw, row_message(str(exc)), key))
                return None
        if self._key is not None:
            if sku:
                values[1] = store_key(self._key, sku, lambda name: cells[self._key_index[name]])
            values.append(sku or None)
        return tuple(values)  # type: ignore[return-value]

    def _short_row(self, row_no: int, cells: list[str]) -> None:
        """Report the first cell the record lacks: the mapped fields' (in field order), then
        the key template's."""
        for idx, col in [(m[2], m[3]) for m in self._mapped] + self._key_cells:
            if idx >= len(cells):
                msg = f"row has {len(cells)} cells, expected {len(self.columns)}"
                self.row_errors.append(RowError(row_no, col, "", msg, self._key_cell(cells)))
                return

    def _key_cell(self, cells: list[str]) -> str:
        """The row's SKU, else its barcode, as written (a skipped row is named by it)."""
        for field in ("sku", "barcode"):
            idx = self._columns_of.get(field)
            if idx is not None and idx < len(cells) and cells[idx].strip():
                return cells[idx].strip()
        return ""

    def require_rows(self) -> None:
        """Raise when the file had no data rows (call after iterating)."""
        if self.rows_read == 0:
            after = " after the header" if self.has_header else ""
            raise NoDataRowsError(f"{self.file_name}: no data rows{after}")

    def first_records(self, limit: int) -> list[list[str]]:
        """The first ``limit`` records' cells as the file has them (a file preview's rows);
        the feed is not read as rows after this."""
        return [[str(cell) for cell in cells] for _, cells in islice(self._records, limit)]

    def on_close(self, closer: Callable[[], object]) -> None:
        """Run ``closer`` on ``close()`` (readers register open files, temp files)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Release the reader's resources; safe to call more than once."""
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            closer()

    def __enter__(self) -> RecordFeed:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class CsvFeed(RecordFeed):
    """A delimited text feed: ``lines`` is the text (opened with ``newline=""``).

    ``header_row`` is the 1-based record holding the header; records before it (a
    title, a supplier's preamble) are skipped but still counted for row numbers.
    ``header_row=0`` means the file has no header: map columns by letter or number.
    ``reread`` hands the text over again for the stray-quote check (``quotes.py``), run
    only when a record spanned lines; by default a file is rewound, a list re-iterated.
    """

    def __init__(
        self,
        lines: Iterable[str],
        mapping: Mapping[str, str],
        *,
        file_name: str,
        delimiter: str = ",",
        header_row: int = 1,
        reread: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        if header_row < 0:
            raise ValueError("header_row must be 0 (no header) or a 1-based row number")
        check_mapping_fields(mapping, file_name)
        self._delimiter = delimiter
        self._reread = reread or _rereader(lines)
        # Two marker lines after the file's own (see _end_of_file), chained in C; the
        # records stop at the first marker record (iter's sentinel, a C list compare).
        reader = csv.reader(chain(lines, _EOF_LINES), delimiter=delimiter)
        rows = iter(reader.__next__, [_EOF_MARK])
        header: list[str] | None = None
        if header_row:
            try:
                for _ in range(header_row - 1):
                    if next(rows, None) is None:
                        raise FeedFormatError(
                            f"{file_name}: the file has fewer than {header_row} rows; "
                            f"expected the header on row {header_row}"
                        )
                header = next(rows, None)
            except (csv.Error, UnicodeError) as exc:
                raise unreadable(file_name, "the header row", exc) from exc
            if header and _EOF_MARK in header[-1]:  # the whole file went into one cell
                raise FeedFormatError(
                    f"{file_name}: row {header_row} opens a quoted cell that is never "
                    'closed: an unclosed " takes every line after it to the end of the file '
                    'into one cell; close the quote (write a quote inside a cell as "")'
                )
        # zip with a count keeps the row count in C (no per-row Python call), and the
        # count can be read once the records are done (see _end_of_file).
        numbers = count(header_row + 1)
        records = chain(rows, _end_of_file(reader, numbers, self._check_multiline))
        super().__init__(
            header,
            zip(numbers, records, strict=False),  # numbers never ends
            mapping,
            file_name=file_name,
            header_required=header_row > 0,
            header_row=header_row,
        )

    def _check_multiline(self, extra_lines: int) -> None:
        """After the last record: if any record spanned lines, look for swallowed rows.

        Only a file with quoted cells spanning lines (``extra_lines`` > 0) pays for this
        second pass; it needs the text again (``reread``), so a one-shot iterator of
        lines without it is not checked."""
        if extra_lines > 0 and self._reread is not None:
            # Without a header the width is the records' own (the columns may not be
            # known yet: a short file ends while its first records are peeked).
            width = len(self.columns) if self.has_header else None
            find_swallowed_rows(self._reread(), self._delimiter, width)

    def _unreadable(self, row_no: int, exc: Exception) -> FeedFormatError:
        if isinstance(exc, SwallowedRowsError):
            return FeedFormatError(
                f"{self.file_name}: row {exc.row_no} opens a quoted cell that a stray quote "
                f"on line {exc.last_line} closes: {exc.whole:,} lines in between that look "
                f"like whole rows (each with the header's {exc.delimiters} delimiters) went "
                "into that one cell; close the quote on that row (write a quote inside a "
                'cell as "") so no row is lost'
            )
        if isinstance(exc, UnclosedQuoteError):
            return FeedFormatError(
                f"{self.file_name}: row {row_no} opens a quoted cell that is never closed: "
                f'an unclosed " takes every line after it to the end of the file into one '
                'cell; close the quote (write a quote inside a cell as "")'
            )
        if "field larger than field limit" in str(exc):
            return FeedFormatError(
                f"{self.file_name}: row {row_no + 1} has a cell longer than "
                f'{csv.field_size_limit():,} characters, probably an unclosed " opening a '
                "quoted cell that takes the lines after it; close the quote (write a quote "
                'inside a cell as "")'
            )
        return super()._unreadable(row_no, exc)


# Private-use characters: text no supplier writes, no delimiter and no quote.
_EOF_MARK: Final = "\ue000feedsync end of file\ue000"
_EOF_CHECK: Final = "\ue001feedsync end check\ue001"
# Each is a line of its own: the reader ends a record at the end of every line it is
# given (inside a quoted cell it goes on), so a last line without "\n" stays whole.
_EOF_LINES: Final = (_EOF_MARK, _EOF_CHECK)


class UnclosedQuoteError(csv.Error):
    """The file ended inside a quoted cell (raised once, after the last record)."""


def _end_of_file(
    reader: _CsvReader, numbers: Iterator[int], check_multiline: Callable[[int], None]
) -> Iterator[list[str]]:
    """Check, once the records are done, that the file did not end inside a quote.

    The reader is fed the file's lines and then ``_EOF_LINES``. Read outside any quote,
    the marker lines are two records of their own: the records stop at the first
    (``iter``'s sentinel) and the second is still waiting here. Read inside a quoted
    cell opened by an unclosed ``"``, they are just more text of that cell, so the
    reader ends with the whole rest of the file in one record and nothing is left:
    that record is where the quote opened (the last row number the loop saw), and the
    file fails instead of silently losing every row after it. The cost is one record
    at the end of the file and a C-level list compare per record.
    """
    if next(reader, None) != [_EOF_CHECK]:
        raise UnclosedQuoteError("the file ended inside a quoted cell")
    # ``numbers`` (zipped before the records) has handed out one number per record and
    # one for this last try: records = next - 2; lines = line_num - 2 (the markers).
    check_multiline(reader.line_num - next(numbers))
    return
    yield


class _CsvReader(Iterator[list[str]], Protocol):
    line_num: int


def _rereader(lines: Iterable[str]) -> Callable[[], Iterable[str]] | None:
    """How to read ``lines`` again: a file is rewound, a list re-iterated; else None."""
    seek = getattr(lines, "seek", None)
    if seek is not None:
        return lambda: (seek(0), lines)[1]
    if iter(lines) is not lines:
        return lambda: lines
    return None
