"""A profile edit that changes what a run writes forgets the last synced file, so the next
automatic fire syncs with the new settings; a move is a conditional write against the run
lock; stored credentials never follow the source to another server or host key."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import World, variant
from test_source_check import FEED, URL, fire, synced

from feedsync.core import api
from feedsync.core.start import start_run
from feedsync.core.steps.fetch import fetch
from feedsync.core.written import load_written, remember_written
from feedsync.errors import Conflict, SourceUnchanged
from feedsync.models import FetchInput, PatchProfile, Profile, RunSummary

PIN = "SHA256:" + "k" * 43
OTHER_PIN = "SHA256:" + "z" * 43
MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty"}


def _patch(world: World, **body: Any) -> Profile:
    return api.patch_profile(world.deps, world.tenant, "p1", PatchProfile.model_validate(body))


@pytest.mark.parametrize(
    "change",
    [
        {"store_id": "s2"},
        {"mapping": {"sku": "SKU", "price": "Price", "stock": "Quantity"}},
        {"fields": ["stock"]},
        {"match_by": "sku_then_barcode", "mapping": {**MAPPING, "barcode": "EAN"}},
        {"format": {"type": "csv", "delimiter": ";"}},
        {"key_transform": {"prefix": "X-"}},
        {"rules": {"sku_case_insensitive": True}},
        {"source": {"type": "url", "url": URL + "?v=2"}},
    ],
    ids=lambda change: "+".join(change),
)
def test_a_setting_that_changes_what_runs_write_makes_the_next_fire_run(
    world: World, change: dict[str, Any]
) -> None:
    # Given an automatic profile whose last run synced the file the server still serves
    synced(world, mapping=MAPPING)
    world.store([variant(1, 1, "A-1")], store_id="s2")
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))
    # When the merchant changes a setting that changes what a run would write
    _patch(world, **change)
    # Then the last synced file is forgotten and the next fire starts a run
    assert world.profile_record().last_source is None
    run = start_run(world.deps, fire(world, key="next"))
    assert run.status == "queued"
    assert world.executions.started


def test_a_rename_or_a_schedule_edit_keeps_checking_the_file(world: World) -> None:
    # Given an automatic profile whose file is unchanged
    synced(world)
    # When it is renamed and its schedule's interval changes
    _patch(world, name="renamed", schedule={"type": "automatic", "every_minutes": 30})
    # Then the fire still finds the last synced file: a check, no run
    assert world.profile_record().last_source is not None
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))


def test_a_setting_sent_with_its_current_value_keeps_the_last_file(world: World) -> None:
    # Given an automatic profile whose file is unchanged
    synced(world, fields=["price", "stock"])
    # When a PATCH sends the fields it already has
    _patch(world, fields=["price", "stock"])
    # Then nothing changed: the fire is a check
    with pytest.raises(SourceUnchanged):
        start_run(world.deps, fire(world))


def test_a_file_a_run_synced_while_the_settings_changed_does_not_stop_the_next_fire(
    world: World,
) -> None:
    # Given an automatic profile whose scheduled run fetched a new file with the old mapping
    profile = synced(world, mapping=MAPPING)
    world.fetcher.serve(URL, FEED + b"B-2,3.00,1\n", etag="v2")
    ref = world.run(profile, trigger="schedule")
    fetch(world.deps, FetchInput(run=ref))
    # When the mapping is changed while that run goes on, and the run then ends, its
    # Finalize recording the file it synced as the last one (core/steps/finalize.py)
    _patch(world, mapping={**MAPPING, "stock": "Quantity"})
    world.repo.update_profile(world.tenant, "p1", last_source=world.run_record(ref).source)
    done = RunSummary(run_id=ref.run_id, status="succeeded", finished_at=world.clock())
    world.repo.release_run_lock(world.tenant, "p1", ref.run_id, done, synced=True)
    # Then the next fire still starts a run: that file was synced with other settings
    run = start_run(world.deps, fire(world, key="after-the-edit"))
    assert run.status == "queued"


def test_a_move_racing_a_run_start_is_a_409_and_keeps_the_old_store(world: World) -> None:
    # Given a profile of store s1 that wrote there, and a store s2
    world.profile(world.store([variant(1, 11, "A-1")]))
    world.store([variant(1, 11, "A-1")], store_id="s2")
    remember_written(world.deps, world.tenant, "p1", {11: {"price": [900, 1000]}})
    # and a run that takes the lock between the move's read and its write
    read_profile = world.repo.get_profile

    def read_then_a_run_starts(tenant_id: str, profile_id: str) -> Profile | None:
        seen = read_profile(tenant_id, profile_id)
        world.repo.acquire_run_lock(tenant_id, profile_id, "run_racing", world.clock())
        return seen

    world.deps.repo.get_profile = read_then_a_run_starts  # type: ignore[method-assign]
    # When the profile is moved to s2
    with pytest.raises(Conflict) as refused:
        _patch(world, store_id="s2")
    # Then the move is refused naming the run, and the profile keeps s1 and its ledger
    assert refused.value.reason == "already_running"
    assert "run_racing" in refused.value.message
    world.deps.repo.get_profile = read_profile  # type: ignore[method-assign]
    assert world.profile_record().store_id == "s1"
    assert load_written(world.deps, world.tenant, "p1") == {(11, "price"): 1000}


def _sftp(host: str = "sftp.example", pin: str = PIN, **more: Any) -> dict[str, Any]:
    return {"type": "sftp", "host": host, "port": 22, "username": "shop", "path": "/stock.csv",
            "host_key_fingerprint": pin, **more}  # fmt: skip


@pytest.mark.parametrize(
    "moved", [{"pin": OTHER_PIN}, {"host": "elsewhere.example"}], ids=["pin", "host"]
)
def test_stored_sftp_credentials_do_not_follow_a_new_host_key_or_host(
    world: World, moved: dict[str, str]
) -> None:
    # Given an SFTP profile whose password is stored for one server and host key
    world.profile(world.store([variant(1, 1, "A-1")]))
    _patch(world, source=_sftp(credentials={"password": "s3cret"}))
    assert world.profile_record().source.secret_ref  # type: ignore[union-attr]
    # When a PATCH points it at another host key (or host) without new credentials
    patched = _patch(world, source=_sftp(**moved))
    # Then the stored password is dropped (no secret goes to the new server)
    assert patched.source.secret_ref is None  # type: ignore[union-attr]
    assert patched.public()["source"]["has_credentials"] is False  # type: ignore[index]


def test_stored_sftp_credentials_stay_for_the_same_pin_written_without_padding(
    world: World,
) -> None:
    # Given an SFTP profile whose password is stored
    world.profile(world.store([variant(1, 1, "A-1")]))
    _patch(world, source=_sftp(pin=PIN + "=", credentials={"password": "s3cret"}))
    # When only the path changes (the pin as ssh-keygen prints it, without "=")
    patched = _patch(world, source=_sftp(path="/other.csv"))
    # Then the password is kept
    assert patched.public()["source"]["has_credentials"] is True  # type: ignore[index]
