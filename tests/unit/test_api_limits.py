"""The API's request limits: a request over one is a clear 4xx, never a crashed function.

Driven through ``lambda_handler`` as API Gateway calls it (the authorizer's tenant in the
request context). Nothing here reaches AWS: a refused request stops before ``deps()``,
and an accepted one reaches a recording stand-in for the core call.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from api_support import call

from feedsync.models.limits import IDEMPOTENCY_KEY_MAX, MAX_BODY_BYTES, MAX_BODY_DEPTH


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The idempotency keys that reached the core's start (no AWS behind it)."""
    keys: list[str | None] = []

    def start(_deps: Any, _tenant: str, _profile: str, _trigger: str, _mode: Any,
              key: str | None = None, _preview: bool = False) -> Any:  # fmt: skip
        keys.append(key)
        return SimpleNamespace(run_id="run-1", status="starting")

    monkeypatch.setattr("routes.common.deps", lambda: None)
    monkeypatch.setattr("feedsync.core.api.start", start)
    monkeypatch.setattr("routes.runs.recorded", lambda *_args: None)  # (the audit: no table)
    return keys


# ------------------------------------------------------------------ Idempotency-Key
def test_an_idempotency_key_over_the_limit_is_a_422_naming_the_header(
    started: list[str | None],
) -> None:
    # Given a Start whose Idempotency-Key is one character over the limit
    key = "k" * (IDEMPOTENCY_KEY_MAX + 1)
    # When it is sent
    status, answer = call("POST", "/profiles/p-1/runs", headers={"Idempotency-Key": key})
    # Then it is refused naming the header and the limit, and no run is started
    assert status == 422, answer
    assert answer["error"] == "invalid_request"
    assert answer["field"] == "Idempotency-Key"
    assert answer["message"] == (
        "Idempotency-Key: at most 300 characters (it is part of a DynamoDB key), got 301"
    )
    assert started == []


def test_an_idempotency_key_at_the_limit_starts_the_run_with_it(
    started: list[str | None],
) -> None:
    # Given a Start whose Idempotency-Key (sent in lower case) is exactly at the limit
    key = "k" * IDEMPOTENCY_KEY_MAX
    # When it is sent
    status, answer = call("POST", "/profiles/p-1/runs", headers={"idempotency-key": key})
    # Then the run starts with that key
    assert (status, answer) == (202, {"run_id": "run-1", "status": "starting"})
    assert started == [key]


def test_the_openapi_document_shows_the_idempotency_key_limit() -> None:
    # Given the API's OpenAPI document
    status, doc = call("GET", "/openapi.json")
    # When the Start operation's header is looked up
    params = doc["paths"]["/profiles/{profile_id}/runs"]["post"]["parameters"]
    header = next(p for p in params if p["in"] == "header")
    # Then it carries the limit
    assert status == 200
    assert header["name"].lower() == "idempotency-key"
    assert {"type": "string", "maxLength": 300} in header["schema"]["anyOf"]


# ------------------------------------------------------------------------ nesting
def _nested(levels: int) -> str:
    """A profile body whose ``name`` makes the whole body ``levels`` deep."""
    inner = levels - 1
    return '{"name": ' + "[" * inner + "]" * inner + "}"


@pytest.mark.parametrize("levels", [MAX_BODY_DEPTH + 1, 1_000, 100_000])
def test_a_body_nested_over_the_limit_is_a_400_before_any_model_sees_it(levels: int) -> None:
    # Given a body nested deeper than the limit (1,000 levels crashed the function)
    body = _nested(levels)
    # When it is sent
    status, answer = call("POST", "/profiles", body)
    # Then it is refused as too deep, naming the limit
    assert status == 400, answer
    assert answer == {
        "error": "too_deep",
        "field": "body",
        "message": "body: nested deeper than 32 levels of objects and lists",
    }


def test_a_body_nested_at_the_limit_reaches_the_validation() -> None:
    # Given a body exactly as deep as the limit
    body = _nested(MAX_BODY_DEPTH)
    # When it is sent
    status, answer = call("POST", "/profiles", body)
    # Then the models judge it (its name is a list, not a string)
    assert status == 422, answer
    assert answer["field"] == "name"
    assert answer["message"] == "name: expected a string"


def test_a_body_that_is_not_json_is_still_the_validations_422() -> None:
    # Given a body that is not JSON at all
    # When it is sent
    status, answer = call("POST", "/profiles", '{"name": ')
    # Then the answer is the usual 422 for invalid JSON, not a refusal by size or depth
    assert status == 422, answer
    assert answer["field"] == "body"


# --------------------------------------------------------------------------- size
def _sized(size: int, filler: str = "x") -> str:
    """A JSON profile body of exactly ``size`` bytes (UTF-8)."""
    head = '{"name": "'
    room = size - len(head) - 2
    return head + filler * (room // len(filler.encode())) + '"}'


@pytest.mark.parametrize("filler", ["x", "é"])
def test_a_body_over_the_size_limit_is_a_413_naming_the_limit(filler: str) -> None:
    # Given a body one byte over the limit (counted in UTF-8 bytes, not characters)
    body = _sized(MAX_BODY_BYTES + 2 if filler == "é" else MAX_BODY_BYTES + 1, filler)
    size = len(body.encode())
    assert size > MAX_BODY_BYTES
    # When it is sent
    status, answer = call("POST", "/profiles", body)
    # Then it is refused as too large, naming the limit and the size
    assert status == 413, answer
    assert answer == {
        "error": "too_large",
        "field": "body",
        "message": f"body: at most 1,048,576 bytes (1 MiB), got {size:,}",
    }


def test_a_body_at_the_size_limit_reaches_the_validation() -> None:
    # Given a body exactly at the limit
    body = _sized(MAX_BODY_BYTES)
    assert len(body.encode()) == MAX_BODY_BYTES
    # When it is sent
    status, answer = call("POST", "/profiles", body)
    # Then the models judge it (the name is too long, the body is missing its other fields)
    assert status == 422, answer
    assert answer["error"] == "invalid_request"


# --------------------------------------------------------------------- media type
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/xml", "<profile><name>Acme</name></profile>"),
        ("text/plain; charset=utf-8", '{"name": "Acme"}'),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="n"'),
        ("application/x-www-form-urlencoded", "name=Acme"),
    ],
)
def test_a_body_declared_as_anything_but_json_is_a_415_naming_the_type(
    content_type: str, body: str
) -> None:
    # Given a body sent with a media type the API does not read (a form: only a JSON text)
    # When it is sent
    status, answer = call("POST", "/profiles", body, headers={"Content-Type": content_type})
    # Then it is refused as an unsupported media type, naming the type and what is read
    media = content_type.split(";")[0]
    assert status == 415, answer
    assert answer == {
        "error": "unsupported_media_type",
        "field": "Content-Type",
        "message": f"Content-Type: the API reads JSON bodies (application/json), got {media!r}",
    }


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/merge-patch+json",
                     "application/x-www-form-urlencoded"],
)  # fmt: skip
def test_a_json_body_sent_as_json_or_as_curls_form_default_reaches_the_start(
    started: list[str | None], content_type: str
) -> None:
    # Given a Start whose body is JSON, sent as JSON or as curl -d's default form type
    headers = {"Content-Type": content_type, "Idempotency-Key": "k-1"}
    # When it is sent
    status, answer = call("POST", "/profiles/p-1/runs", '{"mode": "full"}', headers=headers)
    # Then it is read as JSON and the run starts
    assert (status, answer) == (202, {"run_id": "run-1", "status": "starting"})
    assert started == ["k-1"]
