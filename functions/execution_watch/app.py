"""Closes runs whose execution ended without reaching Finalize (stopped, timed out)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.start import execution_ended
from feedsync.models import ExecutionStatusChange
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = ExecutionStatusChange.model_validate(event["detail"])
    return execution_ended(deps(), change).model_dump(mode="json")
