"""Typed settings, read from the environment once per process."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from feedsync.domain import tokens


class Settings(BaseSettings):
    """Required names have no default: a missing one fails at cold start, not mid-run."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME")
    bucket_name: str = Field(alias="BUCKET_NAME")
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN")
    catalog_import_function: str = Field(alias="CATALOG_IMPORT_FUNCTION")
    # Secrets Manager names start with this (IAM policies are scoped to it).
    secret_prefix: str = Field(alias="SECRET_PREFIX", min_length=1)
    # EventBridge Scheduler: the group holding one schedule per scheduled profile, the
    # role the scheduler assumes, and the start function its schedules invoke.
    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)
    start_function_arn: str = Field(alias="START_FUNCTION_ARN", min_length=1)
    # The SQS queue a schedule's undeliverable fire goes to (the target's DeadLetterConfig).
    schedule_dead_letter_arn: str = Field(alias="SCHEDULE_DEAD_LETTER_ARN", min_length=1)
    # Notifications: the bus every run outcome is put on ("Run Finished" events) and the
    # SNS topic run alerts are mailed through (each tenant's subscription filtered on it).
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", min_length=1)
    # Loopback/private source URLs are refused unless the deployment allows them
    # (the local stack does, because its supplier server is on 127.0.0.1).
    allow_private_urls: bool = Field(default=False, alias="ALLOW_PRIVATE_URLS")
    # The plan every tenant starts on: its shortest schedule interval.
    default_min_interval_minutes: int = Field(
        default=15, alias="DEFAULT_MIN_INTERVAL_MINUTES", ge=1
    )
    shard_batches: int = Field(default=20, alias="SHARD_BATCHES", ge=1, le=200)
    source_max_bytes: int = Field(default=2 * 1024**3, alias="SOURCE_MAX_BYTES", ge=1)
    # An automatic fire's probe hashes a file without a modification time for at most this
    # long (the start function has 300 s); slower: cannot tell, the run starts.
    probe_hash_s: float = Field(default=60.0, alias="PROBE_HASH_S", gt=0, le=240)
    upload_url_ttl_s: int = Field(default=3600, alias="UPLOAD_URL_TTL_S", ge=60)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


class AccountSettings(BaseSettings):
    """The Cognito user pool the authorizer and the accounts routes use (read by those two
    functions only). The JWKS URL and the endpoint browsers call default to AWS's own;
    the local stack points both at its moto server."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    region: str = Field(alias="AWS_REGION", min_length=1)
    user_pool_id: str = Field(alias="USER_POOL_ID", min_length=1)
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID", min_length=1)
    jwks_url: str | None = Field(default=None, alias="COGNITO_JWKS_URL")
    cognito_endpoint: str | None = Field(default=None, alias="COGNITO_ENDPOINT")

    @property
    def issuer(self) -> str:
        return tokens.issuer_for(self.region, self.user_pool_id)

    @property
    def signing_keys_url(self) -> str:
        return self.jwks_url or f"{self.issuer}/.well-known/jwks.json"

    @property
    def browser_endpoint(self) -> str:
        return self.cognito_endpoint or tokens.cognito_endpoint(self.region)


@lru_cache(maxsize=1)
def get_account_settings() -> AccountSettings:
    return AccountSettings()
