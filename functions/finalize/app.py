"""End of every run, success or failure: summary, log, lock released."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core import pipeline
from feedsync.models import FinalizeInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return pipeline.finalize(deps(), FinalizeInput.model_validate(event)).model_dump(mode="json")
