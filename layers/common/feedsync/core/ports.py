"""What the core needs from the outside world. Adapters implement these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from feedsync.domain.capabilities import Capabilities
from feedsync.domain.fields import Variant
from feedsync.domain.notifications import Claim, WebhookAnswer
from feedsync.domain.source_state import ProbedSource
from feedsync.domain.writes import (
    Created,
    GoneScope,
    ItemResult,
    PlanItem,
    item_created,
    item_deferred,
    item_gone,
    item_refused_together,
    item_stale,
)
from feedsync.models import (
    FtpSource,
    Profile,
    Run,
    RunSummary,
    SftpSource,
    Store,
    TenantSettings,
)
from feedsync.models.accounts import ApiKeyRecord, TenantRecord


class Repository(Protocol):
    def get_tenant_settings(self, tenant_id: str) -> TenantSettings | None: ...
    def put_tenant_settings(self, settings: TenantSettings) -> None: ...

    def put_store(self, store: Store) -> None: ...
    def get_store(self, tenant_id: str, store_id: str) -> Store | None: ...
    def list_stores(self, tenant_id: str) -> list[Store]: ...
    def update_store(self, tenant_id: str, store_id: str, **fields: Any) -> None: ...
    def delete_store(self, tenant_id: str, store_id: str) -> bool: ...

    def put_profile(self, profile: Profile) -> None: ...
    def get_profile(self, tenant_id: str, profile_id: str) -> Profile | None: ...
    def list_profiles(self, tenant_id: str) -> list[Profile]: ...
    def count_profiles(self, tenant_id: str) -> int: ...
    def update_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> None: ...
    def update_idle_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> bool:
        """Conditional write: update only while no run holds the lock; False when one does."""
        ...

    def clear_pending_upload(
        self, tenant_id: str, profile_id: str, key: str, version: str | None
    ) -> None:
        """Conditional write: drop ``pending_upload`` only while it names that key and version."""
        ...

    def record_source_check(self, tenant_id: str, profile_id: str, at: datetime) -> None:
        """One write: ``checks`` + 1 and ``last_checked_at`` (a source found unchanged)."""
        ...

    def delete_profile(self, tenant_id: str, profile_id: str) -> bool: ...

    def acquire_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, since: datetime
    ) -> bool:
        """Conditional write: True for exactly one caller while no run holds the lock.

        ``since`` (kept as ``current_run_since``) is when it was taken: a start holds the
        lock a moment before its run record exists, and must not look abandoned then.
        """
        ...

    def release_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, summary: RunSummary, synced: bool
    ) -> None: ...

    def claim_idempotency_key(self, tenant_id: str, key: str, run_id: str) -> str | None:
        """Conditional put: None when claimed now, else the run id that claimed it first."""
        ...

    def drop_idempotency_key(self, tenant_id: str, key: str) -> None: ...

    def put_run(self, run: Run) -> None: ...
    def get_run(self, tenant_id: str, run_id: str) -> Run | None: ...
    def get_runs(self, tenant_id: str, run_ids: Iterable[str]) -> dict[str, Run]:
        """The runs found among ``run_ids`` by id, in one batch read (not one per run)."""
        ...

    def list_runs(self, tenant_id: str, profile_id: str, limit: int = 50) -> list[Run]: ...
    def runs_page(
        self, tenant_id: str, profile_id: str, limit: int, after: str | None
    ) -> tuple[list[Run], str | None]:
        """The profile's runs, newest first, after the run ``after``; and the run id the
        next page starts after (None: no more)."""
        ...

    def update_run(self, tenant_id: str, run_id: str, **fields: Any) -> None: ...
    def set_shard_progress(self, tenant_id: str, run_id: str, shard: int, done: int) -> bool:
        """Set one shard's absolute count; True when the run has a cancel request (the
        update step's records check it at no extra request)."""
        ...

    def cancel_requested(self, tenant_id: str, run_id: str) -> bool:
        """Whether the run has a cancel request: the update step asks between records
        (an eventually consistent read: a cancel seen a call later is fine)."""
        ...


class BlobStore(Protocol):
    bucket: str

    def put_bytes(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def open_read(self, key: str) -> IO[bytes]: ...
    def open_read_tagged(self, key: str) -> tuple[IO[bytes], str]:
        """The object and the ETag of exactly the version being read."""
        ...

    def open_read_range(self, key: str, start: int = 0) -> tuple[IO[bytes], str]:
        """The object from byte ``start`` to its end (empty when ``start`` is at or past it)
        and the ETag of the whole version being read: a reader resumes where it stopped
        without reading what came before, and knows whether the object changed since."""
        ...

    def upload_file_if_match(self, path: str, key: str, etag: str) -> bool:
        """Replace the object only if it is still that version; False if someone else wrote it."""
        ...

    def upload_file(self, path: str, key: str, content_type: str = ...) -> None: ...
    def download_file(self, key: str, path: str) -> None: ...
    def head(self, key: str, version: str | None = None) -> dict[str, Any] | None:
        """Size and ETag of the object (of that version of it), or None."""
        ...

    def copy(self, source_key: str, key: str, version: str | None = None) -> None: ...
    def delete(self, key: str) -> None: ...
    def presign_put(self, key: str, expires_s: int) -> str: ...
    def presign_get(self, key: str, expires_s: int) -> str: ...


class Secrets(Protocol):
    def put(self, name: str, value: dict[str, str]) -> str:
        """Store ``value`` under ``name``; the ref returned names this value and no later
        one, so a record holding it sends every reader to this value (a new password is a
        new ref: keep the one ``put`` returned)."""
        ...

    def get(self, ref: str) -> dict[str, str]: ...
    def delete(self, ref: str) -> None:
        """Remove for good (idempotent): credentials of deleted things must not linger."""
        ...


class Executions(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str: ...

    def status(self, name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; None when there is no such execution."""
        ...


class Scheduler(Protocol):
    """One EventBridge Scheduler schedule per scheduled profile, targeting the start path."""

    def put_schedule(
        self,
        name: str,
        expression: str,
        timezone: str | None,
        start_command: dict[str, Any],
        start_date: datetime | None = None,
        enabled: bool = True,
    ) -> None:
        """Create or replace (``enabled=False`` keeps it, DISABLED).

        ``start_command`` is the StartCommand body without the fire time: the schedule
        adds ``scheduled_time`` and ``idempotency_key`` from
        ``<aws.scheduler.scheduled-time>``, so a retried fire starts one run.
        """
        ...

    def delete_schedule(self, name: str) -> None:
        """Idempotent: deleting a missing schedule is fine."""
        ...


class Invoker(Protocol):
    def invoke_async(self, function: str, payload: dict[str, Any]) -> None: ...


class FetchedFile(Protocol):
    path: str
    file_name: str
    size: int
    etag: str | None
    last_modified: str | None
    sha256: str


class SourceFetcher(Protocol):
    def fetch_url(
        self,
        url: str,
        dest_dir: str,
        unchanged_since: dict[str, Any] | None = None,
        auth: dict[str, str] | None = None,
    ) -> FetchedFile:
        """Download to ``dest_dir``. With ``unchanged_since`` (the last file's etag and
        last_modified) the request is conditional; SourceUnchanged on 304."""
        ...

    def probe_url(
        self,
        url: str,
        last: dict[str, Any] | None = None,
        auth: dict[str, str] | None = None,
    ) -> ProbedSource:
        """One conditional GET (the last file's etag and last_modified), headers only:
        ``not_modified`` on 304, else the answer's validators. Fails as ``fetch_url``."""
        ...


class AddressPolicy(Protocol):
    """Where feedsync may connect: the deployment's address rule (public addresses only,
    outside the local stack)."""

    def refusal(self, url: str) -> str | None:
        """Why the URL's host may not be reached, as it resolves now (None: it may)."""
        ...


class RemoteFileFetcher(Protocol):
    """FTP, FTPS and SFTP: fetch a file (or the newest match of a glob) to ``dest_dir``."""

    def fetch(
        self, source: FtpSource | SftpSource, credentials: dict[str, str], dest_dir: str
    ) -> FetchedFile: ...

    def probe(self, source: FtpSource | SftpSource, credentials: dict[str, str]) -> ProbedSource:
        """The file's ``remote_path``, size and modification time (one listing or stat);
        where the server gives no time, its ``sha256`` (hashed as it streams, kept nowhere)."""
        ...

    def host_key(self, source: SftpSource) -> str:
        """The fingerprint (``SHA256:...``) of the host key the SFTP server presents."""
        ...


# Re-exported: adapters and connectors take them from the ports.
__all__ = [
    "Created", "GoneScope", "ItemResult", "PlanItem", "WebhookAnswer", "item_created",
    "item_deferred", "item_gone", "item_refused_together", "item_stale",
]  # fmt: skip


class StoreConnector(Protocol):
    capabilities: Capabilities

    @property
    def default_location(self) -> str | None:
        """The stock location the platform chose when none was configured (Shopify's
        primary location, once looked up); None where there is none to remember."""
        ...

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all of them without one).

        A product in the range yields all its variants, so the caller can replace
        that product's entries in the index wholesale.
        """
        ...

    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """Send one batch of one write operation (``capabilities.op(op).max_batch`` at most).

        ``batch_key`` is stable across retries of the same batch (idempotency keys);
        ``location`` is the profile's stock location where the platform has them.
        Transient trouble is retried inside; what cannot be written is reported per
        item, never raised; a store-wide failure raises a named error. An item that
        failed because its variant or product no longer exists is reported with
        ``item_gone`` (so the caller can drop it from the index).
        """
        ...


class Creator(StoreConnector, Protocol):
    """A connector whose platform can create products (``capabilities.creation`` set,
    operations ``create`` and, where the platform can, ``delete``).

    ``apply("create", items, batch_key=...)`` sends create items (``PlanItem.new``,
    ``domain/create.py``): one answer per item, ``item_created(product id, {SKU: variant
    id})`` for what was made (an image the platform could not load leaves the item made
    without it and says so in the message; a variant refused is left out of the ids and
    named in the message), a failed ``ItemResult`` when nothing was made. An item with a
    ``product_id`` adds its variants to that product. New products are hidden unless
    ``new["visible"]``; ``new["category"]`` goes on each. ``apply("delete", items, ...)``
    removes what a run created: the product for a ``product_level`` item, else the variant.
    """

    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        """Per create item, what the store already has of it, looked up by its SKUs
        (the product's key and its variants'): the product id and the variants found by
        SKU, or None when nothing of it exists. The update step asks before sending again
        a create batch an earlier attempt began (the store may have accepted it before the
        attempt died), so no item is created twice (``domain/create.resume_creations``)."""
        ...


class PileCarrier(StoreConnector, Protocol):
    """A connector that carries the known-good items a refused batch leaves over into the
    caller's next batch (``capabilities.carries_pile``), so they fill a request that goes
    anyway instead of one of their own.

    ``apply(op, items, batch_key=..., carried=n, defer=True)``: the first ``n`` items are
    a pile an earlier call deferred (good then): they go in the first request with the
    rest and, when it is refused, are suspected after the new ones (the store may have
    changed them since). With ``defer``, items found good but not
    yet written when the call ends are answered ``item_deferred`` (nothing of them was
    written); without it everything is sent before the call returns. ``more(n)`` (with
    ``defer``): up to ``n`` of the caller's next items, asked for to fill a request
    that narrows a refusal down (the caller marks them in flight first); each one
    handed over is answered after ``items``, in the order given.
    """

    def apply(
        self,
        op: str,
        items: list[PlanItem],
        *,
        batch_key: str,
        location: str | None = None,
        carried: int = 0,
        defer: bool = False,
        more: Callable[[int], list[PlanItem]] | None = None,
    ) -> list[ItemResult]: ...


class RateBudget(Protocol):
    """One store's request quota, shared by every worker writing to that store."""

    def before_request(self) -> None:
        """Block until this worker may send one request within the shared budget."""
        ...

    def after_response(
        self,
        left: int | None,
        reset_s: float | None,
        quota: int | None = None,
        window_s: float | None = None,
    ) -> None:
        """What the platform's rate headers said (None where a header was missing)."""
        ...


class TokenBuckets(Protocol):
    """Token buckets (``rate`` per second, up to ``burst``) by name, shared by every worker
    that sends for one account: a platform whose quota is a usage plan per operation."""

    def reserve(self, name: str, rate: float, burst: int) -> float:
        """Take one token of bucket ``name`` (made full at ``rate``/``burst`` when new);
        the seconds to wait before sending (0.0: now). Never waits itself."""
        ...

    def report(self, name: str, *, rate: float | None, throttled: bool) -> None:
        """What an answer said: the plan's rate when the platform gave it; ``throttled``
        (a 429): the bucket is empty."""
        ...


class ConnectorFactory(Protocol):
    def __call__(self, store: Store, credentials: dict[str, str]) -> StoreConnector: ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class RunEvents(Protocol):
    """Where a run's end is announced (EventBridge: the notify rule and anyone's own)."""

    def put(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class EmailTopic(Protocol):
    """Run alerts by email: one topic, one subscription per address, filtered on the ids
    of the tenants that chose it (SNS keeps one subscription per topic and address)."""

    def publish(self, tenant_id: str, subject: str, message: str) -> None: ...
    def subscribe(self, email: str, tenant_ids: list[str]) -> str:
        """Subscribe the address (AWS mails it a confirmation link); the subscription ARN."""
        ...

    def set_tenants(self, subscription_arn: str, tenant_ids: list[str]) -> None:
        """The tenants whose alerts the subscription receives (its filter policy)."""
        ...

    def unsubscribe(self, subscription_arn: str) -> None: ...
    def confirmed(self, subscription_arn: str) -> bool | None:
        """True once the address confirmed; None when the subscription is gone."""
        ...


class WebhookPoster(Protocol):
    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout_s: float
    ) -> WebhookAnswer:
        """One attempt; never raises for the receiver's trouble (it is in the answer)."""
        ...


class NotificationLog(Protocol):
    """Delivery records, the tenant's email subscription, and what was already sent."""

    def claim(self, tenant_id: str, key: str, now: datetime, lease_s: float) -> Claim:
        """Take the channel ``key`` before sending on it, atomically: ``claimed`` (send, then
        ``mark_done``), ``sent`` (it went already) or ``busy`` (another invocation holds it
        and its lease has not run out: a crashed claim is taken over once it has)."""
        ...

    def mark_done(self, tenant_id: str, key: str) -> None:
        """The claimed channel went: no invocation sends on it again."""
        ...

    def release(self, tenant_id: str, key: str) -> None:
        """The claimed channel did not go: the next invocation may take it at once."""
        ...

    def put_delivery(self, tenant_id: str, delivery: dict[str, Any]) -> None: ...
    def list_deliveries(
        self, tenant_id: str, profile_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]: ...
    def get_email(self, tenant_id: str) -> dict[str, Any] | None: ...
    def put_email(self, tenant_id: str, email: str) -> None: ...
    def delete_email(self, tenant_id: str) -> None: ...
    def get_address(self, email: str) -> dict[str, Any] | None:
        """An alert address's record: ``tenants``, ``subscription_arn``, ``version``."""
        ...

    def save_address(
        self, email: str, tenants: list[str], subscription_arn: str, version: int | None
    ) -> bool:
        """Write the record as ``version`` + 1 if it is still at ``version`` (None: absent);
        False when another writer came first (read it again)."""
        ...

    def delete_address(self, email: str, version: int) -> bool:
        """Delete the record if it is still at ``version``; False otherwise."""
        ...


class AccountRecords(Protocol):
    """A tenant's API keys, audit trail, sign-ins seen and own record (issue 18)."""

    def put_api_key(self, record: ApiKeyRecord) -> None:
        """The lookup item (``KEY#<hash>``) and the tenant's listing item, together."""
        ...

    def api_key(self, key_hash: str) -> ApiKeyRecord | None: ...
    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]: ...
    def delete_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord | None:
        """Revoke: the lookup item goes first (the authorizer refuses it at once); None when
        the tenant has no such key."""
        ...

    def touch_api_key(self, key_hash: str, at: datetime) -> None:
        """Set ``last_used_at`` (the caller decides how often)."""
        ...

    def put_audit(self, tenant_id: str, event: dict[str, Any], expires_at: int) -> None: ...
    def audit_page(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; the cursor is opaque (None: the first page / no more)."""
        ...

    def claim_sign_in(self, tenant_id: str, session: str, expires_at: int) -> bool:
        """Conditional put: True only for the first request of this sign-in session."""
        ...

    def get_tenant(self, tenant_id: str) -> TenantRecord | None: ...
    def list_tenants(self) -> list[TenantRecord]:
        """Every tenant with a record (an index query, no scan)."""
        ...

    def set_tenant_status(self, tenant_id: str, status: str, reason: str | None) -> bool:
        """False when the tenant has no record."""
        ...

    def count_runs_since(self, tenant_id: str, first_run_id: str) -> int:
        """Runs whose (time-ordered) id sorts at or after ``first_run_id``, counted."""
        ...


# -- accounts: who may sign in, and where they belong ------------------------------------
class SigningKeys(Protocol):
    def key(self, kid: str) -> Any | None:
        """The user pool's public key with this id (None: the pool has none by that id)."""
        ...


@dataclass(frozen=True)
class DirectoryUser:
    """A user of the Cognito pool: ``sub`` never changes; ``status`` is Cognito's
    (FORCE_CHANGE_PASSWORD until an invited user first signs in, CONFIRMED after)."""

    sub: str
    email: str
    status: str
    enabled: bool = True
    email_verified: bool = False


class UserDirectory(Protocol):
    def invite(self, email: str) -> DirectoryUser | None:
        """Create the user and mail the invitation (a temporary password); None when a
        user with this email exists already."""
        ...

    def find(self, email_or_sub: str) -> DirectoryUser | None: ...
    def remove(self, sub: str) -> None:
        """Delete the user from the pool (its tokens are refused from then on: the
        authorizer finds no membership)."""
        ...

    def create_confirmed(self, email: str, password: str) -> DirectoryUser:
        """A user who can sign in at once (the local stack's demo user, tests)."""
        ...


class Members(Protocol):
    """Tenant records and memberships: one item per user (``USER#<sub>``)."""

    def get_member(self, sub: str) -> dict[str, Any] | None: ...
    def put_member(self, member: dict[str, Any], new: bool = True) -> bool:
        """Write ``member`` (sub, tenant_id, role, email, status, created_at); with ``new``
        only if the user has no membership yet (False when it has one)."""
        ...

    def list_members(self, tenant_id: str) -> list[dict[str, Any]]: ...
    def update_member(self, sub: str, tenant_id: str, **fields: Any) -> bool:
        """Update while the membership is still in ``tenant_id``; False when it is not."""
        ...

    def delete_member(self, sub: str, tenant_id: str) -> bool: ...
    def owner_steps_down(self, sub: str, tenant_id: str, keeper: str, role: str | None) -> bool:
        """Give owner ``sub`` ``role`` (None: remove the membership) only while ``keeper`` is
        an active owner of ``tenant_id``, in one transaction; False when either fails."""
        ...

    def create_tenant(
        self, tenant_id: str, name: str, created_at: str, created_by: str
    ) -> None: ...
    def get_tenant(self, tenant_id: str) -> dict[str, Any] | None: ...
