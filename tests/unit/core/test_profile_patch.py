"""PATCH of a profile's maps (limits, conflict policies) merges: the keys sent change,
the others keep their values, so switching one limit off never brings another back on."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import World

from feedsync.core import api, plans
from feedsync.errors import Conflict
from feedsync.models import PatchProfile, Plan, ProfileSettings

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


def _profile_body(store_id: str, **settings: Any) -> ProfileSettings:
    return ProfileSettings.model_validate(
        {
            "name": "new profile",
            "store_id": store_id,
            "source": {"type": "url", "url": "https://supplier.example/stock.csv"},
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
            **settings,
        }
    )


def test_patching_one_limit_keeps_the_others_as_they_were(world: World) -> None:
    # Given a profile with the row-count rule off and a tighter price rule
    profile = world.profile(
        world.store(CATALOG), limits={"min_rows_share": None, "max_price_change_pct": 20}
    )
    # When only the changed-share limit is patched
    body = PatchProfile.model_validate({"limits": {"max_changed_share": 0.2}})
    updated = api.patch_profile(world.deps, world.tenant, profile.profile_id, body)
    # Then it changed, and the others are what the merchant set before (not the defaults)
    assert updated.limits.max_changed_share == 0.2
    assert updated.limits.min_rows_share is None
    assert updated.limits.max_price_change_pct == 20
    assert updated.limits.max_zero_stock_share == 0.3  # never set: the default


def test_null_switches_one_limit_off_and_nothing_else(world: World) -> None:
    # Given a profile whose changed-share limit was raised
    profile = world.profile(world.store(CATALOG), limits={"max_changed_share": 0.8})
    # When one rule is patched to null
    body = PatchProfile.model_validate({"limits": {"max_zero_stock_share": None}})
    updated = api.patch_profile(world.deps, world.tenant, profile.profile_id, body)
    # Then that one is off and the others still hold
    assert updated.limits.max_zero_stock_share is None
    assert updated.limits.max_changed_share == 0.8
    assert updated.limits.min_rows_share == 0.5


def test_patching_one_conflict_policy_keeps_the_others(world: World) -> None:
    # Given a profile where the feed wins on price
    profile = world.profile(world.store(CATALOG), conflicts={"price": "feed_wins"})
    # When the policy for the sale price is patched
    body = PatchProfile.model_validate({"conflicts": {"sale_price": "feed_wins"}})
    updated = api.patch_profile(world.deps, world.tenant, profile.profile_id, body)
    # Then both policies hold
    assert updated.conflicts == {"price": "feed_wins", "sale_price": "feed_wins"}


def test_enabling_a_profile_the_plan_holds_is_refused_with_the_reason(world: World) -> None:
    # Given a plan of one profile and a second profile, held by the plan
    store = world.store(CATALOG)
    plans.set_plan(world.deps, world.tenant, Plan(max_profiles=1))
    world.profile(store, profile_id="p1")
    created = api.create_profile(world.deps, world.tenant, _profile_body(store.store_id))
    assert not created.enabled
    # When the merchant enables it
    with pytest.raises(Conflict) as refused:
        api.patch_profile(world.deps, world.tenant, created.profile_id, PatchProfile(enabled=True))
    # Then it is a 409 that names the plan's limit, and the profile is unchanged
    assert refused.value.reason == "over_plan"
    assert "the plan allows 1 profiles" in refused.value.message
    stored = world.repo.get_profile(world.tenant, created.profile_id)
    assert stored is not None and not stored.enabled


def test_enabling_with_the_change_that_fits_the_plan_is_taken(world: World) -> None:
    # Given a profile held because it runs more often than the plan allows
    store = world.store(CATALOG)
    created = api.create_profile(
        world.deps,
        world.tenant,
        _profile_body(store.store_id, schedule={"type": "interval", "every_minutes": 15}),
    )
    plans.set_plan(world.deps, world.tenant, Plan(min_interval_minutes=60))
    held = world.repo.get_profile(world.tenant, created.profile_id)
    assert held is not None and not held.enabled
    # When it is enabled together with an hourly schedule
    body = PatchProfile.model_validate(
        {"enabled": True, "schedule": {"type": "interval", "every_minutes": 60}}
    )
    updated = api.patch_profile(world.deps, world.tenant, created.profile_id, body)
    # Then it runs again, with no reason left
    assert updated.enabled and updated.disabled_reason is None
