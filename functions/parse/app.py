"""Preparing, part 2: read the file into canonical rows; file-level problems stop here."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.parse import parse
from feedsync.models import ParseInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return parse(deps(), ParseInput.model_validate(event)).model_dump(mode="json")
