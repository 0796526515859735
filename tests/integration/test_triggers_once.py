"""Every trigger starts exactly one run, however often it is delivered."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.core.start import start_run
from feedsync.models import PatchProfile, StartCommand

FEED = "SKU,Price,Qty\nMUG-9,5.50,3\n"


def _shop_and_profile(h: Harness) -> tuple[str, str]:
    shop = h.shop([simple_product("Mug", "MUG-9", "5.00", 3)])
    return shop.tenant, h.url_profile(shop, FEED).profile_id


def _history(h: Harness, tenant: str, profile_id: str) -> list[str]:
    return [r.run_id for r in h.deps.repo.list_runs(tenant, profile_id)]


def test_a_double_clicked_start_with_one_idempotency_key_is_one_run(h: Harness) -> None:
    # Given a profile
    tenant, profile_id = _shop_and_profile(h)
    # When ten Starts with the same Idempotency-Key arrive at once
    with ThreadPoolExecutor(10) as pool:
        runs = list(
            pool.map(
                lambda _: api.start(h.deps, tenant, profile_id, "manual", None, "click-1"),
                range(10),
            )
        )
    # Then they all answer with the one run, and only one exists
    assert len({r.run_id for r in runs}) == 1
    assert h.wait_run(tenant, runs[0].run_id).status == "succeeded"
    assert _history(h, tenant, profile_id) == [runs[0].run_id]


def test_a_redelivered_s3_event_starts_one_run(h: Harness) -> None:
    # Given an upload profile, and a file uploaded once (S3 notified the start function)
    shop = h.shop([simple_product("Mug", "MUG-9", "5.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    key = f"uploads/{shop.tenant}/{profile.profile_id}/up_1/stock.csv"
    h.deps.blobs.put_bytes(key, FEED.encode())
    deadline = time.monotonic() + 30
    while not _history(h, shop.tenant, profile.profile_id):
        assert time.monotonic() < deadline, "the upload started no run"
        time.sleep(0.05)
    (first,) = _history(h, shop.tenant, profile.profile_id)
    # (the event as S3 sends it: key, size, eTag and, in a versioned bucket, versionId)
    head = h.stack.client("s3").head_object(Bucket=h.deps.blobs.bucket, Key=key)
    obj = {"key": key, "size": len(FEED), "eTag": head["ETag"].strip('"')}
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": h.deps.blobs.bucket},
            "object": {**obj, "versionId": head["VersionId"]},
        },
    }
    # When S3 delivers that event again, twice
    again = [h.stack.invoke("StartFunction", {"Records": [record]}) for _ in range(2)]
    # Then both redeliveries name the first run, and the history holds only it
    assert [a["runs"][0]["run_id"] for a in again] == [first, first]
    assert h.wait_run(shop.tenant, first).status == "succeeded"
    assert _history(h, shop.tenant, profile.profile_id) == [first]


def test_a_scheduled_trigger_during_a_run_is_recorded_as_skipped(h: Harness) -> None:
    # Given a run in progress (held in Fetch)
    tenant, profile_id = _shop_and_profile(h)
    release = threading.Event()
    h.stack.faults["FetchFunction"] = lambda event: release.wait(20) and None
    try:
        running = api.start(h.deps, tenant, profile_id, "manual", None)
        # When the schedule fires, and the scheduler retries that same fire time
        fire = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        cmd = StartCommand(
            tenant_id=tenant,
            profile_id=profile_id,
            trigger="schedule",
            scheduled_time=fire,
            idempotency_key=fire.isoformat(),
        )
        skipped = start_run(h.deps, cmd)
        retried = start_run(h.deps, cmd)
    finally:
        release.set()
        h.stack.faults.pop("FetchFunction", None)
    # Then it is one skipped run saying why, and the running run is untouched
    assert skipped.status == "skipped" and (skipped.reason or "").startswith("already_running")
    assert retried.run_id == skipped.run_id
    assert h.wait_run(tenant, running.run_id).status == "succeeded"
    assert sorted(_history(h, tenant, profile_id)) == sorted([running.run_id, skipped.run_id])


def test_a_scheduled_fire_on_a_disabled_profile_is_recorded_as_skipped(h: Harness) -> None:
    # Given a profile the merchant disabled
    tenant, profile_id = _shop_and_profile(h)
    api.patch_profile(h.deps, tenant, profile_id, PatchProfile(enabled=False))
    # When its schedule fires anyway (e.g. before the schedule was updated)
    fire = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    cmd = StartCommand(
        tenant_id=tenant, profile_id=profile_id, trigger="schedule", scheduled_time=fire
    )
    run = start_run(h.deps, cmd)
    # Then the history shows a skipped run saying why, and nothing ran
    assert run.status == "skipped" and (run.reason or "").startswith("profile_disabled")
    assert [r.status for r in h.deps.repo.list_runs(tenant, profile_id)] == ["skipped"]


def test_credentials_are_not_kept_when_the_source_moves_to_another_server(h: Harness) -> None:
    # Given a URL source with a bearer token
    shop = h.shop([simple_product("Mug", "MUG-9", "5.00", 3)])
    url = h.feed_url(FEED)
    source = {
        "type": "url",
        "url": url,
        "auth": {"type": "bearer"},
        "credentials": {"token": "tok-123"},
    }
    profile = h.profile(shop, source)
    assert profile.public()["source"]["has_credentials"] is True  # type: ignore[index]
    assert "tok-123" not in json.dumps(profile.public())
    # When only the path changes, then the token is kept
    moved_path = {"type": "url", "url": url + "?v=2", "auth": {"type": "bearer"}}
    same = api.patch_profile(
        h.deps, shop.tenant, profile.profile_id, PatchProfile(source=moved_path)
    )
    assert same.public()["source"]["has_credentials"] is True  # type: ignore[index]
    # When the host changes without new credentials, then the token is dropped
    elsewhere = {"type": "url", "url": "http://localhost:9/feed.csv", "auth": {"type": "bearer"}}
    moved = api.patch_profile(
        h.deps, shop.tenant, profile.profile_id, PatchProfile(source=elsewhere)
    )
    assert moved.public()["source"]["has_credentials"] is False  # type: ignore[index]
