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
``DynamoTokenBuckets`` keeps each bucket in an item of the app's table with a conditional
write on its ``version`` (Lambda shards in different processes).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.adapters.rate_budget import TRANSIENT_DYNAMO_CODES
from feedsync.errors import StoreUnavailable

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

    Item ``PK=BUCKET#<key>``, ``SK=<bucket name>``: the ``BucketState`` numbers plus a
    ``version`` every write checks (read, decide, write-if-unchanged, again on a lost race)
    and ``expires_at`` (TTL) so an idle account's items go. Time is wall-clock epoch
    seconds, the one clock every host shares. One read and one write per request.
    """

    max_attempts = 100
    ttl_s = 24 * 3600

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
        self._sleep = sleep  # only between lost races, a few milliseconds
        self._random = random.Random()

    def __repr__(self) -> str:
        return f"DynamoTokenBuckets({self.table!r}, {self.pk!r})"

    def _key(self, name: str) -> dict[str, Any]:
        return {"PK": {"S": self.pk}, "SK": {"S": name}}

    def state(self, name: str) -> BucketState | None:
        return self._load(name)[0]

    def reserve(self, name: str, rate: float, burst: int) -> float:
        def take(bucket: BucketState | None, now: float) -> tuple[BucketState, float]:
            if bucket is None:
                bucket = BucketState(rate, float(burst), float(burst), now)
            bucket.burst = float(burst)
            return bucket, bucket.reserve(now)

        return self._update(name, take)

    def report(self, name: str, *, rate: float | None, throttled: bool) -> None:
        def learn(bucket: BucketState | None, now: float) -> tuple[BucketState | None, float]:
            if bucket is not None:
                bucket.report(now, rate, throttled)
            return bucket, 0.0

        self._update(name, learn)

    # -- storage ----------------------------------------------------------------------------
    def _unavailable(self, exc: ClientError) -> Exception:
        """DynamoDB throttling or trouble is transient (the state machine retries it)."""
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_DYNAMO_CODES:
            return StoreUnavailable(f"usage plan {self.pk}: DynamoDB answered {code}; retrying")
        return exc

    def _load(self, name: str) -> tuple[BucketState | None, int | None]:
        try:
            got = self.client.get_item(
                TableName=self.table, Key=self._key(name), ConsistentRead=True
            )
        except ClientError as exc:
            raise self._unavailable(exc) from exc
        item = got.get("Item")
        if item is None:
            return None, None
        numbers = {f: float(Decimal(item[f]["N"])) for f in ("rate", "burst", "tokens", "at")}
        return BucketState(**numbers), int(item["version"]["N"])

    def _update(
        self,
        name: str,
        change: Callable[[BucketState | None, float], tuple[BucketState | None, float]],
    ) -> float:
        """Apply ``change`` to the stored bucket with a conditional write; its result."""
        for _ in range(self.max_attempts):
            bucket, version = self._load(name)
            before = None if bucket is None else asdict(bucket)
            now = self._clock()
            after, result = change(bucket, now)
            if after is None or (before is not None and asdict(after) == before):
                return result  # nothing to write
            item: dict[str, Any] = self._key(name)
            for field, value in asdict(after).items():
                item[field] = {"N": repr(float(value))}
            item["version"] = {"N": str((version or 0) + 1)}
            item["expires_at"] = {"N": str(int(now + self.ttl_s))}
            try:
                if version is None:
                    self.client.put_item(
                        TableName=self.table,
                        Item=item,
                        ConditionExpression="attribute_not_exists(PK)",
                    )
                else:
                    self.client.put_item(
                        TableName=self.table,
                        Item=item,
                        ConditionExpression="version = :v",
                        ExpressionAttributeValues={":v": {"N": str(version)}},
                    )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise self._unavailable(exc) from exc
                self._sleep(self._random.uniform(0, 0.005))  # lost the race: read again
                continue
            return result
        raise StoreUnavailable(
            f"usage plan {self.pk}: gave up after {self.max_attempts} conflicting writes"
        )
