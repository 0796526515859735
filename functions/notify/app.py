"""Run alerts: a ``Run Finished`` event from the stack's bus -> email and webhooks."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.notify import notify
from feedsync.models.notifications import RunFinished
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    finished = RunFinished.model_validate(event["detail"])

    def remaining_s() -> float:
        return context.get_remaining_time_in_millis() / 1000

    return notify(deps(), finished, remaining_s=remaining_s).model_dump(mode="json")
