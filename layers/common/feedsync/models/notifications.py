"""Notifications: a profile's webhooks, the tenant's email address, the run-finished event
and the delivery records (issue 11)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from feedsync.models.limits import TEXT_MAX

WebhookEvent = Literal["failed", "failed_items", "held", "succeeded"]
# A profile tells a few systems, not a fan-out service (each delivery is retried in turn).
WEBHOOKS_MAX = 5
EMAIL_MAX = 254
# One address, no display name: what SNS takes as an email endpoint.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[^@\s<>(),;:\"\[\]]+@{_LABEL}(?:\.{_LABEL})+")


def _webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry a user or password (deliveries are signed instead)")
    if parts.fragment:
        raise ValueError("must not have a #fragment")
    return url


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be one email address, like merchant@example.com")
    return value


def _default_events() -> list[WebhookEvent]:
    return ["failed", "failed_items", "held"]


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(_webhook_url)]
    events: list[WebhookEvent] = Field(
        default_factory=_default_events,
        min_length=1,
        max_length=4,
        description="failed: the run failed; failed_items: it succeeded but the store refused "
        "items; held: a safety limit held it; succeeded: every successful run.",
    )


Webhooks = Annotated[
    list[Webhook],
    Field(
        max_length=WEBHOOKS_MAX,
        description="POSTed a signed JSON event when a run ends in one of their events "
        "(headers Feedsync-Timestamp and Feedsync-Signature: v1=HMAC-SHA256 hex).",
    ),
]


class NotificationSettings(BaseModel):
    """``PUT /settings/notifications``: the address run alerts go to (null: none)."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(max_length=EMAIL_MAX), AfterValidator(_email)] | None


class NotificationSettingsView(BaseModel):
    email: str | None
    status: Literal["none", "pending_confirmation", "confirmed", "unsubscribed"] = Field(
        description="pending_confirmation: AWS mailed a link the address must follow; "
        "unsubscribed: the address left through a mail's link (PUT it again to re-subscribe)"
    )


class RunFinished(BaseModel):
    """The detail of the ``Run Finished`` event feedsync puts on its bus for every outcome."""

    tenant_id: str
    profile_id: str
    store_id: str
    run_id: str
    trigger: str
    status: str
    # Which execution of the run ended (an apply is a round of its own).
    round: int = 0
    preview: bool = False
    parent_run_id: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    reason: str | None = None
    held_reasons: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class WebhookDelivery(BaseModel):
    """One delivery of one run's event to one URL, with every attempt it took."""

    delivery_id: str
    profile_id: str
    run_id: str
    event: str = Field(description="the run's status, e.g. failed or held")
    url: str
    outcome: Literal["delivered", "failed"]
    status_code: int | None = Field(description="the last attempt's HTTP status (null: no answer)")
    attempts: int
    last_error: str | None
    at: datetime


class WebhookDeliveryList(BaseModel):
    deliveries: list[WebhookDelivery]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page")


class WebhookSecretView(BaseModel):
    secret: str = Field(description="shown once: keep it where the receiver can read it")


class NotifyResult(BaseModel):
    """What the notify function did with one event."""

    run_id: str
    status: str
    events: list[str]
    emailed: bool = False
    deliveries: list[WebhookDelivery] = Field(default_factory=list)
    duplicate: bool = False
