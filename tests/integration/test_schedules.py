"""Schedules: EventBridge schedules follow the profile; fires run, skip or chain as they should."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.core.start import start_run
from feedsync.errors import InvalidRequest, SourceUnchanged
from feedsync.models import PatchProfile, Run, RunSummary, StartCommand
from feedsync_local.scheduler_tick import SchedulerTick, moto_schedules

FEED = "SKU,Price,Qty\nBAG-1,21.00,4\n"
EVERY_15 = {
    "type": "interval",
    "every_minutes": 15,
    "timezone": "UTC",
    "blackouts": [{"start": "20:00", "end": "04:00"}],
}


def _stored(h: Harness, name: str) -> dict[str, Any]:
    group = h.stack.env["SCHEDULE_GROUP"]
    return dict(h.stack.client("scheduler").get_schedule(GroupName=group, Name=name))


def _names(h: Harness) -> set[str]:
    group = h.stack.env["SCHEDULE_GROUP"]
    pages = h.stack.client("scheduler").get_paginator("list_schedules").paginate(GroupName=group)
    return {s["Name"] for page in pages for s in page["Schedules"]}


def _settle(h: Harness, tenant: str, profile_id: str) -> None:
    """Wait until no run of the profile is active."""
    deadline = time.monotonic() + 60
    while (p := h.deps.repo.get_profile(tenant, profile_id)) and p.current_run_id:
        assert time.monotonic() < deadline, "run did not finish"
        time.sleep(0.05)


def test_the_eventbridge_schedule_follows_the_profile(h: Harness) -> None:
    # Given a profile created with an interval schedule
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    profile = h.url_profile(shop, FEED, schedule=EVERY_15)
    # Then one schedule targets the start path with this profile
    stored = _stored(h, profile.profile_id)
    assert stored["ScheduleExpression"] == "rate(15 minutes)"
    assert stored["Target"]["Arn"] == h.stack.env["START_FUNCTION_ARN"]
    assert profile.profile_id in stored["Target"]["Input"]
    # When the profile moves to a daily time in New York, then the schedule follows
    daily = {"type": "daily", "at": "00:30", "timezone": "America/New_York"}
    api.patch_profile(h.deps, shop.tenant, profile.profile_id, PatchProfile(schedule=daily))
    stored = _stored(h, profile.profile_id)
    assert stored["ScheduleExpression"] == "cron(30 0 * * ? *)"
    assert stored["ScheduleExpressionTimezone"] == "America/New_York"
    # When it is disabled, then its schedule is DISABLED; enabled again, ENABLED
    api.patch_profile(h.deps, shop.tenant, profile.profile_id, PatchProfile(enabled=False))
    assert _stored(h, profile.profile_id)["State"] == "DISABLED"
    api.patch_profile(h.deps, shop.tenant, profile.profile_id, PatchProfile(enabled=True))
    assert _stored(h, profile.profile_id)["State"] == "ENABLED"
    # When it becomes manual, then no schedule remains
    api.patch_profile(
        h.deps, shop.tenant, profile.profile_id, PatchProfile(schedule={"type": "manual"})
    )
    assert profile.profile_id not in _names(h)
    api.patch_profile(h.deps, shop.tenant, profile.profile_id, PatchProfile(schedule=daily))
    # When it is deleted, then its schedule is deleted too
    api.delete_profile(h.deps, shop.tenant, profile.profile_id)
    assert profile.profile_id not in _names(h)


def test_fires_run_outside_blackouts_and_are_recorded_skipped_inside(h: Harness) -> None:
    # Given a 15-minute profile with a 20:00-04:00 black-out, and the scheduler's clock
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    anchor = datetime(2026, 11, 23, tzinfo=UTC)
    schedule = {**EVERY_15, "anchor": anchor.isoformat()}
    profile = h.url_profile(shop, FEED, schedule=schedule)
    clock = [anchor + timedelta(hours=19)]
    group = h.stack.env["SCHEDULE_GROUP"]
    listing = moto_schedules(h.stack.client("scheduler"), group)
    mine = lambda: [s for s in listing() if s["Name"] == profile.profile_id]  # noqa: E731
    tick = SchedulerTick(mine, h.stack.invoke_arn, clock=lambda: clock[0])
    tick.tick()
    # When the clock goes from 19:00 to 20:30 in 15-minute steps, each run allowed to end
    for _ in range(6):
        clock[0] += timedelta(minutes=15)
        tick.tick()
        _settle(h, shop.tenant, profile.profile_id)
    # Then 19:15-19:45 ran (scheduled), 20:00-20:30 were skipped for the black-out
    runs = sorted(
        h.deps.repo.list_runs(shop.tenant, profile.profile_id),
        key=lambda r: r.scheduled_time or anchor,
    )
    got = [(r.scheduled_time.strftime("%H:%M") if r.scheduled_time else "", r.status) for r in runs]
    assert got == [
        ("19:15", "succeeded"),
        ("19:30", "succeeded"),
        ("19:45", "succeeded"),
        ("20:00", "skipped"),
        ("20:15", "skipped"),
        ("20:30", "skipped"),
    ]
    assert all(r.trigger == "schedule" for r in runs)
    assert all("black-out" in (r.reason or "") for r in runs if r.status == "skipped")
    # And a manual Start during the black-out still runs
    manual = h.run_to_end(shop.tenant, profile.profile_id)
    assert manual.status == "succeeded"


def test_a_profile_after_another_runs_when_that_one_changes_something(h: Harness) -> None:
    # Given profile B set to run after profile A
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    # (A writes prices, B writes stock, so neither undoes the other)
    first = h.url_profile(shop, FEED, fields=["price"])
    after_first = {"type": "after", "profile_id": first.profile_id}
    follower = h.url_profile(
        shop, "SKU,Price,Qty\nBAG-1,21.00,9\n", schedule=after_first, fields=["stock"]
    )
    # When A runs and changes the store
    done = h.run_to_end(shop.tenant, first.profile_id)
    assert done.status == "succeeded" and done.counts["updated"] == 1
    # Then B ran after it, as a chained run
    deadline = time.monotonic() + 30
    while not h.deps.repo.list_runs(shop.tenant, follower.profile_id):
        assert time.monotonic() < deadline, "the follower did not start"
        time.sleep(0.05)
    (chained,) = h.deps.repo.list_runs(shop.tenant, follower.profile_id)
    assert chained.trigger == "chain"
    assert h.wait_run(shop.tenant, chained.run_id).status == "succeeded"
    # When A runs again with nothing to change, then B does not run again (no wait is
    # needed: run_to_end returns once A's execution ended, after its Finalize, which is
    # where followers are started)
    again = h.run_to_end(shop.tenant, first.profile_id)
    assert again.counts["updated"] == 0
    assert len(h.deps.repo.list_runs(shop.tenant, follower.profile_id)) == 1


def test_after_cycles_and_intervals_below_the_plan_are_refused(h: Harness) -> None:
    # Given A after B
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    b = h.url_profile(shop, FEED)
    a = h.url_profile(shop, FEED, schedule={"type": "after", "profile_id": b.profile_id})
    # When B is set to run after A, then the cycle is refused naming both
    with pytest.raises(InvalidRequest) as cycle:
        api.patch_profile(
            h.deps, shop.tenant, b.profile_id,
            PatchProfile(schedule={"type": "after", "profile_id": a.profile_id}),
        )  # fmt: skip
    assert cycle.value.field == "schedule.profile_id"
    assert a.profile_id in cycle.value.message and b.profile_id in cycle.value.message
    # When the tenant's plan allows 30 minutes at least, then 15 is refused
    settings = h.deps.repo.get_tenant_settings(shop.tenant)
    from feedsync.core.schedules import tenant_settings

    current = settings or tenant_settings(h.deps, shop.tenant)
    plan = current.plan.model_copy(update={"min_interval_minutes": 30})
    h.deps.repo.put_tenant_settings(current.model_copy(update={"plan": plan}))
    with pytest.raises(InvalidRequest) as slow:
        api.patch_profile(
            h.deps, shop.tenant, b.profile_id,
            PatchProfile(schedule={"type": "interval", "every_minutes": 15}),
        )  # fmt: skip
    assert slow.value.field == "schedule.every_minutes"


def test_default_profiles_follow_the_tenant_schedule(h: Harness) -> None:
    # Given a profile on the tenant's default schedule
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    profile = h.url_profile(shop, FEED, schedule={"type": "default"})
    # When the tenant's global schedule becomes every 4 hours in Berlin
    api.put_schedule_settings(
        h.deps, shop.tenant, {"type": "interval", "every_minutes": 240, "timezone": "Europe/Berlin"}
    )
    # Then the profile's EventBridge schedule was re-made from it, and its view shows it
    assert _stored(h, profile.profile_id)["ScheduleExpression"] == "rate(240 minutes)"
    (view,) = api.profile_views(h.deps, shop.tenant, [profile])
    assert view["next_run_at"] is not None and view["health"]["status"] in ("green", "yellow")
    # And a profile's own daily time without a timezone is read in the tenant's timezone
    daily = h.url_profile(shop, FEED, schedule={"type": "daily", "at": "06:00"})
    stored = _stored(h, daily.profile_id)
    assert stored["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert stored["ScheduleExpressionTimezone"] == "Europe/Berlin"


def _fire(h: Harness, tenant: str, profile_id: str, at: datetime) -> Run:
    cmd = StartCommand(
        tenant_id=tenant,
        profile_id=profile_id,
        trigger="schedule",
        scheduled_time=at,
        idempotency_key=at.isoformat(),
    )
    return h.wait_run(tenant, start_run(h.deps, cmd).run_id)


def test_an_automatic_schedule_skips_an_unchanged_source(h: Harness) -> None:
    # Given an automatic (every 15 minutes) profile whose supplier file is served by a
    # web server that answers If-Modified-Since with 304
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    url = h.feed_url(FEED)
    path = h.files_dir / url.rsplit("/", 2)[-2] / "feed.csv"
    os.utime(path, (1_700_000_000, 1_700_000_000))
    automatic = {"type": "automatic", "every_minutes": 15}
    profile = h.profile(shop, {"type": "url", "url": url}, schedule=automatic)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # When it fires (the run ends), then fires again with the file untouched
    first = _fire(h, shop.tenant, profile.profile_id, t0)
    h.execution(first.run_id)  # its Finalize recorded the file
    second = StartCommand(
        tenant_id=shop.tenant,
        profile_id=profile.profile_id,
        trigger="schedule",
        scheduled_time=t0 + timedelta(minutes=15),
    )
    with pytest.raises(SourceUnchanged, match=r"not modified \(304\)"):
        start_run(h.deps, second)
    # Then the first synced; the second was a check on the profile: no run, no lock
    assert first.status == "succeeded" and first.counts["updated"] == 1
    assert [r.run_id for r in h.deps.repo.list_runs(shop.tenant, profile.profile_id)] == [
        first.run_id
    ]
    checked = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert checked is not None and checked.checks == 1 and checked.current_run_id is None
    # When the supplier publishes a new file, then the next fire syncs it
    path.write_text("SKU,Price,Qty\nBAG-1,23.00,4\n", encoding="utf-8")
    os.utime(path, (1_800_000_000, 1_800_000_000))
    third = _fire(h, shop.tenant, profile.profile_id, t0 + timedelta(minutes=30))
    assert third.status == "succeeded" and third.counts["updated"] == 1
    # And a manual Start always syncs, unchanged or not
    manual = h.run_to_end(shop.tenant, profile.profile_id)
    assert manual.status == "succeeded"


class _InstantRuns:
    """Stands in for Step Functions: each started run finishes at once (succeeded)."""

    def __init__(self, h: Harness) -> None:
        self.h, self.started = h, 0

    def start(self, name: str, payload: dict[str, Any]) -> str:
        ref = payload["run"]
        run = self.h.deps.repo.get_run(ref["tenant_id"], ref["run_id"])
        assert run is not None
        self.started += 1
        self.h.deps.repo.update_run(ref["tenant_id"], name, status="succeeded")
        summary = RunSummary(run_id=name, status="succeeded")
        self.h.deps.repo.release_run_lock(ref["tenant_id"], ref["profile_id"], name, summary, True)
        return name

    def status(self, name: str) -> str | None:
        return "SUCCEEDED"


def test_a_day_of_15_minute_fires_with_a_night_blackout_gives_64_runs_and_32_skips(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 15-minute profile with a 20:00-04:00 black-out (Berlin time), its EventBridge
    # schedule, the scheduler's clock, and runs that finish at once
    shop = h.shop([simple_product("Bag", "BAG-1", "20.00", 4)])
    day = datetime(2026, 11, 23, tzinfo=ZoneInfo("Europe/Berlin"))
    schedule = {**EVERY_15, "timezone": "Europe/Berlin", "anchor": day.isoformat()}
    profile = h.url_profile(shop, FEED, schedule=schedule)
    runs = _InstantRuns(h)
    monkeypatch.setattr(h.deps, "executions", runs)
    group = h.stack.env["SCHEDULE_GROUP"]
    listing = moto_schedules(h.stack.client("scheduler"), group)
    mine = lambda: [s for s in listing() if s["Name"] == profile.profile_id]  # noqa: E731
    clock = [day.astimezone(UTC)]
    tick = SchedulerTick(mine, h.stack.invoke_arn, clock=lambda: clock[0])
    tick.tick()
    # When the day passes, ticked every 15 minutes (each fire goes through the start path)
    while clock[0] < (day + timedelta(days=1)).astimezone(UTC):
        clock[0] += timedelta(minutes=15)
        tick.tick()
    # Then 96 fires: 64 runs between 04:00 and 19:45, 32 skipped for the black-out
    history = h.deps.repo.list_runs(shop.tenant, profile.profile_id, limit=200)
    skipped = [r for r in history if r.status == "skipped"]
    assert len(history) == 96 and runs.started == 64 and len(skipped) == 32
    local = sorted(
        r.scheduled_time.astimezone(day.tzinfo).strftime("%H:%M")
        for r in skipped
        if r.scheduled_time
    )
    assert (
        local[0] == "00:00"
        and local[-1] == "23:45"
        and "04:00" not in local
        and "19:45" not in local
    )
