"""In-memory fakes of the notification ports (the bus, the topic, webhook HTTP, records)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from feedsync.domain.notifications import Claim, WebhookAnswer
from feedsync.errors import InvalidRequest


class FakeRunEvents:
    def __init__(self, fail: Exception | None = None) -> None:
        self.put_events: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def put(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.fail is not None:
            raise self.fail
        self.put_events.append((detail_type, detail))

    def statuses(self) -> list[str]:
        return [detail["status"] for _, detail in self.put_events]


class FakeEmailTopic:
    """SNS's rule: one subscription per address (a second subscribe of the same address
    with another filter is refused, as on AWS)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, str]] = []
        self.subscriptions: dict[str, tuple[list[str], str]] = {}  # arn -> (tenants, email)
        self.confirmed_arns: set[str] = set()
        self.made = 0

    def publish(self, tenant_id: str, subject: str, message: str) -> None:
        self.published.append((tenant_id, subject, message))

    def subscribe(self, email: str, tenant_ids: list[str]) -> str:
        for arn, (tenants, address) in self.subscriptions.items():
            if address == email:
                if sorted(tenants) != sorted(tenant_ids):
                    raise InvalidRequest("email", "subscription exists with other attributes")
                return arn
        self.made += 1
        arn = f"arn:sub:{self.made}"
        self.subscriptions[arn] = (sorted(tenant_ids), email)
        return arn

    def set_tenants(self, subscription_arn: str, tenant_ids: list[str]) -> None:
        _, email = self.subscriptions[subscription_arn]
        self.subscriptions[subscription_arn] = (sorted(tenant_ids), email)

    def unsubscribe(self, subscription_arn: str) -> None:
        self.subscriptions.pop(subscription_arn, None)

    def confirmed(self, subscription_arn: str) -> bool | None:
        if subscription_arn not in self.subscriptions:
            return None
        return subscription_arn in self.confirmed_arns

    def receivers(self, tenant_id: str) -> list[str]:
        """The addresses a message for the tenant reaches."""
        return sorted(e for tenants, e in self.subscriptions.values() if tenant_id in tenants)


class ScriptedPoster:
    """Answers each POST from a script (the last answer repeats) and keeps what was sent."""

    def __init__(self, *answers: WebhookAnswer) -> None:
        self.answers = list(answers) or [WebhookAnswer(200)]
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.on_post: Callable[[], None] | None = None

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout_s: float
    ) -> WebhookAnswer:
        self.sent.append((url, body, headers))
        if self.on_post is not None:
            self.on_post()
        return self.answers[min(len(self.sent), len(self.answers)) - 1]


class FakeNotificationLog:
    def __init__(self) -> None:
        self.marks: set[tuple[str, str]] = set()
        self.claims: dict[tuple[str, str], datetime] = {}  # -> lease until
        self.deliveries: list[tuple[str, dict[str, Any]]] = []
        self.emails: dict[str, dict[str, Any]] = {}
        self.addresses: dict[str, dict[str, Any]] = {}

    def claim(self, tenant_id: str, key: str, now: datetime, lease_s: float) -> Claim:
        held = self.claims.get((tenant_id, key))
        if (tenant_id, key) in self.marks:
            return "sent"
        if held is not None and held > now:
            return "busy"
        self.claims[(tenant_id, key)] = now + timedelta(seconds=lease_s)
        return "claimed"

    def mark_done(self, tenant_id: str, key: str) -> None:
        self.claims.pop((tenant_id, key), None)
        self.marks.add((tenant_id, key))

    def release(self, tenant_id: str, key: str) -> None:
        self.claims.pop((tenant_id, key), None)

    def put_delivery(self, tenant_id: str, delivery: dict[str, Any]) -> None:
        self.deliveries.append((tenant_id, delivery))

    def list_deliveries(
        self, tenant_id: str, profile_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        mine = [d for t, d in reversed(self.deliveries) if t == tenant_id]
        mine = [d for d in mine if d["profile_id"] == profile_id]
        start = int(cursor or 0)
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return page, str(start + limit) if more else None

    def get_email(self, tenant_id: str) -> dict[str, Any] | None:
        return self.emails.get(tenant_id)

    def put_email(self, tenant_id: str, email: str) -> None:
        self.emails[tenant_id] = {"email": email}

    def delete_email(self, tenant_id: str) -> None:
        self.emails.pop(tenant_id, None)

    def get_address(self, email: str) -> dict[str, Any] | None:
        found = self.addresses.get(email)
        return None if found is None else {**found, "tenants": list(found["tenants"])}

    def save_address(
        self, email: str, tenants: list[str], subscription_arn: str, version: int | None
    ) -> bool:
        found = self.addresses.get(email)
        if (found["version"] if found else None) != version:
            return False
        self.addresses[email] = {
            "tenants": sorted(tenants),
            "subscription_arn": subscription_arn,
            "version": (version or 0) + 1,
        }
        return True

    def delete_address(self, email: str, version: int) -> bool:
        found = self.addresses.get(email)
        if found is None or found["version"] != version:
            return False
        del self.addresses[email]
        return True
