"""The EventBridge Scheduler adapter against moto, with the group and role from template.yaml."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from integration_harness import Harness

from feedsync.adapters.scheduler import EventBridgeScheduler
from feedsync.models import StartCommand

PLACEHOLDER = "<aws.scheduler.scheduled-time>"


def _scheduler(h: Harness) -> EventBridgeScheduler:
    scheduler = h.deps.scheduler
    assert isinstance(scheduler, EventBridgeScheduler)
    return scheduler


def _name() -> str:
    return f"prof_{uuid.uuid4().hex[:23]}"


def _command(name: str) -> dict[str, Any]:
    return {"tenant_id": f"t-{uuid.uuid4().hex[:12]}", "profile_id": name, "trigger": "schedule"}


def _get(h: Harness, group: str, name: str) -> dict[str, Any]:
    got: dict[str, Any] = h.stack.client("scheduler").get_schedule(GroupName=group, Name=name)
    return got


def _names_in(h: Harness, group: str) -> list[str]:
    listed = h.stack.client("scheduler").list_schedules(GroupName=group)["Schedules"]
    return [s["Name"] for s in listed]


def test_the_wired_scheduler_uses_the_template_group_role_and_start_function(h: Harness) -> None:
    # Given the local stack built from template.yaml
    scheduler = _scheduler(h)
    name = h.stack.stack_name

    # Then the adapter targets the stack's start function, group and scheduler role
    assert scheduler.group == f"{name}-profiles"
    assert scheduler.target_arn == h.stack.functions["StartFunction"].arn
    assert scheduler.target_arn.endswith(f":function:{name}-start")
    assert scheduler.role_arn == f"arn:aws:iam::123456789012:role/{name}-SchedulerRole"
    group = h.stack.client("scheduler").get_schedule_group(Name=scheduler.group)
    assert group["Name"] == scheduler.group
    role = h.stack.client("iam").get_role(RoleName=scheduler.role_arn.rsplit("/", 1)[1])
    assert role["Role"]["Arn"] == scheduler.role_arn
    trust = role["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_put_creates_a_schedule_that_starts_the_profile(h: Harness) -> None:
    # Given a profile to schedule
    scheduler = _scheduler(h)
    name = _name()
    command = _command(name)

    # When its schedule is put
    scheduler.put_schedule(name, "cron(0 6 * * ? *)", "Europe/Berlin", command)

    # Then the group holds a schedule firing the start function with the command
    got = _get(h, scheduler.group, name)
    assert got["GroupName"] == scheduler.group
    assert got["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["State"] == "ENABLED"
    target = got["Target"]
    assert target["Arn"] == h.stack.functions["StartFunction"].arn
    assert target["RoleArn"] == scheduler.role_arn
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5}
    # ... a fire still undelivered after those retries goes to the stack's dead-letter queue
    dead_letter = h.stack.env["SCHEDULE_DEAD_LETTER_ARN"]
    assert target["DeadLetterConfig"] == {"Arn": dead_letter}
    assert scheduler.dead_letter_arn == dead_letter
    queue_name = dead_letter.rsplit(":", 1)[1]
    assert queue_name == f"{h.stack.stack_name}-ScheduleDeadLetterQueue"
    assert h.stack.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
    body = json.loads(target["Input"])
    assert body == {**command, "scheduled_time": PLACEHOLDER, "idempotency_key": PLACEHOLDER}

    # ... and once the scheduler substitutes the fire time, the body is a valid StartCommand
    fired = json.loads(target["Input"].replace(PLACEHOLDER, "2030-01-02T06:00:00Z"))
    cmd = StartCommand.model_validate(fired)
    assert (cmd.tenant_id, cmd.profile_id, cmd.trigger) == (command["tenant_id"], name, "schedule")
    assert cmd.scheduled_time == datetime(2030, 1, 2, 6, tzinfo=UTC)
    assert cmd.idempotency_key == "2030-01-02T06:00:00Z"


def test_put_again_updates_the_one_schedule(h: Harness) -> None:
    # Given a scheduled profile
    scheduler = _scheduler(h)
    name = _name()
    command = _command(name)
    scheduler.put_schedule(name, "rate(1 hour)", None, command)
    assert _get(h, scheduler.group, name)["ScheduleExpressionTimezone"] == "UTC"

    # When its schedule is put again with another expression, timezone and start date
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    scheduler.put_schedule(name, "cron(30 2 * * ? *)", "America/New_York", command, start)

    # Then the same schedule now has them, and it is still the only one for the profile
    got = _get(h, scheduler.group, name)
    assert got["ScheduleExpression"] == "cron(30 2 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert got["StartDate"] == start
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert json.loads(got["Target"]["Input"])["profile_id"] == name
    assert _names_in(h, scheduler.group).count(name) == 1


def test_delete_removes_the_schedule_and_is_idempotent(h: Harness) -> None:
    # Given a scheduled profile
    scheduler = _scheduler(h)
    name = _name()
    scheduler.put_schedule(name, "rate(5 minutes)", None, _command(name))

    # When its schedule is deleted
    scheduler.delete_schedule(name)

    # Then it is gone
    with pytest.raises(ClientError) as exc:
        _get(h, scheduler.group, name)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert name not in _names_in(h, scheduler.group)

    # ... and deleting it again (or a schedule that never existed) is fine
    scheduler.delete_schedule(name)
    scheduler.delete_schedule(_name())


@pytest.mark.parametrize("bad", ["", "a" * 65, "prof/001", "prof 001", "prof:001", "prøf"])
def test_a_name_the_scheduler_would_refuse_raises_value_error(h: Harness, bad: str) -> None:
    # Given the wired scheduler
    scheduler = _scheduler(h)

    # When a schedule is put or deleted under an invalid name, Then ValueError, no call made
    with pytest.raises(ValueError):
        scheduler.put_schedule(bad, "rate(1 hour)", None, _command("prof_x"))
    with pytest.raises(ValueError):
        scheduler.delete_schedule(bad)


def test_the_longest_valid_name_is_accepted(h: Harness) -> None:
    # Given a 64-character name of every allowed character class
    scheduler = _scheduler(h)
    name = (f"p-_.{uuid.uuid4().hex}" + "Z9" * 32)[:64]

    # When it is put and deleted, Then the scheduler accepts it
    scheduler.put_schedule(name, "rate(1 day)", None, _command(name))
    assert _get(h, scheduler.group, name)["Name"] == name
    scheduler.delete_schedule(name)
    assert name not in _names_in(h, scheduler.group)
