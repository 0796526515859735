"""A tenant the operator disabled, on the local stack (the real table, the real ASL): its
scheduled fires are ``skipped`` runs with the reason (an automatic schedule probes nothing),
and once enabled its next fire syncs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integration_harness import Harness, simple_product

from feedsync.core import tenants
from feedsync.core.start import start_run
from feedsync.models import StartCommand

FEED = "SKU,Price,Qty\nDIS-1,21.00,7\n"
REASON = "invoice 88 unpaid"


def _fire(tenant: str, profile_id: str, at: datetime) -> StartCommand:
    return StartCommand(
        tenant_id=tenant, profile_id=profile_id, trigger="schedule", scheduled_time=at,
        idempotency_key=at.isoformat(),
    )  # fmt: skip


def test_a_disabled_tenants_fire_is_skipped_with_the_reason_until_enabled(h: Harness) -> None:
    # Given an automatic profile of a tenant the operator has disabled
    shop = h.shop([simple_product("Dish", "DIS-1", "20.00", 4)])
    automatic = {"type": "automatic", "every_minutes": 15}
    profile = h.url_profile(shop, FEED, schedule=automatic)
    tenants.disable(h.deps, shop.tenant, REASON)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # When its schedule fires
    skipped = start_run(h.deps, _fire(shop.tenant, profile.profile_id, t0))
    # Then a skipped run says why; no execution, no lock, no source check
    assert skipped.status == "skipped"
    assert skipped.reason == f"tenant_disabled: the tenant is disabled: {REASON}"
    held = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert held is not None and held.current_run_id is None and held.checks == 0
    # When the operator enables it and the next fire comes
    tenants.enable(h.deps, shop.tenant)
    later = start_run(h.deps, _fire(shop.tenant, profile.profile_id, t0 + timedelta(minutes=15)))
    # Then that fire syncs the file
    done = h.wait_run(shop.tenant, later.run_id)
    assert done.status == "succeeded" and done.counts["updated"] == 1
    assert h.store_values(shop)["DIS-1"] == (2100, 7)
