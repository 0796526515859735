"""Small AWS adapters: Secrets Manager, Step Functions, Lambda async invoke."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_stepfunctions import SFNClient


class SecretsManagerSecrets:
    """Store credentials live here; records keep only the ARN."""

    def __init__(self, client: SecretsManagerClient | None = None) -> None:
        self.client: SecretsManagerClient = client or boto3.client("secretsmanager")
        self._cache: dict[str, dict[str, str]] = {}

    def put(self, name: str, value: dict[str, str]) -> str:
        try:
            return self.client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceExistsException":
                raise
        return self.client.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]

    def get(self, ref: str) -> dict[str, str]:
        if ref not in self._cache:
            try:
                raw = self.client.get_secret_value(SecretId=ref)["SecretString"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    raise NotFound(f"secret {ref} not found") from exc
                raise
            self._cache[ref] = json.loads(raw)
        return self._cache[ref]

    def delete(self, ref: str) -> None:
        self._cache.pop(ref, None)
        try:
            self.client.delete_secret(SecretId=ref, ForceDeleteWithoutRecovery=True)
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
