"""Profiles' schedules: EventBridge schedules kept in step, black-outs, next run, health.

Schedules arrive validated as models (``feedsync.models.Schedule``); what only the
tenant can tell (the plan's shortest interval, ``after`` chains) is checked here. The
domain's scheduling functions read the model's plain JSON form (``spec()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from feedsync.core.deps import Deps
from feedsync.domain.schedule import (
    TIMED_KINDS,
    find_cycle,
    in_blackout,
    next_run_at,
    parse_anchor,
    resolve_schedule,
    schedule_zone,
    to_scheduler_expression,
)
from feedsync.errors import InvalidRequest
from feedsync.models import (
    AfterSchedule,
    InvalidValue,
    Profile,
    RateSchedule,
    Schedule,
    TenantSchedule,
    TenantSettings,
    TimedSchedule,
    parse_schedule,
)

TIMED = frozenset(TIMED_KINDS)


def tenant_settings(deps: Deps, tenant_id: str) -> TenantSettings:
    found = deps.repo.get_tenant_settings(tenant_id)
    return found or TenantSettings(tenant_id=tenant_id, plan=deps.default_plan)


def effective(profile: Profile, settings: TenantSettings) -> dict[str, Any]:
    """The schedule that really applies: ``default`` follows the tenant's, and a profile
    schedule without a timezone takes the tenant's (the global schedule's) timezone."""
    return _effective(profile.schedule, settings)


def _effective(schedule: Schedule, settings: TenantSettings) -> dict[str, Any]:
    resolved = dict(resolve_schedule(schedule.spec(), settings.schedule.spec()))
    tenant = settings.schedule
    tenant_zone = tenant.timezone if isinstance(tenant, TimedSchedule) else None
    if resolved["type"] in TIMED and "timezone" not in resolved and tenant_zone:
        resolved["timezone"] = tenant_zone
    return resolved


def preview(deps: Deps, tenant_id: str, schedule: Schedule, count: int) -> dict[str, Any]:
    """The next ``count`` times a profile with this schedule would run (black-outs and the
    tenant's global schedule applied), for an editor to show before saving."""
    effective_schedule = _effective(schedule, tenant_settings(deps, tenant_id))
    if effective_schedule["type"] not in TIMED:
        return {"type": effective_schedule["type"], "timezone": None, "next": []}
    zone = schedule_zone(effective_schedule)
    blackouts = effective_schedule.get("blackouts") or []
    times: list[str] = []
    after = deps.clock()
    while len(times) < count:
        fire = next_run_at(effective_schedule, blackouts, after, zone)
        if fire is None:
            break
        times.append(fire.isoformat())
        after = fire
    return {"type": effective_schedule["type"], "timezone": zone.key, "next": times}


def within_plan(schedule: Schedule | TenantSchedule, plan_minimum: int) -> None:
    """The plan's shortest interval (InvalidValue naming ``every_minutes``)."""
    if isinstance(schedule, RateSchedule) and schedule.every_minutes < plan_minimum:
        raise InvalidValue(
            "every_minutes",
            f"must be at least {plan_minimum} (the plan's minimum), got {schedule.every_minutes}",
        )


def validate_schedule(
    raw: Mapping[str, Any], *, plan_minimum: int = 1, tenant: bool = False
) -> dict[str, Any]:
    """A raw schedule checked by its model and the plan; its stored (JSON) form.

    Raises InvalidValue (a ValueError) whose message starts with the offending field.
    ``tenant=True`` reads the tenant's global schedule (not ``default`` or ``after``).
    """
    schedule = parse_schedule(raw, tenant=tenant)
    within_plan(schedule, plan_minimum)
    return schedule.spec()


def check(deps: Deps, tenant_id: str, profile_id: str, schedule: Schedule) -> None:
    """What the model cannot know: the tenant's plan minimum and ``after`` cycles."""
    settings = tenant_settings(deps, tenant_id)
    try:
        within_plan(schedule, settings.plan.min_interval_minutes)
    except InvalidValue as exc:
        raise InvalidRequest(f"schedule.{exc.field}", str(exc)) from exc
    if isinstance(schedule, AfterSchedule):
        edges = {
            p.profile_id: p.schedule.profile_id
            for p in deps.repo.list_profiles(tenant_id)
            if isinstance(p.schedule, AfterSchedule)
        }
        target = schedule.profile_id
        if target != profile_id and deps.repo.get_profile(tenant_id, target) is None:
            raise InvalidRequest("schedule.profile_id", f"no profile {target!r}")
        edges[profile_id] = target
        cycle = find_cycle(edges)
        if cycle:
            raise InvalidRequest(
                "schedule.profile_id",
                f"profiles would run after each other in a cycle: {' -> '.join(cycle)}",
            )


def sync_schedule(deps: Deps, profile: Profile, settings: TenantSettings | None = None) -> None:
    """Create, update or remove the profile's EventBridge schedule to match the profile."""
    if deps.scheduler is None:
        return
    settings = settings or tenant_settings(deps, profile.tenant_id)
    schedule = effective(profile, settings)
    if schedule["type"] not in TIMED:
        deps.scheduler.delete_schedule(profile.profile_id)
        return
    expression, zone = to_scheduler_expression(schedule, timezone=schedule_zone(schedule).key)
    command = {
        "tenant_id": profile.tenant_id,
        "profile_id": profile.profile_id,
        "trigger": "schedule",
    }
    anchor = schedule.get("anchor")
    start = parse_anchor(anchor) if anchor else None
    deps.scheduler.put_schedule(
        profile.profile_id, expression, zone, command, start, enabled=profile.enabled
    )


def blackout_reason(profile: Profile, settings: TenantSettings, at: datetime) -> str | None:
    schedule = effective(profile, settings)
    blackouts = schedule.get("blackouts") or []
    if blackouts and in_blackout(at, blackouts, schedule_zone(schedule)):
        windows = ", ".join(f"{w['start']}-{w['end']}" for w in blackouts)
        return f"blackout: inside the black-out window ({windows})"
    return None


def first_due(profile: Profile, schedule: Mapping[str, Any]) -> datetime | None:
    """The schedule's first fire (outside black-outs) after the profile last did anything a
    fire does: a run ended, an automatic fire found the file unchanged, or the schedule was
    set (or the profile enabled). None for a disabled profile or a schedule without timing."""
    if not profile.enabled or schedule["type"] not in TIMED:
        return None
    last_end = profile.last_run.finished_at if profile.last_run else None
    marks = (profile.created_at, profile.schedule_since, profile.last_checked_at, last_end)
    since = max(mark for mark in marks if mark is not None)
    return next_run_at(schedule, schedule.get("blackouts") or [], since, schedule_zone(schedule))


def view(deps: Deps, profile: Profile, settings: TenantSettings) -> dict[str, Any]:
    """The profile with its next and last run (``core/home.py`` adds the rest)."""
    body = profile.public()
    schedule = effective(profile, settings)
    now = deps.clock()
    upcoming = None
    if profile.enabled and schedule["type"] in TIMED:
        upcoming = next_run_at(
            schedule, schedule.get("blackouts") or [], now, schedule_zone(schedule)
        )
    last = profile.last_run
    body["next_run_at"] = upcoming.isoformat() if upcoming else None
    body["last_run_at"] = last.finished_at.isoformat() if last and last.finished_at else None
    return body
