"""A seller's usage plans are shared by every connector of that seller (issue 16): two
connectors, as two update shards or a shard and a catalog refresh would be, together stay
within each operation's rate and burst, in one process or through DynamoDB. Time is the
double's virtual clock: nothing waits for real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from feedsync.adapters.token_buckets import BucketState, DynamoTokenBuckets, LocalTokenBuckets
from feedsync.core.ports import TokenBuckets
from feedsync.platforms.amazon.connector import AmazonConnector
from feedsync.platforms.amazon.endpoints import RATES
from feedsync.platforms.registry import platform
from feedsync.platforms.spec import ConnectorSetup
from feedsync_local.amazon_double import AmazonDouble, VirtualClock

READS = 12  # full catalog reads by each connector: 24 createReport against a burst of 15


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1_700_000_000.0)


@pytest.fixture
def double(clock: VirtualClock) -> Iterator[AmazonDouble]:
    with AmazonDouble(clock=clock) as started:
        started.seed([{"sku": "MUG-1", "price": 1299, "quantity": 7}])
        yield started


def _connector(double: AmazonDouble, clock: VirtualClock, buckets: Any) -> AmazonConnector:
    return AmazonConnector(
        double.endpoint,
        client_id=double.client_id,
        client_secret=double.client_secret,
        refresh_token=double.refresh_token,
        seller_id=double.seller_id,
        marketplace_id=double.marketplace_id,
        token_url=double.token_url,
        allow_private=True,
        sleep=clock.sleep,
        clock=clock,
        buckets=buckets,
    )


def _read_in_turns(first: AmazonConnector, second: AmazonConnector) -> None:
    for _ in range(READS):
        for connector in (first, second):
            assert len(list(connector.iter_variants())) == 1


def _throttled(double: AmazonDouble) -> list[str]:
    return [what for _, what, status in double.requests_log() if status == 429]


# -- the bucket arithmetic ----------------------------------------------------------------------
def test_a_bucket_gives_its_burst_then_staggers_the_waits_at_its_rate() -> None:
    # Given a plan of 0.5 per second with a burst of 2
    bucket = BucketState(rate=0.5, burst=2.0, tokens=2.0, at=0.0)
    # When four requests ask at once
    waits = [bucket.reserve(0.0) for _ in range(4)]
    # Then two go now and the next wait one and two tokens' time, each its own turn
    assert waits == [0.0, 0.0, 2.0, 4.0]
    # and once the debt is paid the bucket refills to its burst, no further
    bucket.reserve(100.0)
    assert bucket.tokens == 1.0


def test_a_429_empties_the_bucket_and_a_reported_rate_replaces_the_plan() -> None:
    bucket = BucketState(rate=0.5, burst=5.0, tokens=5.0, at=0.0)
    # When Amazon throttles and says the plan's rate is 2 per second
    bucket.report(0.0, rate=2.0, throttled=True)
    # Then the next token exists half a second later
    assert bucket.reserve(0.0) == 0.5


# -- two connectors of one seller ----------------------------------------------------------
def test_connectors_with_their_own_buckets_together_overrun_the_plan(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given two connectors of one seller, each keeping its own buckets (the old way)
    first = _connector(double, clock, None)
    second = _connector(double, clock, None)
    # When both read the catalog in turns
    _read_in_turns(first, second)
    # Then each spent its own burst of createReport and Amazon throttled the excess
    assert "createReport" in _throttled(double)


def test_connectors_sharing_the_sellers_buckets_stay_within_the_plan(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given two connectors of one seller sharing its buckets in one process
    shared = LocalTokenBuckets(clock=clock)
    first = _connector(double, clock, shared)
    second = _connector(double, clock, shared)
    started = clock()
    # When both read the catalog in turns, past createReport's burst together
    _read_in_turns(first, second)
    # Then Amazon never throttled: the 24 createReport waited for the shared refill
    assert _throttled(double) == []
    ops = [what for _, what, _ in double.requests_log()]
    assert ops.count("createReport") == 2 * READS
    rate, burst = RATES["createReport"]
    assert clock() - started >= (2 * READS - burst) / rate


def test_two_processes_share_the_sellers_buckets_through_dynamodb(
    double: AmazonDouble, clock: VirtualClock, table: tuple[str, Any]
) -> None:
    # Given two connectors of one seller, each with its own DynamoDB view of the buckets
    # (as two Lambda shards have), on one key
    name, client = table
    scope = f"tenant-1#amazon#{double.seller_id}"
    first = _connector(double, clock, DynamoTokenBuckets(name, scope, client, clock=clock))
    second = _connector(double, clock, DynamoTokenBuckets(name, scope, client, clock=clock))
    # When both read the catalog in turns
    _read_in_turns(first, second)
    # Then Amazon never throttled them
    assert _throttled(double) == []
    # and each operation's bucket is one item of the table, with a TTL
    item = client.get_item(
        TableName=name, Key={"PK": {"S": f"BUCKET#{scope}"}, "SK": {"S": "createReport"}}
    )["Item"]
    assert float(item["burst"]["N"]) == RATES["createReport"][1]
    assert int(item["expires_at"]["N"]) > clock()


def test_a_sellers_stores_in_two_marketplaces_share_one_scope() -> None:
    # Given the composition root's shared buckets, recording the scope each connector asks
    asked: list[str] = []

    def buckets(scope: str) -> TokenBuckets:
        asked.append(scope)
        return LocalTokenBuckets()

    def setup(seller: str, marketplace: str) -> ConnectorSetup:
        return ConnectorSetup(
            api_url="https://sellingpartnerapi-eu.amazon.com",
            credentials={"client_id": "c", "client_secret": "s", "refresh_token": "r"},
            options={"seller_id": seller, "marketplace_id": marketplace},
            buckets=buckets,
        )

    # When stores of one seller in Germany and France, and another seller, are connected
    for seller, marketplace in (
        ("S1", "A1PA6795UKMFR9"),
        ("S1", "A13V1IB3VIYZZH"),
        ("S2", "A1PA6795UKMFR9"),
    ):
        platform("amazon").connector(setup(seller, marketplace))
    # Then one seller's stores share the region's plans; the other seller has its own
    assert asked[0] == asked[1] != asked[2]
    assert "S1" in asked[0] and "sellingpartnerapi-eu.amazon.com" in asked[0]
