"""A tenant's API keys (issue 18): created with a name and a role, listed, revoked.

The secret is shown once, when created; the table keeps its sha256 only. Revocation deletes
the lookup item the authorizer reads, and the authorizer's answers are not cached
(``ReauthorizeEvery: 0``), so the next request with a revoked key is refused.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from feedsync.core.audit import Actor, record, records
from feedsync.core.deps import Deps
from feedsync.errors import NotFound
from feedsync.models.accounts import ApiKeyCreated, ApiKeyRecord, ApiKeyView, Role

logger = logging.getLogger(__name__)

KEY_PREFIX = "fsk_"
# The authorizer writes last_used_at at most this often per key: a script calling the API in
# a loop costs one write a minute, not one per request.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"


def store_key(
    deps: Deps, tenant_id: str, secret: str, name: str, role: Role, created_by: str
) -> ApiKeyRecord:
    """Keep ``secret`` (its hash) as the tenant's key ``name``."""
    key = ApiKeyRecord(
        tenant_id=tenant_id,
        key_id=deps.ids("key"),
        key_hash=hash_key(secret),
        name=name,
        role=role,
        created_at=deps.clock(),
        created_by=created_by,
    )
    records(deps).put_api_key(key)
    return key


def create_key(deps: Deps, principal: Actor, name: str, role: Role) -> ApiKeyCreated:
    secret = new_secret()
    key = store_key(deps, principal.tenant_id, secret, name, role, principal.actor)
    record(deps, principal, "api_key.created", key.key_id, f"{name} ({role})")
    return ApiKeyCreated(id=key.key_id, name=name, role=role, key=secret)


def list_keys(deps: Deps, tenant_id: str) -> list[ApiKeyView]:
    found = records(deps).list_api_keys(tenant_id)
    return [k.view() for k in sorted(found, key=lambda k: (k.created_at, k.key_id))]


def revoke_key(deps: Deps, principal: Actor, key_id: str) -> None:
    gone = records(deps).delete_api_key(principal.tenant_id, key_id)
    if gone is None:
        raise NotFound(f"API key {key_id} not found")
    record(deps, principal, "api_key.revoked", key_id, gone.name)


def authenticate(deps: Deps, secret: str) -> ApiKeyRecord | None:
    """The key ``secret`` is, or None; marks it used (at most once per ``TOUCH_EVERY``)."""
    if not secret:
        return None
    store = records(deps)
    key = store.api_key(hash_key(secret))
    if key is None:
        return None
    now = deps.clock()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        try:
            store.touch_api_key(key.key_hash, now)
        except Exception:  # a missed mark is no reason to refuse the request
            logger.exception("last_used_at of key %s not written", key.key_id)
    return key
