"""The parsed-rows hand-off between the parse and match steps: canonical CSV.

Money stays in minor units, so the match step never re-parses supplier text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from feedsync.domain.fields import CANONICAL_FIELDS, MONEY_FIELDS, Row

HEADER = ("row", *CANONICAL_FIELDS)
_NUMERIC = frozenset(i + 1 for i, f in enumerate(CANONICAL_FIELDS) if f in MONEY_FIELDS) | {
    1 + CANONICAL_FIELDS.index("stock")
}


def write_rows(out: TextIO, rows: Iterable[Row]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


def read_rows(lines: Iterable[str]) -> Iterator[Row]:
    reader = csv.reader(lines)
    next(reader, None)
    numeric = _NUMERIC
    for rec in reader:
        yield tuple(  # type: ignore[misc]
            int(v) if (i == 0 or i in numeric) and v != "" else (v if v != "" else None)
            for i, v in enumerate(rec)
        )
