"""Selecting: an apply's, retry's or revert's stored changes, checked against the store."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.select import select
from feedsync.models import SelectInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return select(deps(), SelectInput.model_validate(event)).model_dump(mode="json")
