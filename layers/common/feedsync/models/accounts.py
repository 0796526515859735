"""Who is calling (the authorizer's principal), the roles, and the accounts API's bodies.

API Gateway hands the authorizer's context to the API as strings only, so the principal
travels as five strings and is rebuilt from them (``Principal.from_context``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from feedsync.models import Plan

Role = Literal["viewer", "editor", "owner"]
# Lowest first: a role may do everything the roles before it may.
ROLES: Final[tuple[Role, ...]] = ("viewer", "editor", "owner")
ActorKind = Literal["user", "key"]
UserStatus = Literal["invited", "active", "disabled"]
# One "@", something either side, a dot in the domain: Cognito checks the rest.
EMAIL_PATTERN: Final = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


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
