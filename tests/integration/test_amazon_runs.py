"""A sync through the real state machine into an Amazon seller account (its local double):
the catalog from the listings report, prices and quantities through a listings feed."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator

import pytest
from integration_harness import Harness

from feedsync.core import api, keys
from feedsync.models import CreateStore, Store
from feedsync.platforms.amazon.connector import AmazonConnector
from feedsync.platforms.amazon.jobs import Polling
from feedsync_local.amazon_double import AmazonDouble


@pytest.fixture
def amazon(monkeypatch: pytest.MonkeyPatch) -> Iterator[AmazonDouble]:
    """The double on the real clock, processing in a fraction of a second, and the
    connector looking at reports and feeds as often (Amazon takes minutes)."""
    quick = Polling(first_s=0.05, cap_s=0.5, patience_s=30.0, min_s=0.02)
    monkeypatch.setattr(AmazonConnector, "polling", quick)
    with AmazonDouble() as double:
        double.state.queue_s = 0.05
        double.state.report_s = double.state.feed_min_s = 0.1
        double.seed(
            [
                {
                    "sku": "AZ-1",
                    "name": "Kettle",
                    "price": 3000,
                    "quantity": 3,
                    "upc": "012345678905",
                },
                {"sku": "AZ-2", "name": "Toaster", "price": 1010, "quantity": 0},
                {"sku": "AZ-3", "name": "Blender", "price": 500, "quantity": 1},
            ]
        )
        yield double


def _store(h: Harness, tenant: str, amazon: AmazonDouble) -> Store:
    body = CreateStore.model_validate(
        {
            "name": "amazon",
            "platform": "amazon",
            "api_url": amazon.endpoint,
            "credentials": {
                "client_id": amazon.client_id,
                "client_secret": amazon.client_secret,
                "refresh_token": amazon.refresh_token,
            },
            "options": {
                "seller_id": amazon.seller_id,
                "marketplace_id": amazon.marketplace_id,
                "token_url": amazon.token_url,
            },
        }
    )
    store = api.create_store(h.deps, tenant, body)
    deadline = time.monotonic() + 30
    while True:
        got = h.deps.repo.get_store(tenant, store.store_id)
        if got is not None and got.status != "setting_up":
            assert got.status == "ready", got.error
            return got
        assert time.monotonic() < deadline, "catalog import did not finish"
        time.sleep(0.01)


def _log(h: Harness, tenant: str, run_id: str) -> dict[str, dict[str, str]]:
    run = h.deps.repo.get_run(tenant, run_id)
    assert run is not None
    text = h.deps.blobs.get_bytes(keys.log_key(tenant, run_id)).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def test_a_run_writes_prices_and_quantities_to_amazon(h: Harness, amazon: AmazonDouble) -> None:
    # Given a seller with three listings, one of which Amazon refuses a price for
    amazon.reject_sku("AZ-3", "The price is below the minimum allowed for this item", "8572")
    tenant = h.tenant()
    store = _store(h, tenant, amazon)
    assert store.variant_count == 3
    feed = "SKU,Price,Qty\nAZ-1,32.00,3\nAZ-2,10.10,9\nAZ-3,4.00,1\nAZ-X,1.00,1\n"
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)})
    # When the sync runs through the state machine
    run = h.run_to_end(tenant, profile.profile_id)
    # Then the price and the quantity reached Amazon through one feed
    assert run.status == "succeeded", run.error
    assert run.counts["changed"] == 3 and run.counts["updated"] == 2, run.counts
    assert run.counts["failed"] == 1 and run.counts["not_found"] == 1, run.counts
    kettle, toaster = amazon.listing("AZ-1"), amazon.listing("AZ-2")
    assert kettle is not None and kettle.price_cents == 3200
    assert toaster is not None and toaster.quantity == 9
    assert [what for _, what, _ in amazon.requests_log()].count("createFeed") == 1
    # and the refused one is reported with Amazon's message and code
    log = _log(h, tenant, run.run_id)
    assert log["AZ-3"]["status"] == "failed"
    assert "below the minimum allowed for this item [8572]" in log["AZ-3"]["error"]
    assert log["AZ-1"]["status"] == "updated" and log["AZ-X"]["status"] == "not_found"


def test_a_second_identical_run_changes_nothing(h: Harness, amazon: AmazonDouble) -> None:
    # Given a run that wrote a supplier file
    tenant = h.tenant()
    store = _store(h, tenant, amazon)
    url = h.feed_url("SKU,Price,Qty\nAZ-1,31.00,5\nAZ-2,10.10,2\n")
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": url})
    first = h.run_to_end(tenant, profile.profile_id)
    assert first.status == "succeeded" and first.counts["updated"] == 2, first.counts
    amazon.reset_log()
    # When the same file runs again
    again = h.run_to_end(tenant, profile.profile_id)
    # Then nothing changed and no feed was sent
    assert again.status == "succeeded", again.error
    assert again.counts["changed"] == 0 and again.counts["unchanged"] == 2, again.counts
    assert "createFeed" not in [what for _, what, _ in amazon.requests_log()]
    kettle = amazon.listing("AZ-1")
    assert kettle is not None and (kettle.price_cents, kettle.quantity) == (3100, 5)


def test_a_listing_deleted_since_the_import_is_gone_once(h: Harness, amazon: AmazonDouble) -> None:
    # Given a store imported, then a listing deleted in Seller Central
    tenant = h.tenant()
    store = _store(h, tenant, amazon)
    amazon.delete("AZ-2")
    url = h.feed_url("SKU,Price,Qty\nAZ-1,33.00,3\nAZ-2,11.00,9\n")
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": url})
    # When a run writes both
    run = h.run_to_end(tenant, profile.profile_id)
    # Then the deleted one is gone (Amazon's unknown-SKU issue), the other written
    assert run.status == "succeeded", run.error
    assert (run.counts["updated"], run.counts["gone"], run.counts["failed"]) == (1, 1, 0)
    log = _log(h, tenant, run.run_id)
    assert log["AZ-2"]["status"] == "gone"
    # and the next run no longer finds it
    again = h.run_to_end(tenant, profile.profile_id)
    assert (again.counts["not_found"], again.counts["gone"]) == (1, 0), again.counts


def test_a_listing_fulfilled_by_amazon_gets_its_price_but_never_a_quantity(
    h: Harness, amazon: AmazonDouble
) -> None:
    # Given a listing fulfilled by Amazon (FBA: its stock is Amazon's) and one merchant's
    amazon.seed([{"sku": "AZ-F", "name": "Grinder", "price": 4000, "fulfillment": "AMAZON_NA"}])
    tenant = h.tenant()
    store = _store(h, tenant, amazon)
    feed = "SKU,Price,Qty\nAZ-F,42.00,12\nAZ-1,30.00,8\n"
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)})
    # When a sync writes a price and a quantity to both
    run = h.run_to_end(tenant, profile.profile_id)
    # Then the FBA listing got its price and stayed fulfilled by Amazon
    assert run.status == "succeeded", run.error
    grinder, kettle = amazon.listing("AZ-F"), amazon.listing("AZ-1")
    assert grinder is not None and kettle is not None
    assert (grinder.price_cents, grinder.channel, grinder.quantity) == (4200, "AMAZON_NA", None)
    assert (kettle.price_cents, kettle.quantity) == (3000, 8)
    # for no quantity was sent to it: the feed's messages for it patch the offer only
    sent = [
        message
        for doc in amazon.state.documents.values()
        if doc.body is not None and not doc.result
        for message in json.loads(doc.body)["messages"]
    ]
    paths = {m["sku"]: [p["path"] for p in m["patches"]] for m in sent}
    assert paths["AZ-F"] == ["/attributes/purchasable_offer"]
    assert paths["AZ-1"] == ["/attributes/fulfillment_availability"]
    # and the run says why its quantity was not written
    log = _log(h, tenant, run.run_id)
    assert (
        "stock 12: not written: the listing has no merchant-fulfilled quantity"
        in (log["AZ-F"]["error"])
    ), log["AZ-F"]


def test_a_merchant_listing_with_no_quantity_yet_gets_the_files_quantity(
    h: Harness, amazon: AmazonDouble
) -> None:
    # Given a merchant-fulfilled listing created with a price and no quantity yet
    amazon.seed([{"sku": "AZ-N", "name": "New kettle", "price": 2500, "quantity": None}])
    tenant = h.tenant()
    store = _store(h, tenant, amazon)
    feed = "SKU,Price,Qty\nAZ-N,25.00,6\n"
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)})
    # When a sync writes the file's quantity
    run = h.run_to_end(tenant, profile.profile_id)
    # Then it is written (the listing is the merchant's, not FBA's: no quantity is not "FBA")
    assert run.status == "succeeded", run.error
    kettle = amazon.listing("AZ-N")
    assert kettle is not None and (kettle.quantity, kettle.channel) == (6, "DEFAULT")
    assert run.counts["updated"] >= 1 and run.counts["failed"] == 0
