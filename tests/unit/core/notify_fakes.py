"""In-memory fakes of the notification ports (the bus, the topic, webhook HTTP, records)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from feedsync.domain.notifications import Claim, WebhookAnswer


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
    def __init__(self) -> None:
        self.published: list[tuple[str, str, str]] = []
        self.subscriptions: dict[str, tuple[str, str]] = {}  # arn -> (tenant, email)
        self.confirmed_arns: set[str] = set()

    def publish(self, tenant_id: str, subject: str, message: str) -> None:
        self.published.append((tenant_id, subject, message))

    def subscribe(self, tenant_id: str, email: str) -> str:
        arn = f"arn:sub:{len(self.subscriptions) + 1}"
        self.subscriptions[arn] = (tenant_id, email)
        return arn

    def unsubscribe(self, subscription_arn: str) -> None:
        self.subscriptions.pop(subscription_arn, None)

    def confirmed(self, subscription_arn: str) -> bool | None:
        if subscription_arn not in self.subscriptions:
            return None
        return subscription_arn in self.confirmed_arns


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

    def put_email(self, tenant_id: str, email: str, subscription_arn: str) -> None:
        self.emails[tenant_id] = {"email": email, "subscription_arn": subscription_arn}

    def delete_email(self, tenant_id: str) -> None:
        self.emails.pop(tenant_id, None)
