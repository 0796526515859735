"""A profile's light shows "Overdue" when its schedule's first fire after the profile last
did anything (a run ended, an automatic fire checked the file, the schedule was set) is
past, with the grace, and brought nothing: computed through ``core/home.py`` on a fake clock."""

from __future__ import annotations

from typing import Any

from fakes import World

from feedsync.core import api, plans
from feedsync.models import PatchProfile, Plan, RunSummary

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]
HOURLY = {"type": "interval", "every_minutes": 60}


def _health(world: World) -> dict[str, Any]:
    (view,) = api.profile_views(world.deps, world.tenant, world.repo.list_profiles(world.tenant))
    return dict(view["health"])


def _ran(world: World) -> None:
    """The last run succeeded now (09:00, on the hour: the fire that started it)."""
    summary = RunSummary(run_id="run_1", status="succeeded", finished_at=world.clock())
    world.repo.update_profile(world.tenant, "p1", last_run=summary.model_dump(mode="json"))


def test_a_fire_that_brought_no_run_makes_the_profile_overdue(world: World) -> None:
    # Given an hourly profile whose last run ended at 09:00
    world.profile(world.store(CATALOG), schedule=HOURLY)
    _ran(world)
    # When it is 10:04 (the 10:00 fire within its grace), Then the light is green
    world.clock.advance(64 * 60)
    assert _health(world)["status"] == "green"
    # When it is 10:06 and the 10:00 fire brought no run
    world.clock.advance(2 * 60)
    health = _health(world)
    # Then the light is yellow, Overdue, naming when the run was due
    assert health["status"] == "yellow"
    assert health["reason"].startswith("Overdue: a run was due at 2026-03-02 10:00 UTC")


def test_an_automatic_fire_that_found_the_file_unchanged_is_not_overdue(world: World) -> None:
    # Given an automatic hourly profile whose last run ended at 09:00
    world.profile(world.store(CATALOG), schedule={**HOURLY, "type": "automatic"})
    _ran(world)
    # When its 10:00 fire found the file unchanged (a check, no run) and it is 10:30
    world.clock.advance(60 * 60)
    world.repo.record_source_check(world.tenant, "p1", world.clock())
    world.clock.advance(30 * 60)
    # Then the light stays green
    assert _health(world)["status"] == "green"


def test_a_schedule_set_now_is_not_overdue_for_fires_before_it(world: World) -> None:
    # Given a manual profile whose last run ended a week ago
    world.profile(world.store(CATALOG))
    _ran(world)
    world.clock.advance(7 * 24 * 3600 + 30 * 60)  # 09:30 a week later
    # When an hourly schedule is set
    api.patch_profile(world.deps, world.tenant, "p1", PatchProfile.model_validate(
        {"schedule": HOURLY}))  # fmt: skip
    # Then it is green until its first fire (10:00) and the grace have passed
    assert _health(world)["status"] == "green"
    world.clock.advance(36 * 60)  # 10:06
    assert _health(world)["reason"].startswith("Overdue")


def test_a_profile_without_a_timed_schedule_is_never_overdue(world: World) -> None:
    # Given a manual profile whose last run ended long ago
    world.profile(world.store(CATALOG))
    _ran(world)
    # When a month passes, Then the light is still green
    world.clock.advance(30 * 24 * 3600)
    assert _health(world)["status"] == "green"


def test_a_profile_the_plan_enables_again_is_not_overdue_for_fires_while_held(
    world: World,
) -> None:
    # Given an hourly profile held by the plan (a second profile over a plan of one) for a day
    store = world.store(CATALOG)
    world.profile(store, profile_id="p0")
    world.clock.advance(60)
    world.profile(store, schedule=HOURLY)
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=1))
    plans.apply_plan(world.deps, world.tenant)
    assert world.profile_record().enabled is False
    world.clock.advance(24 * 3600)  # 09:01 the next day
    # When the plan is raised and the profile enabled again by itself
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=2))
    plans.apply_plan(world.deps, world.tenant)
    # Then it is not overdue for the fires while it was held, only after its next one
    assert world.profile_record().enabled is True
    assert not _health_of(world, "p1").startswith("Overdue")
    world.clock.advance(65 * 60)  # 10:06
    assert _health_of(world, "p1").startswith("Overdue")


def _health_of(world: World, profile_id: str) -> str:
    views = api.profile_views(world.deps, world.tenant, world.repo.list_profiles(world.tenant))
    return next(str(v["health"]["reason"]) for v in views if v["profile_id"] == profile_id)
