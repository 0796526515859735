"""In-memory fakes of the core's ports (``feedsync.core.ports``) for fast step tests.

Each keeps the contract its protocol documents and its real adapter honours, so a
core step cannot pass here and misbehave on AWS: records are stored as the JSON the
DynamoDB adapter writes and validated again when read; updates need the item to
exist; the run lock, lock release and idempotency claims are conditional writes;
blobs have ETags and ``upload_file_if_match`` refuses a stale one; the connector
checks each batch against its capabilities and answers one result per item.
``World`` puts them together in a ``Deps`` and builds the records a run needs.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from feedsync.adapters.dynamo import _numbers, _plain  # what DynamoDB keeps of a value
from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.core.ports import ItemResult, PlanItem, item_gone
from feedsync.core.rowfile import write_rows
from feedsync.domain.capabilities import Capabilities
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import Row, Variant
from feedsync.domain.runlog import LOG_HEADER
from feedsync.domain.source_state import ProbedSource
from feedsync.errors import NotFound, SourceError, SourceUnchanged
from feedsync.models import (
    FetchOutput,
    ParseOutput,
    Profile,
    ProfileSettings,
    Run,
    RunRef,
    RunSummary,
    Store,
    TenantSettings,
)
from feedsync.models.review import LIMITS_OFF
from feedsync.platforms.registry import capabilities_for

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ConditionFailed(Exception):
    """DynamoDB's ConditionalCheckFailedException: the item a write needs is not there."""


# ------------------------------------------------------------------------ repository
class FakeRepository:
    """The single table in memory, with DynamoRepository's conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.run_writes: list[tuple[str, dict[str, Any]]] = []  # (run id, fields) in order
        self._mutex = threading.Lock()  # a conditional write is atomic

    # -- primitives
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return _numbers(copy.deepcopy(item)) if item is not None else None

    def _put(self, pk: str, sk: str, body: dict[str, Any]) -> None:
        self.items[(pk, sk)] = _plain(body)

    def _update(self, pk: str, sk: str, fields: dict[str, Any]) -> None:
        with self._mutex:
            item = self.items.get((pk, sk))
            if item is None:  # attribute_exists(PK)
                raise ConditionFailed(f"{pk} {sk} does not exist")
            item.update(_plain(fields))

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return [
            _numbers(copy.deepcopy(item))
            for (p, s), item in sorted(self.items.items())
            if p == pk and s.startswith(prefix)
        ]

    # -- tenants
    def get_tenant_settings(self, tenant_id: str) -> TenantSettings | None:
        item = self._get(f"TENANT#{tenant_id}", "SETTINGS")
        return TenantSettings.model_validate(item) if item else None

    def put_tenant_settings(self, settings: TenantSettings) -> None:
        self._put(f"TENANT#{settings.tenant_id}", "SETTINGS", settings.model_dump(mode="json"))

    # -- stores
    def put_store(self, store: Store) -> None:
        self._put(f"TENANT#{store.tenant_id}", f"STORE#{store.store_id}", store.model_dump())

    def get_store(self, tenant_id: str, store_id: str) -> Store | None:
        item = self._get(f"TENANT#{tenant_id}", f"STORE#{store_id}")
        return Store.model_validate(item) if item else None

    def list_stores(self, tenant_id: str) -> list[Store]:
        return [Store.model_validate(i) for i in self._query(f"TENANT#{tenant_id}", "STORE#")]

    def update_store(self, tenant_id: str, store_id: str, **fields: Any) -> None:
        self._update(f"TENANT#{tenant_id}", f"STORE#{store_id}", fields)

    def delete_store(self, tenant_id: str, store_id: str) -> bool:
        return self.items.pop((f"TENANT#{tenant_id}", f"STORE#{store_id}"), None) is not None

    # -- profiles and the run lock
    def put_profile(self, profile: Profile) -> None:
        body = profile.model_dump(exclude_none=True)
        body["limits"] = profile.limits.model_dump()  # as the adapter: an off limit is null
        self._put(f"TENANT#{profile.tenant_id}", f"PROFILE#{profile.profile_id}", body)

    def get_profile(self, tenant_id: str, profile_id: str) -> Profile | None:
        item = self._get(f"TENANT#{tenant_id}", f"PROFILE#{profile_id}")
        return Profile.model_validate(item) if item else None

    def list_profiles(self, tenant_id: str) -> list[Profile]:
        return [Profile.model_validate(i) for i in self._query(f"TENANT#{tenant_id}", "PROFILE#")]

    def count_profiles(self, tenant_id: str) -> int:
        return len(self._query(f"TENANT#{tenant_id}", "PROFILE#"))

    def update_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> None:
        self._update(f"TENANT#{tenant_id}", f"PROFILE#{profile_id}", fields)

    def update_idle_profile(self, tenant_id: str, profile_id: str, **fields: Any) -> bool:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"PROFILE#{profile_id}"))
            if item is None or item.get("current_run_id") is not None:
                return False
            item.update(_plain(fields))
            return True

    def clear_pending_upload(
        self, tenant_id: str, profile_id: str, key: str, version: str | None
    ) -> None:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"PROFILE#{profile_id}"))
            pending = (item or {}).get("pending_upload") or {}
            if item is not None and (pending.get("key"), pending.get("version")) == (key, version):
                del item["pending_upload"]

    def record_source_check(self, tenant_id: str, profile_id: str, at: datetime) -> None:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"PROFILE#{profile_id}"))
            if item is not None:  # a deleted profile has nothing to record
                item["checks"] = int(item.get("checks", 0)) + 1
                item["last_checked_at"] = _plain(at)

    def delete_profile(self, tenant_id: str, profile_id: str) -> bool:
        with self._mutex:
            key = (f"TENANT#{tenant_id}", f"PROFILE#{profile_id}")
            item = self.items.get(key)
            if item is None or item.get("current_run_id") is not None:
                return False
            del self.items[key]
            return True

    def acquire_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, since: datetime
    ) -> bool:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"PROFILE#{profile_id}"))
            if item is None or item.get("current_run_id") is not None:
                return False
            item.update(current_run_id=run_id, current_run_since=since.isoformat())
            item["status"] = "running"
            return True

    def release_run_lock(
        self, tenant_id: str, profile_id: str, run_id: str, summary: RunSummary, synced: bool
    ) -> None:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"PROFILE#{profile_id}"))
            if item is None or item.get("current_run_id") != run_id:
                return  # released already, or another run's lock: not ours to touch
            item.update(status="ready", last_run=_plain(summary))
            if synced:
                item["last_sync_at"] = _plain(summary.finished_at)
            del item["current_run_id"]
            item.pop("current_run_since", None)

    # -- idempotency (the 24-hour TTL is not modelled: keys never expire here)
    def claim_idempotency_key(self, tenant_id: str, key: str, run_id: str) -> str | None:
        with self._mutex:
            held = self.items.get((f"TENANT#{tenant_id}", f"IDEM#{key}"))
            if held is not None:
                return str(held["run_id"])
            self.items[(f"TENANT#{tenant_id}", f"IDEM#{key}")] = {"run_id": run_id}
            return None

    def drop_idempotency_key(self, tenant_id: str, key: str) -> None:
        self.items.pop((f"TENANT#{tenant_id}", f"IDEM#{key}"), None)

    # -- runs
    def put_run(self, run: Run) -> None:
        self._put(f"TENANT#{run.tenant_id}", f"RUN#{run.run_id}", run.model_dump())

    def get_run(self, tenant_id: str, run_id: str) -> Run | None:
        item = self._get(f"TENANT#{tenant_id}", f"RUN#{run_id}")
        return Run.model_validate(item) if item else None

    def get_runs(self, tenant_id: str, run_ids: Iterable[str]) -> dict[str, Run]:
        found = (self.get_run(tenant_id, run_id) for run_id in set(run_ids))
        return {run.run_id: run for run in found if run is not None}

    def list_runs(self, tenant_id: str, profile_id: str, limit: int = 50) -> list[Run]:
        runs = [Run.model_validate(i) for i in self._query(f"TENANT#{tenant_id}", "RUN#")]
        mine = [r for r in runs if r.profile_id == profile_id]
        return sorted(mine, key=lambda r: r.run_id, reverse=True)[:limit]

    def runs_page(
        self, tenant_id: str, profile_id: str, limit: int, after: str | None
    ) -> tuple[list[Run], str | None]:
        newest_first = self.list_runs(tenant_id, profile_id, limit=10**9)
        if after is not None:
            newest_first = [r for r in newest_first if r.run_id < after]
        page = newest_first[:limit]
        return page, (page[-1].run_id if len(newest_first) > limit else None)

    def update_run(self, tenant_id: str, run_id: str, **fields: Any) -> None:
        self._update(f"TENANT#{tenant_id}", f"RUN#{run_id}", fields)
        self.run_writes.append((run_id, _plain(fields)))

    def set_shard_progress(self, tenant_id: str, run_id: str, shard: int, done: int) -> bool:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"RUN#{run_id}"))
            if item is None:
                raise ConditionFailed(f"run {run_id} does not exist")
            # SET progress.shards.#s: the map must exist (DynamoDB: invalid document path)
            item["progress"]["shards"][str(shard)] = done
            return item.get("cancel_requested_at") is not None

    def cancel_requested(self, tenant_id: str, run_id: str) -> bool:
        with self._mutex:
            item = self.items.get((f"TENANT#{tenant_id}", f"RUN#{run_id}"))
            return item is not None and item.get("cancel_requested_at") is not None

    def statuses(self, run_id: str) -> list[str]:
        """Every status written to the run, in order."""
        return [f["status"] for rid, f in self.run_writes if rid == run_id and "status" in f]


# ----------------------------------------------------------------------- blob store
def _etag(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class FakeBlobStore:
    """A bucket in memory: objects with ETags, conditional replace, NotFound when missing."""

    bucket = "fake-bucket"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        # Called once each, between a tagged read and the conditional write that follows
        # (another writer's turn): e.g. a catalog import rewriting the index meanwhile.
        self.between_read_and_write: deque[Callable[[], None]] = deque()

    def _data(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise NotFound(f"s3://{self.bucket}/{key} does not exist") from None

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        self.objects[key] = bytes(data)
        self.content_types[key] = content_type

    def get_bytes(self, key: str) -> bytes:
        return self._data(key)

    def open_read(self, key: str) -> IO[bytes]:
        return io.BytesIO(self._data(key))

    def open_read_tagged(self, key: str) -> tuple[IO[bytes], str]:
        data = self._data(key)
        if self.between_read_and_write:
            self.between_read_and_write.popleft()()
        return io.BytesIO(data), f'"{_etag(data)}"'  # S3 quotes it

    def open_read_range(self, key: str, start: int = 0) -> tuple[IO[bytes], str]:
        data = self._data(key)
        return io.BytesIO(data[start:]), f'"{_etag(data)}"'

    def upload_file_if_match(self, path: str, key: str, etag: str) -> bool:
        current = self._data(key)  # S3: If-Match on a missing key is an error, not a write
        if _etag(current) != etag.strip('"'):
            return False
        self.upload_file(path, key, "text/csv")
        return True

    def upload_file(
        self, path: str, key: str, content_type: str = "application/octet-stream"
    ) -> None:
        with open(path, "rb") as fh:
            self.put_bytes(key, fh.read(), content_type)

    def download_file(self, key: str, path: str) -> None:
        data = self._data(key)
        with open(path, "wb") as fh:
            fh.write(data)

    def head(self, key: str, version: str | None = None) -> dict[str, Any] | None:
        # (unversioned: the fakes keep the latest object; moto-backed tests read versions)
        data = self.objects.get(key)
        return None if data is None else {"size": len(data), "etag": _etag(data)}

    def copy(self, source_key: str, key: str, version: str | None = None) -> None:
        self.put_bytes(key, self._data(source_key), self.content_types.get(source_key, ""))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def presign_put(self, key: str, expires_s: int) -> str:
        return f"https://{self.bucket}.fake/{key}?method=PUT&expires={expires_s}"

    def presign_get(self, key: str, expires_s: int) -> str:
        return f"https://{self.bucket}.fake/{key}?method=GET&expires={expires_s}"

    def text(self, key: str) -> str:
        return self._data(key).decode("utf-8")

    def csv(self, key: str) -> list[list[str]]:
        """A stored CSV's records, header included."""
        return list(csv.reader(io.StringIO(self.text(key))))


# ------------------------------------------------------------- secrets, AWS services
class FakeSecrets:
    """Like Secrets Manager through its adapter: every put is a new version, a new ref."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, str]] = {}

    def put(self, name: str, value: dict[str, str]) -> str:
        ref = f"arn:fake:secretsmanager:{name}#v{len(self.values) + 1}"
        self.values[ref] = dict(value)
        return ref

    def get(self, ref: str) -> dict[str, str]:
        try:
            return dict(self.values[ref])
        except KeyError:
            raise NotFound(f"secret {ref} not found") from None

    def delete(self, ref: str) -> None:
        name = ref.partition("#")[0]
        for stored in [r for r in self.values if r.partition("#")[0] == name]:
            del self.values[stored]


class FakeExecutions:
    """Step Functions: executions by name; starting a name twice is the same execution."""

    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.status_of: dict[str, str] = {}

    def start(self, name: str, payload: dict[str, Any]) -> str:
        if name not in self.started:
            self.started[name] = payload
            self.status_of[name] = "RUNNING"
        return f"arn:fake:states:execution:{name}"

    def status(self, name: str) -> str | None:
        return self.status_of.get(name)


class FakeScheduler:
    def __init__(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}

    def put_schedule(
        self,
        name: str,
        expression: str,
        timezone: str | None,
        start_command: dict[str, Any],
        start_date: datetime | None = None,
        enabled: bool = True,
    ) -> None:
        self.schedules[name] = {
            "expression": expression,
            "timezone": timezone,
            "command": dict(start_command),
            "start_date": start_date,
            "enabled": enabled,
        }

    def delete_schedule(self, name: str) -> None:
        self.schedules.pop(name, None)


class FakeInvoker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke_async(self, function: str, payload: dict[str, Any]) -> None:
        self.calls.append((function, payload))


class AnyAddress:
    """Every store URL may be reached (the address rule has tests of its own)."""

    def refusal(self, url: str) -> str | None:
        return None


# ----------------------------------------------------------------------- the source
@dataclass
class FetchedFile:
    path: str
    file_name: str
    size: int
    etag: str | None
    last_modified: str | None
    sha256: str


@dataclass
class _Served:
    data: bytes
    etag: str | None
    last_modified: str | None


class FakeSourceFetcher:
    """A supplier's web server: files by URL; a request naming the last file's ETag is
    answered 304 (SourceUnchanged) when the file still has it, as the real fetcher does."""

    def __init__(self) -> None:
        self.files: dict[str, _Served] = {}
        self.requests: list[tuple[str, dict[str, Any] | None, dict[str, str] | None]] = []
        self.probes: list[tuple[str, dict[str, Any] | None, dict[str, str] | None]] = []

    def serve(
        self, url: str, data: bytes, *, etag: str | None = "auto", last_modified: str | None = None
    ) -> None:
        """``etag=None``: a server that sends none (only the content can tell)."""
        self.files[url] = _Served(data, _etag(data) if etag == "auto" else etag, last_modified)

    def probe_url(
        self,
        url: str,
        last: dict[str, Any] | None = None,
        auth: dict[str, str] | None = None,
    ) -> ProbedSource:
        """Headers only: 304 for the last file's ETag, else the file's validators."""
        self.probes.append((url, last, auth))
        served = self.files.get(url)
        if served is None:
            raise SourceError(f"{url}: 404 Not Found")
        if last and served.etag and last.get("etag") == served.etag:
            return ProbedSource(location=url, not_modified=True)
        return ProbedSource(location=url, etag=served.etag, last_modified=served.last_modified)

    def fetch_url(
        self,
        url: str,
        dest_dir: str,
        unchanged_since: dict[str, Any] | None = None,
        auth: dict[str, str] | None = None,
    ) -> FetchedFile:
        self.requests.append((url, unchanged_since, auth))
        served = self.files.get(url)
        if served is None:
            raise SourceError(f"{url}: 404 Not Found")
        if unchanged_since and served.etag and unchanged_since.get("etag") == served.etag:
            raise SourceUnchanged(f"{url}: 304 Not Modified")
        name = url.rstrip("/").rsplit("/", 1)[-1] or "download"
        path = os.path.join(dest_dir, name)
        with open(path, "wb") as fh:
            fh.write(served.data)
        return FetchedFile(
            path=path,
            file_name=name,
            size=len(served.data),
            etag=served.etag,
            last_modified=served.last_modified,
            sha256=hashlib.sha256(served.data).hexdigest(),
        )


# -------------------------------------------------------------------- the connector
@dataclass
class ApplyCall:
    op: str
    items: list[PlanItem]
    batch_key: str
    location: str | None
    carried: int = 0  # a pile carried in (``ports.PileCarrier``)
    defer: bool = False


Answer = list[ItemResult] | Callable[[str, list[PlanItem]], list[ItemResult]] | BaseException


class ScriptedConnector:
    """A store whose answers a test scripts, one entry per ``apply`` call (results, a
    function of the batch, or an exception to raise); unscripted calls write every item,
    except those the store no longer has (``gone_variants`` / ``gone_products``), which
    are answered with ``item_gone``. Each batch is checked against the capabilities."""

    def __init__(
        self,
        capabilities: Capabilities,
        variants: Iterable[Variant] = (),
        default_location: str | None = None,
    ) -> None:
        self.capabilities = capabilities
        self.variants: list[Variant] = list(variants)
        self.modified: list[Variant] = []  # what a modified-since read finds
        self.script: deque[Answer] = deque()
        self.calls: list[ApplyCall] = []
        self.reads: list[tuple[datetime | None, datetime | None]] = []
        self.gone_variants: set[int] = set()
        self.gone_products: set[int] = set()
        self._default_location = default_location

    @property
    def default_location(self) -> str | None:
        return self._default_location

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        self.reads.append((modified_since, modified_until))
        if modified_since is None and modified_until is None:
            return iter(list(self.variants))
        return iter(list(self.modified))

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
    ) -> list[ItemResult]:
        spec = self.capabilities.op(op)  # KeyError: the core sent an operation we lack
        assert 0 < len(items) <= spec.max_batch, f"{op}: {len(items)} items"
        assert all(isinstance(item, PlanItem) for item in items), "items must be PlanItem"
        carries = carried or defer or more
        assert self.capabilities.carries_pile or not carries, "carried to a non-carrier"
        assert defer or more is None, "more items are asked for only in a call that defers"
        self.calls.append(ApplyCall(op, list(items), batch_key, location, carried, defer))
        if self.script:
            answer = self.script.popleft()
            if isinstance(answer, BaseException):
                raise answer
            return list(answer(op, items) if callable(answer) else answer)
        return [self.answer(item) for item in items]

    def answer(self, item: PlanItem) -> ItemResult:
        """What the store answers an unscripted item."""
        if item.product_id in self.gone_products:
            return item_gone("product", f"product {item.product_id} not found")
        if item.variant_id in self.gone_variants:
            return item_gone("variant", f"variant {item.variant_id} not found")
        return ItemResult(True)

    def written(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(op, variant id, changes) of every item sent, in order."""
        return [(c.op, i.variant_id, i.changes) for c in self.calls for i in c.items]


# ------------------------------------------------------------------------ the clock
class FakeClock:
    """Time that moves only when told to (or when the core sleeps)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


# ------------------------------------------------------------------------ the world
# Every safety limit off: for a test of a step whose feed moves prices a lot (the limits
# have tests of their own, in test_limits.py).
NO_LIMITS = LIMITS_OFF


def variant(
    pid: int,
    vid: int,
    sku: str,
    price: int | None = 1000,
    stock: int | None = 5,
    ref: str | None = None,
    visible: bool | None = True,
) -> Variant:
    """An index variant with a SKU, price (cents) and stock, its product on view; no
    barcode or content."""
    return (pid, vid, sku, None, price, None, None, None, stock, f"Item {sku}", None, ref,
            None, None, None, None, visible)  # fmt: skip


def row(no: int, sku: str, price: int | None = None, stock: int | None = None) -> Row:
    """A canonical feed row (what parse writes to rows.csv)."""
    return (no, sku, None, price, None, None, None, stock, None, None, None, None, None)


class World:
    """One tenant's records and a ``Deps`` over the fakes."""

    tenant = "t1"

    def __init__(self, work_dir: str, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.repo = FakeRepository()
        self.blobs = FakeBlobStore()
        self.secrets = FakeSecrets()
        self.executions = FakeExecutions()
        self.scheduler = FakeScheduler()
        self.invoker = FakeInvoker()
        self.fetcher = FakeSourceFetcher()
        self.connectors: dict[str, ScriptedConnector] = {}  # store id -> its connector
        self.credentials_seen: list[dict[str, str]] = []
        counter = itertools.count(1)
        self.deps = Deps(
            repo=self.repo,
            blobs=self.blobs,
            secrets=self.secrets,
            executions=self.executions,
            invoker=self.invoker,
            fetcher=self.fetcher,
            connectors=self._connector_for,
            catalog_import_function="catalog-import",
            addresses=AnyAddress(),
            scheduler=self.scheduler,
            shard_batches=2,
            work_dir=work_dir,
            clock=self.clock,
            sleep=self.clock.sleep,
            ids=lambda prefix: f"{prefix}_{next(counter):04d}",
        )

    def _connector_for(self, store: Store, credentials: dict[str, str]) -> ScriptedConnector:
        self.credentials_seen.append(credentials)
        return self.connectors[store.store_id]

    # -- records
    def store(
        self,
        variants: Iterable[Variant],
        *,
        platform: str = "bigcommerce",
        store_id: str = "s1",
        options: dict[str, Any] | None = None,
    ) -> Store:
        """A ready store whose index holds ``variants`` (and whose connector sells them)."""
        variants = list(variants)
        index = CatalogIndex.from_variants(variants)
        key = keys.catalog_key(self.tenant, store_id)
        out = io.StringIO()
        index.dump(out)
        self.blobs.put_bytes(key, out.getvalue().encode(), "text/csv")
        store = Store(
            tenant_id=self.tenant,
            store_id=store_id,
            name=f"store {store_id}",
            platform=platform,
            api_url="https://store.example",
            secret_ref=self.secrets.put(f"store/{store_id}", {"access_token": "tok"}),
            options=options or {},
            status="ready",
            variant_count=len(index),
            catalog_key=key,
            imported_at=self.clock() - timedelta(hours=1),
            import_mode="full",
            created_at=self.clock() - timedelta(days=1),
        )
        self.repo.put_store(store)
        caps = capabilities_for(platform, store.options.model_dump())
        self.connectors[store_id] = ScriptedConnector(caps, variants)
        return store

    def profile(
        self,
        store: Store,
        *,
        profile_id: str = "p1",
        source: dict[str, Any] | None = None,
        **settings: Any,
    ) -> Profile:
        body = {
            "name": f"profile {profile_id}",
            "store_id": store.store_id,
            "source": source or {"type": "url", "url": "https://supplier.example/stock.csv"},
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
            **settings,
        }
        fields = ProfileSettings.model_validate(body).model_dump()
        profile = Profile(
            **fields, tenant_id=self.tenant, profile_id=profile_id, created_at=self.clock()
        )
        self.repo.put_profile(profile)
        return profile

    def run(self, profile: Profile, *, trigger: str = "manual", run_id: str = "run_1") -> RunRef:
        """A run started as the start path does: the profile's lock taken, the record queued."""
        assert self.repo.acquire_run_lock(
            self.tenant, profile.profile_id, run_id, since=self.clock()
        )
        self.repo.put_run(
            Run(
                tenant_id=self.tenant,
                run_id=run_id,
                profile_id=profile.profile_id,
                store_id=profile.store_id,
                trigger=trigger,
                mode=profile.mode,
                created_at=self.clock(),
            )
        )
        return RunRef(
            tenant_id=self.tenant,
            run_id=run_id,
            profile_id=profile.profile_id,
            store_id=profile.store_id,
        )

    def parsed(self, ref: RunRef, rows: Iterable[Row], row_errors: int = 0) -> ParseOutput:
        """What the parse step leaves for match: rows.csv and row_errors.csv."""
        rows_key = keys.rows_key(ref.tenant_id, ref.run_id)
        out = io.StringIO()
        rows = list(rows)
        write_rows(out, rows)
        self.blobs.put_bytes(rows_key, out.getvalue().encode(), "text/csv")
        errors_key = keys.row_errors_key(ref.tenant_id, ref.run_id)
        self.blobs.put_bytes(errors_key, (",".join(LOG_HEADER) + "\n").encode(), "text/csv")
        return ParseOutput(
            rows_key=rows_key, rows=len(rows), row_errors=row_errors, row_errors_key=errors_key
        )

    def fetched(self, ref: RunRef, name: str = "stock.csv") -> FetchOutput:
        return FetchOutput(
            key=keys.source_key(ref.tenant_id, ref.run_id, name), file_name=name, size=0
        )

    def run_record(self, ref: RunRef) -> Run:
        run = self.repo.get_run(ref.tenant_id, ref.run_id)
        assert run is not None
        return run

    def profile_record(self, profile_id: str = "p1") -> Profile:
        profile = self.repo.get_profile(self.tenant, profile_id)
        assert profile is not None
        return profile

    def index(self, store_id: str = "s1") -> CatalogIndex:
        return CatalogIndex.load(
            io.StringIO(self.blobs.text(keys.catalog_key(self.tenant, store_id)))
        )
