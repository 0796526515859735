"""Updating: apply one shard of store-sized batches (one Map item)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.update import update
from feedsync.models import UpdateInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return update(deps(), UpdateInput.model_validate(event)).model_dump(mode="json")
