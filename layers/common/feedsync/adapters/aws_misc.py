"""Small AWS adapters: Secrets Manager, Step Functions, Lambda async invoke."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_stepfunctions import SFNClient


# A ref is "<secret ARN>#<version id>"; '#' is in neither (names are letters, digits, /_+=.@-).
_VERSION_MARK = "#"
_CACHED_VERSIONS = 256


class SecretsManagerSecrets:
    """Credentials live here; records keep only the ref ``put`` returned.

    Every ``put`` writes a new version and returns a ref that names it
    (``<ARN>#<VersionId>``). A version's value never changes, so a process may cache it
    for as long as it lives, and a changed value is a new ref: the record that holds it
    (a profile after ``PATCH /profiles/{id}``) sends every process, the fetch Lambda's as
    well as the API Lambda's that wrote it, to the new value at its next read, with no
    invalidation message between Lambdas. A short TTL would still hand a run started just
    after the change the old password; reading on every call would cost one
    GetSecretValue per update shard for values that almost never change.

    A ref without a version (records written before refs carried one, or by hand) is read
    from Secrets Manager on every ``get`` (its current version), never cached.
    """

    def __init__(self, client: SecretsManagerClient | None = None) -> None:
        self.client: SecretsManagerClient = client or boto3.client("secretsmanager")
        self._cache: dict[str, dict[str, str]] = {}  # versioned ref -> value
        self._lock = threading.Lock()  # the local stack runs handlers in threads

    def put(self, name: str, value: dict[str, str]) -> str:
        try:
            created = self.client.create_secret(Name=name, SecretString=json.dumps(value))
            arn, version = created["ARN"], created["VersionId"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceExistsException":
                raise
            put = self.client.put_secret_value(SecretId=name, SecretString=json.dumps(value))
            arn, version = put["ARN"], put["VersionId"]
        return f"{arn}{_VERSION_MARK}{version}"

    def get(self, ref: str) -> dict[str, str]:
        secret_id, _, version = ref.partition(_VERSION_MARK)
        with self._lock:
            cached = self._cache.get(ref) if version else None
        if cached is not None:
            return dict(cached)
        try:
            if version:
                raw = self.client.get_secret_value(SecretId=secret_id, VersionId=version)
            else:
                raw = self.client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise NotFound(f"secret {ref} not found") from exc
            raise
        value: dict[str, str] = json.loads(raw["SecretString"])
        if version:
            with self._lock:
                if len(self._cache) >= _CACHED_VERSIONS:
                    del self._cache[next(iter(self._cache))]  # the oldest entry
                self._cache[ref] = value
        return dict(value)

    def delete(self, ref: str) -> None:
        """Delete the secret (every version); ``ref`` may name any of its versions."""
        secret_id = ref.partition(_VERSION_MARK)[0]
        with self._lock:
            for cached in [r for r in self._cache if r.partition(_VERSION_MARK)[0] == secret_id]:
                del self._cache[cached]
        try:
            self.client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


class StepFunctionsExecutions:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.arn = state_machine_arn
        self.client: SFNClient = client or boto3.client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            return self.client.start_execution(
                stateMachineArn=self.arn, name=name, input=json.dumps(payload)
            )["executionArn"]
        except ClientError as exc:
            # The name is the run id: a redelivered start is the same execution.
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return self._execution_arn(name)
            raise

    def status(self, name: str) -> str | None:
        try:
            got = self.client.describe_execution(executionArn=self._execution_arn(name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        return got["status"]

    def _execution_arn(self, name: str) -> str:
        return f"{self.arn.replace(':stateMachine:', ':execution:')}:{name}"


class LambdaInvoker:
    def __init__(self, client: LambdaClient | None = None) -> None:
        self.client: LambdaClient = client or boto3.client("lambda")

    def invoke_async(self, function: str, payload: dict[str, Any]) -> None:
        self.client.invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )


def stack_function_environment(
    function_logical_id: str, stack: str | None = None, function_name: str | None = None
) -> dict[str, str]:
    """A deployed function's environment: the stack's resource names as its code reads them
    (the operator CLI works on the stack with these). ``stack`` finds the function by its
    logical id in CloudFormation; ``function_name`` names it directly (the local stack)."""
    if function_name is None:
        if stack is None:
            raise ValueError("name a stack or a function")
        cloudformation: Any = boto3.client("cloudformation")
        try:
            found = cloudformation.describe_stack_resource(
                StackName=stack, LogicalResourceId=function_logical_id
            )
        except ClientError as exc:
            raise NotFound(f"stack {stack}: no {function_logical_id} ({exc})") from exc
        function_name = str(found["StackResourceDetail"]["PhysicalResourceId"])
    lam: LambdaClient = boto3.client("lambda")
    try:
        config = lam.get_function_configuration(FunctionName=function_name)
    except ClientError as exc:
        raise NotFound(f"function {function_name}: {exc}") from exc
    return dict(config.get("Environment", {}).get("Variables", {}))
