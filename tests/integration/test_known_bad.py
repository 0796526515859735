"""Known-bad items through the state machine on the BigCommerce double: a refused item is
remembered at finalize and costs one request on the next run (issue 13)."""

from __future__ import annotations

from integration_harness import Harness, Shop, simple_product
from review_support import log_of

from feedsync.core import keys
from feedsync.models import Profile, Run

SKUS = [f"KB-{i}" for i in range(12)]
BAD = "KB-5"


def _feed(prices: dict[str, str]) -> str:
    return "SKU,Price,Qty\n" + "".join(f"{sku},{price},5\n" for sku, price in prices.items())


def _shop(h: Harness) -> Shop:
    """12 items at 10.00, the platform refusing KB-5 whatever it is sent."""
    shop = h.shop([simple_product(sku, sku, "10.00", 5) for sku in SKUS])
    vid = shop.seeded_variant(BAD)["id"]
    h.sandbox.reject_variant(shop.store_hash, vid, "Variant is locked by PIM")
    return shop


def _run(h: Harness, shop: Shop, profile: Profile, prices: dict[str, str]) -> tuple[Run, int]:
    """A run of a file with ``prices``: the run and the write requests it sent."""
    url = h.feed_url(_feed(prices))
    h.deps.repo.update_profile(shop.tenant, profile.profile_id, source={"type": "url", "url": url})
    before = len(h.puts_to(shop))
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "succeeded", (run.status, run.error)
    return run, len(h.puts_to(shop)) - before


def _remembered(h: Harness, shop: Shop, profile: Profile) -> list[str]:
    """The keys of the profile's remembered refusals."""
    key = keys.refused_key(shop.tenant, profile.profile_id)
    if h.deps.blobs.head(key) is None:
        return []
    lines = h.deps.blobs.get_bytes(key).decode().splitlines()[1:]
    return [line.split(",")[3] for line in lines]


def test_a_known_bad_item_costs_one_request_on_the_second_run_and_is_forgotten_once_written(
    h: Harness,
) -> None:
    # Given a first run refused KB-5's new price (the batch of 12 was narrowed down to it)
    shop = _shop(h)
    profile = h.url_profile(shop, _feed({}))
    first, _ = _run(h, shop, profile, dict.fromkeys(SKUS, "11.00"))
    assert log_of(h, first)[BAD]["status"] == "failed"
    assert _remembered(h, shop, profile) == [BAD]
    # When the next file moves every other price and sends KB-5 the same price again
    prices = {**dict.fromkeys(SKUS, "12.00"), BAD: "11.00"}
    second, writes = _run(h, shop, profile, prices)
    # Then the healthy items took one request and KB-5 one of its own, refused again
    assert writes == 2
    log = log_of(h, second)
    assert log[BAD]["status"] == "failed" and "locked by PIM" in log[BAD]["error"]
    assert all(log[sku]["status"] == "updated" for sku in SKUS if sku != BAD)
    assert _remembered(h, shop, profile) == [BAD]
    # When the platform takes KB-5 again and the file gives it another price
    h.sandbox.clear_rejections(shop.store_hash)
    third, writes = _run(h, shop, profile, {**dict.fromkeys(SKUS, "13.00")})
    # Then it is tried with the others (one request for all), written, and forgotten
    assert writes == 1 and log_of(h, third)[BAD]["status"] == "updated"
    assert h.store_values(shop)[BAD][0] == 1300
    assert _remembered(h, shop, profile) == []


def test_skip_sends_nothing_for_a_known_bad_item_and_logs_the_remembered_reason(
    h: Harness,
) -> None:
    # Given a profile that skips known-bad items, and a first run that KB-5 was refused in
    shop = _shop(h)
    profile = h.url_profile(shop, _feed({}), known_bad="skip")
    _run(h, shop, profile, dict.fromkeys(SKUS, "11.00"))
    # When the next file moves every other price and sends KB-5 the same price again
    second, writes = _run(h, shop, profile, {**dict.fromkeys(SKUS, "12.00"), BAD: "11.00"})
    # Then only the healthy items were sent (one request); KB-5 is failed with the
    # remembered reason, and the store still has its old price
    assert writes == 1
    error = log_of(h, second)[BAD]["error"]
    assert error.startswith("not sent: the platform refused this same change before")
    assert "locked by PIM" in error
    assert h.store_values(shop)[BAD][0] == 1000
    assert second.counts["failed"] == 1 and second.counts["updated"] == 11
