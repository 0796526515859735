"""The REST API. The same handler serves API Gateway and the local stack.

Every operation documents every status it answers, each with its body's model
(``feedsync.models.responses``): ``/openapi.json`` is checked against the running API by
Schemathesis in ``make test``. The operations live in ``routes/``, one router per resource;
here: the resolver, the refusals every operation shares and the entry point, which checks
the caller's role (``routes/access.py``) before anything else.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from routes import (
    accounts,
    api_keys,
    audit,
    file_preview,
    profiles,
    review,
    runs,
    settings,
    stores,
)
from routes.access import ROUTE_ROLES
from routes.common import ERRORS

from feedsync.domain import access
from feedsync.errors import Conflict, Forbidden, Gone, InvalidRequest, NoTenant, NotFound
from feedsync.models import describe_error
from feedsync.models.accounts import Principal
from feedsync.models.limits import IDEMPOTENCY_KEY_MAX, MAX_BODY_BYTES, MAX_BODY_DEPTH
from feedsync.models.responses import ValidationErrorBody

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)
BEARER = "apiKey"
app.configure_openapi(
    title="feedsync",
    version="1.0.0",
    security_schemes={
        BEARER: HTTPBearer(
            description="A tenant's API key, or a signed-in user's Cognito ID or access "
            "token: `Authorization: Bearer <key or token>`"
        )
    },
    security=[{BEARER: []}],
)


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def _not_found(exc: NotFound) -> Response[Any]:
    return _json(404, {"error": "not_found", "message": exc.message})


@app.not_found
def _no_route(_exc: Exception) -> Response[Any]:
    """An unknown path or method: the API's own 404 body, not the framework's."""
    event = app.current_event
    message = f"no operation {event.http_method} {event.path}; see GET /openapi.json"
    return _json(404, {"error": "not_found", "message": message})


@app.exception_handler(Forbidden)  # type: ignore[untyped-decorator]
def _forbidden(exc: Forbidden) -> Response[Any]:
    return _json(403, _forbidden_body(exc))


@app.exception_handler(NoTenant)  # type: ignore[untyped-decorator]
def _no_tenant(exc: NoTenant) -> Response[Any]:
    return _json(403, _forbidden_body(exc))


def _forbidden_body(exc: Forbidden | NoTenant) -> dict[str, Any]:
    if isinstance(exc, Forbidden):
        return {"error": "forbidden", "message": exc.message, "needs": exc.needs}
    return {"error": "no_tenant", "message": exc.message}


@app.exception_handler(Gone)  # type: ignore[untyped-decorator]
def _gone(exc: Gone) -> Response[Any]:
    return _json(410, {"error": "gone", "message": exc.message})


@app.exception_handler(Conflict)  # type: ignore[untyped-decorator]
def _conflict(exc: Conflict) -> Response[Any]:
    return _json(409, {"error": exc.reason, "message": exc.message})


@app.exception_handler(InvalidRequest)  # type: ignore[untyped-decorator]
def _invalid(exc: InvalidRequest) -> Response[Any]:
    return _json(422, {"error": "invalid_request", "field": exc.field, "message": exc.message})


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _validation(exc: RequestValidationError) -> Response[Any]:
    detail = [_described(e) for e in exc.errors()]
    first = detail[0] if detail else {"field": "body", "message": "invalid value"}
    message = f"{first['field']}: {first['message']}"
    return _json(
        422,
        {"error": "invalid_request", "field": first["field"], "message": message, "detail": detail},
    )


def _described(error: dict[str, Any]) -> dict[str, str]:
    """``{"field": "schedule.at", "message": "expected a time HH:MM ..."}`` for pydantic's
    ``("body", "schedule", "daily", "at")`` error (see feedsync.models.describe_error)."""
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": str(error.get("msg", "invalid JSON"))}
    loc = tuple(error.get("loc", ()))
    if loc[:1] == ("header",):
        return _header_error(str(loc[-1]), error)
    if loc[:1] == ("query",):
        return {"field": str(loc[-1]), "message": _query_message(error)}
    field, message = describe_error({**error, "loc": loc[1:] if loc[:1] == ("body",) else loc})
    return {"field": field or "body", "message": message}


def _query_message(error: dict[str, Any]) -> str:
    """A refused query parameter's problem: its bounds said plainly (``limit=0``)."""
    ctx = error.get("ctx") or {}
    if error.get("type") == "greater_than_equal":
        return f"at least {ctx.get('ge')}, got {error.get('input')}"
    if error.get("type") == "less_than_equal":
        return f"at most {ctx.get('le')}, got {error.get('input')}"
    return describe_error({**error, "loc": ()})[1]


def _header_error(name: str, error: dict[str, Any]) -> dict[str, str]:
    """A refused header, named as it is sent: ``Idempotency-Key``."""
    field = "-".join(part.capitalize() for part in name.split("-"))
    if error.get("type") == "string_too_long" and field == "Idempotency-Key":
        limit = (error.get("ctx") or {}).get("max_length", IDEMPOTENCY_KEY_MAX)
        got = len(str(error.get("input", "")))
        message = f"at most {limit} characters (it is part of a DynamoDB key), got {got}"
        return {"field": field, "message": message}
    return {"field": field, "message": describe_error({**error, "loc": ()})[1]}


@app.get(
    "/openapi.json",
    security=[{}],  # public: API Gateway serves it without the authorizer (template.yaml)
    responses={
        200: {
            "description": "This document.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        422: {
            "description": ERRORS[422][0],
            "content": {"application/json": {"model": ValidationErrorBody}},
        },
    },
)
def openapi() -> Response[Any]:
    schema = app.get_openapi_json_schema()
    return Response(status_code=200, content_type="application/json", body=schema)


for _router in (
    accounts.router,
    settings.router,
    stores.router,
    profiles.router,
    runs.router,
    review.router,
    file_preview.router,
    api_keys.router,
    audit.router,
):
    app.include_router(_router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = _refused_role(event) or _refused_body(event.get("body")) or _refused_media_type(event)
    if refused is not None:
        return refused
    _json_body_by_default(event)
    return app.resolve(event, context)


def _refused_role(event: dict[str, Any]) -> dict[str, Any] | None:
    """403 when the caller's role is below what the operation needs (``ROUTE_ROLES``), or
    it is in no tenant yet; None when it may go on (or no operation is there: the 404)."""
    method = str(event.get("httpMethod") or "").upper()
    operation = _operation(method, str(event.get("path") or ""))
    if operation is None:
        return None
    # An operation missing from the table (tests/unit/test_api_roles.py fails on it) is
    # closed to all but owners rather than open.
    needs = ROUTE_ROLES.get((method, operation), "owner")
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    try:
        access.check(Principal.from_context(authorizer), needs)
    except (Forbidden, NoTenant) as exc:
        return _refusal(403, _forbidden_body(exc))
    return None


def _operation(method: str, path: str) -> str | None:
    """The path template (``/stores/{store_id}``) of the operation the resolver will run for
    ``method path``, found by the resolver's own rules (``/stores/x/`` is ``/stores/x``):
    the role checked is the one of the route that runs. None: no operation, its 404."""
    for route in (*app._static_routes, *app._dynamic_routes):
        if route.method == method and route.rule.match(path):
            return str(route.openapi_path)
    return None


def _refused_body(body: str | None) -> dict[str, Any] | None:
    """A body over the API's limits (size, nesting), answered before any model sees it (a deep
    body would crash the function in json.loads); None when within them."""
    if not body:
        return None
    size = len(body.encode("utf-8", "surrogatepass"))  # no binary media types: always text
    if size > MAX_BODY_BYTES:
        message = f"body: at most {MAX_BODY_BYTES:,} bytes (1 MiB), got {size:,}"
        return _refusal(413, {"error": "too_large", "field": "body", "message": message})
    try:
        parsed = json.loads(body)
    except RecursionError:
        parsed = None  # deeper than Python's json goes: surely over the limit
    except ValueError:
        return None  # not JSON: the validation answers its 422
    else:
        if _depth_within(parsed, MAX_BODY_DEPTH):
            return None
    message = f"body: nested deeper than {MAX_BODY_DEPTH} levels of objects and lists"
    return _refusal(400, {"error": "too_deep", "field": "body", "message": message})


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value``'s objects and lists nest at most ``limit`` deep (no recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return True
    return not any(isinstance(item, dict | list) for item in level)


def _refusal(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """An answer in API Gateway's proxy shape, as ``app.resolve`` gives it."""
    return {
        "statusCode": status,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


# curl -d sends this type: a JSON body sent with it is read as JSON (see below).
_FORM = "application/x-www-form-urlencoded"


def _media_type(event: dict[str, Any]) -> str:
    headers = event.get("headers") or {}
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return str(kind).split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _refused_media_type(event: dict[str, Any]) -> dict[str, Any] | None:
    """A body declared as anything but JSON (XML, a multipart form, plain text, a form that is
    not a JSON text) is a 415 naming the type; None for JSON, no type, or no body."""
    body = (event.get("body") or "").lstrip()
    media = _media_type(event)
    if not body or not media or _is_json(media) or (media == _FORM and body[:1] in "{["):
        return None
    message = f"Content-Type: the API reads JSON bodies (application/json), got {media!r}"
    answer = {"error": "unsupported_media_type", "field": "Content-Type", "message": message}
    return _refusal(415, answer)


def _json_body_by_default(event: dict[str, Any]) -> None:
    """The API speaks JSON only: a body that passed ``_refused_media_type`` (JSON, ``+json``,
    or JSON sent as curl's default form type) is read as JSON; no body, no media type."""
    media = _media_type(event)
    if media == "application/json" or not media:
        return
    headers = event.get("headers") or {}
    event["headers"] = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if (event.get("body") or "").strip():
        event["headers"]["Content-Type"] = "application/json"
    event.pop("multiValueHeaders", None)
