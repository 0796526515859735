"""The tenant's API keys (owners): created with a name and a role, listed, revoked."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from feedsync.core import api_keys
from feedsync.models.accounts import ApiKeyCreated, ApiKeyList, CreateApiKey
from routes import common
from routes.common import answers, json_answer, no_content, principal, tenant

router = Router()  # type: ignore[no-untyped-call]


@router.post(
    "/api-keys",
    responses=answers(
        201, "Created: `key` is the secret, shown this once (only its hash is kept). Send it "
        "as `Authorization: Bearer <key>`; it may do what its role may.", ApiKeyCreated,
        body=True,
    ),
)  # fmt: skip
def create_api_key(body: Annotated[CreateApiKey, Body()]) -> Response[Any]:
    created = api_keys.create_key(common.deps(), principal(), body.name, body.role)
    return json_answer(201, created.model_dump(mode="json"))


@router.get(
    "/api-keys",
    responses=answers(200, "The tenant's keys: never a secret nor its hash.", ApiKeyList),
)
def list_api_keys() -> dict[str, Any]:
    keys = api_keys.list_keys(common.deps(), tenant())
    return ApiKeyList(api_keys=keys).model_dump(mode="json")


@router.delete(
    "/api-keys/<key_id>",
    responses=answers(204, "Revoked: its next request is refused (401).", None, 404),
)
def revoke_api_key(key_id: str) -> Response[Any]:
    api_keys.revoke_key(common.deps(), principal(), key_id)
    return no_content()
