"""API-key authorizer: ``Authorization: Bearer <key>`` -> the key's tenant (keys stored hashed)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core import api
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    header = request.headers.get("Authorization") or request.headers.get("authorization") or ""
    scheme, _sep, key = header.partition(" ")
    tenant = api.tenant_for_api_key(deps(), key.strip()) if scheme.lower() == "bearer" else None
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=tenant or "anonymous",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"tenant_id": tenant} if tenant else None,
    )
    if tenant is None:
        # API Gateway answers 401 for exactly this error message.
        raise Exception("Unauthorized")
    policy.allow_all_routes()
    return policy.asdict()
