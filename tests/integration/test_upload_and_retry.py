"""Upload-triggered runs (S3 notification -> StartFunction) and ASL retries of transient errors."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests
from integration_harness import Harness, cents, simple_product

from feedsync.core import api
from feedsync.errors import Conflict, StoreUnavailable


def test_presigned_upload_starts_a_run_that_succeeds(h: Harness) -> None:
    # Given an upload-source profile with no file yet
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    with pytest.raises(Conflict) as refused:
        h.start(shop.tenant, profile.profile_id)
    assert refused.value.reason == "no_file"

    # When the merchant PUTs the file to a presigned URL
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "june feed.csv")
    assert grant["method"] == "PUT"
    assert grant["key"].startswith(f"uploads/{shop.tenant}/{profile.profile_id}/")
    assert grant["key"].endswith("/june_feed.csv")
    body = b"SKU,Price,Qty\r\nGLV-1,16.25,4\r\n"
    resp = requests.put(grant["upload_url"], data=body, timeout=30)
    assert resp.status_code == 200, resp.text

    # Then the S3 notification started a run with trigger "upload" ...
    deadline = time.monotonic() + 30
    while not (runs := h.deps.repo.list_runs(shop.tenant, profile.profile_id)):
        assert time.monotonic() < deadline, "no run started by the upload"
        time.sleep(0.02)
    assert len(runs) == 1
    run = h.wait_run(shop.tenant, runs[0].run_id)
    assert run.trigger == "upload"
    # ... that succeeded on the uploaded bytes
    assert run.status == "succeeded", run.error
    assert {k: run.source[k] for k in ("type", "file", "size")} == {
        "type": "upload",
        "file": "june_feed.csv",
        "size": len(body),
    }
    # and how the file was read is on record (issue 3: encoding, delimiter, format)
    assert run.source["format"]["encoding"] == "utf-8"
    assert run.source["format"]["delimiter"] == ","
    assert run.counts["updated"] == 1
    assert h.execution(run.run_id)["status"] == "SUCCEEDED"
    (variant,) = h.sandbox.variants(shop.store_hash)
    assert (cents(variant["price"]), variant["inventory_level"]) == (1625, 4)
    # ... and the profile remembers the file
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.upload_key == grant["key"] and prof.uploaded_at is not None
    assert prof.status == "ready" and prof.current_run_id is None
    assert prof.last_run is not None and prof.last_run.run_id == run.run_id

    # When a manual start follows, it re-reads the same uploaded file
    manual = h.run_to_end(shop.tenant, profile.profile_id)
    assert manual.status == "succeeded" and manual.trigger == "manual"
    assert manual.counts["unchanged"] == 1 and manual.counts["updated"] == 0


def _runs_once_there(h: Harness, tenant: str, profile_id: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 30
    while len(runs := h.deps.repo.list_runs(tenant, profile_id)) < count:
        assert time.monotonic() < deadline, f"{len(runs)} runs, expected {count}"
        time.sleep(0.02)
    return runs


def test_the_upload_curl_sends_as_a_form_stores_the_bytes(h: Harness) -> None:
    # Given an upload-source profile and its presigned URL
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    body = b"SKU,Price,Qty\r\nGLV-1,17.50,9\r\n"
    # When the file is PUT as `curl -X PUT --data-binary @stock.csv URL` sends it (labelled
    # a form)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    resp = requests.put(grant["upload_url"], data=body, headers=form, timeout=30)
    assert resp.status_code == 200, resp.text
    # Then the bytes were stored whole and synced
    assert h.deps.blobs.get_bytes(grant["key"]) == body
    (started,) = _runs_once_there(h, shop.tenant, profile.profile_id, 1)
    run = h.wait_run(shop.tenant, started.run_id)
    assert run.status == "succeeded", run.error
    (variant,) = h.sandbox.variants(shop.store_hash)
    assert (cents(variant["price"]), variant["inventory_level"]) == (1750, 9)


def test_an_empty_upload_is_refused_and_the_last_file_kept(h: Harness) -> None:
    # Given an upload profile whose first file was synced
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    first = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    requests.put(first["upload_url"], data=b"SKU,Price,Qty\nGLV-1,16.00,3\n", timeout=30)
    (synced,) = _runs_once_there(h, shop.tenant, profile.profile_id, 1)
    h.wait_run(shop.tenant, synced.run_id)
    # When an empty file is uploaded
    empty = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    assert requests.put(empty["upload_url"], data=b"", timeout=30).status_code == 200
    # Then the history says it was refused and why, and the profile keeps its last file
    skipped = _runs_once_there(h, shop.tenant, profile.profile_id, 2)[0]
    assert skipped.status == "skipped" and skipped.trigger == "upload"
    assert skipped.reason is not None and skipped.reason.startswith("empty_upload: stock.csv")
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof is not None and prof.upload_key == first["key"]


def test_an_empty_put_to_the_same_url_does_not_replace_the_kept_file(h: Harness) -> None:
    # Given an upload profile whose file came through a presigned URL and was synced
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    requests.put(grant["upload_url"], data=b"SKU,Price,Qty\nGLV-1,16.00,3\n", timeout=30)
    (synced,) = _runs_once_there(h, shop.tenant, profile.profile_id, 1)
    h.wait_run(shop.tenant, synced.run_id)
    # When an empty file is PUT to the same URL (it takes PUTs for an hour), then Start
    requests.put(grant["upload_url"], data=b"", timeout=30)
    skipped = _runs_once_there(h, shop.tenant, profile.profile_id, 2)[0]
    assert skipped.status == "skipped", skipped.reason
    manual = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the run reads the file that was kept (its S3 version), not the empty one
    assert manual.status == "succeeded", manual.error
    assert manual.source["size"] == len(b"SKU,Price,Qty\nGLV-1,16.00,3\n")


def test_an_upload_while_a_run_is_active_is_kept_and_recorded(h: Harness) -> None:
    # Given an upload profile with a file, and a run holding its lock
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    assert h.deps.repo.acquire_run_lock(
        shop.tenant, profile.profile_id, "run_busy", since=h.deps.clock()
    )
    # When a new file is uploaded
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv")
    requests.put(grant["upload_url"], data=b"SKU,Price,Qty\nGLV-1,18.00,3\n", timeout=30)
    # Then it is the profile's file, and the history says it did not start and why
    (skipped,) = _runs_once_there(h, shop.tenant, profile.profile_id, 1)
    assert skipped.status == "skipped" and skipped.trigger == "upload"
    assert skipped.reason is not None and skipped.reason.startswith("already_running:")
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof is not None and prof.upload_key == grant["key"]


def test_an_upload_whose_start_fails_is_kept_in_the_start_failure_queue(h: Harness) -> None:
    # Given an upload-source profile, and a start function that fails (say DynamoDB is down)
    shop = h.shop([simple_product("Belt", "BLT-1", "20.00", 1)])
    profile = h.profile(shop, {"type": "upload"})
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "july.csv")

    def down(event: dict[str, Any]) -> None:
        raise RuntimeError("DynamoDB is unavailable")

    h.stack.faults["StartFunction"] = down
    sqs = h.stack.client("sqs")
    queue_arn = h.stack.on_failure["StartFunction"]
    url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]

    # When the merchant uploads the file (S3 invokes the start function asynchronously)
    resp = requests.put(grant["upload_url"], data=b"SKU,Price,Qty\r\nBLT-1,21.00,2\r\n", timeout=30)
    assert resp.status_code == 200, resp.text

    # Then the failed invocation lands in the start function's on-failure queue, with the
    # S3 event naming the upload and the error, as Lambda's destination record has them
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not records:
        assert time.monotonic() < deadline, "the failed start reached no queue"
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        records += [json.loads(m["Body"]) for m in got.get("Messages", [])]
    # (an S3 event carries the key URL-encoded)
    mine = [r for r in records if unquote_plus(_s3_key(r["requestPayload"])) == grant["key"]]
    assert len(mine) == 1, records
    (record,) = mine
    assert record["requestContext"]["functionArn"].startswith(
        h.stack.functions["StartFunction"].arn
    )
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "DynamoDB is unavailable"
    # ... and no run started
    assert h.deps.repo.list_runs(shop.tenant, profile.profile_id) == []


def _s3_key(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["object"]["key"])


class FakeRetryClock:
    """Stands in for the ``time`` module of moto's ASL retrier: a Retry's wait passes at
    once on a virtual clock, and the intervals asked for are kept for the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fast_asl_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """moto's ASL Retry waits (``time.sleep(IntervalSeconds)``) on a fake clock.

    Only the ``time`` name inside moto's retrier module is replaced, and only for this
    test; the requested intervals are returned so the test can still assert the ASL's
    own Retry settings (UpdateShard: IntervalSeconds 5) were the ones applied.
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    clock = FakeRetryClock()
    monkeypatch.setattr(retrier_decl, "time", clock)
    return clock.slept


def test_transient_store_error_is_retried_and_the_run_succeeds(
    h: Harness, fast_asl_retries: list[float]
) -> None:
    # Given the update step fails once with StoreUnavailable, then works
    shop = h.shop([simple_product("Scarf", "SCF-1", "12.00", 2)])
    profile = h.url_profile(shop, "SKU,Price,Qty\nSCF-1,13.00,5\n")
    calls: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any]) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise StoreUnavailable("store answered 503 Service Unavailable")

    h.stack.faults["UpdateFunction"] = flaky

    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the shard was retried after UpdateShard's interval and the run succeeded
    assert run.status == "succeeded", run.error
    assert len(calls) == 2 and calls[0] == calls[1]
    assert fast_asl_retries == [5]
    assert run.counts["updated"] == 1 and run.counts["failed"] == 0
    (variant,) = h.sandbox.variants(shop.store_hash)
    assert (cents(variant["price"]), variant["inventory_level"]) == (1300, 5)
    assert h.execution(run.run_id)["status"] == "SUCCEEDED"


def _pending_upload(h: Harness, tenant: str, profile_id: str) -> Any:
    """The profile's stored-only upload, once the S3 notification has recorded it."""
    deadline = time.monotonic() + 30
    while True:
        prof = h.deps.repo.get_profile(tenant, profile_id)
        if prof is not None and prof.pending_upload is not None:
            return prof
        assert time.monotonic() < deadline, "the stored upload was not recorded"
        time.sleep(0.02)


def test_an_upload_sent_with_start_false_is_stored_and_a_later_start_syncs_it(
    h: Harness,
) -> None:
    # Given an upload profile with no file yet (Start is refused: no_file)
    shop = h.shop([simple_product("Glove", "GLV-1", "15.00", 3)])
    profile = h.profile(shop, {"type": "upload"})
    (view,) = api.profile_views(h.deps, shop.tenant, [profile])
    assert view["start_blocked"]["reason"] == "no_file"
    # When a file is PUT to an upload URL asked for with start: false
    grant = api.upload_url(h.deps, shop.tenant, profile.profile_id, "stock.csv", start=False)
    assert grant["start"] is False and grant["headers"] == {}
    body = b"SKU,Price,Qty\nGLV-1,17.50,9\n"
    assert requests.put(grant["upload_url"], data=body, timeout=30).status_code == 200
    # Then the profile holds it as its pending upload, no run started, and Start is offered
    prof = _pending_upload(h, shop.tenant, profile.profile_id)
    pending = prof.pending_upload
    assert (pending.key, pending.size, pending.file_name) == (grant["key"], len(body), "stock.csv")
    assert pending.version is not None and prof.upload_version == pending.version
    time.sleep(0.5)  # the notification was handled; give a wrongly started run time to show
    assert h.deps.repo.list_runs(shop.tenant, profile.profile_id) == []
    (view,) = api.profile_views(h.deps, shop.tenant, [prof])
    assert view["can_start"] is True and view["pending_upload"]["file_name"] == "stock.csv"
    # When the merchant clicks Start
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the run syncs the stored file and the profile has nothing pending any more
    assert run.status == "succeeded", run.error
    assert run.trigger == "manual" and run.source["size"] == len(body)
    (variant,) = h.sandbox.variants(shop.store_hash)
    assert (cents(variant["price"]), variant["inventory_level"]) == (1750, 9)
    after = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert after is not None and after.pending_upload is None
