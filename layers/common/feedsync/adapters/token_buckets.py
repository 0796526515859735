"""Usage plans shared by every worker of one account (``ports.TokenBuckets``).

Amazon gives each seller a token bucket per operation (``rate`` per second, up to
``burst``), whoever sends: the update shards, the catalog refresh and a catalog import of
one seller all spend the same tokens. A bucket kept by each connector would let two of
them together send twice the burst; the buckets here are kept in one shared place.

Each request *reserves* its token: the bucket may go below zero, and the answer is how
long the caller waits before sending (the debt over the rate). Workers asking at once get
staggered waits from one write each, never a retry loop. A 429 empties the bucket for
everyone; a rate the platform reports replaces the spec's.

``LocalTokenBuckets`` keeps the buckets under a lock (threads of one process);
``DynamoTokenBuckets`` keeps each bucket in an item of the app's table, changed by
conditional writes on its version (Lambda shards in different processes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import boto3

from feedsync.adapters.versioned_item import Numbers, VersionedItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class BucketState:
    """One bucket, as plain numbers (kept as is in a DynamoDB item)."""

    rate: float  # tokens per second
    burst: float  # the most it holds
    tokens: float  # below zero: reserved ahead of the refill
    at: float  # clock time ``tokens`` was counted

    def _refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def reserve(self, now: float) -> float:
        """Take one token; how long until it exists (0.0: it does)."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0.0 else -self.tokens / self.rate

    def report(self, now: float, rate: float | None, throttled: bool) -> None:
        self._refill(now)
        if rate is not None and rate > 0:
            self.rate = rate
        if throttled:
            self.tokens = min(self.tokens, 0.0)


class LocalTokenBuckets:
    """In-process buckets: share one instance between the connectors of all threads."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketState] = {}

    def state(self, name: str) -> BucketState | None:
        """A copy of one bucket (for tests and logs)."""
        with self._lock:
            found = self._buckets.get(name)
            return None if found is None else BucketState(**asdict(found))

    def reserve(self, name: str, rate: float, burst: int) -> float:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(name)
            if bucket is None:
                bucket = self._buckets[name] = BucketState(rate, float(burst), float(burst), now)
            bucket.burst = float(burst)
            return bucket.reserve(now)

    def report(self, name: str, *, rate: float | None, throttled: bool) -> None:
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is not None:
                bucket.report(self._clock(), rate, throttled)


class DynamoTokenBuckets:
    """The same buckets in the app's table, for workers in different processes.

    Item ``PK=BUCKET#<key>``, ``SK=<bucket name>``: the ``BucketState`` numbers, changed
    by conditional writes on its version (``versioned_item``). One read and one write
    per request.
    """

    def __init__(
        self,
        table_name: str,
        key: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table_name
        self.pk = f"BUCKET#{key}"
        self.client: DynamoDBClient = client or boto3.client("dynamodb")
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"DynamoTokenBuckets({self.table!r}, {self.pk!r})"

    def _item(self, name: str) -> VersionedItem:
        key = {"PK": {"S": self.pk}, "SK": {"S": name}}
        where = f"usage plan {self.pk}"
        return VersionedItem(
            self.table, key, where, self.client, clock=self._clock, sleep=self._sleep
        )

    def state(self, name: str) -> BucketState | None:
        return _bucket(self._item(name).load()[0])

    def reserve(self, name: str, rate: float, burst: int) -> float:
        def take(numbers: Numbers | None, now: float) -> tuple[dict[str, float] | None, float]:
            bucket = _bucket(numbers) or BucketState(rate, float(burst), float(burst), now)
            bucket.burst = float(burst)
            wait = bucket.reserve(now)
            return asdict(bucket), wait

        return self._item(name).update(take)

    def report(self, name: str, *, rate: float | None, throttled: bool) -> None:
        def learn(numbers: Numbers | None, now: float) -> tuple[dict[str, float] | None, None]:
            bucket = _bucket(numbers)
            if bucket is None:
                return None, None
            before = asdict(bucket)
            bucket.report(now, rate, throttled)
            return (None if asdict(bucket) == before else asdict(bucket)), None

        self._item(name).update(learn)


def _bucket(numbers: Numbers | None) -> BucketState | None:
    if numbers is None:
        return None
    return BucketState(**{f: float(numbers[f]) for f in ("rate", "burst", "tokens", "at")})
