"""What a role may do: the rank of roles and the check every API route passes first.

The table (method + path template -> what it needs) lives beside the routes
(``functions/api/routes/access.py``); the API's entry point finds the operation a request
runs and checks its caller with ``check``.
"""

from __future__ import annotations

from typing import Final, Literal

from feedsync.errors import Forbidden, NoTenant
from feedsync.models.accounts import ROLES, Principal

# "public": no authorizer (API Gateway's Authorizer: NONE); "signed_in": any proven caller,
# even one in no tenant yet; otherwise the lowest role that may call it.
Needs = Literal["public", "signed_in", "viewer", "editor", "owner"]
OPEN: Final = ("public", "signed_in")


def rank(role: str) -> int:
    """0 for viewer ... 2 for owner; -1 for anything else (no role, a stale value)."""
    return ROLES.index(role) if role in ROLES else -1


def check(principal: Principal, needs: Needs) -> None:
    """Raise NoTenant / Forbidden unless ``principal`` may call what needs ``needs``."""
    if needs in OPEN:
        return
    if not principal.tenant_id:
        raise NoTenant()
    if rank(principal.role) < rank(needs):
        raise Forbidden(needs, principal.role, principal.actor_kind)
