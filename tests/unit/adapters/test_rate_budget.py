"""The shared rate budget: its window arithmetic on a fake clock, in-process and in DynamoDB."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from feedsync.adapters.rate_budget import BudgetState, DynamoRateBudget, LocalRateBudget
from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore

REPO = Path(__file__).resolve().parents[3]


class FakeTime:
    """A clock that only moves when somebody sleeps."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _local(t: FakeTime, **kw: Any) -> LocalRateBudget:
    return LocalRateBudget(sleep=t.sleep, clock=t.clock, margin_s=0.01, **kw)


# -- the window arithmetic ----------------------------------------------------------------------
def test_before_any_header_only_one_probe_goes_out() -> None:
    # Given a budget that has seen no rate-limit header yet
    state = BudgetState()
    # When two workers ask for a request
    first = state.reserve(0.0, poll_s=0.01, stale_s=60)
    second = state.reserve(0.0, poll_s=0.01, stale_s=60)
    # Then the first may go, the second waits (polls) until the probe is answered
    assert first == 0.0 and second == 0.01 and state.in_flight == 1
    state.report(0.1, 0.0, left=9, reset_s=2.0, quota=10, window_s=2.0)
    assert state.reserve(0.1, poll_s=0.01, stale_s=60) == 0.0


def test_a_window_used_up_by_answers_without_headers_does_not_stall() -> None:
    # Given a learnt window of 3 that reset, then 3 answers without rate headers (5xx, resets)
    state = BudgetState()
    assert state.reserve(0.0, poll_s=0.01, stale_s=60) == 0.0
    state.report(0.1, 0.0, left=2, reset_s=1.0, quota=3, window_s=1.0)
    for _ in range(3):
        assert state.reserve(1.5, poll_s=0.01, stale_s=60) == 0.0
    for _ in range(3):
        state.report(1.6, 0.0, left=None, reset_s=None, quota=None, window_s=None)
    assert state.remaining == 0 and state.window_end is None and state.in_flight == 0
    # When a worker asks again, Then it may send one probe (nobody else would ever learn
    # when the window ends), and a second worker waits for that probe's answer
    assert state.reserve(1.7, poll_s=0.01, stale_s=60) == 0.0
    assert state.reserve(1.7, poll_s=0.01, stale_s=60) == 0.01


def test_requests_in_flight_count_against_the_window_then_it_waits_for_the_reset() -> None:
    # Given a budget that learnt "3 left, reset in 2 s, 5 per 2 s window" from an answer
    t = FakeTime()
    budget = _local(t)
    budget.before_request()
    budget.after_response(3, 2.0, 5, 2.0)
    # When 3 requests are reserved and none has been answered yet
    for _ in range(3):
        budget.before_request()
    # Then none waited; and a 4th waits until the window's end (+ margin), then goes
    assert t.sleeps == [] and budget.state.in_flight == 3
    budget.before_request()
    assert t.sleeps == [pytest.approx(2.01)]
    state = budget.state
    assert state.remaining == 5 and state.in_flight == 4 and state.window_end is None


def test_an_answer_from_the_previous_window_is_ignored() -> None:
    # Given a window that ended (the budget rolled over to a fresh quota of 5)
    t = FakeTime()
    budget = _local(t)
    budget.before_request()
    budget.after_response(0, 0.5, 5, 2.0)
    budget.before_request()  # waits for the reset, rolls over
    assert budget.state.remaining == 5
    # When a late answer from the old window arrives saying "0 left, reset in 0.02 s"
    budget.after_response(0, 0.02, 5, 2.0)
    # Then the fresh window keeps its quota
    assert budget.state.remaining == 5 and budget.state.window_end is None


def test_an_answer_without_headers_counts_as_spent() -> None:
    # Given a known window with 4 left
    t = FakeTime()
    budget = _local(t)
    budget.before_request()
    budget.after_response(4, 2.0, 5, 2.0)
    # When a request fails without headers (5xx, reset connection)
    budget.before_request()
    budget.after_response(None, None)
    # Then it is assumed to have counted, and its slot is free again
    assert budget.state.remaining == 3 and budget.state.in_flight == 0


def test_a_429_holds_every_worker_until_its_reset() -> None:
    # Given a budget that thought it had room, and a 429 saying "reset in 1.5 s"
    t = FakeTime()
    budget = _local(t)
    budget.before_request()
    budget.after_response(100, 30.0, 150, 30.0)
    t.now += 28.5
    budget.before_request()
    budget.after_response(0, 1.5, 150, 30.0)  # another app used the window up
    # When the next request is wanted / Then it waits that reset first
    budget.before_request()
    assert t.sleeps == [pytest.approx(1.51)]


def test_a_reservation_never_answered_stops_counting_after_the_stale_time() -> None:
    # Given a worker that reserved the only request left and crashed
    t = FakeTime()
    budget = _local(t, stale_s=60)
    budget.before_request()
    budget.after_response(1, 30.0, 1, 30.0)
    budget.before_request()
    # When nobody touches the budget for longer than the stale time
    t.now += 61
    # Then its reservation no longer holds the others back
    budget.before_request()
    assert budget.state.in_flight == 1


class _Wait(Exception):
    """Raised by the simulation's sleep: the worker asks again that much later."""


def _raise_wait(seconds: float) -> None:
    raise _Wait(seconds)


def _simulate(
    budgets: list[Any], t: FakeTime, quota: int, window_s: float, total: int = 600
) -> tuple[int, float]:
    """Workers (one budget object each, possibly the same) against a fixed-window server,
    as a discrete-event simulation on the fake clock: random latencies both ways, some
    slow answers, answers arriving in any order. Returns (refused, achieved / allowed)."""
    rng = random.Random(7)
    seq = itertools.count()
    events: list[tuple[float, int, str, int, Any]] = []
    start = t.now
    for w in range(len(budgets)):
        heapq.heappush(events, (start + w * 0.001, next(seq), "want", w, None))
    window_start, count, refused, sent, last = -1e18, 0, 0, 0, start
    while events:
        now, _, kind, w, payload = heapq.heappop(events)
        t.now = now
        if kind == "want":
            if sent >= total:
                continue
            try:
                budgets[w].before_request()
            except _Wait as wait:
                heapq.heappush(events, (now + wait.args[0], next(seq), "want", w, None))
                continue
            sent += 1
            slow = rng.random() < 0.05
            there = rng.uniform(0.0005, 0.3 * window_s if slow else 0.01)
            heapq.heappush(events, (now + there, next(seq), "server", w, None))
        elif kind == "server":
            if count == 0 or now - window_start >= window_s:
                window_start, count = now, 0
            last = now
            if count < quota:
                count += 1
                answer = (quota - count, window_s - (now - window_start))
            else:
                refused += 1
                answer = (0, window_s - (now - window_start))
            back = rng.uniform(0.0005, 0.01)
            heapq.heappush(events, (now + back, next(seq), "answer", w, answer))
        else:
            left, reset = payload
            budgets[w].after_response(left, reset, quota, window_s)
            heapq.heappush(events, (now, next(seq), "want", w, None))
    allowed = (last - start) / window_s * quota
    return refused, (total - quota) / allowed if allowed else 0.0


def test_workers_sharing_one_local_budget_never_exceed_the_window() -> None:
    # Given 4 workers sharing one budget against a 10 requests / 1 s window
    t = FakeTime()
    budget = LocalRateBudget(sleep=_raise_wait, clock=t.clock, margin_s=0.01)
    # When they send 600 requests with random latencies, some slow, answers in any order
    refused, ratio = _simulate([budget] * 4, t, quota=10, window_s=1.0)
    # Then the server never had to refuse one, and the window was well used
    assert refused == 0
    assert ratio >= 0.9


# -- DynamoDB -----------------------------------------------------------------------------------
def _dynamo(table: tuple[str, Any], t: FakeTime, key: str = "store-1") -> DynamoRateBudget:
    name, client = table
    return DynamoRateBudget(
        name, key, client, sleep=t.sleep, clock=t.clock, margin_s=0.01, poll_s=0.01
    )


def test_dynamo_budget_keeps_the_window_in_one_item_with_a_ttl(
    table: tuple[str, Any],
) -> None:
    # Given a DynamoDB budget for store-1
    t = FakeTime(start=1_700_000_000.0)
    budget = _dynamo(table, t)
    # When a request is reserved and its answer reported
    budget.before_request()
    budget.after_response(7, 2.5, 10, 3.0)
    # Then one item BUDGET#store-1 / BUDGET holds the window, with expires_at in the future
    name, client = table
    item = client.get_item(
        TableName=name, Key={"PK": {"S": "BUDGET#store-1"}, "SK": {"S": "BUDGET"}}
    )["Item"]
    assert int(item["remaining"]["N"]) == 7 and int(item["in_flight"]["N"]) == 0
    assert int(item["expires_at"]["N"]) > t.now
    assert budget.state.window_end == pytest.approx(t.now + 2.51)


def test_two_processes_share_one_dynamo_budget(table: tuple[str, Any]) -> None:
    # Given two budgets on the same key (as two Lambda shards would), 2 left for 3 s
    t = FakeTime(start=1_700_000_000.0)
    a, b = _dynamo(table, t), _dynamo(table, t)
    a.before_request()
    a.after_response(2, 3.0, 5, 3.0)
    # When A reserves one and B reserves two without answers
    a.before_request()
    b.before_request()
    assert t.sleeps == []
    b.before_request()
    # Then B's second had to wait for the reset: together they never exceeded the window
    assert t.sleeps == [pytest.approx(3.01)]
    assert a.state.in_flight == 3


def test_a_lost_race_on_the_item_is_read_again_and_retried(table: tuple[str, Any]) -> None:
    # Given budget A whose first write loses a race against budget B's write
    t = FakeTime(start=1_700_000_000.0)
    name, client = table
    rival = _dynamo(table, t)
    rival.before_request()
    rival.after_response(9, 3.0, 10, 3.0)

    class Racing:
        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, attr: str) -> Any:
            return getattr(client, attr)

        def put_item(self, **kw: Any) -> Any:
            if not self.raced:
                self.raced = True
                rival.before_request()  # B writes between A's read and A's write
            return client.put_item(**kw)

    a = DynamoRateBudget(name, "store-1", Racing(), sleep=t.sleep, clock=t.clock)  # type: ignore[arg-type]
    # When A reserves a request
    a.before_request()
    # Then both reservations are counted (A read again after its conditional write failed)
    assert a.state.in_flight == 2


def test_workers_sharing_a_dynamo_budget_never_exceed_the_window(
    table: tuple[str, Any],
) -> None:
    # Given 3 workers, each with its own DynamoRateBudget on one key, 8 requests / 1 s
    t = FakeTime(start=1_700_000_000.0)
    name, client = table
    budgets = [
        DynamoRateBudget(name, "sim", client, sleep=_raise_wait, clock=t.clock, margin_s=0.01)
        for _ in range(3)
    ]
    # When they send 600 requests with random latencies / Then none is refused
    refused, ratio = _simulate(budgets, t, quota=8, window_s=1.0)
    assert refused == 0 and ratio >= 0.9


def test_two_threads_with_dynamo_budgets_get_no_429_from_the_sandbox(
    table: tuple[str, Any],
) -> None:
    # Given a store allowing 10 requests per 1 s and two shards with their own budget objects
    name, client = table
    with SandboxStore(quota_requests=10, quota_window_s=1.0) as sandbox:
        store_hash, token = sandbox.create_store()
        sandbox.seed(
            store_hash,
            [
                {"name": f"P{i}", "type": "physical", "weight": 1, "price": 1, "sku": f"S{i}"}
                for i in range(24)
            ],
        )
        variants = sandbox.variants(store_hash)
        oks: list[bool] = []

        def shard(n: int) -> None:
            budget = DynamoRateBudget(name, store_hash, client, sleep=time.sleep)
            connector = BigCommerceConnector(
                sandbox.api_url(store_hash),
                token,
                budget=budget,
                sleep=time.sleep,
                allow_private=True,
            )
            for row, v in enumerate(variants[n::2], start=1):
                item = PlanItem(row, v["sku"], v["product_id"], v["id"], {"stock": [0, 4]})
                oks.extend(ok for ok, _ in connector.apply("variants", [item], batch_key="d"))

        threads = [threading.Thread(target=shard, args=(n,)) for n in range(2)]
        # When they write 24 single-item batches at once
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        # Then every write succeeded and the store never answered 429
        assert len(oks) == 24 and all(oks)
        assert sandbox.rate_limited == 0 and 429 not in sandbox.status_counts
