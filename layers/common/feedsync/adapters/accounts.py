"""Accounts in the table: API keys, the audit trail, sign-ins seen, tenants' own records.

Items (the single table, see ARCHITECTURE.md "Data"):
- ``PK=KEY#<sha256(key)>, SK=KEY``: the lookup the authorizer reads (tenant, key id, name,
  role, ``last_used_at``); ``PK=TENANT#t, SK=APIKEY#<id>``: the tenant's listing item (no
  secret; the hash, to find the lookup item on revocation).
- ``PK=TENANT#t, SK=AUDIT#<time>#<random>``: one event, read newest first; DynamoDB TTL on
  ``expires_at``.
- ``PK=TENANT#t, SK=SIGNIN#<session>``: a Cognito sign-in already recorded (TTL).
- ``PK=TENANT#t, SK=TENANT``: name, status (written by adapters/members.py); its
  ``GSI1PK=TENANTS`` lists every tenant.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.adapters.dynamo import _from_ddb, _to_ddb, query_prefix
from feedsync.errors import InvalidRequest
from feedsync.models.accounts import ApiKeyRecord, TenantRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TENANTS_INDEX_KEY = "TENANTS"
# Sign-in sessions this process has claimed or seen claimed: their next requests cost no
# write (the conditional put is the truth; this only spares repeating it).
_SIGN_INS_REMEMBERED = 10_000
_LOOKUP_FIELDS = ("tenant_id", "key_id", "name", "role", "created_at", "created_by")


def _tenant(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoAccounts:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client or boto3.client("dynamodb")
        self._sign_ins: set[tuple[str, str]] = set()

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        got = self.client.get_item(
            TableName=self.table, Key=_to_ddb({"PK": pk, "SK": sk}), ConsistentRead=True
        )
        return _from_ddb(got["Item"]) if "Item" in got else None

    # --------------------------------------------------------------------- API keys
    def put_api_key(self, record: ApiKeyRecord) -> None:
        body = record.model_dump(mode="json", exclude_none=True)
        lookup = {k: body[k] for k in _LOOKUP_FIELDS}
        listing = {k: v for k, v in body.items() if k != "last_used_at"}
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _to_ddb(
                            {**lookup, "PK": f"KEY#{record.key_hash}", "SK": "KEY",
                             "kind": "api_key"}
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _to_ddb(
                            {**listing, "PK": _tenant(record.tenant_id),
                             "SK": f"APIKEY#{record.key_id}", "kind": "api_key_listing"}
                        ),
                    }
                },
            ]
        )  # fmt: skip

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(f"KEY#{key_hash}", "KEY")
        if item is None:
            return None
        # A key stored before keys had names and roles (the previous release's) is the
        # tenant's owner key "default": listed from its first use, so it can be revoked.
        record = _legacy_record(key_hash, item)
        if "key_id" not in item:
            self.list_legacy_key(record)
        return record

    def list_legacy_key(self, record: ApiKeyRecord) -> bool:
        """Give an old key its name, role and listing item (once: a concurrent use, or a
        revocation meanwhile, makes this a no-op). True when this call listed it."""
        body = record.model_dump(mode="json", exclude_none=True)
        named = {k: body[k] for k in _LOOKUP_FIELDS if k != "tenant_id"}
        listing = {k: v for k, v in body.items() if k != "last_used_at"}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _to_ddb({"PK": f"KEY#{record.key_hash}", "SK": "KEY"}),
                            "UpdateExpression": "SET "
                            + ", ".join(f"#{k} = :{k}" for k in named),
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "attribute_not_exists(key_id)",
                            "ExpressionAttributeNames": {f"#{k}": k for k in named},
                            "ExpressionAttributeValues": _to_ddb(
                                {f":{k}": v for k, v in named.items()}
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": _to_ddb(
                                {**listing, "PK": _tenant(record.tenant_id),
                                 "SK": f"APIKEY#{record.key_id}", "kind": "api_key_listing"}
                            ),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )  # fmt: skip
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def legacy_keys(self) -> list[ApiKeyRecord]:
        """Every key still stored the old way (a scan: for the operator's one-off migration)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "SK = :k AND begins_with(PK, :p) AND attribute_not_exists(key_id)",
            "ExpressionAttributeValues": _to_ddb({":k": "KEY", ":p": "KEY#"}),
        }
        found: list[ApiKeyRecord] = []
        while True:
            page = self.client.scan(**kwargs)
            for raw in page.get("Items", []):
                item = _from_ddb(raw)
                found.append(_legacy_record(str(item["PK"])[4:], item))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        listed = self._query(_tenant(tenant_id), "APIKEY#")
        if not listed:
            return []
        # last_used_at is kept on the lookup items (the authorizer's one write): read them.
        used: dict[str, Any] = {}
        hashes = [str(item["key_hash"]) for item in listed]
        for start in range(0, len(hashes), 100):
            keys = [_to_ddb({"PK": f"KEY#{h}", "SK": "KEY"}) for h in hashes[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                got = self.client.batch_get_item(RequestItems=request)
                for raw in got.get("Responses", {}).get(self.table, []):
                    item = _from_ddb(raw)
                    used[str(item["PK"])[4:]] = item.get("last_used_at")
                request = got.get("UnprocessedKeys") or {}
        return [
            ApiKeyRecord.model_validate({**item, "last_used_at": used.get(str(item["key_hash"]))})
            for item in listed
        ]

    def delete_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord | None:
        item = self._get(_tenant(tenant_id), f"APIKEY#{key_id}")
        if item is None:
            return None
        record = ApiKeyRecord.model_validate(item)
        # The lookup first: from this write on the authorizer refuses the key.
        self.client.delete_item(
            TableName=self.table, Key=_to_ddb({"PK": f"KEY#{record.key_hash}", "SK": "KEY"})
        )
        self.client.delete_item(
            TableName=self.table, Key=_to_ddb({"PK": _tenant(tenant_id), "SK": f"APIKEY#{key_id}"})
        )
        return record

    def touch_api_key(self, key_hash: str, at: datetime) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": f"KEY#{key_hash}", "SK": "KEY"}),
                UpdateExpression="SET last_used_at = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=_to_ddb({":at": at}),
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise  # (failed: revoked meanwhile; nothing to touch)

    # ------------------------------------------------------------------------ audit
    def put_audit(self, tenant_id: str, event: dict[str, Any], expires_at: int) -> None:
        sort = f"AUDIT#{event['at']}#{event['id']}"
        item = {**event, "PK": _tenant(tenant_id), "SK": sort, "kind": "audit"}
        self.client.put_item(TableName=self.table, Item=_to_ddb({**item, "expires_at": expires_at}))

    def audit_page(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": _to_ddb({":pk": _tenant(tenant_id), ":p": "AUDIT#"}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _to_ddb({"PK": _tenant(tenant_id), "SK": _sk_of(cursor)})
        page = self.client.query(**kwargs)
        events = [_from_ddb(i) for i in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        following = _cursor_of(str(_from_ddb(last)["SK"])) if last and events else None
        return events, following

    def claim_sign_in(self, tenant_id: str, session: str, expires_at: int) -> bool:
        if (tenant_id, session) in self._sign_ins:
            return False
        if len(self._sign_ins) >= _SIGN_INS_REMEMBERED:
            self._sign_ins.clear()
        item = {"PK": _tenant(tenant_id), "SK": f"SIGNIN#{session}", "kind": "sign_in"}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_to_ddb({**item, "expires_at": expires_at}),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                self._sign_ins.add((tenant_id, session))
                return False
            raise
        self._sign_ins.add((tenant_id, session))
        return True

    # ---------------------------------------------------------------------- tenants
    def get_tenant(self, tenant_id: str) -> TenantRecord | None:
        item = self._get(_tenant(tenant_id), "TENANT")
        return TenantRecord.model_validate(item) if item else None

    def list_tenants(self) -> list[TenantRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :t",
            "ExpressionAttributeValues": _to_ddb({":t": TENANTS_INDEX_KEY}),
        }
        found: list[TenantRecord] = []
        while True:
            page = self.client.query(**kwargs)
            found.extend(TenantRecord.model_validate(_from_ddb(i)) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def set_tenant_status(self, tenant_id: str, status: str, reason: str | None) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _tenant(tenant_id), "SK": "TENANT"}),
                UpdateExpression="SET #s = :s, disabled_reason = :r",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb({":s": status, ":r": reason}),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def count_runs_since(self, tenant_id: str, first_run_id: str) -> int:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :a AND :z",
            "ExpressionAttributeValues": _to_ddb(
                {":pk": _tenant(tenant_id), ":a": f"RUN#{first_run_id}", ":z": "RUN#\uffff"}
            ),
            "Select": "COUNT",
        }
        count = 0
        while True:
            page = self.client.query(**kwargs)
            count += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return count
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return query_prefix(self.client, self.table, pk, prefix)


def _legacy_record(key_hash: str, item: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord.model_validate(
        {
            "key_id": f"key_{key_hash[:16]}",
            "name": "default",
            "role": "owner",
            "created_at": "1970-01-01T00:00:00Z",
            "created_by": "operator",
            **{k: v for k, v in item.items() if k in (*_LOOKUP_FIELDS, "last_used_at")},
            "key_hash": key_hash,
        }
    )


def _cursor_of(sort_key: str) -> str:
    """Opaque to the caller: the last event's sort key, base64url."""
    raw = json.dumps({"sk": sort_key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _sk_of(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key = json.loads(raw)["sk"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidRequest("cursor", "not a cursor this API gave (use `next`)") from None
    if not isinstance(sort_key, str) or not sort_key.startswith("AUDIT#"):
        raise InvalidRequest("cursor", "not a cursor this API gave (use `next`)")
    return sort_key
