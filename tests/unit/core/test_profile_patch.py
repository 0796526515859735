"""PATCH of a profile's maps (limits, conflict policies) merges: the keys sent change,
the others keep their values, so switching one limit off never brings another back on."""

from __future__ import annotations

from fakes import World

from feedsync.core import api
from feedsync.models import PatchProfile

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


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
