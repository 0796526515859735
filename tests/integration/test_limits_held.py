"""Safety limits through the state machine: a bad file is held, writes nothing, and is
applied on purpose with POST /runs/{id}/apply (issue 13)."""

from __future__ import annotations

from integration_harness import Harness, simple_product

from feedsync.core import review
from feedsync.models import ApplyBody

SKUS = [f"LIM-{i}" for i in range(10)]
STORE = [simple_product(sku, sku, "10.00", 5) for sku in SKUS]


def _feed(rows: list[tuple[str, str, int]]) -> str:
    return "SKU,Price,Qty\n" + "".join(f"{sku},{price},{qty}\n" for sku, price, qty in rows)


def test_a_file_in_cents_is_held_and_applied_on_purpose(h: Harness) -> None:
    # Given a store at 10.00 and a supplier file in cents (10.00 -> 1000.00)
    shop = h.shop(STORE)
    profile = h.url_profile(shop, _feed([(sku, "1000", 5) for sku in SKUS]), limits={})
    before = h.store_values(shop)
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then it is held naming the price rule, and nothing reached the store
    assert run.status == "held", (run.status, run.error)
    [reason] = run.held_reasons
    assert reason["rule"] == "max_price_change_pct" and reason["measured"] == 9900
    assert h.puts_to(shop) == [] and h.store_values(shop) == before
    assert h.execution(run.run_id)["status"] == "SUCCEEDED"
    # When the merchant applies it on purpose
    review.apply_run(h.deps, shop.tenant, run.run_id, ApplyBody())
    applied = h.wait_run(shop.tenant, run.run_id)
    # Then its plan reached the store
    assert applied.status == "succeeded", applied.error
    assert {sku: value[0] for sku, value in h.store_values(shop).items()} == dict.fromkeys(
        SKUS, 100_000
    )


def test_a_half_empty_file_after_a_good_sync_is_held(h: Harness) -> None:
    # Given a profile that synced a full file once (stock 5 -> 7 everywhere)
    shop = h.shop(STORE)
    full = _feed([(sku, "10.00", 7) for sku in SKUS])
    profile = h.url_profile(shop, full, limits={"max_changed_share": None})
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
    writes = len(h.puts_to(shop))
    # When the next file has 4 of its 10 rows, zeroing their stock
    half = h.feed_url(_feed([(sku, "10.00", 0) for sku in SKUS[:4]]))
    h.deps.repo.update_profile(shop.tenant, profile.profile_id, source={"type": "url", "url": half})
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then it is held by the rows rule and the zero-stock rule, and writes nothing
    assert run.status == "held", (run.status, run.error)
    rules = {reason["rule"]: reason for reason in run.held_reasons}
    assert rules["min_rows_share"]["measured"] == 0.4
    assert rules["max_zero_stock_share"]["measured"] == 1.0  # all 4 matched items
    assert len(h.puts_to(shop)) == writes
    assert all(stock == 7 for _price, stock in h.store_values(shop).values())
