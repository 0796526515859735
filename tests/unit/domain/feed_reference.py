"""The plain reference for ``feed.RecordFeed``: records -> rows and row errors, read slowly.

``RecordFeed`` builds its per-row loop as generated Python (``feed._row_loop``) for speed;
this module says the same thing one record and one field at a time, so it can be read
and trusted. ``tests/unit/domain/test_feed_differential.py`` runs both over generated
feeds and asserts the same rows, the same errors (in order) and the same count. Nothing
on the production path imports this module: it is a specification that runs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Final, cast

from feedsync.domain.feed import (
    _WIDTH_PEEK,
    Record,
    RowError,
    check_mapping_fields,
    column_index,
    column_letter,
    parse_image_url,
    parse_weight,
    unreadable,
)
from feedsync.domain.fields import CANONICAL_FIELDS, INT_FIELDS, MONEY_FIELDS, Row
from feedsync.domain.keys import EmptyKeyColumn, KeyTransform, store_key
from feedsync.domain.money import (
    parse_money,
    parse_stock,
    row_message,
    to_decimal_comma,
    with_decimal_comma,
)
from feedsync.domain.rules import CompiledRules, barcode_key, gtin_key, normalize_sku
from feedsync.errors import FeedFormatError, MissingColumnsError, name_list, shorten

# A header-less file's width is learnt from this many leading records (as RecordFeed).
WIDTH_PEEK: Final = _WIDTH_PEEK  # the generated loop's look-ahead, so they cannot drift


@dataclass(frozen=True)
class ReferenceFeed:
    """What a whole read gives: the rows, the skipped rows' errors, the data-row count."""

    rows: list[Row]
    row_errors: list[RowError]
    rows_read: int


@dataclass(frozen=True)
class _Source:
    """Where one canonical field's text comes from: a cell (``index``) or a constant."""

    field: str
    column: str  # as reported in a RowError
    index: int | None  # the cell's index, None for a constant
    constant: str | None


def read_reference(
    header: list[str] | None,
    records: Iterable[Record],
    mapping: Mapping[str, str],
    *,
    file_name: str,
    constants: Mapping[str, str] | None = None,
    rules: CompiledRules | None = None,
    key_transform: KeyTransform | None = None,
    decimal_comma: bool = False,
    header_required: bool = True,
    header_row: int = 1,
) -> ReferenceFeed:
    """Read a feed as ``RecordFeed(header, records, mapping, ...)`` with
    ``use_decimal_comma()`` (when ``decimal_comma``), ``use_constants(constants)``,
    ``use_key_transform(key_transform)`` and ``use_rules(rules)`` would; raises the same
    FeedFormatErrors. With a key transform a row with a SKU has the store's key in its
    place, and every row carries the SKU as the file wrote it last (None without one)."""
    check_mapping_fields(mapping, file_name)
    wanted = {f: col.strip() for f, col in mapping.items() if col.strip()}
    if header is None:
        if header_required:
            raise FeedFormatError(f"{file_name}: the file is empty (no header row)")
        records, columns, index_of, width = _letter_columns(records, wanted, file_name)
        last_row_no = 0
    else:
        columns, index_of = _named_columns(header, wanted, file_name, header_row)
        last_row_no = header_row
        width = 0
    records = iter(records)

    constants = dict(constants or {})
    clash = sorted(set(constants) & set(wanted))
    if clash:
        raise FeedFormatError(f"{file_name}: {clash} are both mapped and constant")
    check_mapping_fields(constants, file_name)

    read_money, read_stock = _number_readers(rules, decimal_comma)
    sources: list[_Source] = []
    for field in CANONICAL_FIELDS:
        if field in wanted:
            index = index_of[wanted[field]]
            sources.append(_Source(field, columns[index], index, None))
        elif field in constants:
            text = constants[field]
            # The profile writes constants with a decimal dot; a comma file's parser
            # reads them re-spelled, as its cells are written.
            if decimal_comma and field in MONEY_FIELDS + INT_FIELDS:
                text = to_decimal_comma(text)
            sources.append(_Source(field, f"{field} (constant)", None, text))
    key_cells = _key_cells(key_transform, wanted, columns, header is not None, width, file_name)
    cell_count = max(
        [*(s.index + 1 for s in sources if s.index is not None), *(i + 1 for i, _ in key_cells)],
        default=0,
    )

    rows: list[Row] = []
    errors: list[RowError] = []
    rows_read = 0
    while True:
        try:
            record = next(records, None)
        except (csv.Error, UnicodeError) as exc:
            raise unreadable(file_name, f"row {last_row_no + 1}", exc) from exc
        if record is None:
            break
        row_no, cells = record
        last_row_no = row_no
        if all(not cell.strip() for cell in cells):
            continue  # a blank record keeps its row number but is no data row
        rows_read += 1
        if len(cells) < cell_count:
            short = [(s.index, s.column) for s in sources if s.index is not None] + key_cells
            column = next(column for index, column in short if index >= len(cells))
            message = f"row has {len(cells)} cells, expected {len(columns)}"
            errors.append(RowError(row_no, column, "", message, _key_of(cells, sources)))
            continue
        error = _empty_key_cell(row_no, cells, sources, key_transform, key_cells)
        if error is None:
            row, error = _read_row(row_no, cells, sources, read_money, read_stock)
        if error is None:
            row = _keyed(row, key_transform, cells, key_cells)
            row, error = _apply_rules(row, rules, sources)
        if error is not None:
            errors.append(error)
        else:
            rows.append(row)
    return ReferenceFeed(rows, errors, rows_read)


def _named_columns(
    header: list[str], wanted: Mapping[str, str], file_name: str, header_row: int
) -> tuple[list[str], dict[str, int]]:
    """The cleaned header and each mapped name's index; a missing or repeated mapped
    name, or a blank header, is a FeedFormatError."""
    columns = [name.strip().replace("\ufeff", "").strip() for name in header]
    if all(not name.strip() for name in columns):
        where = "the first row" if header_row <= 1 else f"row {header_row}"
        raise FeedFormatError(f"{file_name}: {where} is empty; expected a header row")
    names = list(dict.fromkeys(wanted.values()))
    missing = [name for name in names if name not in columns]
    if missing:
        raise MissingColumnsError(file_name, missing, columns)
    for name in set(names):
        if columns.count(name) > 1:
            raise FeedFormatError(
                f"{file_name}: column {shorten(name)} appears more than once in the header, "
                "so it is not clear which one to use"
            )
    return columns, {name: columns.index(name) for name in names}


def _letter_columns(
    records: Iterable[Record], wanted: Mapping[str, str], file_name: str
) -> tuple[Iterable[Record], list[str], dict[str, int], int]:
    """A header-less file: columns are letters; the width is the widest of the first
    ``WIDTH_PEEK`` records, which are read ahead and handed back with the rest."""
    index_of: dict[str, int] = {}
    bad: list[str] = []
    for ref in wanted.values():
        index = column_index(ref)
        if index is None:
            bad.append(ref)
        else:
            index_of[ref] = index
    if bad:
        raise FeedFormatError(
            f"{file_name}: the file has no header row, so mapped columns must be a "
            f"letter (C) or a number (3); got {name_list(bad)}"
        )
    records = iter(records)
    first: list[Record] = []
    try:
        while len(first) < WIDTH_PEEK:
            record = next(records, None)
            if record is None:
                break
            first.append(record)
    except (csv.Error, UnicodeError) as exc:
        last = first[-1][0] if first else 0  # sheets skip row numbers: not len(first)
        raise unreadable(file_name, f"row {last + 1}", exc) from exc
    width = max((len(cells) for _row_no, cells in first), default=0)
    if first:
        missing = [ref for ref in dict.fromkeys(wanted.values()) if index_of[ref] >= width]
        if missing:
            raise MissingColumnsError(file_name, missing, [column_letter(i) for i in range(width)])
    widest = max([width, *(i + 1 for i in index_of.values())])
    columns = [column_letter(i) for i in range(widest)]
    return chain(first, records), columns, index_of, width


def _key_cells(
    transform: KeyTransform | None,
    wanted: Mapping[str, str],
    columns: list[str],
    has_header: bool,
    width: int,
    file_name: str,
) -> list[tuple[int, str]]:
    """A key template's (cell index, column as reported), resolved as mapped columns are;
    the checks a key transform makes of the file, in RecordFeed's order."""
    if transform is None:
        return []
    if "sku" not in wanted:
        raise FeedFormatError(
            f"{file_name}: key_transform reshapes the file's SKU, and no column is mapped to sku"
        )
    names = list(dict.fromkeys(transform.columns))
    index_of: dict[str, int] = {}
    if has_header:
        for name in names:
            if name in columns:
                if columns.count(name) > 1:
                    raise FeedFormatError(
                        f"{file_name}: column {shorten(name)} of key_transform's template "
                        "appears more than once in the header, so it is not clear which one "
                        "to use"
                    )
                index_of[name] = columns.index(name)
        missing = [name for name in names if name not in index_of]
    else:
        bad = [name for name in names if column_index(name) is None]
        if bad:
            raise FeedFormatError(
                f"{file_name}: the file has no header row, so key_transform's template names "
                f"columns by letter ({{C}}) or number ({{3}}); got {name_list(bad)}"
            )
        index_of = {name: cast(int, column_index(name)) for name in names}
        missing = [name for name in names if width and index_of[name] >= width]
    if missing:
        shown = columns if has_header else columns[:width]
        raise MissingColumnsError(file_name, missing, shown, named_by="key_transform's template")
    return [
        (index_of[name], name if has_header else column_letter(index_of[name]))
        for name in transform.columns
    ]


def _sku_cell(cells: list[str], sources: list[_Source]) -> str:
    sku = next(s for s in sources if s.field == "sku")
    return cells[cast(int, sku.index)].strip()


def _empty_key_cell(
    row_no: int,
    cells: list[str],
    sources: list[_Source],
    transform: KeyTransform | None,
    key_cells: list[tuple[int, str]],
) -> RowError | None:
    """A row with a SKU and an empty template column: the row's first error (the key
    belongs to the SKU, the first field)."""
    if transform is None or not key_cells:
        return None
    sku = _sku_cell(cells, sources)
    if not sku:
        return None
    for index, column in key_cells:
        if not cells[index].strip():
            why = str(EmptyKeyColumn(column, transform.template))
            return RowError(row_no, column, cells[index], why, sku)
    return None


def _keyed(
    row: Row, transform: KeyTransform | None, cells: list[str], key_cells: list[tuple[int, str]]
) -> Row:
    """The row with the store's key for its SKU (``store_key``) and the file's SKU last."""
    if transform is None:
        return row
    sku = row[1]
    index_of = {name: index for name, (index, _) in zip(transform.columns, key_cells, strict=True)}
    key = store_key(transform, sku, lambda name: cells[index_of[name]]) if sku else None
    return cast(Row, (row[0], key, *row[2:], sku))


def _number_readers(
    rules: CompiledRules | None, decimal_comma: bool
) -> tuple[Callable[[str], int], Callable[[str], int]]:
    """The money and stock parsers: the rules' stock words, the file's decimal comma."""
    read_money: Callable[[str], int] = parse_money
    read_stock = rules.stock if rules is not None and rules.stock else parse_stock
    if decimal_comma:
        read_money = with_decimal_comma(read_money)
        read_stock = with_decimal_comma(read_stock, words=True)
    return read_money, read_stock


def _read_row(
    row_no: int,
    cells: list[str],
    sources: list[_Source],
    read_money: Callable[[str], int],
    read_stock: Callable[[str], int],
) -> tuple[Row, RowError | None]:
    """Each field's text stripped (blank = None) and parsed by its kind; the first cell
    that does not parse, in field order, is the row's error."""
    values: dict[str, int | str | None] = dict.fromkeys(CANONICAL_FIELDS)
    for source in sources:
        raw = cells[source.index] if source.index is not None else cast(str, source.constant)
        text = raw.strip()
        if not text:
            continue
        try:
            if source.field in MONEY_FIELDS:
                values[source.field] = read_money(text)
            elif source.field in INT_FIELDS:
                values[source.field] = read_stock(text)
            elif source.field == "weight":
                values[source.field] = parse_weight(text)
            elif source.field == "image_url":
                values[source.field] = parse_image_url(text)
            else:
                values[source.field] = text
        except ValueError as exc:
            message = row_message(str(exc))
            key = _key_of(cells, sources)
            return _row(row_no, values), RowError(row_no, source.column, raw, message, key)
    return _row(row_no, values), None


def _key_of(cells: list[str], sources: list[_Source]) -> str:
    """A skipped row's name: its SKU cell, else its barcode cell, stripped ("" if none)."""
    for field in ("sku", "barcode"):
        for source in sources:
            if source.field == field and source.index is not None and source.index < len(cells):
                text = cells[source.index].strip()
                if text:
                    return text
    return ""


def _apply_rules(
    row: Row, rules: CompiledRules | None, sources: list[_Source]
) -> tuple[Row, RowError | None]:
    """The barcode key (GTIN-14; a checked barcode's error reports it stripped), SKU folding, and
    price rules, each fed the row's cost as read (before any rule)."""
    if rules is None:
        return row, None
    file_key = row[len(CANONICAL_FIELDS) + 1 :]  # the SKU as written, with a key transform
    values: dict[str, int | str | None] = dict(
        zip(CANONICAL_FIELDS, row[1 : len(CANONICAL_FIELDS) + 1], strict=True)
    )
    barcode = values["barcode"]
    if rules.match_barcodes and isinstance(barcode, str):
        try:
            values["barcode"] = (gtin_key if rules.validate_barcodes else barcode_key)(barcode)
        except ValueError as exc:
            column = next(s.column for s in sources if s.field == "barcode")
            sku = file_key[0] if file_key else values["sku"]
            key = cast("str | None", sku) or barcode  # as the file wrote it
            return row, RowError(row[0], column, barcode, str(exc), key)
    sku = values["sku"]
    if rules.sku_case_insensitive and isinstance(sku, str):
        values["sku"] = normalize_sku(sku, case_insensitive=True)
    cost = cast("int | None", values["cost_price"])
    for field, rule in rules.money.items():
        amount = values[field]
        if isinstance(amount, int):
            values[field] = rule(amount, cost)
    return cast(Row, _row(row[0], values) + file_key), None


def _row(row_no: int, values: Mapping[str, int | str | None]) -> Row:
    return cast(Row, (row_no, *(values[f] for f in CANONICAL_FIELDS)))
