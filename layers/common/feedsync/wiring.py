"""Composition root: builds the adapters once per process from the typed settings."""

from __future__ import annotations

from functools import lru_cache

from feedsync.adapters.accounts import DynamoAccounts
from feedsync.adapters.addresses import AddressRules
from feedsync.adapters.aws_misc import LambdaInvoker, SecretsManagerSecrets, StepFunctionsExecutions
from feedsync.adapters.cognito import CognitoDirectory
from feedsync.adapters.dynamo import DynamoRepository
from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.adapters.jwks import HttpSigningKeys
from feedsync.adapters.members import DynamoMembers
from feedsync.adapters.notifications import (
    DynamoNotificationLog,
    EventBridgeRunEvents,
    SnsEmailTopic,
)
from feedsync.adapters.rate_budget import DynamoRateBudget
from feedsync.adapters.s3 import S3BlobStore
from feedsync.adapters.scheduler import EventBridgeScheduler
from feedsync.adapters.sftp_source import RemoteSourceFetcher
from feedsync.adapters.webhook_http import RequestsWebhookPoster
from feedsync.core.deps import Deps
from feedsync.core.file_preview import (
    PREVIEW_CONNECT_S,
    PREVIEW_MAX_BYTES,
    PREVIEW_READ_S,
    PREVIEW_TOTAL_S,
)
from feedsync.core.identity import Accounts
from feedsync.core.ports import StoreConnector
from feedsync.domain.tokens import TokenRules
from feedsync.models import Plan, Store
from feedsync.platforms.registry import platform
from feedsync.platforms.spec import ConnectorSetup
from feedsync.settings import get_account_settings, get_settings


def connector_for(store: Store, credentials: dict[str, str]) -> StoreConnector:
    """The store's connector; a quota shared by shards lives in the table."""
    settings = get_settings()
    return platform(store.platform).connector(
        ConnectorSetup(
            api_url=store.api_url,
            credentials=credentials,
            options=store.options.model_dump(),
            allow_private=settings.allow_private_urls,
            budget=lambda: DynamoRateBudget(
                settings.table_name, f"{store.tenant_id}#{store.store_id}"
            ),
        )
    )


@lru_cache(maxsize=1)
def deps() -> Deps:
    settings = get_settings()
    return Deps(
        repo=DynamoRepository(settings.table_name),
        blobs=S3BlobStore(settings.bucket_name),
        secrets=SecretsManagerSecrets(),
        executions=StepFunctionsExecutions(settings.state_machine_arn),
        invoker=LambdaInvoker(),
        fetcher=HttpSourceFetcher(
            allow_private=settings.allow_private_urls, max_bytes=settings.source_max_bytes
        ),
        remote=RemoteSourceFetcher(
            allow_private=settings.allow_private_urls,
            max_bytes=settings.source_max_bytes,
            probe_hash_s=settings.probe_hash_s,
        ),
        preview_fetcher=HttpSourceFetcher(
            allow_private=settings.allow_private_urls,
            max_bytes=PREVIEW_MAX_BYTES,
            connect_timeout_s=PREVIEW_CONNECT_S,
            read_timeout_s=PREVIEW_READ_S,
            total_timeout_s=PREVIEW_TOTAL_S,
        ),
        preview_remote=RemoteSourceFetcher(
            allow_private=settings.allow_private_urls,
            max_bytes=PREVIEW_MAX_BYTES,
            connect_timeout_s=PREVIEW_CONNECT_S,
            read_timeout_s=PREVIEW_READ_S,
            total_timeout_s=PREVIEW_TOTAL_S,
        ),
        scheduler=EventBridgeScheduler(
            settings.schedule_group,
            settings.start_function_arn,
            settings.scheduler_role_arn,
            settings.schedule_dead_letter_arn,
        ),
        connectors=connector_for,
        catalog_import_function=settings.catalog_import_function,
        addresses=AddressRules(allow_private=settings.allow_private_urls),
        secret_prefix=settings.secret_prefix,
        shard_batches=settings.shard_batches,
        default_plan=Plan(min_interval_minutes=settings.default_min_interval_minutes),
        allow_custom_store_urls=settings.allow_private_urls,
        upload_url_ttl_s=settings.upload_url_ttl_s,
        events=EventBridgeRunEvents(settings.event_bus_name),
        email=SnsEmailTopic(settings.notifications_topic_arn),
        webhooks=RequestsWebhookPoster(allow_private=settings.allow_private_urls),
        notification_log=DynamoNotificationLog(settings.table_name),
        allow_http_webhooks=settings.allow_private_urls,
        account_records=DynamoAccounts(settings.table_name),
    )


@lru_cache(maxsize=1)
def accounts() -> Accounts:
    """Sign-in and the accounts routes (the authorizer and the API function only)."""
    settings = get_account_settings()
    return Accounts(
        members=DynamoMembers(get_settings().table_name),
        directory=CognitoDirectory(settings.user_pool_id),
        signing_keys=HttpSigningKeys(settings.signing_keys_url),
        rules=TokenRules(issuer=settings.issuer, client_id=settings.user_pool_client_id),
        region=settings.region,
        user_pool_id=settings.user_pool_id,
        cognito_endpoint=settings.browser_endpoint,
    )
