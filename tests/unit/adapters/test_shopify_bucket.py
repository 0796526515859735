"""The cost bucket as the transport's pacer, and the connector's exchanges through the
shared transport, on a fake clock (no real waits, no network)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, cast

import pytest
import requests

from feedsync.errors import StoreAuthError, StoreUnavailable
from feedsync.platforms.shopify.bucket import CostBucket
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync.platforms.transport import Outcome


class Clock:
    """A fake monotonic clock that only the test moves, and a sleep that records."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _answer(
    available: float,
    *,
    requested: int = 10,
    actual: int | None = 10,
    data: dict[str, Any] | None = None,
    codes: tuple[str, ...] = (),
) -> dict[str, Any]:
    status = {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0}
    cost = {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}
    body: dict[str, Any] = {"extensions": {"cost": cost}}
    if codes:
        body["errors"] = [{"message": c, "extensions": {"code": c}} for c in codes]
    else:
        body["data"] = data if data is not None else {"shop": {"weightUnit": "GRAMS"}}
    return body


def _learn(bucket: CostBucket, answer: dict[str, Any], throttled: bool = False) -> None:
    """The bucket hears of an answer as the transport tells it: with the Outcome."""
    outcome = Outcome.throttle("THROTTLED", 1.0) if throttled else Outcome.ok()
    bucket.after_response(None, replace(outcome, body=answer))


# -- the pacer ---------------------------------------------------------------------------------
def test_nothing_is_waited_for_before_the_bucket_is_known() -> None:
    clock = Clock()
    bucket = CostBucket(clock.sleep, clock)
    bucket.before_request(1000)
    assert clock.sleeps == [] and bucket.available_now() is None


def test_a_document_waits_for_the_points_it_will_cost_and_no_longer() -> None:
    # Given a bucket seen with 100 of 2,000 points, restoring 100 a second
    clock = Clock()
    bucket = CostBucket(clock.sleep, clock)
    _learn(bucket, _answer(100.0))
    # When a document estimated at 400 points (never charged yet) goes out at once
    bucket.sending("FeedsyncProducts")
    bucket.before_request(400)
    # Then it waited the 3 s the missing 300 points take, and the refill counts even though
    # the fake clock did not move: the next one waits for its own shortfall only
    assert clock.sleeps == [3.0]
    bucket.before_request(400)
    assert clock.sleeps == [3.0]
    bucket.before_request(500)
    assert clock.sleeps == [3.0, 1.0]


def test_what_a_document_was_last_charged_counts_over_the_estimate() -> None:
    # Given a document Shopify last charged 900 points (asked for; the bucket then empty)
    clock = Clock()
    bucket = CostBucket(clock.sleep, clock)
    bucket.sending("FeedsyncProducts")
    _learn(bucket, _answer(0.0, requested=900, actual=850))
    # When it goes out again with a smaller estimate, Then it waits for the 900
    bucket.before_request(10)
    assert clock.sleeps == [9.0]
    # But another document still goes by its own estimate
    bucket.sending("FeedsyncShop")
    clock.now += 100.0  # and time passing refills the bucket
    bucket.before_request(1)
    assert clock.sleeps == [9.0]
    assert bucket.cost_of("FeedsyncProducts", 10) == 900 and bucket.cost_of("FeedsyncShop", 1) == 1


def test_the_transports_sleeps_refill_the_bucket() -> None:
    # Given an empty bucket, When the transport reports a 2 s backoff it slept
    clock = Clock()
    bucket = CostBucket(clock.sleep, clock)
    _learn(bucket, _answer(0.0))
    bucket.waited(2.0)
    # Then 200 points are there without another wait
    assert bucket.available_now() == 200.0
    bucket.before_request(200)
    assert clock.sleeps == []


def test_points_spent_and_throttles_are_counted_from_the_answers() -> None:
    clock = Clock()
    bucket = CostBucket(clock.sleep, clock)
    _learn(bucket, _answer(1000.0, actual=12))
    _learn(bucket, _answer(5.0, actual=None, codes=("THROTTLED",)), throttled=True)
    _learn(bucket, _answer(1000.0, actual=30))
    bucket.after_response(None, None)  # an exchange that failed: nothing to learn
    assert (bucket.points_spent, bucket.throttled) == (42, 1)


@pytest.mark.parametrize(
    ("requested", "available", "wait"),
    [(300, 100.0, 2.0), (300, 500.0, 0.01), (None, 0.0, 0.5)],
)
def test_a_throttle_waits_for_the_refill_or_one_restore_tick(
    requested: int | None, available: float, wait: float
) -> None:
    # Given a THROTTLED answer's cost (without requestedQueryCost: the estimate, 50)
    bucket = CostBucket(Clock().sleep, Clock())
    status = {"currentlyAvailable": available, "restoreRate": 100.0, "maximumAvailable": 2000}
    cost = {"requestedQueryCost": requested, "throttleStatus": status}
    # Then the wait is the missing points' refill, at least one restore tick
    assert bucket.throttle_wait(cost, 50) == pytest.approx(wait)
    assert bucket.throttle_wait({}, 50) == 1.0  # no status: a second


# -- the connector's exchanges -------------------------------------------------------------------
class ScriptedShop:
    """A fake ``requests.Session``: each request gets the next scripted answer (a body for a
    200, an int status, or an exception to raise)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append((method, url, kwargs))
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        response = requests.Response()
        response.status_code = item if isinstance(item, int) else 200
        response._content = b"" if isinstance(item, int) else json.dumps(item).encode()
        return response


def _connector(shop: ScriptedShop, clock: Clock, **kw: Any) -> ShopifyConnector:
    return ShopifyConnector(
        "https://s.myshopify.com",
        "shpat_x",
        session=cast(requests.Session, shop),
        sleep=clock.sleep,
        clock=clock,
        **kw,
        allow_private=True,
    )


def test_a_throttled_document_waits_its_refill_and_is_sent_again() -> None:
    # Given a shop that throttles a document asking 300 points with 100 left
    shop = ScriptedShop(
        _answer(100.0, requested=300, actual=None, codes=("THROTTLED",)), _answer(1700.0)
    )
    clock = Clock()
    connector = _connector(shop, clock)
    # When the document is sent
    assert connector.weight_unit() == "GRAMS"
    # Then it waited 2 s for the 200 missing points (no extra wait before the resend), was
    # sent twice with the token, and the counters say so
    assert clock.sleeps == [2.0]
    assert connector.requests_sent == 2 and connector.throttled == 1
    assert connector.points_spent == 10
    method, url, kwargs = shop.calls[0]
    assert (method, url) == ("POST", "https://s.myshopify.com/admin/api/2025-01/graphql.json")
    assert kwargs["headers"]["X-Shopify-Access-Token"] == "shpat_x"
    assert kwargs["json"]["operationName"] == "FeedsyncShop" and kwargs["timeout"] == 30.0


def test_throttle_patience_runs_out_with_store_unavailable() -> None:
    # Given a shop that throttles every time
    throttled = _answer(0.0, requested=1, actual=None, codes=("THROTTLED",))
    shop = ScriptedShop(*[throttled] * 31)
    clock = Clock()
    connector = _connector(shop, clock)
    # When a document is sent, Then it gives up after 30 waits, on the 31st throttle
    with pytest.raises(
        StoreUnavailable,
        match=r"https://s.myshopify.com: FeedsyncShop failed after 31 attempt\(s\); "
        r"last: THROTTLED 31 times in a row",
    ):
        connector.weight_unit()
    assert len(clock.sleeps) == 30 and connector.throttled == 31


def test_transient_failures_back_off_then_give_up_after_max_retries() -> None:
    # Given a reset, a 503, a transient GraphQL error, then a 502
    shop = ScriptedShop(
        requests.ConnectionError("reset"),
        503,
        _answer(2000.0, actual=1, codes=("INTERNAL_SERVER_ERROR",)),
        502,
    )
    clock = Clock()
    connector = _connector(shop, clock, max_retries=3)
    # When a document is sent, Then three backoffs were slept and the fourth failure raised,
    # naming the last cause
    with pytest.raises(
        StoreUnavailable, match=r"FeedsyncShop failed after 4 attempt\(s\); last: HTTP 502"
    ):
        connector.weight_unit()
    assert len(clock.sleeps) == 3 and connector.requests_sent == 4
    assert 0.25 <= clock.sleeps[0] <= 0.5 and 0.5 <= clock.sleeps[1] <= 1.0
    assert connector.points_spent == 1  # the refused answer's cost still counts


def test_a_denied_document_raises_at_once() -> None:
    shop = ScriptedShop(_answer(2000.0, codes=("ACCESS_DENIED",)))
    clock = Clock()
    with pytest.raises(StoreAuthError, match="FeedsyncShop was denied"):
        _connector(shop, clock).weight_unit()
    assert clock.sleeps == [] and len(shop.calls) == 1


def test_file_transfers_go_without_token_or_bucket_and_retry_on_5xx() -> None:
    # Given a result file server failing once
    shop = ScriptedShop(503, {"line": 1})
    clock = Clock()
    connector = _connector(shop, clock)
    # When a bulk result is downloaded
    body = connector.bulk.download("https://files.example/result.jsonl")
    # Then it was fetched again after a backoff, without the token, and is not an Admin API
    # request
    assert json.loads(body) == {"line": 1} and len(clock.sleeps) == 1
    assert all("headers" not in kwargs for _m, _u, kwargs in shop.calls)
    assert connector.requests_sent == 0 and connector.client.files.requests_sent == 2
