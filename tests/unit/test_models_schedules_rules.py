"""Schedules and rules as pydantic models: the OpenAPI schema, 422s and stored profiles.

The schedule kinds and the rule set are declared once, in feedsync.models; these tests
check that the OpenAPI document is generated from them, that the API refuses what they
refuse naming the field, and that profiles stored before keep loading and keep the same
JSON shape when written back.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import call
from pydantic import BaseModel

from feedsync.adapters.dynamo import _from_ddb, _to_ddb
from feedsync.domain.rules import ROUNDINGS, compile_rules
from feedsync.models import (
    AfterSchedule,
    AutomaticSchedule,
    CronSchedule,
    DailySchedule,
    DefaultSchedule,
    IntervalSchedule,
    ManualSchedule,
    PriceRules,
    PriceTier,
    Profile,
    ProfileSettings,
    Rules,
    StockRules,
    TenantSettings,
)
from functions.api.app import app

KINDS: dict[str, tuple[type[BaseModel], set[str]]] = {
    "interval": (IntervalSchedule, {"type", "every_minutes"}),
    "automatic": (AutomaticSchedule, {"type", "every_minutes"}),
    "daily": (DailySchedule, {"type", "at"}),
    "cron": (CronSchedule, {"type", "expression"}),
    "after": (AfterSchedule, {"type", "profile_id"}),
    "default": (DefaultSchedule, {"type"}),
    "manual": (ManualSchedule, {"type"}),
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return dict(json.loads(app.get_openapi_json_schema(title="feedsync", version="1.0.0")))


def _component(openapi: dict[str, Any], ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    return dict(openapi["components"]["schemas"][ref.removeprefix(prefix)])


# --------------------------------------------------------------------------- OpenAPI


def test_the_profile_schedule_is_a_discriminated_union_of_the_kind_models(
    openapi: dict[str, Any],
) -> None:
    # Given the OpenAPI document the API serves
    schedule = openapi["components"]["schemas"]["ProfileSettings"]["properties"]["schedule"]
    # When the profile's schedule is read from it
    mapping = schedule["discriminator"]["mapping"]
    # Then it is a oneOf over one component per kind, discriminated by "type"
    assert schedule["discriminator"]["propertyName"] == "type"
    assert set(mapping) == set(KINDS)
    assert sorted(s["$ref"] for s in schedule["oneOf"]) == sorted(mapping.values())
    for kind, (model, required) in KINDS.items():
        component = _component(openapi, mapping[kind])
        # And each component is its model: its tag, its fields, its required fields
        assert component["properties"]["type"]["const"] == kind
        assert set(component["properties"]) == set(model.model_fields)
        assert set(component["required"]) == required
        assert component["additionalProperties"] is False


def test_a_schedules_values_are_described_by_the_schema(openapi: dict[str, Any]) -> None:
    # Given the interval and daily components and the black-out window
    schemas = openapi["components"]["schemas"]
    interval, daily = schemas["IntervalSchedule"], schemas["DailySchedule"]
    window = schemas["Blackout"]
    # Then their constraints are JSON Schema (minimum, pattern, minItems), not pydantic's
    every = interval["properties"]["every_minutes"]
    assert (every["type"], every["minimum"]) == ("integer", 1)
    assert interval["properties"]["anchor"]["anyOf"][0]["format"] == "date-time"
    assert "pattern" in daily["properties"]["at"]
    assert window["required"] == ["start", "end"]
    weekdays = window["properties"]["weekdays"]["anyOf"][0]
    assert weekdays["minItems"] == 1
    assert {"type": "integer", "minimum": 0, "maximum": 6} in weekdays["items"]["anyOf"]


def test_the_tenant_schedule_body_has_no_default_or_after(openapi: dict[str, Any]) -> None:
    # Given the body of PUT /settings/schedule
    body = openapi["paths"]["/settings/schedule"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    # Then it is the same union without the kinds that need a tenant schedule to follow
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == set(KINDS) - {"default", "after"}


def test_the_rules_schema_comes_from_the_rules_models(openapi: dict[str, Any]) -> None:
    # Given the profile's rules in the OpenAPI document (create and patch)
    schemas = openapi["components"]["schemas"]
    create = schemas["ProfileSettings"]["properties"]["rules"]
    patch = schemas["PatchProfile"]["properties"]["rules"]["anyOf"]
    # Then both point at the Rules component, whose parts are the models' fields
    assert create["$ref"] == "#/components/schemas/Rules"
    assert {"$ref": "#/components/schemas/Rules"} in patch
    for name, model in (
        ("Rules", Rules),
        ("PriceRules", PriceRules),
        ("PriceTier", PriceTier),
        ("StockRules", StockRules),
    ):
        assert set(schemas[name]["properties"]) == set(model.model_fields), name
        assert schemas[name]["additionalProperties"] is False, name
    # And the closed choices are enums, the tiers a list of PriceTier
    price = schemas["PriceRules"]["properties"]
    assert price["round"]["anyOf"][0]["enum"] == list(ROUNDINGS)
    assert price["tiers"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/PriceTier"}
    assert price["apply_to"]["anyOf"][0]["items"]["enum"] == ["price", "sale_price", "retail_price"]
    stock = schemas["StockRules"]["properties"]
    assert stock["greater_than_as"]["anyOf"][0]["enum"] == ["value", "value+1"]


# ------------------------------------------------------------------------------ 422s

PROFILE = {
    "name": "Acme",
    "store_id": "store-1",
    "source": {"type": "url", "url": "https://supplier.example/feed.csv"},
    "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
}


def _call(method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The API function as API Gateway calls it (the authorizer's tenant in the context)."""
    return call(method, path, json.dumps(body))


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "says"),
    [
        (
            "POST", "/profiles", {**PROFILE, "schedule": {"type": "weekly"}},
            "schedule.type", "expected one of interval, automatic, daily, cron, manual, after, "
            "default, got 'weekly'",
        ),
        (
            "POST", "/profiles", {**PROFILE, "schedule": {"type": "daily", "at": "06:00",
                                                          "every_minutes": 5}},
            "schedule.every_minutes", "not allowed for type 'daily'",
        ),
        (
            "PATCH", "/profiles/p-1", {"schedule": {"type": "interval", "every_minutes": 60,
                                                    "blackouts": [{"start": "20:00",
                                                                   "end": "4:00", "until": 1}]}},
            "schedule.blackouts[0].until", "unknown key; known keys are: start, end, weekdays",
        ),
        (
            "PATCH", "/profiles/p-1", {"schedule": {"type": "daily", "at": "25:00"}},
            "schedule.at", "expected a time HH:MM (00:00-23:59), got '25:00'",
        ),
        (
            "PUT", "/settings/schedule", {"type": "after", "profile_id": "p-2"},
            "type", "expected one of interval, automatic, daily, cron, manual, got 'after'",
        ),
        (
            "POST", "/profiles", {**PROFILE, "rules": {"price_rules": {"markup": "25"}}},
            "rules.price_rules.markup", "unknown key; known keys are: currency_factor, "
            "markup_percent, add, tiers",
        ),
        (
            "POST", "/profiles", {**PROFILE, "rules": {"sku_rules": {}}},
            "rules.sku_rules", "unknown key; known keys are: price_rules, stock_rules",
        ),
        (
            "PATCH", "/profiles/p-1", {"rules": {"price_rules": {"tiers": [
                {"min": "0", "max": "10"}, {"min": "9"}]}}},
            "rules.price_rules.tiers[1].min", "tier overlaps tiers[0]",
        ),
        (
            "PATCH", "/profiles/p-1", {"rules": {"stock_rules": {"text": {"in stock": -1}}}},
            "rules.stock_rules.text['in stock']", "cannot be negative",
        ),
        (
            "POST", "/profiles", {**PROFILE, "rules": {"price_rules": {"round": "0.9"}}},
            "rules.price_rules.round", "expected one of 0.99, 0.95, 0.05, 1, none",
        ),
    ],
)  # fmt: skip
def test_an_unknown_kind_or_key_is_a_422_naming_it(
    method: str, path: str, body: dict[str, Any], field: str, says: str
) -> None:
    # Given a body whose schedule or rules the models refuse
    # When it is sent to the API
    status, answer = _call(method, path, body)
    # Then the answer is a 422 naming the field and saying what was expected
    assert status == 422, answer
    assert answer["error"] == "invalid_request"
    assert answer["field"] == field
    assert answer["message"] == f"{field}: {answer['detail'][0]['message']}"
    assert says in answer["message"]


# ------------------------------------------------------------------- stored profiles

# A profile as the previous code stored it: schedule and rules normalised by the
# imperative validators into plain JSON.
OLD_SCHEDULE = {
    "type": "interval",
    "every_minutes": 60,
    "timezone": "Europe/Berlin",
    "anchor": "2026-01-01T00:00:00Z",
    "blackouts": [
        {"start": "20:00", "end": "04:00", "weekdays": [0, 6]},
        {"start": "12:00", "end": "13:00"},
    ],
}
OLD_RULES = {
    "price_rules": {
        "currency_factor": "1.08",
        "markup_percent": "25",
        "tiers": [
            {"min": "0.00", "max": "10.00", "markup_percent": "50", "add": "0.50"},
            {"min": "10.00", "markup_percent": "30"},
        ],
        "round": "0.99",
        "min": "5.00",
        "apply_to": ["price", "sale_price"],
    },
    "stock_rules": {"buffer": 2, "cap": 500, "text": {"in stock": 100, "out of stock": 0}},
    "sku_case_insensitive": True,
}
OLD_PROFILE = {
    "PK": "TENANT#tenant-1",
    "SK": "PROFILE#p-1",
    "kind": "profile",
    "tenant_id": "tenant-1",
    "profile_id": "p-1",
    **PROFILE,
    "format": {"type": "csv"},
    "schedule": OLD_SCHEDULE,
    "rules": OLD_RULES,
    "status": "ready",
    "created_at": "2026-01-01T00:00:00+00:00",
}


def test_a_profile_stored_with_dict_schedule_and_rules_loads_and_writes_the_same_json() -> None:
    # Given a profile item as DynamoDB returns it (numbers come back as Decimal)
    item = _from_ddb(_to_ddb(OLD_PROFILE))
    # When it is loaded the way the repository loads it
    profile = Profile.model_validate(item)
    # Then the schedule and the rules are the typed models
    assert isinstance(profile.schedule, IntervalSchedule)
    assert profile.schedule.every_minutes == 60
    assert [w.weekdays for w in profile.schedule.blackouts or []] == [[0, 6], None]
    assert profile.rules.price_rules is not None
    assert [t.min for t in profile.rules.price_rules.tiers or []] == ["0.00", "10.00"]
    assert profile.rules.sku_case_insensitive is True
    # And what is written back (put_profile, a PATCH, the API view) is the same JSON
    stored = profile.model_dump(mode="json", exclude_none=True)
    patched = ProfileSettings.model_validate(
        profile.model_dump(include=set(ProfileSettings.model_fields))
    ).model_dump(mode="json", include={"schedule", "rules"})
    shown = profile.public()
    for body in (stored, patched, shown):
        assert (body["schedule"], body["rules"]) == (OLD_SCHEDULE, OLD_RULES)


def test_a_stored_profile_compiles_to_the_rules_it_compiled_to_before() -> None:
    # Given the stored rules and the profile loaded from them
    profile = Profile.model_validate(_from_ddb(_to_ddb(OLD_PROFILE)))
    # When they are compiled (the domain reads the model's plain JSON form)
    new = compile_rules(profile.rules.spec())
    # Then prices and stock come out as the code before the models computed them
    # (figures taken from compile_rules at 34a33d5 on OLD_RULES)
    cents = [0, 499, 999, 1000, 12345]
    assert [new.money["price"](c) for c in cents] == [500, 899, 1499, 1499, 17399]
    assert set(new.money) == {"price", "sale_price"}
    assert new.stock is not None
    assert [new.stock(t) for t in ("7", "In Stock", "9999")] == [5, 98, 500]
    assert new.sku_case_insensitive is True


@pytest.mark.parametrize(
    "stored",
    [
        {"type": "daily", "at": "00:30", "timezone": "America/New_York"},
        {"type": "cron", "expression": "cron(0 */2 * * ? *)"},
        {"type": "automatic", "every_minutes": 15},
        {"type": "after", "profile_id": "p-0"},
        {"type": "default"},
        {"type": "manual"},
    ],
)
def test_every_stored_schedule_kind_loads_and_round_trips(stored: dict[str, Any]) -> None:
    # Given a profile stored with this schedule
    item = _from_ddb(_to_ddb({**OLD_PROFILE, "schedule": stored}))
    # When it is loaded and written back
    profile = Profile.model_validate(item)
    # Then its kind's model was chosen and the JSON is unchanged
    assert type(profile.schedule) is KINDS[stored["type"]][0]
    assert profile.schedule.spec() == stored


def test_stored_tenant_settings_load_and_default_to_daily_runs() -> None:
    # Given tenant settings stored with a dict schedule, and settings stored without one
    daily = {"type": "daily", "at": "00:30", "timezone": "America/New_York"}
    stored = TenantSettings.model_validate(
        _from_ddb(_to_ddb({"tenant_id": "t", "schedule": daily, "plan": {"max_profiles": 5}}))
    )
    bare = TenantSettings.model_validate({"tenant_id": "t"})
    # Then the stored one reads back as it was, the bare one runs every 1440 minutes
    assert stored.model_dump(mode="json")["schedule"] == daily
    assert bare.schedule.spec() == {"type": "interval", "every_minutes": 1440}
