"""Issue 14: a decimal comma refused in a row points at format.decimal_separator."""

from __future__ import annotations

import pytest

from feedsync.domain.feed import CsvFeed
from feedsync.domain.money import parse_money

MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty"}


def _read(text: str, *, decimal_comma: bool = False) -> CsvFeed:
    feed = CsvFeed(iter(text.splitlines(keepends=True)), MAPPING, file_name="f.csv", delimiter=";")
    if decimal_comma:
        feed.use_decimal_comma()
    list(feed)
    return feed


def test_a_decimal_comma_row_error_points_at_the_format_setting() -> None:
    # Given a semicolon file writing a price with a decimal comma, and no such setting
    feed = _read("SKU;Price;Qty\nA1;3,50;2\nA2;4.00;1\n")
    # When read, Then the row is skipped and its message names the setting to use
    [error] = feed.row_errors
    assert (error.row_no, error.column, error.value) == (2, "Price", "3,50")
    assert 'set format.decimal_separator: "," in the profile' in error.message
    assert "use a dot" not in error.message


def test_with_the_setting_a_dot_is_still_refused_in_the_files_own_words() -> None:
    # Given the file declared as decimal-comma, When a cell is written with a dot
    feed = _read("SKU;Price;Qty\nA1;3.50;2\n", decimal_comma=True)
    # Then the message speaks of the declared comma, not of the setting
    [error] = feed.row_errors
    assert "decimal separator is a comma" in error.message
    assert "decimal_separator:" not in error.message


def test_parse_money_outside_a_feed_keeps_its_own_hint() -> None:
    # Given a profile constant (not a file cell) written with a comma
    # When parsed, Then the hint is about the value itself (the setting does not apply)
    with pytest.raises(ValueError, match="use a dot for decimals"):
        parse_money("3,50")
