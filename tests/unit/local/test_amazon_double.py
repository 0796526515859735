"""The Amazon double answers as the SP-API specs say: tokens, listings, reports, feeds,
usage plans and injected faults. Time is a virtual clock: nothing waits."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from jsonschema import Draft7Validator

from feedsync_local.amazon_double import CODE_UNKNOWN_SKU, AmazonDouble, VirtualClock
from feedsync_local.specs import specs_dir

SPECS = specs_dir() / "amazon"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1000.0)


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
                {
                    "sku": "CAP-1",
                    "name": "Cap",
                    "price": 1010,
                    "quantity": 0,
                    "ean": "4006381333931",
                },
            ]
        )
        yield started


def _token(double: AmazonDouble, **override: str) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": double.refresh_token,
        "client_id": double.client_id,
        "client_secret": double.client_secret,
        **override,
    }
    return requests.post(double.token_url, data=form, timeout=5)


def _api(double: AmazonDouble) -> requests.Session:
    session = requests.Session()
    session.headers["x-amz-access-token"] = _token(double).json()["access_token"]
    return session


def _feed(double: AmazonDouble, session: requests.Session, document: Any) -> str:
    base = double.endpoint
    content_type = "application/json; charset=UTF-8"
    made = session.post(f"{base}/feeds/2021-06-30/documents", json={"contentType": content_type})
    assert made.status_code == 201
    upload = requests.put(
        made.json()["url"],
        data=json.dumps(document).encode(),
        headers={"Content-Type": content_type},
    )
    assert upload.status_code == 200
    spec = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [double.marketplace_id],
        "inputFeedDocumentId": made.json()["feedDocumentId"],
    }
    created = session.post(f"{base}/feeds/2021-06-30/feeds", json=spec)
    assert created.status_code == 202
    return str(created.json()["feedId"])


def _patch(mid: int, sku: str, price: Any = None, quantity: Any = None) -> dict[str, Any]:
    patches = []
    if price is not None:
        offer = {"marketplace_id": "ATVPDKIKX0DER", "currency": "USD"}
        offer["our_price"] = [{"schedule": [{"value_with_tax": price}]}]
        patches.append({"op": "replace", "path": "/attributes/purchasable_offer", "value": [offer]})
    if quantity is not None:
        value = [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
        patches.append(
            {"op": "replace", "path": "/attributes/fulfillment_availability", "value": value}
        )
    return {
        "messageId": mid,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": patches,
    }


def _document(double: AmazonDouble, *messages: dict[str, Any]) -> dict[str, Any]:
    return {"header": {"sellerId": double.seller_id, "version": "2.0"}, "messages": list(messages)}


def _finished(
    double: AmazonDouble, session: requests.Session, clock: VirtualClock, feed_id: str
) -> Any:
    url = f"{double.endpoint}/feeds/2021-06-30/feeds/{feed_id}"
    assert session.get(url).json()["processingStatus"] == "IN_QUEUE"
    clock.now += 3
    assert session.get(url).json()["processingStatus"] == "IN_PROGRESS"
    clock.now += 600
    feed = session.get(url).json()
    doc = session.get(
        f"{double.endpoint}/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}"
    )
    report = requests.get(doc.json()["url"]).json()
    schema = json.loads((SPECS / "listings-feed-processing-report-schema-v2.json").read_text())
    Draft7Validator(schema).validate(report)
    return feed["processingStatus"], report


def test_the_refresh_token_buys_an_access_token_that_expires(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given the app's credentials and the seller's refresh token
    # When they are exchanged
    answer = _token(double)
    # Then an access token comes back with its lifetime
    assert answer.status_code == 200 and answer.json()["expires_in"] == 3600
    session = requests.Session()
    session.headers["x-amz-access-token"] = answer.json()["access_token"]
    item = f"{double.endpoint}/listings/2021-08-01/items/{double.seller_id}/MUG-1"
    params = {"marketplaceIds": double.marketplace_id}
    assert session.get(item, params=params).status_code == 200
    # and once its hour is over it is refused, saying it expired
    clock.now += 3600
    refused = session.get(item, params=params)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "Unauthorized"
    assert "expired" in refused.json()["errors"][0]["details"]
    # and a wrong refresh token buys nothing
    bad = _token(double, refresh_token="Atzr|nope")
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")


def test_a_listing_reads_with_its_offer_and_availability(double: AmazonDouble) -> None:
    # When a client reads a listing with its offers and fulfillment availability
    session = _api(double)
    answer = session.get(
        f"{double.endpoint}/listings/2021-08-01/items/{double.seller_id}/MUG-1",
        params={
            "marketplaceIds": double.marketplace_id,
            "includedData": "summaries,offers,fulfillmentAvailability",
        },
    )
    # Then it has the price in the marketplace's currency and the merchant's quantity
    item = answer.json()
    assert item["offers"][0]["price"] == {"currencyCode": "USD", "amount": "12.99"}
    assert item["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]
    assert item["summaries"][0]["itemName"] == "Mug"
    assert answer.headers["x-amzn-RateLimit-Limit"] == "5"


def test_search_pages_what_changed_and_stops_at_a_thousand(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given 1,200 listings updated now and two updated a month ago
    recent = datetime.now(UTC) + timedelta(days=1)
    double.seed({"sku": f"N-{n:04d}", "price": 100, "updated": recent} for n in range(1200))
    session = _api(double)
    url = f"{double.endpoint}/listings/2021-08-01/items/{double.seller_id}"
    query = {
        "marketplaceIds": double.marketplace_id,
        "lastUpdatedAfter": (recent - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pageSize": 20,
    }
    # When a client pages through what changed since an hour before
    skus: list[str] = []
    first = session.get(url, params=query).json()
    page = first
    while True:
        skus += [i["sku"] for i in page["items"]]
        token = page.get("pagination", {}).get("nextToken")
        if not token:
            break
        clock.now += 0.2  # the search's usage plan: 5 per second
        page = session.get(url, params={**query, "pageToken": token}).json()
    # Then all 1,200 are counted, but only the first 1,000 can be paged through
    assert first["numberOfResults"] == 1200
    assert len(skus) == len(set(skus)) == 1000 and all(s.startswith("N-") for s in skus)
    # and a page bigger than 20 is refused
    assert session.get(url, params={**query, "pageSize": 21}).status_code == 400


@pytest.mark.parametrize("gzipped", [False, True])
def test_the_listings_report_is_processed_then_downloads_as_tab_separated(
    double: AmazonDouble, clock: VirtualClock, gzipped: bool
) -> None:
    double.state.gzip_reports = gzipped
    session = _api(double)
    base = double.endpoint
    # Given a listings report asked for
    spec = {
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
        "marketplaceIds": [double.marketplace_id],
    }
    report_id = session.post(f"{base}/reports/2021-06-30/reports", json=spec).json()["reportId"]
    url = f"{base}/reports/2021-06-30/reports/{report_id}"
    # Then it is queued, and done once its time has passed
    assert session.get(url).json()["processingStatus"] == "IN_QUEUE"
    clock.now += 60
    report = session.get(url).json()
    assert report["processingStatus"] == "DONE"
    doc = session.get(f"{base}/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    assert ("compressionAlgorithm" in doc) == gzipped
    raw = requests.get(doc["url"]).content
    lines = (gzip.decompress(raw) if gzipped else raw).decode().splitlines()
    # and its document lists every listing, tab-separated with a header row
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    mug = next(r for r in rows if r["seller-sku"] == "MUG-1")
    assert (mug["price"], mug["quantity"], mug["product-id"]) == ("12.99", "7", "012345678905")
    assert mug["product-id-type"] == "3"  # UPC
    assert len(rows) == 2


def test_a_feed_applies_valid_messages_and_reports_each_refused_one(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a feed: a good price and quantity, a price of zero, an unknown SKU, a refusal
    double.reject_sku("CAP-1", "Refused for a test", code="8572")
    session = _api(double)
    feed_id = _feed(
        double,
        session,
        _document(
            double,
            _patch(1, "MUG-1", price=15.5, quantity=3),
            _patch(2, "MUG-1", price=0),
            _patch(3, "NOPE-1", quantity=1),
            _patch(4, "CAP-1", quantity=9),
            {**_patch(5, "MUG-1", quantity=99), "productType": ""},
        ),
    )
    # When it has been processed (valid against the processing report schema)
    status, report = _finished(double, session, clock, feed_id)
    # Then it is DONE and the good message was applied
    assert status == "DONE"
    mug = double.listing("MUG-1")
    assert mug is not None and (mug.price_cents, mug.quantity) == (1550, 3)
    # and each other message has its ERROR issue
    codes = {i["messageId"]: i["code"] for i in report["issues"]}
    assert codes[2] == "90244" and codes[3] == CODE_UNKNOWN_SKU and codes[4] == "8572"
    # (a message the listings feed schema refuses, too: its productType is empty)
    assert codes[5] == "4000001" and mug.quantity == 3
    assert report["summary"]["messagesAccepted"] == 1
    assert report["summary"]["messagesInvalid"] == 4


def test_replace_sets_a_whole_offer_attribute_and_merge_keeps_the_rest(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given listings with a sale price and a handling time besides price and quantity
    sale = {"discounted_price": [{"schedule": [{"value_with_tax": 9.99}]}]}
    handling = {"lead_time_to_ship_max_days": 3}
    double.seed(
        [
            {"sku": f"{k}-1", "price": 1500, "quantity": 5, "offer": sale, "availability": handling}
            for k in ("KEEP", "DROP")
        ]
    )
    session = _api(double)

    def sent(op: str, sku: str, mid: int) -> dict[str, Any]:
        message = _patch(mid, sku, price=12.5, quantity=8)
        for patch in message["patches"]:
            patch["op"] = op
        return message

    # When one gets price and quantity merged, the other replaced
    feed = _feed(
        double, session, _document(double, sent("merge", "KEEP-1", 1), sent("replace", "DROP-1", 2))
    )
    status, report = _finished(double, session, clock, feed)
    assert (status, report["issues"]) == ("DONE", [])
    kept, dropped = double.listing("KEEP-1"), double.listing("DROP-1")
    assert kept is not None and dropped is not None
    # Then both have the new price and quantity
    assert (kept.price_cents, kept.quantity) == (dropped.price_cents, dropped.quantity) == (1250, 8)
    # and the merged one kept its sale price and handling time, the replaced one lost them
    [offer] = kept.attributes["purchasable_offer"]
    [availability] = kept.attributes["fulfillment_availability"]
    assert offer["discounted_price"] == sale["discounted_price"]
    assert availability["lead_time_to_ship_max_days"] == 3
    assert "discounted_price" not in dropped.attributes["purchasable_offer"][0]
    assert "lead_time_to_ship_max_days" not in dropped.attributes["fulfillment_availability"][0]


def test_a_default_quantity_switches_an_fba_listing_to_merchant_fulfilled(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    # Given a listing fulfilled by Amazon: no merchant quantity, in the report or a read
    [fba] = double.seed(
        [{"sku": "FBA-1", "price": 2000, "quantity": 40, "fulfillment": "AMAZON_NA"}]
    )
    assert (fba.channel, fba.quantity) == ("AMAZON_NA", None)
    session = _api(double)
    item = session.get(
        f"{double.endpoint}/listings/2021-08-01/items/{double.seller_id}/FBA-1",
        params={"marketplaceIds": double.marketplace_id, "includedData": "fulfillmentAvailability"},
    ).json()
    assert item["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 40}
    ]
    # When a merchant-fulfilled quantity is merged into it
    message = _patch(1, "FBA-1", quantity=6)
    message["patches"][0]["op"] = "merge"
    _finished(double, session, clock, _feed(double, session, _document(double, message)))
    # Then it is merchant-fulfilled now (as on Amazon: what feedsync must never send it)
    assert (fba.channel, fba.quantity) == ("DEFAULT", 6)


def test_an_invalid_document_or_an_injected_fault_makes_the_feed_fatal(
    double: AmazonDouble, clock: VirtualClock
) -> None:
    session = _api(double)
    # Given a document without its header
    bad = _feed(double, session, {"messages": [_patch(1, "MUG-1", quantity=1)]})
    # Then it ends FATAL, with an ERROR issue
    status, report = _finished(double, session, clock, bad)
    assert status == "FATAL" and report["issues"][0]["severity"] == "ERROR"
    # Given a good document, and a FATAL injected
    double.fatal_next_feeds()
    injected = _feed(double, session, _document(double, _patch(1, "MUG-1", quantity=2)))
    # Then it ends FATAL too
    status, report = _finished(double, session, clock, injected)
    assert status == "FATAL" and report["issues"][0]["severity"] == "ERROR"
    # and nothing changed
    mug = double.listing("MUG-1")
    assert mug is not None and mug.quantity == 7


def test_each_operation_keeps_its_usage_plan(double: AmazonDouble, clock: VirtualClock) -> None:
    session = _api(double)
    url = f"{double.endpoint}/feeds/2021-06-30/documents"
    body = {"contentType": "application/json"}
    # When createFeedDocument (0.5 per second, burst 15) is called 16 times at once
    answers = [session.post(url, json=body) for _ in range(16)]
    # Then the burst goes through and the 16th is throttled, naming the rate
    assert [a.status_code for a in answers] == [201] * 15 + [429]
    assert answers[-1].headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert answers[-1].json()["errors"][0]["code"] == "QuotaExceeded"
    # and two seconds later one more is allowed
    clock.now += 2
    assert session.post(url, json=body).status_code == 201
    # and a scaled plan refills faster
    double.scale_rates(100)
    assert [session.post(url, json=body).status_code for _ in range(15)] == [201] * 15


def test_injected_faults_answer_before_anything_else(double: AmazonDouble) -> None:
    # Given a 503 and a 429 with a rate header injected
    double.fail_next(503)
    double.fail_next(429, headers={"x-amzn-RateLimit-Limit": "0.4"})
    # When two requests come
    first, second = _token(double), _token(double)
    # Then they get exactly those, and the third is served
    assert first.status_code == 503
    assert (second.status_code, second.headers["x-amzn-RateLimit-Limit"]) == (429, "0.4")
    assert _token(double).status_code == 200
    assert [s for _, _, s in double.requests_log()] == [503, 429, 200]
