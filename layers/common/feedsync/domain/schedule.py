"""Profile schedules: when EventBridge Scheduler fires, black-out windows (health is
``domain/health.py``, the words ``domain/schedule_words.py``).

Pure domain: stdlib only (``datetime``, ``zoneinfo``), no I/O. The shapes are
declared and validated once, by the pydantic models in ``feedsync.models``
(``Schedule``: one model per kind); these functions read the validated form as a
plain mapping (the model's ``spec()``, which is also what DynamoDB stores), so the
domain stays free of pydantic. The models call the ``parse_*`` functions here for
the values (times, weekdays, timezones, cron), so a value means the same when it is
validated and when it is used. The AWS adapter uses :func:`to_scheduler_expression`;
the local stack's scheduler tick uses :func:`next_run_at` with a controllable clock.

Schedule shapes (a mapping with ``type``)::

    {"type": "interval", "every_minutes": 60, "timezone": "Europe/Berlin",
     "blackouts": [{"start": "20:00", "end": "04:00"}], "anchor": "2026-01-01T00:00:00Z"}
    {"type": "automatic", "every_minutes": 15}      # interval; skipped when source unchanged
    {"type": "daily", "at": "00:30", "timezone": "America/New_York"}
    {"type": "cron", "expression": "cron(0 */2 * * ? *)", "timezone": "UTC"}
    {"type": "after", "profile_id": "..."}  {"type": "default"}  {"type": "manual"}

Timing semantics (EventBridge Scheduler, flexible time window off):

* ``interval``/``automatic`` = ``rate(N minutes)`` with ``StartDate = anchor``: fires at
  ``anchor + k*N`` (k >= 0), an absolute rhythm that ignores timezones and DST.
  Without an anchor the Unix epoch is used (so 15 minutes lands on :00/:15/:30/:45 UTC);
  the adapter must pass the same anchor as ``StartDate``.
* ``daily``/``cron`` are wall-clock schedules evaluated in the given IANA timezone.

DST choices for wall-clock schedules (AWS documents both: "When the time shifts forward
in the Spring, if a cron expression falls on a non-existent date and time, your schedule
invocation is skipped. When time shifts backwards in the Fall, your schedule runs only
once and does not repeat its invocation." - EventBridge Scheduler User Guide,
"Daylight savings time"):

* nonexistent local time (spring forward): ``gap="skip"`` (the default, what AWS does)
  drops that occurrence; ``gap="shift"`` fires instead at the first valid instant after
  the gap (e.g. 02:30 on the Berlin spring-forward day fires at 03:00 CEST). Several
  occurrences inside one gap collapse into that single instant.
* ambiguous local time (fall back): fires once, at the FIRST occurrence (the
  pre-transition offset, ``fold=0``); the repeated hour does not fire again.

Black-out windows are wall-clock too (``start`` inclusive, ``end`` exclusive, in the
schedule's timezone); a window whose ``end`` is before its ``start`` crosses midnight
and belongs to the weekday of its START; ``start == end`` blacks out the whole local day.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Schedule = Mapping[str, Any]
_T = TypeVar("_T")
GapPolicy = Literal["skip", "shift"]

KINDS: Final = ("default", "interval", "automatic", "daily", "cron", "after", "manual")
TIMED_KINDS: Final = ("interval", "automatic", "daily", "cron")
INTERVAL_PRESETS: Final = (15, 60, 240, 1440)
MAX_EVERY_MINUTES: Final = 366 * 24 * 60
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_HORIZON: Final = timedelta(days=366)

_WEEKDAY_NAMES: Final = {
    name: i
    for i, names in enumerate(
        (
            ("MON", "MONDAY"),
            ("TUE", "TUESDAY"),
            ("WED", "WEDNESDAY"),
            ("THU", "THURSDAY"),
            ("FRI", "FRIDAY"),
            ("SAT", "SATURDAY"),
            ("SUN", "SUNDAY"),
        )
    )
    for name in names
}
_HHMM: Final = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# --------------------------------------------------------------------------- cron

_CRON_FIELDS: Final = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_CRON_RANGES: Final = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
_MONTH_NAMES: Final = {
    name: i + 1
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
_CRON_DOW_NAMES: Final = {
    name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))
}
_CRON_WRAPPED: Final = re.compile(r"^cron\((.*)\)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class CronSpec:
    """A parsed EventBridge cron expression.

    ``days_of_month`` is None when that field is ``?`` (then ``days_of_week`` is set),
    and the other way round. Day-of-week values use AWS numbering: 1=SUN .. 7=SAT.
    ``nth_weekdays`` holds ``(weekday, n)`` pairs from ``weekday#n``.
    """

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None
    last_day_of_month: bool
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    nth_weekdays: frozenset[tuple[int, int]]
    years: tuple[int, ...]

    def matches_date(self, day: date) -> bool:
        """True when the date part (year, month, day-of-month/week) matches."""
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.days_of_month is not None:
            if day.day in self.days_of_month:
                return True
            return self.last_day_of_month and day.day == _month_len(day)
        dow = aws_weekday(day)
        assert self.days_of_week is not None  # one of the two is always set
        return dow in self.days_of_week or (dow, (day.day - 1) // 7 + 1) in self.nth_weekdays


def aws_weekday(day: date) -> int:
    """AWS cron day-of-week of a date: 1=SUN, 2=MON .. 7=SAT."""
    return (day.weekday() + 1) % 7 + 1


def _month_len(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _cron_value(text: str, idx: int) -> int:
    name = _CRON_FIELDS[idx]
    lo, hi = _CRON_RANGES[idx]
    up = text.upper()
    if idx == 3 and up in _MONTH_NAMES:
        return _MONTH_NAMES[up]
    if idx == 4 and up in _CRON_DOW_NAMES:
        return _CRON_DOW_NAMES[up]
    if not text.isdigit():
        expected = f"a number {lo}-{hi}"
        if idx == 3:
            expected += " or JAN-DEC"
        elif idx == 4:
            expected += " or SUN-SAT"
        raise ValueError(f"cron field {idx + 1} ({name}): expected {expected}, got {text!r}")
    value = int(text)
    if not lo <= value <= hi:
        raise ValueError(f"cron field {idx + 1} ({name}): {value} is out of range {lo}-{hi}")
    return value


def _cron_item(item: str, idx: int) -> set[int]:
    """One comma-separated item: ``*``, ``a``, ``a-b``, ``*/n``, ``a/n``, ``a-b/n``."""
    name = _CRON_FIELDS[idx]
    lo, hi = _CRON_RANGES[idx]
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ValueError(
                f"cron field {idx + 1} ({name}): step in {item!r} must be a positive integer"
            )
        step = int(step_text)
    if base == "*":
        start, end = lo, hi
    elif "-" in base:
        a, _, b = base.partition("-")
        start, end = _cron_value(a, idx), _cron_value(b, idx)
        if start > end:
            raise ValueError(
                f"cron field {idx + 1} ({name}): range {base!r} must go from low to high"
            )
    else:
        start = _cron_value(base, idx)
        end = hi if slash else start
    return set(range(start, end + 1, step))


def _unsupported(field: str, idx: int) -> None:
    name = _CRON_FIELDS[idx]
    up = field.upper()
    if "W" in up and idx == 2:
        raise ValueError(
            f"cron field {idx + 1} ({name}): 'W' (nearest weekday) is not supported, got {field!r}"
        )
    if "L" in up and idx == 4 and up not in _CRON_DOW_NAMES:
        raise ValueError(
            f"cron field {idx + 1} ({name}): 'L' (last weekday of month) is not supported, "
            f"got {field!r}"
        )


def parse_cron(expr: str) -> CronSpec:
    """Parse ``cron(minutes hours day-of-month month day-of-week year)`` (AWS syntax).

    Accepts the bare six fields too. Supports ``*``, ``?``, lists, ranges, steps,
    JAN-DEC, SUN-SAT (1=SUN..7=SAT), ``L`` in day-of-month and ``weekday#n`` in
    day-of-week. Rejects ``W`` and day-of-week ``L`` with a clear message. Raises
    ``ValueError`` naming the field and what was expected.
    """
    if not isinstance(expr, str):
        raise ValueError(f"cron expression must be a string, got {type(expr).__name__}")
    text = expr.strip()
    wrapped = _CRON_WRAPPED.match(text)
    if wrapped:
        text = wrapped.group(1)
    elif text.lower().startswith(("cron", "rate", "at(")):
        raise ValueError(
            "cron expression: expected 'cron(minutes hours day-of-month month day-of-week "
            f"year)', got {expr!r}"
        )
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(
            "cron expression needs exactly 6 fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)} in {expr!r}"
        )
    values: list[set[int] | None] = []
    last_day = False
    nth: set[tuple[int, int]] = set()
    for idx, field in enumerate(fields):
        name = _CRON_FIELDS[idx]
        if field == "?":
            if idx not in (2, 4):
                raise ValueError(
                    f"cron field {idx + 1} ({name}): '?' is only allowed in day-of-month "
                    "or day-of-week"
                )
            values.append(None)
            continue
        _unsupported(field, idx)
        acc: set[int] = set()
        for item in field.split(","):
            if item == "":
                raise ValueError(f"cron field {idx + 1} ({name}): empty list item in {field!r}")
            if item == "?":
                raise ValueError(f"cron field {idx + 1} ({name}): '?' must stand alone")
            if idx == 2 and item.upper() == "L":
                last_day = True
                continue
            if idx == 4 and "#" in item:
                day_text, _, n_text = item.partition("#")
                if not n_text.isdigit() or not 1 <= int(n_text) <= 5:
                    raise ValueError(
                        f"cron field 5 (day-of-week): in {item!r} the occurrence after '#' "
                        "must be 1-5"
                    )
                nth.add((_cron_value(day_text, 4), int(n_text)))
                continue
            acc |= _cron_item(item, idx)
        values.append(acc)
    dom, dow = values[2], values[4]
    if dom is None and dow is None:
        raise ValueError(
            "cron expression: only one of day-of-month (field 3) and day-of-week (field 5) "
            "may be '?', not both"
        )
    if dom is not None and dow is not None:
        raise ValueError(
            "cron expression: one of day-of-month (field 3) and day-of-week (field 5) must "
            f"be '?' (got {fields[2]!r} and {fields[4]!r})"
        )
    minutes, hours, months, years = values[0], values[1], values[3], values[5]
    assert minutes is not None and hours is not None and months is not None
    assert years is not None
    return CronSpec(
        expression=f"cron({' '.join(fields)})",
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days_of_month=None if dom is None else frozenset(dom),
        last_day_of_month=last_day,
        months=frozenset(months),
        days_of_week=None if dow is None else frozenset(dow),
        nth_weekdays=frozenset(nth),
        years=tuple(sorted(years)),
    )


# ----------------------------------------------------------------- local time helpers


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _wall_exists(naive: datetime, tz: ZoneInfo) -> bool:
    back = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == naive


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """The first valid instant after the DST gap that swallowed ``naive`` (UTC)."""
    a = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(a, b), max(a, b)
    off_lo = lo.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(tz).utcoffset() == off_lo:
            lo = mid
        else:
            hi = mid
    return hi


def _localize(naive: datetime, tz: ZoneInfo, gap: GapPolicy) -> datetime | None:
    """Wall time -> UTC instant: first occurrence if ambiguous; gap per policy."""
    if _wall_exists(naive, tz):
        return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return _gap_end(naive, tz) if gap == "shift" else None


def _cron_next(spec: CronSpec, after: datetime, tz: ZoneInfo, gap: GapPolicy) -> datetime | None:
    local_after = after.astimezone(tz).replace(tzinfo=None)
    day = first_day = local_after.date()
    # Wall times more than 3 h before `after` cannot map to a later instant (DST
    # offsets move by at most 2 h), so the first day's early slots are not tried.
    floor = local_after - timedelta(hours=3)
    years = spec.years
    while day.year <= years[-1]:
        if day.year not in years:
            later = [y for y in years if y > day.year]
            if not later:
                return None
            day = date(later[0], 1, 1)
            continue
        if day.month not in spec.months:
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            continue
        if spec.matches_date(day):
            for hour in spec.hours:
                for minute in spec.minutes:
                    wall = datetime.combine(day, time(hour, minute))
                    if day == first_day and wall < floor:
                        continue
                    fire = _localize(wall, tz, gap)
                    if fire is not None and fire > after:
                        return fire
        if day == date.max:
            return None
        day += timedelta(days=1)
    return None


def parse_anchor(value: object) -> datetime:
    """An interval's ``anchor`` (ISO text or a datetime) as an aware UTC instant."""
    parsed = value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    if not isinstance(parsed, datetime):
        raise ValueError(f"expected an aware ISO datetime, got {value!r}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"expected an aware ISO datetime (with an offset or Z), got {value!r}")
    return parsed.astimezone(UTC)


def _anchor(schedule: Schedule) -> datetime:
    raw = schedule.get("anchor")
    return EPOCH if raw is None else _named("anchor", parse_anchor, raw)


def _named(field: str, parse: Callable[[object], _T], value: object) -> _T:
    """``parse(value)`` with its ValueError prefixed by the field (``"at: expected ..."``)."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


# ---------------------------------------------------------------------- next fire


def resolve_schedule(schedule: Schedule, tenant_schedule: Schedule | None) -> Schedule:
    """Replace a ``default`` schedule by the tenant's global one; others unchanged."""
    if schedule.get("type") != "default":
        return schedule
    if tenant_schedule is None:
        raise ValueError("type 'default' needs the tenant's schedule to resolve it")
    if tenant_schedule.get("type") in ("default", "after"):
        raise ValueError(f"tenant schedule cannot be of type {tenant_schedule.get('type')!r}")
    return tenant_schedule


def schedule_zone(schedule: Schedule, fallback: str = "UTC") -> ZoneInfo:
    """The schedule's own ``timezone`` if set, else ``fallback`` (the tenant's)."""
    return _named("timezone", parse_zone, schedule.get("timezone") or fallback)


def next_fire(
    schedule: Schedule,
    after: datetime,
    tz: ZoneInfo,
    *,
    tenant_schedule: Schedule | None = None,
    gap: GapPolicy = "skip",
) -> datetime | None:
    """Next instant strictly after ``after`` at which EventBridge Scheduler would fire.

    ``after`` must be aware; the result is aware UTC, or None for ``manual``/``after``
    (no own timing) and for a cron whose years are exhausted. Black-outs are ignored
    here (see :func:`next_run_at`). ``default`` is resolved via ``tenant_schedule``.
    """
    _require_aware(after, "after")
    sched = resolve_schedule(schedule, tenant_schedule)
    kind = sched.get("type")
    if kind in ("manual", "after"):
        return None
    if kind in ("interval", "automatic"):
        every = timedelta(
            minutes=_named("every_minutes", parse_every_minutes, sched.get("every_minutes"))
        )
        anchor = _anchor(sched)
        if after < anchor:
            return anchor
        return anchor + ((after - anchor) // every + 1) * every
    if kind == "daily":
        hour, minute = _named("at", parse_hhmm, sched.get("at"))
        return _cron_next(parse_cron(f"cron({minute} {hour} * * ? *)"), after, tz, gap)
    if kind == "cron":
        return _cron_next(parse_cron(str(sched.get("expression"))), after, tz, gap)
    raise ValueError(f"type: expected one of {', '.join(KINDS)}, got {kind!r}")


# ---------------------------------------------------------------------- black-outs


class BlackoutWindow(NamedTuple):
    """A normalised window: minutes of the day; weekdays 0=Mon..6=Sun or None (all)."""

    start: int
    end: int
    weekdays: frozenset[int] | None

    def applies(self, day: date) -> bool:
        return self.weekdays is None or day.weekday() in self.weekdays


def parse_hhmm(value: object) -> tuple[int, int]:
    """A wall time ``"8:05"`` / ``"08:05"`` as ``(8, 5)``."""
    if not isinstance(value, str) or not (m := _HHMM.match(value.strip())):
        raise ValueError(f"expected a time HH:MM (00:00-23:59), got {value!r}")
    return int(m.group(1)), int(m.group(2))


def parse_weekday(value: object) -> int:
    """A weekday as 0=Mon..6=Sun, from that number or a name (``"mon"``, ``"Sunday"``)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().upper() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[value.strip().upper()]
    raise ValueError(f"expected a weekday 0-6 (0=Mon) or a name MON-SUN, got {value!r}")


def parse_blackouts(blackouts: object, field: str = "blackouts") -> list[BlackoutWindow]:
    """Black-out windows (``{start, end, weekdays?}`` mappings, as the model stores them)
    as :class:`BlackoutWindow`; a bad value raises naming the item (``blackouts[1].end``)."""
    if blackouts is None:
        return []
    if isinstance(blackouts, (str, bytes)) or not isinstance(blackouts, Sequence):
        raise ValueError(f"{field}: expected a list of windows, got {blackouts!r}")
    windows: list[BlackoutWindow] = []
    for i, raw in enumerate(blackouts):
        where = f"{field}[{i}]"
        if isinstance(raw, BlackoutWindow):
            windows.append(raw)
            continue
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: expected {{start, end, weekdays?}}, got {raw!r}")
        sh, sm = _named(f"{where}.start", parse_hhmm, raw.get("start"))
        eh, em = _named(f"{where}.end", parse_hhmm, raw.get("end"))
        days = raw.get("weekdays")
        weekdays: frozenset[int] | None = None
        if days is not None:
            if isinstance(days, (str, bytes)) or not isinstance(days, Iterable):
                raise ValueError(f"{where}.weekdays: expected a list of weekdays, got {days!r}")
            weekdays = frozenset(
                _named(f"{where}.weekdays[{j}]", parse_weekday, d) for j, d in enumerate(days)
            )
            if not weekdays:
                raise ValueError(f"{where}.weekdays: must not be empty (omit it for every day)")
        windows.append(BlackoutWindow(sh * 60 + sm, eh * 60 + em, weekdays))
    return windows


def _window_end_wall(w: BlackoutWindow, wall: datetime) -> datetime | None:
    """If ``w`` covers the wall time, the wall time at which that occurrence ends."""
    day = wall.date()
    t = wall.hour * 3600 + wall.minute * 60 + wall.second
    s, e = w.start * 60, w.end * 60
    midnight = datetime.combine(day, time(0, 0))
    if s == e:
        return midnight + timedelta(days=1) if w.applies(day) else None
    if s < e:
        return midnight + timedelta(seconds=e) if s <= t < e and w.applies(day) else None
    if t >= s and w.applies(day):
        return midnight + timedelta(days=1, seconds=e)
    if t < e and w.applies(day - timedelta(days=1)):
        return midnight + timedelta(seconds=e)
    return None


def in_blackout(instant: datetime, blackouts: Sequence[Any], tz: ZoneInfo) -> bool:
    """True when ``instant`` falls in any window (wall clock in ``tz``)."""
    _require_aware(instant, "instant")
    wall = instant.astimezone(tz).replace(tzinfo=None)
    return any(_window_end_wall(w, wall) is not None for w in parse_blackouts(blackouts))


def _blackout_exit(
    instant: datetime, windows: Sequence[BlackoutWindow], tz: ZoneInfo
) -> datetime | None:
    """Earliest instant >= ``instant`` outside every window; None if none within 8 days."""
    cur = instant
    while cur - instant <= timedelta(days=8):
        wall = cur.astimezone(tz).replace(tzinfo=None)
        ends = [end for w in windows if (end := _window_end_wall(w, wall)) is not None]
        if not ends:
            return cur
        end_wall = max(ends)
        if _wall_exists(end_wall, tz):
            options = [end_wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)]
        else:
            options = [_gap_end(end_wall, tz)]
        later = [o for o in options if o > cur]
        cur = min(later) if later else cur + timedelta(minutes=1)
    return None


def next_run_at(
    schedule: Schedule,
    blackouts: Sequence[Any],
    after: datetime,
    tz: ZoneInfo,
    *,
    tenant_schedule: Schedule | None = None,
    gap: GapPolicy = "skip",
    horizon: timedelta = DEFAULT_HORIZON,
) -> datetime | None:
    """Next fire strictly after ``after`` that is not inside a black-out window.

    Fires inside a window are skipped (the scheduler records them as ``skipped``).
    Returns None for schedules without own timing, when every instant is blacked out,
    or when no free fire exists within ``horizon`` of the first candidate (so a
    schedule whose every fire lands in a window cannot loop forever).
    """
    windows = parse_blackouts(blackouts)
    fire = next_fire(schedule, after, tz, tenant_schedule=tenant_schedule, gap=gap)
    first = fire
    while fire is not None and first is not None:
        if fire - first > horizon:
            return None
        wall = fire.astimezone(tz).replace(tzinfo=None)
        if all(_window_end_wall(w, wall) is None for w in windows):
            return fire
        free = _blackout_exit(fire, windows, tz)
        if free is None:
            return None
        # `free` is after `fire`, so every step moves forward (fires >= free).
        after = max(free - timedelta(microseconds=1), fire)
        fire = next_fire(schedule, after, tz, tenant_schedule=tenant_schedule, gap=gap)
        if fire is not None and fire <= after:
            raise AssertionError(f"next_fire did not move past {after.isoformat()}")
    return None


# ------------------------------------------------------------------ value parsers
# The models (feedsync.models) validate schedules with these, the functions above read
# the stored values with them: one meaning for each value.


def parse_zone(name: object) -> ZoneInfo:
    """An IANA timezone by name (``"Europe/Berlin"``)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"expected an IANA timezone name, got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown IANA timezone {name!r} (e.g. 'Europe/Berlin')") from None


def parse_every_minutes(value: object) -> int:
    """An interval's ``every_minutes``: a whole number 1..MAX_EVERY_MINUTES.

    The plan's minimum is the core's to check (``core/schedules.py``): it needs the tenant.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number of minutes, got {value!r}")
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    if value > MAX_EVERY_MINUTES:
        raise ValueError(f"must be at most {MAX_EVERY_MINUTES}, got {value}")
    return value


# ------------------------------------------------------------------------ chains


def find_cycle(edges: Mapping[str, str]) -> list[str] | None:
    """A cycle in ``profile_id -> after_profile_id`` edges, or None.

    The cycle is returned closed and rotated to start at its smallest id, e.g.
    ``["a", "b", "c", "a"]`` (a self-reference is ``["a", "a"]``).
    """
    done: set[str] = set()
    for start in sorted(edges):
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done:
            if node in on_path:
                cycle = path[on_path[node] :]
                i = cycle.index(min(cycle))
                cycle = cycle[i:] + cycle[:i]
                return [*cycle, cycle[0]]
            on_path[node] = len(path)
            path.append(node)
            node = edges.get(node)
        done.update(path)
    return None


# ------------------------------------------------------------------------ adapter


def to_scheduler_expression(
    schedule: Schedule, *, tenant_schedule: Schedule | None = None, timezone: str = "UTC"
) -> tuple[str, str | None]:
    """EventBridge Scheduler ``(ScheduleExpression, ScheduleExpressionTimezone)``.

    ``rate(N minutes)`` (``rate(1 minute)`` for 1) with no timezone for interval and
    automatic (the adapter passes the anchor as ``StartDate``); ``cron(...)`` with the
    schedule's timezone (else ``timezone``, the tenant's) for daily and cron.
    ``manual`` and ``after`` have no EventBridge schedule: ``ValueError``.
    """
    sched = resolve_schedule(schedule, tenant_schedule)
    kind = sched.get("type")
    if kind in ("interval", "automatic"):
        n = _named("every_minutes", parse_every_minutes, sched.get("every_minutes"))
        return (f"rate({n} minute{'s' if n != 1 else ''})", None)
    zone = schedule_zone(sched, timezone).key
    if kind == "daily":
        hour, minute = _named("at", parse_hhmm, sched.get("at"))
        return (f"cron({minute} {hour} * * ? *)", zone)
    if kind == "cron":
        return (parse_cron(str(sched.get("expression"))).expression, zone)
    raise ValueError(f"type: {kind!r} has no EventBridge schedule")
