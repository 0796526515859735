"""A run's changes as the API reads them: filtered pages, a cursor, the CSV answers.

The changes file can hold millions of lines and is rewritten while a run is applied
(statuses move on, lines never move), so a page is read with one ranged GET from where
the last page stopped, and never holds the file in memory. The cursor names that byte
offset, the line number and the file's ETag: when the file was rewritten since, the offset
may point anywhere in the new one, so reading goes on by line number instead.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
from collections.abc import Callable, Container, Iterator, Sequence
from typing import IO, Any, Final, NamedTuple, TypeVar

from feedsync.core import keys
from feedsync.core.blobcsv import csv_to_blob
from feedsync.core.deps import Deps
from feedsync.domain.changes import (
    CHANGE_FIELDS,
    CHANGES_HEADER,
    STATUSES,
    ChangeLine,
    csv_record,
    csv_records,
    decode,
    present,
    record_filter,
)
from feedsync.errors import Gone, InvalidRequest, NotFound
from feedsync.models import Run

T = TypeVar("T")
LIMIT_DEFAULT: Final = 100
LIMIT_MAX: Final = 1000
# A page also stops once its answer passes this (long descriptions): a Lambda answer is at
# most 6 MB, so a page of a thousand long texts goes on in the next page instead.
PAGE_BYTES: Final = 4 * 1024 * 1024
# A page also stops after reading this many changes, matching or not (about 7 s): a rare
# filter over a huge run answers in parts, each within API Gateway's 29 s, never times out.
SCAN_LINES: Final = 2_000_000
EXPORT_URL_TTL_S: Final = 900
BAD_CURSOR: Final = (
    "not a cursor of this run's changes: pass the `next` of the previous page unchanged, "
    "or leave it out to start from the first change"
)
# A changes file from before ``file_key`` has one column fewer.
_COLUMNS: Final = (len(CHANGES_HEADER) - 1, len(CHANGES_HEADER))


class Cursor(NamedTuple):
    """Where the next page starts: ``offset`` (bytes) and ``line`` (changes before it) in
    the version ``etag`` of the changes file."""

    offset: int
    line: int
    etag: str

    def encode(self) -> str:
        raw = json.dumps({"o": self.offset, "n": self.line, "e": self.etag}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """A cursor the API gave, or InvalidRequest("cursor") for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            got = json.loads(raw)
        except (binascii.Error, ValueError):  # JSONDecodeError, UnicodeDecodeError
            raise InvalidRequest("cursor", BAD_CURSOR) from None
        if not isinstance(got, dict) or set(got) != {"o", "n", "e"}:
            raise InvalidRequest("cursor", BAD_CURSOR)
        offset, line, etag = got["o"], got["n"], got["e"]
        numbers_ok = all(type(v) is int and v >= 0 for v in (offset, line))
        if not numbers_ok or not isinstance(etag, str) or (offset == 0) != (line == 0):
            raise InvalidRequest("cursor", BAD_CURSOR)
        return cls(offset, line, etag)


class ChangeFilter(NamedTuple):
    status: str | None = None
    field: str | None = None
    q: str | None = None

    def checked(self) -> ChangeFilter:
        """The filter, or InvalidRequest naming the value refused (the API's 422)."""
        if self.status is not None and self.status not in STATUSES:
            raise InvalidRequest("status", f"expected one of {', '.join(STATUSES)}")
        if self.field is not None and self.field not in CHANGE_FIELDS:
            raise InvalidRequest("field", f"expected one of {', '.join(CHANGE_FIELDS)}")
        return self

    def keep(self) -> Callable[[Sequence[str]], bool]:
        return record_filter(self.status, self.field, self.q)

    def digest(self, etag: str) -> str:
        """Names the export of this list from this version of the file."""
        text = json.dumps([self.status, self.field, self.q, etag])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class Unreadable(Exception):
    """A record that is not a change line (only a forged cursor lands in one)."""


class RecordScan:
    """A run file's CSV records from a cursor on, tracking the byte offset after each (the
    changes file's, or another's with its ``columns``)."""

    def __init__(
        self, deps: Deps, key: str, at: Cursor | None, columns: Container[int] = _COLUMNS
    ) -> None:
        self.columns = columns  # the record lengths a line of this file may have
        self.offset, self.line = 0, 0
        self.raw, self.etag = self._open(deps, key, at)
        self._records = csv.reader(self._physical_lines())
        if self.offset == 0:
            next(self._records, None)  # the header
            for _ in range(at.line if at else 0):  # rewritten since: on by line number
                if next(self._records, None) is None:
                    break
                self.line += 1

    def _open(self, deps: Deps, key: str, at: Cursor | None) -> tuple[IO[bytes], str]:
        if at is not None and at.offset > 0:
            # From the byte before: a line ends there, or the cursor is not one we gave.
            raw, etag = deps.blobs.open_read_range(key, at.offset - 1)
            etag = etag.strip('"')
            if etag == at.etag:
                if raw.read(1) != b"\n":
                    raw.close()
                    raise InvalidRequest("cursor", BAD_CURSOR)
                self.offset, self.line = at.offset, at.line
                return raw, etag
            raw.close()
        raw, etag = deps.blobs.open_read_range(key, 0)
        return raw, etag.strip('"')

    def _physical_lines(self) -> Iterator[str]:
        # csv.reader pulls a line only when a record needs it: after each record, offset is
        # where the next one starts (a quoted value may span lines).
        first = self.offset == 0
        for chunk in self.raw:
            self.offset += len(chunk)
            text = chunk.decode("utf-8")
            if first:
                text, first = text.removeprefix("\ufeff"), False
            yield text

    def __iter__(self) -> Iterator[list[str]]:
        try:
            for record in self._records:
                if len(record) not in self.columns:
                    raise Unreadable
                self.line += 1
                yield record
        except (csv.Error, UnicodeDecodeError) as exc:
            raise Unreadable from exc

    def cursor(self) -> Cursor:
        return Cursor(self.offset, self.line, self.etag)

    def close(self) -> None:
        self.raw.close()


def _scan(deps: Deps, run: Run, at: Cursor | None) -> RecordScan | None:
    """The run's changes from ``at``; None when the run has none (from before changes
    files, or failed before matching); Gone when the file has expired."""
    if not run.changes_key:
        return None
    try:
        return RecordScan(deps, run.changes_key, at)
    except NotFound:
        # Run files expire (S3 lifecycle on runs/, see template.yaml): say so, not "not found".
        raise Gone(
            f"run {run.run_id}'s changes are no longer kept (run files expire after 90 days)"
        ) from None


def _lines(
    deps: Deps, run: Run, flt: ChangeFilter, limit: int, cursor: str | None
) -> tuple[list[ChangeLine], str | None]:
    """Up to ``limit`` changes under the filter from ``cursor`` on, and the next cursor
    (None at the end of the file)."""
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidRequest("limit", f"expected 1 to {LIMIT_MAX}, got {limit}")
    keep = flt.checked().keep()
    at = Cursor.decode(cursor) if cursor is not None else None
    scan = _scan(deps, run, at)
    if scan is None:
        return [], None
    return take_page(scan, keep, limit, at, decode)


def take_page(
    scan: RecordScan,
    keep: Callable[[Sequence[str]], bool],
    limit: int,
    at: Cursor | None,
    convert: Callable[[list[str]], T],
) -> tuple[list[T], str | None]:
    """Up to ``limit`` kept records of ``scan`` (as ``convert`` makes them) and the next
    cursor, or None at the end of the file; a page also stops at ``PAGE_BYTES`` or after
    ``SCAN_LINES`` records read. Closes the scan."""
    found: list[T] = []
    size = 0
    try:
        before, budget = scan.cursor(), scan.line + SCAN_LINES
        for record in scan:
            if scan.line > budget:
                return found, before.encode()
            if keep(record):
                if len(found) == limit or size > PAGE_BYTES:
                    return found, before.encode()
                found.append(convert(record))
                size += len(json.dumps(record))  # about its share of the answer
            before = scan.cursor()
    except (Unreadable, ValueError) as exc:  # ValueError: a converter's int() or json.loads
        if at is None or at.offset == 0:
            raise  # the file itself: the writer's fault, not the caller's
        raise InvalidRequest("cursor", BAD_CURSOR) from exc
    finally:
        scan.close()
    return found, None


def page_changes(
    deps: Deps,
    run: Run,
    *,
    status: str | None = None,
    field: str | None = None,
    q: str | None = None,
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the run's changes as ``GET /runs/{id}/changes`` answers them."""
    lines, following = _lines(deps, run, ChangeFilter(status, field, q), limit, cursor)
    return [present(line) for line in lines], following


def _csv_text(rows: Sequence[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CHANGES_HEADER)
    writer.writerows(rows)
    return out.getvalue()


def page_changes_csv(
    deps: Deps,
    run: Run,
    *,
    status: str | None = None,
    field: str | None = None,
    q: str | None = None,
    limit: int = LIMIT_DEFAULT,
    cursor: str | None = None,
) -> tuple[bytes, str | None]:
    """A page of the changes as CSV (header first), and the next cursor."""
    lines, following = _lines(deps, run, ChangeFilter(status, field, q), limit, cursor)
    return _csv_text([csv_record(line) for line in lines]).encode(), following


def changes_csv(
    deps: Deps,
    run: Run,
    *,
    inline_bytes: int,
    status: str | None = None,
    field: str | None = None,
    q: str | None = None,
) -> bytes | str:
    """Every change under the filter as CSV: the bytes when within ``inline_bytes``, else
    a download URL of the same CSV spooled to S3 (built once per filter and file version)."""
    flt = ChangeFilter(status, field, q).checked()
    scan = _scan(deps, run, None)
    if scan is None:
        return _csv_text([]).encode()
    keep = flt.keep()
    export = keys.changes_export_key(run.tenant_id, run.run_id, flt.digest(scan.etag))
    try:
        if deps.blobs.head(export) is not None:
            return deps.blobs.presign_get(export, EXPORT_URL_TTL_S)
        rows = csv_records(scan, keep)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CHANGES_HEADER)
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > inline_bytes:  # characters: never more than the bytes
                break
        else:
            data = buffer.getvalue().encode()
            if len(data) <= inline_bytes:
                return data
        # Too big to answer: what is buffered, then the rest, straight to the export file.
        with csv_to_blob(deps, export) as out:
            out.write(buffer.getvalue())
            del buffer
            csv.writer(out).writerows(rows)
    finally:
        scan.close()
    return deps.blobs.presign_get(export, EXPORT_URL_TTL_S)
