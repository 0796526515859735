"""WooCommerce's ``Classify``: what each answer means to the shared transport, decided on
the status and WordPress's ``code`` field; and the connector built by its platform spec
with every test seam."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from fake_sleep import FakeSleep

from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.spec import ConnectorSetup
from feedsync.platforms.woocommerce.connector import WooCommerceConnector
from feedsync.platforms.woocommerce.responses import READ, Classify, Expect
from feedsync.platforms.woocommerce.spec import SPEC
from feedsync_local.woo_double import WooCommerceDouble

SHOP = "WooCommerce shop https://shop.example"
API = "https://shop.example/wp-json/wc/v3"
NO_ROUTE = {"code": "rest_no_route", "message": "No route was found.", "data": {"status": 404}}
INVALID_ID = {
    "code": "woocommerce_rest_product_invalid_id",
    "message": "Invalid ID.",
    "data": {"status": 404},
}


def _answer(status: int, body: Any = None, *, text: str | None = None, **headers: str):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response._content = (json.dumps(body) if text is None else text).encode()
    return response


def _classify(expect: Expect = READ, method: str = "GET", path: str = "/products") -> Classify:
    return Classify(SHOP, API, method, path, expect)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_timeouts_throttles_and_server_errors_are_retried_after_retry_after(status: int) -> None:
    # Given an answer the shop may not give next time, with and without Retry-After
    waited = _answer(status, {"code": "busy", "message": "Busy"}, **{"Retry-After": "7"})
    plain = _answer(status, text="")
    # When classified / Then both are retried: after the shop's wait, or a backoff (None)
    outcome = _classify()(waited)
    assert (outcome.kind, outcome.wait_s) == ("retry", 7.0)
    assert outcome.what == f"HTTP {status} Busy [busy]"
    assert (_classify()(plain).kind, _classify()(plain).wait_s) == ("retry", None)
    assert _classify()(plain).what == f"HTTP {status} HTTP {status} without details"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_a_fatal_auth_error_naming_where_keys_are_managed(status: int) -> None:
    # Given the shop refusing the key
    body = {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list."}
    # When classified
    outcome = _classify()(_answer(status, body))
    # Then the transport raises StoreAuthError with the merchant's hint, at once
    assert outcome.kind == "fatal" and isinstance(outcome.error, StoreAuthError)
    message = str(outcome.error)
    assert message.startswith(f"{SHOP} refused the REST API key (HTTP {status}: Sorry")
    assert "WooCommerce > Settings > Advanced > REST API" in message and "Read/Write" in message


@pytest.mark.parametrize(
    "answer",
    [_answer(404, NO_ROUTE), _answer(404, text="<html>Not Found</html>")],
    ids=["rest_no_route", "WordPress's HTML page"],
)
def test_a_missing_api_is_a_request_error_naming_plain_permalinks(
    answer: requests.Response,
) -> None:
    # Given a 404 for the API itself / When classified for a batch that handles 404 itself
    outcome = _classify(Expect(refusals=frozenset({404}), resource_gone=True))(answer)
    # Then it is no refused batch and no deleted product, but the API not being there
    assert outcome.kind == "fatal" and isinstance(outcome.error, StoreRequestError)
    assert "pretty permalinks" in str(outcome.error)
    assert f"REST API not found at {API} (GET /products answered 404)" in str(outcome.error)


def test_an_optional_route_the_shop_lacks_comes_back_as_gone_by_its_code() -> None:
    # Given a request for a route older shops do not have
    optional = _classify(Expect(optional_route=True), path="/variations")
    # When the shop answers WordPress's rest_no_route, or the same words under another code
    no_route = optional(_answer(404, NO_ROUTE))
    other_code = optional(_answer(404, {**NO_ROUTE, "code": "rest_post_invalid_id"}))
    html = optional(_answer(404, text="<html>No route was found</html>"))
    # Then only the code makes it "no such route" (gone, for the reader to fall back on)
    assert no_route.kind == "gone" and no_route.body == NO_ROUTE
    assert other_code.kind == "fatal" and isinstance(other_code.error, StoreRequestError)
    assert "rejected with HTTP 404" in str(other_code.error)
    assert html.kind == "fatal" and "pretty permalinks" in str(html.error)


def test_a_deleted_resource_is_gone_only_where_the_caller_expects_it() -> None:
    # Given a 404 naming a product that no longer exists
    answer = _answer(404, INVALID_ID)
    # When classified for a read that expects it, and for one that does not
    expected = _classify(Expect(resource_gone=True))(answer)
    unexpected = _classify()(answer)
    # Then the first hands it back as gone; the second is WordPress's error, named
    assert expected.kind == "gone" and expected.body == INVALID_ID
    assert unexpected.kind == "fatal" and isinstance(unexpected.error, StoreRequestError)
    assert str(unexpected.error) == (
        f"{SHOP}: GET /products was rejected with HTTP 404: "
        "Invalid ID. [woocommerce_rest_product_invalid_id]"
    )


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_batch_refused_whole_goes_back_to_the_writer(status: int) -> None:
    # Given a batch answer refusing the whole request
    body = {"code": "woocommerce_rest_request_entity_too_large", "message": "Too big"}
    # When classified for a batch post
    outcome = _classify(Expect(refusals=frozenset({400, 404, 413})), "POST", "/products/batch")(
        _answer(status, body)
    )
    # Then the writer gets it with the parsed body (to split, or to fail every item)
    assert (outcome.kind, outcome.what, outcome.body) == ("refused", f"HTTP {status}", body)


def test_a_2xx_is_ok_with_its_json_even_after_php_notices() -> None:
    # Given a 200 whose JSON follows a PHP notice, and one with no JSON at all
    noisy = _answer(200, text='<b>Notice</b>: x in y<br />\n[{"id": 1}]')
    empty = _answer(200, text="")
    # When classified / Then the body is parsed once, here, for the reader and writer
    assert (_classify()(noisy).kind, _classify()(noisy).body) == ("ok", [{"id": 1}])
    assert (_classify()(empty).kind, _classify()(empty).body) == ("ok", None)


def test_other_statuses_are_request_errors_with_wordpress_message() -> None:
    # Given a 400 on a read (no caller expects it)
    body = {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page"}
    body["data"] = {"status": 400, "params": {"per_page": "per_page must be <= 100"}}
    # When classified / Then fatal, with WordPress's message, its params and its code
    outcome = _classify()(_answer(400, body))
    assert isinstance(outcome.error, StoreRequestError)
    assert str(outcome.error).endswith(
        "HTTP 400: Invalid parameter(s): per_page (per_page must be <= 100) [rest_invalid_param]"
    )


def test_the_spec_hands_the_connector_every_seam() -> None:
    # Given a shop that throttles the first request, and a setup with a session, a fake
    # sleep and a fake clock
    sleep = FakeSleep()
    with WooCommerceDouble() as double, requests.Session() as session:
        [product] = double.seed([{"name": "Cap", "sku": "CAP", "regular_price": "5.00"}])
        double.fail_next(429, retry_after=3)
        key, secret = double.credentials
        setup = ConnectorSetup(
            api_url=double.site_url,
            credentials={"consumer_key": key, "consumer_secret": secret},
            options={},
            allow_private=True,
            session=session,
            sleep=sleep,
            clock=lambda: 0.0,
        )
        # When the platform's factory builds the connector and a price is written
        connector = SPEC.connector(setup)
        pid = product["id"]
        item = PlanItem(
            row=1, key="CAP", product_id=pid, variant_id=pid, changes={"price": [500, 650]}
        )
        results = connector.apply("products_batch", [item], batch_key="k")
        # Then the clock did not stop it, the fake sleep took the shop's wait
        assert isinstance(connector, WooCommerceConnector)
        assert results == [(True, "")]
        assert sleep.calls == [3.0]
        assert double.item(product["id"])["regular_price"] == "6.50"
