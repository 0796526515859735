"""template.yaml keeps what protects a deployment: dead letters with alarms, tracing, logs.

checkov (in `make validate`) reads one resource at a time; these read across resources: the
queue a function fails to is encrypted and alarmed, the alarm reaches the operator's topic.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from feedsync_local.template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
ENV: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
FUNCTIONS = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
# Event sources that invoke a function asynchronously (S3, EventBridge, SNS).
ASYNC_EVENTS = {"S3", "EventBridgeRule", "CloudWatchEvent", "SNS", "Schedule", "ScheduleV2"}
# The functions the code invokes asynchronously, by the setting that names them: the
# EventBridge Scheduler target (adapters/scheduler.py) and the Event-type invoke of
# adapters/aws_misc.LambdaInvoker.invoke_async.
ASYNC_BY_SETTING = ("START_FUNCTION_ARN", "CATALOG_IMPORT_FUNCTION")
_names = Resolver(
    {"AWS::StackName": "s", "AWS::Region": "r", "AWS::AccountId": "1", "AWS::Partition": "aws"},
    {},
    {},
    {},
)
TOPIC = {"Ref": "AlarmTopic"}


def _function_named(name: str) -> str:
    """The logical id of the function whose FunctionName resolves to `name`."""
    found = [k for k, r in FUNCTIONS.items() if _names(r["Properties"].get("FunctionName")) == name]
    assert len(found) == 1, f"no one function is named {name!r}"
    return found[0]


def _async_functions() -> set[str]:
    by_event = {
        k
        for k, r in FUNCTIONS.items()
        if any(e["Type"] in ASYNC_EVENTS for e in r["Properties"].get("Events", {}).values())
    }
    by_setting = {_function_named(str(_names(ENV[s])).rsplit(":", 1)[-1]) for s in ASYNC_BY_SETTING}
    return by_event | by_setting


def _queue_of(arn: Any) -> str:
    """The logical id of the SQS queue an `!GetAtt Queue.Arn` names."""
    assert isinstance(arn, dict) and "Fn::GetAtt" in arn, f"not a queue of this stack: {arn}"
    logical, attr = arn["Fn::GetAtt"]
    assert attr == "Arn" and RESOURCES[logical]["Type"] == "AWS::SQS::Queue", arn
    return str(logical)


def _alarms() -> list[dict[str, Any]]:
    return [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def _assert_watched(queue: str) -> None:
    """The queue is encrypted, keeps a message 14 days, and its depth alarms the operator."""
    props = RESOURCES[queue]["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, queue
    assert props.get("MessageRetentionPeriod") == 1_209_600, queue
    depth = [
        a
        for a in _alarms()
        if a["Namespace"] == "AWS/SQS"
        and a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    assert len(depth) == 1, f"{queue}: no alarm on its depth"
    (alarm,) = depth
    assert (
        alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    )
    assert TOPIC in alarm["AlarmActions"], f"{queue}'s alarm reaches no one"


def test_the_asynchronously_invoked_functions_are_the_known_four() -> None:
    # Given the template's event sources and the settings the code invokes by
    # Then the set is what the product does (a new one must meet the next test)
    assert _async_functions() == {
        "StartFunction",
        "ExecutionWatchFunction",
        "CatalogImportFunction",
        "NotifyFunction",
    }


@pytest.mark.parametrize("logical", sorted(_async_functions()))
def test_every_asynchronous_invocation_fails_to_an_alarmed_queue(logical: str) -> None:
    # Given a function invoked asynchronously
    props = FUNCTIONS[logical]["Properties"]
    # Then an invocation failing after Lambda's retries goes to an SQS queue of this stack
    on_failure = props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"  # SAM then grants the function sqs:SendMessage
    # ... encrypted, kept 14 days, its depth alarmed to the operator's topic
    _assert_watched(_queue_of(on_failure["Destination"]))


def test_an_execution_event_eventbridge_cannot_deliver_goes_to_an_alarmed_queue() -> None:
    # Given the EventBridge rule feeding the execution watch
    for event in FUNCTIONS["ExecutionWatchFunction"]["Properties"]["Events"].values():
        props = event["Properties"]
        # Then an event it cannot deliver goes to an alarmed queue of this stack
        queue = _queue_of(props["DeadLetterConfig"]["Arn"])
        _assert_watched(queue)
        # ... that lets events.amazonaws.com send for this rule only
        rule_arn = f"arn:aws:events:r:1:rule/{_names(props['RuleName'])}"
        (policy,) = [
            r["Properties"]
            for r in RESOURCES.values()
            if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue} in r["Properties"]["Queues"]
        ]
        (grant,) = policy["PolicyDocument"]["Statement"]
        assert grant["Principal"] == {"Service": "events.amazonaws.com"}
        assert grant["Action"] == "sqs:SendMessage"
        assert _names(grant["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arn


def test_a_run_event_eventbridge_cannot_deliver_to_notify_goes_to_an_alarmed_queue() -> None:
    # Given the rule on the stack's own bus feeding the notify function
    (event,) = FUNCTIONS["NotifyFunction"]["Properties"]["Events"].values()
    props = event["Properties"]
    assert props["EventBusName"] == {"Ref": "EventsBus"}
    assert props["Pattern"]["source"] == ["feedsync"]
    # Then an event it cannot deliver goes to an alarmed queue of this stack
    queue = _queue_of(props["DeadLetterConfig"]["Arn"])
    _assert_watched(queue)
    # ... that lets events.amazonaws.com send for this rule (on that bus) only
    bus = _names(RESOURCES["EventsBus"]["Properties"]["Name"])
    rule_arn = f"arn:aws:events:r:1:rule/{bus}/{_names(props['RuleName'])}"
    (policy,) = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue} in r["Properties"]["Queues"]
    ]
    (grant,) = policy["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert _names(grant["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arn


def test_a_schedule_fire_the_scheduler_cannot_deliver_goes_to_an_alarmed_queue() -> None:
    # Given the setting adapters/scheduler.py puts in every schedule's DeadLetterConfig
    queue = _queue_of(ENV["SCHEDULE_DEAD_LETTER_ARN"])
    # Then that queue is alarmed
    _assert_watched(queue)
    # ... and the role the scheduler assumes may send to it (it sends with that role)
    role = RESOURCES["SchedulerRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    } in statements


def test_failed_and_timed_out_executions_and_api_errors_alarm_the_operator() -> None:
    # Given the alarms on metrics other than a queue's depth
    watched = {
        (a["Namespace"], a["MetricName"], str(a["Dimensions"][0]["Value"]))
        for a in _alarms()
        if a["Threshold"] == 1 and TOPIC in a["AlarmActions"]
    }
    # Then a failed or timed-out execution, and an API or authorizer error, each alarm
    machine = str({"Ref": "SyncStateMachine"})
    assert ("AWS/States", "ExecutionsFailed", machine) in watched
    assert ("AWS/States", "ExecutionsTimedOut", machine) in watched
    assert ("AWS/Lambda", "Errors", str({"Ref": "ApiFunction"})) in watched
    assert ("AWS/Lambda", "Errors", str({"Ref": "AuthorizerFunction"})) in watched
    # ... and every alarm publishes to the topic the stack outputs for the operator
    assert all(TOPIC in a["AlarmActions"] for a in _alarms())
    assert RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert TEMPLATE["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC


def test_tracing_is_on_for_the_functions_the_api_and_the_state_machine() -> None:
    # Given the template
    # Then every function traces (Globals) and none turns it off
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"
    assert all(r["Properties"].get("Tracing", "Active") == "Active" for r in FUNCTIONS.values())
    # ... and so do the API stage and the state machine
    assert RESOURCES["Api"]["Properties"]["TracingEnabled"] is True
    assert RESOURCES["SyncStateMachine"]["Properties"]["Tracing"] == {"Enabled": True}


def _log_group(arn: Any) -> dict[str, Any]:
    logical, attr = arn["Fn::GetAtt"]
    assert attr == "Arn" and RESOURCES[logical]["Type"] == "AWS::Logs::LogGroup"
    props: dict[str, Any] = RESOURCES[logical]["Properties"]
    return props


def test_the_api_and_the_state_machine_log_to_groups_that_expire() -> None:
    # Given the API stage
    api = RESOURCES["Api"]
    # Then it writes access logs to a log group kept a year, once the account's
    # API Gateway logging role is set
    assert (
        _log_group(api["Properties"]["AccessLogSetting"]["DestinationArn"])["RetentionInDays"]
        == 365
    )
    assert "$context.requestId" in api["Properties"]["AccessLogSetting"]["Format"]
    assert api["DependsOn"] == "ApiGatewayAccount"
    account = RESOURCES["ApiGatewayAccount"]["Properties"]
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
    # ... and the state machine logs its errors to another, with the log-delivery rights
    machine = RESOURCES["SyncStateMachine"]["Properties"]
    assert machine["Logging"]["Level"] in {"ERROR", "ALL"}
    (dest,) = machine["Logging"]["Destinations"]
    assert _log_group(dest["CloudWatchLogsLogGroup"]["LogGroupArn"])["RetentionInDays"] == 365
    actions = {
        a
        for p in machine["Policies"]
        if "Statement" in p
        for s in p["Statement"]
        for a in s["Action"]
    }
    assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= actions


def test_the_files_bucket_is_private_encrypted_tls_only_and_access_logged() -> None:
    # Given the bucket the functions are told about
    bucket = RESOURCES["Bucket"]["Properties"]
    # Then it blocks public access, encrypts, and logs access to the log bucket
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    logs = RESOURCES["AccessLogBucket"]["Properties"]
    assert set(logs["PublicAccessBlockConfiguration"].values()) == {True}
    # ... and a policy refuses plain HTTP to it
    policies = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    (files,) = [p for p in policies if p["Bucket"] == {"Ref": "Bucket"}]
    deny = files["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_reserved_concurrency_guards_the_api_and_caps_the_bursts() -> None:
    # Given the functions' reserved concurrency
    reserved = {
        k: r["Properties"].get("ReservedConcurrentExecutions") for k, r in FUNCTIONS.items()
    }
    # Then the API and its authorizer keep theirs, the start burst is capped, the watch kept
    for logical in ("ApiFunction", "AuthorizerFunction", "StartFunction", "ExecutionWatchFunction"):
        assert isinstance(reserved[logical], int) and reserved[logical] > 0, logical
    # ... and together they leave most of a default 1,000-concurrency account to the runs
    assert sum(v for v in reserved.values() if v) <= 200


def test_every_checkov_suppression_names_a_check_and_gives_its_reason() -> None:
    # Given every checkov skip in the template
    skips = [
        (logical, skip)
        for logical, r in RESOURCES.items()
        for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    # Then each names a check and says why in a sentence
    for logical, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), (logical, skip)
        comment = skip.get("comment", "")
        assert len(comment.split()) >= 6, f"{logical} {skip['id']}: no reason given"
