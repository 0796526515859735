"""Serve the REST API locally: HTTP -> API Gateway proxy event -> the same handlers.

API Gateway's execute-api is not emulated by moto, so this plays its part:
the REQUEST authorizer runs first and its context reaches the API handler.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedsync_local.dashboard_files import dashboard_file, is_dashboard_path
from feedsync_local.httpserver import LoopbackServer
from feedsync_local.stack import ACCOUNT, REGION, LocalStack

PUBLIC_PATHS = frozenset({"/openapi.json", "/auth/config"})
# What API Gateway's ANY method (the template's /{proxy+}) passes on to the function.
ANY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class LocalApi:
    def __init__(
        self,
        stack: LocalStack,
        host: str = "127.0.0.1",
        port: int = 0,
        api_function: str = "ApiFunction",
        authorizer_function: str = "AuthorizerFunction",
    ) -> None:
        self.stack = stack
        self.api_function = api_function
        self.authorizer_function = authorizer_function
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = api.handle(
                    self.command, self.path, dict(self.headers.items()), body
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _not_allowed(self) -> None:
                """Methods API Gateway's ANY does not take: a JSON 405, not the 501 page."""
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)  # unread, it would be taken for the next request
                message = f"method {self.command} is not served; see GET /openapi.json"
                payload = json.dumps({"error": "method_not_allowed", "message": message}).encode()
                self.send_response(405)
                self.send_header("Allow", ", ".join(ANY_METHODS))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, QUERY, ...) is looked up as do_<METHOD>.
                if name.startswith("do_"):
                    return self._not_allowed
                raise AttributeError(name)

        self.server = LoopbackServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        meter = getattr(self.stack, "meter", None)
        if meter is not None:  # the cost model counts API Gateway requests
            meter.api_request()
        split = urlsplit(raw_path)
        path = split.path
        if method in ("GET", "HEAD") and is_dashboard_path(path):
            return dashboard_file(path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()} or None
        context: dict[str, Any] = {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1"},
        }
        if path not in PUBLIC_PATHS:
            authorized = self._authorize(method, path, headers, query, context)
            if authorized is None:
                return _json(401, {"message": "Unauthorized"})
            context["authorizer"] = authorized
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError as exc:
            # The API speaks JSON (UTF-8): answered here, as the connection is kept.
            bad = body[exc.start : exc.start + 1].hex()
            message = f"body: not UTF-8 text (byte 0x{bad} at offset {exc.start})"
            return _json(400, {"error": "invalid_body", "field": "body", "message": message})
        event = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": (
                {k: v for k, v in parse_qs(split.query).items()} or None
            ),
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": context,
            "body": text,
            "isBase64Encoded": False,
        }
        result = self.stack.invoke(self.api_function, event)
        out_headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(str(v) for v in values)
        payload = result.get("body") or ""
        return int(result["statusCode"]), out_headers, payload.encode("utf-8")

    def _authorize(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str] | None,
        context: dict[str, Any],
    ) -> dict[str, str] | None:
        """The authorizer's context as API Gateway hands it on (strings, plus principalId);
        None for its 401."""
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:local/v1/{method}{path}",
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "queryStringParameters": query,
            "requestContext": context,
        }
        try:
            policy = self.stack.invoke(self.authorizer_function, event)
        except Exception:
            return None  # the authorizer raises "Unauthorized" -> API Gateway's 401
        statements = policy.get("policyDocument", {}).get("Statement", [])
        if not any(s.get("Effect") == "Allow" for s in statements):
            return None
        found = {str(k): str(v) for k, v in (policy.get("context") or {}).items()}
        return {**found, "principalId": str(policy.get("principalId", ""))}


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
