"""Shopify's reading of an answer: which Outcome the shared transport gets for each."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.shopify.responses import graphql_classifier, transfer_classifier
from feedsync.platforms.transport import Outcome

WHERE = "Shopify store https://s.myshopify.com"


def _response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response._content = raw
    return response


def _cost(available: float, requested: int = 50, rate: float = 100.0) -> dict[str, Any]:
    status = {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": rate}
    return {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}


def _errors(*codes: str, **extra: Any) -> dict[str, Any]:
    errors = [
        {"message": f"{code.lower()} happened", "extensions": {"code": code}} for code in codes
    ]
    return {"errors": errors, **extra}


def _classify(response: Any, waits: list[dict[str, Any]] | None = None) -> Outcome:
    def throttle_wait(cost: dict[str, Any]) -> float:
        (waits if waits is not None else []).append(cost)
        return 4.5

    return graphql_classifier(WHERE, "FeedsyncProducts", throttle_wait)(response)


def test_an_answer_with_data_is_ok_and_carries_the_whole_answer() -> None:
    # Given a 200 with data (userErrors inside data are the writer's business) and a cost
    answer = {"data": {"x": {"userErrors": [{"message": "no"}]}}, "extensions": {"cost": {}}}
    # When it is classified, Then it is ok, the parsed answer in its body
    outcome = _classify(_response(200, answer))
    assert outcome.kind == "ok" and outcome.body == answer


def test_throttled_is_a_throttle_waiting_what_the_bucket_says() -> None:
    # Given a THROTTLED answer (HTTP 200) with the bucket's status
    cost = _cost(available=10.0)
    answer = _errors("THROTTLED", extensions={"cost": cost})
    waits: list[dict[str, Any]] = []
    # When it is classified
    outcome = _classify(_response(200, answer), waits)
    # Then it is a throttle for the bucket arithmetic's wait, learnt from this answer's cost,
    # and the answer travels along for the bucket to learn from
    assert (outcome.kind, outcome.what, outcome.wait_s) == ("throttle", "THROTTLED", 4.5)
    assert waits == [cost] and outcome.body == answer


@pytest.mark.parametrize("code", ["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"])
def test_transient_graphql_codes_are_retried_after_a_backoff(code: str) -> None:
    outcome = _classify(_response(200, _errors(code)))
    assert outcome.kind == "retry" and outcome.wait_s is None
    assert outcome.what == f"{code.lower()} happened ({code})"


def test_access_denied_is_an_auth_error() -> None:
    outcome = _classify(_response(200, _errors("ACCESS_DENIED")))
    assert outcome.kind == "fatal" and isinstance(outcome.error, StoreAuthError)
    assert str(outcome.error) == (
        f"{WHERE}: FeedsyncProducts was denied: access_denied happened (ACCESS_DENIED); "
        "check the app's scopes"
    )


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (_errors("MAX_COST_EXCEEDED"), "max_cost_exceeded happened (MAX_COST_EXCEEDED)"),
        ({"data": None}, "no data in the answer"),
        ({"errors": [{"message": "Field 'x' doesn't exist"}]}, "Field 'x' doesn't exist"),
    ],
)
def test_other_errors_and_missing_data_are_request_errors(answer: Any, text: str) -> None:
    outcome = _classify(_response(200, answer))
    assert outcome.kind == "fatal" and type(outcome.error) is StoreRequestError
    assert str(outcome.error) == f"{WHERE}: FeedsyncProducts failed: {text}"


@pytest.mark.parametrize("body", [b"<html>busy</html>", b"[1, 2]"])
def test_an_answer_that_is_not_a_json_object_is_retried(body: bytes) -> None:
    outcome = _classify(_response(200, body))
    assert outcome.kind == "retry" and outcome.what == "an answer that is not a JSON object"
    assert outcome.wait_s is None


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_auth_error(status: int) -> None:
    outcome = _classify(_response(status, {"errors": "[API] Invalid API key"}))
    assert outcome.kind == "fatal" and isinstance(outcome.error, StoreAuthError)
    assert str(outcome.error) == (
        f"{WHERE} rejected the access token (HTTP {status}: [API] Invalid API key); "
        "reinstall the app or check its scopes"
    )


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [(408, None, None), (429, "2", 2.0), (500, None, None), (503, "7.5", 7.5), (502, "x", None)],
)
def test_408_429_and_5xx_are_retried_after_retry_after_or_a_backoff(
    status: int, retry_after: str | None, wait: float | None
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    outcome = _classify(_response(status, {}, headers))
    assert (outcome.kind, outcome.what, outcome.wait_s) == ("retry", f"HTTP {status}", wait)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_any_other_status_is_a_request_error(status: int) -> None:
    outcome = _classify(_response(status, {"errors": "Not Found"}))
    assert outcome.kind == "fatal" and type(outcome.error) is StoreRequestError
    assert str(outcome.error) == (
        f"{WHERE}: FeedsyncProducts was rejected with HTTP {status}: Not Found"
    )


# -- staged uploads and result downloads -------------------------------------------------------
@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_transfer_answered_2xx_is_ok(status: int) -> None:
    assert transfer_classifier(WHERE, "GET")(_response(status, b"")).kind == "ok"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_transfer_answered_429_or_5xx_is_retried_after_a_backoff(status: int) -> None:
    # (the file servers' Retry-After was never followed: a backoff, as before)
    outcome = transfer_classifier(WHERE, "POST")(_response(status, b"", {"Retry-After": "60"}))
    assert (outcome.kind, outcome.what, outcome.wait_s) == ("retry", f"HTTP {status}", None)


@pytest.mark.parametrize("status", [403, 408])
def test_a_transfer_refused_otherwise_is_a_request_error(status: int) -> None:
    outcome = transfer_classifier(WHERE, "POST")(_response(status, b"<Error>AccessDenied</Error>"))
    assert outcome.kind == "fatal" and type(outcome.error) is StoreRequestError
    assert str(outcome.error) == (
        f"{WHERE}: POST of a bulk file was refused (HTTP {status}: <Error>AccessDenied</Error>)"
    )
