"""Preview, apply, retry and revert end to end (issue 12), on each platform's double.

Through the real state machine on moto: a preview writes nothing; applying it writes what
a direct run writes, with as many requests; an apply can take selected keys or the next N
items; a store value the merchant changed after the preview is ``stale`` and kept; a
retry sends only the failed items; a revert puts the before-image back except where the
store moved on; an expired plan or before-image is 410. Store state is read from the
double, write requests and the items they carried are counted at the double.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest
from integration_harness import Harness
from review_support import (
    ITEMS,
    OLD_PRICE,
    OLD_STOCK,
    PLATFORMS,
    SEEDED,
    SKUS,
    WANTED,
    Shop,
    changes,
    log_of,
    preview,
    seeded,
    statuses,
    wait_round,
)

from feedsync.core import review
from feedsync.core.steps import match as match_step
from feedsync.core.steps import select as select_step
from feedsync.errors import Conflict, Gone
from feedsync.models import ApplyBody, Run
from feedsync.platforms.registry import capabilities_for

BATCH = 2  # items a write batch carries in these tests (Shopify's variant writes: one product)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two items a batch (the platforms' own limits are 50-250): six items, several batches,
    in the plan a run makes (match) and the one an apply, retry or revert makes (select)."""

    def capabilities(name: str, options: Any = None) -> Any:
        caps = capabilities_for(name, options)
        ops = tuple(dataclasses.replace(op, max_batch=min(op.max_batch, BATCH)) for op in caps.ops)
        return dataclasses.replace(caps, ops=ops)

    monkeypatch.setattr(match_step, "capabilities_for", capabilities)
    monkeypatch.setattr(select_step, "capabilities_for", capabilities)


def apply(h: Harness, shop: Shop, run: Run, **body: Any) -> Run:
    """``POST /runs/{id}/apply`` and wait for the round to end."""
    started = review.apply_run(h.deps, shop.tenant, run.run_id, ApplyBody(**body))
    assert started.status == "queued"
    return wait_round(h, shop.tenant, started)


def lock_free(h: Harness, shop: Shop, run: Run) -> None:
    profile = h.deps.repo.get_profile(shop.tenant, run.profile_id)
    assert profile is not None and profile.current_run_id is None, profile


def previewed(h: Harness, shop: Shop) -> Run:
    """A preview of the feed on the seeded store, checked: every change pending, no write."""
    profile = shop.profile(h)
    before = shop.writes()
    run = preview(h, shop, profile)
    assert run.status == "previewed", (run.status, run.error)
    assert shop.writes() == before
    assert statuses(h, run) == {sku: {"pending"} for sku in SKUS}
    return run


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_preview_writes_nothing_and_applying_it_all_writes_what_a_direct_run_does(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given two stores seeded alike, a price and a stock change for each of six items
    shop = seeded(h, request, platform)
    twin = seeded(h, request, platform, twin=True)
    # When the first previews the file
    before = shop.writes()
    run = previewed(h, shop)
    # Then the preview sent no write request, left the store as seeded, planned every change
    assert shop.writes() == before and shop.values() == SEEDED
    lines = changes(h, run)
    assert {(x.key, x.field): (x.store_value, x.new_value) for x in lines} == {
        **{(s, "price"): (OLD_PRICE, WANTED[s][0]) for s in SKUS},
        **{(s, "stock"): (OLD_STOCK, WANTED[s][1]) for s in SKUS},
    }
    assert run.counts["pending"] == ITEMS
    lock_free(h, shop, run)
    # When it is applied whole, and the twin store takes the same file in a direct run
    applied = apply(h, shop, run)
    direct_before = twin.writes()
    direct = h.run_to_end(twin.tenant, twin.profile(h).profile_id)
    # Then both stores hold the file's values, with as many write requests each
    assert applied.status == "succeeded" and direct.status == "succeeded", applied.error
    assert shop.values() == WANTED == twin.values()
    assert shop.writes() - before == twin.writes() - direct_before > 0
    assert statuses(h, applied) == {sku: {"updated"} for sku in SKUS}
    assert applied.counts["updated"] == ITEMS
    lock_free(h, shop, applied)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_applying_selected_keys_changes_only_those_items(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a previewed run of six items
    shop = seeded(h, request, platform)
    run = previewed(h, shop)
    chosen = [SKUS[1], SKUS[4]]
    # When the merchant applies two of them
    before = shop.writes()
    applied = apply(h, shop, run, keys=chosen)
    # Then only those two changed in the store, only they were sent, the rest wait
    assert applied.status == "partially_applied", (applied.status, applied.error)
    assert shop.values() == {s: WANTED[s] if s in chosen else SEEDED[s] for s in SKUS}
    assert shop.carried(0) == set(chosen) and shop.writes() > before
    assert statuses(h, applied) == {s: {"updated"} if s in chosen else {"pending"} for s in SKUS}
    assert applied.counts["updated"] == 2 and applied.counts["pending"] == ITEMS - 2
    lock_free(h, shop, applied)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_applying_with_a_limit_three_times_finishes_the_run(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a previewed run of six items
    shop = seeded(h, request, platform)
    run = previewed(h, shop)
    ended = []
    for n in (1, 2, 3):
        # When the next two items are applied
        sent = len(shop.write_bodies())
        run = apply(h, shop, run, limit=2)
        ended.append(run.status)
        # Then the next two in plan order reached the store, the rest are as they were
        done = SKUS[: 2 * n]
        assert shop.values() == {s: WANTED[s] if s in done else SEEDED[s] for s in SKUS}
        assert shop.carried(sent) == set(SKUS[2 * n - 2 : 2 * n])
    # and the run stayed partially applied until nothing was pending
    assert ended == ["partially_applied", "partially_applied", "succeeded"]
    assert statuses(h, run) == {s: {"updated"} for s in SKUS}
    # When a fourth apply is asked, Then it is refused: nothing is pending
    before = shop.writes()
    with pytest.raises(Conflict) as refused:
        review.apply_run(h.deps, shop.tenant, run.run_id, ApplyBody(limit=2))
    assert refused.value.reason == "nothing_pending"
    assert shop.writes() == before
    lock_free(h, shop, run)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_store_values_changed_after_the_preview_are_stale_and_kept(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a previewed run; then the merchant sets one item's price to 11.11 in the store,
    # another item's stock falls to 7 (sales), and a third sells down to 5 while the store
    # now refuses its price (a per-item error)
    shop = seeded(h, request, platform)
    run = previewed(h, shop)
    moved, sold, both = SKUS[2], SKUS[4], SKUS[0]
    shop.edit(moved, 1111)
    shop.sell(sold, 7)
    shop.sell(both, 5)
    shop.refuse(both)
    # When the run is applied whole
    applied = apply(h, shop, run)
    # Then no store value was written over: the store keeps them; the rest is the file's
    assert applied.status == "succeeded", (applied.status, applied.error)
    expected = dict(WANTED)
    expected[moved] = (1111, WANTED[moved][1])
    expected[sold] = (WANTED[sold][0], 7)
    expected[both] = (OLD_PRICE, 5)
    assert shop.values() == expected
    # and the changes that met a moved store value are stale; the refused price is failed
    # (a retry sends it), not stale
    moved_on = {(x.key, x.field): x.status for x in changes(h, applied) if x.status != "updated"}
    assert moved_on == {
        (moved, "price"): "stale",
        (sold, "stock"): "stale",
        (both, "stock"): "stale",
        (both, "price"): "failed",
    }
    # and the log line of a stale row holds both values
    log = log_of(h, applied)
    assert log[moved]["status"] == "stale" == log[sold]["status"], (log[moved], log[sold])
    assert "11.11" in log[moved]["error"] and "10.00" in log[moved]["error"], log[moved]
    assert re.search(r"\b7\b", log[sold]["error"]) and re.search(r"\b1\b", log[sold]["error"])
    assert log[both]["status"] == "failed", log[both]
    counts = applied.counts
    assert (counts["stale"], counts["failed"], counts["updated"]) == (2, 1, ITEMS - 3), counts


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_retry_sends_only_the_failed_items(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a direct run in which the store refused two items
    shop = seeded(h, request, platform)
    refused = {SKUS[1], SKUS[4]}
    for sku in refused:
        shop.refuse(sku)
    profile = shop.profile(h)
    first = h.run_to_end(shop.tenant, profile.profile_id)
    assert first.status == "succeeded" and first.counts["failed"] == 2, first.counts
    assert {s for s, st in statuses(h, first).items() if "failed" in st} == refused
    # When the store accepts them again and the merchant retries the failed ones
    shop.accept_all()
    writes, sent = shop.writes(), len(shop.write_bodies())
    started = review.retry_run(h.deps, shop.tenant, first.run_id)
    retry = h.wait_run(shop.tenant, started.run_id)
    # Then a new run, a retry of the first, sent only the failed items and succeeded
    assert retry.run_id != first.run_id
    assert retry.trigger == "retry" and retry.parent_run_id == first.run_id
    assert retry.status == "succeeded", (retry.status, retry.error)
    assert shop.carried(sent) == refused
    assert {line.key for line in changes(h, retry)} == refused
    assert shop.writes() - writes == RETRY_WRITES[platform]
    assert shop.values() == WANTED
    assert retry.counts["updated"] == 2 and retry.counts["failed"] == 0, retry.counts
    lock_free(h, shop, retry)


# Write requests a retry of two refused items sends, with two items a batch: BigCommerce
# and WooCommerce carry both items' price and stock in one batch (a variant batch with
# ``inventory_level``, a product batch); Shopify refused the price only (stock is set by
# another mutation) and writes variants one product a request.
RETRY_WRITES = {"bigcommerce": 1, "shopify": 2, "woocommerce": 1}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_revert_restores_the_before_image_except_what_changed_since(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a direct run that wrote six items; then the merchant set one price by hand and
    # another item's stock fell to 7 (sales)
    shop = seeded(h, request, platform)
    profile = shop.profile(h)
    first = h.run_to_end(shop.tenant, profile.profile_id)
    assert first.status == "succeeded" and shop.values() == WANTED, first.error
    moved, sold = SKUS[3], SKUS[5]
    shop.edit(moved, 1111)
    shop.sell(sold, 7)
    # When the run is reverted
    started = review.revert_run(h.deps, shop.tenant, first.run_id)
    revert = h.wait_run(shop.tenant, started.run_id)
    # Then every value the run wrote is back as seeded, but the store's newer ones are kept
    assert revert.trigger == "revert" and revert.parent_run_id == first.run_id
    assert revert.status == "succeeded", (revert.status, revert.error)
    expected = dict(SEEDED)
    expected[moved] = (1111, OLD_STOCK)
    expected[sold] = (OLD_PRICE, 7)
    assert shop.values() == expected
    # and the revert's log names those items stale, with the value found
    log = log_of(h, revert)
    assert log[moved]["status"] == "stale" and "11.11" in log[moved]["error"], log[moved]
    assert log[sold]["status"] == "stale" and re.search(r"\b7\b", log[sold]["error"]), log[sold]
    assert revert.counts["stale"] == 2 and revert.counts["updated"] == ITEMS - 2
    # and the reverted run's changes say what was put back
    parent = h.deps.repo.get_run(shop.tenant, first.run_id)
    assert parent is not None
    kept = {(x.key, x.field): x.status for x in changes(h, parent)}
    assert kept.pop((moved, "price")) == "updated" == kept.pop((sold, "stock"))
    assert set(kept.values()) == {"reverted"}
    lock_free(h, shop, revert)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_plan_or_before_image_answers_gone(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a preview made 8 days ago (plans are kept 7)
    shop = seeded(h, request, platform)
    run = previewed(h, shop)
    h.deps.repo.update_run(shop.tenant, run.run_id, created_at=run.created_at - timedelta(days=8))
    before = shop.writes()
    # When it is applied, Then it is gone, and nothing was sent or locked
    with pytest.raises(Gone, match="no longer kept"):
        review.apply_run(h.deps, shop.tenant, run.run_id, ApplyBody())
    assert shop.writes() == before and shop.values() == SEEDED
    lock_free(h, shop, run)
    # Given a direct run made 31 days ago (before-images are kept 30)
    direct = h.run_to_end(shop.tenant, run.profile_id)
    assert direct.status == "succeeded" and shop.values() == WANTED, direct.error
    created = direct.created_at - timedelta(days=31)
    h.deps.repo.update_run(shop.tenant, direct.run_id, created_at=created)
    before = shop.writes()
    # When it is reverted, Then it is gone too, and the store keeps what the run wrote
    with pytest.raises(Gone, match="no longer kept"):
        review.revert_run(h.deps, shop.tenant, direct.run_id)
    assert shop.writes() == before and shop.values() == WANTED
    lock_free(h, shop, direct)
