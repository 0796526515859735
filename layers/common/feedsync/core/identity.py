"""Who is calling: an API key or a Cognito token turned into the Principal the API checks.

The authorizer calls ``authenticate`` and hands the principal to API Gateway as its
context; a credential it cannot prove is None (API Gateway's 401).
"""

from __future__ import annotations

from dataclasses import dataclass

from feedsync.core import api_keys, audit
from feedsync.core.deps import Deps
from feedsync.core.ports import Members, SigningKeys, UserDirectory
from feedsync.domain import tokens
from feedsync.models.accounts import ROLES, Principal


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


def authenticate(deps: Deps, accounts: Accounts, credential: str) -> Principal | None:
    """The principal behind ``Authorization: Bearer <credential>``; None when unproven.
    A JWT is told from an API key by its shape (three base64url parts)."""
    credential = credential.strip()
    if not credential:
        return None
    if tokens.looks_like_jwt(credential):
        return _token_principal(deps, accounts, credential)
    return api_key_principal(deps, credential)


def api_key_principal(deps: Deps, api_key: str) -> Principal | None:
    """The key's tenant and role (core/api_keys.py: a revoked key is not found)."""
    key = api_keys.authenticate(deps, api_key)
    if key is None or key.role not in ROLES:
        return None
    return Principal(
        tenant_id=key.tenant_id,
        role=key.role,
        actor=f"key:{key.name}",
        actor_kind="key",
        actor_id=key.key_id,
    )


def _token_principal(deps: Deps, accounts: Accounts, token: str) -> Principal | None:
    try:
        claims = tokens.verify(token, accounts.rules, accounts.signing_keys.key)
    except tokens.InvalidToken:
        return None
    member = accounts.members.get_member(claims.sub)
    email = str(member["email"]) if member else (claims.email or "")
    if member is None or member.get("status") == "disabled":
        # Signed in, in no tenant (yet, or any more): GET /me and POST /tenants only.
        return Principal("", "", email or claims.sub, "user", claims.sub)
    principal = Principal(
        tenant_id=str(member["tenant_id"]),
        role=str(member["role"]),
        actor=email or claims.sub,
        actor_kind="user",
        actor_id=claims.sub,
    )
    if deps.account_records is not None:
        audit.sign_in(deps, principal, claims.sign_in)  # once per sign-in session
    return principal
