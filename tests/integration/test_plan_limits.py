"""Plan limits: over the plan, a profile is held with the reason; within it, released."""

from __future__ import annotations

import pytest
from integration_harness import Harness, simple_product

from feedsync.core import api, plans
from feedsync.errors import Conflict
from feedsync.models import Plan

FEED = "SKU,Price,Qty\nPEN-1,2.50,9\nPEN-2,3.50,9\nPEN-3,4.50,9\n"
PRODUCTS = [simple_product(f"Pen {i}", f"PEN-{i}", "2.00", 9) for i in (1, 2, 3)]


def test_profiles_over_the_plan_are_held_and_released_when_a_slot_frees(h: Harness) -> None:
    # Given a plan of two profiles
    shop = h.shop(PRODUCTS)
    plans.set_plan(h.deps, shop.tenant, Plan(max_profiles=2))
    first, second = h.url_profile(shop, FEED), h.url_profile(shop, FEED)
    # When a third profile is created
    third = h.url_profile(shop, FEED)
    held = api.get_profile(h.deps, shop.tenant, third.profile_id)
    # Then it exists but is disabled with the reason, and cannot start
    assert not held.enabled and "allows 2 profiles" in (held.disabled_reason or "")
    with pytest.raises(Conflict) as refused:
        api.start(h.deps, shop.tenant, third.profile_id, "manual", None)
    assert refused.value.reason == "profile_disabled"
    assert "allows 2 profiles" in refused.value.message
    # When one of the first two is deleted, then the third is released and runs
    api.delete_profile(h.deps, shop.tenant, first.profile_id)
    released = api.get_profile(h.deps, shop.tenant, third.profile_id)
    assert released.enabled and released.disabled_reason is None
    assert h.run_to_end(shop.tenant, third.profile_id).status == "succeeded"
    assert api.get_profile(h.deps, shop.tenant, second.profile_id).enabled


def test_a_file_over_the_plans_rows_fails_and_holds_the_profile_until_the_plan_grows(
    h: Harness,
) -> None:
    # Given a plan of two rows per file and a three-row feed
    shop = h.shop(PRODUCTS)
    plans.set_plan(h.deps, shop.tenant, Plan(max_rows=2))
    profile = h.url_profile(shop, FEED)
    before = h.store_values(shop)
    # When it runs
    failed = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the run failed naming the limit, the store is untouched, the profile is held
    assert failed.status == "failed" and "the plan allows 2 rows" in (failed.error or "")
    assert h.store_values(shop) == before
    held = api.get_profile(h.deps, shop.tenant, profile.profile_id)
    assert not held.enabled and "3 rows" in (held.disabled_reason or "")
    # When the plan is raised, then the profile is released and syncs
    assert plans.set_plan(h.deps, shop.tenant, Plan(max_rows=10)) == [profile.profile_id]
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"


def test_a_merchants_own_disable_is_left_alone(h: Harness) -> None:
    # Given a profile the merchant disabled, on a plan of one profile
    shop = h.shop(PRODUCTS)
    mine = h.url_profile(shop, FEED, enabled=False)
    plans.set_plan(h.deps, shop.tenant, Plan(max_profiles=1))
    # When the plan grows, then it stays disabled (the plan did not disable it)
    plans.set_plan(h.deps, shop.tenant, Plan(max_profiles=5))
    again = api.get_profile(h.deps, shop.tenant, mine.profile_id)
    assert not again.enabled and again.disabled_reason is None


def test_a_plan_with_a_longer_minimum_interval_holds_faster_schedules(h: Harness) -> None:
    # Given a profile every 15 minutes
    shop = h.shop(PRODUCTS)
    profile = h.url_profile(shop, FEED, schedule={"type": "interval", "every_minutes": 15})
    # When the plan's minimum becomes 60 minutes
    plans.set_plan(h.deps, shop.tenant, Plan(min_interval_minutes=60))
    held = api.get_profile(h.deps, shop.tenant, profile.profile_id)
    # Then the profile is held (and its EventBridge schedule disabled) with the reason
    assert not held.enabled and "shortest interval is 60 minutes" in (held.disabled_reason or "")
    group = h.stack.env["SCHEDULE_GROUP"]
    scheduler = h.stack.client("scheduler")
    stored = scheduler.get_schedule(GroupName=group, Name=profile.profile_id)
    assert stored["State"] == "DISABLED"
    # When the plan allows 15 minutes again, then it is released and scheduled again
    plans.set_plan(h.deps, shop.tenant, Plan(min_interval_minutes=15))
    assert api.get_profile(h.deps, shop.tenant, profile.profile_id).enabled
    stored = scheduler.get_schedule(GroupName=group, Name=profile.profile_id)
    assert stored["State"] == "ENABLED"


def test_the_tables_profile_count_is_the_tenants_profiles_only(h: Harness) -> None:
    # Given a tenant with a store, three profiles and a run, and another tenant's profile
    shop = h.shop(PRODUCTS)
    profiles = [h.url_profile(shop, FEED) for _ in range(3)]
    h.run_to_end(shop.tenant, profiles[0].profile_id)
    other = h.shop(PRODUCTS, tenant="another-tenant")
    h.url_profile(other, FEED)
    # When DynamoDB counts the first tenant's profiles (what a create checks the plan with)
    counted = h.deps.repo.count_profiles(shop.tenant)
    # Then it is the three, not the store, the run or the other tenant's profile
    assert counted == len(h.deps.repo.list_profiles(shop.tenant)) == 3
