"""The parsed-rows hand-off between the parse and match steps: canonical CSV.

Money stays in minor units, so the match step never re-parses supplier text. Both
directions run once per feed row, so they are written for speed: the csv module
writes the row tuples as they are (None as an empty cell), and reading unpacks the
fixed layout into a tuple in one expression.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Final, TextIO

from feedsync.domain.fields import CANONICAL_FIELDS, Row

HEADER: Final = ("row", *CANONICAL_FIELDS)
# The layout ``read_rows`` unpacks; it must be the header's (checked below, at import).
_LAYOUT: Final = (
    "row", "sku", "barcode", "price", "sale_price", "retail_price", "cost_price", "stock",
    "name", "description", "brand", "weight", "image_url",
)  # fmt: skip
if _LAYOUT != HEADER:  # pragma: no cover - a field was added without updating read_rows
    raise RuntimeError(f"rowfile.read_rows unpacks {_LAYOUT}, but rows are {HEADER}")


def write_rows(out: TextIO, rows: Iterable[Row]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)  # None is written as an empty cell


def read_rows(lines: Iterable[str]) -> Iterator[Row]:
    reader = csv.reader(lines)
    next(reader, None)
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
