"""Money and stock cell parsing: what a merchant's file may contain."""

from __future__ import annotations

import pytest

from feedsync.domain.money import format_money, parse_money, parse_stock, with_decimal_comma


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.99", 1299),
        ("12", 1200),
        ("12.5", 1250),
        ("12.", 1200),
        ("0.05", 5),
        ("0", 0),
        (" 1,234.50 ", 123450),
        ("1,234,567.00", 123456700),
        ("$12.99", 1299),
        ("12.99 €", 1299),
        ("USD 12.99", 1299),
        ("12.990", 1299),
        ("12.5000", 1250),
        (".50", 50),
        ("+3.00", 300),
    ],
)
def test_parse_money_accepts_common_spellings(text: str, expected: int) -> None:
    # Given a price cell as suppliers write it
    # When it is parsed
    minor = parse_money(text)
    # Then it is the amount in minor units
    assert minor == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-1.00", "cannot be negative"),
        ("$-12.99", "cannot be negative"),
        ("12.999", "at most 2 decimal places"),
        ("abc", "expected a price such as 12.99"),
        ("", "expected a price such as 12.99"),
        ("   ", "expected a price such as 12.99"),
        ("12,99", "use a dot for decimals"),
        ("1,234", "thousands separator"),
        ("1,23.00", "expected a price such as 12.99"),
        ("1.2.3", "expected a price such as 12.99"),
        ("12e3", "expected a price such as 12.99"),
        ("\uff11\uff12.\uff10\uff10", "expected a price such as 12.99"),  # full-width digits
    ],
)
def test_parse_money_rejects_with_a_human_message(text: str, fragment: str) -> None:
    # Given a cell that is not a usable price
    # When it is parsed
    with pytest.raises(ValueError) as caught:
        parse_money(text)
    # Then the message tells the merchant what was expected
    assert fragment in str(caught.value)


def test_negative_zero_price_is_zero() -> None:
    # Given a "-0.00" cell (some exports write it), When parsed, Then it is simply zero
    assert parse_money("-0.00") == 0


@pytest.mark.parametrize(
    ("minor", "text"), [(1299, "12.99"), (5, "0.05"), (0, "0.00"), (123450, "1234.50")]
)
def test_format_money_round_trips(minor: int, text: str) -> None:
    # Given an amount in minor units
    # When formatted and parsed back
    formatted = format_money(minor)
    # Then the text is the plain spelling and parsing restores the amount
    assert formatted == text
    assert parse_money(formatted) == minor


def test_format_money_negative() -> None:
    # Given a negative amount (a store may hold one), When formatted, Then the sign leads
    assert format_money(-105) == "-1.05"


@pytest.mark.parametrize(
    ("text", "expected"), [("7", 7), ("7.0", 7), (" 12 ", 12), ("0", 0), ("1,000", 1000)]
)
def test_parse_stock_accepts_whole_numbers(text: str, expected: int) -> None:
    # Given a stock cell, When parsed, Then it is the integer count
    assert parse_stock(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-1", "stock cannot be negative"),
        ("abc", "expected a whole number"),
        ("7.5", "whole number"),
        ("", "expected a whole number"),
    ],
)
def test_parse_stock_rejects(text: str, fragment: str) -> None:
    # Given a stock cell that is not a non-negative whole number
    # When parsed
    with pytest.raises(ValueError) as caught:
        parse_stock(text)
    # Then the message says why
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,50", 1250),
        ("12,5", 1250),
        ("12", 1200),
        ("1.234,50", 123450),
        ("1.234.567,00", 123456700),
        ("12,50 €", 1250),
        ("EUR 0,99", 99),
    ],
)
def test_a_decimal_comma_file_reads_amounts_as_written(text: str, expected: int) -> None:
    # Given a file whose format says its decimal separator is a comma
    parse = with_decimal_comma(parse_money)
    # When a price cell is parsed
    # Then the comma separates the cents and a dot the thousands
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "12.50",
            "expected a price such as 12,99 "
            "(the format's decimal separator is a comma; a dot only separates thousands)",
        ),
        ("1.234", "expected a price such as 12,99 (a dot only separates thousands)"),
        ("12,999", "expected a price such as 12,99 (at most 2 decimal places)"),
        ("-3,00", "a price cannot be negative"),
        ("abc", "expected a price such as 12,99"),
    ],
)
def test_a_decimal_comma_file_words_its_errors_in_its_own_spelling(text: str, message: str) -> None:
    # Given a decimal-comma file and a cell it cannot mean
    parse = with_decimal_comma(parse_money)
    # When it is parsed
    with pytest.raises(ValueError) as caught:
        parse(text)
    # Then the message shows the file's own spelling, never the dot-decimal hint
    assert str(caught.value) == message


def test_stock_in_a_decimal_comma_file() -> None:
    # Given a decimal-comma file's stock parser
    parse = with_decimal_comma(parse_stock)
    # When stock cells are parsed, Then "1.200" is a thousand and two hundred, "7,0" is 7
    assert (parse("1.200"), parse("7,0"), parse("7")) == (1200, 7, 7)
    # And a fraction is still refused
    with pytest.raises(ValueError, match="whole number"):
        parse("7,5")
