"""Moving a profile to another store (PATCH /profiles/{id} with ``store_id``): checked as a
new profile is, refused while it runs, and what it remembers of the old store's items is
forgotten (those ids mean nothing in the new store)."""

from __future__ import annotations

from datetime import datetime

import pytest
from fakes import World

from feedsync.core import api
from feedsync.core.written import (
    load_dismissed,
    load_refused,
    load_written,
    open_conflicts,
    remember_refused,
    remember_written,
    save_conflicts,
    save_dismissed,
)
from feedsync.domain.conflicts import Conflict as StoreEdit
from feedsync.domain.refusals import Refusal
from feedsync.errors import Conflict, InvalidRequest
from feedsync.models import PatchProfile, Profile

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]
NOW = datetime.fromisoformat("2026-05-01T10:00:00+00:00")


def _move(world: World, store_id: str, **more: object) -> Profile:
    body = PatchProfile.model_validate({"store_id": store_id, **more})
    return api.patch_profile(world.deps, world.tenant, "p1", body)


def _remember_the_old_store(world: World) -> None:
    """A written ledger, an open and a dismissed conflict and a refused item of store s1."""
    t, p = world.tenant, "p1"
    remember_written(world.deps, t, p, {11: {"price": [900, 1000]}})
    edit = StoreEdit(1, "A-1", 1, 11, "price", 1200, 1000, 900)
    save_conflicts(world.deps, t, p, [edit], "run_0", NOW)
    save_dismissed(world.deps, t, p, {(11, "stock"): 5})
    refusal = Refusal({"price": 1000}, "price below cost", "run_0", NOW.isoformat(), "A-1")
    remember_refused(world.deps, t, p, {("update_variant", 11): refusal}, {}, {})


def test_a_moved_profile_forgets_what_it_wrote_to_the_old_store(world: World) -> None:
    # Given a profile of store s1 that wrote there, has conflicts and a refused item
    world.profile(world.store(CATALOG))
    world.store(CATALOG, store_id="s2")
    _remember_the_old_store(world)
    assert load_written(world.deps, world.tenant, "p1")
    # When it is moved to store s2
    moved = _move(world, "s2")
    # Then it syncs to s2 and remembers nothing of s1's items
    assert moved.store_id == "s2"
    assert load_written(world.deps, world.tenant, "p1") == {}
    assert open_conflicts(world.deps, world.tenant, "p1") == []
    assert load_dismissed(world.deps, world.tenant, "p1") == {}
    assert load_refused(world.deps, world.tenant, "p1") == {}


def test_other_edits_keep_what_the_profile_remembers(world: World) -> None:
    # Given a profile with a ledger of its store
    world.profile(world.store(CATALOG))
    _remember_the_old_store(world)
    # When it is renamed (or "moved" to the store it already has)
    _move(world, "s1", name="renamed")
    # Then the ledger and the conflicts are kept
    assert load_written(world.deps, world.tenant, "p1") == {(11, "price"): 1000}
    assert len(open_conflicts(world.deps, world.tenant, "p1")) == 1


def test_moving_to_an_unknown_store_is_a_422_naming_store_id(world: World) -> None:
    # Given a profile, When it is moved to a store this tenant does not have
    world.profile(world.store(CATALOG))
    with pytest.raises(InvalidRequest) as refused:
        _move(world, "s9")
    # Then the refusal names the field and the store
    assert refused.value.field == "store_id"
    assert "s9" in refused.value.message


def test_moving_while_it_runs_is_refused_and_forgets_nothing(world: World) -> None:
    # Given a running profile with a ledger, and a second store
    profile = world.profile(world.store(CATALOG))
    world.store(CATALOG, store_id="s2")
    _remember_the_old_store(world)
    world.run(profile)
    # When it is moved, Then it is refused as already running
    with pytest.raises(Conflict) as refused:
        _move(world, "s2")
    assert refused.value.reason == "already_running"
    # And nothing changed
    assert world.profile_record().store_id == "s1"
    assert load_written(world.deps, world.tenant, "p1")


def test_fields_the_new_platform_cannot_write_are_a_422(world: World) -> None:
    # Given a profile writing the sale price, and an Amazon store (no sale price there)
    world.profile(
        world.store(CATALOG), fields=["price", "stock", "sale_price"], mapping={
            "sku": "SKU", "price": "Price", "stock": "Qty", "sale_price": "Sale"
        },
    )  # fmt: skip
    world.store(
        CATALOG,
        store_id="s2",
        platform="amazon",
        options={"seller_id": "A1SELLER01", "marketplace_id": "A1PA6795UKMFR9"},
    )
    # When it is moved there, Then the fields are refused and it stays where it was
    with pytest.raises(InvalidRequest) as refused:
        _move(world, "s2")
    assert refused.value.field == "fields"
    assert world.profile_record().store_id == "s1"
