"""Tenant records and memberships in the single table.

A membership is one item per user, ``PK=USER#<sub>``, ``SK=USER`` (the authorizer's one
read), indexed under its tenant on GSI1 (``TENANT#<t>#USERS``) for the Users page. A tenant's
record is ``PK=TENANT#<t>``, ``SK=TENANT`` (its name, who made it, when).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.adapters.dynamo import _from_ddb, _to_ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SK = "USER"


def _pk(sub: str) -> str:
    return f"USER#{sub}"


def _by_tenant(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#USERS"


def _failed_condition(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) == "ConditionalCheckFailedException"


class DynamoMembers:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client or boto3.client("dynamodb")

    def get_member(self, sub: str) -> dict[str, Any] | None:
        got = self.client.get_item(
            TableName=self.table, Key=_to_ddb({"PK": _pk(sub), "SK": _SK}), ConsistentRead=True
        )
        return _from_ddb(got["Item"]) if "Item" in got else None

    def put_member(self, member: dict[str, Any], new: bool = True) -> bool:
        item = {
            **member,
            "PK": _pk(member["sub"]),
            "SK": _SK,
            "kind": "member",
            "GSI1PK": _by_tenant(member["tenant_id"]),
            "GSI1SK": _pk(member["sub"]),
        }
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": _to_ddb(item)}
        if new:
            kwargs["ConditionExpression"] = "attribute_not_exists(PK)"
        try:
            self.client.put_item(**kwargs)
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def list_members(self, tenant_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": _to_ddb({":pk": _by_tenant(tenant_id)}),
        }
        while True:
            page = self.client.query(**kwargs)
            items.extend(_from_ddb(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def update_member(self, sub: str, tenant_id: str, **fields: Any) -> bool:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _pk(sub), "SK": _SK}),
                UpdateExpression=f"SET {sets}",
                ConditionExpression="tenant_id = :tenant",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_ddb({**values, ":tenant": tenant_id}),
            )
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def delete_member(self, sub: str, tenant_id: str) -> bool:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=_to_ddb({"PK": _pk(sub), "SK": _SK}),
                ConditionExpression="tenant_id = :tenant",
                ExpressionAttributeValues=_to_ddb({":tenant": tenant_id}),
            )
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def owner_steps_down(self, sub: str, tenant_id: str, keeper: str, role: str | None) -> bool:
        # The keeper's condition and the change commit together: of two owners demoting each
        # other at once, the second finds its keeper no longer an owner.
        tenant = _to_ddb({":t": tenant_id})
        keeper_check: dict[str, Any] = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": _to_ddb({"PK": _pk(keeper), "SK": _SK}),
                "ConditionExpression": "tenant_id = :t AND #r = :owner"
                " AND (#s = :active OR attribute_not_exists(#s))",
                "ExpressionAttributeNames": {"#r": "role", "#s": "status"},
                "ExpressionAttributeValues": {
                    **tenant, **_to_ddb({":owner": "owner", ":active": "active"})
                },
            }
        }  # fmt: skip
        change: dict[str, Any]
        if role is None:
            change = {"Delete": {"TableName": self.table,
                                 "Key": _to_ddb({"PK": _pk(sub), "SK": _SK}),
                                 "ConditionExpression": "tenant_id = :t",
                                 "ExpressionAttributeValues": tenant}}  # fmt: skip
        else:
            change = {"Update": {"TableName": self.table,
                                 "Key": _to_ddb({"PK": _pk(sub), "SK": _SK}),
                                 "UpdateExpression": "SET #r = :role",
                                 "ConditionExpression": "tenant_id = :t",
                                 "ExpressionAttributeNames": {"#r": "role"},
                                 "ExpressionAttributeValues": {
                                     **tenant, **_to_ddb({":role": role})}}}  # fmt: skip
        together: list[Any] = [keeper_check, change]
        try:
            self.client.transact_write_items(TransactItems=together)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("TransactionCanceledException", "TransactionConflictException"):
                return False
            raise
        return True

    def create_tenant(self, tenant_id: str, name: str, created_at: str, created_by: str) -> None:
        item = {
            "PK": f"TENANT#{tenant_id}",
            "SK": "TENANT",
            "kind": "tenant",
            "tenant_id": tenant_id,
            "name": name,
            "created_at": created_at,
            "created_by": created_by,
            # active until the operator disables it; listed by `feedsync admin tenants list`
            # (adapters/accounts.py reads the same item)
            "status": "active",
            "GSI1PK": "TENANTS",
            "GSI1SK": f"TENANT#{tenant_id}",
        }
        self.client.put_item(
            TableName=self.table, Item=_to_ddb(item), ConditionExpression="attribute_not_exists(PK)"
        )

    def get_tenant(self, tenant_id: str) -> dict[str, Any] | None:
        got = self.client.get_item(
            TableName=self.table,
            Key=_to_ddb({"PK": f"TENANT#{tenant_id}", "SK": "TENANT"}),
            ConsistentRead=True,
        )
        return _from_ddb(got["Item"]) if "Item" in got else None
