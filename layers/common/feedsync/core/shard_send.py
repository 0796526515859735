"""Sending one shard's batches to the store: the update step's loop (and the benchmark's).

Calls are marked in flight before they go (``core/in_flight.py``) and their answers are
recorded after them (the shard's results file and progress), so a shard that dies
part-way leaves finalize knowing what reached the store, or which items to read back;
a cancel stops between calls.

Book-keeping is paced (``Pacing``): the update step records after every few calls or
seconds, not after each call (its two S3 writes and a DynamoDB write per call were half
of a run's AWS cost). A marker then names a window: every stored batch from the first
call since the last record up to a few batches ahead (as many as the last window
began), and is written again only when a call goes past it; a crash reads back the
window's items that have no result line (one read of the products modified since the
run began, whatever the window's size). Between records each call asks only whether a
cancel was requested (one eventually consistent read), and a cancel records before it
stops.

A connector that carries piles (``Capabilities.carries_pile``: a refused batch's
known-good items left to the next call instead of a request of their own) gets a
shard's plain batches of one operation as a stream: each call takes the deferred pile
first, then the next stored items, never more than the operation's ``max_batch`` nor
than the plan's largest batch of it (what does not fit waits for the next call), and
defers again unless it is the operation's last call in the shard. When the connector
narrows a refusal down it may ask for the stream's next items to fill its requests
(``more``, up to ``SPARES`` requests' worth): their batches are marked in flight before
they are handed over, and an item handed over is never queued again. Create, delete,
per-product and known-bad batches are sent as stored, one call each, carrying nothing
in or out.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from feedsync.core import creating
from feedsync.core.in_flight import InFlight
from feedsync.core.ports import ItemResult, PileCarrier, StoreConnector, item_refused_together
from feedsync.core.run_results import ShardResults
from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.plan import Batch
from feedsync.domain.refusals import KNOWN_BAD
from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreRequestError

log = logging.getLogger(__name__)


class ShardSink(Protocol):
    """Where the loop leaves its marks: the in-flight marker and the results so far."""

    def mark(self, marker: InFlight) -> None:
        """Before a call: the batches it carries are in flight."""
        ...

    def record(self, results: ShardResults) -> bool:
        """After a call: every result so far; True when a cancel was requested."""
        ...

    def cancelled(self) -> bool:
        """Between records: whether a cancel was requested (a read, no write)."""
        ...


@dataclass(frozen=True)
class Pacing:
    """When the loop records: after ``calls`` calls or ``seconds`` since the last record,
    whichever comes first (and always at the end, on a cancel)."""

    calls: int = 1
    seconds: float = 0.0
    clock: Callable[[], float] = time.monotonic


EVERY_CALL = Pacing()


@dataclass(frozen=True, slots=True)
class _Entry:
    """A plan item waiting in an operation's stream: its stored batch and place there."""

    number: int
    place: int
    item: PlanItem


# Spare items offered to a stream call, in requests' worth: enough to fill the tests
# that find one refused item among a batch (about six).
SPARES = 6


class _Stop(Exception):
    """A cancel was requested with calls still to make."""


class ShardSender:
    """One attempt at a shard (``started`` / ``resumed``: what earlier attempts began)."""

    def __init__(
        self,
        connector: StoreConnector,
        batches: list[Batch],
        sink: ShardSink,
        *,
        key_prefix: str,
        location: str | None = None,
        started: int = -1,
        resumed: int = -1,
        pacing: Pacing = EVERY_CALL,
    ) -> None:
        self.connector = connector
        self.batches = batches
        self.sink = sink
        self.key_prefix = key_prefix
        self.location = location
        self.started = started
        self.resumed = resumed
        self.results = ShardResults()
        self.calls = 0
        self._cancelled = False
        # Items of later stored batches a call already sent (as spares): not queued again.
        self._taken: set[tuple[int, int]] = set()
        self.pacing = pacing
        self._recorded_at = pacing.clock()
        self._recorded_lines = 0  # the result lines the last record wrote
        self._window: InFlight | None = None  # the marker written since the last record
        self._window_calls = 0
        self._ahead = 0  # batches a window's marker names beyond its call's
        self._calling: tuple[int, ...] = ()  # the stored batches of the call being made
        self._begun = started  # the furthest batch a call began (``started`` looks ahead)
        self._creates = [n for n, b in enumerate(batches) if b["op"] == CREATE_OP]

    def send(self) -> ShardResults:
        """Every batch, in order; the results (all of them unless a cancel stopped it)."""
        caps = self.connector.capabilities
        streams = {n: b["op"] for n, b in enumerate(self.batches) if self._streams(b)}
        last = {op: n for n, op in streams.items()}  # each operation's last stream batch
        # A call is never larger than the plan's batches (nor than the operation takes).
        size: dict[str, int] = {}
        for n, op in streams.items():
            size[op] = max(size.get(op, 0), len(self.batches[n]["items"]))
        queues: dict[str, list[_Entry]] = {}
        carried: dict[str, int] = {}
        try:
            for number, batch in enumerate(self.batches):
                op, items = batch["op"], batch["items"]
                skipped = batch.get("known_bad")
                if skipped is not None:  # known bad, and the profile skips them: never sent
                    for item, why in zip(items, skipped, strict=True):
                        self.results.add(op, item, ItemResult(False, why), kind=KNOWN_BAD)
                    continue  # recorded with the next record (nothing reached the store)
                entries = [_Entry(number, n, item) for n, item in enumerate(items)]
                if number not in streams:
                    self._call(op, entries, f"{self.key_prefix}-{number}")
                    self._stop_if_cancelled(number + 1 < len(self.batches))
                    continue
                queue = queues.setdefault(op, [])
                queue += [e for e in entries if (e.number, e.place) not in self._taken]
                most = min(size[op], caps.op(op).max_batch)
                k = 0
                while len(queue) >= most or (number == last[op] and queue):
                    call, rest = queue[:most], queue[most:]
                    final = number == last[op] and not rest
                    # The stream's next items, handed over to fill the tests of a refused call.
                    wanted = SPARES * most
                    supply = [] if final else (rest + self._later(op, number, wanted))[:wanted]
                    key = f"{self.key_prefix}-{number}" + (f".{k}" if k else "")
                    known = carried.get(op, 0)  # known-good items at the queue's front
                    deferred, handed = self._call(
                        op,
                        call,
                        key,
                        carried=min(known, len(call)),
                        defer=not final,
                        supply=supply,
                    )
                    queue[:] = deferred + rest[handed:]  # handed-over items came first
                    carried[op] = len(deferred) + max(0, known - len(call) - handed)
                    k += 1
                    left = bool(queue) or number + 1 < len(self.batches)
                    self._stop_if_cancelled(left)
        except _Stop:
            waiting = sum(len(q) for q in queues.values())
            log.info(
                "cancelled: the shard stops after %d calls, %d items unsent", self.calls, waiting
            )
        except Exception:
            self._record_before_failing()
            raise
        if self.results.lines != self._recorded_lines:
            self._record()
        return self.results

    def _later(self, op: str, number: int, limit: int) -> list[_Entry]:
        """The items of ``op``'s stream batches after ``number`` not yet taken, in order
        (``limit`` of them at least, when there are as many)."""
        out: list[_Entry] = []
        for n in range(number + 1, len(self.batches)):
            if len(out) >= limit:
                break
            batch = self.batches[n]
            if batch["op"] == op and self._streams(batch):
                out += [
                    _Entry(n, place, item)
                    for place, item in enumerate(batch["items"])
                    if (n, place) not in self._taken
                ]
        return out

    def _streams(self, batch: Batch) -> bool:
        caps = self.connector.capabilities
        op = batch["op"]
        return (
            caps.carries_pile
            and op not in (CREATE_OP, DELETE_OP)
            and not caps.op(op).per_product
            and "known_bad" not in batch
            and "remembered" not in batch
        )

    def _stop_if_cancelled(self, more_to_send: bool) -> None:
        if self._cancelled and more_to_send:
            raise _Stop

    def _call(
        self,
        op: str,
        entries: list[_Entry],
        batch_key: str,
        *,
        carried: int = 0,
        defer: bool | None = None,
        supply: list[_Entry] | None = None,
    ) -> tuple[list[_Entry], int]:
        """One connector call, marked before and recorded after; the entries deferred
        (known good) and how many of ``supply`` the connector took.

        ``defer`` None: a stored batch sent as it is; else a stream call (``carried``
        items first, a pile deferred unless ``defer`` is False, the next items of the
        stream handed over from ``supply`` when the connector asks, each marked in
        flight before it is)."""
        supply = supply or []
        handed: list[_Entry] = []
        self._mark(entries)

        def more(n: int) -> list[PlanItem]:
            given = supply[len(handed) : len(handed) + n]
            if given:
                handed.extend(given)
                self._mark(entries + handed)
            return [e.item for e in given]

        items = [e.item for e in entries]
        if op == CREATE_OP:  # one an earlier attempt began: what it made is not made again
            answers = creating.send(
                self.connector,
                items,
                batch_key,
                resumed=entries[0].number <= self.resumed,
                location=self.location,
            )
        elif defer is not None:
            carrier = cast(PileCarrier, self.connector)
            answers = carrier.apply(
                op,
                items,
                batch_key=batch_key,
                location=self.location,
                carried=carried,
                defer=defer,
                more=more if defer and supply else None,
            )
        else:
            answers = self.connector.apply(op, items, batch_key=batch_key, location=self.location)
        self.calls += 1
        entries = entries + handed
        if len(answers) != len(entries):
            raise StoreRequestError(
                f"{self.connector.capabilities.platform} connector answered {len(answers)} "
                f"results for {len(entries)} items of {op}"
            )
        deferred: list[_Entry] = []
        for entry, answer in zip(entries, answers, strict=True):
            if answer.deferred:
                if not defer:
                    raise StoreRequestError(
                        f"{self.connector.capabilities.platform} connector deferred an item "
                        f"of {op} in a call that sends everything"
                    )
                deferred.append(entry)
                continue
            remembered = self.batches[entry.number].get("remembered")
            if remembered and answer.shared:  # the item's own words, from when it was refused
                words = remembered[entry.place]
                answer = item_refused_together(f"refused again, as before: {words}")
            self.results.add(op, entry.item, answer)
        for entry in handed:  # taken from later batches: not queued when their turn comes
            self._taken.add((entry.number, entry.place))
        self._after_call()
        return deferred, len(handed)

    def _after_call(self) -> None:
        """Record the results so far when the pacing says so (a shard that dies part-way
        then tells finalize exactly which items reached the store); else ask whether a
        cancel was requested, and record before stopping if one was."""
        self._window_calls += 1
        pacing = self.pacing
        due = self._window_calls >= pacing.calls or (
            pacing.seconds > 0 and pacing.clock() - self._recorded_at >= pacing.seconds
        )
        if due or self.sink.cancelled():
            self._record()

    def _record(self) -> None:
        self._cancelled = self.sink.record(self.results) or self._cancelled
        self._recorded_lines = self.results.lines
        self._recorded_at = self.pacing.clock()
        # The next window's marker looks as far ahead as this window went.
        if self.pacing.calls > 1:
            self._ahead = max(1, self._window_calls)
        self._window, self._window_calls = None, 0

    def _record_before_failing(self) -> None:
        """A call failed (the store, the network): the window's answers so far are
        recorded, so finalize reads back only what is in doubt (and keeps the store's own
        words for the items it refused). The marker goes first, counting those lines: a
        crash between the two writes leaves the whole window in doubt, never less."""
        window, calling = self._window, self._calling
        if window is None or not calling:
            return
        lines = self.results.lines
        exact = InFlight(calling[0], lines, self._begun, calling if len(calling) > 1 else (),
                         self.resumed)  # fmt: skip
        try:
            if lines != self._recorded_lines:
                # The window, counting the lines about to be written: a crash before the
                # record leaves all of it in doubt (the record says less than the marker).
                self.sink.mark(
                    InFlight(window.batch, lines, self.started, window.batches, self.resumed)
                )
                self.sink.record(self.results)
            if exact != window:  # recorded: only the failed call's batches are in doubt
                self.sink.mark(exact)
        except Exception:  # the call's own error is the one to raise
            log.exception("could not record the shard's results before it failed")

    def _mark(self, entries: list[_Entry]) -> None:
        """In flight: every stored batch with an item in ``entries``, within the window's
        marker (written again, further ahead, when they go past it)."""
        numbers = sorted({e.number for e in entries})
        self._calling = tuple(numbers)
        self._begun = max(self._begun, numbers[-1])
        window = self._window
        if window is not None and window.batch <= numbers[0] and numbers[-1] <= window.started:
            return
        first = numbers[0] if window is None else min(window.batch, numbers[0])
        if self.pacing.calls > 1:  # a window: every batch from its first call on
            if window is not None:  # gone past it: look further ahead
                self._ahead = max(1, 2 * self._ahead)
            ahead = min(len(self.batches) - 1, numbers[-1] + self._ahead)
            # Never up to a create batch not begun: a retry takes every batch up to
            # ``started`` as begun, and looks up a begun create batch's products first.
            later = bisect.bisect_right(self._creates, numbers[-1])
            if later < len(self._creates):
                ahead = min(ahead, self._creates[later] - 1)
            covered = tuple(range(first, ahead + 1))
        else:
            ahead, covered = numbers[-1], tuple(numbers)
        # An earlier window's look-ahead is not carried on: it is recorded.
        self.started = max(self._begun, ahead)
        self._window = InFlight(
            first,
            self._recorded_lines,
            self.started,
            covered if len(covered) > 1 else (),
            self.resumed,
        )
        self.sink.mark(self._window)


def send_shard(
    connector: StoreConnector,
    batches: list[Batch],
    sink: ShardSink,
    *,
    key_prefix: str,
    location: str | None = None,
    started: int = -1,
    resumed: int = -1,
    pacing: Pacing = EVERY_CALL,
) -> ShardResults:
    """Send one shard's batches (see the module docstring); its results."""
    sender = ShardSender(
        connector,
        batches,
        sink,
        key_prefix=key_prefix,
        location=location,
        started=started,
        resumed=resumed,
        pacing=pacing,
    )
    return sender.send()
