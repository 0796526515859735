"""A run's results: what each update shard reports, and what finalize makes of them.

The update step writes one result line per feed row an item decides (conflicting rows
included) to its shard's result file; finalize reads every file back beside the plan
to merge each row's outcome over its operations, learn what reached the store (to
patch the index) and what the store no longer has, and write the merchant's log.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from feedsync.core import keys
from feedsync.core.blobcsv import csv_records, csv_to_blob
from feedsync.core.deps import Deps
from feedsync.core.in_flight import NOT_CREATED_MESSAGE, read_back_created, read_marker
from feedsync.core.in_flight import read_back as read_back_items
from feedsync.domain.capabilities import DELETE_OP
from feedsync.domain.missing import MISSING
from feedsync.domain.plan import Batch, shard_from_json
from feedsync.domain.reconcile import NOT_FOUND
from feedsync.domain.refusals import Refusal, RefusalKey, payload_of, refusal_key
from feedsync.domain.runlog import (
    FAILED,
    LOG_HEADER,
    NOT_APPLIED,
    NOT_APPLIED_MESSAGE,
    UPDATED,
    applied_status,
)
from feedsync.domain.validation import REFUSED
from feedsync.domain.writes import ItemResult, PlanItem
from feedsync.models import RunRef

# ``gone``: "product" / "variant" when the store no longer has what the item wrote;
# ``kind`` of a failure: "stale" when the store refused to overwrite a value changed since it
# was read, "conflict" for a row that wanted another value for its product than the row
# that wrote it (never to be retried) (a
# result file written before those columns existed has five or six). ``product_id``: a
# created variant's product (create mode; its ``variant_id`` is the created variant's).
RESULT_HEADER = ("row", "variant_id", "op", "ok", "error", "gone", "kind", "product_id")
# A row create mode made a new item of (the log's status).
CREATED = "created"
# The kind of a refusal in the platform's words for several items together.
SHARED = "shared"


def result_lines(batches: Iterable[Batch]) -> int:
    """Result lines a shard writes: one per feed row of every item (conflicts included)."""
    return sum(
        len(item.result_rows) + len(item.conflicts) for batch in batches for item in batch["items"]
    )


class ShardResults:
    """One shard's result file as it grows, with its counts."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\n")
        self._writer.writerow(RESULT_HEADER)
        self.lines = self.updated = self.failed = self.gone = 0

    def add(self, op: str, item: PlanItem, result: ItemResult, kind: str = "") -> None:
        """A line per feed row the item decides, then one per row it conflicted with
        (``kind``: ``KNOWN_BAD`` for an item skipped as known bad, never sent)."""
        if item.new is not None:
            self._add_created(op, item, result, kind)
            return
        ok, error, scope = result.ok, result.message, result.gone
        if scope is not None and item.product_level:
            scope = "product"  # the item stands for its product
        if result.stale:
            kind = "stale"
        elif result.shared:
            kind = SHARED
        write = self._writer.writerow
        for row in item.result_rows:
            write((row, item.variant_id, op, int(ok), error, scope or "", kind))
            self.lines += 1
            self.updated += ok
            self.gone += scope is not None
            self.failed += not ok and scope is None
        for row in item.conflicts:
            why = f"row {item.row} sets a different value for product {item.product_id}"
            write((row, item.variant_id, op, 0, why, "", "conflict"))
            self.lines += 1
            self.failed += 1

    def _add_created(self, op: str, item: PlanItem, result: ItemResult, kind: str) -> None:
        """A create item: a line per variant, ok with its new ids when it was created."""
        assert item.new is not None
        made = result.created
        key_of = {v["row"]: v["key"] for v in item.new["variants"]}
        scope = result.gone
        for row in item.result_rows:
            vid = made.variants.get(key_of.get(row, "")) if made is not None else None
            ok = vid is not None
            error = result.message or ("" if ok else "not created")
            pid = made.product_id if made is not None and ok else ""
            self._writer.writerow((row, vid or 0, op, int(ok), error, scope or "", kind, pid))
            self.lines += 1
            self.updated += ok
            self.gone += scope is not None
            self.failed += not ok and scope is None

    def data(self) -> bytes:
        return self._buf.getvalue().encode()

    def records(self) -> list[list[str]]:
        """The result lines as a reader of the file gets them (header left out)."""
        return list(csv.reader(io.StringIO(self._buf.getvalue())))[1:]


class RowResult(NamedTuple):
    """A feed row's outcome over every operation that carried it."""

    ok: bool
    errors: str  # the platform's words, " | " between operations
    gone: bool = False  # an operation found its variant or product gone from the store
    stale: bool = False  # an operation's value had changed in the store: not overwritten


@dataclass
class RunOutcome:
    """Every shard's results read back beside the plan."""

    manifest: list[dict[str, Any]]
    results: dict[int, RowResult] = field(default_factory=dict)  # row -> merged outcome
    applied: dict[int, dict[str, Any]] = field(default_factory=dict)  # variant id -> changes
    applied_products: dict[int, dict[str, Any]] = field(default_factory=dict)  # product id
    unfinished: list[int] = field(default_factory=list)  # shards without every result line
    gone_variants: set[int] = field(default_factory=set)  # no longer in the store
    gone_products: set[int] = field(default_factory=set)  # ... with all their variants
    # rows an in-flight batch carried that the store did not apply -> why (read back)
    unsent: dict[int, str] = field(default_factory=dict)
    # failed rows that one of their operations did reach the store with -> those fields
    partly: dict[int, set[str]] = field(default_factory=dict)
    # rows an operation found changed in the store since read -> the fields it carried
    # (the row's other operations may have failed otherwise: those stay failed)
    stale: dict[int, set[str]] = field(default_factory=dict)
    # rows that lost their product to another row -> the fields of that operation
    conflicted: dict[int, set[str]] = field(default_factory=dict)
    # items the platform refused (its words; not gone, stale, a conflict or in doubt);
    # their time is set when they are remembered
    refused: dict[RefusalKey, Refusal] = field(default_factory=dict)
    # create mode: row -> the created variant (product id, variant id, what was left out)
    created: dict[int, tuple[int, int, str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows updated (created apart), failed and gone (a gone row is not a failure:
        nothing to fix)."""
        values = self.results.values()
        updated = sum(1 for result in values if result.ok)
        gone = sum(1 for result in values if result.gone)
        stale = sum(1 for result in values if result.stale and not result.ok and not result.gone)
        failed = len(self.results) - updated - gone - stale
        created = len(self.created)
        counts = {"updated": updated - created, "failed": failed, "gone": gone, "stale": stale}
        if created:  # (a run that creates nothing holds no such count)
            counts["created"] = created
        return counts


def gather(
    deps: Deps, ref: RunRef, since: datetime | None = None, *, read_back: bool = True
) -> RunOutcome:
    """Every shard's results beside the plan; items of a batch a shard was sending when it
    stopped are read back from the store (``since``: when the run began; ``read_back``
    False leaves them unsent, for a caller that only wants to know which shards stopped)."""
    manifest = json.loads(
        deps.blobs.get_bytes(keys.manifest_key(ref.tenant_id, ref.run_id, ref.round))
    )
    out = RunOutcome(manifest)
    reached: set[tuple[int, str]] = set()  # (row, op) that the store accepted
    reported: set[tuple[int, str]] = set()  # (row, op) with a result line
    missing: dict[tuple[int, str], str] = {}  # (row, op) -> what the store no longer has
    moved_on: set[tuple[int, str]] = set()  # (row, op) the store refused as changed since
    lost_to: set[tuple[int, str]] = set()  # (row, op) another row of the product decided
    # (row, op) the platform refused -> its words, and whether they are several items'
    refusals: dict[tuple[int, str], tuple[str, bool]] = {}
    planned: dict[tuple[int, str], None] = {}  # every (row, op) the plan holds
    shards = []
    doubtful: list[tuple[str, PlanItem]] = []  # (op, item) of batches in flight

    def take(
        row_text: str,
        op_name: str,
        ok_text: str,
        error: str,
        more: list[str],
        sent: bool = True,
        variant: str = "0",
    ) -> None:
        """One result line (``sent`` False: a verdict read back, no platform answer)."""
        row, ok, scope = int(row_text), ok_text == "1", more[0] if more else ""
        kind = more[1] if len(more) > 1 else ""
        if ok and len(more) > 2 and more[2]:  # a created variant
            out.created[row] = (int(more[2]), int(variant), error)
            error = ""
        if sent and not ok and not scope and kind in ("", SHARED):
            refusals[(row, op_name)] = (error, kind == SHARED)
        reported.add((row, op_name))
        if ok:
            reached.add((row, op_name))
        if kind == "stale":
            moved_on.add((row, op_name))
        elif kind == "conflict":
            lost_to.add((row, op_name))
        if scope:
            missing[(row, op_name)] = scope
        was = out.results.get(row, RowResult(True, ""))
        errors = was.errors
        if not ok:
            errors = f"{errors} | {error}" if errors else error
        out.results[row] = RowResult(
            was.ok and ok,
            errors,
            was.gone or bool(scope),
            was.stale or kind == "stale",
        )

    for shard in manifest:
        key = keys.result_key(ref.tenant_id, ref.run_id, shard["index"], ref.round)
        rows = list(csv_records(deps, key)) if deps.blobs.head(key) is not None else []
        batches = shard_from_json(deps.blobs.get_bytes(shard["key"]))
        shards.append(batches)
        if len(rows) < shard["items"]:
            out.unfinished.append(shard["index"])
            marker = read_marker(deps, ref, shard["index"]) if read_back else None
            for number in marker.doubtful(len(rows)) if marker else ():
                if number < len(batches):
                    op = batches[number]["op"]
                    doubtful.extend((op, item) for item in batches[number]["items"])
        for row_text, variant, op_name, ok_text, error, *more in rows:
            take(row_text, op_name, ok_text, error, more, variant=variant)
    # Items of a doubtful batch that a result line already decides are not in doubt (a
    # call carrying several batches records some of their items before others).
    doubtful = [(op, item) for op, item in doubtful if (item.result_rows[0], op) not in reported]
    created_doubt = [(op, item) for op, item in doubtful if item.new is not None]
    if created_doubt:  # what the store made of them is looked up by their SKUs
        doubtful = [(op, item) for op, item in doubtful if item.new is None]
        answers = read_back_created(deps, ref, [item for _op, item in created_doubt])
        made = ShardResults()
        for (op_name, item), answer in zip(created_doubt, answers, strict=True):
            if answer is None:
                out.unsent.update(dict.fromkeys(item.result_rows, NOT_CREATED_MESSAGE))
            else:
                made.add(op_name, item, answer)
        for row_text, variant, op_name, ok_text, error, *more in made.records():
            take(row_text, op_name, ok_text, error, more, sent=False, variant=variant)
    if doubtful:
        verdicts = read_back_items(deps, ref, since, doubtful)
        found = ShardResults()
        for (op_name, item), (status, message) in zip(doubtful, verdicts, strict=True):
            if status == NOT_APPLIED:
                out.unsent.update(dict.fromkeys((*item.result_rows, *item.conflicts), message))
            else:
                found.add(op_name, item, ItemResult(status == UPDATED, message))
        for row_text, variant, op_name, ok_text, error, *more in found.records():
            take(row_text, op_name, ok_text, error, more, sent=False, variant=variant)
    for batches in shards:
        for batch in batches:
            op_name = batch["op"]
            for item in batch["items"]:
                for row in (*item.result_rows, *item.conflicts):
                    planned[(row, op_name)] = None
                    if (row, op_name) in moved_on:
                        out.stale.setdefault(row, set()).update(item.changes)
                    if (row, op_name) in lost_to:
                        out.conflicted.setdefault(row, set()).update(item.changes)
                if item.new is not None:  # a create item: its ids are in ``created``
                    continue
                if op_name == DELETE_OP:  # a revert deleted what a run created
                    if (item.row, op_name) in reached:
                        if item.product_level:
                            out.gone_products.add(item.product_id)
                        else:
                            out.gone_variants.add(item.variant_id)
                    continue
                refusal = refusals.get((item.row, op_name)) if refusals else None
                if refusal is not None:
                    why, shared = refusal
                    out.refused[refusal_key(op_name, item)] = Refusal(
                        payload_of(item.changes), why, ref.run_id, "", item.key,
                        item.product_level, shared,
                    )  # fmt: skip
                lost = missing.get((item.row, op_name))
                if lost == "product":
                    out.gone_products.add(item.product_id)
                elif lost:
                    out.gone_variants.add(item.variant_id)
                if (item.row, op_name) not in reached:
                    continue
                if item.product_level:
                    out.applied_products.setdefault(item.product_id, {}).update(item.changes)
                else:
                    out.applied.setdefault(item.variant_id, {}).update(item.changes)
    # A row split over several operations is updated only if every one of them reached
    # the store; one that never ran (its shard died) makes the row partly applied.
    for row, op_name in planned:
        if (row, op_name) in reported or row not in out.results:
            continue
        was = out.results[row]
        unsent = f"partly applied: {op_name} was not sent (the run stopped)"
        errors = f"{was.errors} | {unsent}" if was.errors else unsent
        out.results[row] = RowResult(False, errors, was.gone, was.stale)
    _partly_applied(out, shards, reached)
    return out


def _partly_applied(
    out: RunOutcome, shards: list[list[Batch]], reached: set[tuple[int, str]]
) -> None:
    """The fields a failed row did get into the store, by an operation that reached it."""
    failed = {row for row, result in out.results.items() if not result.ok}
    if not failed:
        return
    for batches in shards:
        for batch in batches:
            for item in batch["items"]:
                rows = [row for row in item.result_rows if row in failed]
                if rows and (item.row, batch["op"]) in reached:
                    for row in rows:
                        out.partly.setdefault(row, set()).update(item.changes)


def write_log(
    deps: Deps, ref: RunRef, outcome: RunOutcome, log_key: str, unsent: str = NOT_APPLIED_MESSAGE
) -> dict[str, int]:
    """Row errors and match outcomes, merged in file order; planned rows get their result
    (``unsent``: why a row nothing was sent for did not reach the store).

    A row with a value the platform refuses (``refused``, never sent) is ``failed`` with the
    reason, whatever became of the rest of it (unless gone or stale); the answer is what
    that moves in ``outcome.counts()`` (which knows the store's answers only)."""
    results, read_back_unsent = outcome.results, outcome.unsent
    moved = {"updated": 0, "failed": 0}

    def refused(rec: list[str]) -> None:
        result = results.get(int(rec[0]))
        if result is None:  # nothing of it was sent
            rec[4] = FAILED
            moved["failed"] += 1
            return
        status, rec[6] = applied_status(result, rec[6])
        rec[4] = FAILED if status == UPDATED else status
        if status == UPDATED:
            moved["updated"] -= 1
            moved["failed"] += 1

    def with_results() -> Iterator[list[str]]:
        for rec in csv_records(deps, keys.match_log_key(ref.tenant_id, ref.run_id)):
            planned = rec[4]
            if planned == REFUSED:
                refused(rec)
            elif planned in ("changed", MISSING):
                # the store's answer, then what the match noted (a product conflict)
                row = int(rec[0])
                why = read_back_unsent.get(row, unsent)
                rec[4], rec[6] = applied_status(results.get(row), rec[6], why)
                if planned == MISSING and rec[4] == UPDATED:
                    rec[4] = MISSING  # the note says what was done
            elif planned == NOT_FOUND and int(rec[0]) in results:  # create mode
                row = int(rec[0])
                rec[4], rec[6] = applied_status(results.get(row), rec[6])
                made = outcome.created.get(row)
                if made is not None:
                    rec[2], rec[3], rec[4], rec[6] = str(made[0]), str(made[1]), CREATED, made[2]
            yield rec

    errors = csv_records(deps, keys.row_errors_key(ref.tenant_id, ref.run_id))
    merged = heapq.merge(errors, with_results(), key=lambda rec: int(rec[0]))
    with csv_to_blob(deps, log_key) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        writer.writerows(merged)
    return moved
