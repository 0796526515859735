"""The shared HTTP transport: one retry loop for every platform, judged by the platform."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import requests

from feedsync.errors import StoreRequestError, StoreUnavailable
from feedsync.platforms.transport import (
    HttpTransport,
    Outcome,
    RequestWindowPacer,
    WindowHeaders,
    retry_after_s,
)


def _response(status: int, headers: dict[str, str] | None = None, elapsed_s: float = 0.01):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = b"{}"
    response._content_consumed = True  # read already: close() has no connection to free
    response.elapsed = timedelta(seconds=elapsed_s)
    return response


class ScriptedSession:
    """Answers each request with the next scripted response (or raises it)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def _by_status(response: requests.Response) -> Outcome:
    """A plain platform: 2xx ok, 422 refused, 404 gone, 429 throttle, 5xx retry."""
    status = response.status_code
    if status < 300:
        return Outcome.ok(response.json())
    if status == 422:
        return Outcome.refused("HTTP 422")
    if status == 404:
        return Outcome.gone("HTTP 404")
    if status == 429:
        reset = response.headers.get("X-Reset")
        if reset is None:
            return Outcome.retry("HTTP 429", retry_after_s(response))
        return Outcome.throttle("HTTP 429", float(reset))
    if status >= 500:
        return Outcome.retry(f"HTTP {status}", retry_after_s(response))
    return Outcome.fatal(StoreRequestError(f"HTTP {status}"))


def _transport(session: ScriptedSession, **kwargs: Any) -> tuple[HttpTransport, list[float]]:
    sleeps: list[float] = []
    # The scripted store answers without a network: no address to check (allow_private).
    transport = HttpTransport(
        "Test store",
        session=session,
        sleep=sleeps.append,
        rng=random.Random(7),
        allow_private=True,
        **kwargs,
    )
    return transport, sleeps


def test_an_ok_answer_comes_back_with_the_parsed_body_and_no_wait() -> None:
    # Given a store that answers 200
    transport, sleeps = _transport(ScriptedSession(_response(200)))
    # When one request is sent
    reply = transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then the connector gets the answer at once
    assert reply.kind == "ok" and reply.body == {} and sleeps == []
    assert transport.requests_sent == 1


@pytest.mark.parametrize("kind,status", [("refused", 422), ("gone", 404)])
def test_refused_and_gone_answers_go_back_to_the_connector_unretried(
    kind: str, status: int
) -> None:
    # Given a store that refuses (or no longer has) what the request names
    session = ScriptedSession(_response(status))
    transport, sleeps = _transport(session)
    # When it is sent
    reply = transport.send("PUT", "http://store/x", _by_status, what="PUT /x")
    # Then the answer is the connector's to act on: one request, no wait
    assert reply.kind == kind and len(session.calls) == 1 and sleeps == []


def test_a_5xx_without_retry_after_backs_off_with_jitter_then_succeeds() -> None:
    # Given a store failing twice with 503 and no Retry-After
    session = ScriptedSession(_response(503), _response(502), _response(200))
    transport, sleeps = _transport(session, backoff_base_s=1.0, backoff_cap_s=30.0)
    # When a request is sent
    reply = transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then it waited an equal-jitter backoff each time (half fixed, half random), then won
    assert reply.kind == "ok" and len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_retry_after_is_obeyed_and_capped() -> None:
    # Given a 503 asking for 5 s, then one asking for an hour
    session = ScriptedSession(
        _response(503, {"Retry-After": "5"}),
        _response(503, {"Retry-After": "3600"}),
        _response(200),
    )
    transport, sleeps = _transport(session, retry_after_cap_s=120.0)
    # When a request is sent
    transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then the store's word is followed, but never past the cap
    assert sleeps == [5.0, 120.0]


def test_retry_after_as_an_http_date_is_read() -> None:
    # Given a Retry-After written as a date in the past
    response = _response(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    # Then it means "now"
    assert retry_after_s(response) == 0.0
    assert retry_after_s(_response(503)) is None
    assert retry_after_s(_response(503, {"Retry-After": "soon"})) is None


def test_retries_run_out_with_a_named_error_saying_what_happened_last() -> None:
    # Given a store that keeps failing
    session = ScriptedSession(*[_response(500)] * 3)
    transport, _ = _transport(session, max_retries=2)
    # When a request is sent, Then StoreUnavailable names the request, attempts and cause
    with pytest.raises(StoreUnavailable, match=r"Test store: GET /x failed after 3 attempt\(s\); "):
        transport.send("GET", "http://store/x", _by_status, what="GET /x")
    assert len(session.calls) == 3


def test_a_dropped_connection_is_retried() -> None:
    # Given a connection reset, then an answer
    session = ScriptedSession(requests.ConnectionError("reset"), _response(200))
    transport, sleeps = _transport(session)
    # When a request is sent
    reply = transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then it was sent again after a backoff
    assert reply.kind == "ok" and len(sleeps) == 1 and len(session.calls) == 2


def test_a_fatal_answer_raises_the_platforms_error_at_once() -> None:
    # Given a 401
    transport, sleeps = _transport(ScriptedSession(_response(401)))
    # When sent, Then the platform's named error is raised without a retry
    with pytest.raises(StoreRequestError, match="HTTP 401"):
        transport.send("GET", "http://store/x", _by_status, what="GET /x")
    assert sleeps == []


def test_throttles_wait_the_given_time_without_spending_retries() -> None:
    # Given three throttles with a reset time, more than max_retries allows
    session = ScriptedSession(*[_response(429, {"X-Reset": "2.5"})] * 3, _response(200))
    transport, sleeps = _transport(session, max_retries=1)
    # When a request is sent
    reply = transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then each throttle waited its reset and the request went through
    assert reply.kind == "ok" and sleeps == [2.5, 2.5, 2.5]


def test_throttle_patience_runs_out_with_a_named_error() -> None:
    # Given a store that throttles for ever
    session = ScriptedSession(*[_response(429, {"X-Reset": "1"})] * 4)
    transport, _ = _transport(session, max_throttle_waits=3)
    # When sent, Then it gives up after the patience, saying how many in a row
    with pytest.raises(StoreUnavailable, match="HTTP 429 4 times in a row"):
        transport.send("GET", "http://store/x", _by_status, what="GET /x")


class RecordingBudget:
    def __init__(self) -> None:
        self.before = 0
        self.reports: list[tuple[Any, ...]] = []

    def before_request(self) -> None:
        self.before += 1

    def after_response(
        self,
        left: int | None,
        reset_s: float | None,
        quota: int | None = None,
        window_s: float | None = None,
    ) -> None:
        self.reports.append((left, reset_s, quota, window_s))


def _window(response: requests.Response) -> WindowHeaders:
    def number(name: str) -> float | None:
        raw = response.headers.get(name)
        return float(raw) if raw is not None else None

    return WindowHeaders(number("Left"), number("Reset"), number("Quota"), number("Window"))


def test_a_shared_budget_hears_of_every_request_and_holds_the_first_throttle() -> None:
    # Given a budget shared with other workers, a throttle with a reset, then success
    budget = RecordingBudget()
    session = ScriptedSession(
        requests.ConnectionError("reset"),
        _response(429, {"X-Reset": "3", "Reset": "3"}),
        _response(200, {"Left": "149", "Reset": "30", "Quota": "150", "Window": "30"}),
    )
    transport, sleeps = _transport(session, pacer=RequestWindowPacer(_window, budget))
    # When a request is sent
    transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then every exchange went through the budget, a failed one counted as spent, and the
    # budget (which holds every worker until the reset) took the throttle's wait
    assert budget.before == 3
    assert budget.reports == [
        (None, None, None, None),
        (0, 3.0, None, None),
        (149, 30.0, 150, 30.0),
    ]
    assert len(sleeps) == 1  # the connection reset's backoff only


def test_a_slow_answer_teaches_the_budget_nothing_but_still_counts() -> None:
    # Given an answer that took longer than a quarter of the window
    budget = RecordingBudget()
    slow = _response(200, {"Left": "10", "Reset": "1", "Quota": "150", "Window": "30"}, 9.0)
    transport, _ = _transport(ScriptedSession(slow), pacer=RequestWindowPacer(_window, budget))
    # When it is sent
    transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then its window figures are dropped, the request still reported
    assert budget.reports == [(None, None, 150, 30.0)]


def test_without_a_budget_a_spent_window_waits_for_its_reset_before_the_next_request() -> None:
    # Given no shared budget and an answer saying the window is used up
    sleeps: list[float] = []
    pacer = RequestWindowPacer(_window, None, sleep=sleeps.append)
    session = ScriptedSession(_response(200, {"Left": "0", "Reset": "4"}), _response(200))
    transport = HttpTransport(
        "Test store", session=session, pacer=pacer, sleep=sleeps.append, allow_private=True
    )
    # When two requests are sent
    transport.send("GET", "http://store/x", _by_status, what="GET /x")
    assert sleeps == []
    transport.send("GET", "http://store/x", _by_status, what="GET /x")
    # Then the second waited for the reset first
    assert sleeps == [4.0]


def test_only_given_arguments_reach_the_session() -> None:
    # Given a request with a JSON body and headers
    session = ScriptedSession(_response(200))
    transport, _ = _transport(session, timeout=7.0)
    # When it is sent
    transport.send(
        "PUT", "http://store/x", _by_status, what="PUT /x", json_body=[1], headers={"A": "b"}
    )
    # Then the session saw exactly those, with the timeout
    assert session.calls == [
        {
            "method": "PUT",
            "url": "http://store/x",
            "json": [1],
            "headers": {"A": "b"},
            "timeout": 7.0,
            "allow_redirects": False,  # the transport follows (and checks) redirects itself
        }
    ]


def test_a_forms_fields_and_files_reach_the_session_on_every_try() -> None:
    # Given a multipart upload (form fields, then the file) that first meets a 503
    session = ScriptedSession(_response(503), _response(204))
    transport, _ = _transport(session, timeout=7.0)
    form = [("key", "uploads/a.jsonl"), ("policy", "p")]
    files = {"file": ("a.jsonl", b"{}\n", "text/jsonl")}
    # When it is sent
    reply = transport.send(
        "POST", "http://files/up", _by_status, what="POST upload", data=form, files=files
    )
    # Then both tries carried the same fields and file, as given
    assert reply.kind == "ok" and len(session.calls) == 2
    for call in session.calls:
        assert call == {
            "method": "POST",
            "url": "http://files/up",
            "data": form,
            "files": files,
            "timeout": 7.0,
            "allow_redirects": False,
        }


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://[::1/x", "it is not a valid URL"),
        ("http://example.com:99999/x", "its port is not a number from 1 to 65535"),
        ("http://example.com:0/x", "its port is not a number from 1 to 65535"),
        ("ftp://example.com/x", "only http and https are followed"),
        ("", "it is empty or missing"),
    ],
)
def test_a_malformed_redirect_is_a_named_store_error_not_a_bare_value_error(
    location: str, why: str
) -> None:
    # Given a store answering a redirect whose Location is no usable http(s) URL
    session = ScriptedSession(_response(302, {"Location": location}))
    transport, _ = _transport(session)
    # When a request meets it, Then it fails as the store's named error, saying why
    with pytest.raises(StoreRequestError, match="Test store: GET /x was redirected to") as err:
        transport.send("GET", "http://store/x", _by_status, what="GET /x")
    assert why in err.value.message and len(session.calls) == 1
