"""End of every run, success or failure: summary, log, lock released."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.steps.finalize import finalize
from feedsync.models import FinalizeInput
from feedsync.wiring import deps

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = finalize(deps(), FinalizeInput.model_validate(event))
    metrics.add_metric(name=f"Runs_{result.status}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="ItemsUpdated", unit=MetricUnit.Count, value=result.counts.get("updated", 0)
    )
    return result.model_dump(mode="json")
