"""The local scheduler tick fires stored schedules as EventBridge Scheduler would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsync_local.scheduler_tick import SCHEDULED_TIME, SchedulerTick

START_FN = "arn:aws:lambda:us-east-1:123456789012:function:feedsync-local-start"


def _stored(expression: str, tz: str | None = None, **extra: Any) -> dict[str, Any]:
    command = {"tenant_id": "t", "profile_id": "p1", "trigger": "schedule"}
    return {
        "Name": "p1",
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": tz,
        "State": "ENABLED",
        "Target": {
            "Arn": START_FN,
            "Input": json.dumps(
                {**command, "scheduled_time": SCHEDULED_TIME, "idempotency_key": SCHEDULED_TIME}
            ),
        },
        **extra,
    }


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _run_day(stored: dict[str, Any], day: datetime, step: timedelta) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    clock = Clock(day)
    tick = SchedulerTick(lambda: [stored], lambda arn, event: events.append(event), clock)
    tick.tick()  # the first tick only sets the starting point
    while clock.now < day + timedelta(days=1):
        clock.now += step
        tick.tick()
    return events


def test_a_day_of_15_minute_rate_fires_96_times_with_the_fire_time_filled_in() -> None:
    # Given rate(15 minutes) anchored at midnight UTC
    day = datetime(2026, 11, 23, tzinfo=UTC)
    stored = _stored("rate(15 minutes)", StartDate=day)
    # When a day passes, ticked every 7 minutes
    events = _run_day(stored, day, timedelta(minutes=7))
    # Then it fired 96 times, each with its own scheduled time as the idempotency key
    assert len(events) == 96
    assert events[0]["scheduled_time"] == "2026-11-23T00:15:00Z"
    assert events[-1]["scheduled_time"] == "2026-11-24T00:00:00Z"
    assert all(e["idempotency_key"] == e["scheduled_time"] for e in events)
    assert len({e["scheduled_time"] for e in events}) == 96


def test_a_daily_cron_fires_once_on_the_fall_back_night() -> None:
    # Given 01:30 every day in New York, on the day the clocks go back (01:30 happens twice)
    day = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    stored = _stored("cron(30 1 * * ? *)", "America/New_York")
    # When the day passes
    events = _run_day(stored, day, timedelta(minutes=10))
    # Then it fired once, at the first 01:30 (EDT, 05:30 UTC)
    assert [e["scheduled_time"] for e in events] == ["2026-11-01T05:30:00Z"]


def test_a_disabled_schedule_and_the_first_tick_fire_nothing() -> None:
    # Given a disabled schedule and an enabled one
    day = datetime(2026, 11, 23, tzinfo=UTC)
    enabled = _stored("rate(1 minute)", StartDate=day - timedelta(days=3))
    disabled = {**_stored("rate(1 minute)"), "State": "DISABLED", "Name": "p2"}
    clock = Clock(day)
    fired: list[str] = []
    tick = SchedulerTick(lambda: [enabled, disabled], lambda arn, e: fired.append(arn), clock)
    # When the stack starts (first tick), then nothing from the past is replayed
    assert tick.tick() == []
    # When three minutes pass, then only the enabled schedule fired, three times
    clock.now += timedelta(minutes=3)
    assert [name for name, _ in tick.tick()] == ["p1", "p1", "p1"]
    assert fired == [START_FN] * 3
