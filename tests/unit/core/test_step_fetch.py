"""The fetch step over fakes: the supplier file lands in the run's folder, once per change."""

from __future__ import annotations

import hashlib

import pytest
from fakes import World, variant

from feedsync.core import keys
from feedsync.core.source_check import settings_stamp
from feedsync.core.steps.fetch import fetch
from feedsync.errors import SourceError, SourceUnchanged
from feedsync.models import FetchInput

URL = "https://supplier.example/stock.csv"
FEED = b"SKU,Price,Qty\nA-1,12.00,3\n"
AUTOMATIC = {"type": "automatic", "every_minutes": 15}


def test_a_url_file_is_copied_into_the_run_and_described_on_it(world: World) -> None:
    # Given a URL profile whose supplier serves a file
    world.fetcher.serve(URL, FEED, etag="v1", last_modified="Mon, 02 Mar 2026 08:00:00 GMT")
    profile = world.profile(world.store([variant(1, 1, "A-1")]))
    ref = world.run(profile)
    # When the run fetches it
    out = fetch(world.deps, FetchInput(run=ref))
    # Then the bytes sit under the run's source key, and the run says what was read
    assert out.key == keys.source_key(ref.tenant_id, ref.run_id, "stock.csv")
    assert world.blobs.get_bytes(out.key) == FEED and (out.size, out.etag) == (len(FEED), "v1")
    run = world.run_record(ref)
    assert run.status == "preparing" and run.started_at == world.clock()
    assert run.source == {
        "type": "url",
        "url": URL,
        "file": "stock.csv",
        "size": len(FEED),
        "etag": "v1",
        "last_modified": "Mon, 02 Mar 2026 08:00:00 GMT",
        "sha256": hashlib.sha256(FEED).hexdigest(),
        "settings_stamp": settings_stamp(profile),  # the settings it was synced with
    }
    # and a manual run asks for the file unconditionally
    assert world.fetcher.requests == [(URL, None, None)]


def test_an_automatic_fire_on_the_same_content_is_source_unchanged(world: World) -> None:
    # Given an automatic profile that synced this file last time, from a server that
    # sends no ETag (so only the content can tell)
    world.fetcher.serve(URL, FEED, etag=None)
    store = world.store([variant(1, 1, "A-1")])
    profile = world.profile(store, schedule=AUTOMATIC)
    last = {"type": "url", "url": URL, "sha256": hashlib.sha256(FEED).hexdigest()}
    world.repo.update_profile(world.tenant, profile.profile_id, last_source=last)
    ref = world.run(profile, trigger="schedule")
    # When the schedule's run fetches
    with pytest.raises(SourceUnchanged) as unchanged:
        fetch(world.deps, FetchInput(run=ref))
    # Then it stops as unchanged, leaving nothing in the run's folder
    assert "same file as the last run" in unchanged.value.message
    assert not [k for k in world.blobs.objects if k.startswith(keys.run_prefix("t1", "run_1"))]
    # and the request carried the last file's description (a conditional request)
    assert world.fetcher.requests[0][1] == last


def test_an_automatic_fire_the_server_answers_304_is_source_unchanged(world: World) -> None:
    # Given an automatic profile whose last file had ETag v1, still served with it
    world.fetcher.serve(URL, FEED, etag="v1")
    profile = world.profile(world.store([variant(1, 1, "A-1")]), schedule=AUTOMATIC)
    world.repo.update_profile(
        world.tenant, profile.profile_id, last_source={"etag": "v1", "sha256": "old"}
    )
    # When the schedule fires, Then the fetcher's 304 stops the run as unchanged
    with pytest.raises(SourceUnchanged):
        fetch(world.deps, FetchInput(run=world.run(profile, trigger="schedule")))


def test_a_manual_start_fetches_the_same_file_again(world: World) -> None:
    # Given the same automatic profile and unchanged file
    world.fetcher.serve(URL, FEED, etag=None)
    profile = world.profile(world.store([variant(1, 1, "A-1")]), schedule=AUTOMATIC)
    last = {"sha256": hashlib.sha256(FEED).hexdigest()}
    world.repo.update_profile(world.tenant, profile.profile_id, last_source=last)
    # When the merchant starts it by hand
    out = fetch(world.deps, FetchInput(run=world.run(profile, trigger="manual")))
    # Then the file is fetched (a Start always syncs)
    assert world.blobs.get_bytes(out.key) == FEED


def test_an_uploaded_file_is_copied_into_the_run(world: World) -> None:
    # Given an upload profile with a file uploaded
    upload = "uploads/t1/p1/up_1/june.csv"
    world.blobs.put_bytes(upload, FEED)
    profile = world.profile(world.store([variant(1, 1, "A-1")]), source={"type": "upload"})
    world.repo.update_profile(world.tenant, profile.profile_id, upload_key=upload)
    ref = world.run(profile)
    # When the run fetches
    out = fetch(world.deps, FetchInput(run=ref))
    # Then the upload is copied into the run (and kept for later runs)
    assert out.file_name == "june.csv" and world.blobs.get_bytes(out.key) == FEED
    assert world.blobs.get_bytes(upload) == FEED
    assert world.run_record(ref).source == {
        "type": "upload",
        "file": "june.csv",
        "size": 26,
        "version": f"{upload}#",  # the key and S3 version: what a scheduled fire compares
        "settings_stamp": settings_stamp(profile),
    }


def test_an_upload_gone_from_the_bucket_is_a_source_error(world: World) -> None:
    # Given an upload profile whose uploaded object was deleted
    profile = world.profile(world.store([variant(1, 1, "A-1")]), source={"type": "upload"})
    world.repo.update_profile(world.tenant, profile.profile_id, upload_key="uploads/t1/p1/x.csv")
    # When the run fetches, Then it fails with a SourceError naming the file
    with pytest.raises(SourceError, match=r"x\.csv is gone"):
        fetch(world.deps, FetchInput(run=world.run(profile)))


def test_basic_auth_takes_its_password_from_the_secret(world: World) -> None:
    # Given a URL profile with basic auth whose password is in Secrets Manager
    world.fetcher.serve(URL, FEED)
    secret = world.secrets.put("source/p1", {"password": "s3cret"})
    source = {"type": "url", "url": URL, "auth": {"type": "basic", "username": "acme"}}
    profile = world.profile(world.store([variant(1, 1, "A-1")]), source=source)
    stored = profile.source.model_copy(update={"secret_ref": secret})
    world.repo.update_profile(world.tenant, profile.profile_id, source=stored)
    # When the run fetches
    fetch(world.deps, FetchInput(run=world.run(profile)))
    # Then the fetcher got the user from the profile and the password from the secret
    assert world.fetcher.requests[0][2] == {
        "type": "basic",
        "username": "acme",
        "password": "s3cret",
    }
