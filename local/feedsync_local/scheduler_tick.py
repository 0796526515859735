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
from concurrent.futures import ThreadPoolExecutor
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
    """Fires due schedules from ``list_schedules()`` through ``invoke(target_arn, event)``.

    Scheduler invokes its targets asynchronously, each fire on its own: a thousand
    profiles on one minute start together, not one after another. So a tick delivers
    its fires from ``workers`` threads at once (one slow start does not hold back the
    rest or the next minute), and returns when every fire has been delivered. A fire
    whose invocation fails is delivered again, up to ``attempts`` times in all (Lambda's
    asynchronous retries; the same event, so the start path's idempotency key holds).
    """

    def __init__(
        self,
        list_schedules: Callable[[], list[StoredSchedule]],
        invoke: Callable[[str, dict[str, Any]], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval_s: float = 5.0,
        workers: int = 32,
        attempts: int = 3,
        retry_delay_s: float = 1.0,
    ) -> None:
        self.list_schedules = list_schedules
        self.invoke = invoke
        self.clock = clock
        self.interval_s = interval_s
        self.workers = workers
        self.attempts = attempts
        self.retry_delay_s = retry_delay_s
        self.since: datetime | None = None
        self.failed_attempts = 0
        self.lost: list[tuple[str, datetime]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        # feedsync_local.metering.Meter while the cost model counts (None: no effect).
        self.meter: Any = None

    def tick(self) -> list[tuple[str, datetime]]:
        """Fire everything due since the last tick (nothing on the first: no backfill)."""
        now = self.clock()
        since = self.since or now
        # A failed read raises before the window moves: the next tick fires this one's.
        schedules = self.list_schedules()
        self.since = now
        due = [(s, f) for s in schedules if (f := fires_between(s, since, now))]
        if len(due) == 1:
            self._deliver(*due[0])
        elif due:
            with ThreadPoolExecutor(min(self.workers, len(due)), "scheduler-fire") as pool:
                list(pool.map(lambda item: self._deliver(*item), due))
        return [(str(stored["Name"]), fire) for stored, fires in due for fire in fires]

    def _deliver(self, stored: StoredSchedule, fires: list[datetime]) -> None:
        """One schedule's fires, in order (its own fires are a minute or more apart)."""
        for fire in fires:
            self._fire(stored, fire)

    def _fire(self, stored: StoredSchedule, fire: datetime) -> None:
        event = target_event(stored, fire)
        for attempt in range(1, self.attempts + 1):
            if self.meter is not None:  # each delivery attempt is one Scheduler invocation
                self.meter.scheduler_invocation()
            try:
                self.invoke(str(stored["Target"]["Arn"]), event)
                return
            except Exception:  # one bad target must not stop the others
                with self._count_lock:
                    self.failed_attempts += 1
                log.exception(
                    "schedule %s failed to fire at %s (attempt %d of %d)",
                    stored.get("Name"), fire, attempt, self.attempts,
                )  # fmt: skip
                if attempt < self.attempts:
                    self._stop.wait(self.retry_delay_s * attempt)
        with self._count_lock:
            self.lost.append((str(stored.get("Name")), fire))

    def start(self) -> SchedulerTick:
        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                try:
                    self.tick()
                except Exception:  # a failed read must not end the scheduler for good
                    log.exception("scheduler tick failed; the next tick covers its window")

        self.tick()
        self._thread = threading.Thread(target=loop, daemon=True, name="scheduler-tick")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def moto_schedules(client: Any, group: str, readers: int = 8) -> Callable[[], list[StoredSchedule]]:
    """Read the stored schedules of one group (what the app created with the Scheduler API).

    ListSchedules does not return expressions, so each schedule is read on its own, from
    ``readers`` threads (a thousand schedules in a tick's time); one deleted in between
    is left out, as it will not fire.
    """

    def one(name: str) -> StoredSchedule | None:
        try:
            return dict(client.get_schedule(GroupName=group, Name=name))
        except client.exceptions.ResourceNotFoundException:
            return None

    def read() -> list[StoredSchedule]:
        names = [
            s["Name"]
            for page in client.get_paginator("list_schedules").paginate(GroupName=group)
            for s in page["Schedules"]
        ]
        with ThreadPoolExecutor(readers, "scheduler-read") as pool:
            return [stored for stored in pool.map(one, names) if stored is not None]

    return read
