"""The tenant's settings: its global schedule, the schedule preview, the plan, alerts."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import COMPONENT_REF_TEMPLATE

from feedsync.core import api, notify_api, plans, schedules
from feedsync.models import SchedulePreviewBody, TenantSchedule
from feedsync.models.notifications import NotificationSettings, NotificationSettingsView
from feedsync.models.responses import PlanView, SchedulePreview
from feedsync.models.schedules import TENANT_SCHEDULE
from routes import common
from routes.audit import recorded
from routes.common import answers, tenant

router = Router()  # type: ignore[no-untyped-call]

# The schedule answered is the one PUT takes: the same component schemas (a model used for a
# request and an answer would be documented twice, as "-Input" and as an untyped "-Output").
_SCHEDULE_SCHEMA = {
    key: value
    for key, value in TENANT_SCHEDULE.json_schema(ref_template=COMPONENT_REF_TEMPLATE).items()
    if key != "$defs"
}


@router.get(
    "/settings/schedule",
    responses=answers(200, "The tenant's global schedule.", _SCHEDULE_SCHEMA),
)
def get_schedule_settings() -> dict[str, Any]:
    return api.get_schedule_settings(common.deps(), tenant())


@router.post(
    "/schedule-preview",
    responses=answers(
        200, "The next times a profile with this schedule would run (nothing is saved).",
        SchedulePreview, body=True,
    ),
)  # fmt: skip
def schedule_preview(body: Annotated[SchedulePreviewBody, Body()]) -> dict[str, Any]:
    return schedules.preview(common.deps(), tenant(), body.schedule, body.count)


@router.get("/plan", responses=answers(200, "The tenant's plan and what it uses of it.", PlanView))
def get_plan() -> dict[str, Any]:
    return plans.usage(common.deps(), tenant())


@router.put(
    "/settings/schedule",
    responses=answers(200, "The schedule as stored.", _SCHEDULE_SCHEMA, body=True),
)
def put_schedule_settings(body: Annotated[TenantSchedule, Body()]) -> dict[str, Any]:
    stored = api.put_schedule_settings(common.deps(), tenant(), body)
    recorded("settings.changed", "schedule", str(stored.get("type", "")))
    return stored


@router.get(
    "/settings/notifications",
    responses=answers(200, "Where run alerts are mailed, and whether the address confirmed.",
                      NotificationSettingsView),
)  # fmt: skip
def get_notification_settings() -> dict[str, Any]:
    return notify_api.get_settings(common.deps(), tenant()).model_dump(mode="json")


@router.put(
    "/settings/notifications",
    responses=answers(
        200, "Subscribed: AWS mails the address a confirmation link; alerts (a run failed, was "
        "held, or the store refused items) start once it is followed. `null` unsubscribes.",
        NotificationSettingsView, 409, body=True,
    ),
)  # fmt: skip
def put_notification_settings(body: Annotated[NotificationSettings, Body()]) -> dict[str, Any]:
    answer = notify_api.put_settings(common.deps(), tenant(), body).model_dump(mode="json")
    recorded("settings.changed", "notifications", "alert address set" if body.email else "unset")
    return answer
