"""Money and stock cell parsing.

Money is held in integer minor units (cents) so comparisons and sums are exact.
Both parsers run once per mapped cell of a million-row feed, so each starts with
a fast path for the plain ``123.45`` / ``7`` spelling that nearly every feed uses,
and only falls back to the general (regex) handling when that fails.
Errors are ValueError with a message written for the merchant who owns the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

MONEY_HINT: Final = "expected a price such as 12.99"
STOCK_HINT: Final = "expected a whole number of items such as 7"
DOT_DECIMALS_HINT: Final = "(use a dot for decimals, not a comma)"
# A feed row's cell is the file's spelling, which the profile can declare: the row error
# points at that setting instead of asking the merchant to re-export the file.
ROW_DECIMAL_COMMA_HINT: Final = (
    '(a decimal comma: if the file writes amounts as 12,50, set format.decimal_separator: ","'
    " in the profile)"
)


def row_message(message: str) -> str:
    """A parser's message as a feed row error says it (the decimal-comma hint)."""
    return message.replace(DOT_DECIMALS_HINT, ROW_DECIMAL_COMMA_HINT)


# Currency markers tolerated around an amount: "$12.99", "12.99 €", "USD 12.99".
_SYMBOLS: Final = "$€£¥"
_CODE_RE: Final = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$", re.ASCII)
# Whole part: plain digits, or comma-grouped thousands (only accepted with a dot decimal).
_AMOUNT_RE: Final = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?", re.ASCII)
_INT_RE: Final = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?", re.ASCII)


def parse_money(text: str) -> int:
    """Parse a price cell into minor units: "12.99" -> 1299.

    Raises ValueError with a merchant-readable message for negatives, more than two
    (non-zero) decimals and anything that is not an amount.
    """
    # Fast path: ASCII digits with an optional dot and at most two decimals.
    if text.isascii():
        whole, _, frac = text.partition(".")
        if whole.isdigit():
            if not frac:
                return int(whole) * 100
            if frac.isdigit():
                n = len(frac)
                if n == 2:
                    return int(whole) * 100 + int(frac)
                if n == 1:
                    return int(whole) * 100 + int(frac) * 10
    return _parse_money_general(text)


def _parse_money_general(text: str) -> int:
    """Whitespace, currency markers, thousands separators, signs and the error messages."""
    s = text.strip().strip(_SYMBOLS).strip()
    s = _CODE_RE.sub("", s)
    negative = s.startswith("-")
    if negative or s.startswith("+"):
        s = s[1:].strip().strip(_SYMBOLS).strip()
    if not s:
        raise ValueError(MONEY_HINT)
    m = _AMOUNT_RE.fullmatch(s)
    if m is None or (m[1] is None and m[2] is None):
        if re.fullmatch(r"\d+,\d{1,2}", s, re.ASCII):
            raise ValueError(f"{MONEY_HINT} {DOT_DECIMALS_HINT}")
        raise ValueError(MONEY_HINT)
    whole_s, frac = m[1] or "0", m[2] or ""
    if "," in whole_s and not m[2]:
        # "1,234" could be 1234 or (European) 1.234: refuse to guess.
        raise ValueError(f"{MONEY_HINT} (a comma is only accepted as a thousands separator)")
    if len(frac) > 2:
        if frac[2:].strip("0"):
            raise ValueError(f"{MONEY_HINT} (at most 2 decimal places)")
        frac = frac[:2]
    minor = int(whole_s.replace(",", "")) * 100 + int(frac.ljust(2, "0"))
    if negative and minor:
        raise ValueError("a price cannot be negative")
    return minor


# A file whose format says "decimal_separator": ",": "1.234,50" is read as 1,234.50.
_SWAP_SEPARATORS: Final = str.maketrans({",": ".", ".": ","})
_COMMA_WORDING: Final = (
    (MONEY_HINT, "expected a price such as 12,99"),
    (
        DOT_DECIMALS_HINT,
        "(the format's decimal separator is a comma; a dot only separates thousands)",
    ),
    ("(a comma is only accepted as a thousands separator)", "(a dot only separates thousands)"),
)


def to_decimal_comma(text: str) -> str:
    """A dot-decimal amount spelled as a decimal-comma file writes it: "1,234.50" -> "1.234,50"."""
    return text.translate(_SWAP_SEPARATORS)


def with_decimal_comma(parse: Callable[[str], int], *, words: bool = False) -> Callable[[str], int]:
    """``parse`` for files written with a decimal comma ("12,50", "1.234,50").

    The cell's dots and commas trade places, so every rule of ``parse`` holds with the
    roles swapped (a dot separates thousands, "12.50" is refused rather than guessed),
    and its messages are re-worded to the file's own spelling. ``words``: ``parse``
    also reads words (stock rules' "n.v.", "ca. 5"); a cell with a letter in it is
    handed over as written.
    """

    def parse_comma(text: str) -> int:
        if words and any(c.isalpha() for c in text):
            return parse(text)
        try:
            return parse(text.translate(_SWAP_SEPARATORS))
        except ValueError as exc:
            message = str(exc)
            for dot_words, comma_words in _COMMA_WORDING:
                message = message.replace(dot_words, comma_words)
            raise ValueError(message) from None

    return parse_comma


def format_money(minor: int) -> str:
    """Minor units back to the "12.99" spelling used in logs and previews."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_stock(text: str) -> int:
    """Parse a stock cell: "7" and "7.0" -> 7; negatives and fractions are refused."""
    if text.isascii() and text.isdigit():
        return int(text)
    s = text.strip()
    negative = s.startswith("-")
    if negative or s.startswith("+"):
        s = s[1:].strip()
    m = _INT_RE.fullmatch(s)
    if m is None:
        raise ValueError(STOCK_HINT)
    if m[2] and m[2].strip("0"):
        raise ValueError(f"{STOCK_HINT} (stock must be a whole number)")
    value = int(m[1].replace(",", ""))
    if negative and value:
        raise ValueError("stock cannot be negative")
    return value


def amount_to_cents(value: object) -> int | None:
    """A platform's money value (JSON number or decimal text; None or "" = unset) ->
    integer cents, rounded half-even. ValueError for anything that is not an amount."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a money amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a money amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a money amount: {value!r}")
    return int(amount.scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
