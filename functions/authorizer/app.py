"""The API's authorizer: ``Authorization: Bearer <API key or Cognito token>`` -> the caller.

Its context is the Principal as five strings (tenant_id, role, actor, actor_kind, actor_id:
API Gateway passes authorizer context as strings); the API checks the role per route.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core import identity
from feedsync.wiring import accounts, deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    header = request.headers.get("Authorization") or request.headers.get("authorization") or ""
    scheme, _sep, credential = header.partition(" ")
    principal = (
        identity.authenticate(deps(), accounts(), credential)
        if scheme.lower() == "bearer"
        else None
    )
    if principal is None:
        # API Gateway answers 401 for exactly this error message.
        raise Exception("Unauthorized")
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.actor_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=principal.as_context(),
    )
    policy.allow_all_routes()
    return policy.asdict()
