"""Length limits on the API bodies' strings, lists and objects (feedsync.models.limits).

A global schedule with 10,000 black-out windows made every profile read take 2 s: every
list and string a body takes now has a limit, refused with a 422 naming the field and
the limit, and shown in the OpenAPI document (it comes from the models).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import call

from feedsync.models import PatchProfile, ProfileSettings

PROFILE: dict[str, Any] = {
    "name": "Acme",
    "store_id": "store-1",
    "source": {"type": "url", "url": "https://supplier.example/feed.csv"},
    "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
}
WINDOW = {"start": "20:00", "end": "04:00"}
SFTP = {"type": "sftp", "host": "h", "path": "/feed.csv", "username": "u",
        "host_key_fingerprint": "SHA256:" + "a" * 43}  # fmt: skip


def _schedule(windows: int) -> dict[str, Any]:
    return {"type": "interval", "every_minutes": 60, "blackouts": [WINDOW] * windows}


@pytest.mark.parametrize(
    ("method", "path", "body", "field", "message"),
    [
        ("PUT", "/settings/schedule", _schedule(51),
         "blackouts", "at most 50 items, got 51"),
        ("POST", "/profiles", {**PROFILE, "schedule": _schedule(10_000)},
         "schedule.blackouts", "at most 50 items, got 10,000"),
        ("PATCH", "/profiles/p-1", {"schedule": {**_schedule(0), "blackouts": [
            {**WINDOW, "weekdays": [0, 1, 2, 3, 4, 5, 6, 0]}]}},
         "schedule.blackouts[0].weekdays", "at most 7 items, got 8"),
        ("POST", "/profiles", {**PROFILE, "name": "n" * 201},
         "name", "at most 200 characters, got 201"),
        ("POST", "/profiles", {**PROFILE, "mapping": {**PROFILE["mapping"], "title": "t" * 2049}},
         "mapping.title", "at most 2,048 characters, got 2,049"),
        ("POST", "/profiles", {**PROFILE, "mapping": {f"f{i}": "c" for i in range(51)}},
         "mapping", "at most 50 entries, got 51"),
        ("PATCH", "/profiles/p-1", {"constants": {"brand": "b" * 2049}},
         "constants.brand", "at most 2,048 characters, got 2,049"),
        ("PATCH", "/profiles/p-1", {"fields": ["price"] * 51},
         "fields", "at most 50 items, got 51"),
        ("POST", "/profiles", {**PROFILE, "source": {**SFTP, "path": "/" + "p" * 2048}},
         "source.path", "at most 2,048 characters, got 2,049"),
        ("POST", "/profiles", {**PROFILE, "source": {"type": "url", "url": "https://s.example/"
                                                     + "u" * 2100}},
         "source.url", "at most 2,083 characters"),
        ("PATCH", "/profiles/p-1", {"rules": {"price_rules": {"tiers": [
            {"min": str(i), "max": str(i + 1)} for i in range(101)]}}},
         "rules.price_rules.tiers", "at most 100 items, got 101"),
        ("PATCH", "/profiles/p-1", {"rules": {"stock_rules": {"text": {
            f"word {i}": 1 for i in range(101)}}}},
         "rules.stock_rules.text", "at most 100 entries, got 101"),
        ("PATCH", "/profiles/p-1", {"rules": {"stock_rules": {"text": {"w" * 201: 1}}}},
         "rules.stock_rules.text", "keys at most 200 characters, got one of 201"),
        ("POST", "/profiles/p-1/upload-url", {"file_name": "f" * 101},
         "file_name", "at most 100 characters, got 101"),
        ("POST", "/stores", {"name": "S", "platform": "shopify",
                             "api_url": "https://x.myshopify.com",
                             "credentials": {"access_token": "t" * 2049}},
         "credentials.access_token", "at most 2,048 characters, got 2,049"),
    ],
)  # fmt: skip
def test_a_value_over_its_limit_is_a_422_naming_the_field_and_the_limit(
    method: str, path: str, body: dict[str, Any], field: str, message: str
) -> None:
    # Given a body with one list, object or string over its limit
    # When it is sent
    status, answer = call(method, path, json.dumps(body))
    # Then it is refused naming the field and the limit
    assert status == 422, answer
    assert answer["error"] == "invalid_request"
    assert answer["field"] == field
    assert answer["message"].startswith(f"{field}: {message}"), answer["message"]


def test_values_at_their_limits_are_taken() -> None:
    # Given a profile with every limited list at its limit
    body = {
        **PROFILE,
        "name": "n" * 200,
        "schedule": {**_schedule(0), "blackouts": [{**WINDOW, "weekdays": list(range(7))}] * 50},
        "rules": {
            "price_rules": {"tiers": [{"min": str(i), "max": str(i + 1)} for i in range(100)]},
            "stock_rules": {"text": {f"word {i}": 1 for i in range(100)}},
        },
    }
    # When the models read it (as the API does)
    profile = ProfileSettings.model_validate(body)
    patch = PatchProfile.model_validate({"constants": {"brand": "b" * 2048}})
    # Then it is taken whole
    assert profile.schedule.blackouts is not None and len(profile.schedule.blackouts) == 50
    assert profile.rules.price_rules is not None
    assert len(profile.rules.price_rules.tiers or []) == 100
    assert patch.constants == {"brand": "b" * 2048}


def test_the_openapi_document_shows_the_limits() -> None:
    # Given the API's OpenAPI document
    status, doc = call("GET", "/openapi.json")
    schemas = doc["components"]["schemas"]

    # When the limited properties are looked up
    def prop(model: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = schemas[model]["properties"][name]
        return next((s for s in found.get("anyOf", []) if s.get("type") != "null"), found)

    # Then each carries its limit
    assert status == 200
    assert prop("IntervalSchedule", "blackouts")["maxItems"] == 50
    assert prop("Blackout", "weekdays")["maxItems"] == 7
    assert prop("ProfileSettings", "name")["maxLength"] == 200
    assert prop("ProfileSettings", "mapping")["maxProperties"] == 50
    assert prop("ProfileSettings", "mapping")["additionalProperties"]["maxLength"] == 2048
    assert prop("ProfileSettings", "constants")["maxProperties"] == 50
    assert prop("ProfileSettings", "fields")["maxItems"] == 50
    assert prop("PatchProfile", "mapping")["maxProperties"] == 50
    assert prop("PriceRules", "tiers")["maxItems"] == 100
    assert prop("StockRules", "text")["maxProperties"] == 100
    assert prop("SftpSource", "path")["maxLength"] == 2048
    assert prop("UrlSource", "url")["maxLength"] == 2083
    assert prop("UploadUrlBody", "file_name")["maxLength"] == 100
    assert prop("SourceCredentials", "private_key")["maxLength"] == 16384
