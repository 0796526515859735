"""``key_transform`` through the API function (POST and PATCH /profiles), on the fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import call
from fakes import World

CATALOG = [(1, 11, "ACME-1", None, 1000, None, None, None, 5)]


@pytest.fixture
def store_id(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store of the tenant the API's authorizer context names, the API over the fakes."""
    world.tenant = "tenant-1"
    monkeypatch.setattr("routes.common.deps", lambda: world.deps)
    return world.store(CATALOG).store_id


def _profile(store_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "name": "acme",
        "store_id": store_id,
        "source": {"type": "url", "url": "https://supplier.example/stock.csv"},
        "mapping": {"sku": "Code", "price": "Price", "stock": "Qty"},
        **settings,
    }


def test_a_profile_with_a_prefix_is_created_and_answers_it(store_id: str) -> None:
    # Given a profile body whose store keeps the supplier's codes under ACME-
    body = _profile(store_id, key_transform={"prefix": "ACME-"})
    # When it is posted
    status, created = call("POST", "/profiles", json.dumps(body))
    # Then it is created with the transform, which a read answers too
    assert status == 201, created
    assert created["key_transform"] == {"prefix": "ACME-"}
    status, read = call("GET", f"/profiles/{created['profile_id']}")
    assert status == 200 and read["key_transform"] == {"prefix": "ACME-"}


def test_a_bad_template_is_a_422_naming_key_transform(store_id: str) -> None:
    # Given a template whose brace is never closed
    body = _profile(store_id, key_transform={"template": "{Brand-{Code}"})
    # When it is posted
    status, answer = call("POST", "/profiles", json.dumps(body))
    # Then it is refused naming the setting and what is wrong
    assert status == 422, answer
    assert answer["field"] == "key_transform"
    assert "'{' at character 1 is never closed" in answer["message"]


def test_a_patch_to_match_by_barcode_is_refused_while_keys_are_reshaped(store_id: str) -> None:
    # Given a profile with a prefix
    body = _profile(store_id, key_transform={"prefix": "ACME-"})
    body["mapping"]["barcode"] = "EAN"
    _, created = call("POST", "/profiles", json.dumps(body))
    path = f"/profiles/{created['profile_id']}"
    # When it is switched to match by barcode
    status, answer = call("PATCH", path, json.dumps({"match_by": "barcode"}))
    # Then it is refused: a barcode is the same in the file and the store
    assert status == 422, answer
    assert answer["field"] == "key_transform" and "matches by barcode" in answer["message"]
    # ... while replacing the prefix by a template, then null, is taken
    status, patched = call("PATCH", path, json.dumps({"key_transform": {"template": "{B}-{Code}"}}))
    assert status == 200 and patched["key_transform"] == {"template": "{B}-{Code}"}
    status, patched = call("PATCH", path, json.dumps({"key_transform": None}))
    assert status == 200 and patched["key_transform"] is None
