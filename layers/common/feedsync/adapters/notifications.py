"""Notifications on AWS: run events on EventBridge, run alerts by email through SNS, and
their records in the table (deliveries, the tenant's subscription, what was sent)."""

from __future__ import annotations

import base64
import json
import math
import time
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from feedsync.adapters.dynamo import _from_ddb, _to_ddb
from feedsync.domain.notifications import Claim
from feedsync.errors import InvalidRequest, NotificationError, NotificationUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SOURCE = "feedsync"
# (No boto3 stubs for events and sns are installed: their clients are typed Any.)
# Codes worth another try later; any other code is a configuration or input problem.
_TRANSIENT = frozenset(
    {"ThrottlingException", "Throttling", "Throttled", "InternalException", "InternalError",
     "InternalFailure", "ServiceUnavailable", "KMSThrottlingException"}
)  # fmt: skip
# Announcing a run's end sits inline in the start path and the API (29 s at most): a bus
# or topic that does not answer costs seconds, not botocore's 60 s reads and retries.
CLIENT_CONFIG = Config(
    connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 2, "mode": "standard"}
)
# Delivery records and "sent" marks expire (DynamoDB TTL on expires_at).
DELIVERY_TTL_S = 90 * 24 * 3600
DONE_TTL_S = 30 * 24 * 3600
# A channel's claim is free when nobody has it, or its holder did not finish in time.
_FREE = "attribute_not_exists(PK) OR (#s = :sending AND lease_until < :now)"


def _translated(exc: ClientError, what: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    if code in _TRANSIENT:
        return NotificationUnavailable(f"{what}: {code} {message}".strip())
    return NotificationError(f"{what}: {code} {message}".strip())


class EventBridgeRunEvents:
    """``ports.RunEvents``: one ``PutEvents`` entry per announcement."""

    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.client = client or boto3.client("events", config=CLIENT_CONFIG)

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str),
            "EventBusName": self.bus_name,
        }
        try:
            answer = self.client.put_events(Entries=[entry])
        except ClientError as exc:
            raise _translated(exc, f"EventBridge bus {self.bus_name}") from exc
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            code = failed.get("ErrorCode", "")
            text = f"EventBridge bus {self.bus_name}: {code} {failed.get('ErrorMessage', '')}"
            if code in _TRANSIENT:
                raise NotificationUnavailable(text.strip())
            raise NotificationError(text.strip())


# SNS refuses a Subject with a line break or control character, or of 100 characters.
SUBJECT_MAX = 99


def mail_subject(subject: str) -> str:
    """``subject`` as SNS takes it: control characters and line breaks (a profile's name
    may hold them) become spaces, runs of spaces one, cut to 99 characters."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in subject
    )
    return " ".join(cleaned.split())[:SUBJECT_MAX].rstrip()


def _filter(tenant_ids: list[str]) -> str:
    return json.dumps({"tenant_id": sorted(tenant_ids)})


class SnsEmailTopic:
    """``ports.EmailTopic``: one topic; an address receives only messages whose
    ``tenant_id`` attribute is one of the tenants that chose it (its filter policy)."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self.client = client or boto3.client("sns", config=CLIENT_CONFIG)

    def publish(self, tenant_id: str, subject: str, message: str) -> None:
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Subject=mail_subject(subject),
                Message=message,
                MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": tenant_id}},
            )
        except ClientError as exc:
            raise _translated(exc, "the notifications topic") from exc

    def subscribe(self, email: str, tenant_ids: list[str]) -> str:
        try:
            answer = self.client.subscribe(
                TopicArn=self.topic_arn,
                Protocol="email",
                Endpoint=email,
                Attributes={
                    "FilterPolicy": _filter(tenant_ids),
                    "FilterPolicyScope": "MessageAttributes",
                },
                ReturnSubscriptionArn=True,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidParameter":
                why = "the notifications topic refused this address"
                raise InvalidRequest("email", why) from exc
            raise _translated(exc, "the notifications topic") from exc
        return str(answer["SubscriptionArn"])

    def set_tenants(self, subscription_arn: str, tenant_ids: list[str]) -> None:
        try:
            self.client.set_subscription_attributes(
                SubscriptionArn=subscription_arn,
                AttributeName="FilterPolicy",
                AttributeValue=_filter(tenant_ids),
            )
        except ClientError as exc:
            raise _translated(exc, "the notifications topic") from exc

    def unsubscribe(self, subscription_arn: str) -> None:
        try:
            self.client.unsubscribe(SubscriptionArn=subscription_arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NotFound", "InvalidParameter"):
                raise _translated(exc, "the notifications topic") from exc

    def confirmed(self, subscription_arn: str) -> bool | None:
        try:
            attrs = self.client.get_subscription_attributes(SubscriptionArn=subscription_arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NotFound", "InvalidParameter"):
                return None
            raise _translated(exc, "the notifications topic") from exc
        return bool(attrs["Attributes"].get("PendingConfirmation", "false") != "true")


class DynamoNotificationLog:
    """``ports.NotificationLog`` in the single table, under the tenant's partition:
    ``WEBHOOK#<profile>#<delivery id>`` (time-ordered ids: newest first by a reverse
    query), ``NOTIFY#EMAIL`` and ``NOTIFIED#<key>`` (a channel's claim, then its sent mark);
    an alert address shared by tenants under ``NOTIFY_ADDRESS#<address>``."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client or boto3.client("dynamodb")

    @staticmethod
    def _pk(tenant_id: str) -> str:
        return f"TENANT#{tenant_id}"

    def claim(self, tenant_id: str, key: str, now: datetime, lease_s: float) -> Claim:
        at = int(now.timestamp())
        key_item = {"PK": self._pk(tenant_id), "SK": f"NOTIFIED#{key}"}
        item = {**key_item, "state": "sending", "lease_until": at + math.ceil(lease_s)}
        item["expires_at"] = at + DONE_TTL_S
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_to_ddb(item),
                ConditionExpression=_FREE,
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues=_to_ddb({":sending": "sending", ":now": at}),
            )
            return "claimed"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        answer = self.client.get_item(
            TableName=self.table, Key=_to_ddb(key_item), ConsistentRead=True
        )
        found = _from_ddb(answer["Item"]) if "Item" in answer else {"state": "sending"}
        # A mark from before claims (no state) is a sent one.
        return "busy" if found.get("state") == "sending" else "sent"

    def mark_done(self, tenant_id: str, key: str) -> None:
        item: dict[str, Any] = {"PK": self._pk(tenant_id), "SK": f"NOTIFIED#{key}"}
        item["state"] = "sent"
        item["expires_at"] = int(time.time()) + DONE_TTL_S
        self.client.put_item(TableName=self.table, Item=_to_ddb(item))

    def release(self, tenant_id: str, key: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=_to_ddb({"PK": self._pk(tenant_id), "SK": f"NOTIFIED#{key}"}),
                ConditionExpression="#s = :sending",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues=_to_ddb({":sending": "sending"}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def put_delivery(self, tenant_id: str, delivery: dict[str, Any]) -> None:
        sk = f"WEBHOOK#{delivery['profile_id']}#{delivery['delivery_id']}"
        item = {**delivery, "PK": self._pk(tenant_id), "SK": sk, "kind": "webhook_delivery"}
        item["expires_at"] = int(time.time()) + DELIVERY_TTL_S
        self.client.put_item(TableName=self.table, Item=_to_ddb(item))

    def list_deliveries(
        self, tenant_id: str, profile_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        prefix = f"WEBHOOK#{profile_id}#"
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": _to_ddb({":pk": self._pk(tenant_id), ":p": prefix}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            try:
                sk = base64.urlsafe_b64decode(cursor.encode()).decode()
            except ValueError:
                sk = ""
            if not sk.startswith(prefix):
                raise InvalidRequest("cursor", "not a cursor this list gave out")
            query["ExclusiveStartKey"] = _to_ddb({"PK": self._pk(tenant_id), "SK": sk})
        answer = self.client.query(**query)
        items = [_from_ddb(i) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = None
        if last and len(items) == limit:
            next_cursor = base64.urlsafe_b64encode(_from_ddb(last)["SK"].encode()).decode()
        for item in items:
            for name in ("PK", "SK", "kind", "expires_at"):
                item.pop(name, None)
        return items, next_cursor

    def get_email(self, tenant_id: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=_to_ddb({"PK": self._pk(tenant_id), "SK": "NOTIFY#EMAIL"})
        )
        return _from_ddb(answer["Item"]) if "Item" in answer else None

    def put_email(self, tenant_id: str, email: str) -> None:
        item = {
            "PK": self._pk(tenant_id),
            "SK": "NOTIFY#EMAIL",
            "kind": "notification_email",
            "email": email,
        }
        self.client.put_item(TableName=self.table, Item=_to_ddb(item))

    def delete_email(self, tenant_id: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key=_to_ddb({"PK": self._pk(tenant_id), "SK": "NOTIFY#EMAIL"})
        )

    @staticmethod
    def _address_key(email: str) -> dict[str, Any]:
        return _to_ddb({"PK": f"NOTIFY_ADDRESS#{email}", "SK": "NOTIFY_ADDRESS"})

    def get_address(self, email: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=self._address_key(email), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        item = _from_ddb(answer["Item"])
        return {
            "tenants": sorted(item.get("tenants", [])),
            "subscription_arn": item["subscription_arn"],
            "version": int(item["version"]),
        }

    def save_address(
        self, email: str, tenants: list[str], subscription_arn: str, version: int | None
    ) -> bool:
        item = {
            **_from_ddb(self._address_key(email)),
            "kind": "notification_address",
            "tenants": list(tenants),
            "subscription_arn": subscription_arn,
            "version": (version or 0) + 1,
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        if version is not None:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": _to_ddb({":v": version}),
            }
        try:
            self.client.put_item(TableName=self.table, Item=_to_ddb(item), **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete_address(self, email: str, version: int) -> bool:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=self._address_key(email),
                ConditionExpression="version = :v",
                ExpressionAttributeValues=_to_ddb({":v": version}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
