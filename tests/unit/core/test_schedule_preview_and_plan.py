"""What the profile editor and the settings page ask before saving: a schedule's next run
times, and the tenant's plan with what it uses (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes import World

from feedsync.core import plans, schedules
from feedsync.models import Plan, SchedulePreviewBody

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


def _preview(world: World, schedule: dict[str, object], count: int = 5) -> dict[str, object]:
    body = SchedulePreviewBody.model_validate({"schedule": schedule, "count": count})
    return schedules.preview(world.deps, world.tenant, body.schedule, body.count)


def test_a_daily_schedule_shows_its_next_times_in_its_zone(world: World) -> None:
    # Given the clock at 2026-11-23 10:30 UTC and a daily 06:00 Berlin schedule
    world.clock.now = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    # When its next 3 times are asked for
    shown = _preview(world, {"type": "daily", "at": "06:00", "timezone": "Europe/Berlin"}, count=3)
    # Then they are the next three mornings at 06:00 Berlin (05:00 UTC in winter)
    assert shown["timezone"] == "Europe/Berlin"
    assert shown["next"] == [
        "2026-11-24T05:00:00+00:00", "2026-11-25T05:00:00+00:00", "2026-11-26T05:00:00+00:00",
    ]  # fmt: skip


def test_black_out_hours_are_skipped_and_manual_has_no_times(world: World) -> None:
    # Given an hourly schedule with a black-out from 22:00 to 04:00 UTC, at 20:10 UTC
    world.clock.now = datetime(2026, 11, 23, 20, 10, tzinfo=UTC)
    schedule = {"type": "interval", "every_minutes": 60, "timezone": "UTC",
                "blackouts": [{"start": "22:00", "end": "04:00"}]}  # fmt: skip
    # When its next 3 times are asked for, Then 21:00 and then 04:00 onwards
    assert _preview(world, schedule, count=3)["next"] == [
        "2026-11-23T21:00:00+00:00", "2026-11-24T04:00:00+00:00", "2026-11-24T05:00:00+00:00",
    ]  # fmt: skip
    # and a manual profile has none
    assert _preview(world, {"type": "manual"})["next"] == []


def test_the_plan_and_what_the_tenant_uses_of_it(world: World) -> None:
    # Given a plan of 2 profiles and 3 profiles (the newest held by the plan)
    store = world.store(CATALOG)
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=2))
    for n in range(3):
        world.profile(store, profile_id=f"p{n}")
        world.clock.advance(1)  # an age order
    plans.apply_plan(world.deps, world.tenant)
    # When the plan is read
    shown = plans.usage(world.deps, world.tenant)
    # Then it names the limits and the use
    assert shown["plan"] == {"max_profiles": 2, "min_interval_minutes": 15, "max_rows": 2_000_000}
    assert shown["usage"] == {"profiles": 3, "profiles_enabled": 2, "held_by_plan": 1}
