"""The local scheduler tick fires stored schedules as EventBridge Scheduler would."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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


def _named(name: str, expression: str, **extra: Any) -> dict[str, Any]:
    stored = _stored(expression, **extra)
    command = {"tenant_id": "t", "profile_id": name, "trigger": "schedule"}
    stored["Name"] = name
    stored["Target"]["Input"] = json.dumps(
        {**command, "scheduled_time": SCHEDULED_TIME, "idempotency_key": SCHEDULED_TIME}
    )
    return stored


def test_profiles_due_on_the_same_minute_are_fired_together_each_once() -> None:
    # Given 20 schedules due at the same minute, and a target that only answers once all
    # 20 fires are in flight at the same time (as Scheduler's asynchronous invokes are)
    day = datetime(2026, 11, 23, tzinfo=UTC)
    stored = [_named(f"p{i:02d}", "cron(0 9 * * ? *)") for i in range(20)]
    together = threading.Barrier(20, timeout=5)
    seen: list[str] = []
    lock = threading.Lock()

    def invoke(arn: str, event: dict[str, Any]) -> None:
        together.wait()
        with lock:
            seen.append(event["profile_id"])

    clock = Clock(day + timedelta(hours=8, minutes=59, seconds=58))
    tick = SchedulerTick(lambda: stored, invoke, clock)
    tick.tick()
    # When the minute passes
    clock.now += timedelta(seconds=4)
    fired = tick.tick()
    # Then every profile was delivered exactly once, none failed or lost
    assert sorted(seen) == [f"p{i:02d}" for i in range(20)]
    assert sorted(name for name, _ in fired) == sorted(seen)
    assert tick.failed_attempts == 0 and tick.lost == []


def test_a_fire_whose_invocation_fails_is_delivered_again_with_the_same_event() -> None:
    # Given a schedule whose first delivery fails (a throttled or crashed start)
    day = datetime(2026, 11, 23, tzinfo=UTC)
    stored = _named("p1", "cron(0 9 * * ? *)")
    events: list[dict[str, Any]] = []

    def invoke(arn: str, event: dict[str, Any]) -> None:
        events.append(event)
        if len(events) == 1:
            raise RuntimeError("throttled")

    clock = Clock(day + timedelta(hours=8, minutes=59))
    tick = SchedulerTick(lambda: [stored], invoke, clock, retry_delay_s=0)
    tick.tick()
    # When 09:00 passes
    clock.now += timedelta(minutes=2)
    tick.tick()
    # Then it was delivered twice, with the same scheduled time and idempotency key
    assert len(events) == 2 and events[0] == events[1]
    assert events[1]["idempotency_key"] == "2026-11-23T09:00:00Z"
    assert tick.failed_attempts == 1 and tick.lost == []


def test_a_fire_failing_every_attempt_is_reported_lost() -> None:
    # Given a target that always fails
    day = datetime(2026, 11, 23, tzinfo=UTC)
    stored = _named("p1", "cron(0 9 * * ? *)")
    calls: list[str] = []

    def invoke(arn: str, event: dict[str, Any]) -> None:
        calls.append(arn)
        raise RuntimeError("down")

    clock = Clock(day + timedelta(hours=8, minutes=59))
    tick = SchedulerTick(lambda: [stored], invoke, clock, attempts=3, retry_delay_s=0)
    tick.tick()
    clock.now += timedelta(minutes=2)
    tick.tick()
    # Then it was tried three times and is listed as lost
    assert len(calls) == 3
    assert tick.lost == [("p1", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))]


def test_a_failed_read_of_the_schedules_loses_no_fire() -> None:
    # Given a schedule at 09:00 and a schedule read that fails on the tick after 09:00
    day = datetime(2026, 11, 23, tzinfo=UTC)
    stored = _named("p1", "cron(0 9 * * ? *)")
    fail = [False]
    fired: list[str] = []

    def read() -> list[dict[str, Any]]:
        if fail[0]:
            raise ConnectionError("scheduler API unavailable")
        return [stored]

    clock = Clock(day + timedelta(hours=8, minutes=59))
    tick = SchedulerTick(read, lambda arn, e: fired.append(e["scheduled_time"]), clock)
    tick.tick()
    # When the read fails on the tick after 09:00, then nothing fires yet
    clock.now += timedelta(minutes=2)
    fail[0] = True
    with pytest.raises(ConnectionError):
        tick.tick()
    # When the next tick reads again, then 09:00 fires (once)
    fail[0] = False
    clock.now += timedelta(seconds=5)
    tick.tick()
    assert fired == ["2026-11-23T09:00:00Z"]


def test_the_tick_loop_survives_a_failed_read() -> None:
    # Given a running tick whose first background read fails
    reads: list[int] = []

    def read() -> list[dict[str, Any]]:
        reads.append(1)
        if len(reads) == 2:
            raise ConnectionError("scheduler API unavailable")
        return []

    tick = SchedulerTick(read, lambda arn, e: None, interval_s=0.01).start()
    try:
        # Then it keeps reading after the failure
        deadline = time.monotonic() + 5
        while len(reads) < 4:
            assert time.monotonic() < deadline, "the tick loop stopped after a failed read"
            time.sleep(0.01)
    finally:
        tick.stop()
