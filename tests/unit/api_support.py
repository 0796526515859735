"""Drives the API function as API Gateway calls it (shared by the API limit tests)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from functions.api import app as api_app

# The authorizer's context for tenant-1's owner key (feedsync serve's "default" key).
OWNER = {
    "tenant_id": "tenant-1",
    "role": "owner",
    "actor": "key:default",
    "actor_kind": "key",
    "actor_id": "key-1",
}


def _event(
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    principal: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **headers}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "req-1",
            "authorizer": {**(OWNER if principal is None else principal), "principalId": "p-1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def call(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    principal: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request through the API function's entry point as ``principal`` (the authorizer's
    context; tenant-1's owner key by default); (status, JSON answer)."""
    result = respond(method, path, body, headers, query, principal)
    answer = json.loads(result["body"]) if result.get("body") else {}
    return int(result["statusCode"]), answer


def respond(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    principal: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One request through the API function's entry point; its whole proxy answer."""
    context = SimpleNamespace(
        function_name="ApiFunction",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:eu-central-1:000000000000:function:ApiFunction",
        aws_request_id="req-1",
    )
    return api_app.lambda_handler(
        _event(method, path, body, headers or {}, query, principal), context
    )
