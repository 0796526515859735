"""A hand edit in the store survives the next sync as a conflict, on each platform's double,
through the state machine; reapply then writes the feed's value (issue 13)."""

from __future__ import annotations

import pytest
from integration_harness import Harness
from review_support import FEED, PLATFORMS, SKUS, WANTED, seeded

from feedsync.core import review

EDITED = SKUS[0]


def _wait(h: Harness, tenant: str, run_id: str) -> None:
    h.wait_run(tenant, run_id)
    h.execution(run_id)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hand_edited_price_is_kept_as_a_conflict_and_reapplied_on_request(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a first sync that wrote every price, then the merchant's own price for one item
    shop = seeded(h, request, platform)
    profile = shop.profile(h)
    first = h.run_to_end(shop.tenant, profile.profile_id)
    assert first.status == "succeeded" and first.counts["conflicts"] == 0, first.error
    shop.edit(EDITED, 9999)
    # When the next file moves every price up by one cent
    rows = [line.split(",") for line in FEED.splitlines()[1:]]
    feed = "SKU,Price,Qty\n" + "".join(
        f"{sku},{(WANTED[sku][0] + 1) / 100:.2f},{qty}\n" for sku, _price, qty in rows
    )
    url = h.feed_url(feed)
    h.deps.repo.update_profile(shop.tenant, profile.profile_id, source={"type": "url", "url": url})
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the edited price is kept and reported, every other price moved on
    assert run.status == "succeeded", run.error
    held = shop.values()
    assert held[EDITED][0] == 9999
    assert all(held[sku][0] == WANTED[sku][0] + 1 for sku in SKUS[1:])
    assert run.counts["conflicts"] == 1
    [conflict] = review.list_conflicts(h.deps, shop.tenant, profile.profile_id)["conflicts"]
    assert (conflict["key"], conflict["store_value"]) == (EDITED, "99.99")
    assert conflict["last_written"] == f"{WANTED[EDITED][0] / 100:.2f}"
    # When the merchant re-applies it
    started = review.reapply_conflicts(h.deps, shop.tenant, profile.profile_id, None)
    _wait(h, shop.tenant, started.run_id)
    # Then the feed's value is in the store and the conflict is closed
    assert shop.values()[EDITED][0] == WANTED[EDITED][0] + 1
    assert review.list_conflicts(h.deps, shop.tenant, profile.profile_id)["conflicts"] == []
