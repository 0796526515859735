"""Barcodes as GTIN-14 match keys: the strict key (feed side, validated) and the lenient
one (store side, and feed side with ``validate_barcodes`` off)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsync.domain.rules import barcode_key, gtin_check_digit, gtin_key


def with_check_digit(body: str) -> str:
    return body + str(gtin_check_digit(body))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("36000291452", "00036000291452"),  # ... whose leading zero a spreadsheet dropped
        ("0036000291452", "00036000291452"),  # ... written as an EAN-13
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("10012345678902", "10012345678902"),  # GTIN-14
        ("84500001002", "00084500001002"),
        ("084500001002", "00084500001002"),
        ("0084500001002", "00084500001002"),
        (" 400-638 133 393-1 ", "04006381333931"),  # spaces and dashes removed
        ("04252614", "00042100005264"),  # UPC-E: the key of its UPC-A 042100005264
        ("042100005264", "00042100005264"),
    ],
)
def test_a_valid_gtin_becomes_its_gtin_14(text: str, expected: str) -> None:
    # Given a valid GTIN as suppliers and stores write it
    # When keyed, strictly and leniently
    # Then both give the 14-digit GTIN
    assert gtin_key(text) == expected
    assert barcode_key(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("96385070", "barcode '96385070' fails the GTIN-8 check digit (expected 4)"),
        ("036000291450", "barcode '036000291450' fails the GTIN-12 check digit (expected 2)"),
        ("4006381333932", "barcode '4006381333932' fails the GTIN-13 check digit (expected 1)"),
        ("10012345678900", "barcode '10012345678900' fails the GTIN-14 check digit (expected 2)"),
        ("04252615", "barcode '04252615' fails the GTIN-8 check digit (expected 0)"),
        (
            "84500001005",
            "barcode '84500001005' fails the GTIN-12 check digit "
            "(read as 084500001005, expected 2)",
        ),
        ("123456789", "barcode '123456789' fails the GTIN-12 check digit (read as 000123456789"),
        (
            "1.23457E+11",
            "barcode '1.23457E+11' is in scientific notation (the spreadsheet rounded it): "
            "re-export the column as text",
        ),
        ("4.00638E12", "is in scientific notation"),
        ("4006381333931.0", "barcode '4006381333931.0' has a decimal point"),
        ("ABC-123", "barcode 'ABC-123' must contain only digits (found 'A')"),
        ("\u0664006381333931", "must contain only digits (found '\u0664')"),
        ("1234565", "has 7 digits; a GTIN has at least 8 (a leading zero may have been dropped"),
        ("0", "barcode '0' has 1 digits; a GTIN has at least 8 (is the right column mapped?)"),
        ("12", "has 2 digits; a GTIN has at least 8 (is the right column mapped?)"),
        ("104006381333931", "barcode '104006381333931' has 15 digits; a GTIN has at most 14"),
        ("   ", "barcode is empty"),
    ],
)
def test_a_barcode_that_is_no_gtin_is_refused_saying_why(text: str, message: str) -> None:
    # Given a corrupt, mistyped or wrong-column barcode
    # When keyed strictly
    with pytest.raises(ValueError) as exc:
        gtin_key(text)
    # Then the message says exactly what is wrong
    assert message in str(exc.value)


@pytest.mark.parametrize(
    "text",
    ["84500001005", "084500001005", "INT-0042", "0", "12", "1.23457E+11", "104006381333931"],
)
def test_the_lenient_key_keeps_a_code_that_is_no_gtin_as_written(text: str) -> None:
    # Given an internal code, a short number or a GTIN with a wrong check digit
    # When keyed leniently (store side, or validation off)
    # Then it is kept as written (stripped): its zeros are not known to be padding
    assert barcode_key(f" {text} ") == text


def test_an_invalid_code_is_not_padded_to_meet_another() -> None:
    # Given two spellings of a code whose check digit is wrong
    # When keyed leniently
    # Then they stay apart (only a valid GTIN is read with its zeros restored)
    assert barcode_key("84500001005") != barcode_key("084500001005")


# --- properties ---------------------------------------------------------------

GTIN_LENGTHS = st.sampled_from([8, 12, 13, 14])


@st.composite
def gtins(draw: st.DrawFn, *, first: str = "0123456789") -> str:
    """A valid GTIN-8/12/13/14 (any leading digits, zeros included)."""
    length = draw(GTIN_LENGTHS)
    lead = draw(st.sampled_from(first))
    rest = draw(st.text(alphabet="0123456789", min_size=length - 2, max_size=length - 2))
    return with_check_digit(lead + rest)


@given(gtins())
def test_every_spelling_of_a_gtin_has_one_key(code: str) -> None:
    # Given a valid GTIN, its forms with leading zeros dropped (down to 8 digits) and
    # padded (up to 14), with or without separators
    key = gtin_key(code)
    digits = code.lstrip("0")
    forms = {code, code.zfill(14), f" {code} ", "-".join(code)}
    forms |= {digits.zfill(n) for n in range(max(8, len(digits)), 15)}
    # When each is keyed, strictly and leniently
    # Then all give the same 14-digit key, the code zero-padded
    assert key == code.zfill(14)
    for form in forms:
        assert gtin_key(form) == key, form
        assert barcode_key(form) == key, form


@given(gtins(first="23456789"), st.data())
def test_a_one_digit_change_is_refused(code: str, data: st.DataObject) -> None:
    # Given a valid GTIN (not starting 0 or 1, which could read as a UPC-E) and one of its
    # digits changed
    pos = data.draw(st.integers(0, len(code) - 1))
    # (a first digit of 0 or 1 could make the changed code read as a valid UPC-E: that case
    # has its own test below)
    digits = "23456789" if pos == 0 else "0123456789"
    digit = data.draw(st.sampled_from([d for d in digits if d != code[pos]]))
    changed = code[:pos] + digit + code[pos + 1 :]
    # When keyed strictly
    # Then it is refused by the check digit (and, leniently, is not the original's key)
    with pytest.raises(ValueError, match="check digit"):
        gtin_key(changed)
    assert barcode_key(changed) != gtin_key(code)


@given(gtins(first="01"), st.data())
def test_a_one_digit_change_never_reaches_the_original(code: str, data: st.DataObject) -> None:
    # Given a valid GTIN starting 0 or 1 and one of its digits changed
    pos = data.draw(st.integers(0, len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[pos]]))
    changed = code[:pos] + digit + code[pos + 1 :]
    # When keyed (an 8-digit one may pass as a UPC-E, the one GS1 alias of 8 digits)
    try:
        key = gtin_key(changed)
    except ValueError:
        return
    # Then it never has the original's key
    assert len(changed) == 8 and key != gtin_key(code)
