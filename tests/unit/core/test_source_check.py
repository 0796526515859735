"""An automatic schedule's fire checks its source before any run exists (core/source_check.py).

Unchanged: one profile read, the probe, one profile write; no claim, lock, run, execution
or event. Everything else goes on to the start path as before.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import FakeRepository, World, variant

from feedsync.core.start import start_run
from feedsync.core.steps.fetch import fetch
from feedsync.errors import SourceUnchanged
from feedsync.models import FetchInput, Profile, RunRef, StartCommand

URL = "https://supplier.example/stock.csv"
FEED = b"SKU,Price,Qty\nA-1,10.00,5\n"
AUTOMATIC = {"type": "automatic", "every_minutes": 15}
FIRE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class CallLog:
    """The repository, every call to it named in order (what an unchanged check costs)."""

    def __init__(self, repo: FakeRepository) -> None:
        self.repo, self.calls = repo, list[str]()

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.repo, name)


def fire(world: World, at: datetime = FIRE, key: str | None = None) -> StartCommand:
    return StartCommand(
        tenant_id=world.tenant,
        profile_id="p1",
        trigger="schedule",
        scheduled_time=at,
        idempotency_key=key or at.isoformat(),
    )


def synced(world: World, *, etag: str | None = "v1", **settings: Any) -> Profile:
    """An automatic profile whose last run synced the file the server serves now."""
    world.fetcher.serve(URL, FEED, etag=etag)
    profile = world.profile(
        world.store([variant(1, 1, "A-1")]),
        source={"type": "url", "url": URL},
        **{"schedule": AUTOMATIC, **settings},
    )
    last = {"type": "url", "url": URL, "etag": etag, "sha256": hashlib.sha256(FEED).hexdigest()}
    world.repo.update_profile(world.tenant, "p1", last_source=last)
    return profile


def no_run_started(world: World) -> bool:
    return not world.executions.started and not world.repo.list_runs(world.tenant, "p1")


def test_an_unchanged_url_costs_one_read_one_probe_and_one_write(world: World) -> None:
    # Given an automatic profile whose server answers the last ETag with 304
    synced(world)
    log = CallLog(world.repo)
    world.deps.repo = log  # type: ignore[assignment]
    # When the schedule fires
    with pytest.raises(SourceUnchanged) as unchanged:
        start_run(world.deps, fire(world))
    # Then the fire read the profile, sent one conditional GET and wrote the check: no
    # idempotency claim, lock, run record or execution
    assert log.calls == ["get_profile", "record_source_check"]
    assert [(url, last and last["etag"]) for url, last, _ in world.fetcher.probes] == [(URL, "v1")]
    assert world.fetcher.requests == []  # nothing downloaded
    assert no_run_started(world)
    assert "not modified (304)" in unchanged.value.message
    # And the profile shows the check
    profile = world.profile_record()
    assert profile.checks == 1 and profile.last_checked_at == world.clock()
    assert profile.current_run_id is None and profile.status == "ready"


def test_a_retried_fire_of_an_unchanged_file_only_checks_again(world: World) -> None:
    # Given an unchanged source whose fire was checked once
    synced(world)
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))
    # When Scheduler delivers the same fire again, a minute later
    world.clock.advance(60)
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))
    # Then still no run; the profile counts both checks, the last at the retry's time
    assert no_run_started(world)
    assert world.profile_record().checks == 2
    assert world.profile_record().last_checked_at == world.clock()


def test_a_changed_url_starts_the_run_and_its_fetch_marks_the_change(world: World) -> None:
    # Given a source checked unchanged twice, then republished with a new ETag
    synced(world)
    for minutes in (0, 15):
        with pytest.raises(SourceUnchanged):
            start_run(world.deps, fire(world, FIRE + timedelta(minutes=minutes)))
    world.fetcher.serve(URL, b"SKU,Price,Qty\nA-1,11.00,5\n", etag="v2")
    # When the next fire comes
    run = start_run(world.deps, fire(world, FIRE + timedelta(minutes=30)))
    # Then the run is queued and its execution started
    assert run.status == "queued" and list(world.executions.started) == [run.run_id]
    # When its Fetch reads the new file, Then the profile says it changed now and counts
    # its unchanged checks from there
    world.clock.advance(5)
    ref = RunRef(tenant_id=world.tenant, run_id=run.run_id, profile_id="p1", store_id="s1")
    fetch(world.deps, FetchInput(run=ref))
    profile = world.profile_record()
    assert profile.last_changed_at == world.clock() and profile.checks == 0


def test_a_fetch_of_the_same_file_leaves_the_change_time(world: World) -> None:
    # Given a profile whose last synced file is served again, changed an hour ago
    synced(world)
    an_hour_ago = world.clock() - timedelta(hours=1)
    world.repo.update_profile(world.tenant, "p1", last_changed_at=an_hour_ago, checks=3)
    # When a manual run fetches it
    fetch(world.deps, FetchInput(run=world.run(world.profile_record(), trigger="manual")))
    # Then nothing says it changed
    profile = world.profile_record()
    assert profile.last_changed_at == an_hour_ago and profile.checks == 3


def test_a_server_without_validators_cannot_tell_so_the_run_starts(world: World) -> None:
    # Given the last file came from a server that sends no ETag or Last-Modified
    synced(world, etag=None)
    # When the schedule fires
    run = start_run(world.deps, fire(world))
    # Then the probe could not tell: the run starts (its Fetch compares the sha256)
    assert run.status == "queued" and run.run_id in world.executions.started
    assert world.profile_record().checks == 0


def test_a_probe_that_fails_starts_the_run_so_it_fails_with_its_cause(world: World) -> None:
    # Given the supplier's file is gone
    synced(world)
    world.fetcher.files.clear()
    # When the schedule fires
    run = start_run(world.deps, fire(world))
    # Then it is no "unchanged": the run starts, and its Fetch will fail naming the cause
    assert run.status == "queued" and run.run_id in world.executions.started
    assert world.profile_record().checks == 0


def test_an_edited_url_is_not_asked_with_the_old_files_validators(world: World) -> None:
    # Given the profile now points at another URL the server serves with the same ETag
    synced(world)
    other = URL.replace("stock", "stock-2")
    world.fetcher.serve(other, FEED, etag="v1")
    world.repo.update_profile(world.tenant, "p1", source={"type": "url", "url": other})
    # When the schedule fires
    run = start_run(world.deps, fire(world))
    # Then the probe was unconditional and the run starts
    assert world.fetcher.probes == [(other, None, None)]
    assert run.status == "queued"


def test_a_manual_start_and_an_interval_schedule_never_probe(world: World) -> None:
    # Given an unchanged source on an automatic profile
    synced(world)
    # When the merchant starts it, Then it runs without a probe
    manual = StartCommand(tenant_id=world.tenant, profile_id="p1", trigger="manual")
    run = start_run(world.deps, manual)
    assert run.status == "queued" and world.fetcher.probes == []
    # Given an interval profile with an unchanged source (its lock freed)
    other = World(world.deps.work_dir)
    synced(other, schedule={"type": "interval", "every_minutes": 15})
    # When it fires, Then it runs: only automatic schedules check for changes
    assert start_run(other.deps, fire(other)).status == "queued"
    assert other.fetcher.probes == []


def test_a_blackout_skip_stays_a_skipped_run_and_probes_nothing(world: World) -> None:
    # Given an automatic profile with a night black-out and an unchanged source
    night = {**AUTOMATIC, "timezone": "UTC", "blackouts": [{"start": "20:00", "end": "04:00"}]}
    synced(world, schedule=night)
    # When it fires at 22:00
    run = start_run(world.deps, fire(world, FIRE.replace(hour=22)))
    # Then the black-out is in the history as before, and the source was not asked
    assert run.status == "skipped" and "black-out" in (run.reason or "")
    assert world.fetcher.probes == [] and not world.executions.started
    # When it fires in the day, Then the check skips the tenant settings (its own zone)
    log = CallLog(world.repo)
    world.deps.repo = log  # type: ignore[assignment]
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world, FIRE.replace(hour=10)))
    assert log.calls == ["get_profile", "record_source_check"]


def test_an_already_running_profile_records_its_skip_without_probing(world: World) -> None:
    # Given an unchanged source on a profile whose previous run still runs
    profile = synced(world)
    held = world.run(profile, trigger="schedule", run_id="run_busy")
    world.executions.start(held.run_id, {})
    # When the schedule fires
    run = start_run(world.deps, fire(world))
    # Then the history says it was already running, as before; nothing was probed
    assert run.status == "skipped" and "already_running" in (run.reason or "")
    assert world.fetcher.probes == []


def test_a_default_schedule_follows_the_tenants_automatic_one(world: World) -> None:
    # Given a profile on the tenant's schedule, which is automatic
    from feedsync.models import TenantSettings

    synced(world, schedule={"type": "default"})
    world.repo.put_tenant_settings(
        TenantSettings.model_validate({"tenant_id": world.tenant, "schedule": AUTOMATIC})
    )
    # When it fires with the file unchanged, Then it is a check (the settings read for it)
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))
    assert no_run_started(world) and world.profile_record().checks == 1


def test_an_upload_profiles_fire_checks_the_uploaded_version(world: World) -> None:
    # Given an automatic upload profile whose last run synced version 3 of its upload
    world.profile(
        world.store([variant(1, 1, "A-1")]), source={"type": "upload"}, schedule=AUTOMATIC
    )
    key = "uploads/t1/p1/up_1/june.csv"
    world.blobs.put_bytes(key, FEED)
    world.repo.update_profile(world.tenant, "p1", upload_key=key, upload_version="3")
    last = {"type": "upload", "file": "june.csv", "size": len(FEED), "version": f"{key}#3"}
    world.repo.update_profile(world.tenant, "p1", last_source=last)
    # When the schedule fires, Then the same version is a check, with no request at all
    with pytest.raises(SourceUnchanged) as unchanged:
        start_run(world.deps, fire(world))
    assert no_run_started(world) and "same uploaded version" in unchanged.value.message
    # When a new version is uploaded (the upload trigger's own run aside), Then the next
    # fire runs it
    world.repo.update_profile(world.tenant, "p1", upload_version="4")
    run = start_run(world.deps, fire(world, FIRE + timedelta(minutes=15)))
    assert run.status == "queued" and run.run_id in world.executions.started
