"""The fakes keep the ports' contracts, so a step that passes on them is not fooled."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ConditionFailed, FakeBlobStore, FakeExecutions, World, variant

from feedsync.errors import NotFound
from feedsync.models import RunSummary


def test_the_run_lock_is_taken_once_and_released_only_by_its_holder(world: World) -> None:
    # Given a profile
    world.profile(world.store([variant(1, 1, "A")]))
    # When two runs try to take its lock, Then exactly the first gets it
    assert world.repo.acquire_run_lock("t1", "p1", "run_a", since=world.clock()) is True
    assert world.repo.acquire_run_lock("t1", "p1", "run_b", since=world.clock()) is False
    # When another run releases it, Then it stays held
    summary = RunSummary(run_id="run_b", status="failed")
    world.repo.release_run_lock("t1", "p1", "run_b", summary, synced=False)
    assert world.profile_record().current_run_id == "run_a"
    # When its holder releases it, Then it is free and the profile ready again
    world.repo.release_run_lock("t1", "p1", "run_a", summary, synced=False)
    assert world.profile_record().current_run_id is None
    assert world.profile_record().status == "ready"
    assert world.repo.acquire_run_lock("t1", "p1", "run_b", since=world.clock()) is True
    # and a missing profile has no lock to take
    assert world.repo.acquire_run_lock("t1", "nope", "run_c", since=world.clock()) is False


def test_an_idempotency_key_is_claimed_once(world: World) -> None:
    assert world.repo.claim_idempotency_key("t1", "k", "run_a") is None
    assert world.repo.claim_idempotency_key("t1", "k", "run_b") == "run_a"
    world.repo.drop_idempotency_key("t1", "k")
    assert world.repo.claim_idempotency_key("t1", "k", "run_c") is None


def test_updates_need_the_item_and_shard_progress_needs_the_map(world: World) -> None:
    with pytest.raises(ConditionFailed):
        world.repo.update_run("t1", "missing", status="failed")
    with pytest.raises(ConditionFailed):
        world.repo.set_shard_progress("t1", "missing", 0, 1)


def test_a_conditional_upload_refuses_a_stale_etag(tmp_path: Path) -> None:
    # Given an object read with its ETag, then replaced by another writer
    blobs = FakeBlobStore()
    blobs.put_bytes("k", b"one")
    _, etag = blobs.open_read_tagged("k")
    blobs.put_bytes("k", b"two")
    path = tmp_path / "new"
    path.write_bytes(b"mine")
    # When the first reader writes conditionally, Then it is refused, the other's kept
    assert blobs.upload_file_if_match(str(path), "k", etag) is False
    assert blobs.get_bytes("k") == b"two"
    # When it reads again and writes with the fresh ETag, Then its write lands
    _, etag = blobs.open_read_tagged("k")
    assert blobs.upload_file_if_match(str(path), "k", etag) is True
    assert blobs.get_bytes("k") == b"mine"
    # and a missing object is NotFound, as the S3 adapter says
    with pytest.raises(NotFound):
        blobs.get_bytes("missing")
    assert blobs.head("missing") is None


def test_an_execution_name_starts_once() -> None:
    executions = FakeExecutions()
    first = executions.start("run_a", {"n": 1})
    assert executions.start("run_a", {"n": 2}) == first
    assert executions.started == {"run_a": {"n": 1}} and executions.status("run_a") == "RUNNING"
    assert executions.status("run_b") is None
