"""The local API stand-in answers a body that is not UTF-8 with a 400, over a real socket.

Before, the decode error killed the request's thread: the client saw the connection
dropped instead of an answer.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from feedsync_local.apiserver import LocalApi
from feedsync_local.stack import LocalStack


class FakeStack:
    """Allows every request for tenant-1 and answers 200 with the body the API got."""

    def __init__(self) -> None:
        self.bodies: list[str | None] = []

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        if name == "AuthorizerFunction":
            return {
                "policyDocument": {"Statement": [{"Effect": "Allow"}]},
                "context": {"tenant_id": "tenant-1"},
            }
        self.bodies.append(event["body"])
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


@pytest.fixture
def served() -> Iterator[tuple[LocalApi, FakeStack]]:
    stack = FakeStack()
    api = LocalApi(cast(LocalStack, stack)).start()
    try:
        yield api, stack
    finally:
        api.stop()


def _post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, dict[str, Any]]:
    conn.request("POST", "/profiles", body=body, headers={"Content-Type": "application/json"})
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read())


def test_a_body_that_is_not_utf8_is_a_400_and_the_connection_stays(
    served: tuple[LocalApi, FakeStack],
) -> None:
    api, stack = served
    port = int(api.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # Given a JSON body in Latin-1 (0xe9 for é is not UTF-8)
    body = '{"name": "Café"}'.encode("latin-1")
    # When it is posted to the local API
    status, answer = _post(conn, body)
    # Then the answer is a 400 naming the body and the bad byte, the API function unasked
    assert status == 400
    assert answer == {
        "error": "invalid_body",
        "field": "body",
        "message": "body: not UTF-8 text (byte 0xe9 at offset 13)",
    }
    assert stack.bodies == []
    # And the same keep-alive connection answers the next (UTF-8) request
    status, _ = _post(conn, '{"name": "Café"}'.encode())
    assert status == 200
    assert stack.bodies == ['{"name": "Café"}']
    conn.close()


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT"])
def test_a_method_api_gateway_does_not_pass_on_is_a_json_405_and_the_connection_stays(
    served: tuple[LocalApi, FakeStack], method: str
) -> None:
    api, stack = served
    port = int(api.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # Given a method outside API Gateway's ANY, with a body (it was the HTTP server's 501 page)
    # When it is sent
    conn.request(method, "/stores", body=b'{"name": "x"}')
    answer = conn.getresponse()
    # Then the answer is a JSON 405 listing the methods served, and the function is not called
    assert answer.status == 405
    assert answer.getheader("Allow") == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert answer.getheader("Content-Type") == "application/json"
    assert json.loads(answer.read()) == {
        "error": "method_not_allowed",
        "message": f"method {method} is not served; see GET /openapi.json",
    }
    assert stack.bodies == []
    # And the connection still serves the next request
    assert _post(conn, b"{}") == (200, {})
