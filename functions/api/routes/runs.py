"""Starting runs, a profile's history, a run, its cancel, log and changes."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from feedsync.core import api
from feedsync.models import StartRunBody
from feedsync.models.limits import IDEMPOTENCY_KEY_MAX
from feedsync.models.responses import (
    CancelAccepted,
    ChangeField,
    ChangeList,
    ChangeStatus,
    RunList,
    RunStarted,
    RunView,
)
from routes import common
from routes.audit import recorded
from routes.common import answers, json_answer, started, tenant

router = Router()  # type: ignore[no-untyped-call]

_IDEMPOTENCY = (
    "A repeated Start with the same key (a double click, a client's retry) answers the run the "
    f"first one started instead of starting another. At most {IDEMPOTENCY_KEY_MAX} characters."
)


@router.post(
    "/profiles/<profile_id>/runs",
    responses=answers(202, "Started (or, for a repeated Idempotency-Key, the run it started).",
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
    deps = common.deps()
    run = api.start(deps, tenant(), profile_id, "manual", mode, idempotency_key, preview)
    recorded("run.started", run.run_id, f"{profile_id}{' (preview)' if preview else ''}")
    return started(run)


@router.get(
    "/profiles/<profile_id>/runs",
    responses=answers(200, "The profile's runs, newest first.", RunList, 404),
)
def list_runs(
    profile_id: str,
    limit: Annotated[int, Query(ge=1, le=200, description="at most this many")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=100, description="the previous page's `next`")
    ] = None,
) -> dict[str, Any]:
    return api.list_runs(common.deps(), tenant(), profile_id, limit, cursor)


@router.get("/runs/<run_id>", responses=answers(200, "The run.", RunView, 404))
def get_run(run_id: str) -> dict[str, Any]:
    return api.get_run(common.deps(), tenant(), run_id).public()


@router.post(
    "/runs/<run_id>/cancel",
    responses=answers(
        202, "Cancel requested: the run stops at its next step or batch.", CancelAccepted, 404, 409
    ),
)
def cancel_run(run_id: str) -> Response[Any]:
    run = api.cancel_run(common.deps(), tenant(), run_id)
    recorded("run.cancelled", run.run_id, run.profile_id)
    return json_answer(202, {"run_id": run.run_id, "status": "cancelling"})


_LOG_ANSWERS = answers(200, "The run's per-row log.", None, 404, 410)
_LOG_ANSWERS[200]["content"] = {"text/csv": {"schema": {"type": "string"}}}
_LOG_ANSWERS[302] = {
    "description": "The log is over 5 MiB (a Lambda answer's limit): download it from S3.",
    "headers": {"Location": {"description": "a presigned S3 URL", "schema": {"type": "string"}}},
    "content": {},
}


@router.get("/runs/<run_id>/log", responses=_LOG_ANSWERS)
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
    body = api.run_log(common.deps(), tenant(), run_id, status)
    if isinstance(body, str):  # too big for a Lambda response: download from S3
        return Response(status_code=302, headers={"Location": body}, body="")
    return Response(
        status_code=200,
        content_type="text/csv",
        body=body.decode("utf-8"),
        headers={"Content-Disposition": f'attachment; filename="{run_id}.csv"'},
    )


_CHANGES_ANSWERS = answers(
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


@router.get("/runs/<run_id>/changes", responses=_CHANGES_ANSWERS)
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
    deps, who = common.deps(), tenant()
    filters = {"status": status, "field": field, "q": q}
    page: dict[str, Any] = {"cursor": cursor, **({"limit": limit} if limit else {})}
    if format_ == "json":
        found, following = api.run_changes(deps, who, run_id, **filters, **page)
        return json_answer(200, {"changes": found, "next": following})
    headers = {"Content-Disposition": f'attachment; filename="{run_id}-changes.csv"'}
    if limit is None and cursor is None:
        whole = api.run_changes_csv(deps, who, run_id, **filters)
        if isinstance(whole, str):  # too big for a Lambda response: download from S3
            return Response(status_code=302, headers={"Location": whole}, body="")
        return Response(200, "text/csv", whole.decode("utf-8"), headers)
    data, following = api.run_changes_csv_page(deps, who, run_id, **filters, **page)
    if following is not None:
        headers["X-Next-Cursor"] = following
    return Response(200, "text/csv", data.decode("utf-8"), headers)
