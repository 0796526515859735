"""Plan limits: profiles over the tenant's plan are disabled with the reason, and
re-enabled by themselves when profiles are removed or the plan is raised."""

from __future__ import annotations

from feedsync.core import schedules
from feedsync.core.deps import Deps
from feedsync.models import Plan, Profile, RateSchedule, TenantSettings

PLAN_PREFIX = "plan: "


def over_plan(profile: Profile, plan: Plan, position: int) -> str | None:
    """Why the profile cannot run on this plan (position = its age rank), or None."""
    if position >= plan.max_profiles:
        return f"{PLAN_PREFIX}the plan allows {plan.max_profiles} profiles"
    every = profile.schedule.every_minutes if isinstance(profile.schedule, RateSchedule) else None
    if isinstance(every, int) and every < plan.min_interval_minutes:
        return (
            f"{PLAN_PREFIX}runs every {every} minutes; the plan's shortest interval is "
            f"{plan.min_interval_minutes} minutes"
        )
    if profile.rows_over_plan is not None and profile.rows_over_plan > plan.max_rows:
        return (
            f"{PLAN_PREFIX}its file has {profile.rows_over_plan} rows; the plan allows "
            f"{plan.max_rows} rows per file"
        )
    return None


def admit(deps: Deps, profile: Profile, settings: TenantSettings) -> Profile:
    """A new profile as the plan admits it: held (disabled with the reason) when over it.

    A created profile is the tenant's newest, so it alone can be over the plan: the others
    are in line already (``apply_plan`` keeps them so on every other change). Counting is
    all a create needs, so creating the 1,000th profile costs what the first did (reading
    every profile made each create slower as the tenant grew: 250 profiles, 3 s a create).
    """
    position = deps.repo.count_profiles(profile.tenant_id)
    reason = over_plan(profile, settings.plan, position)
    if reason is None:
        return profile
    return profile.model_copy(update={"enabled": False, "disabled_reason": reason})


def refusal_to_enable(deps: Deps, profile: Profile) -> str | None:
    """Why a profile the plan holds cannot be enabled as it would be set (None: it can).

    ``profile`` carries the settings the request would give it (a shorter interval may
    be what frees it)."""
    if not (profile.disabled_reason or "").startswith(PLAN_PREFIX):
        return None
    settings = schedules.tenant_settings(deps, profile.tenant_id)
    profiles = sorted(deps.repo.list_profiles(profile.tenant_id), key=lambda p: p.created_at)
    position = next(
        (i for i, p in enumerate(profiles) if p.profile_id == profile.profile_id), len(profiles)
    )
    return over_plan(profile, settings.plan, position)


def apply_plan(deps: Deps, tenant_id: str) -> list[str]:
    """Bring every profile in line with the plan; the ids whose state changed."""
    settings = schedules.tenant_settings(deps, tenant_id)
    profiles = sorted(deps.repo.list_profiles(tenant_id), key=lambda p: p.created_at)
    changed = []
    for position, profile in enumerate(profiles):
        reason = over_plan(profile, settings.plan, position)
        held_by_plan = (profile.disabled_reason or "").startswith(PLAN_PREFIX)
        if reason and (profile.enabled or profile.disabled_reason != reason):
            if not profile.enabled and not held_by_plan:
                continue  # the merchant disabled it: leave their reason alone
            deps.repo.update_profile(
                tenant_id, profile.profile_id, enabled=False, disabled_reason=reason
            )
        elif not reason and held_by_plan:
            deps.repo.update_profile(
                tenant_id,
                profile.profile_id,
                enabled=True,
                disabled_reason=None,
                schedule_since=deps.clock(),  # no fire while held was due (health's Overdue)
            )
        else:
            continue
        changed.append(profile.profile_id)
        fresh = deps.repo.get_profile(tenant_id, profile.profile_id)
        if fresh is not None:
            schedules.sync_schedule(deps, fresh, settings)
    return changed


def set_plan(deps: Deps, tenant_id: str, plan: Plan) -> list[str]:
    """Billing's call: a new plan, then every profile re-checked against it."""
    settings = schedules.tenant_settings(deps, tenant_id)
    deps.repo.put_tenant_settings(settings.model_copy(update={"plan": plan}))
    return apply_plan(deps, tenant_id)


def usage(deps: Deps, tenant_id: str) -> dict[str, object]:
    """The tenant's plan and what it uses of it."""
    settings = schedules.tenant_settings(deps, tenant_id)
    profiles = deps.repo.list_profiles(tenant_id)
    held = sum(1 for p in profiles if (p.disabled_reason or "").startswith(PLAN_PREFIX))
    return {
        "plan": settings.plan.model_dump(),
        "usage": {
            "profiles": len(profiles),
            "profiles_enabled": sum(1 for p in profiles if p.enabled),
            "held_by_plan": held,
        },
    }
