"""ShopifyConnector against a real ShopifyDouble on loopback (no mocks of HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import requests
from fake_sleep import FakeSleep
from shopify_items import variant_items

from feedsync.domain.content import description_digest, index_value
from feedsync.domain.fields import MODIFIED, REF, VARIANT_ID, VARIANT_POS
from feedsync.domain.plan import build_plan
from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.shopify import bulk as shopify_bulk
from feedsync.platforms.shopify import queries, values
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync.platforms.shopify.values import from_cents, to_cents
from feedsync_local.shopify_double import ShopifyDouble


@pytest.fixture
def double() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as shop:
        yield shop


def _connector(
    double: ShopifyDouble, sleep: FakeSleep | None = None, **kw: Any
) -> ShopifyConnector:
    return ShopifyConnector(
        double.shop_url,
        double.access_token,
        sleep=sleep or FakeSleep(),
        bulk_poll_s=0.02,
        **kw,
        allow_private=True,
    )


def _product(title: str, n: int, *, price: str = "10.00", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "variants": [
            {"sku": f"{title}-{i}", "price": price, "available": 5, **extra} for i in range(n)
        ],
    }


def _graphql_log(double: ShopifyDouble) -> list[dict[str, Any]]:
    return [e for e in double.requests_log() if e.get("graphql")]


# -- money ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "cents"),
    [("12.99", 1299), ("10.0", 1000), ("0", 0), ("0.005", 0), ("0.015", 2), ("-1.50", -150)],
)
def test_money_text_becomes_cents_rounded_half_even(text: str, cents: int) -> None:
    assert to_cents(text) == cents


@pytest.mark.parametrize(
    ("cents", "text"), [(1349, "13.49"), (5, "0.05"), (-5, "-0.05"), (0, "0.00")]
)
def test_cents_become_shopify_decimal_strings(cents: int, text: str) -> None:
    assert from_cents(cents) == text
    assert to_cents(text) == cents


def test_unreadable_money_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        to_cents("12,99")
    assert to_cents(None) is None and from_cents(None) is None


# -- reading ----------------------------------------------------------------------------------
def test_reads_every_variant_with_money_in_cents_and_refs(double: ShopifyDouble) -> None:
    # Given one product with a compare-at price, a cost and content, and one with 25 variants
    # (more than a read page carries per product)
    [simple, big] = double.seed(
        [
            {
                "title": "Mug",
                "updated_at": "2024-03-01T10:00:00Z",
                "description_html": "<p>A  sturdy\n mug</p>",
                "vendor": "Acme",
                "variants": [
                    {
                        "sku": "MUG",
                        "barcode": "0123",
                        "price": "12.99",
                        "compare_at_price": "15.00",
                        "cost": "4.10",
                        "available": 7,
                        "weight": "0.350",
                        "image": "https://supplier.example/img/mug.jpg",
                    }
                ],
            },
            _product("Shirt", 25),
        ]
    )
    # When the connector reads the catalog page by page
    variants = list(_connector(double, bulk_reads=False).iter_variants())
    # Then every variant comes back once, in the port's tuple layout
    assert [v[VARIANT_ID] for v in variants] == [simple["variants"][0]["id"]] + [
        v["id"] for v in big["variants"]
    ]
    mug = variants[0]
    assert mug == (
        simple["id"],
        simple["variants"][0]["id"],
        "MUG",
        "0123",
        1299,
        None,
        1500,
        410,
        7,
        "Mug",
        "2024-03-01T10:00:00Z",
        str(simple["variants"][0]["inventory_item_id"]),
        description_digest("<p>A sturdy mug</p>"),
        "Acme",
        "0.35",
        double.variant(simple["variants"][0]["id"])["image_url"],
        True,  # ACTIVE: on view
    )
    assert mug[VARIANT_POS["image_url"]].startswith("https://cdn.shopify.com/")
    assert variants[1][VARIANT_POS["retail_price"]] is None
    assert variants[1][VARIANT_POS["cost_price"]] is None
    # (no description, vendor or image: None; no weight set: Shopify answers 0)
    assert variants[1][VARIANT_POS["description"] :] == (None, None, "0", None, True)
    assert variants[-1][REF] == str(big["variants"][-1]["inventory_item_id"])
    # And the long product was completed with a product(id) variants page, after the one
    # look-up of the primary location whose stock is read (the page said the weight unit)
    assert double.stats()["by_field"] == {"location": 1, "shop": 1, "products": 1, "product": 1}


def test_reads_page_through_products(double: ShopifyDouble) -> None:
    # Given 7 products and a page of 3 products
    double.seed(_product(f"P{i}", 1) for i in range(7))
    connector = _connector(double, bulk_reads=False)
    connector.page_products = 3
    # When the catalog is read
    skus = [v[VARIANT_POS["sku"]] for v in connector.iter_variants()]
    # Then three pages carried all seven products
    assert skus == [f"P{i}-0" for i in range(7)]
    assert double.stats()["by_field"] == {"location": 1, "shop": 3, "products": 3}


def test_reads_only_products_updated_in_the_range(double: ShopifyDouble) -> None:
    # Given products updated on three different days
    seeded = double.seed(
        [
            {"title": "old", "updated_at": "2024-01-01T00:00:00Z"},
            {"title": "mid", "updated_at": "2024-02-01T00:00:00Z"},
            {"title": "new", "updated_at": "2024-03-01T00:00:00Z"},
        ]
    )
    # When the connector reads with a range that covers only the middle one (bounds inclusive)
    got = list(
        _connector(double).iter_variants(
            datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC)
        )
    )
    # Then only that product's variants come back, with their product's updatedAt
    assert [(v[0], v[MODIFIED]) for v in got] == [(seeded[1]["id"], "2024-02-01T00:00:00Z")]
    sent = double.documents()[-1]["variables"]["query"]
    assert sent == "updated_at:>='2024-02-01T00:00:00Z' updated_at:<='2024-02-15T00:00:00Z'"
    # And a ranged read pages: no bulk query for an incremental refresh
    assert double.bulk_operations() == []


def test_points_spent_add_up_the_actual_costs(double: ShopifyDouble) -> None:
    double.seed(_product(f"P{i}", 2) for i in range(4))
    for bulk in (True, False):
        double.reset_log()
        before = double.stats()["points_spent"]
        connector = _connector(double, FakeSleep(real=True), bulk_reads=bulk)
        list(connector.iter_variants())
        assert connector.points_spent == double.stats()["points_spent"] - before > 0


def test_a_query_over_the_cost_limit_is_a_request_error(double: ShopifyDouble) -> None:
    # Given page sizes that ask for more than 1,000 points in one query
    double.seed([_product("P", 1)])
    connector = _connector(double, bulk_reads=False)
    connector.page_products = 250
    # When reading, Then Shopify's MAX_COST_EXCEEDED surfaces as a request error
    with pytest.raises(StoreRequestError, match="MAX_COST_EXCEEDED"):
        list(connector.iter_variants())


# -- variants_bulk ------------------------------------------------------------------------------
def test_variant_bulk_update_applies_valid_variants_and_reports_bad_ones(
    double: ShopifyDouble,
) -> None:
    # Given a product with 4 variants, one of which the store rejects
    [product] = double.seed([_product("Hat", 4)])
    vids = [v["id"] for v in product["variants"]]
    double.reject_variant(vids[2], "Variant is locked by a subscription", code="INVALID_INPUT")
    items = variant_items(
        product, price=[1000, 1250], retail_price=[None, 1999], cost_price=[None, 300]
    )
    items[1].changes = {"price": [1000, -100]}  # a negative price
    # When the batch is applied
    results = _connector(double).apply("variants_bulk", items, batch_key="run1-0")
    # Then the valid variants were written (prices, compare-at, cost) and each bad one failed alone
    assert results[0] == (True, "") and results[3] == (True, "")
    assert not results[1][0] and "greater than or equal to 0" in results[1][1]
    assert results[2] == (False, "price: Variant is locked by a subscription (INVALID_INPUT)")
    assert double.variant(vids[0])["price"] == "12.50"
    assert double.variant(vids[0])["compare_at_price"] == "19.99"
    assert double.variant(vids[0])["cost"] == "3.00"
    assert double.variant(vids[1])["price"] == "10.00"
    assert double.variant(vids[2])["price"] == "10.00"
    # And it took one request
    assert double.stats()["by_field"] == {"productVariantsBulkUpdate": 1}


def test_clearing_a_price_fails_that_item_without_a_request(double: ShopifyDouble) -> None:
    [product] = double.seed([_product("Cap", 1, compare_at_price="20.00")])
    results = _connector(double).apply(
        "variants_bulk", variant_items(product, price=[1000, None]), batch_key="b"
    )
    assert results == [(False, "Shopify requires a price: it cannot be emptied")]
    assert _graphql_log(double) == []
    # while clearing the compare-at price is a real write
    _connector(double).apply(
        "variants_bulk", variant_items(product, retail_price=[2000, None]), batch_key="c"
    )
    assert double.variant(product["variants"][0]["id"])["compare_at_price"] is None


def test_variant_bulk_refuses_items_of_two_products(double: ShopifyDouble) -> None:
    a, b = double.seed([_product("A", 1), _product("B", 1)])
    items = variant_items(a, price=[1, 2]) + variant_items(b, price=[1, 2])
    with pytest.raises(ValueError, match="one product"):
        _connector(double).apply("variants_bulk", items, batch_key="x")


# -- inventory_set ------------------------------------------------------------------------------
def test_inventory_set_compares_with_the_stock_read_and_keeps_a_sale(double: ShopifyDouble) -> None:
    # Given three variants with 5 in stock, one of which sold 2 since the catalog was read
    [product] = double.seed([_product("Sock", 3)])
    refs = [v["inventory_item_id"] for v in product["variants"]]
    double.set_available(refs[1], 3)
    items = variant_items(product, stock=[5, 9])
    # When stock 9 is set for all three
    connector = _connector(double)
    results = connector.apply("inventory_set", items, batch_key="run1-stock-0")
    # Then the two unchanged ones are set, the sold one is reported stale and left alone
    assert results[0] == (True, "") and results[2] == (True, "")
    assert results[1] == (
        False,
        "stock changed in the store since it was read (expected 5, found 3); not overwritten",
    )
    assert results[1].stale and not results[0].stale and results[1].gone is None
    assert [double.available(r) for r in refs] == [9, 3, 9]
    # And the set carried compareQuantity, the reason and the batch key
    sets = [d for d in double.documents() if "inventorySetQuantities" in d["query"]]
    first = sets[0]["variables"]["input"]
    assert first["name"] == "available" and first["reason"] == "correction"
    assert first["ignoreCompareQuantity"] is False
    assert [q["compareQuantity"] for q in first["quantities"]] == [5, 5, 5]
    assert first["referenceDocumentUri"] == "gid://feedsync/SyncBatch/run1-stock-0"
    assert {q["locationId"] for q in first["quantities"]} == {
        f"gid://shopify/Location/{double.primary_location_id}"
    }
    # And the primary location was looked up once, even over two batches
    connector.apply("inventory_set", variant_items(product, stock=[9, 10])[:1], batch_key="again")
    assert double.stats()["by_field"]["location"] == 1


def test_inventory_set_at_a_given_location_and_without_a_known_old_value(
    double: ShopifyDouble,
) -> None:
    # Given a second location and variants whose stock there was never read
    warehouse = double.add_location("Warehouse")
    [product] = double.seed([_product("Bag", 2)])
    items = variant_items(product, stock=[None, 4])
    # When stock is set at that location (numeric id, as the profile holds it)
    results = _connector(double).apply(
        "inventory_set", items, batch_key="k", location=str(warehouse)
    )
    # Then it is set there, without a compare (nothing to compare with)
    assert results == [(True, ""), (True, "")]
    assert [double.available(v["inventory_item_id"], warehouse) for v in product["variants"]] == [
        4,
        4,
    ]
    sent = double.documents()[-1]["variables"]["input"]
    assert sent["ignoreCompareQuantity"] is True
    assert all("compareQuantity" not in q for q in sent["quantities"])


def test_inventory_set_reports_an_item_without_an_inventory_item(double: ShopifyDouble) -> None:
    [product] = double.seed([_product("Pen", 2)])
    items = variant_items(product, stock=[5, 6])
    items[0].ref = None
    results = _connector(double).apply("inventory_set", items, batch_key="k")
    assert results[0][0] is False and "inventory item is unknown" in results[0][1]
    assert results[1] == (True, "")


def test_inventory_set_whose_answer_was_lost_is_not_reported_as_a_conflict(
    double: ShopifyDouble,
) -> None:
    # Given a set that the store executes but whose answer never arrives (connection reset)
    [product] = double.seed([_product("Cup", 2)])
    connector = _connector(double)
    connector.shop.location_gid(None)
    double.fail_next("reset_after")
    # When the connector retries it
    results = connector.apply("inventory_set", variant_items(product, stock=[5, 8]), batch_key="k")
    # Then the retry's stale compare is recognised as our own write: both items are done
    assert results == [(True, ""), (True, "")]
    assert [double.available(v["inventory_item_id"]) for v in product["variants"]] == [8, 8]
    assert double.stats()["by_field"]["nodes"] == 1


# -- throttling -----------------------------------------------------------------------------------
def test_throttled_answer_waits_for_the_restore_and_retries() -> None:
    # Given a store whose bucket is empty, restoring 100 points a second on a virtual
    # clock that only the connector's waits move (so the request surely arrives first)
    now = [1_000.0]

    class ClockSleep(FakeSleep):
        def __call__(self, seconds: float) -> None:
            super().__call__(seconds)
            now[0] += seconds

    def clock() -> float:
        return now[0]

    with ShopifyDouble(maximum_available=2000, restore_rate=100, clock=clock) as double:
        double.seed([_product("T", 1)])
        sleep = ClockSleep()
        connector = _connector(
            double, sleep, bulk_reads=False, location=str(double.primary_location_id), clock=clock
        )
        double.set_bucket(currently_available=0)
        # When the connector reads
        variants = list(connector.iter_variants())
        # Then it was throttled, waited what the throttle status said, and got the data
        assert len(variants) == 1
        log = _graphql_log(double)
        assert [e.get("code") for e in log] == ["THROTTLED", None]
        requested = log[0]["requested"]
        assert connector.throttled == 1
        assert sum(sleep.calls) == pytest.approx(requested / 100, rel=0.2, abs=0.02)


def test_an_injected_throttle_is_retried(double: ShopifyDouble) -> None:
    [product] = double.seed([_product("T", 1)])
    double.fail_next("throttled", 2)
    results = _connector(double).apply(
        "variants_bulk", variant_items(product, price=[1, 2]), batch_key="x"
    )
    assert results == [(True, "")]
    assert [e.get("code") for e in _graphql_log(double)] == ["THROTTLED", "THROTTLED", None]


def test_waits_before_a_request_the_bucket_cannot_pay_for() -> None:
    # Given a small bucket: after the first page, less is left than a page asks for
    with ShopifyDouble(maximum_available=1000, restore_rate=20_000) as double:
        products = ShopifyConnector.page_products + 10
        double.seed(_product(f"P{i}", 1) for i in range(products))
        sleep = FakeSleep(real=True)
        connector = _connector(
            double, sleep, bulk_reads=False, location=str(double.primary_location_id)
        )
        # When the connector reads two pages
        assert len(list(connector.iter_variants())) == products
        # Then it waited before the second page instead of being throttled
        assert [e.get("code") for e in _graphql_log(double)] == [None, None]
        assert len(sleep.calls) == 1 and sleep.calls[0] > 0


# -- transport failures ------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [500, 502, 503, "reset"])
def test_server_errors_and_resets_are_retried_with_backoff(
    double: ShopifyDouble, fault: str | int
) -> None:
    double.seed([_product("R", 1)])
    double.fail_next(fault, 2)
    sleep = FakeSleep()
    assert len(list(_connector(double, sleep, bulk_reads=False).iter_variants())) == 1
    assert len(sleep.calls) == 2 and sleep.calls[1] > sleep.calls[0] / 2


def test_a_slow_answer_times_out_and_is_retried(double: ShopifyDouble) -> None:
    double.seed([_product("S", 1)])
    double.fail_next("slow", delay_s=1.0)
    sleep = FakeSleep()
    assert len(list(_connector(double, sleep, timeout=0.2, bulk_reads=False).iter_variants())) == 1
    assert len(sleep.calls) == 1


def test_429_waits_the_retry_after(double: ShopifyDouble) -> None:
    double.seed([_product("S", 1)])
    double.fail_next(429, retry_after=2)
    sleep = FakeSleep()
    assert len(list(_connector(double, sleep, bulk_reads=False).iter_variants())) == 1
    assert sleep.calls == [2.0]


def test_persistent_server_errors_raise_store_unavailable(double: ShopifyDouble) -> None:
    double.fail_next(503, 3)
    with pytest.raises(StoreUnavailable, match="3 attempt"):
        list(_connector(double, max_retries=2).iter_variants())


def test_a_wrong_token_is_an_auth_error(double: ShopifyDouble) -> None:
    connector = ShopifyConnector(
        double.shop_url, "shpat_wrong", sleep=FakeSleep(), allow_private=True
    )
    with pytest.raises(StoreAuthError, match="HTTP 401"):
        list(connector.iter_variants())
    assert "shpat_wrong" not in repr(connector)


# -- bulk operation ------------------------------------------------------------------------------
def test_bulk_operation_end_to_end(double: ShopifyDouble) -> None:
    # Given 30 products of 3 variants, one variant rejected by the store
    products = double.seed(_product(f"B{i}", 3) for i in range(30))
    items = [
        it
        for p in products
        for it in variant_items(
            p, price=[1000, 1111], retail_price=[None, 2222], cost_price=[None, 333]
        )
    ]
    rejected = products[4]["variants"][1]["id"]
    double.reject_variant(rejected, "Variant is archived")
    items[7].changes = {"price": [1000, -1]}
    # When the 90 items go through the bulk path
    sleep = FakeSleep(real=True)
    results = _connector(double, sleep).apply("variants_bulk_operation", items, batch_key="run-9")
    # Then every item has its result, mapped from the result file's line and position
    failed = {i: r[1] for i, r in enumerate(results) if not r[0]}
    assert set(failed) == {7, 13}
    assert "greater than or equal to 0" in failed[7]
    assert failed[13] == "price: Variant is archived (INVALID_INPUT)"
    written = double.variant(products[29]["variants"][2]["id"])
    assert (written["price"], written["compare_at_price"], written["cost"]) == (
        "11.11",
        "22.22",
        "3.33",
    )
    assert double.variant(rejected)["price"] == "10.00"
    # And it was: one staged upload, one upload, one bulk run, polls, one download
    by_field = double.stats()["by_field"]
    assert by_field["stagedUploadsCreate"] == 1 and by_field["bulkOperationRunMutation"] == 1
    assert by_field["node"] >= 1
    log = double.requests_log()
    assert sum(1 for e in log if e.get("upload")) == 1
    assert sum(1 for e in log if e.get("download")) == 1
    # And one JSONL line per product
    lines = [d for d in double.documents() if d["bulk"]]
    assert len(lines) == 30 and all(len(d["variables"]["variants"]) == 3 for d in lines)


def _doubling_polls(seconds: float, poll_s: float) -> int:
    """Polls at doubling intervals alone (0.05 s, 0.1 s, ... up to ``poll_s``), the first
    after 0.05 s, until one comes ``seconds`` after the start."""
    interval, at, polls = 0.05, 0.05, 1
    while at < seconds:
        interval = min(interval * 2, poll_s)
        at += interval
        polls += 1
    return polls


def test_a_long_bulk_operation_is_polled_at_its_estimated_end(double: ShopifyDouble) -> None:
    # Given 400 products and a shop that takes about 5 ms per bulk line (2 s or more in all)
    products = double.seed(_product(f"L{i}", 1) for i in range(400))
    double.bulk_line_delay_s = 0.005
    items = [it for p in products for it in variant_items(p, price=[1000, 900])]
    connector = ShopifyConnector(
        double.shop_url,
        double.access_token,
        sleep=FakeSleep(real=True),
        bulk_poll_s=10.0,
        allow_private=True,
    )
    # When the items go through the bulk path
    results = connector.apply("variants_bulk_operation", items, batch_key="eta")
    # Then all are written, and the job was polled to learn its pace and then at its
    # estimated end: at least two polls fewer than doubling intervals alone would have
    # taken for as long as the job really ran (however slow a loaded machine made it)
    assert all(ok for ok, _ in results)
    [took] = double.bulk_durations()
    assert took is not None and took >= 400 * 0.005
    polls = double.stats()["by_field"]["node"]
    assert 2 <= polls <= _doubling_polls(took, 10.0) - 2, (polls, took)


def test_doubling_alone_would_poll_a_two_second_job_six_times() -> None:
    """Guard for the test above: its bound is not one any poll count would meet."""
    assert _doubling_polls(2.0, 10.0) == 6  # at 0.05, 0.15, 0.35, 0.75, 1.55 and 3.15 s
    assert _doubling_polls(0.05, 10.0) == 1
    assert _doubling_polls(60.0, 10.0) == 13  # 12.75 s in 8 polls, then every 10 s


class _Answer:
    is_redirect = False  # as requests.Response says of a 200

    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


class _QueuedThenFast:
    """A shop on a fake clock with one bulk mutation of ``lines`` lines: queued for
    ``queued_s``, then ``pace`` lines a second. Answers the connector's polls (a fake
    ``requests.Session``); ``sleep`` moves the clock."""

    def __init__(self, lines: int, queued_s: float, pace: float) -> None:
        self.lines, self.queued_s, self.pace = lines, queued_s, pace
        self.now = 0.0
        self.sleeps: list[float] = []
        self.polls: list[tuple[float, int]] = []  # (when, objectCount)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def request(self, method: str, url: str, **kwargs: Any) -> _Answer:
        assert method == "POST" and kwargs["json"]["operationName"] == "FeedsyncBulkOperation"
        done = min(self.lines, max(0, int((self.now - self.queued_s) * self.pace)))
        status = "COMPLETED" if done == self.lines else "RUNNING" if done else "CREATED"
        self.polls.append((self.now, done))
        node = {"id": kwargs["json"]["variables"]["id"], "status": status}
        node |= {"errorCode": None, "objectCount": str(done), "url": None}
        bucket = {"maximumAvailable": 2000.0, "currentlyAvailable": 1999.0, "restoreRate": 100.0}
        cost = {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": bucket}
        return _Answer({"data": {"node": node}, "extensions": {"cost": cost}})


def _fake_clock_connector(shop: _QueuedThenFast) -> ShopifyConnector:
    return ShopifyConnector(
        "https://fake.myshopify.com",
        "shpat_x",
        session=cast(requests.Session, shop),
        sleep=shop.sleep,
        clock=shop.clock,
        allow_private=True,
    )


def test_a_queued_bulk_job_is_paced_from_its_progress_not_from_its_start() -> None:
    # Given a bulk job of 100,000 lines that sits queued for 20 s, then runs 1,000 lines a
    # second (done at 120 s), polled every 10 s at most (the default)
    shop = _QueuedThenFast(100_000, queued_s=20.0, pace=1000.0)
    connector = _fake_clock_connector(shop)
    longest = 3 * connector.bulk_poll_s
    # When the connector waits for it
    final = connector.bulk.wait("gid://shopify/BulkOperation/1", 100_000)
    # Then it found it done soon after its end (not near the 840 s timeout, as a pace taken
    # from the start, queue included, would have had it wait)
    assert final["status"] == "COMPLETED"
    assert 120.0 <= shop.now <= 120.0 * shopify_bulk.ETA_MARGIN, shop.polls
    # And no single wait was longer than the cap, whatever the estimate
    assert max(shop.sleeps) <= longest
    # And the polls stayed few: the doubling ones while it was queued, then about one per
    # capped wait while it ran, fewer than polling every 10 s would take
    queued = sum(1 for _at, done in shop.polls if done == 0)
    assert queued == _doubling_polls(20.0, 10.0) - 1
    assert len(shop.polls) <= queued + (120.0 - 20.0) / longest + 2, shop.polls
    assert len(shop.polls) < _doubling_polls(120.0, 10.0) - 5


def test_a_fast_bulk_job_is_polled_twice() -> None:
    # Given a bulk job of 10,000 lines that starts at once and runs 2,000 lines a second
    shop = _QueuedThenFast(10_000, queued_s=0.0, pace=2000.0)
    # When the connector waits for it
    final = _fake_clock_connector(shop).bulk.wait("gid://shopify/BulkOperation/1", 10_000)
    # Then the first poll learns its pace and the second finds it done
    assert final["status"] == "COMPLETED"
    assert len(shop.polls) == 2 and shop.now <= 5.0 * shopify_bulk.ETA_MARGIN


def test_a_bulk_job_that_never_ends_is_given_up_at_the_timeout_not_after() -> None:
    # Given a bulk job that never leaves the queue, and a 100 s timeout
    shop = _QueuedThenFast(1000, queued_s=10_000.0, pace=1.0)
    connector = _fake_clock_connector(shop)
    connector.bulk_timeout_s = 100.0
    # When the connector waits for it, Then it gives up with StoreUnavailable
    with pytest.raises(StoreUnavailable, match="still CREATED after 100 s"):
        connector.bulk.wait("gid://shopify/BulkOperation/1", 1000)
    # And its last poll came at the timeout, no wait longer than the cap
    assert shop.polls[-1][0] == pytest.approx(100.0)
    assert max(shop.sleeps) <= 3 * connector.bulk_poll_s


def test_a_slow_bulk_job_is_polled_at_most_every_three_poll_intervals() -> None:
    # Given a bulk job of 10,000 lines that starts at once but runs 20 lines a second
    # (500 s in all: a pace estimate would wait to its end in one go)
    shop = _QueuedThenFast(10_000, queued_s=0.0, pace=20.0)
    # When the connector waits for it
    final = _fake_clock_connector(shop).bulk.wait("gid://shopify/BulkOperation/1", 10_000)
    # Then no wait exceeded 30 s and it was found done soon after its end
    assert final["status"] == "COMPLETED"
    assert max(shop.sleeps) <= 30.0 and 500.0 <= shop.now <= 530.0
    assert len(shop.polls) <= 500 / 30 + 3


def test_bulk_operation_splits_a_product_over_lines_of_250(double: ShopifyDouble) -> None:
    [product] = double.seed([_product("Big", 260)])
    results = _connector(double, FakeSleep(real=True)).apply(
        "variants_bulk_operation", variant_items(product, price=[1000, 900]), batch_key="b"
    )
    assert all(ok for ok, _ in results)
    sizes = [len(d["variables"]["variants"]) for d in double.documents() if d["bulk"]]
    assert sizes == [250, 10]


def test_a_failed_bulk_operation_raises_store_unavailable(double: ShopifyDouble) -> None:
    products = double.seed(_product(f"F{i}", 1) for i in range(3))
    double.fail_next_bulk("INTERNAL_SERVER_ERROR", after_lines=1)
    items = [it for p in products for it in variant_items(p, price=[1000, 900])]
    with pytest.raises(StoreUnavailable, match="FAILED"):
        _connector(double, FakeSleep(real=True)).apply(
            "variants_bulk_operation", items, batch_key="f"
        )


def test_bulk_operation_waits_for_one_already_running(double: ShopifyDouble) -> None:
    # Given a bulk mutation of someone else (or an earlier attempt) still running
    double.bulk_line_delay_s = 0.01
    first, second = double.seed([_product("One", 1), _product("Two", 1)])
    other = _connector(double, FakeSleep(real=True))
    path = other.bulk.stage_upload(
        b'{"productId":"gid://shopify/Product/%d","variants":[]}\n' % first["id"], "other"
    )
    other.bulk.start_mutation(queries.VARIANTS_BULK_UPDATE, path, "other")
    # When ours is started
    results = _connector(double, FakeSleep(real=True)).apply(
        "variants_bulk_operation", variant_items(second, price=[1000, 1500]), batch_key="mine"
    )
    # Then it waited for the running one and then ran
    assert results == [(True, "")]
    assert double.variant(second["variants"][0]["id"])["price"] == "15.00"
    assert [op["status"] for op in double.bulk_operations()] == ["COMPLETED", "COMPLETED"]


# -- stock at a location ---------------------------------------------------------------------
def _two_location_shop(double: ShopifyDouble) -> tuple[int, dict[str, Any]]:
    """A product of three variants: 5 each at the primary location; at a warehouse 7, 0 and
    (the last one) not stocked at all."""
    warehouse = double.add_location("Warehouse")
    [product] = double.seed([_product("Coat", 3)])
    items = [v["inventory_item_id"] for v in product["variants"]]
    double.set_available(items[0], 7, warehouse)
    double.unstock(items[2], warehouse)
    return warehouse, product


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "pages"])
def test_stock_is_read_at_the_configured_location(double: ShopifyDouble, bulk: bool) -> None:
    # Given two locations, and a variant not stocked at the second one
    warehouse, _ = _two_location_shop(double)
    stock = VARIANT_POS["stock"]
    # When the catalog is read at the warehouse (numeric id, then GID), and with no location
    at_warehouse = []
    for where in (str(warehouse), f"gid://shopify/Location/{warehouse}"):
        connector = _connector(double, FakeSleep(real=True), bulk_reads=bulk, location=where)
        at_warehouse.append([v[stock] for v in connector.iter_variants()])
    primary = _connector(double, FakeSleep(real=True), bulk_reads=bulk)
    at_primary = [v[stock] for v in primary.iter_variants()]
    # Then each read reports that location's available quantity, not the total over both,
    # and the unstocked variant reads no stock
    assert at_warehouse == [[7, 0, None], [7, 0, None]]
    assert at_primary == [5, 5, 5]
    assert primary.last_read == ("bulk" if bulk else "pages")
    # And only the read without a location looked the primary location up
    assert double.stats()["by_field"]["location"] == 1


def test_incremental_reads_also_read_the_location(double: ShopifyDouble) -> None:
    warehouse, _ = _two_location_shop(double)
    connector = _connector(double, location=str(warehouse))
    got = [v[VARIANT_POS["stock"]] for v in connector.iter_variants(datetime(2000, 1, 1))]
    assert got == [7, 0, None] and connector.last_read == "pages"


def test_writing_stock_where_the_item_is_not_stocked_is_reported(double: ShopifyDouble) -> None:
    # Given a variant not stocked at the warehouse (read: stock None)
    warehouse, product = _two_location_shop(double)
    items = variant_items(product, stock=[None, 3])[2:]
    # When stock is set there, Then Shopify's refusal is the item's result
    results = _connector(double).apply(
        "inventory_set", items, batch_key="k", location=str(warehouse)
    )
    assert results[0][0] is False and "not stocked at the location" in results[0][1]


# -- full reads through a bulk query ----------------------------------------------------------
def test_a_full_read_through_a_bulk_query_equals_the_paged_read(double: ShopifyDouble) -> None:
    # Given a catalog with money, costs, an unstocked variant, and products with more variants
    # than a page carries (6 per product) and than a product(id) page carries (set to 10)
    warehouse = double.add_location("Warehouse")
    products = double.seed(
        [
            _product("Mug", 1, compare_at_price="15.00", cost="4.10", barcode="0123"),
            _product("Shirt", 25),
            *(_product(f"P{i}", 4) for i in range(40)),
            _product("Tail", 7),
        ]
    )
    double.unstock(products[1]["variants"][3]["inventory_item_id"], warehouse)
    double.set_available(products[2]["variants"][0]["inventory_item_id"], 11, warehouse)
    double.set_bucket(restore_rate=5_000)  # three pages outrun 2,000 points: wait a little
    paged = _connector(double, FakeSleep(real=True), bulk_reads=False, location=str(warehouse))
    paged.variant_page = 10
    # When the catalog is read page by page, and then in full through a bulk query
    by_pages = list(paged.iter_variants())
    double.reset_log()
    before = double.stats()
    bulk = _connector(double, FakeSleep(real=True), location=str(warehouse))
    by_bulk = list(bulk.iter_variants())
    # Then both reads are the same, variant for variant
    assert len(by_bulk) == 1 + 25 + 160 + 7
    assert by_bulk == by_pages
    assert bulk.last_read == "bulk" and paged.last_read == "pages"
    # And the bulk read was one bulk query, polls and one download: no page of products
    after = double.stats()
    assert after["by_field"].get("products", 0) == before["by_field"].get("products", 0)
    assert after["by_field"]["bulkOperationRunQuery"] == 1
    assert sum(1 for e in double.requests_log() if e.get("download")) == 1
    [operation] = double.bulk_operations()
    assert operation["type"] == "QUERY" and operation["status"] == "COMPLETED"
    assert operation["rootObjectCount"] == str(len(products))
    # And it cost a fraction of the pages
    assert bulk.points_spent * 10 < paged.points_spent


def test_a_full_read_of_an_empty_shop_through_a_bulk_query(double: ShopifyDouble) -> None:
    connector = _connector(double, FakeSleep(real=True))
    assert list(connector.iter_variants()) == [] and connector.last_read == "bulk"


def test_a_full_read_falls_back_to_pages_while_a_bulk_query_runs(double: ShopifyDouble) -> None:
    # Given another client's bulk query still in progress (held by the double)
    double.seed(_product(f"P{i}", 2) for i in range(5))
    double.hold_bulk_operations()
    other = _connector(double)
    started = other.client.graphql(
        queries.BULK_QUERY_RUN,
        {"query": "query { products { edges { node { id } } } }"},
        "FeedsyncBulkQuery",
        10,
    )
    assert started["bulkOperationRunQuery"]["userErrors"] == []
    # When the catalog is read in full
    connector = _connector(double, FakeSleep(real=True))
    variants = list(connector.iter_variants())
    # Then Shopify refused a second bulk query and the read paged instead, completely
    assert len(variants) == 10
    assert connector.last_read.startswith("pages (a bulk query is already running")
    assert "OPERATION_IN_PROGRESS" in connector.last_read
    assert double.stats()["by_field"]["products"] == 1
    double.release_bulk_operations()
    double.wait_bulk_idle()


def test_a_bulk_query_runs_beside_a_bulk_mutation_but_not_beside_another_query(
    double: ShopifyDouble,
) -> None:
    # Given a bulk mutation in progress
    [product] = double.seed([_product("One", 1)])
    double.hold_bulk_operations()
    connector = _connector(double)
    path = connector.bulk.stage_upload(
        b'{"productId":"gid://shopify/Product/%d","variants":[]}\n' % product["id"], "m"
    )
    connector.bulk.start_mutation(queries.VARIANTS_BULK_UPDATE, path, "m")

    def run_query() -> list[dict[str, Any]]:
        data = connector.client.graphql(
            queries.BULK_QUERY_RUN,
            {"query": queries.bulk_products_query("gid://shopify/Location/1")},
            "FeedsyncBulkQuery",
            10,
        )
        errors: list[dict[str, Any]] = data["bulkOperationRunQuery"]["userErrors"]
        return errors

    # When two bulk queries are started, Then the first runs and the second is refused
    assert run_query() == []
    [refused] = run_query()
    assert refused["code"] == "OPERATION_IN_PROGRESS"
    double.release_bulk_operations()
    double.wait_bulk_idle()
    assert [(op["type"], op["status"]) for op in double.bulk_operations()] == [
        ("MUTATION", "COMPLETED"),
        ("QUERY", "COMPLETED"),
    ]


def test_a_failed_bulk_query_falls_back_to_pages(double: ShopifyDouble) -> None:
    # Given a bulk query that will fail halfway (Shopify: INTERNAL_SERVER_ERROR)
    double.seed(_product(f"P{i}", 3) for i in range(4))
    double.fail_next_bulk("INTERNAL_SERVER_ERROR", after_lines=5)
    # When the catalog is read in full
    connector = _connector(double, FakeSleep(real=True))
    variants = list(connector.iter_variants())
    # Then the partial file is not trusted: the read paged, completely
    assert len(variants) == 12
    assert connector.last_read.startswith("pages (bulk query")
    assert "FAILED (INTERNAL_SERVER_ERROR)" in connector.last_read
    assert [op["status"] for op in double.bulk_operations()] == ["FAILED"]


def test_a_denied_bulk_query_is_an_auth_error(double: ShopifyDouble) -> None:
    double.seed([_product("P", 1)])
    double.fail_next_bulk("ACCESS_DENIED")
    with pytest.raises(StoreAuthError, match="read_inventory"):
        list(_connector(double, FakeSleep(real=True)).iter_variants())


def test_a_broken_download_is_fetched_again(double: ShopifyDouble) -> None:
    # Given a bulk result whose first download breaks off midway
    double.seed(_product(f"P{i}", 2) for i in range(3))
    connector = _connector(double, FakeSleep(real=True))
    real = connector.client.files.session.request
    calls: list[str] = []

    def flaky(method: str, url: str, **kwargs: Any) -> Any:
        response = real(method, url, **kwargs)
        if "/_bulk/" in url and not calls:
            calls.append(url)

            def broken(chunk_size: int = 1) -> Iterator[bytes]:
                yield b'{"id":"gid://shopify/Product/1"'
                raise requests.exceptions.ChunkedEncodingError("connection broken")

            response.iter_content = broken
        return response

    connector.client.files.session.request = flaky  # type: ignore[method-assign]
    # When the catalog is read, Then the file was fetched again and read whole
    assert len(list(connector.iter_variants())) == 6
    assert connector.last_read == "bulk"
    assert sum(1 for e in double.requests_log() if e.get("download")) == 2


# -- content: description, brand, weight, image --------------------------------------------------
def _item(
    product: dict[str, Any], n: int, row: int | None = None, **changes: list[Any]
) -> PlanItem:
    variant = product["variants"][n]
    return PlanItem(
        row=row or n + 1,
        key=variant["sku"],
        product_id=product["id"],
        variant_id=variant["id"],
        ref=str(variant["inventory_item_id"]),
        changes=dict(changes),
    )


def _product_item(product: dict[str, Any], **changes: list[Any]) -> PlanItem:
    """A product-level plan item (the product's first variant stands for it)."""
    return replace(_item(product, 0, **changes), rows=[1], product_level=True)


def _documents(double: ShopifyDouble, operation: str) -> list[dict[str, Any]]:
    return [d for d in double.documents() if d["operationName"] == operation]


@pytest.mark.parametrize(
    ("weight", "unit", "shop_unit", "expected"),
    [
        (0.25, "KILOGRAMS", "KILOGRAMS", "0.25"),
        (500.0, "GRAMS", "KILOGRAMS", "0.5"),
        (16, "OUNCES", "POUNDS", "1"),
        (1, "POUNDS", "KILOGRAMS", "0.4536"),
        (0.0, "GRAMS", "GRAMS", "0"),
        (1e-05, "KILOGRAMS", "KILOGRAMS", "0"),  # weights compare to 4 decimal places
    ],
)
def test_a_weight_reads_as_canonical_decimal_in_the_shop_unit(
    weight: float, unit: str, shop_unit: str, expected: str
) -> None:
    assert values.read_weight({"value": weight, "unit": unit}, shop_unit) == expected


def test_no_weight_reads_none_and_a_feed_weight_becomes_a_weight_input() -> None:
    assert values.read_weight(None, "GRAMS") is None
    assert values.weight_input("0.250", "GRAMS") == {"value": 0.25, "unit": "GRAMS"}
    assert values.weight_input("heavy", "GRAMS") is None
    assert values.weight_input("-1", "GRAMS") is None


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "pages"])
def test_content_is_read_in_the_index_form(bulk: bool) -> None:
    # Given a shop weighing in pounds: a product with a description, a vendor, an image on
    # one variant, a weight in pounds and one kept in ounces; and a product without content
    with ShopifyDouble(weight_unit="POUNDS") as double:
        [lamp, plain] = double.seed(
            [
                {
                    "title": "Lamp",
                    "description_html": "<p>Bright\n  and <b>warm</b></p>",
                    "vendor": "Lumo",
                    "variants": [
                        {"sku": "L-1", "weight": "1.50", "image": "https://s.example/l1.png"},
                        {"sku": "L-2", "weight": "24", "weight_unit": "OUNCES"},
                    ],
                },
                {"title": "Plain", "variants": [{"sku": "P-1"}]},
            ]
        )
        # When the catalog is read (a bulk query, or pages)
        connector = _connector(double, FakeSleep(real=True), bulk_reads=bulk)
        got = {v[VARIANT_POS["sku"]]: v for v in connector.iter_variants()}
        # Then description (as its digest), brand, weight in the shop's unit and the image as
        # Shopify hosts it are in the variant tuple
        content = VARIANT_POS["description"]
        image = double.variant(lamp["variants"][0]["id"])["image_url"]
        assert got["L-1"][content:] == (
            description_digest("<p>Bright and <b>warm</b></p>"),
            "Lumo",
            "1.5",
            image,
            True,
        )
        assert image.startswith("https://cdn.shopify.com/") and "l1.png" in image
        assert got["L-2"][content:] == (got["L-1"][content], "Lumo", "1.5", None, True)
        assert got["P-1"][content:] == (None, None, "0", None, True)
        assert got["P-1"][0] == plain["id"]
        # And the shop's weight unit took one look-up of its own on the bulk path only
        # (every page carries it)
        lookups = double.stats()["by_operation"].get("FeedsyncShop", 0)
        assert lookups == (1 if bulk else 0) and connector.last_read == (
            "bulk" if bulk else "pages"
        )


def test_variants_bulk_writes_weight_and_image_with_the_prices(double: ShopifyDouble) -> None:
    # Given a product of three variants
    [product] = double.seed([_product("Jar", 3)])
    url = "https://supplier.example/img/jar.jpg"
    items = [
        _item(product, 0, cost_price=[None, 300], weight=["0", "0.250"]),
        _item(product, 1, image_url=[None, url], price=[1000, 1100]),
        _item(product, 2, image_url=[None, url], weight=["0", "2"]),
    ]
    # When the batch is applied
    connector = _connector(double)
    assert connector.apply("variants_bulk", items, batch_key="c1") == [(True, "")] * 3
    # Then one productVariantsBulkUpdate carried the weight (in the shop's unit) beside the
    # cost on the inventory item, and the image once as new media plus each variant's mediaSrc
    [sent] = _documents(double, "FeedsyncVariantsBulkUpdate")
    variables = sent["variables"]
    assert variables["variants"][0]["inventoryItem"] == {
        "cost": "3.00",
        "measurement": {"weight": {"value": 0.25, "unit": "KILOGRAMS"}},
    }
    assert variables["variants"][1]["mediaSrc"] == [url]
    assert variables["media"] == [{"originalSource": url, "mediaContentType": "IMAGE"}]
    # And the shop has them: one media for the two variants, hosted on Shopify's CDN
    first, second, third = (double.variant(v["id"]) for v in product["variants"])
    assert (first["weight"], first["weight_unit"], first["cost"]) == ("0.25", "KILOGRAMS", "3.00")
    assert second["price"] == "11.00" and second["image_source"] == url
    assert third["image_url"] == second["image_url"] != url and third["weight"] == "2"
    assert len(double.product(product["id"])["media"]) == 1
    # And the weight unit was looked up once
    assert double.stats()["by_operation"]["FeedsyncShop"] == 1


@pytest.mark.parametrize("text", ["0.250", "0.1", "1e3", "12.3456789", "0", "1234567.891"])
def test_a_written_weight_reads_back_as_the_index_keeps_it(
    double: ShopifyDouble, text: str
) -> None:
    # Given a variant, When the feed's weight is written and the catalog read again
    [product] = double.seed([_product("W", 1)])
    connector = _connector(double, FakeSleep(real=True))
    assert connector.apply("variants_bulk", [_item(product, 0, weight=["0", text])], batch_key="w")
    [variant] = connector.iter_variants()
    # Then it reads what the index was patched with: the next run sees no change
    assert variant[VARIANT_POS["weight"]] == index_value("weight", text)


def test_an_image_shopify_refuses_fails_only_the_variants_naming_it(double: ShopifyDouble) -> None:
    # Given one variant with an image URL Shopify will not take, and one with a price
    [product] = double.seed([_product("Box", 2)])
    items = [
        _item(product, 0, image_url=[None, "not a url"]),
        _item(product, 1, price=[1000, 1200]),
    ]
    # When the batch is applied
    results = _connector(double).apply("variants_bulk", items, batch_key="i")
    # Then the image's variant failed with Shopify's reason, the other was written
    assert results[0][0] is False and results[0][1].startswith(
        "image: Image URL is invalid (INVALID_INPUT)"
    )
    assert results[1] == (True, "")
    assert double.variant(product["variants"][1]["id"])["price"] == "12.00"
    assert double.product(product["id"])["media"] == []


def test_a_weight_that_is_not_a_number_fails_that_item_unsent(double: ShopifyDouble) -> None:
    [product] = double.seed([_product("Odd", 2)])
    items = [_item(product, 0, weight=["0", "heavy"]), _item(product, 1, weight=["0", "1"])]
    results = _connector(double).apply("variants_bulk", items, batch_key="o")
    assert results[0] == (False, "'heavy' is not a weight Shopify takes (a number >= 0)")
    assert results[1] == (True, "")
    [sent] = _documents(double, "FeedsyncVariantsBulkUpdate")
    assert [v["id"] for v in sent["variables"]["variants"]] == [
        f"gid://shopify/ProductVariant/{product['variants'][1]['id']}"
    ]


def test_the_weight_unit_is_looked_up_once_and_only_for_weights(double: ShopifyDouble) -> None:
    # Given two products
    a, b = double.seed([_product("A", 1), _product("B", 1)])
    connector = _connector(double)
    # When a batch without a weight, then two with weights are applied
    connector.apply("variants_bulk", [_item(a, 0, price=[1000, 900])], batch_key="1")
    assert "FeedsyncShop" not in double.stats()["by_operation"]
    connector.apply("variants_bulk", [_item(a, 0, weight=["0", "1"])], batch_key="2")
    connector.apply("variants_bulk", [_item(b, 0, weight=["0", "2"])], batch_key="3")
    # Then the shop's unit was asked for once
    assert double.stats()["by_operation"]["FeedsyncShop"] == 1


def test_product_update_writes_title_description_and_vendor(double: ShopifyDouble) -> None:
    # Given a product
    [product] = double.seed([_product("Old name", 2)])
    html = "<p>Hand-made <em>stoneware</em>.</p>"
    item = _product_item(
        product, name=["Old name", "Stone Mug"], description=[None, html], brand=[None, "Acme"]
    )
    # When its product fields are applied
    connector = _connector(double, FakeSleep(real=True))
    assert connector.apply("product_update", [item], batch_key="p1") == [(True, "")]
    # Then one productUpdate set title, descriptionHtml and vendor
    [sent] = _documents(double, "FeedsyncProductUpdate")
    assert sent["variables"] == {
        "product": {
            "id": f"gid://shopify/Product/{product['id']}",
            "title": "Stone Mug",
            "descriptionHtml": html,
            "vendor": "Acme",
        }
    }
    stored = double.product(product["id"])
    assert (stored["title"], stored["description_html"], stored["vendor"]) == (
        "Stone Mug",
        html,
        "Acme",
    )
    # And they read back as the index is patched with them (no rewrite on the next run)
    for variant in connector.iter_variants():
        for field, new in (("name", "Stone Mug"), ("description", html), ("brand", "Acme")):
            assert variant[VARIANT_POS[field]] == index_value(field, new)
    # And an item changing only the brand sends only the vendor
    connector.apply(
        "product_update", [_product_item(product, brand=["Acme", "Bcme"])], batch_key="p2"
    )
    assert _documents(double, "FeedsyncProductUpdate")[-1]["variables"]["product"] == {
        "id": f"gid://shopify/Product/{product['id']}",
        "vendor": "Bcme",
    }


def test_product_update_reports_user_errors_as_the_item_result(double: ShopifyDouble) -> None:
    # Given a product Shopify refuses to change, and one that is fine
    locked, other = double.seed([_product("Locked", 1), _product("Other", 1)])
    double.reject_product(locked["id"], "Product is locked by another app")
    connector = _connector(double)
    # When product fields are applied, Then each refusal is that item's result
    refused = connector.apply(
        "product_update", [_product_item(locked, brand=[None, "X"])], batch_key="a"
    )
    assert refused == [(False, "title: Product is locked by another app")]
    too_long = connector.apply(
        "product_update", [_product_item(other, name=["Other", "N" * 256])], batch_key="b"
    )
    assert too_long == [(False, "title: Title is too long (maximum is 255 characters)")]
    gone = replace(_product_item(other, brand=[None, "X"]), product_id=1)
    assert connector.apply("product_update", [gone], batch_key="c") == [
        (False, "id: Product does not exist")
    ]
    # And nothing changed in the shop
    assert (
        double.product(locked["id"])["vendor"] == ""
        and double.product(other["id"])["title"] == "Other"
    )
    # And an empty title is refused before any request
    before = len(_graphql_log(double))
    empty = connector.apply(
        "product_update", [_product_item(other, name=["Other", ""])], batch_key="d"
    )
    assert empty == [(False, "Shopify requires a product title: it cannot be emptied")]
    assert len(_graphql_log(double)) == before
    # And one product per request
    with pytest.raises(ValueError, match="at most 1"):
        connector.apply(
            "product_update",
            [_product_item(locked, brand=[None, "A"]), _product_item(other, brand=[None, "B"])],
            batch_key="e",
        )


def test_product_update_is_throttled_and_retried_like_the_other_calls(
    double: ShopifyDouble,
) -> None:
    [product] = double.seed([_product("T", 1)])
    double.fail_next("throttled")
    sleep = FakeSleep()
    results = _connector(double, sleep).apply(
        "product_update", [_product_item(product, brand=[None, "Acme"])], batch_key="t"
    )
    assert results == [(True, "")] and len(sleep.calls) == 1
    assert [e.get("code") for e in _graphql_log(double)] == ["THROTTLED", None]
    assert double.product(product["id"])["vendor"] == "Acme"


def test_bulk_operation_writes_weight_and_image(double: ShopifyDouble) -> None:
    # Given two products of two variants
    products = double.seed([_product("K0", 2), _product("K1", 2)])
    items = [
        _item(p, n, weight=["0", f"{k}.5"], image_url=[None, f"https://s.example/k{k}.jpg"])
        for k, p in enumerate(products)
        for n in range(2)
    ]
    # When they go through the bulk path
    results = _connector(double, FakeSleep(real=True)).apply(
        "variants_bulk_operation", items, batch_key="bk"
    )
    # Then every variant has its weight and its product's new image; one line per product
    # carried the media and the variants naming it
    assert results == [(True, "")] * 4
    for k, product in enumerate(products):
        for v in product["variants"]:
            got = double.variant(v["id"])
            assert (got["weight"], got["image_source"]) == (f"{k}.5", f"https://s.example/k{k}.jpg")
        assert len(double.product(product["id"])["media"]) == 1
    lines = [d["variables"] for d in double.documents() if d["bulk"]]
    assert [len(line["media"]) for line in lines] == [1, 1]


# -- product fields in bulk ----------------------------------------------------------------------
def test_product_update_bulk_operation_writes_each_product_and_maps_its_errors(
    double: ShopifyDouble,
) -> None:
    # Given five products: one Shopify refuses to change, one given a title too long, one
    # given an empty title, two fine
    products = double.seed(_product(f"P{i}", 2) for i in range(5))
    double.reject_product(products[1]["id"], "Product is locked by another app")
    html = "<p>Hand-made <em>stoneware</em> \u2013 100% clay</p>"
    items = [
        _product_item(products[0], name=["P0", "Stone Mug"], description=[None, html]),
        _product_item(products[1], brand=[None, "Acme"]),
        _product_item(products[2], name=["P2", "N" * 256]),
        _product_item(products[3], name=["P3", ""], brand=[None, "Unsent"]),
        _product_item(products[4], brand=[None, "Bcme"], description=["<p>x</p>", None]),
    ]
    # When they go through the bulk path
    connector = _connector(double, FakeSleep(real=True))
    results = connector.apply("product_update_bulk_operation", items, batch_key="pb")
    # Then each item has its own result, from its line's userErrors
    assert results == [
        (True, ""),
        (False, "title: Product is locked by another app"),
        (False, "title: Title is too long (maximum is 255 characters)"),
        (False, "Shopify requires a product title: it cannot be emptied"),
        (True, ""),
    ]
    # And the shop holds what was written, nothing of what was refused
    first, locked, long, empty, last = (double.product(p["id"]) for p in products)
    assert (first["title"], first["description_html"]) == ("Stone Mug", html)
    assert (last["vendor"], last["description_html"]) == ("Bcme", "")
    assert locked["vendor"] == "" and long["title"] == "P2" and empty["vendor"] == ""
    # And it was one bulk mutation of productUpdate: one staged upload, one run, one
    # download, one JSONL line per product sent (the empty title never went), each the
    # variables of the same document productUpdate sends on its own
    by_field = double.stats()["by_field"]
    assert by_field["stagedUploadsCreate"] == 1 and by_field["bulkOperationRunMutation"] == 1
    assert "productUpdate" not in by_field  # never one request per product
    assert sum(1 for e in double.requests_log() if e.get("download")) == 1
    [operation] = double.bulk_operations()
    assert operation["query"] == queries.PRODUCT_UPDATE and operation["status"] == "COMPLETED"
    lines = [d["variables"] for d in double.documents() if d["bulk"]]
    assert [line["product"]["id"] for line in lines] == [
        f"gid://shopify/Product/{p['id']}"
        for p in (products[0], products[1], products[2], products[4])
    ]
    assert lines[-1] == {
        "product": {
            "id": f"gid://shopify/Product/{products[4]['id']}",
            "vendor": "Bcme",
            "descriptionHtml": "",
        }
    }


def test_product_update_bulk_operation_reads_back_as_the_index_keeps_it(
    double: ShopifyDouble,
) -> None:
    # Given a product, When its fields are written through the bulk path
    [product] = double.seed([_product("Old", 2)])
    html = "<p>Bright\n  and <b>warm</b></p>"
    item = _product_item(
        product, name=["Old", "Lamp"], description=[None, html], brand=[None, "Lumo"]
    )
    connector = _connector(double, FakeSleep(real=True))
    assert connector.apply("product_update_bulk_operation", [item], batch_key="rb") == [(True, "")]
    # Then every variant reads what the index is patched with: the next run sees no change
    for variant in connector.iter_variants():
        for field, new in (("name", "Lamp"), ("description", html), ("brand", "Lumo")):
            assert variant[VARIANT_POS[field]] == index_value(field, new)


def test_a_bulk_mutation_larger_than_a_file_runs_as_several_operations(
    double: ShopifyDouble,
) -> None:
    # Given seven products with long descriptions, and files limited to about three lines
    products = double.seed(_product(f"D{i}", 1) for i in range(7))
    items = [
        _product_item(p, description=[None, f"<p>{i} {'x' * 200}</p>"])
        for i, p in enumerate(products)
    ]
    connector = _connector(double, FakeSleep(real=True))
    connector.max_bulk_file_bytes = 3 * 300
    # When they go through the bulk path
    results = connector.apply("product_update_bulk_operation", items, batch_key="big")
    # Then each file was its own bulk operation, one after the other, none over the limit
    assert results == [(True, "")] * 7
    files = double.uploaded_files()
    assert [f.count(b"\n") for f in files] == [3, 3, 1]
    assert all(len(f) <= 900 for f in files)
    assert [op["status"] for op in double.bulk_operations()] == ["COMPLETED"] * 3
    # And every product got its own description, mapped back from its file's line
    for i, product in enumerate(products):
        assert double.product(product["id"])["description_html"] == f"<p>{i} {'x' * 200}</p>"


def test_no_further_bulk_file_is_started_once_the_time_is_up(double: ShopifyDouble) -> None:
    # Given three files' worth of product lines, and a clock that jumps past the bulk
    # timeout as soon as the first bulk operation is done
    products = double.seed(_product(f"T{i}", 1) for i in range(7))
    items = [_product_item(p, description=[None, "<p>" + "y" * 200 + "</p>"]) for p in products]

    def clock() -> float:
        done = [d for d in double.bulk_durations() if d is not None]
        return time.monotonic() + (10_000.0 if done else 0.0)

    connector = _connector(double, FakeSleep(real=True), clock=clock)
    connector.max_bulk_file_bytes = 3 * 300
    # When they go through the bulk path, Then it gives up before the second file
    with pytest.raises(
        StoreUnavailable,
        match="1 of 3 bulk operations done; no time left for the others within 840 s",
    ):
        connector.apply("product_update_bulk_operation", items, batch_key="late")
    # And no operation was left running in the shop for a retry to wait for
    assert [op["status"] for op in double.bulk_operations()] == ["COMPLETED"]
    assert len(double.uploaded_files()) == 1


def test_the_jsonl_files_of_a_bulk_mutation_stay_within_the_limit() -> None:
    lines = [b"a" * 9, b"b" * 9, b"c" * 29, b"d" * 4]
    # Given lines of 10, 10, 30 and 5 bytes (a newline each), When cut for 20-byte files
    files = shopify_bulk.files_of(lines, 20)
    # Then two lines share the first file, the long one goes alone, the last one alone
    assert files == [(0, 2), (2, 3), (3, 4)]
    assert shopify_bulk.files_of([], 20) == []
    assert shopify_bulk.files_of(lines, 10**6) == [(0, 4)]


def _product_outcomes(products: list[dict[str, Any]]) -> list[Any]:
    return [
        (n + 2, f"K{n}", "changed", p["id"], p["variants"][0]["id"], (("brand", None, "B"),), "")
        for n, p in enumerate(products)
    ]


@pytest.mark.parametrize(("count", "bulk"), [(500, False), (501, True)])
def test_above_the_threshold_product_fields_take_the_bulk_operation(count: int, bulk: bool) -> None:
    # Given changed brands for ``count`` products (fake ids)
    products = [{"id": 10 + n, "variants": [{"id": 1000 + n}]} for n in range(count)]
    # When the plan is built with Shopify's capabilities
    caps = ShopifyConnector("https://x.myshopify.com", "t").capabilities
    shards = list(build_plan(_product_outcomes(products), caps))
    batches = [batch for shard in shards for batch in shard]
    # Then up to 500 products go one per productUpdate request; above, all in one bulk
    # mutation, in the serial (last) shard, still one product-level item per product
    if bulk:
        [batch] = batches
        assert batch["op"] == "product_update_bulk_operation" and len(batch["items"]) == count
        assert caps.op(batch["op"]).serial and shards[-1] == [batch]
        assert all(item.product_level and item.rows for item in batch["items"])
    else:
        assert {b["op"] for b in batches} == {"product_update"} and len(batches) == count


def test_a_planned_product_bulk_batch_is_applied_through_one_bulk_mutation(
    double: ShopifyDouble,
) -> None:
    # Given 501 products whose brand changed, planned as the match step plans them
    products = double.seed(_product(f"V{i}", 1) for i in range(501))
    connector = _connector(double, FakeSleep(real=True))
    [[batch]] = list(build_plan(_product_outcomes(products), connector.capabilities))
    # When the update step applies the batch
    results = connector.apply(batch["op"], batch["items"], batch_key="run-1-0-0")
    # Then every product has its brand, through one bulk operation
    assert results == [(True, "")] * 501
    assert {double.product(p["id"])["vendor"] for p in products} == {"B"}
    assert double.stats()["by_field"]["bulkOperationRunMutation"] == 1
