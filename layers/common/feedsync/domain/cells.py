"""Reading one supplier cell or column reference, shared by the feed reader and the models.

Column references (``column_letter``/``column_index``: a header-less file's columns are
letters or numbers), the weight and image URL parsers (the models check constants with
them), and the file-level errors every reader raises the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from feedsync.domain.fields import CANONICAL_FIELDS
from feedsync.errors import FeedFormatError, name_list

_WEIGHT: Final = re.compile(r"\d+(?:[.,]\d+)?|[.,]\d+")


def parse_weight(text: str) -> str:
    """A weight as the store takes it: a plain non-negative decimal ("0.25", or "0,25"
    written with a decimal comma), kept as written but for a dot as the separator.

    Exponents, digit separators, units and signs are refused: platforms read such text
    differently (WooCommerce keeps "1e3" as text and sorts it as 1)."""
    value = text.strip()
    if not _WEIGHT.fullmatch(value) or not value.isascii():
        if value.startswith("-"):
            raise ValueError("weight must be a number >= 0")
        raise ValueError("expected a weight such as 0.25 (a plain number, no unit)")
    return value.replace(",", ".")


def parse_image_url(text: str) -> str:
    """An image URL the store can download: absolute http(s), with a host, no spaces."""
    value = text.strip()
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # e.g. a broken IPv6 address
        scheme, host = "", None
    if scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise ValueError("expected an image URL starting with http:// or https://")
    return value


def clean_header(name: str) -> str:
    # A BOM can survive when the file was concatenated or saved twice by Excel.
    return name.strip().replace("\ufeff", "").strip()


def is_blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters: 0 -> "A", 26 -> "AA"."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(ref: str) -> int | None:
    """A header-less column reference -> 0-based index: "C" / "c" / "3" -> 2; else None.

    Letters go up to "ZZ" (702 columns) so a three-letter column *name* such as "SKU"
    is reported as a name, not read as column 13,209.
    """
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        return int(ref) - 1 if int(ref) >= 1 else None
    if ref.isascii() and ref.isalpha() and len(ref) <= 2:
        n = 0
        for ch in ref.upper():
            n = n * 26 + ord(ch) - 64
        return n - 1
    return None


def unreadable(file_name: str, where: str, exc: Exception) -> FeedFormatError:
    """The file-level error for text that cannot be read: ``where`` is "row 12" or "the
    header row"; a decoding error names the encoding the file was read with."""
    if isinstance(exc, UnicodeError):
        encoding = getattr(exc, "encoding", None) or "the format's encoding"
        reason = getattr(exc, "reason", None) or str(exc)
        return FeedFormatError(
            f"{file_name}: {where} cannot be read as {encoding} ({reason}): the file is not "
            "in that encoding; set the format's 'encoding' to the one it is written in"
        )
    return FeedFormatError(f"{file_name}: {where} cannot be read ({exc})")


def check_mapping_fields(mapping: Mapping[str, str], file_name: str) -> None:
    """Refuse a mapping that names a field feedsync does not know."""
    unknown = [f for f in mapping if f not in CANONICAL_FIELDS]
    if unknown:
        raise FeedFormatError(
            f"{file_name}: unknown field(s) {name_list(unknown)} in the "
            f"column mapping; known fields are: {', '.join(CANONICAL_FIELDS)}"
        )
