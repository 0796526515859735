"""Conformance: rate limits and server trouble, with and without the headers that say when
to come back, on a read and on a write; waits are asserted on the virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conformance_kit import holds, plain_fields, plan_batches, read_index, stored
from harnesses.base import Harness

from feedsync.errors import StoreUnavailable

ACTIONS = ["read", "write"]
HEADER_WAIT_S = 2.5  # what a 429's headers say
RETRY_AFTER_S = 7.0  # what a 5xx's Retry-After says: longer than any first backoff
RETRIES = 3  # faults in a row a connector must ride out


def _action(harness: Harness, action: str) -> Callable[[], None]:
    """Prepare ``action`` on a fresh connector (its plan read beforehand); calling it runs
    it and checks it did what it would have done without trouble."""
    op = harness.capabilities.ops[0]
    batch = plan_batches(op, harness.catalog, read_index(harness.connector()), plain_fields(op))[0]
    connector = harness.connector()
    harness.reset_log()

    def read() -> None:
        assert set(read_index(connector)) == harness.catalog.keys

    def write() -> None:
        results = connector.apply(op.name, batch, batch_key="faults")
        assert [(r.ok, r.message) for r in results] == [(True, "")] * len(batch)
        for item in batch:
            state = harness.state(item.product_id, item.variant_id)
            for field, (_, new) in item.changes.items():
                assert holds(field, new, stored(field, state[field]))

    return read if action == "read" else write


def _rode_out(harness: Harness, status: int, faults: int) -> list[float]:
    """The double answered ``faults`` x ``status`` then only successes; the waits before
    the first success."""
    statuses = harness.statuses()
    assert statuses[:faults] == [status] * faults
    assert statuses[faults:] and all(s < 300 for s in statuses[faults:]), statuses
    waits = harness.clock.sleeps[:faults]
    assert len(waits) == faults
    return waits


def _backed_off(waits: list[float]) -> None:
    """Waits of an exponential backoff: each positive, none shorter than the one before."""
    assert all(w > 0 for w in waits), waits
    assert waits == sorted(waits), waits


@pytest.mark.parametrize("action", ACTIONS)
def test_a_429_with_rate_headers_waits_what_they_say_then_succeeds(
    harness: Harness, action: str
) -> None:
    # Given a store rate-limiting the next request, its headers saying when to come back
    run = _action(harness, action)
    harness.throttle(HEADER_WAIT_S)
    # When the connector reads / writes
    run()
    # Then it waited exactly that long, once, and the retry went through
    assert _rode_out(harness, 429, 1) == [pytest.approx(HEADER_WAIT_S)]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_429_without_headers_backs_off_then_succeeds(harness: Harness, action: str) -> None:
    # Given a store under load answering 429 three times, saying nothing about when
    run = _action(harness, action)
    harness.throttle_bare(RETRIES)
    # When the connector reads / writes
    run()
    # Then it backed off, longer each time, and the fourth attempt went through
    _backed_off(_rode_out(harness, 429, RETRIES))


@pytest.mark.parametrize("action", ACTIONS)
def test_a_5xx_without_retry_after_backs_off_then_succeeds(harness: Harness, action: str) -> None:
    # Given a store answering 503 three times
    run = _action(harness, action)
    harness.unavailable(RETRIES)
    # When the connector reads / writes
    run()
    # Then it backed off, longer each time, and the fourth attempt went through
    _backed_off(_rode_out(harness, 503, RETRIES))


@pytest.mark.parametrize("action", ACTIONS)
def test_a_5xx_with_retry_after_waits_it_then_succeeds(harness: Harness, action: str) -> None:
    # Given a store answering 503 once, its Retry-After saying when to come back
    run = _action(harness, action)
    harness.unavailable(1, retry_after=RETRY_AFTER_S)
    # When the connector reads / writes
    run()
    # Then it waited what the header says, and the retry went through
    [wait] = _rode_out(harness, 503, 1)
    assert wait == pytest.approx(RETRY_AFTER_S)


FAULTS: dict[str, tuple[int, Callable[[Harness], Any]]] = {
    "429-with-headers": (429, lambda h: h.throttle(HEADER_WAIT_S, count=50)),
    "429-bare": (429, lambda h: h.throttle_bare(count=50)),
    "503": (503, lambda h: h.unavailable(count=50)),
    "503-retry-after": (503, lambda h: h.unavailable(count=50, retry_after=RETRY_AFTER_S)),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_trouble_that_does_not_pass_ends_in_store_unavailable(harness: Harness, fault: str) -> None:
    # Given a store that keeps answering the same trouble
    op = harness.capabilities.ops[0]
    batch = plan_batches(op, harness.catalog, read_index(harness.connector()), plain_fields(op))[0]
    before = [harness.state(i.product_id, i.variant_id) for i in batch]
    status, inject = FAULTS[fault]
    harness.reset_log()
    inject(harness)
    # When the connector writes
    with pytest.raises(StoreUnavailable):
        harness.connector().apply(op.name, batch, batch_key="doomed")
    # Then it gave up with the named error after a bounded number of attempts, each one
    # met with that trouble, and nothing was written
    statuses = harness.statuses()
    assert 1 < len(statuses) < 50 and set(statuses) == {status}
    assert [harness.state(i.product_id, i.variant_id) for i in batch] == before
