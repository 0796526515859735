"""Who is calling (the authorizer's principal), the roles, and the accounts API's bodies:
users and tenants, API keys and the audit trail.

API Gateway hands the authorizer's context to the API as strings only, so the principal
travels as five strings and is rebuilt from them (``Principal.from_context``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from feedsync.models import Plan

Role = Literal["viewer", "editor", "owner"]
# Lowest first: a role may do everything the roles before it may.
ROLES: Final[tuple[Role, ...]] = ("viewer", "editor", "owner")
ActorKind = Literal["user", "key"]
# Who an audit event names: a user, a key, or the operator CLI (`feedsync admin`).
AuditActorKind = Literal["user", "key", "operator"]
TenantStatus = Literal["active", "disabled"]
UserStatus = Literal["invited", "active", "disabled"]
# One "@", something before it, a domain ending in a 2+ letter top-level name: Cognito
# checks the rest (an address it refuses is a 422 naming the email too).
EMAIL_PATTERN: Final = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


@dataclass(frozen=True)
class Principal:
    """The caller as the authorizer proved it. ``tenant_id`` and ``role`` are "" for a
    signed-in user who belongs to no tenant yet (only ``GET /me``, ``POST /tenants``)."""

    tenant_id: str
    role: str
    actor: str  # the user's email, or "key:<key name>"
    actor_kind: str  # "user" | "key"
    actor_id: str  # Cognito sub, or the key id

    def as_context(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Principal:
        """From the authorizer's context; a missing field is "" (never another default)."""
        return cls(
            tenant_id=str(context.get("tenant_id") or ""),
            role=str(context.get("role") or ""),
            actor=str(context.get("actor") or ""),
            actor_kind=str(context.get("actor_kind") or ""),
            actor_id=str(context.get("actor_id") or ""),
        )


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateTenant(_Body):
    name: str = Field(min_length=1, max_length=100, description="The workspace's name.")


class InviteUser(_Body):
    email: str = Field(
        min_length=3, max_length=254, pattern=EMAIL_PATTERN,
        description="Where Cognito sends the invitation (it is also the user's sign-in name).",
    )  # fmt: skip
    role: Role


class ChangeRole(_Body):
    role: Role


class AuthConfig(BaseModel):
    region: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: str = Field(description="Where a browser sends Cognito's JSON API calls.")


class Me(BaseModel):
    actor: str
    actor_kind: ActorKind
    email: str | None
    tenant_id: str | None
    tenant_name: str | None
    role: Role | None
    plan: Plan | None


class TenantCreated(BaseModel):
    tenant_id: str
    name: str
    role: Role
    plan: Plan


class UserView(BaseModel):
    id: str
    email: str
    role: Role
    status: UserStatus
    created_at: str


class UserList(BaseModel):
    users: list[UserView]


# ------------------------------------------------------------------ API keys and audit
API_KEY_NAME_MAX = 100
AUDIT_PAGE_MAX = 200


class CreateApiKey(_Body):
    name: str = Field(
        min_length=1,
        max_length=API_KEY_NAME_MAX,
        description="what the key is for (a script, a server): shown in the list and the audit",
    )
    role: Role = Field(description="what the key may do: viewer (reads), editor, owner")


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    role: Role
    key: str = Field(description="the secret: shown this once, stored only as its hash")


class ApiKeyView(BaseModel):
    id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str = Field(description="who created it (an email, `key:<name>`, `operator`)")
    last_used_at: datetime | None = Field(
        default=None, description="the last request it authorized (kept to the minute)"
    )


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyView]


class ApiKeyRecord(BaseModel):
    """A key as stored (its lookup item, ``KEY#<sha256>``): never the secret itself."""

    tenant_id: str
    key_id: str
    key_hash: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None

    def view(self) -> ApiKeyView:
        return ApiKeyView(
            id=self.key_id,
            name=self.name,
            role=self.role,
            created_at=self.created_at,
            created_by=self.created_by,
            last_used_at=self.last_used_at,
        )


class AuditEvent(BaseModel):
    at: datetime
    actor: str = Field(description="an email, `key:<name>`, or `operator` (the admin CLI)")
    actor_kind: AuditActorKind
    action: str = Field(description="e.g. `api_key.created`, `run.started`, `sign_in`")
    target: str = Field(description="what it acted on: an id, or the tenant's for a sign-in")
    detail: str = Field(description="a few words more (a role, a run's profile); may be empty")


class AuditPage(BaseModel):
    events: list[AuditEvent] = Field(description="newest first")
    next: str | None = Field(description="the `cursor` of the next (older) page; null: none")


class TenantRecord(BaseModel):
    """A tenant's own item: its name and whether it may run (an operator disables it)."""

    tenant_id: str
    name: str
    status: TenantStatus = "active"
    disabled_reason: str | None = None
    created_at: datetime
