"""Preparing, part 1: bring the supplier file into S3."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.fetch import fetch
from feedsync.models import FetchInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return fetch(deps(), FetchInput.model_validate(event)).model_dump(mode="json")
