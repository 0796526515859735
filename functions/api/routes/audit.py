"""The tenant's audit trail (owners: ``GET /audit``), and ``recorded``: how every other
route adds to it once its action succeeded (the caller, as the authorizer proved it)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from feedsync.core import audit
from feedsync.models.accounts import AUDIT_PAGE_MAX, AuditPage
from routes import common
from routes.common import answers, principal, tenant

router = Router()  # type: ignore[no-untyped-call]


def recorded(action: str, target: str, detail: str = "") -> None:
    """``action`` on ``target`` by the caller, into its tenant's trail."""
    audit.record(common.deps(), principal(), action, target, detail)


@router.get(
    "/audit",
    responses=answers(
        200, "Who did what in the tenant, newest first (kept a year); `next` is the `cursor` "
        "of the following page.", AuditPage,
    ),
)  # fmt: skip
def list_audit(
    limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> dict[str, Any]:
    return audit.page(common.deps(), tenant(), limit, cursor).model_dump(mode="json")
