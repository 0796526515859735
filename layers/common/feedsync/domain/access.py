"""What a role may do: the rank of roles and the check every API route passes first.

The table (method + path template -> what it needs) lives beside the routes
(``functions/api/routes/access.py``); this is the rule it is read with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
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


@lru_cache(maxsize=4)
def _compiled(
    table: tuple[tuple[tuple[str, str], Needs], ...],
) -> tuple[tuple[str, re.Pattern[str], Needs], ...]:
    return tuple(
        (method, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), needs)
        for (method, path), needs in table
    )


def needed(table: Mapping[tuple[str, str], Needs], method: str, path: str) -> Needs | None:
    """What the operation at ``method path`` needs; None when no operation is there (the
    resolver then answers its 404). A static path wins over a template (``/a/b`` over
    ``/a/{id}``), as the resolver matches them."""
    if (method, path) in table:
        return table[(method, path)]
    for want, pattern, needs in _compiled(tuple(table.items())):
        if want == method and pattern.match(path):
            return needs
    return None
