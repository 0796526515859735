"""Who is calling: an API key or a Cognito token turned into the Principal the API checks.

The authorizer calls ``authenticate`` and hands the principal to API Gateway as its
context; a credential it cannot prove is None (API Gateway's 401).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from feedsync.core.deps import Deps
from feedsync.core.ports import Members, SigningKeys, UserDirectory
from feedsync.domain import tokens
from feedsync.models.accounts import ROLES, Principal

# A key stored before keys had roles and names (feedsync serve's) is its tenant's owner key.
LEGACY_KEY_ROLE = "owner"
LEGACY_KEY_NAME = "default"


@dataclass(frozen=True)
class Accounts:
    """What sign-in and the accounts routes need, built once (``feedsync.wiring.accounts``)."""

    members: Members
    directory: UserDirectory
    signing_keys: SigningKeys
    rules: tokens.TokenRules
    region: str
    user_pool_id: str
    cognito_endpoint: str


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def authenticate(deps: Deps, accounts: Accounts, credential: str) -> Principal | None:
    """The principal behind ``Authorization: Bearer <credential>``; None when unproven.
    A JWT is told from an API key by its shape (three base64url parts)."""
    credential = credential.strip()
    if not credential:
        return None
    if tokens.looks_like_jwt(credential):
        return _token_principal(accounts, credential)
    return api_key_principal(deps, credential)


def api_key_principal(deps: Deps, api_key: str) -> Principal | None:
    key_hash = hash_api_key(api_key)
    item = deps.repo.api_key(key_hash)
    if item is None or item.get("revoked_at"):
        return None
    role = str(item.get("role") or LEGACY_KEY_ROLE)
    if role not in ROLES:
        return None
    return Principal(
        tenant_id=str(item["tenant_id"]),
        role=role,
        actor=f"key:{item.get('name') or LEGACY_KEY_NAME}",
        actor_kind="key",
        actor_id=str(item.get("key_id") or key_hash[:16]),
    )


def _token_principal(accounts: Accounts, token: str) -> Principal | None:
    try:
        claims = tokens.verify(token, accounts.rules, accounts.signing_keys.key)
    except tokens.InvalidToken:
        return None
    member = accounts.members.get_member(claims.sub)
    email = str(member["email"]) if member else (claims.email or "")
    if member is None or member.get("status") == "disabled":
        # Signed in, in no tenant (yet, or any more): GET /me and POST /tenants only.
        return Principal("", "", email or claims.sub, "user", claims.sub)
    return Principal(
        tenant_id=str(member["tenant_id"]),
        role=str(member["role"]),
        actor=email or claims.sub,
        actor_kind="user",
        actor_id=claims.sub,
    )
