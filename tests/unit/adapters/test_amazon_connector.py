"""The Amazon connector against the Amazon double: the access token, the report and the
search reads, the feed writes and what each message's result says. A virtual clock
drives both, so reports, feeds and usage plans take no real time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from feedsync.domain.fields import REF, VARIANT_POS
from feedsync.domain.plan import build_plan
from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.models import CreateStore
from feedsync.platforms.amazon.connector import AmazonConnector
from feedsync.platforms.amazon.endpoints import listing_id
from feedsync.platforms.amazon.jobs import Polling, wait_for
from feedsync.platforms.registry import capabilities_for, platform
from feedsync_local.amazon_double import AmazonDouble, VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(5000.0)


@pytest.fixture
def double(clock: VirtualClock) -> Iterator[AmazonDouble]:
    with AmazonDouble(clock=clock) as started:
        started.seed(
            [
                {
                    "sku": "MUG-1",
                    "name": "Mug",
                    "price": 1299,
                    "quantity": 7,
                    "upc": "012345678905",
                },
                {"sku": "CAP-1", "name": "Cap", "price": 1010, "quantity": 0},
                {
                    "sku": "TEE-1",
                    "name": "Tee",
                    "price": 1999,
                    "quantity": 4,
                    "ean": "4006381333931",
                },
            ]
        )
        yield started


def _connector(double: AmazonDouble, clock: VirtualClock, **extra: Any) -> AmazonConnector:
    return AmazonConnector(
        double.endpoint,
        client_id=double.client_id,
        client_secret=double.client_secret,
        refresh_token=extra.pop("refresh_token", double.refresh_token),
        seller_id=double.seller_id,
        marketplace_id=double.marketplace_id,
        token_url=double.token_url,
        allow_private=True,
        sleep=clock.sleep,
        clock=clock,
        **extra,
    )


def _item(row: int, sku: str, **changes: list[Any]) -> PlanItem:
    ident = listing_id(sku)
    return PlanItem(row=row, key=sku, product_id=ident, variant_id=ident, changes=changes, ref=sku)


def _operations(double: AmazonDouble) -> list[str]:
    return [what for _, what, _ in double.requests_log()]


def test_a_full_read_comes_from_the_listings_report(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a seller with three listings, the report compressed
    double.state.gzip_reports = True
    # When the whole catalog is read
    variants = {v[VARIANT_POS["sku"]]: v for v in _connector(double, clock).iter_variants()}
    # Then every SKU comes back keyed by its stable id, its SKU as the writes' reference
    assert set(variants) == {"MUG-1", "CAP-1", "TEE-1"}
    mug = variants["MUG-1"]
    assert mug[0] == mug[1] == listing_id("MUG-1") and mug[REF] == "MUG-1"
    # with its price in cents, quantity, name and barcode (UPC / EAN, else the ASIN)
    assert (mug[VARIANT_POS["price"]], mug[VARIANT_POS["stock"]]) == (1299, 7)
    assert mug[VARIANT_POS["barcode"]] == "012345678905"
    assert variants["TEE-1"][VARIANT_POS["barcode"]] == "4006381333931"
    assert str(variants["CAP-1"][VARIANT_POS["barcode"]]).startswith("B0")
    # through one report: a token, create, polls, the document and its download
    ops = _operations(double)
    assert ops[:2] == ["token", "createReport"] and ops[-2:] == ["getReportDocument", "download"]


def test_an_incremental_read_searches_what_changed(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given the tee updated recently, the rest long ago
    old = datetime(2024, 1, 1, tzinfo=UTC)
    for sku in ("MUG-1", "CAP-1"):
        double.set_modified(sku, old)
    double.set_modified("TEE-1", old + timedelta(days=40))
    # When what changed since a month later is read
    read = list(_connector(double, clock).iter_variants(old + timedelta(days=30)))
    # Then only the tee comes back, through the search (no report)
    assert [v[VARIANT_POS["sku"]] for v in read] == ["TEE-1"]
    assert read[0][VARIANT_POS["price"]] == 1999 and read[0][VARIANT_POS["stock"]] == 4
    assert "createReport" not in _operations(double)


def test_more_changes_than_search_pages_through_fall_back_to_the_report(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given 1,001 listings changed recently
    recent = datetime.now(UTC) + timedelta(days=1)
    double.seed({"sku": f"N-{n:04d}", "price": 100, "updated": recent} for n in range(1001))
    connector = _connector(double, clock)
    # When what changed is read
    read = list(connector.iter_variants(recent - timedelta(hours=1)))
    # Then the search said more than 1,000 and the report gave the whole catalog instead
    assert connector.report_fallbacks == 1
    assert len(read) == 1004
    assert _operations(double).count("searchListingsItems") == 1


@pytest.mark.parametrize("status", [403, 401])
def test_the_access_token_is_cached_and_bought_again_when_it_expired(
    double: AmazonDouble, clock: VirtualClock, status: int
) -> None:
    connector = _connector(double, clock)
    list(connector.iter_variants())
    list(connector.iter_variants())
    # Then two reads used one token
    assert _operations(double).count("token") == 1
    # Given Amazon now says the token expired, with a 403 or (the Reports API) a 401
    double.expire_tokens(status)
    # When it reads again
    assert len(list(connector.iter_variants())) == 3
    # Then it was refused once, bought a new token and resent the refused createReport
    log = double.requests_log()
    refused = [i for i, (_, what, answered) in enumerate(log) if answered in (401, 403)]
    assert [log[i][1:] for i in refused] == [("createReport", status)]
    assert [what for _, what, _ in log[refused[0] + 1 : refused[0] + 3]] == [
        "token",
        "createReport",
    ]
    assert _operations(double).count("token") == 2


def test_a_refused_refresh_token_is_an_auth_error(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    with pytest.raises(StoreAuthError, match="refresh token"):
        list(_connector(double, clock, refresh_token="Atzr|revoked").iter_variants())


def test_one_feed_writes_the_batch_and_maps_every_message_back(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a batch: a price and a quantity, a refused price, a SKU deleted meanwhile
    double.reject_sku("CAP-1", "The price is below the minimum allowed", code="8572")
    double.delete("TEE-1")
    items = [
        _item(1, "MUG-1", price=[1299, 1550], stock=[7, 3]),
        _item(2, "CAP-1", price=[1010, 900]),
        _item(3, "TEE-1", stock=[4, 5]),
    ]
    # When it is applied
    results = _connector(double, clock).apply("listings_feed", items, batch_key="k")
    # Then the mug was written, the cap refused with Amazon's code and message, the tee gone
    assert (results[0].ok, results[0].message) == (True, "")
    assert not results[1].ok and results[1].gone is None
    assert "The price is below the minimum allowed [8572]" in results[1].message
    assert (results[2].ok, results[2].gone) == (False, "product")
    mug = double.listing("MUG-1")
    assert mug is not None and (mug.price_cents, mug.quantity) == (1550, 3)
    # in one feed: a document, its upload, the feed, status polls, the report
    ops = _operations(double)
    assert [ops.count(o) for o in ("createFeedDocument", "upload", "createFeed")] == [1, 1, 1]
    assert ops[-2:] == ["getFeedDocument", "download"]
    # and the message went as an offer-only PATCH in the marketplace's currency
    [(_, _, spec)] = [r for r in double.received if r[0] == "createFeed"]
    assert spec["feedType"] == "JSON_LISTINGS_FEED"


def test_a_price_or_stock_update_keeps_the_sale_price_and_handling_time(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a listing on sale with a minimum price, a list price and a handling time
    offer = {
        "discounted_price": [{"schedule": [{"value_with_tax": 9.99}]}],
        "minimum_seller_allowed_price": [{"schedule": [{"value_with_tax": 8.0}]}],
        "list_price": [{"value_with_tax": 25.0}],
    }
    availability = {"lead_time_to_ship_max_days": 4, "restock_date": "2027-01-10"}
    double.seed(
        [
            {"sku": "LAMP-1", "price": 2000, "quantity": 5, "offer": offer},
            {"sku": "DESK-1", "price": 9000, "quantity": 2, "availability": availability},
        ]
    )
    # When feedsync writes a new price to one and a new quantity to the other
    connector = _connector(double, clock)
    results = connector.apply(
        "listings_feed",
        [_item(1, "LAMP-1", price=[2000, 1800]), _item(2, "DESK-1", stock=[2, 6])],
        batch_key="k",
    )
    assert [r.ok for r in results] == [True, True]
    lamp, desk = double.listing("LAMP-1"), double.listing("DESK-1")
    assert lamp is not None and desk is not None
    # Then each has its new value
    assert (lamp.price_cents, desk.quantity) == (1800, 6)
    # and kept the rest of its offer and its availability
    [lamp_offer] = lamp.attributes["purchasable_offer"]
    assert {k: lamp_offer[k] for k in offer} == offer
    [desk_availability] = desk.attributes["fulfillment_availability"]
    assert {k: desk_availability[k] for k in availability} == availability


def test_a_fatal_feed_fails_every_item_and_changes_nothing(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    double.fatal_next_feeds()
    results = _connector(double, clock).apply(
        "listings_feed", [_item(1, "MUG-1", stock=[7, 1])], batch_key="k"
    )
    assert not results[0].ok and "FATAL" in results[0].message
    mug = double.listing("MUG-1")
    assert mug is not None and mug.quantity == 7


def test_what_a_feed_cannot_carry_fails_alone_unsent(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a price of zero and an item without a SKU beside a good one
    bad_price = _item(1, "MUG-1", price=[1299, 0])
    no_sku = PlanItem(row=2, key="X", product_id=1, variant_id=1, changes={"stock": [1, 2]})
    results = _connector(double, clock).apply(
        "listings_feed", [bad_price, no_sku, _item(3, "CAP-1", stock=[0, 4])], batch_key="k"
    )
    assert [r.ok for r in results] == [False, False, True]
    assert "above 0" in results[0].message and "SKU" in results[1].message


def test_content_and_sale_prices_are_refused_with_the_reason() -> None:
    caps = capabilities_for("amazon")
    assert caps.writable_fields == ("price", "stock")
    with pytest.raises(ValueError, match="sale_price: Amazon's sale price is a scheduled"):
        caps.check_fields(["price", "sale_price"])
    with pytest.raises(ValueError, match="description: a listing's content"):
        caps.check_fields(["description"])


def test_a_store_needs_the_apps_credentials_and_the_seller() -> None:
    body: dict[str, Any] = {
        "name": "My Amazon",
        "platform": "amazon",
        "api_url": "https://sellingpartnerapi-na.amazon.com",
        "credentials": {"client_id": "a", "client_secret": "b", "refresh_token": "c"},
        "options": {"seller_id": "A2FEEDSYNCSELLER", "marketplace_id": "ATVPDKIKX0DER"},
    }
    assert CreateStore.model_validate(body).options.seller_id == "A2FEEDSYNCSELLER"
    with pytest.raises(ValueError, match="needs options marketplace_id"):
        CreateStore.model_validate({**body, "options": {"seller_id": "A2FEEDSYNCSELLER"}})
    with pytest.raises(ValueError, match="needs credentials"):
        CreateStore.model_validate({**body, "credentials": {"client_id": "a"}})


def test_another_token_url_only_where_private_urls_are_allowed() -> None:
    with pytest.raises(StoreRequestError, match="token_url"):
        AmazonConnector(
            "https://sellingpartnerapi-na.amazon.com",
            client_id="a",
            client_secret="b",
            refresh_token="c",
            seller_id="A2FEEDSYNCSELLER",
            marketplace_id="ATVPDKIKX0DER",
            token_url="https://tokens.example/o2/token",
        )


def test_each_feed_is_an_update_shard_of_its_own() -> None:
    # Given 60,000 changed listings (a feed takes minutes at Amazon, an update Lambda 15 at most)
    caps = capabilities_for("amazon")
    changed = [
        (
            n + 2,
            f"S{n}",
            "changed",
            listing_id(f"S{n}"),
            listing_id(f"S{n}"),
            (("stock", 1, 2),),
            "",
        )
        for n in range(60_000)
    ]
    # When they are planned with the deployment's 20 batches per shard
    plan = list(build_plan(changed, caps, batches_per_shard=20))
    # Then each shard holds one feed of at most 25,000 messages
    assert [[len(b["items"]) for b in shard] for shard in plan] == [[25_000], [25_000], [10_000]]


def test_a_slow_job_is_looked_at_after_half_the_time_waited_so_far() -> None:
    # Given a feed guessed to take 100 s that is done at the fourth look
    answers = iter(["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE"])
    clock = VirtualClock(5000.0)
    polling = Polling(first_s=10, cap_s=300, patience_s=780, min_s=5)
    # When it is waited for
    job = wait_for(
        lambda: {"processingStatus": next(answers)},
        polling=polling,
        first_s=100,
        sleep=clock.sleep,
        clock=clock,
        what="feed 1",
    )
    # Then the waits grew with the time already waited: 100, 50, 75, 112.5
    assert job["processingStatus"] == "DONE"
    assert clock.sleeps == [100, 50, 75, 112.5]


@pytest.mark.parametrize("first_s", [5, 10, 100, 250, 333, 600, 779])
@pytest.mark.parametrize("spent_before", [0, 30, 200])
def test_a_job_that_never_finishes_is_given_up_at_the_patience_never_past_it(
    first_s: float, spent_before: float
) -> None:
    # Given a feed that stays IN_PROGRESS, each look taking 2 s, and a batch that spent
    # some time (upload, createFeed) before its first look
    clock = VirtualClock(5000.0)
    started = clock.now
    clock.now += spent_before
    polling = Polling(first_s=10, cap_s=300, patience_s=780, min_s=5)

    def look() -> dict[str, Any]:
        clock.now += 2
        return {"processingStatus": "IN_PROGRESS"}

    # When it is waited for
    with pytest.raises(StoreUnavailable, match="still IN_PROGRESS") as raised:
        wait_for(
            look,
            polling=polling,
            first_s=first_s,
            sleep=clock.sleep,
            clock=clock,
            started=started,
            what="feed 2",
        )
    # Then it is given up as unavailable (the retry's case), the sleeps within the patience
    # left and the whole wait ending at it (plus the last look), inside Lambda's 900 s
    assert sum(clock.sleeps) <= polling.patience_s - spent_before
    assert clock.now - started <= polling.patience_s + 2
    assert "a retry of the run sends a new feed" in str(raised.value)


def test_a_feed_taking_an_hour_makes_the_store_unavailable_before_the_timeout(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a feed Amazon takes an hour to process
    double.state.feed_min_s = 3600
    start = clock.now
    # When a batch is written
    with pytest.raises(StoreUnavailable, match="still IN_PROGRESS"):
        _connector(double, clock).apply(
            "listings_feed", [_item(1, "MUG-1", stock=[7, 2])], batch_key="k"
        )
    # Then the connector gave up at its patience, before the update function's timeout
    assert clock.now - start <= AmazonConnector.polling.patience_s + 1
    mug = double.listing("MUG-1")
    assert mug is not None and mug.quantity == 7


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("https://sellingpartnerapi-na.amazon.com", True),
        ("https://sellingpartnerapi-fe.amazon.com", True),
        ("http://sellingpartnerapi-na.amazon.com", False),
        ("https://sellingpartnerapi-na.amazon.com.evil.example", False),
        ("https://api.amazon.com", False),
    ],
)
def test_the_store_url_is_the_sp_api_endpoint_of_a_region(url: str, taken: bool) -> None:
    assert bool(platform("amazon").store_url.fullmatch(url)) is taken
