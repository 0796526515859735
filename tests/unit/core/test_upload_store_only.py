"""An upload URL asked for with ``"start": false`` stores the file without starting a run;
the choice travels in the key the URL signs, which the start function reads."""

from __future__ import annotations

from fakes import World

from feedsync.core import api, keys
from feedsync.models import UploadedObject

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


def _landed(world: World, key: str, size: int = 120) -> UploadedObject:
    return UploadedObject(bucket="b", key=key, size=size, version_id="v1", s3_version="v1")


def test_the_choice_is_in_the_signed_key(world: World) -> None:
    # Given an upload profile
    world.profile(world.store(CATALOG), source={"type": "upload"})
    # When URLs are asked for with and without start
    starting = api.upload_url(world.deps, world.tenant, "p1", "stock.csv")
    storing = api.upload_url(world.deps, world.tenant, "p1", "stock.csv", start=False)
    # Then only the key tells them apart, and no header is needed
    assert keys.upload_starts_run(starting["key"]) and starting["start"] is True
    assert not keys.upload_starts_run(storing["key"]) and storing["start"] is False
    assert storing["key"].startswith(f"uploads/{world.tenant}/p1/stored/")
    assert storing["headers"] == {} and storing["key"] in storing["upload_url"]
    assert keys.parse_upload_key(storing["key"]) == (world.tenant, "p1")


def test_a_stored_upload_starts_nothing_and_is_pending_until_a_start(world: World) -> None:
    # Given an upload profile and a file landed under a store-only URL's key
    world.profile(world.store(CATALOG), source={"type": "upload"})
    key = api.upload_url(world.deps, world.tenant, "p1", "stock.csv", start=False)["key"]
    # When the start function records it
    assert api.record_upload(world.deps, _landed(world, key)) is None
    # Then no execution started, and the profile holds it as its file and as pending
    assert world.executions.started == {}
    profile = world.profile_record()
    assert profile.upload_key == key and profile.upload_version == "v1"
    assert profile.pending_upload is not None and profile.pending_upload.size == 120
    # When Start is clicked, Then a run starts on it and nothing is pending any more
    run = api.start(world.deps, world.tenant, "p1", "manual", None)
    assert run.status == "queued"
    assert world.profile_record().pending_upload is None


def test_an_upload_that_starts_its_run_is_not_pending(world: World) -> None:
    # Given a profile with a stored upload, When a starting upload lands
    world.profile(world.store(CATALOG), source={"type": "upload"})
    stored = api.upload_url(world.deps, world.tenant, "p1", "a.csv", start=False)["key"]
    api.record_upload(world.deps, _landed(world, stored))
    starting = api.upload_url(world.deps, world.tenant, "p1", "b.csv")["key"]
    run = api.record_upload(world.deps, _landed(world, starting))
    # Then it started a run on the new file and nothing is pending
    assert run is not None and run.trigger == "upload"
    assert world.profile_record().pending_upload is None
    assert world.profile_record().upload_key == starting
