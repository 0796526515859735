"""The parsed-rows hand-off between the parse and match steps: canonical CSV.

Money stays in minor units, so the match step never re-parses supplier text. Both
directions run once per feed row, so they are written for speed: the csv module
writes the row tuples as they are (None as an empty cell), and reading unpacks the
fixed layout into a tuple in one expression. A profile with a ``key_transform`` writes one
more column, ``file_key`` (the SKU as the file wrote it); reading hands it to a
``FileKeySlot`` beside the row, so rows keep their layout downstream. A profile in create
mode writes ``file_key`` (empty without a key_transform), ``group`` and one ``option:<name>``
column per option after them; reading hands those to the slot too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Final, TextIO

from feedsync.domain.fields import CANONICAL_FIELDS, Row

HEADER: Final = ("row", *CANONICAL_FIELDS)
KEYED_HEADER: Final = (*HEADER, "file_key")
# The layout ``read_rows`` unpacks; it must be the header's (checked below, at import).
_LAYOUT: Final = (
    "row", "sku", "barcode", "price", "sale_price", "retail_price", "cost_price", "stock",
    "name", "description", "brand", "weight", "image_url",
)  # fmt: skip
if _LAYOUT != HEADER:  # pragma: no cover - a field was added without updating read_rows
    raise RuntimeError(f"rowfile.read_rows unpacks {_LAYOUT}, but rows are {HEADER}")


def write_rows(
    out: TextIO, rows: Iterable[Row], *, file_keys: bool = False, options: list[str] | None = None
) -> None:
    """``file_keys``: the rows carry the file's SKU last (a key transform made their key);
    ``options``: create mode's option names (the rows carry the file key, the group and
    the option values after the fields)."""
    writer = csv.writer(out, lineterminator="\n")
    if options is not None:
        writer.writerow((*KEYED_HEADER, "group", *(f"option:{name}" for name in options)))
    else:
        writer.writerow(KEYED_HEADER if file_keys else HEADER)
    writer.writerows(rows)  # None is written as an empty cell


class FileKeySlot:
    """The file's SKU of the row read last (``row``: its number).

    The match step asks it as each outcome comes out of ``reconcile``, which yields one
    outcome per row before it reads the next: no map of a million rows is kept."""

    __slots__ = ("group", "key", "options", "row")

    def __init__(self) -> None:
        self.row = -1
        self.key = ""
        # Create mode: the row's group value and option values (None when blank).
        self.group: str | None = None
        self.options: tuple[str | None, ...] = ()

    def of(self, row: int) -> str:
        return self.key if row == self.row else ""


def read_rows(lines: Iterable[str], file_keys: FileKeySlot | None = None) -> Iterator[Row]:
    """The rows of a rows file; a keyed file's file keys go to ``file_keys`` as each row
    is handed out."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is not None and len(header) == len(KEYED_HEADER):
        yield from _keyed_rows(reader, file_keys or FileKeySlot())
        return
    if header is not None and len(header) > len(KEYED_HEADER):
        yield from _create_rows(reader, file_keys or FileKeySlot())
        return
    for no, sku, bc, pr, sp, rp, cp, st, nm, ds, br, wt, im in reader:
        yield (
            int(no),
            sku or None,
            bc or None,
            int(pr) if pr else None,
            int(sp) if sp else None,
            int(rp) if rp else None,
            int(cp) if cp else None,
            int(st) if st else None,
            nm or None,
            ds or None,
            br or None,
            wt or None,
            im or None,
        )


def _keyed_rows(reader: Iterator[list[str]], slot: FileKeySlot) -> Iterator[Row]:
    for no, sku, bc, pr, sp, rp, cp, st, nm, ds, br, wt, im, file_key in reader:
        slot.row, slot.key = int(no), file_key
        yield (
            slot.row,
            sku or None,
            bc or None,
            int(pr) if pr else None,
            int(sp) if sp else None,
            int(rp) if rp else None,
            int(cp) if cp else None,
            int(st) if st else None,
            nm or None,
            ds or None,
            br or None,
            wt or None,
            im or None,
        )


def _create_rows(reader: Iterator[list[str]], slot: FileKeySlot) -> Iterator[Row]:
    """A create profile's rows: the keyed rows, with each record's group and option cells
    put in the slot before its row is handed on."""
    width = len(KEYED_HEADER)

    def keyed() -> Iterator[list[str]]:
        for record in reader:
            slot.group = record[width] or None
            slot.options = tuple(cell or None for cell in record[width + 1 :])
            yield record[:width]

    yield from _keyed_rows(keyed(), slot)
