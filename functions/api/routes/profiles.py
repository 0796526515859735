"""The tenant's profiles, their uploads and their webhooks."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field

from feedsync.core import api, notify_api
from feedsync.models import PatchProfile, ProfileSettings
from feedsync.models.limits import FILE_NAME_MAX
from feedsync.models.notifications import WebhookDeliveryList, WebhookSecretView
from feedsync.models.responses import ProfileList, ProfileView, UploadUrl
from routes import common
from routes.audit import recorded
from routes.common import answers, json_answer, no_content, tenant

router = Router()  # type: ignore[no-untyped-call]


class UploadUrlBody(BaseModel):
    file_name: str = Field(default="feed.csv", min_length=1, max_length=FILE_NAME_MAX)
    start: bool = Field(
        default=True,
        description="false: the upload is stored as the profile's file (`pending_upload`) "
        "and starts nothing; a later Start syncs it",
    )


@router.post("/profiles", responses=answers(201, "Created.", ProfileView, body=True))
def create_profile(body: Annotated[ProfileSettings, Body()]) -> Response[Any]:
    profile = api.create_profile(common.deps(), tenant(), body)
    recorded("profile.created", profile.profile_id, profile.name)
    return json_answer(201, api.profile_views(common.deps(), tenant(), [profile])[0])


@router.get(
    "/profiles",
    responses=answers(
        200, "The tenant's profiles, each with all its home-page tile shows (store, source and "
        "schedule in words, the live run, the last run, health, whether Start is taken and "
        "its estimate): one call, a constant number of table reads however many profiles.",
        ProfileList,
    ),
)  # fmt: skip
def list_profiles() -> dict[str, Any]:
    deps, who = common.deps(), tenant()
    return {"profiles": api.profile_views(deps, who, api.list_profiles(deps, who))}


@router.get("/profiles/<profile_id>", responses=answers(200, "The profile.", ProfileView, 404))
def get_profile(profile_id: str) -> dict[str, Any]:
    profile = api.get_profile(common.deps(), tenant(), profile_id)
    return api.profile_views(common.deps(), tenant(), [profile])[0]


@router.patch(
    "/profiles/<profile_id>",
    responses=answers(200, "The profile as changed.", ProfileView, 404, 409, body=True),
)
def patch_profile(profile_id: str, body: Annotated[PatchProfile, Body()]) -> dict[str, Any]:
    profile = api.patch_profile(common.deps(), tenant(), profile_id, body)
    recorded("profile.changed", profile_id, ", ".join(sorted(body.model_fields_set)))
    return api.profile_views(common.deps(), tenant(), [profile])[0]


@router.delete(
    "/profiles/<profile_id>",
    responses=answers(204, "Deleted with its schedule and source credentials.", None, 404, 409),
)
def delete_profile(profile_id: str) -> Response[Any]:
    api.delete_profile(common.deps(), tenant(), profile_id)
    recorded("profile.deleted", profile_id)
    return no_content()


@router.post(
    "/profiles/<profile_id>/upload-url",
    responses=answers(
        200, "A presigned S3 PUT URL (valid `expires_in` seconds; send the file as the body, "
        "with the `headers` listed, none today): the upload starts a run, or with "
        '`"start": false` is stored as the profile\'s `pending_upload` for a later Start.',
        UploadUrl, 404, 409, body=True,
    ),
)  # fmt: skip
def upload_url(profile_id: str, body: Annotated[UploadUrlBody | None, Body()] = None) -> Any:
    body = body or UploadUrlBody()
    issued = api.upload_url(common.deps(), tenant(), profile_id, body.file_name, body.start)
    # The run starts when the file lands (no caller then): the caller who asked for the URL
    # is its actor, recorded now.
    if body.start:
        recorded("run.started", profile_id, "upload")
    else:
        recorded("profile.changed", profile_id, "upload stored for a later start")
    return issued


@router.post(
    "/profiles/<profile_id>/webhook-secret",
    responses=answers(
        201, "A new signing secret for the profile's webhooks, shown this once; the old one "
        "stops signing at once.", WebhookSecretView, 404,
    ),
)  # fmt: skip
def rotate_webhook_secret(profile_id: str) -> Response[Any]:
    secret = notify_api.rotate_secret(common.deps(), tenant(), profile_id)
    recorded("webhook_secret.rotated", profile_id)
    return json_answer(201, {"secret": secret})


@router.get(
    "/profiles/<profile_id>/webhook-deliveries",
    responses=answers(
        200, "The profile's webhook deliveries, newest first (each with its attempts).",
        WebhookDeliveryList, 404,
    ),
)  # fmt: skip
def list_webhook_deliveries(
    profile_id: str,
    limit: Annotated[int, Query(ge=1, le=notify_api.DELIVERIES_PAGE_MAX)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=400, description="the previous page's `next_cursor`")
    ] = None,
) -> dict[str, Any]:
    page = notify_api.list_deliveries(common.deps(), tenant(), profile_id, limit, cursor)
    return page.model_dump(mode="json")
