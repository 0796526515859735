"""The REST API. The same handler serves API Gateway and the local stack.

Every operation documents every status it answers, each with its body's model
(``feedsync.models.responses``): ``/openapi.json`` is checked against the running API by
Schemathesis in ``make test``.
"""

import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import (
    COMPONENT_REF_TEMPLATE,
    OpenAPIResponse,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from feedsync.core import api, notify_api, plans, review, schedules
from feedsync.errors import Conflict, Gone, InvalidRequest, NotFound
from feedsync.models import (
    ApplyBody,
    CreateStore,
    ImportCatalogBody,
    PatchProfile,
    ProfileSettings,
    RetryBody,
    SchedulePreviewBody,
    StartRunBody,
    TenantSchedule,
    describe_error,
)
from feedsync.models.limits import (
    APPLY_KEYS_MAX,
    FILE_NAME_MAX,
    IDEMPOTENCY_KEY_MAX,
    KEY_MAX,
    MAX_BODY_BYTES,
    MAX_BODY_DEPTH,
)
from feedsync.models.notifications import (
    NotificationSettings,
    NotificationSettingsView,
    WebhookDeliveryList,
    WebhookSecretView,
)
from feedsync.models.responses import (
    CancelAccepted,
    ChangeField,
    ChangeList,
    ChangeStatus,
    ConflictList,
    ConflictsDismissed,
    ErrorBody,
    PlanView,
    ProfileList,
    ProfileView,
    RunList,
    RunStarted,
    RunView,
    SchedulePreview,
    StoreList,
    StoreView,
    UnauthorizedBody,
    UploadUrl,
    ValidationErrorBody,
)
from feedsync.models.schedules import TENANT_SCHEDULE
from feedsync.wiring import deps

logger = Logger()
app = APIGatewayRestResolver(enable_validation=True)
BEARER = "apiKey"
app.configure_openapi(
    title="feedsync",
    version="1.0.0",
    security_schemes={
        BEARER: HTTPBearer(description="A tenant's API key: `Authorization: Bearer <key>`")
    },
    security=[{BEARER: []}],
)

# What each refusal means; every operation lists the ones it can answer (see _answers).
_ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("The body is nested too deep (`too_deep`) or is not UTF-8 text (`invalid_body`).",
          ErrorBody),
    401: ("No valid API key in `Authorization: Bearer <key>`: API Gateway's own answer.",
          UnauthorizedBody),
    404: ("Nothing with this id for this API key's tenant (`not_found`).", ErrorBody),
    409: ("Refused in the resource's present state: `error` says why.", ErrorBody),
    410: ("It was kept for a while and is gone for good (`gone`).", ErrorBody),
    413: ("The body is over 1 MiB (`too_large`).", ErrorBody),
    415: ("The body is not JSON (`unsupported_media_type`): send `application/json`.",
          ErrorBody),
    422: ("The request does not match its schema, or a value is refused "
          "(`invalid_request`, naming the field).", ValidationErrorBody),
}  # fmt: skip
# Any operation with a body can be refused for its size, depth, media type or values.
BODY_ERRORS = (400, 413, 415, 422)


def _answers(
    status: int, description: str, model: Any = None, *errors: int, body: bool = False
) -> dict[int, OpenAPIResponse]:
    """The documented answers of one operation: its success, 401 (every operation is behind
    the API-key authorizer), 422 (the validator's, on every operation), the body refusals
    when it takes a body, and ``errors``."""
    success: OpenAPIResponse = {"description": description, "content": {}}  # {}: no body
    if isinstance(model, dict):
        success["content"] = {"application/json": {"schema": model}}
    elif model is not None:
        success["content"] = {"application/json": {"model": model}}
    answers: dict[int, OpenAPIResponse] = {status: success}
    for code in sorted({401, 422, *errors, *(BODY_ERRORS if body else ())}):
        text, error_model = _ERRORS[code]
        answers[code] = {
            "description": text,
            "content": {"application/json": {"model": error_model}},
        }
    return answers


# The schedule answered is the one PUT takes: the same component schemas (a model used for a
# request and an answer would be documented twice, as "-Input" and as an untyped "-Output").
_SCHEDULE_SCHEMA = {
    key: value
    for key, value in TENANT_SCHEDULE.json_schema(ref_template=COMPONENT_REF_TEMPLATE).items()
    if key != "$defs"
}

_IDEMPOTENCY = (
    "A repeated Start with the same key (a double click, a client's retry) answers the run the "
    f"first one started instead of starting another. At most {IDEMPOTENCY_KEY_MAX} characters."
)


class UploadUrlBody(BaseModel):
    file_name: str = Field(default="feed.csv", min_length=1, max_length=FILE_NAME_MAX)


def _tenant() -> str:
    """Set by the API-key authorizer; never taken from the request itself."""
    return str(app.current_event.request_context.authorizer["tenant_id"])


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


def _no_content() -> Response[Any]:
    """204: no body, so no Content-Type either."""
    return Response(status_code=204, body="")


@app.exception_handler(NotFound)  # type: ignore[untyped-decorator]
def _not_found(exc: NotFound) -> Response[Any]:
    return _json(404, {"error": "not_found", "message": exc.message})


@app.not_found
def _no_route(_exc: Exception) -> Response[Any]:
    """An unknown path or method: the API's own 404 body, not the framework's."""
    event = app.current_event
    message = f"no operation {event.http_method} {event.path}; see GET /openapi.json"
    return _json(404, {"error": "not_found", "message": message})


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
            "description": _ERRORS[422][0],
            "content": {"application/json": {"model": ValidationErrorBody}},
        },
    },
)
def openapi() -> Response[Any]:
    schema = app.get_openapi_json_schema()
    return Response(status_code=200, content_type="application/json", body=schema)


@app.get(
    "/settings/schedule",
    responses=_answers(200, "The tenant's global schedule.", _SCHEDULE_SCHEMA),
)
def get_schedule_settings() -> dict[str, Any]:
    return api.get_schedule_settings(deps(), _tenant())


@app.post(
    "/schedule-preview",
    responses=_answers(
        200, "The next times a profile with this schedule would run (nothing is saved).",
        SchedulePreview, body=True,
    ),
)  # fmt: skip
def schedule_preview(body: Annotated[SchedulePreviewBody, Body()]) -> dict[str, Any]:
    return schedules.preview(deps(), _tenant(), body.schedule, body.count)


@app.get("/plan", responses=_answers(200, "The tenant's plan and what it uses of it.", PlanView))
def get_plan() -> dict[str, Any]:
    return plans.usage(deps(), _tenant())


@app.put(
    "/settings/schedule",
    responses=_answers(200, "The schedule as stored.", _SCHEDULE_SCHEMA, body=True),
)
def put_schedule_settings(body: Annotated[TenantSchedule, Body()]) -> dict[str, Any]:
    return api.put_schedule_settings(deps(), _tenant(), body)


@app.get(
    "/settings/notifications",
    responses=_answers(200, "Where run alerts are mailed, and whether the address confirmed.",
                       NotificationSettingsView),
)  # fmt: skip
def get_notification_settings() -> dict[str, Any]:
    return notify_api.get_settings(deps(), _tenant()).model_dump(mode="json")


@app.put(
    "/settings/notifications",
    responses=_answers(
        200, "Subscribed: AWS mails the address a confirmation link; alerts (a run failed, was "
        "held, or the store refused items) start once it is followed. `null` unsubscribes.",
        NotificationSettingsView, 409, body=True,
    ),
)  # fmt: skip
def put_notification_settings(body: Annotated[NotificationSettings, Body()]) -> dict[str, Any]:
    return notify_api.put_settings(deps(), _tenant(), body).model_dump(mode="json")


@app.post(
    "/stores",
    responses=_answers(201, "Created; its catalog import runs in the background.", StoreView,
                       body=True),
)  # fmt: skip
def create_store(body: Annotated[CreateStore, Body()]) -> Response[Any]:
    return _json(201, api.create_store(deps(), _tenant(), body).public())


@app.get("/stores", responses=_answers(200, "The tenant's stores.", StoreList))
def list_stores() -> dict[str, Any]:
    return {"stores": [s.public() for s in api.list_stores(deps(), _tenant())]}


@app.get("/stores/<store_id>", responses=_answers(200, "The store.", StoreView, 404))
def get_store(store_id: str) -> dict[str, Any]:
    return api.get_store(deps(), _tenant(), store_id).public()


@app.delete(
    "/stores/<store_id>",
    responses=_answers(204, "Deleted with its token and catalog index.", None, 404, 409),
)
def delete_store(store_id: str) -> Response[Any]:
    api.delete_store(deps(), _tenant(), store_id)
    return _no_content()


@app.post(
    "/stores/<store_id>/import",
    responses=_answers(202, "The import started; the store as it is now.", StoreView, 404,
                       body=True),
)  # fmt: skip
def import_catalog(store_id: str, body: Annotated[ImportCatalogBody, Body()]) -> Response[Any]:
    store = api.import_store_catalog(deps(), _tenant(), store_id, body)
    return _json(202, store.public())


@app.post("/profiles", responses=_answers(201, "Created.", ProfileView, body=True))
def create_profile(body: Annotated[ProfileSettings, Body()]) -> Response[Any]:
    profile = api.create_profile(deps(), _tenant(), body)
    return _json(201, api.profile_views(deps(), _tenant(), [profile])[0])


@app.get("/profiles", responses=_answers(200, "The tenant's profiles.", ProfileList))
def list_profiles() -> dict[str, Any]:
    tenant = _tenant()
    return {"profiles": api.profile_views(deps(), tenant, api.list_profiles(deps(), tenant))}


@app.get("/profiles/<profile_id>", responses=_answers(200, "The profile.", ProfileView, 404))
def get_profile(profile_id: str) -> dict[str, Any]:
    profile = api.get_profile(deps(), _tenant(), profile_id)
    return api.profile_views(deps(), _tenant(), [profile])[0]


@app.patch(
    "/profiles/<profile_id>",
    responses=_answers(200, "The profile as changed.", ProfileView, 404, 409, body=True),
)
def patch_profile(profile_id: str, body: Annotated[PatchProfile, Body()]) -> dict[str, Any]:
    profile = api.patch_profile(deps(), _tenant(), profile_id, body)
    return api.profile_views(deps(), _tenant(), [profile])[0]


@app.delete(
    "/profiles/<profile_id>",
    responses=_answers(204, "Deleted with its schedule and source credentials.", None, 404, 409),
)
def delete_profile(profile_id: str) -> Response[Any]:
    api.delete_profile(deps(), _tenant(), profile_id)
    return _no_content()


@app.post(
    "/profiles/<profile_id>/upload-url",
    responses=_answers(200, "A presigned S3 PUT URL: the upload starts a run.", UploadUrl,
                       404, 409, body=True),
)  # fmt: skip
def upload_url(profile_id: str, body: Annotated[UploadUrlBody | None, Body()] = None) -> Any:
    name = body.file_name if body else "feed.csv"
    return api.upload_url(deps(), _tenant(), profile_id, name)


@app.post(
    "/profiles/<profile_id>/runs",
    responses=_answers(202, "Started (or, for a repeated Idempotency-Key, the run it started).",
                       RunStarted, 404, 409, body=True),
)  # fmt: skip
def start_run(
    profile_id: str,
    body: Annotated[StartRunBody | None, Body()] = None,
    # A double-clicked Start with the same Idempotency-Key header starts one run. The key
    # becomes part of a DynamoDB sort key (at most 1,024 bytes): hence the limit.
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX, description=_IDEMPOTENCY),
    ] = None,
) -> Response[Any]:
    mode = body.mode if body else None
    preview = body.preview if body else False
    run = api.start(deps(), _tenant(), profile_id, "manual", mode, idempotency_key, preview)
    return _json(202, {"run_id": run.run_id, "status": run.status})


@app.get(
    "/profiles/<profile_id>/runs",
    responses=_answers(200, "The profile's runs, newest first.", RunList, 404),
)
def list_runs(
    profile_id: str,
    limit: Annotated[int, Query(ge=1, le=200, description="at most this many")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=100, description="the previous page's `next`")
    ] = None,
) -> dict[str, Any]:
    return api.list_runs(deps(), _tenant(), profile_id, limit, cursor)


@app.get("/runs/<run_id>", responses=_answers(200, "The run.", RunView, 404))
def get_run(run_id: str) -> dict[str, Any]:
    return api.get_run(deps(), _tenant(), run_id).public()


@app.post(
    "/runs/<run_id>/cancel",
    responses=_answers(
        202, "Cancel requested: the run stops at its next step or batch.", CancelAccepted, 404, 409
    ),
)
def cancel_run(run_id: str) -> Response[Any]:
    run = api.cancel_run(deps(), _tenant(), run_id)
    return _json(202, {"run_id": run.run_id, "status": "cancelling"})


@app.post(
    "/runs/<run_id>/apply",
    responses=_answers(
        202,
        "Applying: the run's pending changes (all, of `keys`, or of the next `limit` items) go "
        "to the store in a new execution of the run; it ends `partially_applied` while changes "
        "stay pending, else `succeeded` or `failed`.",
        RunStarted, 404, 409, 410, body=True,
    ),
)  # fmt: skip
def apply_run(run_id: str, body: Annotated[ApplyBody | None, Body()] = None) -> Response[Any]:
    run = review.apply_run(deps(), _tenant(), run_id, body or ApplyBody())
    return _json(202, {"run_id": run.run_id, "status": run.status})


@app.post(
    "/runs/<run_id>/retry",
    responses=_answers(
        202,
        "A new run (`trigger: retry`, `parent_run_id`) re-sends this run's failed changes with "
        "the values it meant to write, checked against the store as it is now.",
        RunStarted, 404, 409, 410, body=True,
    ),
)  # fmt: skip
def retry_run(run_id: str, body: Annotated[RetryBody, Body()]) -> Response[Any]:
    run = review.retry_run(deps(), _tenant(), run_id)
    return _json(202, {"run_id": run.run_id, "status": run.status})


@app.post(
    "/runs/<run_id>/revert",
    responses=_answers(
        202,
        "A new run (`trigger: revert`, `parent_run_id`) puts back what this run replaced, where "
        "the store still holds what it wrote (other items are `stale` in its log).",
        RunStarted, 404, 409, 410,
    ),
)  # fmt: skip
def revert_run(run_id: str) -> Response[Any]:
    run = review.revert_run(deps(), _tenant(), run_id)
    return _json(202, {"run_id": run.run_id, "status": run.status})


class ConflictKeys(BaseModel):
    """``{}``: every open conflict; ``keys``: those items' conflicts."""

    model_config = ConfigDict(extra="forbid")
    keys: list[Annotated[str, Field(min_length=1, max_length=KEY_MAX)]] | None = Field(
        default=None, min_length=1, max_length=APPLY_KEYS_MAX
    )


@app.get(
    "/profiles/<profile_id>/conflicts",
    responses=_answers(
        200, "The profile's open conflicts: values changed in the store since feedsync wrote "
        "them, kept because the store wins for their field.", ConflictList, 404,
    ),
)  # fmt: skip
def list_conflicts(
    profile_id: str,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=20, description="the previous page's `next`")
    ] = None,
) -> dict[str, Any]:
    return review.list_conflicts(deps(), _tenant(), profile_id, limit, cursor)


@app.post(
    "/profiles/<profile_id>/conflicts/reapply",
    responses=_answers(
        202, "A run (`trigger: reapply`) writes the feed's values over these store edits.",
        RunStarted, 404, 409, body=True,
    ),
)  # fmt: skip
def reapply_conflicts(
    profile_id: str, body: Annotated[ConflictKeys | None, Body()] = None
) -> Response[Any]:
    wanted = body.keys if body else None
    run = review.reapply_conflicts(deps(), _tenant(), profile_id, wanted)
    return _json(202, {"run_id": run.run_id, "status": run.status})


@app.post(
    "/profiles/<profile_id>/conflicts/dismiss",
    responses=_answers(
        200, "The store's values stay and are not flagged again until the feed's value changes.",
        ConflictsDismissed, 404, 409, body=True,
    ),
)  # fmt: skip
def dismiss_conflicts(
    profile_id: str, body: Annotated[ConflictKeys | None, Body()] = None
) -> dict[str, Any]:
    wanted = body.keys if body else None
    return {"dismissed": review.dismiss_conflicts(deps(), _tenant(), profile_id, wanted)}


@app.post(
    "/profiles/<profile_id>/webhook-secret",
    responses=_answers(
        201, "A new signing secret for the profile's webhooks, shown this once; the old one "
        "stops signing at once.", WebhookSecretView, 404,
    ),
)  # fmt: skip
def rotate_webhook_secret(profile_id: str) -> Response[Any]:
    return _json(201, {"secret": notify_api.rotate_secret(deps(), _tenant(), profile_id)})


@app.get(
    "/profiles/<profile_id>/webhook-deliveries",
    responses=_answers(
        200, "The profile's webhook deliveries, newest first (each with its attempts).",
        WebhookDeliveryList, 404,
    ),
)  # fmt: skip
def list_webhook_deliveries(
    profile_id: str,
    limit: Annotated[int, Query(ge=1, le=notify_api.DELIVERIES_PAGE_MAX)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=400, description="the previous page's `next_cursor`")
    ] = None,
) -> dict[str, Any]:
    page = notify_api.list_deliveries(deps(), _tenant(), profile_id, limit, cursor)
    return page.model_dump(mode="json")


_LOG_ANSWERS = _answers(200, "The run's per-row log.", None, 404, 410)
_LOG_ANSWERS[200]["content"] = {"text/csv": {"schema": {"type": "string"}}}
_LOG_ANSWERS[302] = {
    "description": "The log is over 5 MiB (a Lambda answer's limit): download it from S3.",
    "headers": {"Location": {"description": "a presigned S3 URL", "schema": {"type": "string"}}},
    "content": {},
}


@app.get("/runs/<run_id>/log", responses=_LOG_ANSWERS)
def run_log(
    run_id: str,
    status: Annotated[
        str | None,
        Query(
            pattern="^[a-z_]{1,30}$",
            description="only the lines of this status (e.g. `failed`, `row_error`, `updated`)",
        ),
    ] = None,
) -> Response[Any]:
    body = api.run_log(deps(), _tenant(), run_id, status)
    if isinstance(body, str):  # too big for a Lambda response: download from S3
        return Response(status_code=302, headers={"Location": body}, body="")
    return Response(
        status_code=200,
        content_type="text/csv",
        body=body.decode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'},
    )


_CHANGES_ANSWERS = _answers(
    200, "A page of the run's changes, in feed-row order; as CSV with `format=csv`.",
    ChangeList, 404, 410,
)  # fmt: skip
_CHANGES_ANSWERS[200]["content"]["text/csv"] = {"schema": {"type": "string"}}
_CHANGES_ANSWERS[200]["headers"] = {
    "X-Next-Cursor": {
        "description": "a CSV page's next cursor (absent after the last change)",
        "schema": {"type": "string"},
    }
}
_CHANGES_ANSWERS[302] = {
    "description": "`format=csv` without `limit`/`cursor` and over 5 MiB: download it from S3.",
    "headers": _LOG_ANSWERS[302]["headers"],
    "content": {},
}


@app.get("/runs/<run_id>/changes", responses=_CHANGES_ANSWERS)
def run_changes(
    run_id: str,
    status: Annotated[ChangeStatus | None, Query(description="only changes in this status")] = None,
    field: Annotated[ChangeField | None, Query(description="only changes of this field")] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="only changes whose key contains this (any case)"),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=1000, description="at most this many changes (default 100)"),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="the previous page's `next`")
    ] = None,
    format_: Annotated[
        Literal["json", "csv"],
        Query(
            alias="format",
            description="`csv`: without `limit` and `cursor`, every change under the filters",
        ),
    ] = "json",
) -> Response[Any]:
    filters = {"status": status, "field": field, "q": q}
    page: dict[str, Any] = {"cursor": cursor, **({"limit": limit} if limit else {})}
    if format_ == "json":
        found, following = api.run_changes(deps(), _tenant(), run_id, **filters, **page)
        return _json(200, {"changes": found, "next": following})
    headers = {"Content-Disposition": f'attachment; filename="{run_id}-changes.csv"'}
    if limit is None and cursor is None:
        whole = api.run_changes_csv(deps(), _tenant(), run_id, **filters)
        if isinstance(whole, str):  # too big for a Lambda response: download from S3
            return Response(status_code=302, headers={"Location": whole}, body="")
        return Response(200, "text/csv", whole.decode("utf-8"), headers)
    data, following = api.run_changes_csv_page(deps(), _tenant(), run_id, **filters, **page)
    if following is not None:
        headers["X-Next-Cursor"] = following
    return Response(200, "text/csv", data.decode("utf-8"), headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = _refused_body(event.get("body")) or _refused_media_type(event)
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
