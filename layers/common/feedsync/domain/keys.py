"""A profile's ``key_transform``: the store's SKU made from the file's (issue 17).

A merchant who keeps a supplier's code under a prefix of their own (``ACME-12345`` in the
store, ``12345`` in the file) has the parse step build the store's key once per row, so
match, diff, changes, conflicts and the log work on the store's key unchanged. Two shapes:
a ``prefix`` and/or ``suffix`` around the file's SKU, or a ``template`` made of the file's
columns (``"{Brand}-{Code}"``). Either applies only to a row that has a SKU: a row without
one is keyed as before (no SKU, or its barcode), so barcodes are never reshaped.

The feed's generated row loop inlines the compiled transform (two strings, or literals and
column indexes); :func:`store_key` says the same thing plainly, for the reference reader
and for create mode naming a new item. Pure: no I/O, no pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

# A template's column names cannot hold these: they are how Python's format strings ask
# for a conversion or a format spec ({a!r}, {a:>5}), which a key template never does.
_FORMAT_MARKS: Final = ("!", ":")


@dataclass(frozen=True, slots=True)
class KeyTransform:
    """A compiled ``key_transform``: ``prefix`` + SKU + ``suffix``, or (``columns`` not
    empty) ``literals[0] + value of columns[0] + literals[1] + ... + literals[-1]``."""

    prefix: str = ""
    suffix: str = ""
    literals: tuple[str, ...] = ()  # one more than ``columns``
    columns: tuple[str, ...] = ()  # the file's column names (letters without a header)
    template: str = ""  # as the merchant wrote it, for messages


class EmptyKeyColumn(ValueError):
    """A row with a SKU whose template column is empty: the store's key cannot be made."""

    def __init__(self, column: str, template: str) -> None:
        self.column = column
        super().__init__(f"empty, and key_transform's template {template} needs it for the SKU")


def parse_template(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``"{Brand}-{Code}"`` -> literals ``("", "-", "")`` and columns ``("Brand", "Code")``.

    ``{{`` and ``}}`` are literal braces; a column name is the text between braces,
    stripped (as header cells are). Refused with a ValueError saying what is wrong: an
    unbalanced brace, an empty ``{}``, a conversion or format spec, no column at all.
    """
    literals: list[str] = []
    columns: list[str] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "}":
            raise ValueError(
                f"'}}' at character {i + 1} closes no '{{' (write a literal }} as }}}})"
            )
        elif ch == "{":
            end = text.find("}", i + 1)
            inner = text[i + 1 : end] if end >= 0 else text[i + 1 :]
            if end < 0 or "{" in inner:
                raise ValueError(
                    f"'{{' at character {i + 1} is never closed (write a literal {{ as {{{{)"
                )
            name = inner.strip()
            if not name:
                raise ValueError(f"'{{}}' at character {i + 1} names no column")
            if any(mark in name for mark in _FORMAT_MARKS):
                raise ValueError(
                    f"{{{inner}}}: a template only names columns; conversions and format "
                    "specs ('!', ':') are not supported"
                )
            literals.append("".join(literal))
            literal = []
            columns.append(name)
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    literals.append("".join(literal))
    if not columns:
        raise ValueError("names no column: put the file's columns in braces, e.g. {Brand}-{Code}")
    return tuple(literals), tuple(columns)


def check_ends(text: str, *, start: bool, end: bool) -> None:
    """A key never starts or ends with spaces (SKUs are compared stripped): a prefix or
    template starting with one, or a suffix or template ending with one, would never match."""
    if start and text[:1].isspace():
        raise ValueError("starts with a space, so the key would never match a SKU")
    if end and text[-1:].isspace():
        raise ValueError("ends with a space, so the key would never match a SKU")


def compile_key_transform(spec: Mapping[str, Any] | None) -> KeyTransform | None:
    """The profile's validated ``key_transform`` (the model's dump; None: keys as in the
    file) compiled once per run."""
    if not spec:
        return None
    template = spec.get("template")
    if template:
        literals, columns = parse_template(template)
        return KeyTransform(literals=literals, columns=columns, template=template)
    prefix, suffix = spec.get("prefix") or "", spec.get("suffix") or ""
    return KeyTransform(prefix=prefix, suffix=suffix) if prefix or suffix else None


def store_key(transform: KeyTransform, sku: str, value_of: Callable[[str], str]) -> str:
    """The store's key of a row whose SKU (stripped, not empty) is ``sku``; ``value_of``
    gives a template column's cell. A template column whose cell is blank raises
    EmptyKeyColumn naming it (the row is skipped as a row error)."""
    if not transform.columns:
        return transform.prefix + sku + transform.suffix
    parts = [transform.literals[0]]
    for column, literal in zip(transform.columns, transform.literals[1:], strict=True):
        value = value_of(column).strip()
        if not value:
            raise EmptyKeyColumn(column, transform.template)
        parts.append(value)
        parts.append(literal)
    return "".join(parts)
