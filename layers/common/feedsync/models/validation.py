"""How a refused value is told: the field path and what was expected, for every 422."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
    elif kind in ("string_too_long", "url_too_long", "too_long"):
        loc, message = _too_long(kind, loc, ctx, error.get("input"))
    elif kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind]
    return error_field(loc) + where, message


def _too_long(
    kind: str, loc: tuple[int | str, ...], ctx: Mapping[str, Any], value: object
) -> tuple[tuple[int | str, ...], str]:
    """``"at most 50 items, got 51"``; an object's over-long key is told at the object
    (``rules.stock_rules.text``), not echoed into the field path."""
    limit = ctx.get("max_length")
    got = f", got {len(value):,}" if isinstance(value, str | list | dict) else ""
    if kind == "too_long":
        unit = "entries" if isinstance(value, dict) else "items"
        return loc, f"at most {limit:,} {unit}{got}"
    if loc[-1:] == ("[key]",):
        return loc[:-2], f"keys at most {limit:,} characters, got one of {len(str(value)):,}"
    return loc, f"at most {limit:,} characters{got}"


# The tags pydantic puts in an error's location after a union field, by the field that
# holds the union (None: a union as the whole body); each union's module registers its own.
UNION_TAGS: dict[object, frozenset[str]] = {}


def error_field(loc: Sequence[int | str]) -> str:
    """``schedule.blackouts[0].end`` for pydantic's ``("schedule", "interval",
    "blackouts", 0, "end")``: the union tags of ``source`` and ``schedule`` dropped (a
    schedule kind first is the tag of a schedule body, ``PUT /settings/schedule``)."""
    out = ""
    previous: int | str | None = None
    for part in loc:
        tags = UNION_TAGS.get(previous)
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
