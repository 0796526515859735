"""How Shopify spells money and weights, and how the index keeps them.

Money is a decimal string (``"12.99"``), the index keeps integer cents. A weight is a
``Weight`` (value and unit) that the index keeps as canonical decimal text in the shop's
``weightUnit``; a weight kept in another unit is converted, and weights are written in
the shop's unit, so what is written reads back the same.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Final

from feedsync.domain.content import canonical_weight
from feedsync.domain.money import amount_to_cents

JSON = dict[str, Any]

# Grams in one of each ``WeightUnit`` (the international pound and ounce).
_GRAMS_PER: Final = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}
_CONVERTED_PLACES: Final = Decimal("0.000001")  # a converted weight, to a millionth


def to_cents(value: Any) -> int | None:
    """A Shopify Money/Decimal value (``"12.99"``) -> integer cents, rounded half-even."""
    return amount_to_cents(value)


def from_cents(cents: int | None) -> str | None:
    """Integer cents -> Shopify's decimal string, e.g. 1349 -> ``"13.49"``, -5 -> ``"-0.05"``."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def read_weight(weight: JSON | None, unit: str | None) -> str | None:
    """A ``Weight`` (``{"value": 0.25, "unit": "KILOGRAMS"}``) as the index keeps it:
    canonical decimal text in ``unit`` (the shop's), converted from the weight's own unit
    when Shopify keeps it in another; None without a weight."""
    if not weight or weight.get("value") is None:
        return None
    try:
        value = Decimal(str(weight["value"]))
        have = weight.get("unit")
        if unit and have != unit and have in _GRAMS_PER and unit in _GRAMS_PER:
            value = (value * _GRAMS_PER[have] / _GRAMS_PER[unit]).quantize(_CONVERTED_PLACES)
    except (InvalidOperation, ArithmeticError):
        return None
    return canonical_weight(value)


def weight_input(value: Any, unit: str) -> JSON | None:
    """The ``WeightInput`` for a feed weight (decimal text in the shop's unit, e.g. "0.250");
    None when it is not a weight. Shopify's ``value`` is a Float: the canonical decimal
    converts exactly back and forth for any weight a feed carries (15 significant digits)."""
    canonical = canonical_weight(value)
    if canonical is None or Decimal(canonical) < 0:
        return None
    return {"value": float(canonical), "unit": unit}
