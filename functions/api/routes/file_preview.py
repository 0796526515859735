"""A supplier file read before a profile is saved (the profile editor's preview)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from feedsync.core import file_preview
from feedsync.models.file_preview import FilePreview, FilePreviewBody
from routes import common
from routes.common import answers, tenant

router = Router()  # type: ignore[no-untyped-call]

_MB = file_preview.PREVIEW_MAX_BYTES // (1024 * 1024)


@router.post(
    "/file-preview",
    responses=answers(
        200,
        "The file's first records and how it was read (nothing is saved, no run starts). It is "
        "fetched as a run's Fetch step fetches it (the same address rules), at most "
        f"{_MB} MB, {file_preview.PREVIEW_CONNECT_S:g} s to connect, "
        f"{file_preview.PREVIEW_READ_S:g} s per read and {file_preview.PREVIEW_TOTAL_S:g} s "
        "for the whole download, so it answers within API Gateway's 29 s (a server too slow "
        "is a 422 `source` saying so). SFTP: `host_key` is the key the server presented; "
        "when none is pinned, or it "
        "is not the pinned one, no file is read (nothing is sent to that server: `file_name` "
        "null, `message` says so) until the merchant confirms it. Refused with 422: a file "
        "that cannot be fetched or is unreachable (`field` `source`, the server's words, as "
        "the Fetch step names them: the request cannot succeed as sent, so not a 502, which "
        "API Gateway uses for the API's own faults), one that cannot be read (`format`, "
        "which file and what was expected), an upload source without `profile_id` or file; "
        "404: an unknown `profile_id`.",
        FilePreview, 404, body=True,
    ),
)  # fmt: skip
def preview_file(body: Annotated[FilePreviewBody, Body()]) -> dict[str, Any]:
    return file_preview.preview(common.deps(), tenant(), body)
