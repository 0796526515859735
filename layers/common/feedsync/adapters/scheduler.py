"""EventBridge Scheduler: one schedule per scheduled profile, targeting the start function."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

# EventBridge Scheduler substitutes this context attribute inside the target Input.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# A fire that fails is retried for an hour at most; older fires are dropped, not replayed.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5}
_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid schedule name {name!r}: 1-64 characters of [0-9a-zA-Z-_.]")
    return name


class EventBridgeScheduler:
    def __init__(
        self,
        group: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str,
        client: EventBridgeSchedulerClient | None = None,
    ) -> None:
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        # A fire still undelivered after the retries is kept in this SQS queue (alarmed).
        self.dead_letter_arn = dead_letter_arn
        self.client: EventBridgeSchedulerClient = client or boto3.client("scheduler")

    def put_schedule(
        self,
        name: str,
        expression: str,
        timezone: str | None,
        start_command: dict[str, Any],
        start_date: datetime | None = None,
        enabled: bool = True,
    ) -> None:
        # update_schedule replaces every field, so create and update send the same set.
        request: dict[str, Any] = {
            "Name": _check_name(name),
            "GroupName": self.group,
            "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if enabled else "DISABLED",
            "ActionAfterCompletion": "NONE",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                # A retried fire carries the same scheduled time, hence the same key:
                # the start path gives it the run the first attempt started.
                "Input": json.dumps(
                    {
                        **start_command,
                        "scheduled_time": SCHEDULED_TIME,
                        "idempotency_key": SCHEDULED_TIME,
                    }
                ),
                "RetryPolicy": dict(RETRY_POLICY),
                "DeadLetterConfig": {"Arn": self.dead_letter_arn},
            },
        }
        if timezone:
            request["ScheduleExpressionTimezone"] = timezone
        if start_date is not None:
            request["StartDate"] = start_date
        try:
            self.client.create_schedule(**request)
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise
        self.client.update_schedule(**request)

    def delete_schedule(self, name: str) -> None:
        try:
            self.client.delete_schedule(Name=_check_name(name), GroupName=self.group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
