"""``/openapi.json`` documents every status each operation answers, each with its real body.

``ANSWERS`` is the list of what each operation answers besides the statuses every operation
has (401 from the authorizer, 403 from the role check, 422 from the validator) and those of a
body (400, 413, 415, 422).
A route added without its documentation, or documented without an entry here, fails.
Schemathesis (tests/e2e/test_api_schemathesis.py) then checks the running API against it.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import call
from pydantic import BaseModel
from routes.common import ERRORS

from feedsync.errors import Conflict, Forbidden, Gone, InvalidRequest, NotFound
from feedsync.models.responses import ErrorBody, ForbiddenBody, ValidationErrorBody

# (method, path) -> the success status and the statuses the handler raises (404 NotFound,
# 409 Conflict, 410 Gone, 302 the log's redirect).
ANSWERS: dict[tuple[str, str], set[int]] = {
    ("GET", "/me"): {200},
    ("POST", "/tenants"): {201, 409},
    ("GET", "/users"): {200},
    ("POST", "/users"): {201, 409},
    ("PATCH", "/users/{user_id}"): {200, 404, 409},
    ("DELETE", "/users/{user_id}"): {204, 404, 409},
    ("GET", "/settings/schedule"): {200},
    ("PUT", "/settings/schedule"): {200},
    ("POST", "/schedule-preview"): {200},
    ("POST", "/file-preview"): {200, 404},
    ("GET", "/plan"): {200},
    ("POST", "/stores"): {201},
    ("GET", "/stores"): {200},
    ("GET", "/stores/{store_id}"): {200, 404},
    ("PATCH", "/stores/{store_id}"): {200, 404, 409},
    ("DELETE", "/stores/{store_id}"): {204, 404, 409},
    ("POST", "/stores/{store_id}/import"): {202, 404},
    ("POST", "/profiles"): {201},
    ("GET", "/profiles"): {200},
    ("GET", "/profiles/{profile_id}"): {200, 404},
    ("PATCH", "/profiles/{profile_id}"): {200, 404, 409},
    ("DELETE", "/profiles/{profile_id}"): {204, 404, 409},
    ("POST", "/profiles/{profile_id}/upload-url"): {200, 404, 409},
    ("POST", "/profiles/{profile_id}/runs"): {202, 404, 409},
    ("GET", "/profiles/{profile_id}/runs"): {200, 404},
    ("GET", "/runs/{run_id}"): {200, 404},
    ("GET", "/runs/{run_id}/log"): {200, 302, 404, 410},
    ("GET", "/runs/{run_id}/changes"): {200, 302, 404, 410},
    ("POST", "/runs/{run_id}/cancel"): {202, 404, 409},
    ("POST", "/runs/{run_id}/apply"): {202, 404, 409, 410},
    ("POST", "/runs/{run_id}/retry"): {202, 404, 409, 410},
    ("POST", "/runs/{run_id}/revert"): {202, 404, 409, 410},
    ("GET", "/profiles/{profile_id}/conflicts"): {200, 404},
    ("POST", "/profiles/{profile_id}/conflicts/reapply"): {202, 404, 409},
    ("POST", "/profiles/{profile_id}/conflicts/dismiss"): {200, 404, 409},
    ("GET", "/settings/notifications"): {200},
    ("PUT", "/settings/notifications"): {200, 409},
    ("POST", "/profiles/{profile_id}/webhook-secret"): {201, 404},
    ("GET", "/profiles/{profile_id}/webhook-deliveries"): {200, 404},
    ("POST", "/api-keys"): {201},
    ("GET", "/api-keys"): {200},
    ("DELETE", "/api-keys/{key_id}"): {204, 404},
    ("GET", "/audit"): {200},
}
PUBLIC = {("GET", "/openapi.json"), ("GET", "/auth/config")}
BODY_STATUSES = {400, 413, 415, 422}
# The rest: ErrorBody.
ERROR_MODELS = {401: "UnauthorizedBody", 403: "ForbiddenBody", 422: "ValidationErrorBody"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    status, body = call("GET", "/openapi.json")
    assert status == 200
    return body


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    }


def test_every_operation_is_in_the_table_and_every_table_entry_is_an_operation(
    doc: dict[str, Any],
) -> None:
    # Given the document's operations
    ops = set(_operations(doc))
    # When they are compared with the table of answers
    # Then each documented operation has its entry (a new route must say what it answers)
    assert ops - PUBLIC - set(ANSWERS) == set(), "add these routes to ANSWERS"
    assert set(ANSWERS) - ops == set(), "documented nowhere in /openapi.json"


@pytest.mark.parametrize("operation", sorted(ANSWERS), ids=" ".join)
def test_an_operation_documents_exactly_the_statuses_it_answers(
    doc: dict[str, Any], operation: tuple[str, str]
) -> None:
    # Given one operation of the document
    op = _operations(doc)[operation]
    # When its documented statuses are read
    documented = {int(code) for code in op["responses"]}
    # Then they are its own, the authorizer's 401, the role check's 403, the validator's 422,
    # and a body's refusals
    body = BODY_STATUSES if "requestBody" in op else set()
    expected = ANSWERS[operation] | {401, 403, 422} | body
    assert documented == expected


@pytest.mark.parametrize("operation", sorted(ANSWERS), ids=" ".join)
def test_every_error_status_names_its_real_body(
    doc: dict[str, Any], operation: tuple[str, str]
) -> None:
    # Given one operation's documented refusals
    responses = _operations(doc)[operation]["responses"]
    for code, answer in responses.items():
        if int(code) < 400:
            continue
        # When the schema of each is read
        schema = answer["content"]["application/json"]["schema"]
        # Then it is the model of the body the API (or API Gateway, for 401) sends
        model = ERROR_MODELS.get(int(code), "ErrorBody")
        assert schema == {"$ref": f"#/components/schemas/{model}"}, (operation, code)


@pytest.mark.parametrize("operation", sorted(ANSWERS), ids=" ".join)
def test_every_success_with_a_body_has_a_schema(
    doc: dict[str, Any], operation: tuple[str, str]
) -> None:
    # Given one operation's successes
    responses = _operations(doc)[operation]["responses"]
    for code, answer in responses.items():
        if int(code) >= 300:
            continue
        content = answer["content"]
        # Then a body is described by a schema (not "any JSON"); a 204 documents none
        if int(code) == 204:
            assert content == {}
            continue
        assert content, (operation, code)
        for media, body in content.items():  # JSON, and for some CSV as well
            assert body["schema"] not in ({}, {"title": "Return"}), (operation, code, media)


def test_the_api_key_scheme_covers_every_operation_but_the_document_itself(
    doc: dict[str, Any],
) -> None:
    # Given the document
    # When its security is read
    schemes = doc["components"]["securitySchemes"]
    # Then the API key is a bearer token required everywhere, and /openapi.json is public
    assert schemes == {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant's API key, or a signed-in user's Cognito ID or access "
            "token: `Authorization: Bearer <key or token>`",
        }
    }
    assert doc["security"] == [{"apiKey": []}]
    for operation, op in _operations(doc).items():
        assert op.get("security") == ([{}] if operation in PUBLIC else None), operation


def test_the_idempotency_key_is_a_documented_header_where_it_is_honoured(
    doc: dict[str, Any],
) -> None:
    # Given the document's header parameters
    headers = {
        operation: [p for p in op.get("parameters", []) if p["in"] == "header"]
        for operation, op in _operations(doc).items()
    }
    # Then only Start takes Idempotency-Key, optional, limited, and described
    start = headers.pop(("POST", "/profiles/{profile_id}/runs"))
    assert [h["name"].lower() for h in start] == ["idempotency-key"]
    assert start[0]["required"] is False
    assert "answers the run the first one started" in start[0]["description"]
    assert all(not h for h in headers.values())


def test_the_error_bodies_are_in_the_components(doc: dict[str, Any]) -> None:
    # Given the document's components
    schemas = doc["components"]["schemas"]
    # Then the shared error body has the fields every refusal sends
    assert schemas["ErrorBody"]["required"] == ["error", "message"]
    assert set(schemas["ErrorBody"]["properties"]) == {"error", "message", "field"}
    assert schemas["ValidationErrorBody"]["required"] == ["error", "field", "message"]
    assert schemas["UnauthorizedBody"]["properties"]["message"]["const"] == "Unauthorized"


@pytest.mark.parametrize(
    ("error", "status", "model"),
    [
        (NotFound("run r-1 not found"), 404, ErrorBody),
        (Conflict("already_running", "this profile is already running"), 409, ErrorBody),
        (Gone("run r-1's log is no longer kept"), 410, ErrorBody),
        (InvalidRequest("api_url", "must be public"), 422, ValidationErrorBody),
        (Forbidden("owner", "editor", "user"), 403, ForbiddenBody),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_a_named_error_is_answered_with_its_documented_status_and_body(
    monkeypatch: pytest.MonkeyPatch, error: Exception, status: int, model: type[BaseModel]
) -> None:
    # Given the core raising one of the named errors the API answers
    def fail(*_args: Any) -> Any:
        raise error

    monkeypatch.setattr("routes.common.deps", lambda: None)
    monkeypatch.setattr("feedsync.core.api.get_run", fail)
    # When an operation meets it
    got, body = call("GET", "/runs/r-1")
    # Then the status is the one the API's table explains, the body its documented model's
    assert got == status
    assert ERRORS[status][1] is model
    assert set(body) <= set(model.model_fields)
    model.model_validate(body)


def test_an_unknown_route_is_a_404_with_the_error_body() -> None:
    # Given a path no operation serves
    # When it is asked for
    status, body = call("GET", "/nothing-here")
    # Then the answer is the API's own 404 body, naming what was asked
    assert status == 404
    assert body == {
        "error": "not_found",
        "message": "no operation GET /nothing-here; see GET /openapi.json",
    }


def test_every_reference_in_the_document_resolves(doc: dict[str, Any]) -> None:
    # Given every $ref in the document (the schedule answer refers to PUT's own schemas)
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    # Then each names a component the document has
    prefix = "#/components/schemas/"
    assert all(ref.startswith(prefix) for ref in refs)
    assert {ref.removeprefix(prefix) for ref in refs} - set(doc["components"]["schemas"]) == set()
