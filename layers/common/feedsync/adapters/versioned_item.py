"""One DynamoDB item of numbers that workers in different processes change in turn.

The store's rate budget and the seller's usage plans are each a handful of numbers that
every update shard, catalog refresh and import of one store reads and changes before a
request. Each change is read, decide, write-if-unchanged: the item carries a ``version``
every write checks, and a worker that lost the race reads again (a few milliseconds
apart, jittered). ``expires_at`` (the table's TTL) lets an idle store's item go. Time
is the caller's clock (wall-clock epoch seconds on Lambda, the one clock every host
shares).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.exceptions import ClientError

from feedsync.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# DynamoDB's answers that are worth another try (the state machine retries the step).
TRANSIENT_DYNAMO_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

Numbers = dict[str, Decimal]
Result = TypeVar("Result")
# A change: the item's numbers (None: no item yet) and the time -> the numbers to write
# (None: nothing to write) and what the caller gets back.
Change = Callable[[Numbers | None, float], tuple[dict[str, float | int] | None, Result]]


class VersionedItem:
    """The item ``key`` of ``table``, changed only by conditional writes on its version."""

    max_attempts = 100
    ttl_s = 24 * 3600

    def __init__(
        self,
        table_name: str,
        key: dict[str, Any],
        what: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table_name
        self.key = key
        self.what = what  # names the item in errors: "store rate budget BUDGET#..."
        self.client: DynamoDBClient = client or boto3.client("dynamodb")
        self._clock = clock
        self._sleep = sleep  # only between lost races, a few milliseconds
        self._random = random.Random()

    def load(self) -> tuple[Numbers | None, int | None]:
        """The item's numbers and version (None, None: there is no item)."""
        try:
            got = self.client.get_item(TableName=self.table, Key=self.key, ConsistentRead=True)
        except ClientError as exc:
            raise self._unavailable(exc) from exc
        item = got.get("Item")
        if item is None:
            return None, None
        numbers = {name: Decimal(value["N"]) for name, value in item.items() if "N" in value}
        return numbers, int(numbers.pop("version"))

    def update(self, change: Change[Result]) -> Result:
        """Apply ``change`` to the stored numbers with a conditional write; its result."""
        for _ in range(self.max_attempts):
            numbers, version = self.load()
            now = self._clock()
            after, result = change(numbers, now)
            if after is None:
                return result  # nothing to write
            if self._write(after, version, now):
                return result
            self._sleep(self._random.uniform(0, 0.005))  # lost the race: read again
        raise StoreUnavailable(f"{self.what}: gave up after {self.max_attempts} conflicting writes")

    def _write(self, numbers: dict[str, float | int], version: int | None, now: float) -> bool:
        """Write if the item is still at ``version`` (absent when None); False: it moved."""
        item: dict[str, Any] = dict(self.key)
        for name, value in numbers.items():
            item[name] = {"N": repr(value)}
        item["version"] = {"N": str((version or 0) + 1)}
        item["expires_at"] = {"N": str(int(now + self.ttl_s))}
        try:
            if version is None:
                self.client.put_item(
                    TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(PK)"
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
            return False
        return True

    def _unavailable(self, exc: ClientError) -> Exception:
        """DynamoDB throttling or trouble is transient (the state machine retries it)."""
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_DYNAMO_CODES:
            return StoreUnavailable(f"{self.what}: DynamoDB answered {code}; retrying")
        return exc
