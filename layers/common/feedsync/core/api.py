"""The REST API's operations, independent of API Gateway's event shape."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from feedsync.core import (
    api_keys,
    changes,
    keys,
    log_pages,
    notify_api,
    plans,
    schedules,
    tenant_guard,
)
from feedsync.core.blobcsv import csv_to_blob, text_lines
from feedsync.core.catalog_import import request_import
from feedsync.core.deps import Deps
from feedsync.core.home import profile_views as profile_views
from feedsync.core.source_check import RESYNC_ON_CHANGE
from feedsync.core.start import record_skipped, start_run
from feedsync.core.written import forget_store_items
from feedsync.domain.capabilities import VISIBLE
from feedsync.domain.missing import DISABLE
from feedsync.domain.runlog import LOG_HEADER
from feedsync.errors import Conflict, Gone, InvalidRequest, NotFound
from feedsync.models import (
    ACTIVE_STATUSES,
    CatalogImportInput,
    CreateStore,
    ImportCatalogBody,
    InvalidValue,
    PatchProfile,
    PendingUpload,
    Profile,
    ProfileSettings,
    Run,
    StartCommand,
    Store,
    TenantSchedule,
    Trigger,
    UploadedObject,
    check_location,
    describe_error,
    parse_schedule,
)
from feedsync.models.create import CreateSettings
from feedsync.platforms.registry import capabilities_for, platform

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def register_api_key(deps: Deps, tenant_id: str, api_key: str) -> None:
    """The tenant's owner key ``default`` (the one ``feedsync serve`` prints)."""
    api_keys.store_key(deps, tenant_id, api_key, "default", "owner", "operator")


# ----------------------------------------------------------------------------- stores
def create_store(deps: Deps, tenant_id: str, body: CreateStore) -> Store:
    api_url = str(body.api_url).rstrip("/")
    spec = platform(body.platform)
    if not deps.allow_custom_store_urls and not spec.store_url.fullmatch(api_url):
        raise InvalidRequest("api_url", f"must be {spec.store_url_hint}")
    refused = deps.addresses.refusal(api_url)
    if refused is not None:
        raise InvalidRequest(
            "api_url", f"{refused}; feedsync connects only to stores at public addresses"
        )
    store_id = deps.ids("store")
    ref = deps.secrets.put(
        f"{deps.secret_prefix}/{tenant_id}/{store_id}",
        body.credentials.model_dump(exclude_none=True),
    )
    store = Store(
        tenant_id=tenant_id,
        store_id=store_id,
        name=body.name,
        platform=body.platform,
        api_url=api_url,
        secret_ref=ref,
        options=body.options,
        created_at=deps.clock(),
    )
    deps.repo.put_store(store)
    request_import(deps, CatalogImportInput(tenant_id=tenant_id, store_id=store_id))
    return get_store(deps, tenant_id, store_id)


def get_store(deps: Deps, tenant_id: str, store_id: str) -> Store:
    store = deps.repo.get_store(tenant_id, store_id)
    if store is None:
        raise NotFound(f"store {store_id} not found")
    return store


def list_stores(deps: Deps, tenant_id: str) -> list[Store]:
    return deps.repo.list_stores(tenant_id)


def store_view(store: Store) -> dict[str, object]:
    """The store as the API shows it, with why its platform cannot create products (null
    when it can), so a client need not know each platform's create support."""
    caps = capabilities_for(store.platform, store.options.model_dump())
    try:
        caps.check_create()
        why: str | None = None
    except ValueError as exc:
        why = str(exc)
    return {**store.public(), "cannot_create": why}


def delete_store(deps: Deps, tenant_id: str, store_id: str) -> None:
    """Remove a store with its token and catalog index; refused while profiles use it."""
    store = get_store(deps, tenant_id, store_id)
    users = [p.profile_id for p in deps.repo.list_profiles(tenant_id) if p.store_id == store_id]
    if users:
        raise Conflict(
            "store_in_use",
            f"{len(users)} profile(s) sync to this store ({', '.join(users[:5])}); "
            "delete them or point them at another store first",
        )
    if deps.repo.delete_store(tenant_id, store_id):
        deps.secrets.delete(store.secret_ref)
        if store.catalog_key:
            deps.blobs.delete(store.catalog_key)


def import_store_catalog(
    deps: Deps, tenant_id: str, store_id: str, body: ImportCatalogBody
) -> Store:
    """Start a catalog import in the background; the store answers with its state."""
    get_store(deps, tenant_id, store_id)
    request_import(
        deps, CatalogImportInput(tenant_id=tenant_id, store_id=store_id, **body.model_dump())
    )
    return get_store(deps, tenant_id, store_id)


def _check_writable(
    store: Store,
    fields: list[str],
    location_id: str | None = None,
    missing: str = "ignore",
    create: CreateSettings | None = None,
) -> None:
    caps = capabilities_for(store.platform, store.options.model_dump())
    try:
        caps.check_fields(fields)
    except ValueError as exc:
        raise InvalidRequest("fields", str(exc)) from None
    if create is not None and create.enabled:
        try:  # a platform whose spec cannot create is refused by name, with its reason
            caps.check_create()
        except ValueError as exc:
            raise InvalidRequest("create", str(exc)) from None
    if missing == DISABLE and VISIBLE not in caps.writable_fields:
        raise InvalidRequest(
            "missing", f"{caps.platform} cannot hide a product: use zero_stock or ignore"
        )
    if location_id is not None:
        try:
            check_location(store.platform, location_id)
        except ValueError as exc:
            raise InvalidRequest("location_id", str(exc)) from None


# --------------------------------------------------------------------------- profiles
def list_profiles(deps: Deps, tenant_id: str) -> list[Profile]:
    return deps.repo.list_profiles(tenant_id)


def create_profile(deps: Deps, tenant_id: str, body: ProfileSettings) -> Profile:
    store = get_store_for_profile(deps, tenant_id, body.store_id)
    _check_writable(store, body.fields, body.location_id, body.missing, body.create)
    notify_api.check_webhooks(deps, body.webhooks)
    profile_id = deps.ids("prof")
    body = body.model_copy(
        update={"source": _store_credentials(deps, tenant_id, profile_id, body.source, None)}
    )
    schedules.check(deps, tenant_id, profile_id, body.schedule)
    profile = Profile(
        **body.model_dump(),
        tenant_id=tenant_id,
        profile_id=profile_id,
        created_at=deps.clock(),
    )
    settings = schedules.tenant_settings(deps, tenant_id)
    profile = plans.admit(deps, profile, settings)
    deps.repo.put_profile(profile)
    schedules.sync_schedule(deps, profile, settings)
    return notify_api.ensure_secret(deps, profile)


def endpoint(source: Any) -> tuple[str, ...]:
    """Where credentials go: type, origin (or host and port) and user."""
    if source.type == "url":
        url = source.url
        return ("url", str(url.scheme), str(url.host), str(url.port))
    if source.type == "upload":
        return ("upload",)
    return (source.type, source.host, str(source.port), source.username)


def same_server(old: Any, new: Any) -> bool:
    """Whether stored credentials may go with ``new``: the same endpoint and, for SFTP, the
    same pinned host key (a password is sent only to the key it was entered for)."""
    if endpoint(old) != endpoint(new):
        return False
    return old.type != "sftp" or same_pin(old, new)


def same_pin(old: Any, new: Any) -> bool:
    """Two SFTP sources pin one host key (``ssh-keygen`` may print the ``=`` or not)."""
    pins = (getattr(s, "host_key_fingerprint", None) for s in (old, new))
    before, after = ((pin or "").rstrip("=") for pin in pins)
    return before == after


def _store_credentials(
    deps: Deps, tenant_id: str, profile_id: str, source: Any, kept_ref: str | None
) -> Any:
    """Move a source's write-only credentials into Secrets Manager; keep only the ref."""
    if source.type == "upload":
        return source
    if source.credentials is None:
        return source.model_copy(update={"secret_ref": kept_ref})
    values = source.credentials.model_dump(exclude_none=True)
    ref = deps.secrets.put(f"{deps.secret_prefix}/{tenant_id}/{profile_id}/source", values)
    return source.model_copy(update={"credentials": None, "secret_ref": ref})


def get_store_for_profile(deps: Deps, tenant_id: str, store_id: str) -> Store:
    store = deps.repo.get_store(tenant_id, store_id)
    if store is None:
        raise InvalidRequest("store_id", f"no store {store_id!r}")
    return store


def get_profile(deps: Deps, tenant_id: str, profile_id: str) -> Profile:
    profile = deps.repo.get_profile(tenant_id, profile_id)
    if profile is None:
        raise NotFound(f"profile {profile_id} not found")
    return profile


# Settings that are maps of their own: a PATCH merges into them instead of replacing them.
_MERGED_ON_PATCH = frozenset({"limits", "conflicts"})


def patch_profile(deps: Deps, tenant_id: str, profile_id: str, body: PatchProfile) -> Profile:
    profile = get_profile(deps, tenant_id, profile_id)
    changes = body.model_dump(exclude_unset=True)
    current = profile.model_dump(include=set(ProfileSettings.model_fields))
    for name in _MERGED_ON_PATCH & set(changes):
        # A merge patch (RFC 7386): the keys sent change, the others keep their values
        # (switching one limit off must not bring another back on).
        if isinstance(changes[name], dict) and isinstance(current.get(name), dict):
            changes[name] = current[name] | changes[name]
    merged = current | changes
    try:
        settings = ProfileSettings.model_validate(merged)
    except ValidationError as exc:
        field, message = describe_error(exc.errors()[0])
        raise InvalidRequest(field or "body", message) from exc
    if changes.get("enabled") is True:
        held = plans.refusal_to_enable(deps, profile.model_copy(update=dict(settings)))
        if held is not None:
            raise Conflict(
                "over_plan",
                f"the plan holds this profile ({held.removeprefix(plans.PLAN_PREFIX)}): raise "
                "the plan or remove other profiles, and it is enabled by itself",
            )
    if {"fields", "store_id", "location_id", "missing", "create"} & set(changes):
        store = get_store_for_profile(deps, tenant_id, settings.store_id)
        _check_writable(
            store, settings.fields, settings.location_id, settings.missing, settings.create
        )
    moving = settings.store_id != profile.store_id
    if moving and profile.current_run_id:
        raise _running_on_move(profile.current_run_id)
    if "schedule" in changes:
        schedules.check(deps, tenant_id, profile_id, settings.schedule)
    if "webhooks" in changes:
        notify_api.check_webhooks(deps, settings.webhooks)
    if "source" in changes:
        # Old credentials stay only for the same server, user and (SFTP) pinned host key:
        # never sent elsewhere. Without new ones for another server they are dropped (the
        # answer's has_credentials says so), as for a URL on another host.
        same = same_server(profile.source, settings.source)
        kept = getattr(profile.source, "secret_ref", None) if same else None
        source = _store_credentials(deps, tenant_id, profile_id, settings.source, kept)
        settings = settings.model_copy(update={"source": source})
    new_values = settings.model_dump(mode="json", include=set(changes))
    if _changes_what_runs_write(profile, new_values):
        new_values["last_source"] = None
    if {"schedule", "enabled"} & set(changes):
        new_values["schedule_since"] = deps.clock()  # no fire before it was due (health)
    if moving:
        # Conditional on the lock being free: a run that took it since the read above keeps
        # its store (409), and the old store's items are forgotten only once moved.
        if not deps.repo.update_idle_profile(tenant_id, profile_id, **new_values):
            held = get_profile(deps, tenant_id, profile_id).current_run_id
            raise _running_on_move(held or "a run")
        forget_store_items(deps, tenant_id, profile_id)
    elif new_values:
        deps.repo.update_profile(tenant_id, profile_id, **new_values)
    updated = get_profile(deps, tenant_id, profile_id)
    if {"schedule", "enabled"} & set(changes):
        schedules.sync_schedule(deps, updated)
        if plans.apply_plan(deps, tenant_id):
            updated = get_profile(deps, tenant_id, profile_id)
    return notify_api.ensure_secret(deps, updated)


def _running_on_move(run_id: str) -> Conflict:
    return Conflict(
        "already_running",
        f"run {run_id} is syncing to the profile's store: move the profile to another store "
        "when it ends",
    )


def _changes_what_runs_write(profile: Profile, new_values: Mapping[str, Any]) -> bool:
    """Whether the patch changes a setting in ``RESYNC_ON_CHANGE`` (sent with another value):
    then ``last_source`` is forgotten and the next automatic fire syncs even the same file."""
    if not profile.last_source:
        return False
    sent = set(RESYNC_ON_CHANGE & set(new_values))
    before = profile.model_dump(mode="json", include=sent)
    return any(before.get(name) != new_values[name] for name in sent)


def delete_profile(deps: Deps, tenant_id: str, profile_id: str) -> None:
    profile = get_profile(deps, tenant_id, profile_id)
    if profile.current_run_id:
        raise Conflict("already_running", "a run is active; delete the profile when it ends")
    if deps.repo.delete_profile(tenant_id, profile_id):
        if deps.scheduler is not None:
            deps.scheduler.delete_schedule(profile_id)
        secret_ref = getattr(profile.source, "secret_ref", None)
        if secret_ref:
            deps.secrets.delete(secret_ref)
        notify_api.forget_profile(deps, profile)
        plans.apply_plan(deps, tenant_id)  # a freed slot re-enables a held profile


def get_schedule_settings(deps: Deps, tenant_id: str) -> dict[str, Any]:
    return schedules.tenant_settings(deps, tenant_id).schedule.spec()


def put_schedule_settings(
    deps: Deps, tenant_id: str, schedule: TenantSchedule | Mapping[str, Any]
) -> dict[str, Any]:
    """Set the tenant's global schedule and re-schedule every profile that follows it.

    Takes the validated model (the API body) or its JSON form (read with the model).
    """
    settings = schedules.tenant_settings(deps, tenant_id)
    try:
        parsed = (
            parse_schedule(schedule, tenant=True) if isinstance(schedule, Mapping) else schedule
        )
        schedules.within_plan(parsed, settings.plan.min_interval_minutes)
    except InvalidValue as exc:
        raise InvalidRequest(exc.field, str(exc)) from exc
    settings = settings.model_copy(update={"schedule": parsed})
    deps.repo.put_tenant_settings(settings)
    for profile in deps.repo.list_profiles(tenant_id):
        if profile.schedule.type == "default":
            schedules.sync_schedule(deps, profile, settings)
            deps.repo.update_profile(tenant_id, profile.profile_id, schedule_since=deps.clock())
    return parsed.spec()


def upload_url(
    deps: Deps, tenant_id: str, profile_id: str, file_name: str, start: bool = True
) -> dict[str, Any]:
    """A presigned PUT; ``start`` False stores the file without starting a run (the choice is
    in the key the URL signs, so the client sends nothing more: ``headers`` is empty)."""
    profile = get_profile(deps, tenant_id, profile_id)
    if profile.source.type != "upload":
        raise Conflict("not_upload_source", "this profile reads from a URL, not an upload")
    stopped = tenant_guard.refusal(deps, tenant_id)
    if stopped is not None:
        raise stopped
    safe = _SAFE_NAME.sub("_", file_name).strip("._") or "feed.csv"
    key = keys.upload_key(tenant_id, profile_id, deps.ids("up"), safe, start)
    return {
        "upload_url": deps.blobs.presign_put(key, deps.upload_url_ttl_s),
        "method": "PUT",
        "key": key,
        "expires_in": deps.upload_url_ttl_s,
        "headers": {},
        "start": start,
    }


EMPTY_UPLOAD = (
    "empty_upload: {name} arrived empty (0 bytes): nothing was synced and the profile keeps "
    "its last file; upload it again (curl -T FILE URL)"
)


def record_upload(deps: Deps, obj: UploadedObject) -> Run | None:
    """An upload landed: remember it as the profile's file and start a run on it (or, sent
    with ``"start": false``, keep it as ``pending_upload`` for a later Start)."""
    owner = keys.parse_upload_key(obj.key)
    if owner is None:
        return None
    tenant_id, profile_id = owner
    profile = deps.repo.get_profile(tenant_id, profile_id)
    if profile is None or profile.source.type != "upload":
        return None
    once = f"{obj.key}@{obj.version_id}"  # S3 may deliver one event twice: one run
    if obj.size == 0:  # never the profile's file: a Start keeps syncing the last good one
        name = obj.key.rsplit("/", 1)[-1]
        cmd = StartCommand(
            tenant_id=tenant_id, profile_id=profile_id, trigger="upload", idempotency_key=once
        )
        return record_skipped(deps, cmd, EMPTY_UPLOAD.format(name=name))
    now = deps.clock()
    stored_only = not keys.upload_starts_run(obj.key)
    pending = PendingUpload(
        key=obj.key, version=obj.s3_version, size=obj.size,
        file_name=obj.key.rsplit("/", 1)[-1], uploaded_at=now,
    )  # fmt: skip
    deps.repo.update_profile(
        tenant_id,
        profile_id,
        upload_key=obj.key,
        upload_version=obj.s3_version,
        uploaded_at=now,
        # A file stored without a run waits for Start; one that starts its run is not pending.
        pending_upload=pending.model_dump(mode="json") if stored_only else None,
    )
    if stored_only:
        return None
    return start(deps, tenant_id, profile_id, "upload", None, once)


# ------------------------------------------------------------------------------- runs
def start(
    deps: Deps,
    tenant_id: str,
    profile_id: str,
    trigger: Trigger,
    mode: Any,
    idempotency_key: str | None = None,
    preview: bool = False,
) -> Run:
    cmd = StartCommand(
        tenant_id=tenant_id,
        profile_id=profile_id,
        trigger=trigger,
        mode=mode,
        idempotency_key=idempotency_key,
        preview=preview,
    )
    return start_run(deps, cmd)


def get_run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    run = deps.repo.get_run(tenant_id, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def cancel_run(deps: Deps, tenant_id: str, run_id: str) -> Run:
    """Ask an active run to stop: each step checks at its start, the update step between
    batches, and finalize closes the run ``cancelled`` (lock released, what reached the
    store logged). Asking twice is one request; a finished run is a Conflict."""
    run = get_run(deps, tenant_id, run_id)  # another tenant's run is NotFound too
    if run.status not in ACTIVE_STATUSES:
        raise Conflict(
            "run_finished", f"run {run_id} has already ended ({run.status}): nothing to cancel"
        )
    if run.cancel_requested_at is None:
        deps.repo.update_run(tenant_id, run_id, cancel_requested_at=deps.clock())
    return run


_RUN_CURSOR = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def list_runs(
    deps: Deps, tenant_id: str, profile_id: str, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The profile's runs, newest first, ``limit`` at a time; ``next`` is the cursor of the
    page after (a run id: the history pages by the table's index, never by offset)."""
    get_profile(deps, tenant_id, profile_id)
    if cursor is not None and not _RUN_CURSOR.fullmatch(cursor):
        raise InvalidRequest("cursor", "not a cursor this API gave out")
    runs, after = deps.repo.runs_page(tenant_id, profile_id, limit, cursor)
    return {"runs": [r.public() for r in runs], "next": after}


# Lambda responses stop at 6 MB: bigger logs are handed out as a presigned S3 URL.
INLINE_LOG_BYTES = 5 * 1024 * 1024


def run_log(deps: Deps, tenant_id: str, run_id: str, status: str | None = None) -> bytes | str:
    """The log CSV itself, or (when too big to return inline) a download URL for it; with
    ``status``, only its lines of that status."""
    run = get_run(deps, tenant_id, run_id)
    if not run.log_key:
        raise NotFound(f"run {run_id} has no log yet (status: {run.status})")
    head = deps.blobs.head(run.log_key)
    if head is None:
        # Run files expire (S3 lifecycle on runs/, see template.yaml): say so, not "not found".
        raise Gone(f"run {run_id}'s log is no longer kept (run files expire after 90 days)")
    if status is not None:
        return _log_lines_of(deps, run, run.log_key, status, big=head["size"] > INLINE_LOG_BYTES)
    if head["size"] > INLINE_LOG_BYTES:
        return deps.blobs.presign_get(run.log_key, 900)
    return deps.blobs.get_bytes(run.log_key)


def run_log_page(
    deps: Deps,
    tenant_id: str,
    run_id: str,
    *,
    status: str | None = None,
    q: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the log for a table: filtered, searched by key, read from the cursor on."""
    return log_pages.page_log(
        deps, get_run(deps, tenant_id, run_id), status=status, q=q, limit=limit, cursor=cursor
    )


def _log_lines_of(deps: Deps, run: Run, log_key: str, status: str, big: bool) -> bytes | str:
    """The log's header and its lines of ``status``, read as a stream: in the answer for a
    log within the inline limit, else through the run's exports/ as a download URL."""
    export = keys.log_export_key(run.tenant_id, run.run_id, status)
    with contextlib.ExitStack() as closing:
        raw = closing.enter_context(contextlib.closing(deps.blobs.open_read(log_key)))
        inline = io.StringIO()
        out = closing.enter_context(csv_to_blob(deps, export)) if big else inline
        writer = csv.writer(out, lineterminator="\n")
        records = csv.reader(text_lines(raw))
        # The file's own header: a log from before a column was added has fewer.
        writer.writerow(next(records, list(LOG_HEADER)))
        writer.writerows(rec for rec in records if len(rec) > 4 and rec[4] == status)
    if not big:
        return inline.getvalue().encode("utf-8")
    return deps.blobs.presign_get(export, 900)


# ---------------------------------------------------------------------------- changes
def run_changes(
    deps: Deps, tenant_id: str, run_id: str, **query: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the run's changes and the next page's cursor (``core/changes``)."""
    return changes.page_changes(deps, get_run(deps, tenant_id, run_id), **query)


def run_changes_csv_page(
    deps: Deps, tenant_id: str, run_id: str, **query: Any
) -> tuple[bytes, str | None]:
    """A page of the run's changes as CSV and the next page's cursor."""
    return changes.page_changes_csv(deps, get_run(deps, tenant_id, run_id), **query)


def run_changes_csv(deps: Deps, tenant_id: str, run_id: str, **filters: Any) -> bytes | str:
    """Every change under the filters as CSV, or (too big to return inline) a download URL."""
    run = get_run(deps, tenant_id, run_id)
    return changes.changes_csv(deps, run, inline_bytes=INLINE_LOG_BYTES, **filters)
