"""The local stack: moto (with ASL execution) + the real handlers, on one machine.

moto's server runs in-process; Lambda invocations (Step Functions tasks, direct
and async invokes, S3 notifications) are routed to the handlers under
``functions/`` by patching moto's ``LambdaFunction.invoke``. Resources come
from ``template.yaml``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import socket
import sys
import threading
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from feedsync_local.router_state import per_thread_router_state
from feedsync_local.template import Resolver, load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[2]
# Template resources the local stack deliberately does not create: the layer (the handlers
# import feedsync from the source tree), the API (feedsync_local.apiserver serves it), and
# what only operates a deployment (logs, bucket and queue policies, alarms, their topic).
# A type in neither this set nor CREATED fails the start, so none is missed.
NOT_CREATED = frozenset(
    {
        "AWS::Serverless::LayerVersion",
        "AWS::Serverless::Api",
        "AWS::ApiGateway::Account",
        "AWS::Logs::LogGroup",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::Subscription",
        "AWS::CloudWatch::Alarm",
        # The dashboard's CDN: feedsync serve serves dashboard/dist itself (dashboard_files.py).
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::ResponseHeadersPolicy",
    }
)
CREATED = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::Serverless::Function",
        "AWS::Serverless::StateMachine",
        "AWS::IAM::Role",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::Events::EventBus",
        "AWS::SNS::Topic",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
    }
)
# What moto's CreateUserPool / CreateUserPoolClient take of the template's properties
# (EnabledMfas is SetUserPoolMfaConfig's, the token validities need no emulation here).
_POOL_PROPS = (
    "UsernameAttributes",
    "AutoVerifiedAttributes",
    "UsernameConfiguration",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "AccountRecoverySetting",
    "AdminCreateUserConfig",
    "Policies",
)
_CLIENT_PROPS = ("GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors")


def unhandled_resources(resources: dict[str, Any]) -> list[str]:
    """Template resources of a type the local stack neither creates nor deliberately skips."""
    return [
        f"{logical} ({res['Type']})"
        for logical, res in resources.items()
        if res["Type"] not in CREATED | NOT_CREATED
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Every AWS call of every handler and every execution's Lambda task goes to one moto
# server, whose accept loop shares the GIL with hundreds of threads under load: with
# werkzeug's 128-connection accept queue, a burst overflowed it and a Lambda task failed
# with "Connection was closed before we received a valid response" (a run failed).
MOTO_ACCEPT_QUEUE = 4096


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _raw_put_bodies(app: Any) -> Any:
    """A PUT's body is the object, whatever its Content-Type says.

    ``curl -X PUT --data-binary @file URL`` labels the body a form; S3 stores the bytes, but
    the werkzeug app under moto parsed them as form fields and stored an empty object.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "PUT" and str(
            environ.get("CONTENT_TYPE", "")
        ).startswith(_FORM_TYPES):
            environ["CONTENT_TYPE"] = "application/octet-stream"
        return app(environ, start_response)

    return wsgi


def moto_server(host: str, port: int) -> Any:
    """moto's threaded server, with an accept queue deep enough for a burst of runs."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import ThreadedWSGIServer

    class DeepQueueServer(ThreadedWSGIServer):
        request_queue_size = MOTO_ACCEPT_QUEUE

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _raw_put_bodies(DomainDispatcherApplication(create_backend_app))
            self._server = DeepQueueServer(
                self._ip_address, self._port, app, handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address=host, port=port, verbose=False)


@dataclass
class LambdaContextStub:
    """Just the attributes Powertools reads from the Lambda context."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 1769
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class LocalFunction:
    """A function as Lambda runs it: each concurrent invocation gets an instance of its own.

    Lambda gives every concurrent request its own execution environment, so a handler
    module's globals (Powertools' resolver holds the current event) serve one request at a
    time. Here an idle instance (a separate import of the function's ``app.py``) is reused,
    and a new one is imported when all are busy, so module globals stay per request; the
    request state Powertools keeps on a class is made per thread (``router_state``).
    """

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    _idle: list[ModuleType] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    instances: int = 0
    # feedsync_local.metering.Meter while the cost model counts (None: no effect).
    meter: Any = None

    def _load(self) -> ModuleType:
        path = self.code_dir / "app.py"
        # As Lambda's task root: the function's own modules (the API's routes/) import by name.
        if str(self.code_dir) not in sys.path:
            sys.path.append(str(self.code_dir))
        spec = importlib.util.spec_from_file_location(f"fn_{self.logical_id}", path)
        assert spec and spec.loader, path
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with self._lock:
            self.instances += 1
        return module

    def call(self, event: Any) -> Any:
        with self._lock:
            module = self._idle.pop() if self._idle else None
        if module is None:
            module = self._load()
        ctx = LambdaContextStub(self.name, self.arn, aws_request_id=str(uuid.uuid4()))
        try:
            if self.meter is None:
                return module.lambda_handler(event, ctx)
            with self.meter.invocation(self.logical_id):
                return module.lambda_handler(event, ctx)
        finally:
            with self._lock:
                self._idle.append(module)


class LocalStack:
    def __init__(
        self,
        root: Path = ROOT,
        stack_name: str = "feedsync-local",
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.stack_name = stack_name
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.template = load_template(root / "template.yaml")
        self.functions: dict[str, LocalFunction] = {}
        self.by_name: dict[str, LocalFunction] = {}
        self.by_arn: dict[str, LocalFunction] = {}
        self.env: dict[str, str] = {}
        self.invocations: list[tuple[str, str]] = []
        self.faults: dict[str, Callable[[dict[str, Any]], None]] = {}
        # feedsync_local.metering.Meter while the cost model counts (None: no effect).
        self.meter: Any = None
        # logical id -> the SQS queue ARN of its EventInvokeConfig OnFailure destination
        self.on_failure: dict[str, str] = {}
        self._server: Any = None
        self._original_invoke: Any = None
        self._original_s3_invoke: Any = None
        self._original_s3_event: Any = None
        self._original_send_to_targets: Any = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint,
                "MOTO_PORT": str(self.port),
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        from moto.core import config as moto_config

        moto_config.default_user_config["stepfunctions"]["execute_state_machine"] = True
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._patch_lambda()
        per_thread_router_state()  # concurrent API requests, each its own event
        self._server = moto_server("127.0.0.1", self.port)
        self._server.start()
        self._create_resources()
        os.environ.update(self.env)
        from feedsync.settings import get_account_settings, get_settings
        from feedsync.wiring import accounts, deps

        get_settings.cache_clear()
        get_account_settings.cache_clear()
        deps.cache_clear()
        accounts.cache_clear()
        return self

    def stop(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._original_invoke is not None:
            from moto.awslambda.models import LambdaFunction

            LambdaFunction.invoke = self._original_invoke  # type: ignore[method-assign]
            self._original_invoke = None
        if self._original_s3_invoke is not None:
            from moto.s3 import notifications

            notifications._invoke_awslambda = self._original_s3_invoke
            notifications._get_s3_event = self._original_s3_event
            self._original_s3_invoke = None
        if self._original_send_to_targets is not None:
            from moto.events.models import Rule

            Rule.send_to_targets = self._original_send_to_targets  # type: ignore[method-assign]
            self._original_send_to_targets = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)  # type: ignore[call-overload]

    # ------------------------------------------------------------- lambda routing
    def _patch_lambda(self) -> None:
        from moto.awslambda.models import LambdaFunction
        from moto.s3 import notifications

        stack = self
        self._original_invoke = LambdaFunction.invoke
        self._original_s3_invoke = notifications._invoke_awslambda
        self._original_s3_event = original_event = notifications._get_s3_event

        def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
            # S3's record names the object version in a versioned bucket (moto's has none).
            event = original_event(event_name, bucket, key, notification_id)
            version = getattr(key, "version_id", None)
            if version and version != "null":
                event["Records"][0]["s3"]["object"]["versionId"] = version
            return event

        def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            target = stack.by_name.get(fn.function_name)
            if target is None:
                return stack._original_invoke(fn, body, request_headers, response_headers)
            event = json.loads(body) if body else {}
            if (request_headers or {}).get("x-amz-invocation-type") == "Event" or (
                request_headers or {}
            ).get("X-Amz-Invocation-Type") == "Event":
                stack._invoke_async(target, event)
                return b""
            ok, result = stack._run(target, event)
            if not ok:
                response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(result).encode()

        def s3_invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            # S3 invokes Lambda asynchronously; moto would call it in the PUT's own thread.
            target = stack.by_name.get(fn_arn.rsplit(":", 1)[-1])
            if target is None:
                stack._original_s3_invoke(account_id, event_body, fn_arn, region_name)
            else:
                stack._invoke_async(target, event_body)

        LambdaFunction.invoke = invoke  # type: ignore[method-assign,assignment]
        notifications._invoke_awslambda = s3_invoke
        notifications._get_s3_event = s3_event
        self._patch_event_rules()

    def _patch_event_rules(self) -> None:
        """EventBridge rules whose target is one of our functions invoke it asynchronously,
        as EventBridge does (moto stores such rules and matches events, but has no Lambda
        target); other targets (an SQS queue a test adds) keep moto's own delivery."""
        import copy

        from moto.events.models import Rule

        stack = self
        self._original_send_to_targets = original = Rule.send_to_targets

        def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
            local = [t for t in rule.targets if t["Arn"] in stack.by_arn]
            others = [t for t in rule.targets if t["Arn"] not in stack.by_arn]
            if local and rule.event_pattern.matches_event(event):
                for target in local:
                    stack._invoke_async(stack.by_arn[target["Arn"]], copy.deepcopy(event))
            if others:
                rest = copy.copy(rule)
                rest.targets = others
                original(rest, event, transform_input)

        Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]

    def _invoke_async(self, target: LocalFunction, event: Any) -> None:
        thread = threading.Thread(target=self._run_quietly, args=(target, event))
        thread.daemon = True
        self._threads.append(thread)
        thread.start()

    def _run(self, target: LocalFunction, event: Any) -> tuple[bool, Any]:
        self.invocations.append((target.logical_id, json.dumps(event)[:200]))
        try:
            fault = self.faults.get(target.logical_id)
            if fault is not None:
                fault(event)
            return True, target.call(event)
        except Exception as exc:  # the Lambda runtime's error shape
            return False, {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
            }

    def _run_quietly(self, target: LocalFunction, event: Any) -> None:
        """An asynchronous invocation: a failure goes to the function's OnFailure queue.

        Lambda would first retry (MaximumRetryAttempts, minutes apart); locally the first
        failure is final, so the record says one attempt.
        """
        ok, result = self._run(target, event)
        queue_arn = self.on_failure.get(target.logical_id)
        if ok or queue_arn is None:
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{target.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": result,
        }
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    def invoke_arn(self, arn: str, event: Any) -> Any:
        """Call the handler behind a function ARN (what a scheduler target names)."""
        return self.by_name[arn.rsplit(":", 1)[-1]].call(event)

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Call a handler directly (the local API server and tests use this)."""
        return self.functions[logical_id].call(event)

    # ------------------------------------------------------------------ resources
    def _create_resources(self) -> None:
        resources: dict[str, Any] = self.template["Resources"]
        if unhandled := unhandled_resources(resources):
            raise ValueError(
                "the local stack neither creates nor deliberately skips (stack.NOT_CREATED): "
                + ", ".join(unhandled)
            )
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        params = {
            k: str(v.get("Default", "")) for k, v in self.template.get("Parameters", {}).items()
        }
        bootstrap = Resolver(pseudo, {}, {}, params)
        refs: dict[str, str] = {}
        arns: dict[str, str] = {}
        for logical, res in resources.items():
            props = res.get("Properties", {})
            kind = res["Type"]
            if kind == "AWS::DynamoDB::Table":
                refs[logical] = f"{self.stack_name}-{logical}"
            elif kind == "AWS::S3::Bucket":
                refs[logical] = bootstrap(props["BucketName"])
            elif kind == "AWS::Serverless::Function":
                name = bootstrap(props.get("FunctionName", f"{self.stack_name}-{logical}"))
                refs[logical] = name
                arns[logical] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            elif kind == "AWS::Serverless::StateMachine":
                name = bootstrap(props["Name"])
                refs[logical] = arns[logical] = (
                    f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
                )
            elif kind == "AWS::IAM::Role":
                # CloudFormation generates a name when RoleName is absent; so do we.
                name = bootstrap(props.get("RoleName", f"{self.stack_name}-{logical}"))
                refs[logical] = name
                arns[logical] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
            elif kind == "AWS::Scheduler::ScheduleGroup":
                name = bootstrap(props["Name"])
                refs[logical] = name
                arns[logical] = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}"
            elif kind == "AWS::Events::EventBus":
                name = bootstrap(props["Name"])
                refs[logical] = name
                arns[logical] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
            elif kind == "AWS::SNS::Topic":
                # CloudFormation names a topic when TopicName is absent; Ref is its ARN.
                name = bootstrap(props.get("TopicName", f"{self.stack_name}-{logical}"))
                refs[logical] = arns[logical] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
            elif kind == "AWS::Cognito::UserPool":
                refs[logical] = self._create_user_pool(bootstrap(props["UserPoolName"]), props)
                arns[logical] = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{refs[logical]}"
            elif kind == "AWS::Cognito::UserPoolClient":
                pool = refs[props["UserPoolId"]["Ref"]]  # the pool comes first in the template
                refs[logical] = self._create_user_pool_client(
                    pool, bootstrap(props["ClientName"]), props
                )
            elif kind == "AWS::SQS::Queue":
                # CloudFormation names a queue when QueueName is absent; Ref is its URL.
                name = bootstrap(props.get("QueueName", f"{self.stack_name}-{logical}"))
                refs[logical] = f"{self.endpoint}/{ACCOUNT}/{name}"
                arns[logical] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            else:
                refs[logical] = f"{self.stack_name}-{logical}"
        resolve = Resolver(pseudo, refs, arns, params)
        self.resolve = resolve
        self.refs = refs

        globals_env = self.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        self.env = {k: str(v) for k, v in resolve(globals_env.get("Variables", {})).items()}
        if "USER_POOL_ID" in self.env:
            # Tokens are verified against moto's JWKS (moto's `iss` is AWS's own form), and
            # the dashboard sends Cognito's JSON API calls to moto.
            pool = self.env["USER_POOL_ID"]
            self.env["COGNITO_JWKS_URL"] = f"{self.endpoint}/{pool}/.well-known/jwks.json"
            self.env["COGNITO_ENDPOINT"] = f"{self.endpoint}/"
        self.env.update(self.extra_env)

        iam = self.client("iam")
        role = iam.create_role(RoleName="feedsync-local", AssumeRolePolicyDocument="{}")["Role"]
        for logical, res in resources.items():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::IAM::Role":
                self._create_role(refs[logical], props)
            elif res["Type"] == "AWS::Scheduler::ScheduleGroup":
                self.client("scheduler").create_schedule_group(Name=refs[logical])
            elif res["Type"] == "AWS::SQS::Queue":
                self.client("sqs").create_queue(QueueName=arns[logical].rsplit(":", 1)[1])
            elif res["Type"] == "AWS::Events::EventBus":
                self.client("events").create_event_bus(Name=refs[logical])
            elif res["Type"] == "AWS::SNS::Topic":
                self.client("sns").create_topic(Name=arns[logical].rsplit(":", 1)[1])
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as zf:
            zf.writestr("app.py", "# routed in-process by feedsync_local.stack\n")
        lam = self.client("lambda")

        for logical, res in resources.items():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::DynamoDB::Table":
                self._create_table(refs[logical], props)
            elif res["Type"] == "AWS::S3::Bucket":
                s3 = self.client("s3")
                s3.create_bucket(Bucket=refs[logical])
                if "VersioningConfiguration" in props:
                    s3.put_bucket_versioning(
                        Bucket=refs[logical],
                        VersioningConfiguration=props["VersioningConfiguration"],
                    )
            elif res["Type"] == "AWS::Serverless::Function":
                fn = LocalFunction(
                    logical,
                    refs[logical],
                    arns[logical],
                    self.root / props["CodeUri"],
                )
                lam.create_function(
                    FunctionName=fn.name,
                    Runtime="python3.12",
                    Role=role["Arn"],
                    Handler="app.lambda_handler",
                    Code={"ZipFile": zipped.getvalue()},
                    Environment={"Variables": self.env},
                )
                self.functions[logical] = fn
                self.by_name[fn.name] = fn
                self.by_arn[fn.arn] = fn

        for logical, res in resources.items():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::Serverless::Function":
                self._wire_events(logical, props.get("Events", {}))
                on_failure = (
                    props.get("EventInvokeConfig", {})
                    .get("DestinationConfig", {})
                    .get("OnFailure", {})
                )
                if on_failure.get("Type") == "SQS":
                    self.on_failure[logical] = resolve(on_failure["Destination"])
            elif res["Type"] == "AWS::Serverless::StateMachine":
                self.state_machine_arn = self._create_state_machine(props, role["Arn"])
        # The files bucket is the one the functions are told about (not the access-log bucket).
        self.bucket = self.env["BUCKET_NAME"]
        self.table = next(
            refs[k] for k, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"
        )

    def _create_role(self, name: str, props: dict[str, Any]) -> None:
        iam = self.client("iam")
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(self.resolve(props["AssumeRolePolicyDocument"])),
        )
        for policy in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(self.resolve(policy["PolicyDocument"])),
            )

    def _create_user_pool(self, name: str, props: dict[str, Any]) -> str:
        kwargs = {k: props[k] for k in _POOL_PROPS if k in props}
        pool = self.client("cognito-idp").create_user_pool(PoolName=name, **kwargs)
        pool_id = str(pool["UserPool"]["Id"])
        if "EnabledMfas" in props:
            self.client("cognito-idp").set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=props.get("MfaConfiguration", "OFF"),
            )
        return pool_id

    def _create_user_pool_client(self, pool_id: str, name: str, props: dict[str, Any]) -> str:
        kwargs = {k: props[k] for k in _CLIENT_PROPS if k in props}
        made = self.client("cognito-idp").create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, **kwargs
        )
        return str(made["UserPoolClient"]["ClientId"])

    def _create_table(self, name: str, props: dict[str, Any]) -> None:
        allowed = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        kwargs = {k: props[k] for k in allowed if k in props}
        self.client("dynamodb").create_table(TableName=name, **kwargs)

    def _wire_events(self, logical: str, events: dict[str, Any]) -> None:
        for event in events.values():
            if event["Type"] == "EventBridgeRule" and "EventBusName" in event["Properties"]:
                self._wire_rule(logical, event["Properties"])
            if event["Type"] != "S3":
                # Api events are served by feedsync_local.apiserver; the rule on the default
                # bus listens to Step Functions status changes, which moto does not emit.
                continue
            props = event["Properties"]
            bucket = self.resolve(props["Bucket"])
            rules = props.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            config: dict[str, Any] = {
                "LambdaFunctionArn": self.functions[logical].arn,
                "Events": [props["Events"]]
                if isinstance(props["Events"], str)
                else props["Events"],
            }
            if rules:
                config["Filter"] = {"Key": {"FilterRules": rules}}
            self.client("s3").put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"LambdaFunctionConfigurations": [config]},
            )

    def _wire_rule(self, logical: str, props: dict[str, Any]) -> None:
        """A rule on the stack's own bus (feedsync's run events) targeting the function."""
        events = self.client("events")
        bus = self.resolve(props["EventBusName"])
        name = self.resolve(props["RuleName"])
        pattern = json.dumps(self.resolve(props["Pattern"]))
        events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern, State="ENABLED")
        target = {"Id": logical, "Arn": self.functions[logical].arn}
        events.put_targets(Rule=name, EventBusName=bus, Targets=[target])

    def substituted_definition(self, props: dict[str, Any]) -> str:
        text = (self.root / props["DefinitionUri"]).read_text(encoding="utf-8")
        for key, value in self.resolve(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        return str(text)

    def _create_state_machine(self, props: dict[str, Any], role_arn: str) -> str:
        sfn = self.client("stepfunctions")
        arn: str = sfn.create_state_machine(
            name=self.resolve(props["Name"]),
            definition=self.substituted_definition(props),
            roleArn=role_arn,
            type=props.get("Type", "STANDARD"),
        )["stateMachineArn"]
        return arn
