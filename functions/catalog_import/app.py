"""Import a store's catalog (invoked asynchronously when a store is created)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core.catalog_import import import_catalog
from feedsync.models import CatalogImportInput
from feedsync.wiring import deps

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return import_catalog(deps(), CatalogImportInput.model_validate(event)).model_dump(mode="json")
