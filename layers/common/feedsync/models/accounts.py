"""Accounts (issue 18): a tenant's API keys, its audit trail and its record (name, status).

Roles, principals and users are the authorizer's side (``feedsync.models`` Principal); what
is here is what the key and audit routes, and the operator CLI, read and write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["viewer", "editor", "owner"]
TenantStatus = Literal["active", "disabled"]
ActorKind = Literal["user", "key", "operator"]

API_KEY_NAME_MAX = 100
AUDIT_PAGE_MAX = 200


class CreateApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    actor_kind: ActorKind
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
