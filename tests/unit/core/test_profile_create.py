"""Creating a profile checks only the new one against the plan: its cost does not grow with
the tenant's profile count (every profile was read and decoded on each create: 3 s a create
at 250 profiles on the local stack)."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import World

from feedsync.core import api, plans
from feedsync.models import Plan, ProfileSettings

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


def _body(world: World, store_id: str, **settings: Any) -> ProfileSettings:
    return ProfileSettings.model_validate(
        {
            "name": "new profile",
            "store_id": store_id,
            "source": {"type": "url", "url": "https://supplier.example/stock.csv"},
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
            **settings,
        }
    )


def test_a_create_never_reads_the_tenants_profiles(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tenant with 50 profiles on a plan of 100, whose profile list may not be read
    store = world.store(CATALOG)
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=100))
    for n in range(50):
        world.profile(store, profile_id=f"p{n:03d}")

    def no_listing(tenant_id: str) -> list[Any]:
        raise AssertionError("a create read every profile of the tenant")

    monkeypatch.setattr(world.repo, "list_profiles", no_listing)
    # When one more is created, Then it is stored, enabled and scheduled
    created = api.create_profile(world.deps, world.tenant, _body(world, store.store_id))
    stored = world.repo.get_profile(world.tenant, created.profile_id)
    assert stored is not None and stored.enabled and stored.disabled_reason is None


def test_a_create_over_the_plan_is_held_with_the_reason_and_the_others_stay_enabled(
    world: World,
) -> None:
    # Given a plan of two profiles, both in use
    store = world.store(CATALOG)
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=2))
    first = world.profile(store, profile_id="p1")
    second = world.profile(store, profile_id="p2")
    # When a third is created
    third = api.create_profile(world.deps, world.tenant, _body(world, store.store_id))
    # Then it is stored held, naming the plan, and the first two stay enabled
    stored = world.repo.get_profile(world.tenant, third.profile_id)
    assert stored is not None and not stored.enabled
    assert stored.disabled_reason == "plan: the plan allows 2 profiles"
    for kept in (first, second):
        profile = world.repo.get_profile(world.tenant, kept.profile_id)
        assert profile is not None and profile.enabled
    # And a freed slot releases it, as before
    api.delete_profile(world.deps, world.tenant, first.profile_id)
    released = world.repo.get_profile(world.tenant, third.profile_id)
    assert released is not None and released.enabled
