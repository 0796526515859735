"""Schedules: cron parsing, next fire across DST, black-outs, health, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feedsync.core.schedules import validate_schedule
from feedsync.domain.schedule import (
    aws_weekday,
    find_cycle,
    in_blackout,
    next_fire,
    next_run_at,
    parse_cron,
    to_scheduler_expression,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def local(tz: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """A wall time in ``tz`` (first occurrence if ambiguous) as an aware UTC instant."""
    return datetime(y, mo, d, h, mi, s, tzinfo=tz).astimezone(UTC)


def fires(
    schedule: dict[str, Any], after: datetime, tz: ZoneInfo, n: int, **kw: Any
) -> list[datetime]:
    out: list[datetime] = []
    for _ in range(n):
        nxt = next_fire(schedule, after, tz, **kw)
        assert nxt is not None
        out.append(nxt)
        after = nxt
    return out


def walls(instants: list[datetime], tz: ZoneInfo) -> list[str]:
    return [i.astimezone(tz).strftime("%m-%d %H:%M%z") for i in instants]


# ---------------------------------------------------------------- cron parsing


def test_cron_parses_names_ranges_lists_and_steps() -> None:
    # Given an expression using every supported form
    spec = parse_cron("cron(5/20 */6 ? JAN-MAR,dec MON-FRI 2026-2030/2)")
    # Then each field expands to the right values (weekdays in AWS numbering 1=SUN)
    assert spec.minutes == (5, 25, 45)
    assert spec.hours == (0, 6, 12, 18)
    assert spec.days_of_month is None
    assert spec.months == frozenset({1, 2, 3, 12})
    assert spec.days_of_week == frozenset({2, 3, 4, 5, 6})
    assert spec.years == (2026, 2028, 2030)
    assert spec.expression == "cron(5/20 */6 ? JAN-MAR,dec MON-FRI 2026-2030/2)"


def test_aws_weekday_numbering_is_sunday_one() -> None:
    # Given a Sunday and a Saturday, Then AWS numbers them 1 and 7
    assert aws_weekday(datetime(2026, 3, 29).date()) == 1
    assert aws_weekday(datetime(2026, 3, 28).date()) == 7


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("cron(0 12 * * ?)", "exactly 6 fields"),
        ("0 12 * * ? * *", "exactly 6 fields"),
        ("rate(5 minutes)", "expected 'cron("),
        ("cron(60 12 * * ? *)", "field 1 (minutes): 60 is out of range 0-59"),
        ("cron(0 24 * * ? *)", "field 2 (hours): 24 is out of range 0-23"),
        ("cron(0 12 32 * ? *)", "field 3 (day-of-month): 32 is out of range 1-31"),
        ("cron(0 12 * FOO ? *)", "field 4 (month): expected a number 1-12 or JAN-DEC"),
        ("cron(0 12 ? * 8 *)", "field 5 (day-of-week): 8 is out of range 1-7"),
        ("cron(0 12 ? * XYZ *)", "or SUN-SAT, got 'XYZ'"),
        ("cron(0 12 * * ? 1969)", "field 6 (year): 1969 is out of range 1970-2199"),
        ("cron(0/0 12 * * ? *)", "field 1 (minutes): step in '0/0' must be a positive"),
        ("cron(0 20-4 * * ? *)", "field 2 (hours): range '20-4' must go from low to high"),
        ("cron(0 1,,2 * * ? *)", "field 2 (hours): empty list item"),
        ("cron(? 12 * * ? *)", "'?' is only allowed in day-of-month or day-of-week"),
        ("cron(0 12 15W * ? *)", "'W' (nearest weekday) is not supported"),
        ("cron(0 12 ? * 6L *)", "'L' (last weekday of month) is not supported"),
        ("cron(0 12 ? * 2#6 *)", "occurrence after '#' must be 1-5"),
    ],
)
def test_invalid_cron_names_the_field_and_expectation(expr: str, message: str) -> None:
    # Given an invalid expression, When parsed, Then the error says which field and why
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cron(expr)


def test_question_mark_must_be_in_exactly_one_day_field() -> None:
    # Given both day fields set, When parsed, Then it is refused (AWS rule)
    with pytest.raises(ValueError, match="must be '\\?' \\(got '\\*' and 'MON'\\)"):
        parse_cron("cron(0 12 * * MON *)")
    # Given both day fields '?', Then it is refused too
    with pytest.raises(ValueError, match="not both"):
        parse_cron("cron(0 12 ? * ? *)")
    # Given exactly one '?', Then it parses either way round
    assert parse_cron("cron(0 12 1 * ? *)").days_of_week is None
    assert parse_cron("cron(0 12 ? * 1 *)").days_of_month is None


def test_last_day_of_month_and_nth_weekday() -> None:
    # Given "last day of month" and "second Monday" schedules in UTC
    last = {"type": "cron", "expression": "cron(0 9 L * ? *)"}
    second_monday = {"type": "cron", "expression": "cron(0 9 ? * MON#2 *)"}
    # When the next three fires are computed from mid-January 2028 (a leap year)
    tz = ZoneInfo("UTC")
    got_last = fires(last, utc(2028, 1, 15), tz, 3)
    got_monday = fires(second_monday, utc(2028, 1, 15), tz, 2)
    # Then they land on Jan 31, Feb 29, Mar 31 and on Feb 14, Mar 13
    assert [f.date().isoformat() for f in got_last] == ["2028-01-31", "2028-02-29", "2028-03-31"]
    assert [f.date().isoformat() for f in got_monday] == ["2028-02-14", "2028-03-13"]


def test_cron_with_exhausted_years_has_no_next_fire() -> None:
    # Given a cron restricted to 2025, When asked after 2025, Then there is none
    sched = {"type": "cron", "expression": "cron(0 0 1 1 ? 2025)"}
    assert next_fire(sched, utc(2026, 1, 1), ZoneInfo("UTC")) is None


# ------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("tz", "after", "expected_skip", "expected_shift"),
    [
        # Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST
        (
            BERLIN,
            utc(2026, 3, 27, 12),
            ["03-28 02:30+0100", "03-30 02:30+0200", "03-31 02:30+0200"],
            ["03-28 02:30+0100", "03-29 03:00+0200", "03-30 02:30+0200"],
        ),
        # New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT
        (
            NEW_YORK,
            utc(2026, 3, 7, 0),
            ["03-07 02:30-0500", "03-09 02:30-0400", "03-10 02:30-0400"],
            ["03-07 02:30-0500", "03-08 03:00-0400", "03-09 02:30-0400"],
        ),
    ],
)
def test_daily_in_spring_forward_gap(
    tz: ZoneInfo, after: datetime, expected_skip: list[str], expected_shift: list[str]
) -> None:
    # Given a daily schedule at 02:30, a wall time that does not exist on DST day
    sched = {"type": "daily", "at": "02:30"}
    # When the next three fires are computed with AWS's policy (skip, the default)
    # Then the DST day has no fire at all
    assert walls(fires(sched, after, tz, 3), tz) == expected_skip
    # And with gap="shift" the DST day fires once, at the first valid instant (03:00)
    assert walls(fires(sched, after, tz, 3, gap="shift"), tz) == expected_shift


@pytest.mark.parametrize(
    ("tz", "after", "first_at"),
    [
        # Berlin falls back 2026-10-25 03:00 CEST -> 02:00 CET; 02:30 happens twice
        (BERLIN, utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        # New York falls back 2026-11-01 02:00 EDT -> 01:00 EST; 01:30 happens twice
        (NEW_YORK, utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_daily_in_fall_back_fires_once_at_first_occurrence(
    tz: ZoneInfo, after: datetime, first_at: datetime
) -> None:
    # Given a daily schedule at the repeated wall time
    at = "02:30" if tz is BERLIN else "01:30"
    sched = {"type": "daily", "at": at}
    # When the next two fires are computed
    first, second = fires(sched, after, tz, 2)
    # Then the DST day fires once, at the first occurrence, and the next is a day later
    assert first == first_at
    assert second.astimezone(tz).strftime("%d %H:%M") == f"{first_at.day + 1:02d} {at}"
    # And asking from just after the first occurrence does not yield the second one
    assert next_fire(sched, first, tz) == second


def test_cron_across_berlin_spring_forward() -> None:
    # Given every 30 minutes between 01:00 and 03:59 in Berlin on the DST day
    sched = {"type": "cron", "expression": "cron(0/30 1-3 29 MAR ? 2026)"}
    after = utc(2026, 3, 28, 12)
    # When all fires of that day are listed (skip policy)
    got = walls(fires(sched, after, BERLIN, 4), BERLIN)
    # Then 02:00 and 02:30 (nonexistent) are skipped
    assert got == ["03-29 01:00+0100", "03-29 01:30+0100", "03-29 03:00+0200", "03-29 03:30+0200"]
    assert next_fire(sched, fires(sched, after, BERLIN, 4)[-1], BERLIN) is None
    # And with gap="shift" the two gap slots collapse into one fire at 03:00,
    # which is also the 03:00 slot: still one fire, no duplicate
    shifted = walls(fires(sched, after, BERLIN, 4, gap="shift"), BERLIN)
    assert shifted == got


def test_cron_across_new_york_fall_back() -> None:
    # Given every 30 minutes from 00:00 to 02:59 in New York
    sched = {"type": "cron", "expression": "cron(0/30 0-2 * * ? *)"}
    # When the fires of the fall-back night (2026-11-01) are listed
    got = fires(sched, utc(2026, 11, 1, 3, 59), NEW_YORK, 6)
    # Then the repeated 01:00 and 01:30 fire once each (EDT), none in the EST repeat
    assert walls(got, NEW_YORK) == [
        "11-01 00:00-0400",
        "11-01 00:30-0400",
        "11-01 01:00-0400",
        "11-01 01:30-0400",
        "11-01 02:00-0500",
        "11-01 02:30-0500",
    ]
    assert got[4] - got[3] == timedelta(minutes=90)


def test_cron_keeps_wall_clock_across_dst_in_utc_terms() -> None:
    # Given a weekday 09:00 cron in Berlin
    sched = {"type": "cron", "expression": "cron(0 9 ? * MON-FRI *)"}
    # When fires are taken on both sides of the spring change
    before = next_fire(sched, utc(2026, 3, 27, 0), BERLIN)
    after = next_fire(sched, utc(2026, 3, 28, 0), BERLIN)
    # Then both are 09:00 local, i.e. 08:00 UTC then 07:00 UTC (weekend skipped)
    assert before == utc(2026, 3, 27, 8)
    assert after == utc(2026, 3, 30, 7)


def test_interval_is_anchored_and_ignores_dst() -> None:
    # Given a 60-minute interval anchored at 00:10 UTC
    sched = {"type": "interval", "every_minutes": 60, "anchor": "2026-03-01T00:10:00Z"}
    # When fires are listed across Berlin's spring-forward night
    got = fires(sched, utc(2026, 3, 29, 0, 0), BERLIN, 3)
    # Then they are exactly 60 real minutes apart at :10 UTC
    assert got == [utc(2026, 3, 29, 0, 10), utc(2026, 3, 29, 1, 10), utc(2026, 3, 29, 2, 10)]
    # And before the anchor the first fire is the anchor itself; "after" is strict
    assert next_fire(sched, utc(2026, 1, 1), BERLIN) == utc(2026, 3, 1, 0, 10)
    assert next_fire(sched, utc(2026, 3, 29, 1, 10), BERLIN) == utc(2026, 3, 29, 2, 10)


def test_kinds_without_own_timing_and_default_resolution() -> None:
    # Given manual and after schedules, Then they never fire by themselves
    now = utc(2026, 5, 1)
    assert next_fire({"type": "manual"}, now, BERLIN) is None
    assert next_fire({"type": "after", "profile_id": "p1"}, now, BERLIN) is None
    # Given automatic, Then it has interval timing
    assert next_fire({"type": "automatic", "every_minutes": 15}, now, BERLIN) == utc(
        2026, 5, 1, 0, 15
    )
    # Given default and the tenant's daily 06:00, Then it follows the tenant schedule
    tenant = {"type": "daily", "at": "06:00"}
    got = next_fire({"type": "default"}, now, BERLIN, tenant_schedule=tenant)
    assert got == utc(2026, 5, 1, 4)
    with pytest.raises(ValueError, match="needs the tenant"):
        next_fire({"type": "default"}, now, BERLIN)


def test_naive_datetimes_are_refused() -> None:
    # Given a naive "after", Then next_fire refuses it instead of guessing a zone
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire({"type": "daily", "at": "01:00"}, datetime(2026, 1, 1), BERLIN)


# ------------------------------------------------------------------- black-outs


def test_a_day_of_15_minute_intervals_with_blackout_across_midnight_yields_64() -> None:
    # Given a 15-minute interval and a 20:00-04:00 black-out in Berlin
    sched = {"type": "interval", "every_minutes": 15}
    blackouts = [{"start": "20:00", "end": "04:00"}]
    day_start = local(BERLIN, 2026, 6, 10)
    day_end = local(BERLIN, 2026, 6, 11)
    # When the runs of one local day are collected with next_run_at
    runs: list[datetime] = []
    cur = day_start - timedelta(microseconds=1)
    while (nxt := next_run_at(sched, blackouts, cur, BERLIN)) is not None and nxt < day_end:
        runs.append(nxt)
        cur = nxt
    # Then 96 - 16 (00:00-03:45) - 16 (20:00-23:45) = 64 runs, from 04:00 to 19:45
    assert len(runs) == 64
    assert walls([runs[0], runs[-1]], BERLIN) == ["06-10 04:00+0200", "06-10 19:45+0200"]
    # And next_run_at from 19:45 jumps over the night to 04:00 the next day
    assert next_run_at(sched, blackouts, runs[-1], BERLIN) == local(BERLIN, 2026, 6, 11, 4)


def test_blackout_bounds_are_start_inclusive_end_exclusive() -> None:
    # Given a 20:00-04:00 window
    bl = [{"start": "20:00", "end": "04:00"}]
    # Then 20:00 and 03:59:59 are inside, 19:59:59 and 04:00 are outside
    assert in_blackout(local(BERLIN, 2026, 6, 10, 20, 0), bl, BERLIN)
    assert in_blackout(local(BERLIN, 2026, 6, 11, 3, 59, 59), bl, BERLIN)
    assert not in_blackout(local(BERLIN, 2026, 6, 10, 19, 59, 59), bl, BERLIN)
    assert not in_blackout(local(BERLIN, 2026, 6, 11, 4, 0), bl, BERLIN)


def test_weekday_blackout_across_midnight_belongs_to_its_start_day() -> None:
    # Given a window Friday 22:00 -> 02:00 (2026-06-12 is a Friday)
    bl = [{"start": "22:00", "end": "02:00", "weekdays": ["FRI"]}]
    # Then Friday 23:00 and Saturday 01:00 are blacked out
    assert in_blackout(local(BERLIN, 2026, 6, 12, 23), bl, BERLIN)
    assert in_blackout(local(BERLIN, 2026, 6, 13, 1), bl, BERLIN)
    # But Friday 01:00 (Thursday's night) and Saturday 23:00 are not
    assert not in_blackout(local(BERLIN, 2026, 6, 12, 1), bl, BERLIN)
    assert not in_blackout(local(BERLIN, 2026, 6, 13, 23), bl, BERLIN)


def test_weekday_specific_blackout_skips_only_those_days() -> None:
    # Given daily 10:00 runs and a whole-day black-out on Saturday and Sunday (5, 6)
    sched = {"type": "daily", "at": "10:00"}
    bl = [{"start": "00:00", "end": "00:00", "weekdays": [5, "sunday"]}]
    # When the next run is asked for on Friday 2026-06-12 after 10:00
    got = next_run_at(sched, bl, local(BERLIN, 2026, 6, 12, 11), BERLIN)
    # Then Saturday and Sunday are skipped and Monday 10:00 is next
    assert got == local(BERLIN, 2026, 6, 15, 10)
    # And with a search horizon of one day, the free Monday is out of reach
    friday = local(BERLIN, 2026, 6, 12, 11)
    assert next_run_at(sched, bl, friday, BERLIN, horizon=timedelta(days=1)) is None
    # And without the black-out it would have been Saturday
    assert next_fire(sched, local(BERLIN, 2026, 6, 12, 11), BERLIN) == local(
        BERLIN, 2026, 6, 13, 10
    )


def test_next_run_at_skips_cron_fires_inside_chained_windows() -> None:
    # Given hourly cron fires and two adjoining windows 20:00-23:00 and 23:00-06:30
    sched = {"type": "cron", "expression": "cron(0 * * * ? *)"}
    bl = [{"start": "20:00", "end": "23:00"}, {"start": "23:00", "end": "06:30"}]
    # When asked at 19:30 New York time
    got = next_run_at(sched, bl, local(NEW_YORK, 2026, 6, 10, 19, 30), NEW_YORK)
    # Then the next run is 07:00 the next morning
    assert got == local(NEW_YORK, 2026, 6, 11, 7)


def test_blackout_in_a_dst_gap_and_fall_back_night() -> None:
    # Given 30-minute runs and a 01:00-02:30 window in New York
    sched = {"type": "interval", "every_minutes": 30}
    bl = [{"start": "01:00", "end": "02:30"}]
    # When asked on the spring-forward night (02:00-03:00 does not exist)
    spring = next_run_at(sched, bl, local(NEW_YORK, 2026, 3, 8, 0, 45), NEW_YORK)
    # Then the window ends at the gap: the next run is 03:00 EDT
    assert spring is not None
    assert walls([spring], NEW_YORK) == ["03-08 03:00-0400"]
    # When asked on the fall-back night, after 01:00 EDT
    fall = next_run_at(sched, bl, local(NEW_YORK, 2026, 11, 1, 0, 45), NEW_YORK)
    # Then the whole repeated hour is blacked out (wall clock), next run 02:30 EST
    assert fall is not None
    assert walls([fall], NEW_YORK) == ["11-01 02:30-0500"]


def test_schedule_entirely_inside_blackouts_returns_none() -> None:
    # Given a daily 22:00 schedule inside a nightly 20:00-04:00 black-out
    sched = {"type": "daily", "at": "22:00"}
    bl = [{"start": "20:00", "end": "04:00"}]
    # Then there is never a next run (bounded search, no endless loop)
    assert next_run_at(sched, bl, utc(2026, 6, 1), BERLIN) is None
    # Given a 1-minute interval and an all-day, every-day black-out, Then None too
    every = {"type": "interval", "every_minutes": 1}
    assert next_run_at(every, [{"start": "05:00", "end": "05:00"}], utc(2026, 6, 1), BERLIN) is None


# ----------------------------------------------------------------------- health

NOW = utc(2026, 6, 1, 12)


# ------------------------------------------------------------------- validation


def test_validate_normalises_a_full_interval_schedule() -> None:
    # Given a raw interval schedule with names and loose times
    raw = {
        "type": "interval",
        "every_minutes": 60,
        "timezone": "Europe/Berlin",
        "anchor": "2026-01-01T01:00:00+01:00",
        "blackouts": [{"start": "8:00", "end": "04:00", "weekdays": ["sun", 0, "Mon"]}],
    }
    # When validated, Then it comes back normalised and JSON-ready
    assert validate_schedule(raw, plan_minimum=15) == {
        "type": "interval",
        "every_minutes": 60,
        "timezone": "Europe/Berlin",
        "anchor": "2026-01-01T00:00:00Z",
        "blackouts": [{"start": "08:00", "end": "04:00", "weekdays": [0, 6]}],
    }


BAD_DAY = {"start": "1:00", "end": "2:00", "weekdays": ["XX"]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "weekly"}, "type: expected one of"),
        ({"type": "interval", "every_minutes": 5}, "every_minutes: must be at least 15"),
        ({"type": "interval", "every_minutes": "60"}, "every_minutes: expected a whole number"),
        ({"type": "automatic"}, "every_minutes: required"),
        ({"type": "daily", "at": "24:00"}, "at: expected a time HH:MM"),
        ({"type": "daily", "at": "12:5"}, "at: expected a time HH:MM"),
        ({"type": "daily", "at": "12:00", "timezone": "Mars/Olympus"}, "timezone: unknown"),
        ({"type": "cron", "expression": "cron(0 12 * * * *)"}, "expression: cron expression"),
        ({"type": "after", "profile_id": ""}, "profile_id: expected"),
        ({"type": "manual", "blackouts": []}, "blackouts: not allowed for type 'manual'"),
        ({"type": "daily", "at": "01:00", "every_minutes": 5}, "every_minutes: not allowed"),
        (
            {"type": "daily", "at": "01:00", "blackouts": [{"start": "20:00", "end": "4"}]},
            r"blackouts\[0\]\.end: expected a time HH:MM",
        ),
        (
            {"type": "daily", "at": "01:00", "blackouts": [BAD_DAY]},
            r"blackouts\[0\]\.weekdays\[0\]: expected a weekday",
        ),
        (
            {"type": "interval", "every_minutes": 60, "anchor": "2026-01-01T00:00:00"},
            "anchor: expected an aware ISO datetime",
        ),
    ],
)  # fmt: skip
def test_validate_names_the_offending_field(raw: dict[str, Any], message: str) -> None:
    # Given an invalid schedule, When validated, Then the error starts with the field
    with pytest.raises(ValueError, match=message):
        validate_schedule(raw, plan_minimum=15)


def test_tenant_schedule_cannot_be_default_or_after() -> None:
    # Given the tenant's global schedule, Then default and after are refused
    with pytest.raises(ValueError, match="tenant schedule cannot be 'default'"):
        validate_schedule({"type": "default"}, tenant=True)
    assert validate_schedule({"type": "default"}) == {"type": "default"}


def test_find_cycle() -> None:
    # Given a chain a -> b -> c without a loop, Then there is no cycle
    assert find_cycle({"a": "b", "b": "c"}) is None
    # Given c -> a closing the loop (and d hanging off it), Then the cycle is named
    assert find_cycle({"c": "a", "a": "b", "b": "c", "d": "a"}) == ["a", "b", "c", "a"]
    # Given a profile running after itself, Then that is a cycle too
    assert find_cycle({"x": "x"}) == ["x", "x"]
    assert find_cycle({}) is None


# ---------------------------------------------------------------------- adapter


def test_to_scheduler_expression() -> None:
    # Given each timed kind, Then the EventBridge expression and timezone are right
    assert to_scheduler_expression({"type": "interval", "every_minutes": 60}) == (
        "rate(60 minutes)",
        None,
    )
    assert to_scheduler_expression({"type": "automatic", "every_minutes": 1}) == (
        "rate(1 minute)",
        None,
    )
    daily = {"type": "daily", "at": "00:30", "timezone": "America/New_York"}
    assert to_scheduler_expression(daily) == ("cron(30 0 * * ? *)", "America/New_York")
    cron = {"type": "cron", "expression": " cron(0  */2 * * ? *) "}
    assert to_scheduler_expression(cron, timezone="Europe/Berlin") == (
        "cron(0 */2 * * ? *)",
        "Europe/Berlin",
    )
    # Given default, Then the tenant schedule is used
    got = to_scheduler_expression({"type": "default"}, tenant_schedule=daily)
    assert got == ("cron(30 0 * * ? *)", "America/New_York")
    # Given manual, Then there is no EventBridge schedule to make
    with pytest.raises(ValueError, match="no EventBridge schedule"):
        to_scheduler_expression({"type": "manual"})
