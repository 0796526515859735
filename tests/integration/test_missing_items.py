"""missing: zero_stock through the state machine: exactly the items this profile wrote
before and today's file lacks get stock 0 (issue 13)."""

from __future__ import annotations

from integration_harness import Harness, simple_product

STORE = [simple_product(f"M{i}", f"MIS-{i}", "10.00", 5) for i in range(4)]


def test_zero_stock_zeroes_exactly_what_this_profile_wrote_before(h: Harness) -> None:
    # Given a profile that wrote the stock of MIS-0..2 (MIS-3 is in the store, never listed)
    shop = h.shop(STORE)
    first = "SKU,Price,Qty\n" + "".join(f"MIS-{i},10.00,9\n" for i in range(3))
    profile = h.url_profile(shop, first, missing="zero_stock")
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
    # When today's file lists MIS-0 and MIS-1 only
    url = h.feed_url("SKU,Price,Qty\nMIS-0,10.00,9\nMIS-1,10.00,9\n")
    h.deps.repo.update_profile(shop.tenant, profile.profile_id, source={"type": "url", "url": url})
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then MIS-2 alone went to 0; MIS-3 (never written by this profile) kept its stock
    assert run.status == "succeeded", run.error
    stock = {sku: value[1] for sku, value in h.store_values(shop).items()}
    assert stock == {"MIS-0": 9, "MIS-1": 9, "MIS-2": 0, "MIS-3": 5}
    assert run.counts["missing"] == 1
    assert run.log_key is not None
    log = h.deps.blobs.get_bytes(run.log_key).decode().splitlines()
    assert log[-1].startswith("4,MIS-2,") and ",missing,stock: 9 -> 0," in log[-1]
