"""key_transform: the store's SKU made from the file's, compiled once and read per row."""

from __future__ import annotations

import io

import pytest

from feedsync.domain.feed import CsvFeed, RowError
from feedsync.domain.fields import FILE_KEY
from feedsync.domain.keys import (
    EmptyKeyColumn,
    KeyTransform,
    compile_key_transform,
    parse_template,
    store_key,
)
from feedsync.domain.rules import compile_rules
from feedsync.errors import FeedFormatError, MissingColumnsError

MAPPING = {"sku": "Code", "price": "Price"}


def read(text: str, spec: dict[str, str] | None, mapping: dict[str, str] = MAPPING) -> CsvFeed:
    feed = CsvFeed(io.StringIO(text, newline=""), mapping, file_name="acme.csv")
    feed.use_key_transform(compile_key_transform(spec))
    return feed


def keys_of(feed: CsvFeed) -> list[tuple[object, object]]:
    """(store's key, file's key) of each row read."""
    return [(row[1], row[FILE_KEY]) for row in feed]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"prefix": "ACME-"}, "ACME-12345"),
        ({"suffix": "-EU"}, "12345-EU"),
        ({"prefix": "ACME-", "suffix": "-EU"}, "ACME-12345-EU"),
    ],
    ids=["prefix", "suffix", "both"],
)
def test_a_prefix_and_suffix_go_around_the_files_sku(spec: dict[str, str], expected: str) -> None:
    # Given a file whose SKU cell is padded
    feed = read("Code,Price\n 12345 ,9.99\n", spec)
    # When read with the transform
    # Then the row's key is the store's, and the file's SKU (stripped) rides last
    assert keys_of(feed) == [(expected, "12345")]


def test_a_template_builds_the_key_from_two_columns() -> None:
    # Given a template of the brand and code columns (the brand not mapped to any field)
    text = "Brand,Code,Price\n Acme ,12345,9.99\nZeta,777,1.00\n"
    feed = read(text, {"template": "{Brand}-{Code}"})
    # When read
    # Then each row's key is made of its own cells, stripped, with the literal between
    assert keys_of(feed) == [("Acme-12345", "12345"), ("Zeta-777", "777")]


def test_a_row_whose_template_column_is_empty_is_a_row_error_naming_row_and_column() -> None:
    # Given a row with a SKU but no brand, and a row without a SKU at all
    text = "Brand,Code,Price\n  ,12345,9.99\nAcme,,1.00\nAcme,9,2.00\n"
    feed = read(text, {"template": "{Brand}-{Code}"})
    # When read
    rows = list(feed)
    # Then the first is skipped, naming row 2, column Brand and the file's SKU; the row
    # without a SKU is keyed as before (no SKU: the match step says so); the last is read
    assert feed.row_errors == [
        RowError(
            2,
            "Brand",
            "  ",
            "empty, and key_transform's template {Brand}-{Code} needs it for the SKU",
            "12345",
        )
    ]
    assert [(row[0], row[1], row[FILE_KEY]) for row in rows] == [  # type: ignore[misc]
        (3, None, None),
        (4, "Acme-9", "9"),
    ]
    assert feed.rows_read == 3


def test_a_template_column_missing_from_the_file_is_a_file_error_naming_it() -> None:
    # Given a template naming a column the file does not have
    # When the transform is set
    with pytest.raises(MissingColumnsError) as caught:
        read("Code,Price\n1,2.00\n", {"template": "{Maker}-{Code}"})
    # Then the file fails, naming the column, the template and the file's columns
    assert str(caught.value) == (
        "acme.csv: column(s) of key_transform's template 'Maker' not found in the header; "
        "the file's columns are: 'Code', 'Price'"
    )


def test_a_headerless_file_names_template_columns_by_letter() -> None:
    # Given a file without a header, the SKU in column B and the brand in column A
    feed = CsvFeed(
        io.StringIO("Acme,12345,9.99\n", newline=""),
        {"sku": "B", "price": "C"},
        file_name="acme.csv",
        header_row=0,
    )
    feed.use_key_transform(compile_key_transform({"template": "{A}/{b}"}))
    # When read, Then the key is made of columns A and B
    assert keys_of(feed) == [("Acme/12345", "12345")]


def test_a_transform_without_a_sku_column_is_refused() -> None:
    # Given a file mapped by barcode only
    # When a transform is set, Then it is refused: it reshapes the SKU
    with pytest.raises(FeedFormatError, match="no column is mapped to sku"):
        read("EAN,Price\n4006381333931,1.00\n", {"prefix": "A-"}, {"barcode": "EAN"})


def test_sku_folding_applies_to_the_store_key_and_the_file_key_stays_as_written() -> None:
    # Given SKUs matched case-insensitively
    feed = read("Code,Price\nAbc,1.00\n", {"prefix": "ACME-"})
    feed.use_rules(compile_rules({"sku_case_insensitive": True}))
    # When read, Then the whole store key is folded (as the index's SKUs are)
    assert keys_of(feed) == [("acme-abc", "Abc")]


def test_without_a_transform_rows_keep_their_shape() -> None:
    # Given no transform
    feed = read("Code,Price\n1,2.00\n", None)
    # When read, Then rows carry no file key
    assert list(feed) == [(2, "1", None, 200, *([None] * 9))]


@pytest.mark.parametrize(
    ("template", "literals", "columns"),
    [
        ("{Brand}-{Code}", ("", "-", ""), ("Brand", "Code")),
        ("ACME {{{ Code }}}", ("ACME {", "}"), ("Code",)),
        ("{Art.Nr.}", ("", ""), ("Art.Nr.",)),
    ],
)
def test_a_template_parses_into_literals_and_columns(
    template: str, literals: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    # Given a template, When parsed, Then it splits into literal parts and column names
    # (doubled braces are literal; a column name is taken as written, dots and all)
    assert parse_template(template) == (literals, columns)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{Brand", "'{' at character 1 is never closed"),
        ("Brand}", "'}' at character 6 closes no '{'"),
        ("{a{b}}", "'{' at character 1 is never closed"),
        ("{}-{Code}", "'{}' at character 1 names no column"),
        ("{Code!r}", "conversions and format specs"),
        ("{Code:>5}", "conversions and format specs"),
        ("ACME-", "names no column"),
    ],
)
def test_a_bad_template_is_refused_saying_why(template: str, message: str) -> None:
    # Given a template with a syntax error, When parsed, Then the error says what is wrong
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse_template(template)


def test_store_key_is_the_plain_form_create_mode_calls() -> None:
    # Given a compiled template and a row's cells by column
    transform = compile_key_transform({"template": "{Brand}-{Code}"})
    assert isinstance(transform, KeyTransform)
    cells = {"Brand": " Acme ", "Code": "12345"}
    # When the store's key is made, Then it is the template filled with the stripped cells
    assert store_key(transform, "12345", cells.__getitem__) == "Acme-12345"
    # And an empty column raises naming it
    with pytest.raises(EmptyKeyColumn) as caught:
        store_key(transform, "12345", {"Brand": "", "Code": "1"}.__getitem__)
    assert caught.value.column == "Brand"
