"""An upload URL asked for with ``"start": false`` stores the file without starting a run;
the choice travels in the key the URL signs, which the start function reads."""

from __future__ import annotations

from fakes import World

from feedsync.core import api, keys
from feedsync.core.steps.common import ref_of
from feedsync.core.steps.fetch import fetch
from feedsync.models import FetchInput, UploadedObject

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]
FEED = b"SKU,Qty\nA-1,4\n"


def _landed(world: World, key: str, size: int = 120, version: str = "v1") -> UploadedObject:
    return UploadedObject(bucket="b", key=key, size=size, version_id=version, s3_version=version)


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
    # When Start is clicked, Then a run starts on it, still pending until its Fetch copies it
    world.blobs.put_bytes(key, FEED)
    run = api.start(world.deps, world.tenant, "p1", "manual", None)
    assert run.status == "queued"
    assert world.profile_record().pending_upload is not None
    fetch(world.deps, FetchInput(run=ref_of(run)))
    assert world.profile_record().pending_upload is None


def test_a_file_stored_between_start_and_fetch_is_synced_and_not_left_pending(
    world: World,
) -> None:
    # Given a stored upload A and a run started on it
    world.profile(world.store(CATALOG), source={"type": "upload"})
    first = api.upload_url(world.deps, world.tenant, "p1", "a.csv", start=False)["key"]
    api.record_upload(world.deps, _landed(world, first))
    run = api.start(world.deps, world.tenant, "p1", "manual", None)
    # When file B is stored before the run's Fetch reads the profile
    second = api.upload_url(world.deps, world.tenant, "p1", "b.csv", start=False)["key"]
    world.blobs.put_bytes(second, FEED)
    api.record_upload(world.deps, _landed(world, second, version="v2"))
    got = fetch(world.deps, FetchInput(run=ref_of(run)))
    # Then the run syncs B, and B is not shown as waiting for a Start
    assert got.file_name == "b.csv"
    assert world.profile_record().pending_upload is None


def test_a_file_stored_after_fetch_read_the_profile_stays_pending(world: World) -> None:
    # Given a stored upload A and a run started on it
    world.profile(world.store(CATALOG), source={"type": "upload"})
    first = api.upload_url(world.deps, world.tenant, "p1", "a.csv", start=False)["key"]
    world.blobs.put_bytes(first, FEED)
    api.record_upload(world.deps, _landed(world, first))
    run = api.start(world.deps, world.tenant, "p1", "manual", None)
    # and file B stored while the run's Fetch is copying A
    second = api.upload_url(world.deps, world.tenant, "p1", "b.csv", start=False)["key"]
    copy = world.blobs.copy

    def copy_while_b_lands(source_key: str, key: str, version: str | None = None) -> None:
        copy(source_key, key, version)
        api.record_upload(world.deps, _landed(world, second, version="v2"))

    world.blobs.copy = copy_while_b_lands  # type: ignore[method-assign]
    # When the Fetch ends
    got = fetch(world.deps, FetchInput(run=ref_of(run)))
    # Then A was synced and B still waits for a Start
    assert got.file_name == "a.csv"
    pending = world.profile_record().pending_upload
    assert pending is not None and (pending.key, pending.version) == (second, "v2")


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
