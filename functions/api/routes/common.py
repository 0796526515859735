"""What every route module shares: the documented answers, the caller, JSON answers.

Routes reach the composition root through ``common.deps`` (one place a test replaces).
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from feedsync.core.deps import Deps
from feedsync.core.identity import Accounts
from feedsync.models.accounts import Principal
from feedsync.models.responses import (
    ErrorBody,
    ForbiddenBody,
    UnauthorizedBody,
    ValidationErrorBody,
)
from feedsync.wiring import accounts as _wired_accounts
from feedsync.wiring import deps as _wired


def deps() -> Deps:
    return _wired()


def accounts() -> Accounts:
    """Sign-in's user pool and the memberships (the accounts routes only)."""
    return _wired_accounts()


# What each refusal means; every operation lists the ones it can answer (see answers).
ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("The body is nested too deep (`too_deep`) or is not UTF-8 text (`invalid_body`).",
          ErrorBody),
    401: ("No valid API key or Cognito token in `Authorization: Bearer <key or token>`: "
          "API Gateway's own answer.", UnauthorizedBody),
    403: ("The caller's role is below what this needs (`forbidden`, `needs` names the role), "
          "or the signed-in user belongs to no tenant yet (`no_tenant`).", ForbiddenBody),
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


def answers(
    status: int, description: str, model: Any = None, *errors: int, body: bool = False
) -> dict[int, OpenAPIResponse]:
    """The documented answers of one operation: its success, 401 and 403 (every operation is
    behind the authorizer and the role check), 422 (the validator's, on every operation),
    the body refusals when it takes a body, and ``errors``."""
    success: OpenAPIResponse = {"description": description, "content": {}}  # {}: no body
    if isinstance(model, dict):
        success["content"] = {"application/json": {"schema": model}}
    elif model is not None:
        success["content"] = {"application/json": {"model": model}}
    documented: dict[int, OpenAPIResponse] = {status: success}
    for code in sorted({401, 403, 422, *errors, *(BODY_ERRORS if body else ())}):
        text, error_model = ERRORS[code]
        documented[code] = {
            "description": text,
            "content": {"application/json": {"model": error_model}},
        }
    return documented


def principal() -> Principal:
    """The caller, as the authorizer proved it; never taken from the request itself."""
    event: Any = BaseRouter.current_event
    return Principal.from_context(dict(event.request_context.authorizer or {}))


def tenant() -> str:
    """The caller's tenant (the role check let no call without one reach a route that asks)."""
    return principal().tenant_id


def json_answer(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=body)


def no_content() -> Response[Any]:
    """204: no body, so no Content-Type either."""
    return Response(status_code=204, body="")


def started(run: Any) -> Response[Any]:
    """202 with the run a Start, apply, retry, revert or reapply began."""
    return json_answer(202, {"run_id": run.run_id, "status": run.status})
