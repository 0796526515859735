"""The update step's loop with a store that carries piles (``core/shard_send.py``): a
shard's batches of one operation sent as a stream, the pile a refused call leaves
carried into the next call, every item decided once, and the in-flight marker naming
every stored batch a call carries (so a crash or a cancel leaves log = store)."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import ScriptedConnector, World
from test_in_flight import (
    CATALOG,
    SKUS,
    Crash,
    close_after_crash,
    holding,
    planned,
    small_batch_run,
)

from feedsync.core import keys
from feedsync.core.in_flight import InFlight, read_marker
from feedsync.core.run_results import ShardResults
from feedsync.core.shard_send import Pacing, send_shard
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.update import update
from feedsync.domain.plan import Batch
from feedsync.domain.writes import ItemResult, PlanItem, item_deferred
from feedsync.errors import StoreRequestError
from feedsync.models import FinalizeInput, RunRef
from feedsync.platforms.registry import capabilities_for


class Sink:
    """Markers and result line counts as the loop leaves them."""

    def __init__(self) -> None:
        self.marks: list[InFlight] = []
        self.recorded: list[int] = []

    def mark(self, marker: InFlight) -> None:
        self.marks.append(marker)

    def record(self, results: ShardResults) -> bool:
        self.recorded.append(results.lines)
        return False


def items(first: int, n: int) -> list[PlanItem]:
    return [
        PlanItem(r, f"S{r}", r, 100 + r, {"price": [1000, 1200]}) for r in range(first, first + n)
    ]


def refuse_first_defer_rest(op: str, sent: list[PlanItem]) -> list[ItemResult]:
    """The first item refused, the rest found good and left for the next call."""
    return [ItemResult(False, "refused")] + [item_deferred()] * (len(sent) - 1)


def test_a_deferred_pile_rides_in_the_next_calls_never_past_the_batch_size() -> None:
    # Given a shard of three stored batches of 4 and a store that refuses the first item
    # of the first call and defers the other three
    connector = ScriptedConnector(capabilities_for("bigcommerce"))
    connector.script.append(refuse_first_defer_rest)
    batches: list[Batch] = [{"op": "variants", "items": items(2 + 4 * b, 4)} for b in range(3)]
    sink = Sink()
    # When the shard is sent
    results = send_shard(connector, batches, sink, key_prefix="run-0")
    # Then every call holds at most 4 items, the pile first (carried), deferring again
    # until the last call, which sends everything
    calls = [(len(c.items), c.carried, c.defer) for c in connector.calls]
    assert calls == [(4, 0, True), (4, 3, True), (4, 0, True), (3, 0, False)]
    assert [i.row for i in connector.calls[1].items] == [3, 4, 5, 6]
    # and each item has exactly one result line: one refused, eleven written
    rows = [int(r[0]) for r in results.records()]
    assert sorted(rows) == list(range(2, 14))
    assert (results.updated, results.failed) == (11, 1)
    # and each call had its own batch key
    assert len({c.batch_key for c in connector.calls}) == 4


def test_the_marker_names_every_stored_batch_a_call_carries() -> None:
    # Given the same shard and store
    connector = ScriptedConnector(capabilities_for("bigcommerce"))
    connector.script.append(refuse_first_defer_rest)
    batches: list[Batch] = [{"op": "variants", "items": items(2 + 4 * b, 4)} for b in range(3)]
    sink = Sink()
    # When it is sent
    send_shard(connector, batches, sink, key_prefix="run-0")
    # Then the call carrying batch 0's pile with batch 1's items names both, with the
    # result line recorded before it (the refused item)
    assert sink.marks[1] == InFlight(0, 1, 1, (0, 1))
    assert sink.marks[1].doubtful(1) == [0, 1]  # its answers not recorded: both in doubt
    assert sink.marks[1].doubtful(4) == []  # recorded: nothing in doubt
    assert sink.marks[2] == InFlight(1, 5, 2, (1, 2))


def test_a_platform_that_carries_nothing_gets_each_stored_batch_as_it_is() -> None:
    # Given WooCommerce (no piles carried) and two stored batches of 3
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    batches: list[Batch] = [
        {"op": "products_batch", "items": items(2 + 3 * b, 3)} for b in range(2)
    ]
    # When the shard is sent, Then one call per batch, nothing carried or deferred
    send_shard(connector, batches, Sink(), key_prefix="run-0")
    assert [(len(c.items), c.carried, c.defer) for c in connector.calls] == [
        (3, 0, False),
        (3, 0, False),
    ]


@pytest.fixture
def ref(world: World, monkeypatch: pytest.MonkeyPatch) -> RunRef:
    return small_batch_run(world, monkeypatch)


def test_a_crash_with_a_carried_pile_in_flight_logs_what_the_store_holds(
    world: World, ref: RunRef
) -> None:
    # Given six items in three stored batches of two; the store refuses S0 and the call
    # defers S1; the next call (S1 carried, with S2) kills the step right after the store
    # accepted it
    step = planned(world, ref)
    connector = world.connectors["s1"]
    connector.script.append(refuse_first_defer_rest)

    def crash(op: str, sent: list[PlanItem]) -> list[ItemResult]:
        accepted = {item.variant_id for item in sent}
        connector.modified += holding(1200, *(v for v in CATALOG if v[1] in accepted))
        raise Crash("injected crash with a carried pile")

    connector.script.append(crash)
    # (and S0 edited in the store meanwhile: read back, it would look failed otherwise)
    connector.modified = holding(1100, CATALOG[0])
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then the call carried batch 0's pile: both batches were in flight
    assert [i.key for i in connector.calls[1].items] == ["S1", "S2"]
    assert connector.calls[1].carried == 1
    marker = read_marker(world.deps, ref, 0)
    assert marker is not None and marker.batches == (0, 1)
    # and the log is what the store holds: S0 refused, S1 and S2 read back updated, S3
    # (never sent: it waited for the next call) and the rest not applied
    assert [log[sku][4] for sku in SKUS] == ["failed", "updated", "updated"] + ["not_applied"] * 3
    assert log["S0"][6] == "refused"
    # and S0's line was read from its result, not taken twice
    assert world.run_record(ref).counts["updated"] == 2
    index = world.index()
    assert [index.by_sku[sku][4] for sku in SKUS] == [1000, 1200, 1200, 1000, 1000, 1000]


def test_a_cancel_with_a_deferred_pile_stops_and_logs_it_not_applied(
    world: World, ref: RunRef
) -> None:
    # Given a cancel arriving while the first call is sent, which refuses S0 and defers S1
    step = planned(world, ref)
    connector = world.connectors["s1"]

    def cancel_then_answer(op: str, sent: list[PlanItem]) -> list[ItemResult]:
        world.repo.update_run("t1", "run_1", cancel_requested_at=world.clock())
        return refuse_first_defer_rest(op, sent)

    connector.script.append(cancel_then_answer)
    # When the shard runs and the run is finalized
    update(world.deps, step)
    result = finalize(world.deps, FinalizeInput(run=ref))
    # Then no further call was made; the run is cancelled
    assert len(connector.calls) == 1 and result.status == "cancelled"
    # and the log equals the store: S0 refused, the pile S1 and the rest never applied
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert [log[sku][4] for sku in SKUS] == ["failed"] + ["not_applied"] * 5
    assert world.index().by_sku["S1"][4] == 1000


class TakingConnector(ScriptedConnector):
    """A store whose first call refuses its first item, asks for ``wanted`` of the
    caller's next items and writes them with the rest (``crash``: dies right after the
    store accepted that request)."""

    def __init__(self, sink: Sink | None, wanted: int, crash: bool = False, **kw: Any) -> None:
        super().__init__(capabilities_for("bigcommerce"), **kw)
        self.sink, self.wanted, self.crash = sink, wanted, crash
        self.marked_before: list[tuple[int, ...]] = []

    def apply(self, op: str, items: list[PlanItem], **kw: Any) -> list[ItemResult]:
        more = kw.pop("more", None)
        if self.calls or more is None:
            return super().apply(op, items, **kw)
        super().apply(op, items, **kw)  # recorded, answered below
        given = more(self.wanted)
        if self.sink is not None:  # what the marker said when the items were handed over
            last = self.sink.marks[-1]
            self.marked_before.append(last.batches or (last.batch,))
        if self.crash:
            accepted = {item.variant_id for item in items[1:] + given}
            self.modified += holding(1200, *(v for v in CATALOG if v[1] in accepted))
            raise Crash("injected crash after the store took items handed over")
        return [ItemResult(False, "refused")] + [ItemResult(True)] * (len(items) - 1 + len(given))


def test_items_handed_over_from_later_batches_are_marked_first_and_never_sent_again() -> None:
    # Given three stored batches of 4 and a store that, refusing the first call's first
    # item, asks for 6 of the stream's next items to fill its requests
    sink = Sink()
    connector = TakingConnector(sink, 6)
    batches: list[Batch] = [{"op": "variants", "items": items(2 + 4 * b, 4)} for b in range(3)]
    # When the shard is sent
    results = send_shard(connector, batches, sink, key_prefix="run-0")
    # Then the marker named batches 0 to 2 before the items were handed over
    assert connector.marked_before == [(0, 1, 2)]
    # and the 6 handed over (rows 6 to 11) were not sent again: one more call, rows 12-13
    assert [[i.row for i in c.items] for c in connector.calls] == [[2, 3, 4, 5], [12, 13]]
    assert connector.calls[1].defer is False
    # and each item has exactly one result line
    assert sorted(int(r[0]) for r in results.records()) == list(range(2, 14))
    assert (results.updated, results.failed) == (11, 1)


def test_a_crash_after_the_store_took_handed_over_items_logs_what_it_holds(
    world: World, ref: RunRef
) -> None:
    # Given six items in three stored batches of two, and a store that refuses S0, asks
    # for two of the next items (S2, S3: batch 1) and dies right after accepting S1-S3
    step = planned(world, ref)
    store = world.connectors["s1"]
    world.connectors["s1"] = taking = TakingConnector(None, 2, crash=True, variants=CATALOG)
    assert store.capabilities.carries_pile
    # When the run closes
    log = close_after_crash(world, ref, step)
    # Then the marker named batch 1 too, and the log is what the store holds: S1-S3
    # updated (read back), S0 and the rest not applied (nothing of them changed)
    marker = read_marker(world.deps, ref, 0)
    assert marker is not None and marker.batches == (0, 1)
    assert len(taking.calls) == 1
    assert [log[sku][4] for sku in SKUS] == ["not_applied"] + ["updated"] * 3 + ["not_applied"] * 2


# ------------------------------------------------------------------ paced book-keeping
class PacedSink(Sink):
    """A sink whose cancel read answers ``cancel_after`` calls' worth of asks later."""

    def __init__(self, cancel_at_ask: int = 0) -> None:
        super().__init__()
        self.asks = 0
        self.cancel_at_ask = cancel_at_ask

    def record(self, results: ShardResults) -> bool:
        super().record(results)
        return bool(self.cancel_at_ask) and self.asks >= self.cancel_at_ask

    def cancelled(self) -> bool:
        self.asks += 1
        return bool(self.cancel_at_ask) and self.asks >= self.cancel_at_ask


def woo_batches(n: int, size: int = 3) -> list[Batch]:
    return [{"op": "products_batch", "items": items(2 + size * b, size)} for b in range(n)]


def test_paced_book_keeping_records_every_few_calls_and_at_the_end() -> None:
    # Given seven stored batches of 3 on a platform that carries nothing, recorded every
    # 3 calls
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    sink = PacedSink()
    # When the shard is sent
    results = send_shard(
        connector, woo_batches(7), sink, key_prefix="run-0", pacing=Pacing(calls=3)
    )
    # Then the results were recorded after calls 3 and 6 and at the end, each time all of
    # them so far; between records each call only asked about a cancel
    assert sink.recorded == [9, 18, 21]
    assert sink.asks == 5
    assert results.updated == 21
    # and every call was inside a marker written before it, fewer markers than calls
    assert len(sink.marks) < len(connector.calls) == 7
    for n in range(len(connector.calls)):
        marker = next(m for m in sink.marks if m.batch <= n <= m.started)
        assert n in marker.doubtful(marker.lines)


def test_paced_book_keeping_records_after_the_seconds_when_calls_are_slow() -> None:
    # Given calls that take 2 seconds each, recorded every 100 calls or 5 seconds
    now = [0.0]
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    for _ in range(5):
        connector.script.append(
            lambda op, sent: now.__setitem__(0, now[0] + 2) or [ItemResult(True)] * len(sent)
        )
    sink = PacedSink()
    pacing = Pacing(calls=100, seconds=5.0, clock=lambda: now[0])
    # When five batches are sent
    send_shard(connector, woo_batches(5), sink, key_prefix="run-0", pacing=pacing)
    # Then a record followed the call that passed 5 seconds (the third, at 6 s), and the end
    assert sink.recorded == [9, 15]


def test_a_cancel_between_records_is_seen_after_the_next_call_and_recorded_before_stopping() -> (
    None
):
    # Given a shard of five batches, recorded every 10 calls, and a cancel that the read
    # after the second call sees
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    sink = PacedSink(cancel_at_ask=2)
    # When the shard is sent
    results = send_shard(
        connector, woo_batches(5), sink, key_prefix="run-0", pacing=Pacing(calls=10)
    )
    # Then no call followed the second, and both calls' results were recorded once
    assert len(connector.calls) == 2
    assert sink.recorded == [6] and results.lines == 6


def test_a_store_error_between_records_records_the_window_and_names_the_failed_call() -> None:
    # Given a shard of four batches recorded every 10 calls, the second call refused an
    # item and the third failing with the store's error
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    connector.script.extend(
        [
            lambda op, sent: [ItemResult(True)] * len(sent),
            lambda op, sent: [ItemResult(False, "SKU is invalid")] + [ItemResult(True)] * 2,
            StoreRequestError("the store answered 503 three times"),
        ]
    )
    sink = PacedSink()
    # When the shard is sent, the error is raised
    with pytest.raises(StoreRequestError):
        send_shard(connector, woo_batches(4), sink, key_prefix="run-0", pacing=Pacing(calls=10))
    # Then the two answered calls were recorded (the refusal's words with them), after a
    # marker counting those lines over the whole window
    assert sink.recorded == [6]
    window, exact = sink.marks[-2:]
    assert window.lines == 6 and window.doubtful(3) == [0, 1, 2]
    # and then the marker names only the failed call's batch as in doubt
    assert exact == InFlight(2, 6, 2)
    assert exact.doubtful(6) == [2]


class OrderedSink:
    """Marks, records and cancel reads in the order the loop made them."""

    def __init__(self, cancel_at_ask: int = 0) -> None:
        self.events: list[tuple[str, Any]] = []
        self.cancel_at_ask = cancel_at_ask
        self.asks = 0

    def mark(self, marker: InFlight) -> None:
        self.events.append(("mark", marker))

    def record(self, results: ShardResults) -> bool:
        self.events.append(("record", results.lines))
        return bool(self.cancel_at_ask) and self.asks >= self.cancel_at_ask

    def cancelled(self) -> bool:
        self.asks += 1
        return bool(self.cancel_at_ask) and self.asks >= self.cancel_at_ask

    def last_mark(self) -> InFlight:
        return next(m for kind, m in reversed(self.events) if kind == "mark")


def test_a_store_error_on_a_call_carrying_a_pile_leaves_its_earlier_batch_in_doubt() -> None:
    # Given BigCommerce's stream of three stored batches of 4, recorded every 10 calls: the
    # first call refuses S0 and defers the rest; the second (the pile of batch 0 with
    # batch 1's first item) fails after the store may have taken part of it
    connector = ScriptedConnector(capabilities_for("bigcommerce"))
    connector.script.extend(
        [refuse_first_defer_rest, StoreRequestError("the store answered 503 three times")]
    )
    batches: list[Batch] = [{"op": "variants", "items": items(2 + 4 * b, 4)} for b in range(3)]
    sink = OrderedSink()
    # When the shard is sent, the error is raised
    with pytest.raises(StoreRequestError):
        send_shard(connector, batches, sink, key_prefix="r-0", pacing=Pacing(calls=10))
    # Then the loop wrote, in this order: a marker counting the refusal's line over the
    # whole window, the record of that line, then the exact marker of the failed call
    kinds = [kind for kind, _ in sink.events]
    assert kinds[-3:] == ["mark", "record", "mark"]
    (_, window), (_, recorded), (_, exact) = sink.events[-3:]
    assert window.lines == recorded == 1
    # and a crash between any two of them leaves both batches the failed call carried in
    # doubt (the record not yet written, or written)
    assert {0, 1} <= set(window.doubtful(0)) and {0, 1} <= set(window.doubtful(1))
    assert exact == InFlight(0, 1, 1, (0, 1))
    assert exact.doubtful(1) == [0, 1]


def test_each_call_is_inside_the_marker_on_record_when_it_goes() -> None:
    # Given 25 single-item batches, recorded every 10 calls, and a store that looks at the
    # last marker and record as each call arrives
    sink = OrderedSink()
    seen: list[tuple[int, InFlight, int]] = []
    connector = ScriptedConnector(capabilities_for("woocommerce"))

    def look(op: str, sent: list[PlanItem]) -> list[ItemResult]:
        lines = [n for kind, n in sink.events if kind == "record"]
        seen.append((sent[0].row - 2, sink.last_mark(), lines[-1] if lines else 0))
        return [ItemResult(True)] * len(sent)

    connector.script.extend([look] * 25)
    # When the shard is sent
    send_shard(connector, woo_batches(25, size=1), sink, key_prefix="r-0", pacing=Pacing(calls=10))
    # Then had the step died during any call, its batch would have been in doubt
    for number, marker, recorded in seen:
        assert number in marker.doubtful(recorded), (number, marker, recorded)
    # and the markers were few: the look-ahead grows to a window's worth of calls
    assert sum(kind == "mark" for kind, _ in sink.events) <= 6


def test_a_cancel_after_a_record_by_time_leaves_no_unsent_batch_in_doubt() -> None:
    # Given 40 single-item batches recorded every 10 calls or 5 s: calls 11 and 12 are
    # slow (a record by time after them), and a cancel is seen by the 13th cancel read
    now = [0.0]
    connector = ScriptedConnector(capabilities_for("woocommerce"))
    for n in range(1, 41):
        slow = n in (11, 12)
        connector.script.append(
            lambda op, sent, slow=slow: (
                now.__setitem__(0, now[0] + (3 if slow else 0)) or [ItemResult(True)] * len(sent)
            )
        )
    sink = OrderedSink(cancel_at_ask=13)
    pacing = Pacing(calls=10, seconds=5.0, clock=lambda: now[0])
    # When the shard is sent
    send_shard(connector, woo_batches(40, size=1), sink, key_prefix="r-0", pacing=pacing)
    # Then it stopped after the call the cancel was seen after, everything recorded, and
    # the marker names no batch after the last one sent (an earlier window's look-ahead
    # is not carried on): finalize logs the rest "cancelled before it was sent"
    sent = len(connector.calls)
    recorded = [n for kind, n in sink.events if kind == "record"]
    assert recorded[-1] == sent < 40
    assert max(sink.last_mark().doubtful(recorded[-1]), default=-1) < sent


class Killed(BaseException):
    """The process dies: no code of the loop runs on."""


def test_a_windows_look_ahead_stops_before_a_create_batch_not_begun() -> None:
    # Given two update batches, then a create batch, then another update batch, recorded
    # every 10 calls, and the process killed during the second call
    connector = ScriptedConnector(capabilities_for("woocommerce"))

    def killed(op: str, sent: list[PlanItem]) -> list[ItemResult]:
        raise Killed

    connector.script.extend([lambda op, sent: [ItemResult(True)] * len(sent), killed])
    batches = woo_batches(4)
    batches[2] = {"op": "create", "items": items(100, 2)}
    sink = OrderedSink()
    # When the shard is sent
    with pytest.raises(Killed):
        send_shard(connector, batches, sink, key_prefix="r-0", pacing=Pacing(calls=10))
    # Then the marker on record names batches 0 and 1 only: a retry (which takes every
    # batch up to ``started`` as begun) does not take the create batch as begun
    assert sink.last_mark().started == 1
