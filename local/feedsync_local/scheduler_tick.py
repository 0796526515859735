"""EventBridge Scheduler's part on one machine.

moto stores schedules but never fires them, so the local stack ticks: it reads the
schedules the app created (the same EventBridge Scheduler API calls as on AWS),
evaluates their expressions with Scheduler's semantics (rate from StartDate, cron in
the schedule's timezone, flexible window off) via ``feedsync.domain.schedule``, and
invokes their target with ``<aws.scheduler.scheduled-time>`` filled in.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedsync.adapters.scheduler import SCHEDULED_TIME
from feedsync.domain.schedule import next_fire

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
log = logging.getLogger(__name__)

StoredSchedule = dict[str, Any]  # scheduler.get_schedule() output


def as_domain_schedule(stored: StoredSchedule) -> tuple[dict[str, Any], ZoneInfo]:
    """A stored EventBridge schedule as a domain schedule plus its timezone."""
    expression = str(stored["ScheduleExpression"])
    zone = ZoneInfo(stored.get("ScheduleExpressionTimezone") or "UTC")
    rate = _RATE.fullmatch(expression)
    if rate:
        minutes = int(rate.group(1)) * _UNIT_MINUTES[rate.group(2).rstrip("s")]
        spec: dict[str, Any] = {"type": "interval", "every_minutes": minutes}
        start = stored.get("StartDate")
        if start is not None:
            spec["anchor"] = start.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return spec, zone
    if expression.startswith("cron("):
        return {"type": "cron", "expression": expression}, zone
    raise ValueError(f"unsupported schedule expression {expression!r}")


def fires_between(stored: StoredSchedule, since: datetime, until: datetime) -> list[datetime]:
    """Fire times in (since, until], as Scheduler would fire them."""
    if stored.get("State", "ENABLED") != "ENABLED":
        return []
    spec, zone = as_domain_schedule(stored)
    fires: list[datetime] = []
    fire = next_fire(spec, since, zone)
    while fire is not None and fire <= until:
        fires.append(fire)
        fire = next_fire(spec, fire, zone)
    return fires


def target_event(stored: StoredSchedule, fire: datetime) -> dict[str, Any]:
    import json

    text = str(stored["Target"].get("Input") or "{}")
    stamp = fire.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(json.loads(text.replace(SCHEDULED_TIME, stamp)))


class SchedulerTick:
    """Fires due schedules from ``list_schedules()`` through ``invoke(target_arn, event)``."""

    def __init__(
        self,
        list_schedules: Callable[[], list[StoredSchedule]],
        invoke: Callable[[str, dict[str, Any]], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval_s: float = 5.0,
    ) -> None:
        self.list_schedules = list_schedules
        self.invoke = invoke
        self.clock = clock
        self.interval_s = interval_s
        self.since: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[tuple[str, datetime]]:
        """Fire everything due since the last tick (nothing on the first: no backfill)."""
        now = self.clock()
        since, self.since = self.since or now, now
        fired: list[tuple[str, datetime]] = []
        for stored in self.list_schedules():
            for fire in fires_between(stored, since, now):
                try:
                    self.invoke(str(stored["Target"]["Arn"]), target_event(stored, fire))
                except Exception:  # one bad target must not stop the others
                    log.exception("schedule %s failed to fire at %s", stored.get("Name"), fire)
                fired.append((str(stored["Name"]), fire))
        return fired

    def start(self) -> SchedulerTick:
        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                self.tick()

        self.tick()
        self._thread = threading.Thread(target=loop, daemon=True, name="scheduler-tick")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def moto_schedules(client: Any, group: str) -> Callable[[], list[StoredSchedule]]:
    """Read the stored schedules of one group (what the app created with the Scheduler API)."""

    def read() -> list[StoredSchedule]:
        names = [
            s["Name"]
            for page in client.get_paginator("list_schedules").paginate(GroupName=group)
            for s in page["Schedules"]
        ]
        return [client.get_schedule(GroupName=group, Name=name) for name in names]

    return read
