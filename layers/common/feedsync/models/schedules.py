"""When a profile runs by itself: one model per schedule kind, discriminated by ``type``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Discriminator,
    Field,
    TypeAdapter,
    field_validator,
)
from pydantic_core import PydanticCustomError

from feedsync.domain.schedule import (
    MAX_EVERY_MINUTES,
    parse_anchor,
    parse_cron,
    parse_every_minutes,
    parse_hhmm,
    parse_weekday,
    parse_zone,
)
from feedsync.models.limits import BLACKOUTS_MAX, NAME_MAX, WEEKDAYS_MAX
from feedsync.models.validation import (
    UNION_TAGS,
    InvalidValue,
    Spec,
    validated,
)

# ----------------------------------------------------------------------- schedules
# One model per kind, discriminated by ``type``; the values are read with the domain's
# parsers (feedsync.domain.schedule), which the scheduling code uses too. The plan's
# shortest interval needs the tenant, so core/schedules.py checks it.


def _wall_time(value: object) -> str:
    hour, minute = parse_hhmm(value)
    return f"{hour:02d}:{minute:02d}"


def _zone_name(value: object) -> str:
    return parse_zone(value).key


def _cron_expression(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a cron(...) string, got {value!r}")
    return parse_cron(value).expression


def _profile_ref(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected the id of the profile to run after, got {value!r}")
    return value.strip()


# Constraints (Field) come before the validator, so the schema states them as JSON Schema.
WallTime = Annotated[
    str,
    Field(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", examples=["20:00"]),
    BeforeValidator(_wall_time),
]
_WEEKDAY_INPUT: Any = Annotated[int, Field(ge=0, le=6)] | str
Weekday = Annotated[
    int, Field(ge=0, le=6), BeforeValidator(parse_weekday, json_schema_input_type=_WEEKDAY_INPUT)
]
TimeZoneName = Annotated[
    str,
    Field(description="IANA timezone (else the tenant's)", examples=["Europe/Berlin"]),
    BeforeValidator(_zone_name),
]
EveryMinutes = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_EVERY_MINUTES,
        description="presets: 15, 60, 240, 1440; the plan sets the shortest",
    ),
    BeforeValidator(parse_every_minutes),
]
Anchor = Annotated[
    AwareDatetime,
    Field(description="fires at anchor + k * every_minutes (default: the Unix epoch)"),
    BeforeValidator(parse_anchor),
]
CronExpression = Annotated[
    str,
    Field(description="EventBridge cron, 6 fields", examples=["cron(0 */2 * * ? *)"]),
    BeforeValidator(_cron_expression),
]


class Blackout(Spec):
    """A window when scheduled runs are skipped, on the schedule's wall clock: ``start``
    inclusive, ``end`` exclusive; an ``end`` before ``start`` crosses midnight
    (20:00-04:00), ``start == end`` is the whole day."""

    start: WallTime
    end: WallTime
    weekdays: list[Weekday] | None = Field(
        default=None,
        min_length=1,
        max_length=WEEKDAYS_MAX,
        description="0=Mon..6=Sun or names; the weekday of the window's start (all if left out)",
    )

    @field_validator("weekdays")
    @classmethod
    def _in_order(cls, days: list[int] | None) -> list[int] | None:
        return None if days is None else sorted(set(days))


class _ScheduleKind(Spec):
    type: str

    @classmethod
    def _unknown_key(cls, key: str) -> PydanticCustomError:
        kind = repr(get_args(cls.model_fields["type"].annotation)[0])
        return PydanticCustomError(
            "unknown_key", "not allowed for type {kind}", {"key": key, "kind": kind}
        )


class TimedSchedule(_ScheduleKind):
    """A schedule with its own timing: a timezone (else the tenant's) and black-outs."""

    timezone: TimeZoneName | None = None
    blackouts: list[Blackout] | None = Field(
        default=None,
        max_length=BLACKOUTS_MAX,
        description="Windows when scheduled runs are skipped; may cross midnight (20:00-04:00).",
    )

    @field_validator("blackouts")
    @classmethod
    def _none_if_empty(cls, windows: list[Blackout] | None) -> list[Blackout] | None:
        return windows or None


class RateSchedule(TimedSchedule):
    """Every ``every_minutes`` from ``anchor``: an absolute rhythm (EventBridge
    ``rate()``) that timezones and DST do not move."""

    every_minutes: EveryMinutes
    anchor: Anchor | None = None


class IntervalSchedule(RateSchedule):
    """Runs every ``every_minutes``."""

    type: Literal["interval"]


class AutomaticSchedule(RateSchedule):
    """Like ``interval``, but a run whose supplier file is unchanged is ``skipped``."""

    type: Literal["automatic"]


class DailySchedule(TimedSchedule):
    """Runs once a day at ``at`` (wall clock in the timezone; DST gaps skip the day)."""

    type: Literal["daily"]
    at: WallTime


class CronSchedule(TimedSchedule):
    """Runs on an EventBridge cron expression, in the timezone."""

    type: Literal["cron"]
    expression: CronExpression


class AfterSchedule(_ScheduleKind):
    """Runs when the profile ``profile_id`` succeeds with changes (no cycles)."""

    type: Literal["after"]
    profile_id: Annotated[
        str, Field(min_length=1, max_length=NAME_MAX), BeforeValidator(_profile_ref)
    ]


class DefaultSchedule(_ScheduleKind):
    """Follows the tenant's global schedule (``PUT /settings/schedule``)."""

    type: Literal["default"]


class ManualSchedule(_ScheduleKind):
    """Runs only when started (or on an upload)."""

    type: Literal["manual"]


_TenantKinds = IntervalSchedule | AutomaticSchedule | DailySchedule | CronSchedule | ManualSchedule
# When a profile runs by itself.
Schedule = Annotated[_TenantKinds | AfterSchedule | DefaultSchedule, Discriminator("type")]
# The tenant's global schedule: what ``default`` follows, so not ``default`` or ``after``.
TenantSchedule = Annotated[_TenantKinds, Discriminator("type")]
SCHEDULE: TypeAdapter[Schedule] = TypeAdapter(Schedule)
TENANT_SCHEDULE: TypeAdapter[TenantSchedule] = TypeAdapter(TenantSchedule)
_SCHEDULE_KINDS: frozenset[str] = frozenset(
    kind
    for model in get_args(get_args(Schedule)[0])
    for kind in get_args(model.model_fields["type"].annotation)
)
# A schedule kind first is the tag of a schedule body (PUT /settings/schedule).
UNION_TAGS[None] = UNION_TAGS["schedule"] = _SCHEDULE_KINDS


def parse_schedule(raw: object, *, tenant: bool = False) -> Schedule:
    """A schedule from its JSON form (stored or sent), or InvalidValue naming the field.

    ``tenant=True`` reads the tenant's global schedule, which cannot be ``default`` or
    ``after``.
    """
    if tenant:
        kind = raw.get("type") if isinstance(raw, Mapping) else getattr(raw, "type", None)
        if kind in ("default", "after"):
            raise InvalidValue("type", f"the tenant schedule cannot be {kind!r}")
        return validated(TENANT_SCHEDULE, raw)
    return validated(SCHEDULE, raw)
