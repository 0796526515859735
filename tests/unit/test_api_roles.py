"""Every operation of ``/openapi.json`` checks the caller's role before it runs.

The operations come from the document itself, so a new route is covered (or fails for want
of an entry in ``routes/access.py``) without anyone remembering this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_support import OWNER, call
from routes.access import ROUTE_ROLES

from feedsync.domain.access import rank

ROLES = ("viewer", "editor", "owner")
# POSTs that read only: computed from the body, nothing written, no server reached (the
# file preview reaches the supplier's server with stored credentials: an editor's)
VIEWER_POSTS = {("POST", "/schedule-preview")}
OWNER_ONLY = re.compile(r"^/(users|api-keys|audit)(/|$)")


class ReachedTheRoute(Exception):
    """Raised by the patched composition root: the role check let the call through."""


def _document() -> dict[str, Any]:
    status, doc = call("GET", "/openapi.json")
    assert status == 200
    return doc


OPERATIONS = sorted(
    (method.upper(), path) for path, ops in _document()["paths"].items() for method in ops
)


def _as(role: str, tenant: str = "tenant-1") -> dict[str, str]:
    kind = "key" if role == "owner" else "user"
    return {**OWNER, "tenant_id": tenant, "role": role, "actor_kind": kind}


@pytest.fixture(autouse=True)
def _no_world(monkeypatch: pytest.MonkeyPatch) -> None:
    def reached() -> Any:
        raise ReachedTheRoute()

    monkeypatch.setattr("routes.common.deps", reached)
    monkeypatch.setattr("routes.common.accounts", reached)


def _call(method: str, path: str, principal: dict[str, str]) -> tuple[int, dict[str, Any]]:
    concrete = re.sub(r"\{[^/]+\}", "x-1", path)
    body = "{}" if method in ("POST", "PUT", "PATCH") else None
    try:
        return call(method, concrete, body, principal=principal)
    except ReachedTheRoute:
        return 0, {}  # 0: the route itself ran


def test_every_operation_has_a_role_and_every_role_an_operation() -> None:
    # Given the document's operations and the role table
    # Then each operation says what it needs, and the table names no operation that is gone
    assert set(OPERATIONS) - set(ROUTE_ROLES) == set(), "add these to routes/access.py"
    assert set(ROUTE_ROLES) - set(OPERATIONS) == set(), "not in /openapi.json any more"


@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_reads_are_for_viewers_writes_for_editors_accounts_for_owners(
    operation: tuple[str, str],
) -> None:
    # Given one operation of the document
    method, path = operation
    needs = ROUTE_ROLES[operation]
    # Then what it needs follows the accounts contract
    if needs in ("public", "signed_in"):
        assert path in ("/openapi.json", "/auth/config", "/me", "/tenants"), operation
    elif OWNER_ONLY.match(path):
        assert needs == "owner"
    else:
        reads = method == "GET" or operation in VIEWER_POSTS
        assert needs == ("viewer" if reads else "editor")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_an_operation_answers_403_exactly_when_the_role_is_below_what_it_needs(
    operation: tuple[str, str], role: str
) -> None:
    # Given a caller of one role and an operation
    method, path = operation
    needs = ROUTE_ROLES[operation]
    # When it calls the operation
    status, body = _call(method, path, _as(role))
    # Then it is refused with the role it needs exactly when its role is below that
    if needs not in ("public", "signed_in") and rank(role) < rank(needs):
        assert status == 403
        assert body["error"] == "forbidden"
        assert body["needs"] == needs
        who = "key" if role == "owner" else "user"
        assert body["message"] == f"this needs the {needs} role; this {who} is a {role}"
    else:
        assert status != 403, body


@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_a_user_in_no_tenant_reaches_only_me_and_tenant_creation(
    operation: tuple[str, str],
) -> None:
    # Given a signed-in user who belongs to no tenant yet
    nobody = {**OWNER, "tenant_id": "", "role": "", "actor_kind": "user"}
    method, path = operation
    # When it calls the operation
    status, body = _call(method, path, nobody)
    # Then only what any signed-in caller may do gets past the check
    if ROUTE_ROLES[operation] in ("public", "signed_in"):
        assert status != 403, body
    else:
        assert (status, body["error"]) == (403, "no_tenant")
        assert "POST /tenants" in body["message"]


def test_a_viewer_write_is_refused_before_its_body_is_read() -> None:
    # Given a viewer sending a body no model would take
    # When it creates a store
    status, body = call("POST", "/stores", "not json", principal=_as("viewer"))
    # Then the answer is the role's 403, not the body's 422
    assert (status, body["needs"]) == (403, "editor")


def test_a_stale_role_in_the_context_is_refused_everywhere_but_public() -> None:
    # Given a context whose role is not one of the three (a key stored with a typo)
    # When it reads the stores
    status, body = call("GET", "/stores", principal=_as("admin"))
    # Then it is refused: only known roles rank
    assert (status, body["error"]) == (403, "forbidden")


@pytest.mark.parametrize("suffix", ["/", "//"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_a_path_the_resolver_runs_as_an_operation_is_checked_as_that_operation(
    operation: tuple[str, str], suffix: str
) -> None:
    # Given a path the resolver still matches to the operation (trailing slashes)
    method, path = operation
    needs = ROUTE_ROLES[operation]
    # When a viewer calls it so
    status, body = _call(method, path + suffix, _as("viewer"))
    # Then the role check is the operation's own: no way round it by spelling the path
    if needs in ("editor", "owner"):
        assert (status, body.get("needs")) == (403, needs)
    else:
        assert status != 403, body
