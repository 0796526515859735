"""Tenants and their users: who I am, a new workspace, and an owner's Users page.

A membership (``Members``) says which tenant a Cognito user belongs to and with what
role; the pool (``UserDirectory``) holds the person (email, password, MFA). Removing a
user deletes the membership first, so the authorizer refuses their next call at once.
"""

from __future__ import annotations

from typing import Any

from feedsync.core import schedules
from feedsync.core.deps import Deps
from feedsync.core.identity import Accounts
from feedsync.core.ports import DirectoryUser
from feedsync.errors import Conflict, NotFound
from feedsync.models.accounts import (
    AuthConfig,
    Me,
    Principal,
    TenantCreated,
    UserList,
    UserView,
)

# Cognito's status of an invited user who has not yet chosen a password.
_NOT_SIGNED_IN_YET = "FORCE_CHANGE_PASSWORD"


def auth_config(accounts: Accounts) -> AuthConfig:
    return AuthConfig(
        region=accounts.region,
        user_pool_id=accounts.user_pool_id,
        client_id=accounts.rules.client_id,
        cognito_endpoint=accounts.cognito_endpoint,
    )


def me(deps: Deps, accounts: Accounts, principal: Principal) -> Me:
    email = _email_of(accounts, principal) if principal.actor_kind == "user" else None
    if not principal.tenant_id:
        return Me(
            actor=principal.actor,
            actor_kind="user",
            email=email,
            tenant_id=None,
            tenant_name=None,
            role=None,
            plan=None,
        )
    record = accounts.members.get_tenant(principal.tenant_id)
    return Me(
        actor=principal.actor,
        actor_kind="key" if principal.actor_kind == "key" else "user",
        email=email,
        tenant_id=principal.tenant_id,
        tenant_name=str(record["name"]) if record else None,
        role=principal.role,
        plan=schedules.tenant_settings(deps, principal.tenant_id).plan,
    )


def create_tenant(deps: Deps, accounts: Accounts, principal: Principal, name: str) -> TenantCreated:
    """A new tenant on the default plan, the calling user its owner (sign-up's second step)."""
    if principal.tenant_id or principal.actor_kind != "user":
        raise Conflict("already_member", "you belong to a workspace already")
    tenant_id = deps.ids("t")
    now = deps.clock().isoformat()
    member = {
        "sub": principal.actor_id,
        "tenant_id": tenant_id,
        "role": "owner",
        "email": _email_of(accounts, principal) or principal.actor,
        "status": "active",
        "created_at": now,
    }
    # The membership first: of two concurrent sign-ups by one user, one wins.
    if not accounts.members.put_member(member, new=True):
        raise Conflict("already_member", "you belong to a workspace already")
    accounts.members.create_tenant(tenant_id, name, now, principal.actor)
    settings = schedules.tenant_settings(deps, tenant_id)
    deps.repo.put_tenant_settings(settings)
    return TenantCreated(tenant_id=tenant_id, name=name, role="owner", plan=settings.plan)


def list_users(accounts: Accounts, tenant_id: str) -> UserList:
    """The tenant's users, oldest first; an invited user who has since signed in is
    marked active here (Cognito knows; the invitation does not)."""
    members = sorted(accounts.members.list_members(tenant_id), key=lambda m: m["created_at"])
    for member in members:
        if member.get("status") == "invited":
            found = accounts.directory.find(member["sub"])
            if found is not None and found.status not in ("", _NOT_SIGNED_IN_YET):
                accounts.members.update_member(member["sub"], tenant_id, status="active")
                member["status"] = "active"
    return UserList(users=[_view(m) for m in members])


def invite_user(deps: Deps, accounts: Accounts, tenant_id: str, email: str, role: str) -> UserView:
    """Cognito mails the invitation with a temporary password; someone already in the pool
    without a workspace joins this one, unmailed, but only when the pool has verified that
    they hold the address (else 409 unverified_email; in another workspace: 409
    member_elsewhere)."""
    email = email.strip().lower()
    user = accounts.directory.invite(email)
    status = "invited"
    if user is None:  # in the pool already
        user = accounts.directory.find(email)
        if user is None:
            raise Conflict("member_elsewhere", f"{email} cannot be invited now; try again")
        if not _holds_the_address(user, email):
            raise Conflict(
                "unverified_email",
                f"{email} has an account whose address is not verified: they must confirm it "
                "(the code Cognito mails at sign-in) before they can be invited",
            )
        status = "invited" if user.status == _NOT_SIGNED_IN_YET else "active"
    member = {
        "sub": user.sub,
        "tenant_id": tenant_id,
        "role": role,
        "email": email,
        "status": status,
        "created_at": deps.clock().isoformat(),
    }
    if not accounts.members.put_member(member, new=True):
        existing = accounts.members.get_member(user.sub) or {}
        if existing.get("tenant_id") == tenant_id:
            raise Conflict("already_member", f"{email} is a user of this workspace already")
        raise Conflict("member_elsewhere", f"{email} belongs to another workspace")
    return _view(member)


def change_role(accounts: Accounts, tenant_id: str, user_id: str, role: str) -> UserView:
    member = _member(accounts, tenant_id, user_id)
    if member["role"] == "owner" and role != "owner":
        _step_down(accounts, tenant_id, user_id, "demote", role)
    elif not accounts.members.update_member(user_id, tenant_id, role=role):
        raise NotFound(f"user {user_id} not found")
    return _view({**member, "role": role})


def remove_user(accounts: Accounts, tenant_id: str, user_id: str) -> None:
    """The membership goes first (access ends at the next call), then the pool's user."""
    member = _member(accounts, tenant_id, user_id)
    if member["role"] == "owner":
        _step_down(accounts, tenant_id, user_id, "remove", None)
    elif not accounts.members.delete_member(user_id, tenant_id):
        raise NotFound(f"user {user_id} not found")
    accounts.directory.remove(user_id)


def _holds_the_address(user: DirectoryUser, email: str) -> bool:
    """A pool user is adopted only with that very address verified, and either confirmed or
    created by an administrator's invitation (which verified the address it was sent to)."""
    return (
        user.email_verified
        and user.email.strip().lower() == email
        and user.status in ("CONFIRMED", _NOT_SIGNED_IN_YET)
        and user.enabled
    )


def _member(accounts: Accounts, tenant_id: str, user_id: str) -> dict[str, Any]:
    member = accounts.members.get_member(user_id)
    if member is None or member.get("tenant_id") != tenant_id:
        raise NotFound(f"user {user_id} not found")
    return member


def _step_down(
    accounts: Accounts, tenant_id: str, user_id: str, verb: str, role: str | None
) -> None:
    """Demote or remove an owner only while another owner who can sign in (``active``; an
    invitation not yet taken does not count) stays one: checked in the same transaction
    as the change, so two owners stepping down at once cannot both pass."""
    for keeper in _other_active_owners(accounts, tenant_id, user_id):
        if accounts.members.owner_steps_down(user_id, tenant_id, keeper, role):
            return
        _member(accounts, tenant_id, user_id)  # (removed meanwhile: 404)
    raise Conflict(
        "last_owner",
        f"cannot {verb} the workspace's last owner: make another user owner first "
        "(an invited owner counts once they have signed in)",
    )


def _other_active_owners(accounts: Accounts, tenant_id: str, user_id: str) -> list[str]:
    keepers: list[str] = []
    for member in accounts.members.list_members(tenant_id):
        if member["role"] != "owner" or member["sub"] == user_id:
            continue
        if member.get("status") == "invited":  # signed in since? (as the Users page does)
            found = accounts.directory.find(member["sub"])
            if found is None or found.status in ("", _NOT_SIGNED_IN_YET):
                continue
            accounts.members.update_member(member["sub"], tenant_id, status="active")
        elif member.get("status", "active") != "active":
            continue
        keepers.append(str(member["sub"]))
    return keepers


def _email_of(accounts: Accounts, principal: Principal) -> str | None:
    if "@" in principal.actor:
        return principal.actor
    found = accounts.directory.find(principal.actor_id)
    return found.email if found is not None and found.email else None


def _view(member: dict[str, Any]) -> UserView:
    return UserView(
        id=str(member["sub"]),
        email=str(member["email"]),
        role=member["role"],
        status=member.get("status", "active"),
        created_at=str(member["created_at"]),
    )


def add_ready_user(
    deps: Deps,
    accounts: Accounts,
    tenant_id: str,
    email: str,
    password: str,
    role: str = "owner",
    tenant_name: str = "Demo workspace",
) -> UserView:
    """A confirmed user who can sign in at once, in ``tenant_id`` (made if new): the local
    stack's demo user, and the tests' users."""
    now = deps.clock().isoformat()
    if accounts.members.get_tenant(tenant_id) is None:
        accounts.members.create_tenant(tenant_id, tenant_name, now, "feedsync")
    user = accounts.directory.create_confirmed(email.strip().lower(), password)
    member = {
        "sub": user.sub,
        "tenant_id": tenant_id,
        "role": role,
        "email": user.email or email,
        "status": "active",
        "created_at": now,
    }
    accounts.members.put_member(member, new=False)
    return _view(member)
