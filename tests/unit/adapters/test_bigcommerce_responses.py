"""How the BigCommerce connector reads answers (its classifier over the shared transport)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from fake_sleep import FakeSleep

from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync.platforms.bigcommerce.responses import (
    Classifier,
    refusal_names_values_only,
    window_headers,
)
from feedsync_local.bigcommerce_double import SandboxStore

WHERE = "BigCommerce store https://api.bigcommerce.com/stores/abc/v3"
WRITE = Classifier(WHERE, "PUT /catalog/variants", refused=(413, 422))
PRODUCT_WRITE = Classifier(
    WHERE, "PUT /catalog/products", refused=(404, 409, 413, 422), multi_status=True
)
ADJUSTMENT = Classifier(
    WHERE, "PUT /inventory/adjustments/absolute", refused=(413, 422), retry=(409,)
)
LOOKUP = Classifier(WHERE, "GET /catalog/products/7", gone=(404,))
READ = Classifier(WHERE, "GET /catalog/products")


def _response(status: int, body: Any = None, headers: dict[str, str] | None = None):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = json.dumps(body if body is not None else {}).encode()
    response.elapsed = timedelta(milliseconds=5)
    return response


@pytest.mark.parametrize(
    ("classify", "status", "kind"),
    [
        (READ, 200, "ok"),
        (WRITE, 207, "ok"),  # a variant batch has no per-item answer
        (PRODUCT_WRITE, 207, "refused"),  # the products missing from data failed
        (WRITE, 422, "refused"),
        (WRITE, 413, "refused"),
        (PRODUCT_WRITE, 404, "refused"),
        (PRODUCT_WRITE, 409, "refused"),
        (ADJUSTMENT, 409, "retry"),  # another adjustment is being processed
        (LOOKUP, 404, "gone"),
        (READ, 500, "retry"),
        (READ, 503, "retry"),
        (READ, 408, "retry"),
        (READ, 404, "fatal"),
        (WRITE, 400, "fatal"),
    ],
)
def test_each_status_means_what_the_request_expects(
    classify: Classifier, status: int, kind: str
) -> None:
    # Given an answer with that status to that request
    # When it is classified
    outcome = classify(_response(status, {"title": "Something"}))
    # Then it means what the old loop made of it
    assert outcome.kind == kind


def test_a_429_with_a_reset_time_is_a_throttle_for_that_long_and_without_one_a_retry() -> None:
    # Given a 429 saying the window resets in 1,500 ms, and one without headers
    timed = _response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "1500"})
    bare = _response(429)
    # When classified
    throttle, retry = READ(timed), READ(bare)
    # Then the first waits exactly the reset (in seconds), the second backs off
    assert (throttle.kind, throttle.wait_s) == ("throttle", 1.5)
    assert (retry.kind, retry.wait_s) == ("retry", None)
    assert throttle.what == retry.what == "HTTP 429 Too Many Requests"


def test_a_refusal_carries_the_parsed_body_and_a_5xx_names_its_title() -> None:
    # Given a 422 batch rejection and a 502 with a title
    body = {"batch_errors": [{"title": "Bad price", "errors": {"price": "must be >= 0"}}]}
    # When classified
    refused = WRITE(_response(422, body))
    retry = READ(_response(502, {"title": "Bad Gateway"}))
    # Then the writer gets the body once parsed, and the retry says what failed
    assert refused.body == body
    assert retry.what == "HTTP 502 Bad Gateway"


def test_a_refused_token_is_an_auth_error_any_other_refusal_a_request_error() -> None:
    # Given a 403 and a 400 with the platform's title and details
    forbidden = READ(_response(403, {"title": "Missing scope"}))
    bad = WRITE(_response(400, {"title": "Bad body", "errors": {"id": "required"}}))
    # Then each is fatal with its named error, the store and the platform's words
    assert isinstance(forbidden.error, StoreAuthError)
    assert forbidden.error.message.startswith(f"{WHERE} rejected the access token (HTTP 403: ")
    assert "Missing scope" in forbidden.error.message
    assert isinstance(bad.error, StoreRequestError)
    assert bad.error.message == (
        f"{WHERE}: PUT /catalog/variants was rejected with HTTP 400: Bad body (id: required)"
    )


def test_rate_headers_are_read_in_seconds() -> None:
    # Given the platform's X-Rate-Limit headers, in milliseconds
    response = _response(
        200,
        headers={
            "X-Rate-Limit-Requests-Left": "149",
            "X-Rate-Limit-Time-Reset-Ms": "2500",
            "X-Rate-Limit-Requests-Quota": "150",
            "X-Rate-Limit-Time-Window-Ms": "30000",
        },
    )
    # When read / Then the window is in seconds; a missing or bad header is None
    assert tuple(window_headers(response)) == (149.0, 2.5, 150.0, 30.0)
    bad = _response(200, headers={"X-Rate-Limit-Requests-Left": "many"})
    assert tuple(window_headers(bad)) == (None, None, None, None)


# -- through the connector ---------------------------------------------------------------------
def test_throttle_patience_runs_out_with_store_unavailable(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store throttling every request with a 100 ms reset, and a patience of 3
    sandbox.throttle_next(reset_ms=100, count=10)
    sleep = FakeSleep()
    connector = BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=sleep, allow_private=True
    )
    connector.max_throttle_waits = 3
    # When the catalog is read / Then it waited the reset 3 times, then gave up, saying so
    with pytest.raises(StoreUnavailable) as err:
        list(connector.iter_variants())
    assert sleep.calls == [0.1] * 3
    assert sandbox.requests_log and [s for _, _, s in sandbox.requests_log] == [429] * 4
    assert err.value.message == (
        f"BigCommerce store {sandbox.api_url(store[0])}: GET /catalog/products failed after "
        "4 attempt(s); last: HTTP 429 Too Many Requests 4 times in a row"
    )


def test_a_backoff_set_on_the_connector_is_the_one_waited(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a connector whose backoff base is set to 4 s, and a store failing once with 500
    sandbox.fail_next(500)
    sleep = FakeSleep()
    connector = BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=sleep, allow_private=True
    )
    connector.backoff_base_s = 4.0
    # When the catalog is read
    list(connector.iter_variants())
    # Then the one backoff was an equal-jitter wait under that base: 2 to 4 s
    assert len(sleep.calls) == 1 and 2.0 <= sleep.calls[0] <= 4.0
    # And the class default is untouched for other connectors
    assert BigCommerceConnector.backoff_base_s == 0.5
    assert (
        BigCommerceConnector(sandbox.api_url(store[0]), store[1], allow_private=True).backoff_base_s
        == 0.5
    )


@pytest.mark.parametrize(
    ("status", "body", "says_it_exists"),
    [
        # a value of the item refused: the store read the item
        (422, {"batch_errors": [{"title": "Bad", "errors": {"price": "must be >= 0"}}]}, True),
        (422, {"title": "Bad", "errors": {"name": "too long", "is_visible": "a boolean"}}, True),
        # the item as such (an unknown id reads the same), or no field named: may be gone
        (422, {"batch_errors": [{"title": "Not found", "errors": {"id": "no such id"}}]}, False),
        (422, {"batch_errors": [{"errors": {"price": "bad"}}, {"errors": {"sku": "?"}}]}, False),
        (422, {"batch_errors": [{"title": "Variant is not valid", "errors": {}}]}, False),
        (422, {"title": "[Item with variant_id 106 does not exist]"}, False),
        (404, {"title": "Product(s) 7 not found"}, False),
        (409, {"title": "Conflict", "errors": {"name": "duplicate"}}, False),
    ],
)
def test_only_a_422_naming_values_alone_says_the_refused_item_exists(
    status: int, body: dict[str, Any], says_it_exists: bool
) -> None:
    # Given a refusal, When asked whether it names values of its items only
    # Then only a 422 whose every entry names fields other than the item's identity does
    assert refusal_names_values_only(_response(status, body), body) is says_it_exists
