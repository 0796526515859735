"""Pydantic models for API bodies, stored records and step hand-offs.

Nothing here is used per feed row: rows are plain tuples (see domain/fields.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    HttpUrl,
    SerializerFunctionWrapHandler,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from feedsync.domain.feed import parse_image_url, parse_weight
from feedsync.domain.fields import CANONICAL_FIELDS, MONEY_FIELDS, WRITABLE_FIELDS
from feedsync.domain.money import parse_money, parse_stock
from feedsync.domain.rules import (
    GreaterThanAs,
    PriceRuleField,
    Rounding,
    TiersBy,
    count,
    factor_text,
    money_cents,
    money_text,
    percent_text,
    rounding_text,
    stock_word,
    stock_word_key,
)
from feedsync.domain.schedule import (
    MAX_EVERY_MINUTES,
    parse_anchor,
    parse_cron,
    parse_every_minutes,
    parse_hhmm,
    parse_weekday,
    parse_zone,
)
from feedsync.platforms.registry import PLATFORM_NAMES, PLATFORMS
from feedsync.platforms.registry import platform as platform_spec

RunStatus = Literal[
    "queued", "preparing", "matching", "updating", "succeeded", "failed",
    "previewed", "held", "skipped", "cancelled",
]  # fmt: skip
ACTIVE_STATUSES: frozenset[str] = frozenset({"queued", "preparing", "matching", "updating"})
Trigger = Literal["manual", "upload", "schedule", "chain"]
Mode = Literal["partial", "full"]
MatchBy = Literal["sku", "barcode", "sku_then_barcode"]


def _known_platform(name: str) -> str:
    platform_spec(name)  # ValueError naming the supported ones
    return name


# A registered store platform (``platforms/registry.py``).
Platform = Annotated[
    str,
    AfterValidator(_known_platform),
    WithJsonSchema({"type": "string", "enum": list(PLATFORM_NAMES)}),
]
ImportMode = Literal["full", "incremental", "by_date"]
StoreStatus = Literal["setting_up", "ready", "import_failed"]
_T = TypeVar("_T")


# --------------------------------------------------------------- validation errors
class ErrorAt(ValueError):
    """A validator's error about a part of its value: ``where`` continues the field path
    (``"[1].min"`` for a list's item, ``"['in stock']"`` for a mapping's key)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


class InvalidValue(ValueError):
    """A value that failed its model: the field path and what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _quoted(text: object) -> str:
    """``"'a', 'b' or 'c'"`` (how pydantic lists choices) -> ``"a, b, c"``."""
    return ", ".join(re.findall(r"'([^']*)'", str(text)))


_PLAIN_MESSAGES: dict[str, str] = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
    "list_type": "expected a list",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
}


def describe_error(error: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error (``ValidationError.errors()`` item) as ``(field, message)`` in
    the API's words: ``("schedule.blackouts[0].end", "expected a time HH:MM ...")``.

    Union tags pydantic puts in the location are dropped, an unknown key or a bad
    ``type`` is named in the field, and messages say what was expected.
    """
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    loc: tuple[int | str, ...] = tuple(error.get("loc", ()))
    where = ""
    message = str(error.get("msg", "invalid value"))
    if kind == "value_error" and isinstance(ctx.get("error"), Exception):
        message = str(ctx["error"])
        where = getattr(ctx["error"], "where", "")
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        loc += (str(ctx.get("discriminator", "type")).strip("'"),)
        expected = _quoted(ctx.get("expected_tags", ""))
        got = f", got {ctx['tag']!r}" if "tag" in ctx else ""
        message = f"expected one of {expected}{got}" if expected else "required"
    elif kind == "unknown_key":
        loc += (str(ctx["key"]),)
    elif kind == "literal_error":
        message = f"expected one of {_quoted(ctx.get('expected', ''))}"
    elif kind == "too_short" and ctx.get("min_length") == 1:
        message = "must not be empty"
    elif kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind]
    return error_field(loc) + where, message


def error_field(loc: Sequence[int | str]) -> str:
    """``schedule.blackouts[0].end`` for pydantic's ``("schedule", "interval",
    "blackouts", 0, "end")``: the union tags of ``source`` and ``schedule`` dropped (a
    schedule kind first is the tag of a schedule body, ``PUT /settings/schedule``)."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        tags = _SCHEDULE_KINDS if previous in (None, "schedule") else _UNION_TAGS.get(previous)
        if isinstance(part, str) and tags and part in tags:
            previous = part
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
        previous = part
    return out


def validated(adapter: TypeAdapter[_T], raw: object, field: str = "") -> _T:
    """``raw`` through ``adapter``, or InvalidValue naming the first bad field under
    ``field`` (``validated(PRICE_RULES, {"add": "x"}, "price_rules")`` -> price_rules.add)."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        where, message = describe_error(exc.errors()[0])
        dot = "." if field and where[:1] not in ("", "[") else ""
        raise InvalidValue(f"{field}{dot}{where}" or "body", message) from None


class Spec(BaseModel):
    """A closed JSON object in the API and the store (schedules, rules).

    An unknown key is refused naming it and the known ones; the dump leaves out what
    was not given (None), so the stored form holds only the keys given, as it always has.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [str(k) for k in data if k not in cls.model_fields]
            if unknown:
                raise cls._unknown_key(unknown[0])
        return data

    @classmethod
    def _unknown_key(cls, key: str) -> PydanticCustomError:
        known = ", ".join(cls.model_fields)
        return PydanticCustomError(
            "unknown_key", "unknown key; known keys are: {known}", {"key": key, "known": known}
        )

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}

    def spec(self) -> dict[str, Any]:
        """The plain JSON form: what the domain reads and DynamoDB stores."""
        return self.model_dump(mode="json")


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
    profile_id: Annotated[str, Field(min_length=1), BeforeValidator(_profile_ref)]


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


# --------------------------------------------------------------------------- rules
# The rule set's shape; the values are read with the domain's parsers
# (feedsync.domain.rules), which compile the same values for the per-row path.


def _signed_money(value: object) -> str:
    return money_text(value, negative_ok=True)


_NUMBER_INPUT: Any = str | float
Money = Annotated[
    str,
    BeforeValidator(money_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description="an amount, at most 2 decimals", examples=["1.50"]),
]
SignedMoney = Annotated[
    str,
    BeforeValidator(_signed_money, json_schema_input_type=_NUMBER_INPUT),
    Field(description="an amount, may be negative", examples=["-0.50"]),
]
Percent = Annotated[
    str,
    BeforeValidator(percent_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description='a percentage -100..100000 ("25" or "25%")', examples=["25"]),
]
Factor = Annotated[
    str,
    BeforeValidator(factor_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description="greater than 0, at most 6 decimals", examples=["1.08"]),
]
_COUNT_INPUT: Any = Annotated[int, Field(ge=0)] | str
Count = Annotated[
    int, Field(ge=0, examples=[2]), BeforeValidator(count, json_schema_input_type=_COUNT_INPUT)
]


class PriceTier(Spec):
    """The markup for values from ``min`` (inclusive) to ``max`` (exclusive; open when
    left out); its missing ``markup_percent``/``add`` are 0."""

    min: Money = "0.00"
    max: Money | None = None
    markup_percent: Percent | None = None
    add: SignedMoney | None = None

    @field_validator("max")
    @classmethod
    def _above_min(cls, high: str | None, info: ValidationInfo) -> str | None:
        low = info.data.get("min")
        if high is not None and low is not None and money_cents(high) <= money_cents(low):
            raise ValueError(f"must be greater than min ({low})")
        return high


class PriceRules(Spec):
    """How supplier prices become store prices: factor, markup (or tiers), rounding,
    clamp, in that order (see feedsync.domain.rules)."""

    currency_factor: Factor | None = None
    markup_percent: Percent | None = None
    add: SignedMoney | None = None
    tiers: list[PriceTier] | None = Field(
        default=None, description="non-overlapping ranges; sorted by min when stored"
    )
    tiers_by: TiersBy | None = Field(default=None, description="the tier basis (default price)")
    round: Rounding | None = Field(
        default=None, description="price endings; also written .99, 1 (default none)"
    )
    min: Money | None = None
    max: Money | None = None
    apply_to: list[PriceRuleField] | None = Field(
        default=None, min_length=1, description='the money fields ruled (default ["price"])'
    )

    @field_validator("round", mode="before")
    @classmethod
    def _rounding(cls, value: object) -> object:
        return None if value is None else rounding_text(value)

    @field_validator("tiers")
    @classmethod
    def _sorted_apart(cls, tiers: list[PriceTier] | None) -> list[PriceTier] | None:
        if tiers is None:
            return None
        ranked = sorted(enumerate(tiers), key=lambda it: money_cents(it[1].min))
        for (i0, lower), (i1, upper) in pairwise(ranked):
            if lower.max is None or money_cents(upper.min) < money_cents(lower.max):
                raise ErrorAt(f"[{i1}].min", f"tier overlaps tiers[{i0}]")
        return [tier for _, tier in ranked]

    @field_validator("max")
    @classmethod
    def _not_below_min(cls, high: str | None, info: ValidationInfo) -> str | None:
        low = info.data.get("min")
        if high is not None and low is not None and money_cents(high) < money_cents(low):
            raise ValueError(f"must not be less than min ({low})")
        return high

    @field_validator("apply_to")
    @classmethod
    def _once_each(cls, fields: list[PriceRuleField] | None) -> list[PriceRuleField] | None:
        return None if fields is None else list(dict.fromkeys(fields))


class StockRules(Spec):
    """How the stock cell becomes a quantity: words, ``>10``, then buffer, zero below,
    cap (see feedsync.domain.rules)."""

    buffer: Count | None = None
    zero_below: Count | None = None
    cap: Count | None = None
    text: dict[str, Count] | None = Field(
        default=None,
        description='words read as quantities, e.g. {"in stock": 100, "no": 0}',
    )
    greater_than_as: GreaterThanAs | None = Field(
        default=None, description='">10" / "10+" read as 10 (value) or 11 (value+1)'
    )

    @field_validator("text", mode="before")
    @classmethod
    def _words(cls, words: object) -> object:
        if not isinstance(words, Mapping):
            return words  # "expected an object"
        out: dict[str, int] = {}
        seen: dict[str, object] = {}
        for word, qty in words.items():
            where = f"[{word!r}]"
            try:
                norm = stock_word(word)
            except ValueError as exc:
                raise ErrorAt(where, str(exc)) from None
            key = stock_word_key(norm)
            if key in seen:
                raise ErrorAt(where, f"same word as {seen[key]!r}")
            seen[key] = word
            try:
                out[norm] = count(qty)
            except ValueError as exc:
                raise ErrorAt(where, str(exc)) from None
        return out


class Rules(Spec):
    """A profile's rules: price rules, stock rules and identifier handling."""

    price_rules: PriceRules | None = None
    stock_rules: StockRules | None = None
    sku_case_insensitive: StrictBool | None = Field(
        default=None, description="match SKUs ignoring case (default false)"
    )
    validate_barcodes: StrictBool | None = Field(
        default=None, description="check GTIN check digits (default true)"
    )


RULES: TypeAdapter[Rules] = TypeAdapter(Rules)
PRICE_RULES: TypeAdapter[PriceRules] = TypeAdapter(PriceRules)
STOCK_RULES: TypeAdapter[StockRules] = TypeAdapter(StockRules)


def validate_rules(raw: object) -> dict[str, Any]:
    """A profile's raw ``rules`` in their stored form; InvalidValue names the key path."""
    return validated(RULES, raw or {}).spec()


def validate_price_rules(raw: object) -> dict[str, Any]:
    """Raw ``price_rules`` in their stored form (``price_rules.tiers[1].max: ...``)."""
    return validated(PRICE_RULES, raw or {}, "price_rules").spec()


def validate_stock_rules(raw: object) -> dict[str, Any]:
    """Raw ``stock_rules`` in their stored form (``stock_rules.cap: ...``)."""
    return validated(STOCK_RULES, raw or {}, "stock_rules").spec()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- API bodies
class StoreCredentials(Strict):
    """Write-only; which of them a platform takes is its spec's ``credential_fields``."""

    access_token: str | None = Field(default=None, min_length=1)
    consumer_key: str | None = Field(default=None, min_length=1)
    consumer_secret: str | None = Field(default=None, min_length=1)


class StoreOptions(Strict):
    """Which platform reads which option is in its spec's ``options``."""

    # Write stock on the variant or through absolute inventory adjustments at a
    # location (multi-location stores).
    inventory: Literal["variants", "adjustments"] = "variants"
    # The stock location written when a profile names none.
    location_id: str | None = Field(default=None, min_length=1, max_length=200)


class CreateStore(Strict):
    name: str = Field(min_length=1, max_length=200)
    platform: Platform
    api_url: HttpUrl = Field(
        description="; ".join(f"{s.label}: {s.store_url_hint}" for s in PLATFORMS.values())
    )
    credentials: StoreCredentials
    options: StoreOptions = Field(default_factory=StoreOptions)

    @model_validator(mode="after")
    def _credentials_for_platform(self) -> CreateStore:
        given = {k for k, v in self.credentials.model_dump().items() if v}
        spec = platform_spec(self.platform)
        needed = spec.credential_fields
        missing = [k for k in needed if k not in given]
        if missing:
            raise ValueError(f"{self.platform} needs credentials {', '.join(needed)}")
        extra = sorted(given - set(needed))
        if extra:
            raise ValueError(f"{self.platform} takes no credentials {', '.join(extra)}")
        # A location is the platform's to judge (check_location says what it expects).
        for option in sorted(self.options.model_fields_set - spec.options - {"location_id"}):
            if getattr(self.options, option) != StoreOptions.model_fields[option].default:
                takers = [s.label for s in PLATFORMS.values() if option in s.options]
                raise ValueError(f"options.{option} is a {' / '.join(takers)} setting")
        if self.options.location_id is not None:
            check_location(self.platform, self.options.location_id)
        return self


def check_location(platform: str, location_id: str) -> None:
    """A stock location the platform can address (ValueError with what it expects)."""
    platform_spec(platform).validate_location(location_id)


class ImportCatalogBody(Strict):
    """``full`` re-reads the whole catalog; ``incremental`` what changed since the last
    import; ``by_date`` what was modified between ``since`` and ``until``."""

    mode: ImportMode = "incremental"
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _range(self) -> ImportCatalogBody:
        if self.mode == "by_date" and self.since is None:
            raise ValueError("by_date needs since (and optionally until)")
        if self.mode != "by_date" and (self.since or self.until):
            raise ValueError("since/until only go with mode by_date")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class SourceCredentials(Strict):
    """Write-only: stored in Secrets Manager on save; profiles keep only ``secret_ref``."""

    password: str | None = Field(default=None, min_length=1)
    private_key: str | None = Field(default=None, min_length=1, description="PEM text")
    token: str | None = Field(default=None, min_length=1, description="bearer/header/query value")


class UrlAuth(Strict):
    type: Literal["basic", "bearer", "header", "query"]
    username: str | None = Field(default=None, description="basic auth user")
    name: str | None = Field(default=None, description="header name or query parameter")

    @model_validator(mode="after")
    def _complete(self) -> UrlAuth:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs username (the password goes in credentials)")
        if self.type in ("header", "query") and not self.name:
            raise ValueError(f"{self.type} auth needs name (the value goes in credentials)")
        return self


class UrlSource(Strict):
    type: Literal["url"]
    url: HttpUrl
    auth: UrlAuth | None = None
    credentials: SourceCredentials | None = None
    secret_ref: str | None = None


class FtpSource(Strict):
    type: Literal["ftp", "ftps"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    path: str = Field(min_length=1, description="a file or a glob; the newest match is taken")
    username: str = "anonymous"
    tls: Literal["explicit", "implicit"] = "explicit"
    credentials: SourceCredentials | None = None
    secret_ref: str | None = None


class SftpSource(Strict):
    type: Literal["sftp"]
    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    path: str = Field(min_length=1, description="a file or a glob; the newest match is taken")
    username: str = Field(min_length=1)
    host_key_fingerprint: str = Field(
        pattern=r"^SHA256:[A-Za-z0-9+/]{43}=?$",
        description="the server's host key as `ssh-keygen -lf` prints it",
    )
    credentials: SourceCredentials | None = None
    secret_ref: str | None = None


class UploadSource(Strict):
    type: Literal["upload"]


Source = Annotated[UrlSource | FtpSource | SftpSource | UploadSource, Field(discriminator="type")]
# The tags pydantic puts in an error's location after a union field (see error_field).
_UNION_TAGS: dict[object, frozenset[str]] = {
    "source": frozenset(
        tag
        for model in get_args(get_args(Source)[0])
        for tag in get_args(model.model_fields["type"].annotation)
    ),
}


class FeedFormat(Strict):
    """How to read the file; every key optional (detected when left out)."""

    type: Literal["auto", "csv", "xlsx", "xls", "json", "jsonl", "xml"] = "auto"
    delimiter: str | None = Field(default=None, description="one character, or tab/comma/...")
    encoding: str | None = Field(default=None, description="a codec name; auto-detected")
    header_row: int | None = Field(default=None, ge=0, description="1-based; 0 = no header")
    sheet: str | int | None = Field(
        default=None, description="xlsx/xls sheet name or 0-based index"
    )
    record_path: str | None = Field(default=None, description="json: a.b; xml: catalog/item")
    namespaces: dict[str, str] | None = None
    entry: str | None = Field(default=None, description="zip entry pattern, e.g. *.csv")
    max_uncompressed_bytes: int | None = Field(default=None, ge=1)
    decimal_separator: Literal[".", ","] | None = Field(
        default=None, description='csv/xml: "," for amounts written 1.234,50'
    )

    def reader_options(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ProfileSettings(Strict):
    """The merchant-editable part of a profile (POST body; PATCH takes any subset)."""

    name: str = Field(min_length=1, max_length=200)
    store_id: str = Field(min_length=1)
    source: Source
    format: FeedFormat = Field(default_factory=FeedFormat)
    mapping: dict[str, str]
    # Values for fields the file lacks, the same on every row (e.g. {"brand": "Acme"}).
    constants: dict[str, str] = Field(default_factory=dict)
    match_by: MatchBy = Field(default="sku", validate_default=True)
    fields: list[str] = Field(
        default_factory=lambda: ["price", "stock"], min_length=1, validate_default=True
    )
    mode: Mode = "partial"
    # Where stock is written on multi-location stores (else the store's default).
    location_id: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool = True
    schedule: Schedule = Field(
        default_factory=lambda: ManualSchedule(type="manual"),
        description="When the profile runs by itself.",
    )
    rules: Rules = Field(
        default_factory=Rules,
        description="Price rules, stock rules, identifier handling.",
    )

    @field_validator("constants")
    @classmethod
    def _constant_values(cls, constants: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        mapping = info.data.get("mapping") or {}
        for field, value in constants.items():
            if field not in CANONICAL_FIELDS:
                raise ValueError(f"{field}: unknown field; allowed: {list(CANONICAL_FIELDS)}")
            if field in mapping:
                raise ValueError(f"{field}: is mapped to a column already")
            try:
                if field in MONEY_FIELDS:
                    parse_money(value)
                elif field == "stock":
                    parse_stock(value)
                elif field == "weight":
                    parse_weight(value)
                elif field == "image_url":
                    parse_image_url(value)
            except ValueError as exc:
                raise ValueError(f"{field}: {exc}") from None
        return constants

    @field_validator("mapping")
    @classmethod
    def _known_fields(cls, mapping: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(mapping) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {list(CANONICAL_FIELDS)}")
        empty = sorted(k for k, v in mapping.items() if not v.strip())
        if empty:
            raise ValueError(f"column name for {empty} is empty")
        return mapping

    @field_validator("match_by")
    @classmethod
    def _match_key_mapped(cls, match_by: str, info: ValidationInfo) -> str:
        mapping = info.data.get("mapping") or {}
        keys = {"sku": ("sku",), "barcode": ("barcode",), "sku_then_barcode": ("sku", "barcode")}
        if not any(k in mapping for k in keys[match_by]):
            raise ValueError(f"matching by {match_by} needs a column mapped to {keys[match_by]}")
        return match_by

    @field_validator("fields")
    @classmethod
    def _writable_and_mapped(cls, fields: list[str], info: ValidationInfo) -> list[str]:
        bad = sorted(set(fields) - set(WRITABLE_FIELDS))
        if bad:
            raise ValueError(f"field(s) {bad} cannot be written; writable: {list(WRITABLE_FIELDS)}")
        supplied = {**(info.data.get("mapping") or {}), **(info.data.get("constants") or {})}
        unmapped = [f for f in fields if f not in supplied]
        if unmapped:
            raise ValueError(f"field(s) {unmapped} have no column in mapping (or constant)")
        return list(dict.fromkeys(fields))


class Plan(BaseModel):
    """A tenant's plan limits."""

    max_profiles: int = Field(default=50, ge=1)
    min_interval_minutes: int = Field(default=15, ge=1)
    max_rows: int = Field(default=2_000_000, ge=1)


class TenantSettings(BaseModel):
    """Per-tenant settings: the global (``default``) schedule, timezone and plan."""

    tenant_id: str
    schedule: TenantSchedule = Field(
        default_factory=lambda: IntervalSchedule(type="interval", every_minutes=1440)
    )
    plan: Plan = Field(default_factory=Plan)


class PatchProfile(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    source: Source | None = None
    format: FeedFormat | None = None
    rules: Rules | None = None
    constants: dict[str, str] | None = None
    mapping: dict[str, str] | None = None
    match_by: MatchBy | None = None
    fields: list[str] | None = None
    mode: Mode | None = None
    location_id: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    schedule: Schedule | None = None


class StartRunBody(Strict):
    mode: Mode | None = None


# ------------------------------------------------------------------ stored records
class Store(BaseModel):
    tenant_id: str
    store_id: str
    name: str
    platform: Platform
    api_url: str
    secret_ref: str
    options: StoreOptions = Field(default_factory=StoreOptions)
    status: StoreStatus = "setting_up"
    variant_count: int = 0
    catalog_key: str | None = None
    # When the last import started (the next incremental one reads from here) and how.
    imported_at: datetime | None = None
    import_mode: ImportMode | None = None
    error: str | None = None
    created_at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude={"tenant_id", "secret_ref"})


class RunSummary(BaseModel):
    run_id: str
    status: RunStatus
    finished_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None


class Profile(ProfileSettings):
    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    profile_id: str
    status: Literal["ready", "running"] = "ready"
    current_run_id: str | None = None
    disabled_reason: str | None = None
    upload_key: str | None = None
    uploaded_at: datetime | None = None
    last_run: RunSummary | None = None
    last_sync_at: datetime | None = None
    # The last successfully synced URL file (etag, last_modified, sha256): what an
    # ``automatic`` schedule compares against.
    last_source: dict[str, Any] | None = None
    # Rows in the last file when that was more than the plan allows (see core/plans.py).
    rows_over_plan: int | None = None
    created_at: datetime

    def public(self) -> dict[str, object]:
        body = self.model_dump(mode="json", exclude={"tenant_id"})
        source = body["source"]
        if isinstance(source, dict):
            source.pop("credentials", None)
            source["has_credentials"] = bool(source.pop("secret_ref", None))
        return body


class Progress(BaseModel):
    """Items applied / items to apply. ``shards`` holds each shard's applied count.

    Shards write absolute counts, so a retried shard cannot count its batches twice.
    """

    done: int = 0
    total: int = 0
    shards: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sum_shards(self) -> Progress:
        if self.shards:
            self.done = max(self.done, sum(self.shards.values()))
        return self

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, self.done * 100 // self.total)


COUNT_NAMES: tuple[str, ...] = (
    "rows", "matched", "not_found", "duplicates", "changed", "unchanged",
    "updated", "failed", "gone", "row_errors",
)  # fmt: skip


class Run(BaseModel):
    tenant_id: str
    run_id: str
    profile_id: str
    store_id: str
    trigger: Trigger
    mode: Mode
    status: RunStatus = "queued"
    progress: Progress = Field(default_factory=Progress)
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    source: dict[str, Any] = Field(default_factory=dict)
    log_key: str | None = None
    # Set by an update shard that failed for good (child executions lose the reason).
    shard_error: str | None = None
    # Why a run was skipped (black-out, already running, source unchanged).
    reason: str | None = None
    scheduled_time: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def public(self) -> dict[str, object]:
        body = self.model_dump(mode="json", exclude={"tenant_id", "log_key", "shard_error"})
        progress = self.progress
        body["progress"] = {
            "done": progress.done,
            "total": progress.total,
            "percent": progress.percent,
        }
        body["counts"] = {name: self.counts.get(name, 0) for name in COUNT_NAMES}
        return body


# -------------------------------------------------------------------- step hand-offs
class RunRef(BaseModel):
    """What every state carries: ids only (the 256 KB payload limit)."""

    tenant_id: str
    run_id: str
    profile_id: str
    store_id: str


class StartCommand(BaseModel):
    tenant_id: str
    profile_id: str
    trigger: Trigger
    mode: Mode | None = None
    # The schedule's fire time (EventBridge Scheduler's <aws.scheduler.scheduled-time>).
    scheduled_time: datetime | None = None
    # Same key, same run: S3 redeliveries, scheduler retries, double-clicked Starts.
    idempotency_key: str | None = Field(default=None, max_length=300)


class FetchOutput(BaseModel):
    key: str
    file_name: str
    size: int
    etag: str | None = None


class ParseOutput(BaseModel):
    rows_key: str
    rows: int
    row_errors: int
    row_errors_key: str


class MatchOutput(BaseModel):
    manifest_bucket: str
    manifest_key: str
    shards: int
    items: int
    # Parallel shard workers; derived from the store's quota (the Map reads it).
    concurrency: int = Field(ge=1)


class FetchInput(BaseModel):
    run: RunRef


class ParseInput(BaseModel):
    run: RunRef
    fetch: FetchOutput


class MatchInput(BaseModel):
    run: RunRef
    fetch: FetchOutput
    parse: ParseOutput


class ShardRef(BaseModel):
    index: int
    key: str
    items: int


class UpdateInput(BaseModel):
    run: RunRef
    shard: ShardRef


class UpdateOutput(BaseModel):
    shard: int
    updated: int
    failed: int
    gone: int = 0  # result lines whose item the store no longer has (not counted failed)


class StepError(BaseModel):
    """Step Functions' Catch output: ``{"Error": name, "Cause": json-or-text}``."""

    model_config = ConfigDict(populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class FinalizeInput(BaseModel):
    run: RunRef
    error: StepError | None = None


class FinalizeOutput(BaseModel):
    run_id: str
    status: RunStatus
    counts: dict[str, int]
    error: str | None = None


class CatalogImportInput(BaseModel):
    tenant_id: str
    store_id: str
    mode: ImportMode = "full"
    since: datetime | None = None
    until: datetime | None = None


class UploadedObject(BaseModel):
    """An S3 ObjectCreated record under uploads/{tenant}/{profile}/..."""

    bucket: str
    key: str
    size: int = 0
    # The object version (or, unversioned, its ETag + event sequencer): one upload, one run.
    version_id: str


class ExecutionStatusChange(BaseModel):
    """EventBridge's "Step Functions Execution Status Change" detail (the fields we read)."""

    name: str
    status: str
    input: str | None = None

    def run_ref(self) -> RunRef | None:
        try:
            return RunRef.model_validate(json.loads(self.input or "")["run"])
        except (ValueError, KeyError, TypeError):
            return None


class StatusOnly(BaseModel):
    status: str
    detail: str | None = None


def utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
