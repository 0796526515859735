"""Contract: what the Amazon connector sends and what the Amazon double answers, checked
against Amazon's own specifications in ``../shared/specs/amazon/`` (read from there,
never copied): the SP-API models (feeds, reports, listings items) for every operation's
path, query, body and answer, the listings feed schema for every feed document, and the
processing report schema for every processing report."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from jsonschema import Draft4Validator, Draft7Validator

from feedsync.domain.writes import PlanItem
from feedsync.platforms.amazon.connector import AmazonConnector
from feedsync.platforms.amazon.endpoints import listing_id
from feedsync_local.amazon_double import AmazonDouble, VirtualClock
from feedsync_local.specs import specs_dir

SPECS = specs_dir() / "amazon"
MODELS = ("feeds_2021-06-30.json", "reports_2021-06-30.json", "listingsItems_2021-08-01.json")


class Operation(NamedTuple):
    method: str
    path: re.Pattern[str]
    spec: dict[str, Any]
    definitions: dict[str, Any]


@cache
def operations() -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for name in MODELS:
        model = json.loads((SPECS / name).read_text())
        for template, methods in model["paths"].items():
            pattern = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", template))
            for method, op in methods.items():
                if isinstance(op, dict) and "operationId" in op:
                    found[op["operationId"]] = Operation(
                        method.upper(), pattern, op, model["definitions"]
                    )
    return found


def _validator(schema: dict[str, Any], definitions: dict[str, Any]) -> Draft4Validator:
    return Draft4Validator({**schema, "definitions": definitions})


@cache
def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPECS / name).read_text())
    return loaded


@pytest.fixture(scope="module")
def exchanged() -> Iterator[AmazonDouble]:
    """A connector's whole repertoire against the double: a full read (gzip report), an
    incremental read, a feed with a refused and an unknown SKU, an expired token, a 429."""
    clock = VirtualClock(7000.0)
    with AmazonDouble(clock=clock) as double:
        double.state.gzip_reports = True
        double.seed(
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
        connector = AmazonConnector(
            double.endpoint,
            client_id=double.client_id,
            client_secret=double.client_secret,
            refresh_token=double.refresh_token,
            seller_id=double.seller_id,
            marketplace_id=double.marketplace_id,
            token_url=double.token_url,
            allow_private=True,
            sleep=clock.sleep,
            clock=clock,
        )
        list(connector.iter_variants())
        double.set_modified("TEE-1", datetime.now(UTC) + timedelta(days=2))
        list(connector.iter_variants(datetime.now(UTC) + timedelta(days=1)))
        double.expire_tokens()
        double.fail_next(429, headers={"x-amzn-RateLimit-Limit": "0.5"})
        double.reject_sku("CAP-1", "The price is below the minimum", code="8572")

        def item(sku: str, **changes: list[Any]) -> PlanItem:
            ident = listing_id(sku)
            return PlanItem(1, sku, ident, ident, changes, ref=sku)

        connector.apply(
            "listings_feed",
            [
                item("MUG-1", price=[1299, 1550], stock=[7, 3]),
                item("CAP-1", price=[1010, 950]),
                item("GONE-1", stock=[1, 2]),
            ],
            batch_key="contract",
        )
        yield double


def test_the_exchange_used_every_operation_the_connector_knows(exchanged: AmazonDouble) -> None:
    used = {operation for operation, _, _ in exchanged.received}
    assert used == {
        "createReport",
        "getReport",
        "getReportDocument",
        "searchListingsItems",
        "createFeedDocument",
        "createFeed",
        "getFeed",
        "getFeedDocument",
    }


def test_every_request_is_one_the_specs_define(exchanged: AmazonDouble) -> None:
    for operation, target, body in exchanged.received:
        op = operations()[operation]
        url = urlsplit(target)
        # Given its path, Then it is the operation's
        assert op.path.fullmatch(url.path), (operation, url.path)
        declared = {p["name"]: p for p in op.spec.get("parameters", []) if "name" in p}
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        # and its query names only the operation's parameters, the required ones too
        for name, value in query.items():
            param = declared.get(name)
            assert param is not None and param["in"] == "query", (operation, name)
            values = value.split(",") if param.get("type") == "array" else [value]
            enum = (param.get("items") or {}).get("enum") or param.get("enum")
            assert not enum or set(values) <= set(enum), (operation, name, value)
            if param.get("type") == "integer":
                assert int(value) <= param.get("maximum", int(value)), (operation, name)
        required = {n for n, p in declared.items() if p["in"] == "query" and p.get("required")}
        assert required <= set(query), (operation, required - set(query))
        # and its body is valid against the operation's body schema
        body_param = next((p for p in declared.values() if p["in"] == "body"), None)
        if body_param is None:
            assert body is None, operation
        else:
            _validator(body_param["schema"], op.definitions).validate(body)


def test_every_answer_of_the_double_is_one_the_specs_define(exchanged: AmazonDouble) -> None:
    checked: set[str] = set()
    for operation, status, body in exchanged.answered:
        if operation not in operations():
            continue  # the token endpoint and the document URLs are not SP-API operations
        responses = operations()[operation].spec["responses"]
        # Given an answer, Then its status is one the operation declares
        assert str(status) in responses, (operation, status)
        schema = responses[str(status)].get("schema")
        assert schema is not None, (operation, status)
        # and its body is valid against that status's schema
        _validator(schema, operations()[operation].definitions).validate(body)
        checked.add(operation)
    statuses = {(op, s) for op, s, _ in exchanged.answered}
    # (a throttled and an expired-token answer were among them)
    assert any(s == 429 for _, s in statuses) and any(s == 403 for _, s in statuses)
    # (and every operation's answers were checked)
    assert checked == {operation for operation, _, _ in exchanged.received}


def test_the_token_is_bought_with_login_with_amazons_refresh_token_grant(
    exchanged: AmazonDouble,
) -> None:
    # Given the token requests the double answered (one, then one after the expiry)
    tokens = [(s, body) for op, s, body in exchanged.answered if op == "token"]
    # Then each was a refresh_token grant LWA accepted, with a bearer token and its lifetime
    assert [s for s, _ in tokens] == [200, 200]
    assert all(b["token_type"] == "bearer" and b["expires_in"] > 0 for _, b in tokens)


def test_every_feed_document_is_a_valid_listings_feed(exchanged: AmazonDouble) -> None:
    documents = [doc for doc in exchanged.state.documents.values() if not doc.result and doc.body]
    assert documents
    for doc in documents:
        feed = json.loads(doc.body or b"")
        Draft7Validator(_schema("listings-feed-schema-v2.json")).validate(feed)
        # (offer-only PATCH messages: price in the marketplace's currency, the quantity)
        paths = {p["path"] for m in feed["messages"] for p in m["patches"]}
        assert paths == {"/attributes/purchasable_offer", "/attributes/fulfillment_availability"}


def test_every_processing_report_is_valid(exchanged: AmazonDouble) -> None:
    reports = [
        json.loads(doc.body or b"")
        for doc in exchanged.state.documents.values()
        if doc.result and doc.content_type == "application/json"
    ]
    assert reports
    for report in reports:
        Draft7Validator(_schema("listings-feed-processing-report-schema-v2.json")).validate(report)
    codes = {i.get("code") for r in reports for i in r["issues"]}
    assert {"8572", "8541"} <= codes
