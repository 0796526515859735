"""Conformance: each connector keeps to its platform's quota model, as its capabilities
declare it: a request window shared through a ``RateBudget``, a cost bucket paced by what
the platform reports, or none."""

from __future__ import annotations

import pytest
from conformance_kit import (
    BudgetFactory,
    RecordingBudget,
    plain_fields,
    plan_batches,
    read_index,
)
from harnesses.base import Harness

from feedsync.adapters.rate_budget import LocalRateBudget
from feedsync.core.ports import StoreConnector
from feedsync.domain.writes import ItemResult, PlanItem

BURST = 9  # one-item writes sent back to back
# More than the smallest burst of a usage plan (10: getFeedDocument's) allows.
BEYOND_BURST = 16


def _burst_items(harness: Harness) -> tuple[str, list[PlanItem]]:
    """The first operation's items, ``BURST`` of them (cycling; the values are absolute)."""
    op = harness.capabilities.ops[0]
    batches = plan_batches(op, harness.catalog, read_index(harness.connector()), plain_fields(op))
    items = [item for batch in batches for item in batch]
    return op.name, [items[n % len(items)] for n in range(BURST)]


def _send(connector: StoreConnector, op: str, items: list[PlanItem]) -> list[ItemResult]:
    """Each item as a batch of its own, back to back."""
    return [connector.apply(op, [item], batch_key=f"burst-{n}")[0] for n, item in enumerate(items)]


def _budget(harness: Harness) -> RecordingBudget:
    """The shared window of the local stack, on the suite's clock, recording what it is told."""
    return RecordingBudget(LocalRateBudget(sleep=harness.clock.sleep, clock=harness.clock))


def test_the_connector_keeps_to_its_platforms_quota(harness: Harness) -> None:
    """One test, dispatched on the quota model the connector declares (every model the
    registry knows is covered; an unknown one fails)."""
    model = harness.capabilities.quota.model
    if model == "request_window":
        _reports_every_answer_to_the_budget(harness)
        _a_burst_against_a_small_window_gets_no_429(harness)
    elif model == "cost_bucket":
        _a_burst_against_a_small_bucket_is_paced_without_throttling(harness)
        _an_emptied_bucket_is_waited_out(harness)
    elif model == "token_bucket":
        _a_burst_beyond_the_usage_plans_gets_no_429(harness)
    elif model == "none":
        _a_burst_goes_out_unpaced(harness)
    else:
        pytest.fail(f"{harness.platform}: no conformance check for quota model {model!r}")


def _reports_every_answer_to_the_budget(harness: Harness) -> None:
    # Given a window of 40 requests per 30 s and a connector sharing a recording budget
    harness.set_request_window(40, 30.0)
    budget = _budget(harness)
    connector = harness.connector(BudgetFactory(budget))
    op = harness.capabilities.ops[0]
    harness.reset_log()
    # When it reads the catalog and writes a batch
    index = read_index(connector)
    batch = plan_batches(op, harness.catalog, index, plain_fields(op))[0]
    assert all(r.ok for r in connector.apply(op.name, batch, batch_key="window"))
    # Then every request the store answered was reserved first and reported after
    answered = len(harness.statuses())
    assert answered > 1
    assert budget.reserved == len(budget.reports) == answered
    # with what the platform's headers said: the window, and one request less each time
    assert {(r.quota, r.window_s) for r in budget.reports} == {(40, 30.0)}
    assert [r.left for r in budget.reports] == list(range(39, 39 - answered, -1))
    assert all(r.reset_s is not None and 0 < r.reset_s <= 30.0 for r in budget.reports)


def _a_burst_against_a_small_window_gets_no_429(harness: Harness) -> None:
    # Given a window of 3 requests per 10 s, and a burst of one-item writes to send
    op, items = _burst_items(harness)
    harness.set_request_window(3, 10.0)
    budget = _budget(harness)
    connector = harness.connector(BudgetFactory(budget))
    harness.reset_log()
    # When they are sent back to back
    results = _send(connector, op, items)
    # Then every one was written without a single 429: the budget held each request back
    # until the window had room (two windows waited out, on the suite's clock)
    assert all(r.ok for r in results)
    assert harness.rate_limited() == 0
    assert harness.statuses() == [200] * BURST
    assert sum(harness.clock.sleeps) >= 2 * 10.0


def _a_burst_against_a_small_bucket_is_paced_without_throttling(harness: Harness) -> None:
    # Given a bucket of 30 points refilling 10 a second, and a burst of one-item writes
    op, items = _burst_items(harness)
    harness.set_cost_bucket(points=30, restore_per_s=10, available=30)
    factory = BudgetFactory(_budget(harness))
    connector = harness.connector(factory)
    harness.reset_log()
    # When they are sent back to back
    results = _send(connector, op, items)
    # Then every one was written without being throttled: the connector waited for the
    # refill the platform's cost reports said it needed
    assert all(r.ok for r in results)
    assert harness.rate_limited() == 0
    assert sum(harness.clock.sleeps) > 0
    # (a bucket is the platform's own: no shared request window was asked for)
    assert factory.calls == 0


def _an_emptied_bucket_is_waited_out(harness: Harness) -> None:
    # Given a bucket another app has just emptied, and a connector that has not seen it yet
    op, items = _burst_items(harness)
    harness.set_cost_bucket(points=30, restore_per_s=10, available=0)
    connector = harness.connector()
    harness.reset_log()
    # When it writes one item
    [result] = connector.apply(op, items[:1], batch_key="emptied")
    # Then it was throttled once, waited for the refill the answer described (never longer
    # than the whole bucket takes to fill), and the retry went through
    assert result.ok
    assert harness.rate_limited() == 1
    assert 0 < sum(harness.clock.sleeps) <= 30 / 10


def _a_burst_goes_out_unpaced(harness: Harness) -> None:
    # Given a platform without a quota of its own, and a burst of one-item writes
    op, items = _burst_items(harness)
    factory = BudgetFactory(_budget(harness))
    connector = harness.connector(factory)
    harness.reset_log()
    # When they are sent back to back
    results = _send(connector, op, items)
    # Then every one went straight out: no wait, no shared window asked for
    assert all(r.ok for r in results)
    assert harness.statuses() == [200] * BURST
    assert harness.clock.sleeps == []
    assert factory.calls == 0


def _a_burst_beyond_the_usage_plans_gets_no_429(harness: Harness) -> None:
    # Given more one-item writes, back to back, than some operation's burst allows (each
    # write spends one token of every operation it uses), the double at the spec's plans
    op, items = _burst_items(harness)
    items = [items[n % len(items)] for n in range(BEYOND_BURST)]
    factory = BudgetFactory(_budget(harness))
    connector = harness.connector(factory)
    harness.reset_log()
    # When they are sent
    results = _send(connector, op, items)
    # Then every one was written without a 429: the connector waited for the tokens its
    # operations' plans said were coming
    assert all(r.ok for r in results)
    assert harness.rate_limited() == 0
    assert harness.clock.sleeps and max(harness.clock.sleeps) > 0
    # (the plans are the connector's own: no shared request window was asked for)
    assert factory.calls == 0
