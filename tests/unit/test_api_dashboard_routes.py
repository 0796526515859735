"""The dashboard's API additions through the API function's entry point (routes, bodies,
statuses), over the core's in-memory fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.api_support import call
from tests.unit.core.fakes import World

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The fakes, as the tenant the API test requests come from."""
    made = World(str(tmp_path))
    made.tenant = "tenant-1"
    monkeypatch.setattr("routes.common.deps", lambda: made.deps)
    return made


def test_patch_store_renames_and_answers_the_store_view(world: World) -> None:
    # Given a store, When it is renamed over HTTP
    world.store(CATALOG)
    status, body = call("PATCH", "/stores/s1", json.dumps({"name": "Acme"}))
    # Then the answer is the store as changed, without its secret ref
    assert status == 200
    assert body["name"] == "Acme" and body["status"] == "ready"
    assert "secret_ref" not in body


def test_patch_store_statuses(world: World) -> None:
    # Given a store with a running profile
    world.run(world.profile(world.store(CATALOG)))
    # When an empty body, an unknown store and new credentials mid-run are sent
    empty = call("PATCH", "/stores/s1", "{}")
    unknown = call("PATCH", "/stores/s9", json.dumps({"name": "x"}))
    running = call("PATCH", "/stores/s1", json.dumps({"credentials": {"access_token": "t"}}))
    # Then each has its documented status, saying why
    assert empty[0] == 422 and "at least one of" in empty[1]["message"]
    assert unknown[0] == 404
    assert running[0] == 409 and running[1]["error"] == "already_running"


def test_moving_a_profile_to_an_unknown_store_is_a_422_naming_store_id(world: World) -> None:
    # Given a profile, When it is moved to a store the tenant does not have
    world.profile(world.store(CATALOG))
    status, body = call("PATCH", "/profiles/p1", json.dumps({"store_id": "s9"}))
    # Then the refusal names the field
    assert status == 422 and body["field"] == "store_id"


def test_the_profile_list_carries_the_tiles_fields(world: World) -> None:
    # Given a profile, When the list is asked for
    world.profile(world.store(CATALOG))
    status, body = call("GET", "/profiles")
    # Then each profile has what its tile shows
    assert status == 200
    (tile,) = body["profiles"]
    assert tile["store_name"] == "store s1" and tile["platform"] == "bigcommerce"
    assert tile["source_summary"] == "URL https://supplier.example/stock.csv"
    assert tile["live"] is None and tile["estimate"]["basis"]


def test_an_upload_url_that_stores_only(world: World) -> None:
    # Given an upload profile, When a store-only upload URL is asked for
    world.profile(world.store(CATALOG), source={"type": "upload"})
    status, body = call("POST", "/profiles/p1/upload-url", json.dumps({"start": False}))
    # Then it says so, and the client needs to send no header
    assert status == 200
    assert body["start"] is False and body["headers"] == {}
    assert "/stored/" in body["key"]


def test_a_file_preview_of_an_upload_without_a_profile_is_a_422(world: World) -> None:
    # Given no profile named, When an upload source is previewed
    status, body = call("POST", "/file-preview", json.dumps({"source": {"type": "upload"}}))
    # Then the refusal names profile_id
    assert status == 422 and body["field"] == "profile_id"


def test_a_file_preview_of_an_unknown_profile_is_a_404(world: World) -> None:
    # Given no such profile, When a preview names it, Then it is not found
    body = {"source": {"type": "upload"}, "profile_id": "p9"}
    assert call("POST", "/file-preview", json.dumps(body))[0] == 404


def test_a_file_preview_reads_an_sftp_source_without_a_pin(world: World) -> None:
    # Given an SFTP source without host_key_fingerprint (not valid for a profile)
    source = {"type": "sftp", "host": "sftp.example", "path": "/s.csv", "username": "u"}
    world.deps.remote = None  # no server here: the body is taken, the source then refused
    # When it is previewed, Then the body is accepted and the source refused as unreachable
    status, body = call("POST", "/file-preview", json.dumps({"source": source}))
    assert status == 422 and body["field"] == "source"
