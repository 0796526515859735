"""DynamoDB single-table repository: stores, profiles, runs, run locks (API keys and
accounts: adapters/accounts.py).

Keys are scoped by tenant (PK ``TENANT#<id>``) so one tenant can never read
another's items by guessing ids. Per-item catalog values never live here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from feedsync.models import Profile, Run, RunSummary, Store, TenantSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ser = TypeSerializer()
# Keys live a day (DynamoDB TTL on expires_at): longer than any redelivery or retry.
_IDEMPOTENCY_TTL_S = 24 * 3600
_de = TypeDeserializer()

# BatchGetItem takes at most 100 keys; keys it leaves unprocessed are asked again this often.
BATCH_GET_KEYS = 100
BATCH_GET_ATTEMPTS = 8


def _plain(value: Any) -> Any:
    """JSON-shaped value for DynamoDB (datetimes as ISO text, models as maps)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):  # DynamoDB numbers are decimals (a limit of 0.5, a share)
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(_plain(v)) for k, v in item.items()}


def _from_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _numbers(_de.deserialize(v)) for k, v in item.items()}


def query_prefix(client: Any, table: str, pk: str, prefix: str) -> list[dict[str, Any]]:
    """Every item of partition ``pk`` whose sort key starts with ``prefix``, all pages."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
        "ExpressionAttributeValues": _to_ddb({":pk": pk, ":p": prefix}),
    }
    while True:
        page = client.query(**kwargs)
        items.extend(_from_ddb(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _tenant(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


class DynamoRepository:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client or boto3.client("dynamodb")

    # ------------------------------------------------------------------ primitives
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        got = self.client.get_item(
            TableName=self.table, Key=_to_ddb({"PK": pk, "SK": sk}), ConsistentRead=True
        )
        return _from_ddb(got["Item"]) if "Item" in got else None

    def _put(self, pk: str, sk: str, body: dict[str, Any], **extra: Any) -> None:
        item = {**body, "PK": pk, "SK": sk, **extra}
        self.client.put_item(TableName=self.table, Item=_to_ddb(item))

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return query_prefix(self.client, self.table, pk, prefix)

    def _update(
        self, pk: str, sk: str, fields: dict[str, Any], condition: str | None = None
    ) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": _to_ddb({"PK": pk, "SK": sk}),
            "UpdateExpression": f"SET {sets}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _to_ddb(values),
            "ConditionExpression": condition or "attribute_exists(PK)",
        }
        self.client.update_item(**kwargs)

    # ---------------------------------------------------------------------- tenants
    def get_tenant_settings(self, tenant_id: str) -> TenantSettings | None:
        item = self._get(_tenant(tenant_id), "SETTINGS")
        return TenantSettings.model_validate(item) if item else None

    def put_tenant_settings(self, settings: TenantSettings) -> None:
        body = settings.model_dump(mode="json")
        self._put(_tenant(settings.tenant_id), "SETTINGS", body, kind="settings")

    # ----------------------------------------------------------------------- stores
    def put_store(self, store: Store) -> None:
        body = store.model_dump(mode="json")
        self._put(_tenant(store.tenant_id), f"STORE#{store.store_id}", body, kind="store")

    def get_store(self, tenant_id: str, store_id: str) -> Store | None:
        item = self._get(_tenant(tenant_id), f"STORE#{store_id}")
        return Store.model_validate(item) if item else None

    def list_stores(self, tenant_id: str) -> list[Store]:
        return [Store.model_validate(i) for i in self._query(_tenant(tenant_id), "STORE#")]

    def update_store(self, tenant_id: str, store_id: str, **fields: Any) -> None:
        self._update(_tenant(tenant_id), f"STORE#{store_id}", fields)

    # --------------------------------------------------------------------- profiles
    def put_profile(self, profile: Profile) -> None:
        body = profile.model_dump(mode="json", exclude_none=True)
        # A limit switched off is null, not absent (absent reads back as the default).
        body["limits"] = profile.limits.model_dump(mode="json")
        self._put(_tenant(profile.tenant_id), f"PROFILE#{profile.profile_id}", body, kind="profile")

    def get_profile(self, tenant_id: str, profile_id: str) -> Profile | None:
        item = self._get(_tenant(tenant_id), f"PROFILE#{profile_id}")
        return Profile.model_validate(item) if item else None

    def list_profiles(self, tenant_id: str) -> list[Profile]:
        return [Profile.model_validate(i) for i in self._query(_tenant(tenant_id), "PROFILE#")]

    def count_profiles(self, tenant_id: str) -> int:
        """The tenant's profiles, counted by DynamoDB (no item is sent or decoded)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": _to_ddb({":pk": _tenant(tenant_id), ":p": "PROFILE#"}),
            "Select": "COUNT",
        }
        count = 0
        while True:
            page = self.client.query(**kwargs)
            count += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return count
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def update_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> None:
        self._update(_tenant(tenant_id), f"PROFILE#{profile_id}", fields)

    def update_idle_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> bool:
        """Update only while no run holds the profile's lock (the lock's own condition, the
        other way round); False when one does (or the profile is gone)."""
        condition = "attribute_exists(PK) AND attribute_not_exists(current_run_id)"
        try:
            self._update(_tenant(tenant_id), f"PROFILE#{profile_id}", fields, condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def clear_pending_upload(
        self, tenant_id: str, profile_id: str, key: str, version: str | None
    ) -> None:
        """Forget ``pending_upload`` only while it still names that key and version (a file
        stored since stays pending)."""
        values: dict[str, Any] = {":k": key}
        condition = "pending_upload.#k = :k AND "
        if version is None:
            # (a bucket without versioning: stored as null)
            condition += (
                "(attribute_not_exists(pending_upload.version)"
                " OR attribute_type(pending_upload.version, :null))"
            )
            values[":null"] = "NULL"
        else:
            condition += "pending_upload.version = :v"
            values[":v"] = version
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"PROFILE#{profile_id}"}),
                UpdateExpression="REMOVE pending_upload",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues=_to_ddb(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # (failed: another file is pending now, or none is)

    def record_source_check(self, tenant_id: str, profile_id: str, at: datetime) -> None:
        """ADD (not read-modify-write): checks from two fires at once both count."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"PROFILE#{profile_id}"}),
                UpdateExpression="ADD checks :one SET last_checked_at = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=_to_ddb({":one": 1, ":at": at}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # (failed: the profile was deleted meanwhile, nothing to record)

    def delete_store(self, tenant_id: str, store_id: str) -> bool:
        return self._delete(_tenant(tenant_id), f"STORE#{store_id}", "attribute_exists(PK)")

    def delete_profile(self, tenant_id: str, profile_id: str) -> bool:
        condition = "attribute_exists(PK) AND attribute_not_exists(current_run_id)"
        return self._delete(_tenant(tenant_id), f"PROFILE#{profile_id}", condition)

    def _delete(self, pk: str, sk: str, condition: str) -> bool:
        """Delete if ``condition`` holds; False when it does not (or the item is gone)."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=_to_ddb({"PK": pk, "SK": sk}),
                ConditionExpression=condition,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def acquire_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, since: datetime
    ) -> bool:
        update = "SET current_run_id = :r, current_run_since = :since, #s = :running"
        values: dict[str, Any] = {":r": run_id, ":since": since, ":running": "running"}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"PROFILE#{profile_id}"}),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(current_run_id)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, summary: RunSummary, synced: bool
    ) -> None:
        values: dict[str, Any] = {":r": run_id, ":ready": "ready", ":last": summary}
        update = "SET #s = :ready, last_run = :last"
        if synced:
            update += ", last_sync_at = :at"
            values[":at"] = summary.finished_at
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"PROFILE#{profile_id}"}),
                UpdateExpression=f"{update} REMOVE current_run_id, current_run_since",
                ConditionExpression="current_run_id = :r",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb(values),
            )
        except ClientError as exc:
            # Already released (a retried finalize) or the profile was deleted: nothing to do.
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    # ------------------------------------------------------------------ idempotency
    def claim_idempotency_key(self, tenant_id: str, key: str, run_id: str) -> str | None:
        expires = int(time.time()) + _IDEMPOTENCY_TTL_S
        item = {"PK": _tenant(tenant_id), "SK": f"IDEM#{key}", "run_id": run_id}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_to_ddb({**item, "kind": "idempotency", "expires_at": expires}),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            held = self._get(_tenant(tenant_id), f"IDEM#{key}")
            return str(held["run_id"]) if held else None
        return None

    def drop_idempotency_key(self, tenant_id: str, key: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"IDEM#{key}"})
        )

    # ------------------------------------------------------------------------- runs
    def put_run(self, run: Run) -> None:
        body = run.model_dump(mode="json")
        self._put(
            _tenant(run.tenant_id),
            f"RUN#{run.run_id}",
            body,
            kind="run",
            GSI1PK=f"{_tenant(run.tenant_id)}#PROFILE#{run.profile_id}",
            GSI1SK=f"RUN#{run.run_id}",
        )

    def get_run(self, tenant_id: str, run_id: str) -> Run | None:
        item = self._get(_tenant(tenant_id), f"RUN#{run_id}")
        return Run.model_validate(item) if item else None

    def list_runs(self, tenant_id: str, profile_id: str, limit: int = 50) -> list[Run]:
        return self.runs_page(tenant_id, profile_id, limit, None)[0]

    def runs_page(
        self, tenant_id: str, profile_id: str, limit: int, after: str | None
    ) -> tuple[list[Run], str | None]:
        by_profile = f"{_tenant(tenant_id)}#PROFILE#{profile_id}"
        query: dict[str, Any] = {}
        if after is not None:  # the index key of the page before's last run
            sk = f"RUN#{after}"
            query["ExclusiveStartKey"] = _to_ddb(
                {"PK": _tenant(tenant_id), "SK": sk, "GSI1PK": by_profile, "GSI1SK": sk}
            )
        page = self.client.query(
            TableName=self.table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues=_to_ddb({":pk": by_profile}),
            ScanIndexForward=False,
            Limit=limit,
            **query,
        )
        runs = [Run.model_validate(_from_ddb(i)) for i in page.get("Items", [])]
        more = "LastEvaluatedKey" in page and bool(runs)
        return runs, (runs[-1].run_id if more else None)

    def update_run(self, tenant_id: str, run_id: str, **fields: Any) -> None:
        self._update(_tenant(tenant_id), f"RUN#{run_id}", fields)

    def get_runs(self, tenant_id: str, run_ids: Iterable[str]) -> dict[str, Run]:
        """Many runs in BatchGetItem requests (100 keys each, DynamoDB's limit; the keys it
        leaves unprocessed asked again): one request for a page of the home page's runs."""
        wanted = sorted(set(run_ids))
        found: dict[str, Run] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            keys = [
                _to_ddb({"PK": _tenant(tenant_id), "SK": f"RUN#{run_id}"})
                for run_id in wanted[start : start + BATCH_GET_KEYS]
            ]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(BATCH_GET_ATTEMPTS):
                got = self.client.batch_get_item(RequestItems=request)
                for item in got.get("Responses", {}).get(self.table, []):
                    run = Run.model_validate(_from_ddb(item))
                    found[run.run_id] = run
                request = got.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))  # throttled: back off, ask the rest
        return found

    def set_shard_progress(self, tenant_id: str, run_id: str, shard: int, done: int) -> bool:
        # Absolute per-shard counts (not ADD): a retried shard re-sets, never double-counts.
        got = self.client.update_item(
            TableName=self.table,
            Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"RUN#{run_id}"}),
            UpdateExpression="SET progress.shards.#s = :n",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#s": str(shard)},
            ExpressionAttributeValues=_to_ddb({":n": done}),
            ReturnValues="ALL_NEW",
        )
        held = got.get("Attributes", {}).get("cancel_requested_at")
        return held is not None and "NULL" not in held

    def cancel_requested(self, tenant_id: str, run_id: str) -> bool:
        got = self.client.get_item(
            TableName=self.table,
            Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"RUN#{run_id}"}),
            ProjectionExpression="cancel_requested_at",
        )
        held = got.get("Item", {}).get("cancel_requested_at")
        return held is not None and "NULL" not in held
