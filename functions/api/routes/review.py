"""A run's review (apply, retry, revert) and a profile's conflicts."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field

from feedsync.core import review
from feedsync.models import ApplyBody, RetryBody
from feedsync.models.limits import APPLY_KEYS_MAX, KEY_MAX
from feedsync.models.responses import ConflictList, ConflictsDismissed, RunStarted
from routes import common
from routes.audit import recorded
from routes.common import answers, started, tenant

router = Router()  # type: ignore[no-untyped-call]


@router.post(
    "/runs/<run_id>/apply",
    responses=answers(
        202,
        "Applying: the run's pending changes (all, of `keys`, or of the next `limit` items) go "
        "to the store in a new execution of the run; it ends `partially_applied` while changes "
        "stay pending, else `succeeded` or `failed`.",
        RunStarted, 404, 409, 410, body=True,
    ),
)  # fmt: skip
def apply_run(run_id: str, body: Annotated[ApplyBody | None, Body()] = None) -> Response[Any]:
    run = review.apply_run(common.deps(), tenant(), run_id, body or ApplyBody())
    recorded("run.applied", run.run_id, run.profile_id)
    return started(run)


@router.post(
    "/runs/<run_id>/retry",
    responses=answers(
        202,
        "A new run (`trigger: retry`, `parent_run_id`) re-sends this run's failed changes with "
        "the values it meant to write, checked against the store as it is now.",
        RunStarted, 404, 409, 410, body=True,
    ),
)  # fmt: skip
def retry_run(run_id: str, body: Annotated[RetryBody, Body()]) -> Response[Any]:
    run = review.retry_run(common.deps(), tenant(), run_id)
    recorded("run.retried", run.run_id, f"retries {run_id}")
    return started(run)


@router.post(
    "/runs/<run_id>/revert",
    responses=answers(
        202,
        "A new run (`trigger: revert`, `parent_run_id`) puts back what this run replaced, where "
        "the store still holds what it wrote (other items are `stale` in its log).",
        RunStarted, 404, 409, 410,
    ),
)  # fmt: skip
def revert_run(run_id: str) -> Response[Any]:
    run = review.revert_run(common.deps(), tenant(), run_id)
    recorded("run.reverted", run.run_id, f"reverts {run_id}")
    return started(run)


class ConflictKeys(BaseModel):
    """``{}``: every open conflict; ``keys``: those items' conflicts."""

    model_config = ConfigDict(extra="forbid")
    keys: list[Annotated[str, Field(min_length=1, max_length=KEY_MAX)]] | None = Field(
        default=None, min_length=1, max_length=APPLY_KEYS_MAX
    )


@router.get(
    "/profiles/<profile_id>/conflicts",
    responses=answers(
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
    return review.list_conflicts(common.deps(), tenant(), profile_id, limit, cursor)


@router.post(
    "/profiles/<profile_id>/conflicts/reapply",
    responses=answers(
        202, "A run (`trigger: reapply`) writes the feed's values over these store edits.",
        RunStarted, 404, 409, body=True,
    ),
)  # fmt: skip
def reapply_conflicts(
    profile_id: str, body: Annotated[ConflictKeys | None, Body()] = None
) -> Response[Any]:
    wanted = body.keys if body else None
    run = review.reapply_conflicts(common.deps(), tenant(), profile_id, wanted)
    recorded("run.started", run.run_id, f"{profile_id} (conflicts reapplied)")
    return started(run)


@router.post(
    "/profiles/<profile_id>/conflicts/dismiss",
    responses=answers(
        200, "The store's values stay and are not flagged again until the feed's value changes.",
        ConflictsDismissed, 404, 409, body=True,
    ),
)  # fmt: skip
def dismiss_conflicts(
    profile_id: str, body: Annotated[ConflictKeys | None, Body()] = None
) -> dict[str, Any]:
    wanted = body.keys if body else None
    dismissed = review.dismiss_conflicts(common.deps(), tenant(), profile_id, wanted)
    recorded("conflicts.dismissed", profile_id, f"{dismissed} dismissed")
    return {"dismissed": dismissed}
