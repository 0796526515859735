"""The core's dependencies, built once by the composition root (feedsync.wiring)."""

from __future__ import annotations

import secrets as _secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feedsync.core.ports import (
    AccountRecords,
    AddressPolicy,
    BlobStore,
    ConnectorFactory,
    EmailTopic,
    Executions,
    Invoker,
    NotificationLog,
    RemoteFileFetcher,
    Repository,
    RunEvents,
    Scheduler,
    Secrets,
    SourceFetcher,
    WebhookPoster,
)
from feedsync.models import Plan


def new_id(prefix: str) -> str:
    """Time-ordered, URL-safe ids (run ids double as execution names)."""
    return f"{prefix}_{int(time.time() * 1000):013x}{_secrets.token_hex(5)}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    repo: Repository
    blobs: BlobStore
    secrets: Secrets
    executions: Executions
    invoker: Invoker
    fetcher: SourceFetcher
    connectors: ConnectorFactory
    catalog_import_function: str
    # Which hosts a store URL may name (checked again by the connector at every request).
    addresses: AddressPolicy
    scheduler: Scheduler | None = None
    remote: RemoteFileFetcher | None = None
    # The file preview's fetchers (POST /file-preview): the same address rules, a smaller
    # size cap and shorter timeouts, within API Gateway's 29 s (None: the run's fetchers).
    preview_fetcher: SourceFetcher | None = None
    preview_remote: RemoteFileFetcher | None = None
    secret_prefix: str = "feedsync"
    shard_batches: int = 20
    # Store API URLs outside the platform's own host (the local sandbox) only when allowed.
    allow_custom_store_urls: bool = False
    upload_url_ttl_s: int = 3600
    # Notifications (None: not wired, e.g. a unit test's world): the run-outcome bus, the
    # email topic, webhook HTTP and the delivery records; plain-http webhook URLs only
    # where private addresses are allowed (the local stack).
    events: RunEvents | None = None
    email: EmailTopic | None = None
    webhooks: WebhookPoster | None = None
    notification_log: NotificationLog | None = None
    allow_http_webhooks: bool = False
    # API keys, the audit trail and tenants' records (None: not wired; every tenant runs).
    account_records: AccountRecords | None = None
    work_dir: str = "/tmp"
    # The plan a tenant has until one is set (the local stack allows 1-minute intervals).
    default_plan: Plan = field(default_factory=Plan)
    clock: Callable[[], datetime] = field(default=_now)
    sleep: Callable[[float], None] = field(default=time.sleep)
    ids: Callable[[str], str] = field(default=new_id)
