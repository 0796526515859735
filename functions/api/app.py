"""The REST API. The same handler serves API Gateway and the local stack."""

import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from feedsync.core import api
from feedsync.errors import Conflict, InvalidRequest, NotFound
from feedsync.models import (
    CreateStore,
    ImportCatalogBody,
    PatchProfile,
    ProfileSettings,
    StartRunBody,
    TenantSchedule,
    describe_error,
)
from feedsync.models.limits import (
    FILE_NAME_MAX,
    IDEMPOTENCY_KEY_MAX,
    MAX_BODY_BYTES,
    MAX_BODY_DEPTH,
)
from feedsync.wiring import deps

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)


class UploadUrlBody(BaseModel):
    file_name: str = Field(default="feed.csv", min_length=1, max_length=FILE_NAME_MAX)


def _tenant() -> str:
    """Set by the API-key authorizer; never taken from the request itself."""
    return str(app.current_event.request_context.authorizer["tenant_id"])


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def _not_found(exc: NotFound) -> Response[Any]:
    return _json(404, {"error": "not_found", "message": exc.message})


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
    field, message = describe_error({**error, "loc": loc[1:] if loc[:1] == ("body",) else loc})
    return {"field": field or "body", "message": message}


def _header_error(name: str, error: dict[str, Any]) -> dict[str, str]:
    """A refused header, named as it is sent: ``Idempotency-Key``."""
    field = "-".join(part.capitalize() for part in name.split("-"))
    if error.get("type") == "string_too_long" and field == "Idempotency-Key":
        limit = (error.get("ctx") or {}).get("max_length", IDEMPOTENCY_KEY_MAX)
        got = len(str(error.get("input", "")))
        message = f"at most {limit} characters (it is part of a DynamoDB key), got {got}"
        return {"field": field, "message": message}
    return {"field": field, "message": describe_error({**error, "loc": ()})[1]}


@app.get("/openapi.json")
def openapi() -> Response[Any]:
    schema = app.get_openapi_json_schema(title="feedsync", version="1.0.0")
    return Response(status_code=200, content_type="application/json", body=schema)


@app.get("/settings/schedule")
def get_schedule_settings() -> dict[str, Any]:
    return api.get_schedule_settings(deps(), _tenant())


@app.put("/settings/schedule")
def put_schedule_settings(body: Annotated[TenantSchedule, Body()]) -> dict[str, Any]:
    return api.put_schedule_settings(deps(), _tenant(), body)


@app.post("/stores")
def create_store(body: Annotated[CreateStore, Body()]) -> Response[Any]:
    return _json(201, api.create_store(deps(), _tenant(), body).public())


@app.get("/stores")
def list_stores() -> dict[str, Any]:
    return {"stores": [s.public() for s in api.list_stores(deps(), _tenant())]}


@app.get("/stores/<store_id>")
def get_store(store_id: str) -> dict[str, Any]:
    return api.get_store(deps(), _tenant(), store_id).public()


@app.delete("/stores/<store_id>")
def delete_store(store_id: str) -> Response[Any]:
    api.delete_store(deps(), _tenant(), store_id)
    return Response(status_code=204, content_type="application/json", body="")


@app.post("/stores/<store_id>/import")
def import_catalog(store_id: str, body: Annotated[ImportCatalogBody, Body()]) -> Response[Any]:
    store = api.import_store_catalog(deps(), _tenant(), store_id, body)
    return _json(202, store.public())


@app.post("/profiles")
def create_profile(body: Annotated[ProfileSettings, Body()]) -> Response[Any]:
    profile = api.create_profile(deps(), _tenant(), body)
    return _json(201, api.profile_views(deps(), _tenant(), [profile])[0])


@app.get("/profiles")
def list_profiles() -> dict[str, Any]:
    tenant = _tenant()
    return {"profiles": api.profile_views(deps(), tenant, api.list_profiles(deps(), tenant))}


@app.get("/profiles/<profile_id>")
def get_profile(profile_id: str) -> dict[str, Any]:
    profile = api.get_profile(deps(), _tenant(), profile_id)
    return api.profile_views(deps(), _tenant(), [profile])[0]


@app.patch("/profiles/<profile_id>")
def patch_profile(profile_id: str, body: Annotated[PatchProfile, Body()]) -> dict[str, Any]:
    profile = api.patch_profile(deps(), _tenant(), profile_id, body)
    return api.profile_views(deps(), _tenant(), [profile])[0]


@app.delete("/profiles/<profile_id>")
def delete_profile(profile_id: str) -> Response[Any]:
    api.delete_profile(deps(), _tenant(), profile_id)
    return Response(status_code=204, content_type="application/json", body="")


@app.post("/profiles/<profile_id>/upload-url")
def upload_url(profile_id: str, body: Annotated[UploadUrlBody | None, Body()] = None) -> Any:
    name = body.file_name if body else "feed.csv"
    return api.upload_url(deps(), _tenant(), profile_id, name)


@app.post("/profiles/<profile_id>/runs")
def start_run(
    profile_id: str,
    body: Annotated[StartRunBody | None, Body()] = None,
    # A double-clicked Start with the same Idempotency-Key header starts one run. The key
    # becomes part of a DynamoDB sort key (at most 1,024 bytes): hence the limit.
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX),
    ] = None,
) -> Response[Any]:
    mode = body.mode if body else None
    run = api.start(deps(), _tenant(), profile_id, "manual", mode, idempotency_key)
    return _json(202, {"run_id": run.run_id, "status": run.status})


@app.get("/profiles/<profile_id>/runs")
def list_runs(profile_id: str) -> dict[str, Any]:
    return {"runs": [r.public() for r in api.list_runs(deps(), _tenant(), profile_id)]}


@app.get("/runs/<run_id>")
def get_run(run_id: str) -> dict[str, Any]:
    return api.get_run(deps(), _tenant(), run_id).public()


class CancelAccepted(BaseModel):
    run_id: str
    status: Literal["cancelling"] = Field(
        description="the run stops at its next step or batch; GET /runs/{id} says cancelled"
    )


class CancelRefused(BaseModel):
    error: str = Field(description="not_found, or run_finished")
    message: str


def _cancel_answer(model: type[BaseModel], description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


@app.post(
    "/runs/<run_id>/cancel",
    responses={
        202: _cancel_answer(CancelAccepted, "cancel requested: the run stops between batches"),
        404: _cancel_answer(CancelRefused, "no such run for this API key"),
        409: _cancel_answer(CancelRefused, "the run has already ended (run_finished)"),
    },
)
def cancel_run(run_id: str) -> Response[Any]:
    run = api.cancel_run(deps(), _tenant(), run_id)
    return _json(202, {"run_id": run.run_id, "status": "cancelling"})


@app.get("/runs/<run_id>/log")
def run_log(run_id: str) -> Response[Any]:
    body = api.run_log(deps(), _tenant(), run_id)
    if isinstance(body, str):  # too big for a Lambda response: download from S3
        return Response(status_code=302, headers={"Location": body}, body="")
    return Response(
        status_code=200,
        content_type="text/csv",
        body=body.decode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = _refused_body(event.get("body"))
    if refused is not None:
        return refused
    _json_body_by_default(event)
    return app.resolve(event, context)


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


def _json_body_by_default(event: dict[str, Any]) -> None:
    """The API speaks JSON only: a JSON body sent as curl's default form type is read as JSON."""
    headers = event.get("headers") or {}
    body = (event.get("body") or "").lstrip()
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if body[:1] in ("{", "[") and "json" not in kind.lower():
        event["headers"] = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        event["headers"]["Content-Type"] = "application/json"
        event.pop("multiValueHeaders", None)
