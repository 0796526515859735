"""Writing a run's changes file (``domain/changes.py``): match writes it, the select step
and finalize move its lines on, each in one streaming pass (the file can hold millions).

Reading it for the API is ``core/changes.py``.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from feedsync.core.blobcsv import csv_records, csv_to_blob
from feedsync.core.deps import Deps
from feedsync.core.run_results import RunOutcome
from feedsync.domain.changes import (
    CHANGES_HEADER,
    FAILED,
    PENDING,
    REVERTED,
    SENDING,
    SKIPPED,
    STALE,
    UPDATED,
    ChangeCounts,
    ChangeLine,
    decode,
    encode,
    json_cell,
    row_log_line,
    row_status,
    rows_of,
)
from feedsync.domain.create import CREATE_FIELD
from feedsync.domain.runlog import GONE_MESSAGE, LOG_HEADER
from feedsync.domain.validation import REFUSED

# The match log's statuses of rows the changes file decides.
_PLANNED = ("changed", "missing", REFUSED)


class ChangesOut:
    """A changes file being written, with its tallies."""

    def __init__(self, writer: Any) -> None:
        self._write = writer.writerow
        self.counts = ChangeCounts()

    def add(self, line: ChangeLine) -> None:
        self._write(encode(line))
        self.counts.add(line)

    def add_row(
        self,
        row: int,
        key: str,
        pid: int,
        vid: int,
        changes: Iterable[Any],
        status: str,
        file_key: str = "",
    ) -> None:
        """One matched row's changes ``(field, old, new)``: the match step's hot path, so no
        record per line (the same cells as ``encode``)."""
        write, cell, fields = self._write, json_cell, self.counts.field
        head = (str(row), key, str(pid), str(vid))
        n = 0
        for name, old, new in changes:
            write((*head, name, cell(old), cell(new), status, "", file_key))
            fields[name] = fields.get(name, 0) + 1
            n += 1
        self.counts.status[status] = self.counts.status.get(status, 0) + n


@contextmanager
def changes_writer(deps: Deps, key: str) -> Iterator[ChangesOut]:
    """Write a changes file (uploaded when the block ends without an error)."""
    with csv_to_blob(deps, key) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CHANGES_HEADER)
        yield ChangesOut(writer)


def read_changes(deps: Deps, key: str) -> Iterator[ChangeLine]:
    """The lines of a stored changes file, in plan order."""
    for record in csv_records(deps, key):
        yield decode(record)


def rewrite_changes(
    deps: Deps, key: str, move: Callable[[ChangeLine], ChangeLine | None]
) -> ChangeCounts:
    """Pass every line through ``move`` (None drops it) and store the result over the file."""
    with changes_writer(deps, key) as out:
        for line in read_changes(deps, key):
            moved = move(line)
            if moved is not None:
                out.add(moved)
    return out.counts


class Settled:
    """What settling an execution's answers into the changes file found."""

    def __init__(self) -> None:
        self.counts = ChangeCounts()
        self.rows: dict[str, int] = {}  # rows per log status, over the whole run
        # with ``updated_lines``: every line updated so far (this execution's or an earlier
        # attempt's), as (row, field) and (variant id, field)
        self.updated_rows: set[tuple[int, str]] = set()
        self.updated_variants: set[tuple[int, str]] = set()
        self.created = 0  # variants created (create mode), over the whole run


def settle_changes(
    deps: Deps, key: str, outcome: RunOutcome, unsent: str, *, updated_lines: bool = False
) -> Settled:
    """Lines this execution sent (``sending``) take the store's answer: updated, failed,
    skipped (the item is gone), or pending again when they never reached the store
    (``unsent``: why; they can be applied later). ``updated_lines``: collect the updated
    lines (a revert or reapply acts on them; a big run does not need them in memory)."""
    settled = Settled()
    results, read_back, partly = outcome.results, outcome.unsent, outcome.partly
    moved_on, lost_to = outcome.stale, outcome.conflicted
    created = outcome.created

    def answer(line: ChangeLine) -> ChangeLine:
        made = created.get(line.row) if line.field == CREATE_FIELD else None
        if made is not None:  # the new ids, so a revert finds what to delete
            pid, vid, note = made
            return line._replace(status=UPDATED, product_id=pid, variant_id=vid, error=note)
        result = results.get(line.row)
        if result is None:
            return line._replace(status=PENDING, error=read_back.get(line.row, unsent))
        if result.gone:
            return line._replace(status=SKIPPED, error=GONE_MESSAGE)
        if result.ok or line.field in partly.get(line.row, ()):
            return line._replace(status=UPDATED, error="")
        if line.field in moved_on.get(line.row, ()):
            # the store refused to overwrite this value: it changed since it was read (a
            # field another operation of the row failed to write stays failed)
            return line._replace(status=STALE, error=result.errors)
        if line.field in lost_to.get(line.row, ()):
            # another row of the product decided it: not to be retried (a field another
            # operation of the row failed to write stays failed)
            return line._replace(status=SKIPPED, error=result.errors)
        return line._replace(status=FAILED, error=result.errors)

    with changes_writer(deps, key) as out:
        for group in rows_of(read_changes(deps, key)):
            if any(line.status == SENDING for line in group):
                group = [answer(line) if line.status == SENDING else line for line in group]
            for line in group:
                out.add(line)
                if line.field == CREATE_FIELD and line.status == UPDATED and line.new_value:
                    settled.created += 1  # (a revert's lines have nothing new: deleted)
                if updated_lines and line.status == UPDATED:
                    settled.updated_rows.add((line.row, line.field))
                    settled.updated_variants.add((line.variant_id, line.field))
            status, _ = row_status(group)
            settled.rows[status] = settled.rows.get(status, 0) + 1
    settled.counts = out.counts
    return settled


def mark_reverted(deps: Deps, key: str, reverted: set[tuple[int, str]]) -> ChangeCounts:
    """A revert put these (row, field) back: the reverted run's changes say so."""

    def move(line: ChangeLine) -> ChangeLine:
        if line.status == UPDATED and (line.row, line.field) in reverted:
            return line._replace(status=REVERTED)
        return line

    return rewrite_changes(deps, key, move)


def write_changes_log(
    deps: Deps,
    changes_key: str,
    log_key: str,
    match_log: Iterable[list[str]] | None,
    row_errors: Iterable[list[str]] | None,
) -> None:
    """The run's log where the changes file decides each planned row: the match log's other
    rows (unchanged, not found, ...) and the row errors as they are, merged in file order;
    a run without a file of its own (retry, revert) logs its changes only."""
    planned = (list(row_log_line(group)) for group in rows_of(read_changes(deps, changes_key)))
    streams: list[Iterator[Any]] = [planned]
    if match_log is not None:
        streams.append(rec for rec in match_log if rec[4] not in _PLANNED)
    if row_errors is not None:
        streams.append(iter(row_errors))
    with csv_to_blob(deps, log_key) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        writer.writerows(heapq.merge(*streams, key=_row_number))


def _row_number(record: Any) -> int:
    return int(record[0])
