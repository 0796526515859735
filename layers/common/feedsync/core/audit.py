"""The audit trail: who did what in a tenant, when (issue 18; read by owners at GET /audit).

One item per event under the tenant, sorted by time, so a page is one query newest first;
events expire after ``RETENTION`` (DynamoDB TTL). A sign-in is recorded once per Cognito
sign-in session however many requests its tokens make (a conditional put on the session).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Protocol

from feedsync.core.deps import Deps
from feedsync.core.ports import AccountRecords
from feedsync.errors import InvalidRequest
from feedsync.models.accounts import AUDIT_PAGE_MAX, AuditEvent, AuditPage

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=365)
# A refresh token (Cognito's default: 30 days) keeps the sign-in session (origin_jti) alive.
SIGN_IN_MEMORY = timedelta(days=31)

ACTIONS = frozenset(
    {
        "sign_in",
        "api_key.created",
        "api_key.revoked",
        "user.invited",
        "user.role_changed",
        "user.removed",
        "tenant.created",
        "store.created",
        "store.changed",
        "store.deleted",
        "profile.created",
        "profile.changed",
        "profile.deleted",
        "run.started",
        "run.applied",
        "run.retried",
        "run.reverted",
        "run.cancelled",
        "conflicts.dismissed",
        "webhook_secret.rotated",
        "settings.changed",
        "plan.changed",
        "tenant.disabled",
        "tenant.enabled",
    }
)


class Actor(Protocol):
    """Who acts: the authorizer's principal (or the operator CLI's)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def actor_kind(self) -> str: ...


class Operator:
    """The operator CLI (``feedsync admin``) acting on a tenant with AWS credentials."""

    actor = "operator"
    actor_kind = "operator"

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id


def records(deps: Deps) -> AccountRecords:
    if deps.account_records is None:
        raise RuntimeError("account records are not wired (Deps.account_records)")
    return deps.account_records


def record(deps: Deps, principal: Actor, action: str, target: str, detail: str = "") -> None:
    """Add one event to the principal's tenant's trail.

    Called after the action succeeded: a trail that cannot be written is logged, not raised
    (the merchant's change is made; failing the request would invite a second one)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    at = deps.clock()
    event = AuditEvent(
        at=at,
        actor=principal.actor,
        actor_kind=principal.actor_kind,
        action=action,
        target=target,
        detail=detail,
    ).model_dump(mode="json")
    # Microseconds in the sort key keep events of one second in order; the suffix keeps two
    # events of one microsecond apart.
    event["at"] = at.isoformat(timespec="microseconds")
    event["id"] = secrets.token_hex(4)
    expires = int((at + RETENTION).timestamp())
    try:
        records(deps).put_audit(principal.tenant_id, event, expires)
    except Exception:
        logger.exception("audit event %s on %s not recorded", action, target)


def page(deps: Deps, tenant_id: str, limit: int = 50, cursor: str | None = None) -> AuditPage:
    if not 1 <= limit <= AUDIT_PAGE_MAX:
        raise InvalidRequest("limit", f"between 1 and {AUDIT_PAGE_MAX}, got {limit}")
    items, following = records(deps).audit_page(tenant_id, limit, cursor)
    return AuditPage(events=[AuditEvent.model_validate(i) for i in items], next=following)


def sign_in(deps: Deps, principal: Actor, session: str) -> bool:
    """Record a sign-in the first time one of its tokens is seen; True when recorded now.

    ``session`` names the sign-in: a token's ``origin_jti`` (shared by the ID and access
    tokens of one sign-in and their refreshes), else ``<sub>:<auth_time>``."""
    expires = int((deps.clock() + SIGN_IN_MEMORY).timestamp())
    try:
        if not records(deps).claim_sign_in(principal.tenant_id, session, expires):
            return False
    except Exception:  # the authorizer answers all the same: a sign-in is not refused for it
        logger.exception("sign-in of %s not recorded", principal.actor)
        return False
    record(deps, principal, "sign_in", principal.tenant_id)
    return True
