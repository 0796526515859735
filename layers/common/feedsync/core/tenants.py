"""Tenants as the operator sees them (issue 18): created, listed with their usage, given a
plan, disabled and enabled again.

A disabled tenant keeps its data, and its keys and users can still read; nothing of it runs:
a Start, apply, retry, revert, reapply or upload URL is refused (409 ``tenant_disabled``,
with the reason) and a scheduled fire or an uploaded file is recorded as a ``skipped`` run
with it (core/tenant_guard.py, asked by core/start.py). Its schedules keep firing (so
enabling it needs no rescheduling).
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedsync.core import accounts, plans, schedules
from feedsync.core.audit import Actor, Operator, record, records
from feedsync.core.deps import Deps
from feedsync.core.identity import Accounts
from feedsync.core.ports import Members
from feedsync.errors import InvalidRequest, NotFound
from feedsync.models import Plan
from feedsync.models.accounts import TenantRecord, UserView

# The plans an operator names (the CLI's PLAN); any other plan is shown as its limits.
NAMED_PLANS: dict[str, Plan] = {
    "starter": Plan(max_profiles=10, min_interval_minutes=60, max_rows=100_000),
    "standard": Plan(),
    "pro": Plan(max_profiles=500, min_interval_minutes=5, max_rows=10_000_000),
}


def plan_named(name: str) -> Plan:
    try:
        return NAMED_PLANS[name]
    except KeyError:
        known = ", ".join(NAMED_PLANS)
        raise InvalidRequest("plan", f"no plan {name!r}; the plans are {known}") from None


def plan_name(plan: Plan) -> str:
    """The plan's name, or its limits when it has none."""
    for name, named in NAMED_PLANS.items():
        if named == plan:
            return name
    return (
        f"custom ({plan.max_profiles} profiles, every {plan.min_interval_minutes} min, "
        f"{plan.max_rows:,} rows)"
    )


def create_tenant(
    deps: Deps, members: Members, name: str, plan: Plan | None = None
) -> TenantRecord:
    """A new tenant on ``plan`` (the default plan when None), recorded by the operator."""
    if not name.strip():
        raise InvalidRequest("name", "a tenant needs a name")
    tenant_id = deps.ids("t")
    members.create_tenant(tenant_id, name.strip(), deps.clock().isoformat(), "operator")
    settings = schedules.tenant_settings(deps, tenant_id)
    deps.repo.put_tenant_settings(settings.model_copy(update={"plan": plan or deps.default_plan}))
    record(deps, Operator(tenant_id), "tenant.created", tenant_id, name.strip())
    return get_tenant(deps, tenant_id)


def invite_owner(deps: Deps, people: Accounts, tenant_id: str, email: str) -> UserView:
    """The tenant's first owner, invited as an owner invites users (core/accounts.py:
    Cognito mails a temporary password; a user of another tenant: 409 member_elsewhere)."""
    user = accounts.invite_user(deps, people, tenant_id, email, "owner")
    record(deps, Operator(tenant_id), "user.invited", user.id, f"{user.email} (owner)")
    return user


def count_users(members: Members, tenant_id: str) -> int:
    return len(members.list_members(tenant_id))


def get_tenant(deps: Deps, tenant_id: str) -> TenantRecord:
    found = records(deps).get_tenant(tenant_id)
    if found is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return found


def disable(deps: Deps, tenant_id: str, reason: str, actor: Actor | None = None) -> TenantRecord:
    if not reason.strip():
        raise InvalidRequest("reason", "say why the tenant is disabled (its users read it)")
    return _set_status(deps, tenant_id, "disabled", reason.strip(), actor)


def enable(deps: Deps, tenant_id: str, actor: Actor | None = None) -> TenantRecord:
    return _set_status(deps, tenant_id, "active", None, actor)


def _set_status(
    deps: Deps, tenant_id: str, status: str, reason: str | None, actor: Actor | None
) -> TenantRecord:
    if not records(deps).set_tenant_status(tenant_id, status, reason):
        raise NotFound(f"tenant {tenant_id} not found")
    action = "tenant.disabled" if status == "disabled" else "tenant.enabled"
    record(deps, actor or Operator(tenant_id), action, tenant_id, reason or "")
    return get_tenant(deps, tenant_id)


def change_plan(deps: Deps, tenant_id: str, plan: Plan, actor: Actor | None = None) -> list[str]:
    """The tenant's new plan, its profiles re-checked against it (core/plans.py); the ids of
    the profiles it held or freed."""
    changed = plans.set_plan(deps, tenant_id, plan)
    record(deps, actor or Operator(tenant_id), "plan.changed", tenant_id, plan_name(plan))
    return changed


def month_start_run_id(now: datetime) -> str:
    """The smallest run id of ``now``'s month (ids start with their creation time in ms,
    core/deps.new_id), so the month's runs are one key range."""
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return f"run_{int(start.timestamp() * 1000):013x}"


def overview(deps: Deps, tenant: TenantRecord) -> dict[str, object]:
    """One line of ``feedsync admin tenants list``: the tenant, its plan and its usage."""
    settings = schedules.tenant_settings(deps, tenant.tenant_id)
    store = records(deps)
    return {
        "id": tenant.tenant_id,
        "name": tenant.name,
        "plan": plan_name(settings.plan),
        "status": tenant.status,
        "disabled_reason": tenant.disabled_reason,
        "profiles": deps.repo.count_profiles(tenant.tenant_id),
        "runs_this_month": store.count_runs_since(
            tenant.tenant_id, month_start_run_id(deps.clock())
        ),
    }


def list_tenants(deps: Deps) -> list[TenantRecord]:
    return sorted(records(deps).list_tenants(), key=lambda t: (t.created_at, t.tenant_id))
