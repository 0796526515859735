"""The generated row loop (``RecordFeed``) against the plain reference (``read_reference``).

Hypothesis builds feeds - headers, mappings, constants, rules, key transforms, decimal
commas, records full of awkward cells - and both readers must give the same rows, the
same row errors in the same order and the same count, or fail with the same error.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest
from feed_reference import WIDTH_PEEK, read_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsync.domain.feed import Record, RecordFeed, RowError, column_letter
from feedsync.domain.fields import CANONICAL_FIELDS, Row
from feedsync.domain.keys import KeyTransform, compile_key_transform
from feedsync.domain.money import to_decimal_comma
from feedsync.domain.rules import CompiledRules, compile_rules, gtin_check_digit
from feedsync.errors import FeedFormatError

# ----------------------------------------------------------------------------- cells

BLANKS = ["", " ", "  ", "\t", "\u00a0", " \t "]


def gtin(body: str) -> str:
    return body + str(gtin_check_digit(body))


# Per kind: cells a supplier's file should have (written with a decimal dot; a
# decimal-comma file gets them re-spelled), and tricky ones, good or bad.
GOOD: dict[str, list[str]] = {
    "money": ["12.99", "0.05", ".99", "12", "0", "007.50", "12.990", "1,234.50", "$12.99",
              "12.99 €", "USD 12.99", " 12.99 ", "+1.00", "9" * 30 + ".99"],
    "int": ["7", "0", "7.0", "1,200", " 7 ", "+3", "9" * 25],
    "barcode": [gtin("000000000001"), gtin("400638133393"), gtin("0123456"),
                gtin("01234567890"), gtin("0012345678901"), " " + gtin("400638133393"),
                "4006-3813-3393-1", "4006 3813 3393 1", "84500001002", "0084500001002"],
    "decimal": ["0.25", "0,25", " 1 ", "5.", ".5", "0"],
    "url": ["http://cdn.example.com/a.jpg", " https://EXAMPLE.com/x.png ", "HTTP://A.B/c"],
    "text": ["Mug", " Mug ", "MUG", "Straße", "STRASSE", "ǅemal", '"quoted"', "it's", "a,b",
             "x" * 5000, "\ufeffA1", "A 1", "0012"],
}  # fmt: skip
TRICKY: dict[str, list[str]] = {
    "money": ["12.", " 12.", "12.5", "0.00", "12.999", "1.234,50", "1,234", "-1", "-0", "1e3",
              "12,5", "12,50", "1.2.34", "\u0661\u0662.\u0663\u0664", "\uff11\uff12.\uff19\uff19",
              "12.9x", "9" * 30, "1" * 4299 + ".99", "1" * 4400, "1,5", "1.5", "abc", "'12.99",
              '"12.99"', "€", "- 1.00", "+", "1.234.567,89"],
    "int": ["7.5", "1.200", "1.200,0", "-1", "-0", ">10", "10+", "> 5", "in stock",
            "In  Stock", "OUT OF STOCK", "n.v.", "ca. 5", "yes", "no", "many", "1e3", "\u0663",
            "\u0663\u0660", "1" * 4400, "7 pcs", "1,5"],
    "barcode": ["4006381333932", "1.23457E+11", "4006381333931.0", "0123456", "01234567890",
                "12345", "ABC123", "01234565", "00123456", "\u0664006381333931", "12,5"],
    "decimal": [",5", "1e3", "-1", "1 kg", "1.000,5", "\u0661", "1.5.5"],
    "url": ["ftp://a/b", "http:///nohost", "https://[::1", "http://a b/c",
            "//cdn.example.com/a.jpg", "a.jpg"],
    "text": ["", "x" * 100_000],
}  # fmt: skip
ADVERSARIAL = st.text(alphabet="0123456789.,-+ \t$€e>\u00a0\u0661'\"xX", max_size=10)


def mostly(
    usual: st.SearchStrategy[str], times: int, other: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """``usual`` ``times`` as often as ``other`` (``one_of`` would fold repeats into one)."""
    return st.sampled_from([usual] * times + [other]).flatmap(lambda chosen: chosen)


def kind_of(name: str) -> str:
    if name in ("price", "sale_price", "retail_price", "cost_price"):
        return "money"
    if name == "stock":
        return "int"
    if name in ("barcode", "weight", "image_url"):
        return {"barcode": "barcode", "weight": "decimal", "image_url": "url"}[name]
    return "text"


@cache  # strategies are built once: building them costs more than drawing
def good_cell(kind: str, decimal_comma: bool) -> st.SearchStrategy[str]:
    """A cell the file should have, or a blank one."""
    good = st.sampled_from(GOOD[kind])
    if kind == "money":
        good |= st.builds(
            lambda cents, spelling: spelling.format(cents / 100),
            st.integers(0, 3000) | st.integers(0, 10**9),  # about the tiers, and beyond
            st.sampled_from(["{:.2f}", "{:,.2f}", "{:.1f}", "{:.0f}", " {:.2f} "]),
        )
    elif kind == "int":
        good |= st.integers(0, 10**6).map(str)
    elif kind == "text":
        good |= st.text(max_size=12)
    if decimal_comma and kind in ("money", "int"):
        good = good.map(to_decimal_comma)
    return good | st.sampled_from(BLANKS)


@cache
def any_cell(kind: str, decimal_comma: bool) -> st.SearchStrategy[str]:
    """Mostly a good cell, else a tricky one of the column's kind or anything."""
    good = good_cell(kind, decimal_comma)
    return mostly(good, 3, st.sampled_from(TRICKY[kind]) | ADVERSARIAL)


# Constants: what the profile API accepts (dot amounts), and now and then what it would not.
GOOD_CONSTANTS: dict[str, list[str]] = {
    "money": ["9.50", "1,234.50", "12", "0", "0.5"],
    "int": ["5", "1,200", "0", "7.0"],
    "barcode": [gtin("400638133393"), gtin("0123456")],
    "decimal": ["0.25", "1"],
    "url": ["https://cdn.example.com/a.jpg"],
    "text": ["Acme", " Acme ", "X1"],
}
BAD_CONSTANTS: dict[str, list[str]] = {
    "money": ["", " ", "12,5", "x", "-1"],
    "int": ["in stock", ">10", "-1", ""],
    "barcode": ["12345", " "],
    "decimal": ["1e3", ""],
    "url": ["a.jpg"],
    "text": [""],
}


@cache
def constant(kind: str) -> st.SearchStrategy[str]:
    good = st.sampled_from(GOOD_CONSTANTS[kind])
    return mostly(good, 19, st.sampled_from(BAD_CONSTANTS[kind]))


# ----------------------------------------------------------------------------- rules

PRICE_RULES = st.fixed_dictionaries(
    {},
    optional={
        "currency_factor": st.sampled_from(["1.08", "0.5", "3"]),
        "markup_percent": st.sampled_from(["25", "-10", "0.5", "-100"]),
        "add": st.sampled_from(["1.50", "-2.00"]),
        "tiers": st.just(
            [{"min": "0", "max": "10", "markup_percent": "50"}, {"min": "10", "add": "1"}]
        ),
        "tiers_by": st.sampled_from(["price", "cost"]),
        "round": st.sampled_from(["0.99", "0.95", "0.05", "1", "none"]),
        "min": st.just("1.00"),
        "max": st.just("500.00"),
        "apply_to": st.lists(
            st.sampled_from(["price", "sale_price", "retail_price"]), min_size=1, max_size=3
        ),
    },
)
# Tiers chosen by cost: a rule that reads the row's cost besides the amount.
TIERED_BY_COST = st.fixed_dictionaries(
    {
        "tiers": st.just(
            [{"min": "0", "max": "10", "markup_percent": "50"}, {"min": "10", "add": "1"}]
        ),
        "tiers_by": st.just("cost"),
    },
    optional={
        "currency_factor": st.sampled_from(["1.08", "3"]),
        "apply_to": st.just(["price", "sale_price", "retail_price"]),
    },
)
STOCK_RULES = st.fixed_dictionaries(
    {},
    optional={
        "buffer": st.integers(0, 3),
        "zero_below": st.integers(0, 3),
        "cap": st.integers(0, 100),
        "text": st.just({"in stock": 100, "out of stock": 0, "n.v.": 0, "ca. 5": 5}),
        "greater_than_as": st.sampled_from(["value", "value+1"]),
    },
)
RULE_SPECS = st.fixed_dictionaries(
    {},
    optional={
        "price_rules": PRICE_RULES | TIERED_BY_COST,
        "stock_rules": STOCK_RULES,
        "sku_case_insensitive": st.booleans(),
        "validate_barcodes": st.booleans(),
    },
)

# ----------------------------------------------------------------------------- feeds

COLUMN_NAMES = ["SKU", "UPC", "Price", "Sale", "RRP", "Cost", "Qty", "Name", "Desc", "Brand",
                "Kg", "Image", "Notes", "x"]  # fmt: skip
PADDING = st.sampled_from(["", "", "", " ", "\t", "\ufeff"])


@dataclass
class Case:
    """One feed as both readers take it (``rules_spec`` only for the failure report)."""

    header: list[str] | None
    records: list[Record]
    mapping: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)
    rules_spec: dict[str, Any] | None = None
    decimal_comma: bool = False
    comma_last: bool = False  # use_decimal_comma() after constants and rules
    header_required: bool = True
    header_row: int = 1
    broken_after: int | None = None  # the record stream fails after this many records
    # Also a price rule on cost_price, ahead of the others (compile_rules never makes
    # one): every rule must still be fed the cost as read.
    rule_on_cost: bool = False
    key_spec: dict[str, str] | None = None  # the profile's key_transform

    @property
    def key_transform(self) -> KeyTransform | None:
        return compile_key_transform(self.key_spec)

    @property
    def rules(self) -> CompiledRules | None:
        if self.rules_spec is None:
            return None
        rules = compile_rules(self.rules_spec)
        if self.rule_on_cost and rules.money:
            rule = next(iter(rules.money.values()))
            rules = replace(rules, money={"cost_price": rule, **rules.money})
        return rules


@cache
def one_in(n: int) -> st.SearchStrategy[bool]:
    """True once in ``n`` draws (a choice among n, not a small integer: those come often)."""
    return st.sampled_from([False] * (n - 1) + [True])


@st.composite
def cases(draw: st.DrawFn, keyed: bool = False) -> Case:
    """A feed: mostly well-formed, with a fair share of broken headers and mappings
    (``keyed``: its SKU mapped to a column and reshaped by a key transform)."""
    no_header = draw(one_in(5))
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=10, unique=True))
    if draw(one_in(10)):
        names.append(draw(st.sampled_from(names)))  # a repeated column
    if draw(one_in(30)):
        names = [draw(st.sampled_from(BLANKS)) for _ in names]  # a blank header row
    width = len(names)

    mapping: dict[str, str] = {}
    constants: dict[str, str] = {}
    kind_at: dict[int, str] = {}
    for name in CANONICAL_FIELDS:
        how = draw(st.sampled_from(["none", "none", "column", "column", "constant", "blank"]))
        if keyed and name == "sku":
            how = "column"
        free = [i for i in range(width) if i not in kind_at]
        if how == "column" and (free or draw(one_in(8))):  # now and then, a shared column
            index = draw(st.sampled_from(free or range(width)))
            kind_at.setdefault(index, kind_of(name))
            if no_header:
                letter = draw(st.sampled_from(["letter", "lower", "number"]))
                ref = {"letter": column_letter(index), "lower": column_letter(index).lower(),
                       "number": str(index + 1)}[letter]  # fmt: skip
            else:
                ref = (
                    draw(st.sampled_from(["", " ", "\t"]))
                    + names[index].strip()
                    + " " * draw(st.integers(0, 1))
                )
            mapping[name] = ref
        elif how == "constant":
            constants[name] = draw(constant(kind_of(name)))
        elif how == "blank":
            mapping[name] = draw(st.sampled_from(["", " "]))
    if draw(one_in(15)):
        mapping[draw(st.sampled_from(CANONICAL_FIELDS))] = draw(
            st.sampled_from(["Missing", "ZZ", "0", "800"])
        )  # a column the file lacks (or, without a header, no column reference)
    if constants and draw(one_in(20)):
        mapping[next(iter(constants))] = names[0]  # both mapped and constant
    if draw(one_in(50)):
        constants["colour"] = "red"  # not a canonical field

    decimal_comma = draw(st.booleans())
    header_row = draw(st.integers(0, 3)) if no_header else draw(st.integers(1, 3))
    row_no = header_row
    records: list[Record] = []
    for _ in range(draw(st.integers(0, 10))):
        row_no += draw(st.sampled_from([1, 1, 1, 2, 5]))
        shape = draw(
            st.sampled_from(["good"] * 4 + ["any"] * 3 + ["blank", "short", "long", "empty"])
        )
        size = {"short": draw(st.integers(0, max(width - 1, 0))),
                "long": width + draw(st.integers(1, 3)), "empty": 0}.get(shape, width)  # fmt: skip
        if shape == "blank":
            cells = [draw(st.sampled_from(BLANKS)) for _ in range(size)]
        else:
            cell = good_cell if shape == "good" else any_cell
            cells = [draw(cell(kind_at.get(i, "text"), decimal_comma)) for i in range(size)]
        records.append((row_no, cells))

    return Case(
        key_spec=draw(
            key_specs(
                names, no_header, sku_mapped=bool(mapping.get("sku", "").strip()), keyed=keyed
            )
        ),
        header=None if no_header else [draw(PADDING) + n + draw(PADDING) for n in names],
        records=records,
        mapping=mapping,
        constants=constants,
        rules_spec=draw(st.none() | st.just({}) | RULE_SPECS),
        decimal_comma=decimal_comma,
        comma_last=draw(st.booleans()),
        header_required=not no_header or draw(one_in(20)),
        header_row=header_row,
        broken_after=draw(st.integers(0, len(records))) if draw(one_in(15)) else None,
        rule_on_cost=draw(st.booleans()),
    )


AFFIXES = ["ACME-", "-EU", "x", "Straße/", "{", "ǅ", " a", "0"]


@st.composite
def key_specs(
    draw: st.DrawFn, names: list[str], no_header: bool, *, sku_mapped: bool, keyed: bool
) -> dict[str, str] | None:
    """Mostly none; else a prefix and/or suffix, or a template of the file's columns (by
    letter or number without a header), now and then one the file lacks (and rarely a
    transform without a SKU mapped, which the profile's model refuses)."""
    if not sku_mapped and not draw(one_in(20)):
        return None
    shape = draw(
        st.sampled_from(["affix", "template"] if keyed else ["none", "none", "affix", "template"])
    )
    if shape == "affix":
        spec = draw(
            st.fixed_dictionaries(
                {},
                optional={"prefix": st.sampled_from(AFFIXES), "suffix": st.sampled_from(AFFIXES)},
            )
        )
        return spec or {"prefix": "ACME-"}
    if shape == "none":
        return None
    refs = (
        [column_letter(i) for i in range(len(names))] + [str(i + 1) for i in range(len(names))]
        if no_header
        else [name.strip() for name in names if name.strip()] or ["SKU"]
    )
    if draw(one_in(10)):
        refs = [*refs, draw(st.sampled_from(["Maker", "ZZ", "0"]))]  # not in the file
    columns = draw(st.lists(st.sampled_from(refs), min_size=1, max_size=3))
    literal = st.sampled_from(["", "-", "/", "{{", "ACME "])
    template = draw(literal)
    for column in columns:
        template += "{" + column + "}" + draw(literal)
    return {"template": template}


# ----------------------------------------------------------------------------- readers

Outcome = tuple[str, Any, Any, Any]


def _stream(case: Case) -> Iterator[Record]:
    """The case's records, each reader with its own copies (the fast loop appends the
    constants to a record's cells), failing like a broken CSV file when asked to."""
    for n, record in enumerate(copy.deepcopy(case.records)):
        if n == case.broken_after:
            raise csv.Error("line contains NUL")
        yield record
    if case.broken_after == len(case.records):
        raise csv.Error("line contains NUL")


def generated(case: Case) -> Outcome:
    """The production path: RecordFeed with its generated row loop."""
    try:
        feed = RecordFeed(
            copy.deepcopy(case.header),
            _stream(case),
            case.mapping,
            file_name="f.csv",
            header_required=case.header_required,
            header_row=case.header_row,
        )
        if case.decimal_comma and not case.comma_last:
            feed.use_decimal_comma()
        feed.use_constants(case.constants)
        feed.use_key_transform(case.key_transform)
        feed.use_rules(case.rules)
        if case.decimal_comma and case.comma_last:
            feed.use_decimal_comma()
        rows = list(feed)
    except FeedFormatError as exc:
        return ("raised", type(exc), str(exc), None)
    return ("read", rows, feed.row_errors, feed.rows_read)


def reference(case: Case) -> Outcome:
    try:
        result = read_reference(
            copy.deepcopy(case.header),
            _stream(case),
            case.mapping,
            file_name="f.csv",
            constants=case.constants,
            rules=case.rules,
            key_transform=case.key_transform,
            decimal_comma=case.decimal_comma,
            header_required=case.header_required,
            header_row=case.header_row,
        )
    except FeedFormatError as exc:
        return ("raised", type(exc), str(exc), None)
    return ("read", result.rows, result.row_errors, result.rows_read)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=500, deadline=None, derandomize=True)
@given(cases())
def test_the_generated_loop_reads_every_feed_as_the_reference_does(case: Case) -> None:
    # Given any feed (mapping, constants, rules, separator, awkward cells)
    # When both the generated row loop and the plain reference read it
    fast, plain = generated(case), reference(case)
    # Then they give the same rows, the same errors in order and the same count
    assert fast == plain


@settings(max_examples=300, deadline=None, derandomize=True)
@given(cases(keyed=True))
def test_the_generated_loop_reshapes_keys_as_the_reference_does(case: Case) -> None:
    # Given any feed whose SKU is reshaped by a prefix, a suffix or a template of columns
    # When both the generated row loop and the plain reference read it
    fast, plain = generated(case), reference(case)
    # Then they give the same rows (store's key, file's key last), errors and count
    assert fast == plain


def test_a_keyed_case_reshapes_keys_and_finds_empty_key_columns() -> None:
    # Given the keyed strategy's own examples
    outcomes = []

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(cases(keyed=True))
    def collect(case: Case) -> None:
        outcomes.append(generated(case))

    # When they are read
    collect()
    # Then many rows carry a store's key made from the file's, and some rows are refused
    # for an empty template column
    read = [o for o in outcomes if o[0] == "read"]
    reshaped = [r for o in read for r in o[1] if r[-1] is not None and r[1] != r[-1]]
    empty = [e for o in read for e in o[2] if "key_transform's template" in e.message]
    assert len(reshaped) > 100 and len(empty) > 5


def test_a_generated_case_is_not_all_errors() -> None:
    # Given the strategy's own examples
    outcomes = []

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(cases())
    def collect(case: Case) -> None:
        outcomes.append(generated(case))

    # When they are read
    collect()
    # Then most feeds open, some do not, and the open ones give more rows than errors
    read = [o for o in outcomes if o[0] == "read"]
    rows, errors = sum(len(o[1]) for o in read), sum(len(o[2]) for o in read)
    assert len(outcomes) // 2 < len(read) < len(outcomes)
    assert rows > errors > 20


# ----------------------------------------------------------------------------- examples


def both(case: Case) -> Outcome:
    """Read ``case`` both ways, require agreement, return the shared answer."""
    fast = generated(case)
    assert fast == reference(case)
    return fast


def row(row_no: int, **values: object) -> Row:
    return (row_no, *(values.get(f) for f in CANONICAL_FIELDS))  # type: ignore[return-value]


@pytest.mark.parametrize(
    "constants", [{"sku": "X1"}, {"barcode": gtin("400638133393")}], ids=["sku", "barcode"]
)
def test_a_blank_record_is_no_row_when_a_key_is_a_constant(constants: dict[str, str]) -> None:
    # Given a file whose match key comes from a constant, with a blank record of full
    # width (",,") and a short one ("") between two rows
    records: list[Record] = [(2, ["5", "7"]), (3, ["", " "]), (4, []), (5, ["6", "8"])]
    case = Case(["Price", "Qty"], records, {"price": "Price", "stock": "Qty"}, constants)
    # When read
    _, rows, errors, rows_read = both(case)
    # Then both blank records are skipped, as blank records are without constants
    assert [r[0] for r in rows] == [2, 5]
    assert errors == [] and rows_read == 2


def test_blank_looking_money_cells_are_empty_on_the_fast_and_careful_paths() -> None:
    # Given price cells of spaces or a non-breaking space, a trailing dot, and " 12."
    # (parse_money refuses the padded spelling; the loop strips before parsing)
    records: list[Record] = [(2, ["A", "  "]), (3, ["B", "\u00a0"]), (4, ["C", "12."]),
                             (5, ["D", " 12."])]  # fmt: skip
    case = Case(["SKU", "Price"], records, {"sku": "SKU", "price": "Price"})
    # When read
    _, rows, errors, _ = both(case)
    # Then blank means no price, and both spellings of twelve read as 1200 cents
    assert rows == [row(2, sku="A"), row(3, sku="B"), row(4, sku="C", price=1200),
                    row(5, sku="D", price=1200)]  # fmt: skip
    assert errors == []


def test_a_price_too_long_for_the_fast_path_still_reads() -> None:
    # Given a 12.99-shaped price whose digits without the dot pass Python's 4300-digit
    # int() limit (the fast path's int() refuses it; parse_money reads it in two parts)
    price = "1" * 4299 + ".99"
    case = Case(["SKU", "Price"], [(2, ["A", price])], {"sku": "SKU", "price": "Price"})
    # When read
    _, rows, errors, _ = both(case)
    # Then the row is read through the careful path with the exact amount
    assert errors == []
    assert rows[0][3] == int("1" * 4299) * 100 + 99


def test_decimal_comma_constants_are_respelled_and_reported_as_read() -> None:
    # Given a decimal-comma file, a good dot-written price constant and a bad cost one
    mapping = {"sku": "SKU", "stock": "Qty"}
    good = Case(["SKU", "Qty"], [(2, ["A", "1.200"])], mapping, {"price": "1,234.50"},
                decimal_comma=True)  # fmt: skip
    bad = Case(["SKU", "Qty"], [(2, ["A", "1"])], mapping, {"cost_price": "12,5"},
               decimal_comma=True, comma_last=True)  # fmt: skip
    # When read
    _, rows, _, _ = both(good)
    _, _, errors, _ = both(bad)
    # Then the constant reads as 1234.50 and the cell "1.200" as 1200 items; the bad
    # constant is reported as the comma parser saw it
    assert rows == [row(2, sku="A", price=123450, stock=1200)]
    assert errors == [
        RowError(
            2,
            "cost_price (constant)",
            "12.5",
            "expected a price such as 12,99 (the format's decimal separator is a comma; "
            "a dot only separates thousands)",
            "A",
        )
    ]


def test_a_bad_cell_is_reported_before_a_bad_barcode_and_the_barcode_as_stripped() -> None:
    # Given one row with a bad barcode and a bad price, one with only a bad barcode
    records: list[Record] = [(2, [" 4006381333932 ", "x"]), (3, [" 4006381333932 ", "1"])]
    case = Case(["UPC", "Price"], records, {"barcode": "UPC", "price": "Price"},
                rules_spec={})  # fmt: skip
    # When read with the default rules (barcodes validated)
    _, rows, errors, rows_read = both(case)
    # Then the first row reports its price only, the second its barcode (stripped); each
    # is named by its barcode as the file wrote it (there is no SKU)
    assert rows == [] and rows_read == 2
    assert errors == [
        RowError(2, "Price", "x", "expected a price such as 12.99", "4006381333932"),
        RowError(3, "UPC", "4006381333932",
                 "barcode '4006381333932' fails the GTIN-13 check digit (expected 1)",
                 "4006381333932"),
    ]  # fmt: skip


def test_a_headerless_file_learns_its_width_from_the_first_records_only() -> None:
    # Given a header-less file whose column C appears only after the first records
    narrow: list[Record] = [(n, ["A", "1"]) for n in range(1, WIDTH_PEEK + 1)]
    late = Case(None, [*narrow, (WIDTH_PEEK + 1, ["B", "2", "3.00"])],
                {"sku": "A", "price": "C"}, header_required=False, header_row=0)  # fmt: skip
    early = Case(None, [*narrow[:-1], (WIDTH_PEEK, ["B", "2", "3.00"]), narrow[-1]],
                 {"sku": "A", "price": "C"}, header_required=False, header_row=0)  # fmt: skip
    # When read
    late_outcome, early_outcome = both(late), both(early)
    # Then a column seen too late is missing; seen in time, the narrow rows are short
    assert late_outcome[0] == "raised"
    assert late_outcome[2] == (
        "f.csv: mapped column(s) 'C' not found in the header; the file's columns are: 'A', 'B'"
    )
    assert len(early_outcome[1]) == 1
    assert early_outcome[2][0] == RowError(1, "C", "", "row has 2 cells, expected 3", "A")


def test_a_stream_that_breaks_is_reported_at_the_row_after_the_last_one_read() -> None:
    # Given a file whose third data record cannot be read
    records: list[Record] = [(2, ["A"]), (3, ["B"]), (4, ["C"])]
    case = Case(["SKU"], records, {"sku": "SKU"}, broken_after=2)
    # When read
    outcome = both(case)
    # Then the error names row 4
    assert outcome[:3] == (
        "raised",
        FeedFormatError,
        "f.csv: row 4 cannot be read (line contains NUL)",
    )


def test_a_headerless_sheet_that_breaks_while_its_width_is_read_names_the_next_row() -> None:
    # Given a header-less sheet whose rows skip a number (1, 3, 4), the stream breaking
    # while the first records are read ahead for the width (found by the property test)
    records: list[Record] = [(1, ["Mug"]), (3, ["Mug"]), (4, ["Mug"])]
    case = Case(None, records, {}, header_required=False, header_row=0, broken_after=2)
    # When read, Then both readers name the row after the last one read (4), not a count
    outcome = both(case)
    assert outcome[:3] == (
        "raised",
        FeedFormatError,
        "f.csv: row 4 cannot be read (line contains NUL)",
    )


def test_price_rules_read_the_cost_as_the_file_gives_it() -> None:
    # Given tiers chosen by cost (under 10.00: +50%, else +1.00), applied to the price,
    # and (hand-built) to the cost itself ahead of the price
    spec = {"price_rules": {"tiers": [{"min": "0", "max": "10", "markup_percent": "50"},
                                      {"min": "10", "add": "1"}], "tiers_by": "cost"}}  # fmt: skip
    records: list[Record] = [(2, ["A", "20.00", "8.00"])]
    mapping = {"sku": "SKU", "price": "Price", "cost_price": "Cost"}
    case = Case(["SKU", "Price", "Cost"], records, mapping, rules_spec=spec, rule_on_cost=True)
    # When read
    _, rows, _, _ = both(case)
    # Then the price's tier is the one of the cost as read (8.00, not the ruled 12.00)
    assert rows == [row(2, sku="A", price=3000, cost_price=1200)]
