"""Content fields (description, brand, weight, image URL) and constant values."""

from __future__ import annotations

import io

import pytest

from feedsync.domain.feed import CsvFeed
from feedsync.domain.fields import ROW_POS
from feedsync.errors import FeedFormatError


def _feed(text: str, mapping: dict[str, str]) -> CsvFeed:
    return CsvFeed(io.StringIO(text, newline=""), mapping, file_name="f.csv")


def test_content_fields_are_read_and_weight_validated() -> None:
    # Given a file with description, brand, weight and image columns
    text = (
        "SKU,Desc,Brand,Kg,Img\n"
        "A1, Warm hat ,Acme,0.25,https://img/a1.jpg\n"
        "A2,Scarf,Acme,heavy,https://img/a2.jpg\n"
    )
    mapping = {
        "sku": "SKU",
        "description": "Desc",
        "brand": "Brand",
        "weight": "Kg",
        "image_url": "Img",
    }
    feed = _feed(text, mapping)
    # When it is read
    rows = list(feed)
    # Then the good row carries the content, and the bad weight is a row error
    (row,) = rows
    assert row[ROW_POS["description"]] == "Warm hat" and row[ROW_POS["brand"]] == "Acme"
    assert row[ROW_POS["weight"]] == "0.25" and row[ROW_POS["image_url"]].endswith("a1.jpg")
    (err,) = feed.row_errors
    assert (err.row_no, err.column, err.value) == (3, "Kg", "heavy")
    assert "weight" in err.message


def test_constants_fill_fields_the_file_lacks_on_every_row() -> None:
    # Given a file without brand or stock columns, and constants for both
    feed = _feed("SKU,Price\nA1,9.99\nA2,5.00\n", {"sku": "SKU", "price": "Price"})
    feed.use_constants({"brand": "Acme", "stock": "5"})
    # When it is read
    rows = list(feed)
    # Then every row has the constant values, parsed like cells
    assert [r[ROW_POS["brand"]] for r in rows] == ["Acme", "Acme"]
    assert [r[ROW_POS["stock"]] for r in rows] == [5, 5]
    assert [r[ROW_POS["price"]] for r in rows] == [999, 500]


def test_a_blank_record_stays_blank_with_constants() -> None:
    # Given a blank line in the middle of the file, and a constant
    feed = _feed("SKU,Price\nA1,1.00\n,\nA2,2.00\n", {"sku": "SKU", "price": "Price"})
    feed.use_constants({"brand": "Acme"})
    # When it is read, then the blank record is skipped, not reported as "no SKU"
    assert [r[ROW_POS["sku"]] for r in feed] == ["A1", "A2"]
    assert feed.row_errors == [] and feed.rows_read == 2


def test_a_field_both_mapped_and_constant_is_refused() -> None:
    feed = _feed("SKU,Price\nA1,1.00\n", {"sku": "SKU", "price": "Price"})
    with pytest.raises(FeedFormatError, match="both mapped and constant"):
        feed.use_constants({"price": "2.00"})
