"""Accounts: where to sign in, who I am, a new workspace, and the owner's users."""

from dataclasses import replace
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from feedsync.core import accounts, audit
from feedsync.models.accounts import (
    AuthConfig,
    ChangeRole,
    CreateTenant,
    InviteUser,
    Me,
    TenantCreated,
    UserList,
    UserView,
)
from feedsync.models.responses import ValidationErrorBody
from routes import common
from routes.audit import recorded
from routes.common import ERRORS, answers, json_answer, no_content, principal, tenant

router = Router()  # type: ignore[no-untyped-call]


@router.get(
    "/auth/config",
    security=[{}],  # public: the sign-in page asks before anyone is signed in (template.yaml)
    responses={
        200: {
            "description": "The Cognito user pool and app client the dashboard signs in to.",
            "content": {"application/json": {"model": AuthConfig}},
        },
        422: {
            "description": ERRORS[422][0],
            "content": {"application/json": {"model": ValidationErrorBody}},
        },
    },
)
def auth_config() -> dict[str, Any]:
    return accounts.auth_config(common.accounts()).model_dump(mode="json")


@router.get(
    "/me",
    responses=answers(200, "The caller: a user (with its email) or an API key, its tenant "
                      "and role; a user in no workspace yet has them null.", Me),
)  # fmt: skip
def get_me() -> dict[str, Any]:
    found = accounts.me(common.deps(), common.accounts(), principal())
    return found.model_dump(mode="json")


@router.post(
    "/tenants",
    responses=answers(201, "The workspace, on the default plan, the caller its owner.",
                      TenantCreated, 409, body=True),
)  # fmt: skip
def create_tenant(body: Annotated[CreateTenant, Body()]) -> Response[Any]:
    caller = principal()
    made = accounts.create_tenant(common.deps(), common.accounts(), caller, body.name)
    # (the caller had no tenant until now: the event goes to the new one's trail)
    owner = replace(caller, tenant_id=made.tenant_id, role="owner")
    audit.record(common.deps(), owner, "tenant.created", made.tenant_id, made.name)
    return json_answer(201, made.model_dump(mode="json"))


@router.get("/users", responses=answers(200, "The workspace's users, oldest first.", UserList))
def list_users() -> dict[str, Any]:
    return accounts.list_users(common.accounts(), tenant()).model_dump(mode="json")


@router.post(
    "/users",
    responses=answers(201, "Invited: Cognito mails a temporary password.", UserView, 409,
                      body=True),
)  # fmt: skip
def invite_user(body: Annotated[InviteUser, Body()]) -> Response[Any]:
    user = accounts.invite_user(common.deps(), common.accounts(), tenant(), body.email, body.role)
    recorded("user.invited", user.id, f"{user.email} ({user.role})")
    return json_answer(201, user.model_dump(mode="json"))


@router.patch(
    "/users/<user_id>",
    responses=answers(200, "The user with the new role.", UserView, 404, 409, body=True),
)
def change_role(user_id: str, body: Annotated[ChangeRole, Body()]) -> dict[str, Any]:
    user = accounts.change_role(common.accounts(), tenant(), user_id, body.role)
    recorded("user.role_changed", user_id, f"{user.email} -> {user.role}")
    return user.model_dump(mode="json")


@router.delete(
    "/users/<user_id>",
    responses=answers(204, "Removed: the user's next call is refused.", None, 404, 409),
)
def remove_user(user_id: str) -> Response[Any]:
    accounts.remove_user(common.accounts(), tenant(), user_id)
    recorded("user.removed", user_id)
    return no_content()
