"""Matching: rows against the catalog index, the diff, and the sharded change plan."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.match import match
from feedsync.models import MatchInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return match(deps(), MatchInput.model_validate(event)).model_dump(mode="json")
