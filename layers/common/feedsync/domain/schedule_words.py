"""A schedule in words, as a tile on the home page shows it.

Reads the effective schedule (``default`` resolved, the tenant's timezone filled in) as the
plain mapping ``domain/schedule.py`` documents; pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def every(minutes: int) -> str:
    """``every 15 minutes``, ``every hour``, ``every 4 hours``, ``every day``, ``every 90
    minutes`` (hours and days only when they are whole)."""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "every day" if days == 1 else f"every {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "every hour" if hours == 1 else f"every {hours} hours"
    return "every minute" if minutes == 1 else f"every {minutes} minutes"


def _days(weekdays: Sequence[int]) -> str:
    return ", ".join(_DAY_NAMES[d] for d in sorted(weekdays))


def _except(blackouts: Sequence[Mapping[str, Any]]) -> str:
    """`` except 22:00-04:00`` (and the weekdays a window keeps to: ``on Sat, Sun``)."""
    if not blackouts:
        return ""
    windows = []
    for window in blackouts:
        span = f"{window['start']}-{window['end']}"
        if window["start"] == window["end"]:
            span = "all day"
        days = window.get("weekdays")
        windows.append(f"{span} on {_days(days)}" if days else span)
    return " except " + " and ".join(windows)


def schedule_text(schedule: Mapping[str, Any], profile_names: Mapping[str, str]) -> str:
    """The schedule in words: ``every hour except 22:00-04:00, Europe/Berlin``; ``after``
    names the profile it follows (``profile_names``: id -> name; its id if unknown)."""
    kind = schedule.get("type")
    zone = f", {schedule['timezone']}" if schedule.get("timezone") else ""
    blackouts = _except(schedule.get("blackouts") or [])
    if kind == "interval":
        return f"{every(int(schedule['every_minutes']))}{blackouts}{zone}"
    if kind == "automatic":
        checked = every(int(schedule["every_minutes"]))
        return f"when the file changes (checked {checked}){blackouts}{zone}"
    if kind == "daily":
        return f"daily at {schedule['at']}{blackouts}{zone}"
    if kind == "cron":
        expression = str(schedule["expression"]).removeprefix("cron(").removesuffix(")")
        return f"cron {expression}{blackouts}{zone}"
    if kind == "after":
        leader = str(schedule["profile_id"])
        return f"after {profile_names.get(leader, leader)}"
    if kind == "default":
        return "the account's schedule"
    return "manual"
