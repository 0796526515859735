"""Cell values -> the text the merchant sees (shared by the Excel and JSON readers)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal


def float_text(value: float) -> str:
    """12.0 -> "12", 123456789012.0 -> "123456789012" (never 1.23457E+11), 12.5 -> "12.5"."""
    if math.isnan(value) or math.isinf(value):
        return ""
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text:
        return format(Decimal(text), "f")
    return text


def value_text(value: object) -> str:
    """Any scalar from a spreadsheet or JSON document as plain text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
