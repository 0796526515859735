"""The start path for non-API triggers: S3 uploads (and, later, schedules and chains)."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from feedsync.core import api
from feedsync.core.start import start_run
from feedsync.errors import Conflict, SourceUnchanged
from feedsync.models import StartCommand, UploadedObject
from feedsync.wiring import deps

logger = Logger()


def _version(obj: dict[str, Any]) -> str:
    """The object version; unversioned buckets: ETag and sequencer (either may be absent)."""
    return str(obj.get("versionId") or f"{obj.get('eTag', '')}-{obj.get('sequencer', '')}")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" not in event:
        try:
            run = start_run(deps(), StartCommand.model_validate(event))
        except SourceUnchanged as exc:  # an automatic schedule's check: no run to start
            return {"runs": [], "unchanged": exc.message}
        return {"runs": [run.public()]}
    started = []
    for record in S3Event(event).records:
        obj = UploadedObject(
            bucket=record.s3.bucket.name,
            key=unquote_plus(record.s3.get_object.key),
            size=record.s3.get_object.size or 0,
            version_id=_version(record.s3.get_object.raw_event),
            s3_version=record.s3.get_object.raw_event.get("versionId") or None,
        )
        try:
            uploaded = api.record_upload(deps(), obj)
        except Conflict as exc:
            # The file is kept as the profile's latest; the merchant can Start later.
            logger.warning("upload did not start a run", key=obj.key, reason=exc.reason)
            continue
        if uploaded is not None:
            started.append(uploaded.public())
    return {"runs": started}
