"""The run's steps, one function per state-machine Task.

Each step reads its inputs from S3 by key and writes its outputs back, so the
state machine only carries ids, keys and counts.
"""

from __future__ import annotations

import csv
import gc
import heapq
import io
import json
import logging
import os
import tempfile
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TextIO

from feedsync.core import keys, plans, schedules
from feedsync.core.catalog_import import refresh_before_match
from feedsync.core.catalog_store import rewrite_catalog, text_lines
from feedsync.core.deps import Deps
from feedsync.core.rowfile import read_rows, write_rows
from feedsync.core.start import abandon_run, start_run
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.content import index_value
from feedsync.domain.fields import CONTENT_FIELDS, PRODUCT_ID, REF, VARIANT_ID, VARIANT_POS, Variant
from feedsync.domain.plan import build_plan, result_rows
from feedsync.domain.reconcile import Counts, ReconcileSpec, reconcile
from feedsync.domain.rules import CompiledRules, compile_rules, normalize_sku
from feedsync.domain.runlog import LOG_HEADER, applied_status, outcome_log_row, row_error_log_row
from feedsync.errors import (
    Conflict,
    FeedsyncError,
    NotFound,
    PlanLimitExceeded,
    ShardsIncomplete,
    SourceError,
    SourceUnchanged,
    StoreRequestError,
)
from feedsync.formats import open_feed
from feedsync.models import (
    ACTIVE_STATUSES,
    AfterSchedule,
    FetchInput,
    FetchOutput,
    FinalizeInput,
    FinalizeOutput,
    MatchInput,
    MatchOutput,
    ParseInput,
    ParseOutput,
    Profile,
    Run,
    RunRef,
    RunSummary,
    StartCommand,
    Store,
    UpdateInput,
    UpdateOutput,
    UrlSource,
)
from feedsync.platforms.registry import capabilities_for, platform

log = logging.getLogger(__name__)
# ``gone``: "product" / "variant" when the store no longer has what the item wrote (a
# result file written before that column existed has five).
_RESULT_HEADER = ("row", "variant_id", "op", "ok", "error", "gone")


def _profile(deps: Deps, ref: RunRef) -> Profile:
    profile = deps.repo.get_profile(ref.tenant_id, ref.profile_id)
    if profile is None:
        raise NotFound(f"profile {ref.profile_id} was deleted during the run")
    return profile


def _store(deps: Deps, ref: RunRef) -> Store:
    store = deps.repo.get_store(ref.tenant_id, ref.store_id)
    if store is None:
        raise NotFound(f"store {ref.store_id} was deleted during the run")
    return store


def _run(deps: Deps, ref: RunRef) -> Run:
    run = deps.repo.get_run(ref.tenant_id, ref.run_id)
    if run is None:
        raise NotFound(f"run {ref.run_id} not found")
    return run


@contextmanager
def _csv_to_s3(deps: Deps, key: str) -> Iterator[TextIO]:
    """Spool a CSV to local disk, then upload it (multipart when big): never all in memory.

    Nothing is uploaded if the block raises.
    """
    fd, path = tempfile.mkstemp(dir=deps.work_dir, suffix=".csv")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        deps.blobs.upload_file(path, key, "text/csv")
    finally:
        os.unlink(path)


# ---------------------------------------------------------------------------- fetch
def fetch(deps: Deps, step: FetchInput) -> FetchOutput:
    ref = step.run
    deps.repo.update_run(ref.tenant_id, ref.run_id, status="preparing", started_at=deps.clock())
    profile = _profile(deps, ref)
    source = profile.source
    if source.type == "upload":
        if not profile.upload_key:
            raise SourceError("no file has been uploaded for this profile")
        head = deps.blobs.head(profile.upload_key)
        if head is None:
            raise SourceError(f"the uploaded file {profile.upload_key} is gone")
        file_name = profile.upload_key.rsplit("/", 1)[-1]
        key = keys.source_key(ref.tenant_id, ref.run_id, file_name)
        deps.blobs.copy(profile.upload_key, key)
        out = FetchOutput(key=key, file_name=file_name, size=int(head["size"]), etag=head["etag"])
        meta: dict[str, str | int | None] = {"type": "upload", "file": file_name, "size": out.size}
    else:
        # An automatic schedule's fire costs almost nothing when the file is the same.
        last = profile.last_source if _checks_for_changes(deps, profile, ref) else None
        secret = deps.secrets.get(source.secret_ref) if source.secret_ref else {}
        with tempfile.TemporaryDirectory(dir=deps.work_dir) as tmp:
            if source.type == "url":
                auth = _url_auth(source, secret)
                got = deps.fetcher.fetch_url(str(source.url), tmp, last, auth)
                where = str(source.url)
            else:
                if deps.remote is None:
                    raise SourceError(f"{source.type} sources are not configured here")
                got = deps.remote.fetch(source, secret, tmp)
                path = getattr(got, "remote_path", None) or source.path
                where = f"{source.type}://{source.host}{path}"
            if last and last.get("sha256") == got.sha256:
                raise SourceUnchanged(f"{where}: same file as the last run (sha256)")
            key = keys.source_key(ref.tenant_id, ref.run_id, got.file_name)
            deps.blobs.upload_file(got.path, key)
        out = FetchOutput(key=key, file_name=got.file_name, size=got.size, etag=got.etag)
        meta = {
            "type": source.type,
            "url": where,
            "file": got.file_name,
            "size": got.size,
            "etag": got.etag,
            "last_modified": got.last_modified,
            "sha256": got.sha256,
        }
    deps.repo.update_run(ref.tenant_id, ref.run_id, source=meta)
    return out


def _folded(index: CatalogIndex) -> CatalogIndex:
    """The index with case-folded SKUs (two SKUs differing only in case become ambiguous)."""
    pos = VARIANT_POS["sku"]

    def fold(variant: Variant) -> Variant:
        sku = variant[pos]
        if not isinstance(sku, str):
            return variant
        values = list(variant)
        values[pos] = normalize_sku(sku, case_insensitive=True)
        return tuple(values)  # type: ignore[return-value]

    return CatalogIndex.from_variants(fold(v) for v in index.variants)


def _compiled_rules(profile: Profile) -> CompiledRules:
    """The profile's rules; barcodes are checked only when rows are matched by them."""
    rules = compile_rules(profile.rules.spec())
    if profile.match_by == "sku" and rules.validate_barcodes:
        rules = replace(rules, validate_barcodes=False)
    return rules


def _check_rows_within_plan(deps: Deps, profile: Profile, file_name: str, rows: int) -> None:
    """A file over the plan's rows stops here (store untouched) and holds the profile."""
    plan = schedules.tenant_settings(deps, profile.tenant_id).plan
    if rows > plan.max_rows:
        deps.repo.update_profile(profile.tenant_id, profile.profile_id, rows_over_plan=rows)
        plans.apply_plan(deps, profile.tenant_id)
        raise PlanLimitExceeded(
            f"{file_name}: {rows} rows; the plan allows {plan.max_rows} rows per file "
            "(the profile is disabled until the plan is raised)"
        )
    if profile.rows_over_plan is not None:
        deps.repo.update_profile(profile.tenant_id, profile.profile_id, rows_over_plan=None)


def _url_auth(source: UrlSource, secret: dict[str, str]) -> dict[str, str] | None:
    """The fetcher's auth: the profile's kind and names plus the secret value."""
    if source.auth is None:
        return None
    auth: dict[str, str] = {"type": source.auth.type}
    if source.auth.username:
        auth["username"] = source.auth.username
    if source.auth.name:
        auth["name"] = source.auth.name
    value = secret.get("password") or secret.get("token")
    if not value:
        raise SourceError(f"{source.url}: {source.auth.type} auth has no secret stored")
    auth["password" if source.auth.type == "basic" else "token"] = value
    return auth


def _checks_for_changes(deps: Deps, profile: Profile, ref: RunRef) -> bool:
    run = _run(deps, ref)
    if run.trigger != "schedule" or not profile.last_source:
        return False
    settings = schedules.tenant_settings(deps, ref.tenant_id)
    return bool(schedules.effective(profile, settings)["type"] == "automatic")


# ---------------------------------------------------------------------------- parse
def parse(deps: Deps, step: ParseInput) -> ParseOutput:
    ref = step.run
    profile = _profile(deps, ref)
    rows_key = keys.rows_key(ref.tenant_id, ref.run_id)
    with tempfile.TemporaryDirectory(dir=deps.work_dir) as tmp:
        # The supplier's own file name: readers (openpyxl) go by its extension.
        local = os.path.join(tmp, os.path.basename(step.fetch.file_name) or "feed")
        deps.blobs.download_file(step.fetch.key, local)
        feed, info = open_feed(
            local,
            step.fetch.file_name,
            profile.format.reader_options(),
            profile.mapping,
            work_dir=tmp,
        )
        with feed:
            feed.use_constants(profile.constants)
            feed.use_rules(_compiled_rules(profile))
            with _csv_to_s3(deps, rows_key) as out:
                write_rows(out, feed)
                feed.require_rows()
                _check_rows_within_plan(deps, profile, step.fetch.file_name, feed.rows_read)
    run = _run(deps, ref)
    deps.repo.update_run(ref.tenant_id, ref.run_id, source={**run.source, "format": info})
    errors_key = keys.row_errors_key(ref.tenant_id, ref.run_id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(LOG_HEADER)
    writer.writerows(row_error_log_row(err) for err in feed.row_errors)
    deps.blobs.put_bytes(errors_key, buf.getvalue().encode(), "text/csv")
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        counts={"rows": feed.rows_read, "row_errors": len(feed.row_errors)},
    )
    return ParseOutput(
        rows_key=rows_key,
        rows=feed.rows_read,
        row_errors=len(feed.row_errors),
        row_errors_key=errors_key,
    )


# ---------------------------------------------------------------------------- match
def match(deps: Deps, step: MatchInput) -> MatchOutput:
    ref = step.run
    deps.repo.update_run(ref.tenant_id, ref.run_id, status="matching")
    profile = _profile(deps, ref)
    store = _store(deps, ref)
    run = _run(deps, ref)
    index = refresh_before_match(
        deps, store, needs_content=not set(profile.fields).isdisjoint(CONTENT_FIELDS)
    )
    # A million long-lived index tuples make every full GC pass walk them; park them.
    gc.freeze()
    try:
        return _match(deps, step, store, run, profile, index)
    finally:
        gc.unfreeze()


def _match(
    deps: Deps, step: MatchInput, store: Store, run: Run, profile: Profile, index: CatalogIndex
) -> MatchOutput:
    ref = step.run
    if profile.rules.sku_case_insensitive:
        index = _folded(index)  # the feed's SKUs were folded the same way when parsed
    spec = ReconcileSpec(
        match_by=profile.match_by,
        fields=tuple(profile.fields),
        mode=run.mode,
        unknown=("stock",) if _stock_elsewhere(profile, store) else (),
    )
    counts = Counts()
    changed: list[tuple[Any, ...]] = []
    raw = deps.blobs.open_read(step.parse.rows_key)
    with _csv_to_s3(deps, keys.match_log_key(ref.tenant_id, ref.run_id)) as log:
        writer = csv.writer(log, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        try:
            for outcome in reconcile(read_rows(text_lines(raw)), index, spec, counts):
                writer.writerow(outcome_log_row(outcome))
                if outcome[2] == "changed":
                    changed.append(outcome)
        finally:
            raw.close()

    caps = capabilities_for(store.platform, store.options.model_dump())
    refs = {v[VARIANT_ID]: v[REF] for v in index.variants if v[REF]} if changed else {}
    plan = build_plan(changed, caps, batches_per_shard=deps.shard_batches, refs=refs)
    manifest: list[dict[str, Any]] = []
    for i, shard in enumerate(plan):
        key = keys.shard_key(ref.tenant_id, ref.run_id, i)
        deps.blobs.put_bytes(key, json.dumps({"batches": shard}).encode(), "application/json")
        manifest.append({"index": i, "key": key, "items": _shard_results(shard)})
    progress_total = sum(m["items"] for m in manifest)
    mkey = keys.manifest_key(ref.tenant_id, ref.run_id)
    deps.blobs.put_bytes(mkey, json.dumps(manifest).encode(), "application/json")

    totals = counts.as_dict()
    totals["row_errors"] += step.parse.row_errors
    totals["rows"] = step.parse.rows
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status="updating",
        counts=totals,
        progress={"done": 0, "total": progress_total, "shards": {}},
    )
    return MatchOutput(
        manifest_bucket=deps.blobs.bucket,
        manifest_key=mkey,
        shards=len(manifest),
        items=len(changed),
        concurrency=max(1, min(caps.concurrency, len(manifest))),
    )


# ---------------------------------------------------------------------------- update
def update(deps: Deps, step: UpdateInput) -> UpdateOutput:
    """Apply one shard. Values are absolute, so a retried shard is safe to re-send."""
    try:
        return _apply_shard(deps, step)
    except FeedsyncError as exc:
        # A shard runs in a child execution: its error does not reach the parent's Catch
        # intact, so leave the merchant-readable reason where finalize will find it.
        deps.repo.update_run(
            step.run.tenant_id,
            step.run.run_id,
            shard_error=f"updating the store failed: {exc.message}",
        )
        raise


def _shard_results(shard: list[dict[str, Any]]) -> int:
    """Result lines a shard writes: one per feed row of every item (conflicts included)."""
    return sum(
        len(result_rows(item)) + len(item.get("conflicts", ()))
        for batch in shard
        for item in batch["items"]
    )


def _apply_shard(deps: Deps, step: UpdateInput) -> UpdateOutput:
    ref = step.run
    store = _store(deps, ref)
    profile = _profile(deps, ref)
    credentials = deps.secrets.get(store.secret_ref)
    connector = deps.connectors(store, credentials)
    location = profile.location_id or store.options.location_id
    shard = json.loads(deps.blobs.get_bytes(step.shard.key))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_RESULT_HEADER)
    updated = failed = gone = applied = 0
    for number, batch in enumerate(shard["batches"]):
        op, items = batch["op"], batch["items"]
        batch_key = f"{ref.run_id}-{step.shard.index}-{number}"
        results = connector.apply(op, items, batch_key=batch_key, location=location)
        if len(results) != len(items):
            raise StoreRequestError(
                f"{store.platform} connector answered {len(results)} results for "
                f"{len(items)} items of {op}"
            )
        for item, result in zip(items, results, strict=True):
            ok, error, scope = result.ok, result.message, result.gone
            if scope is not None and item.get("product_level"):
                scope = "product"  # the item stands for its product
            for row in result_rows(item):
                writer.writerow((row, item["variant_id"], op, int(ok), error, scope or ""))
                applied += 1
                updated += ok
                gone += scope is not None
                failed += not ok and scope is None
            for row in item.get("conflicts", ()):
                why = f"row {item['row']} sets a different value for product {item['product_id']}"
                writer.writerow((row, item["variant_id"], op, 0, why, ""))
                applied += 1
                failed += 1
        # Results so far, after every batch: a shard that dies part-way still tells
        # finalize (and the merchant's log) exactly which items reached the store.
        deps.blobs.put_bytes(
            keys.result_key(ref.tenant_id, ref.run_id, step.shard.index),
            buf.getvalue().encode(),
            "text/csv",
        )
        deps.repo.set_shard_progress(ref.tenant_id, ref.run_id, step.shard.index, applied)
    return UpdateOutput(shard=step.shard.index, updated=updated, failed=failed, gone=gone)


# -------------------------------------------------------------------------- finalize
def _error_text(step: FinalizeInput) -> str:
    assert step.error is not None
    cause = step.error.cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"])
    if step.error.error.startswith("States."):
        return f"{step.error.error}: {cause}" if cause else step.error.error
    return cause or step.error.error


def _csv_rows(deps: Deps, key: str) -> Iterator[list[str]]:
    raw = deps.blobs.open_read(key)
    try:
        reader = csv.reader(text_lines(raw))
        next(reader, None)
        yield from reader
    finally:
        raw.close()


def finalize(deps: Deps, step: FinalizeInput) -> FinalizeOutput:
    """Close the run (succeeded or failed), write the log, release the lock. Idempotent."""
    ref = step.run
    run = _run(deps, ref)
    if step.error is not None:
        if run.status not in ACTIVE_STATUSES:  # already closed (a redelivered failure)
            return FinalizeOutput(
                run_id=run.run_id, status=run.status, counts=run.counts, error=run.error
            )
        if step.error.error == "SourceUnchanged":
            return _skip(deps, run, f"source unchanged: {_error_text(step)}")
        # A shard's own reason beats the Map's generic States.* error.
        reason = run.shard_error or _error_text(step)
        if deps.blobs.head(keys.manifest_key(ref.tenant_id, ref.run_id)) is not None:
            # Some batches may have reached the store: log them and keep the index true.
            outcome = _gather(deps, ref)
            run = run.model_copy(update={"counts": _record(deps, ref, run, outcome)})
        return _fail(deps, run, reason)

    outcome = _gather(deps, ref)
    if outcome.unfinished:
        # The Map can report success past a failed child; the Catch path marks the run.
        total = len(outcome.manifest)
        why = f"{len(outcome.unfinished)} of {total} update shards did not complete"
        raise ShardsIncomplete(run.shard_error or why)
    counts = _record(deps, ref, run, outcome)
    now = deps.clock()
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status="succeeded",
        shard_error=None,
        finished_at=now,
        progress={"done": run.progress.total, "total": run.progress.total, "shards": {}},
    )
    summary = RunSummary(run_id=ref.run_id, status="succeeded", finished_at=now, counts=counts)
    deps.repo.release_run_lock(ref.tenant_id, ref.profile_id, ref.run_id, summary, True)
    if run.source.get("type") == "url":
        deps.repo.update_profile(ref.tenant_id, ref.profile_id, last_source=run.source)
    if counts.get("updated", 0):
        _start_followers(deps, ref)
    return FinalizeOutput(run_id=ref.run_id, status="succeeded", counts=counts)


def _start_followers(deps: Deps, ref: RunRef) -> None:
    """Profiles scheduled to run after this one, now that it succeeded with changes."""
    for profile in deps.repo.list_profiles(ref.tenant_id):
        schedule = profile.schedule
        if not isinstance(schedule, AfterSchedule) or schedule.profile_id != ref.profile_id:
            continue
        cmd = StartCommand(
            tenant_id=ref.tenant_id,
            profile_id=profile.profile_id,
            trigger="chain",
            idempotency_key=f"after:{ref.run_id}",  # a retried finalize starts it once
        )
        try:
            start_run(deps, cmd)
        except Conflict:
            pass  # busy or disabled: the chain waits for next time
        except Exception:  # a follower's trouble must not fail the run that finished
            log.exception("could not start %s after %s", profile.profile_id, ref.run_id)


class _RowResult(NamedTuple):
    """A feed row's outcome over every operation that carried it."""

    ok: bool
    errors: str  # the platform's words, " | " between operations
    gone: bool = False  # an operation found its variant or product gone from the store


@dataclass
class _Applied:
    manifest: list[dict[str, Any]]
    results: dict[int, _RowResult]  # row -> its outcome, every operation merged
    applied: dict[int, dict[str, Any]]  # variant id -> changes that reached the store
    applied_products: dict[int, dict[str, Any]]  # product id -> product-level changes
    unfinished: list[int]  # shard indexes without a result for every item
    gone_variants: set[int] = field(default_factory=set)  # no longer in the store
    gone_products: set[int] = field(default_factory=set)  # ... with all their variants


def _gather(deps: Deps, ref: RunRef) -> _Applied:
    manifest = json.loads(deps.blobs.get_bytes(keys.manifest_key(ref.tenant_id, ref.run_id)))
    out = _Applied(manifest, {}, {}, {}, [])
    reached: set[tuple[int, str]] = set()  # (row, op) that the store accepted
    reported: set[tuple[int, str]] = set()  # (row, op) with a result line
    missing: dict[tuple[int, str], str] = {}  # (row, op) -> what the store no longer has
    planned: dict[tuple[int, str], None] = {}  # every (row, op) the plan holds
    shards = []
    for shard in manifest:
        key = keys.result_key(ref.tenant_id, ref.run_id, shard["index"])
        rows = list(_csv_rows(deps, key)) if deps.blobs.head(key) is not None else []
        if len(rows) < shard["items"]:
            out.unfinished.append(shard["index"])
        for row_text, _variant, op_name, ok_text, error, *more in rows:
            row, ok, scope = int(row_text), ok_text == "1", more[0] if more else ""
            reported.add((row, op_name))
            if ok:
                reached.add((row, op_name))
            if scope:
                missing[(row, op_name)] = scope
            was = out.results.get(row, _RowResult(True, ""))
            errors = was.errors
            if not ok:
                errors = f"{errors} | {error}" if errors else error
            out.results[row] = _RowResult(was.ok and ok, errors, was.gone or bool(scope))
        shards.append(json.loads(deps.blobs.get_bytes(shard["key"]))["batches"])
    for batches in shards:
        for batch in batches:
            op_name = batch["op"]
            for item in batch["items"]:
                for row in (*result_rows(item), *item.get("conflicts", ())):
                    planned[(row, op_name)] = None
                lost = missing.get((item["row"], op_name))
                if lost == "product":
                    out.gone_products.add(item["product_id"])
                elif lost:
                    out.gone_variants.add(item["variant_id"])
                if (item["row"], op_name) not in reached:
                    continue
                level = item.get("product_level", False)
                target = out.applied_products if level else out.applied
                item_id = item["product_id"] if level else item["variant_id"]
                target.setdefault(item_id, {}).update(item["changes"])
    # A row split over several operations is updated only if every one of them reached
    # the store; one that never ran (its shard died) makes the row partly applied.
    for row, op_name in planned:
        if (row, op_name) in reported or row not in out.results:
            continue
        was = out.results[row]
        unsent = f"partly applied: {op_name} was not sent (the run stopped)"
        errors = f"{was.errors} | {unsent}" if was.errors else unsent
        out.results[row] = _RowResult(False, errors, was.gone)
    return out


def _stock_elsewhere(profile: Profile, store: Store) -> bool:
    """Does the profile write stock at another location than the one the index reads?
    Then the index does not know the stock there: it is written, never compared."""
    mine, indexed = profile.location_id, store.options.location_id
    if mine is None or indexed is None:
        return mine is not None
    same = platform(store.platform).location_key
    return same(mine) != same(indexed)


def _record(deps: Deps, ref: RunRef, run: Run, outcome: _Applied) -> dict[str, int]:
    """Write the per-row log and patch the index with what reached the store; the counts."""
    log_key = keys.log_key(ref.tenant_id, ref.run_id)
    _write_log(deps, ref, outcome.results, log_key)
    applied = outcome.applied
    store = _store(deps, ref)
    if _stock_elsewhere(_profile(deps, ref), store):
        # Stock written at another location is not the stock the index holds.
        applied = {
            vid: {f: c for f, c in ch.items() if f != "stock"} for vid, ch in applied.items()
        }
    gone_variants, gone_products = outcome.gone_variants, outcome.gone_products
    if applied or outcome.applied_products or gone_variants or gone_products:
        index = apply_to_catalog(
            deps,
            store,
            applied,
            outcome.applied_products,
            gone_variants=gone_variants,
            gone_products=gone_products,
        )
        if gone_variants or gone_products:
            deps.repo.update_store(ref.tenant_id, ref.store_id, variant_count=len(index))
    results = outcome.results.values()
    updated = sum(1 for result in results if result.ok)
    gone = sum(1 for result in results if result.gone)
    counts = {
        **run.counts,
        "updated": updated,
        "failed": len(outcome.results) - updated - gone,
        "gone": gone,
    }
    deps.repo.update_run(ref.tenant_id, ref.run_id, counts=counts, log_key=log_key)
    return counts


def _skip(deps: Deps, run: Run, reason: str) -> FinalizeOutput:
    now = deps.clock()
    deps.repo.update_run(
        run.tenant_id, run.run_id, status="skipped", reason=reason, finished_at=now
    )
    summary = RunSummary(run_id=run.run_id, status="skipped", finished_at=now)
    deps.repo.release_run_lock(run.tenant_id, run.profile_id, run.run_id, summary, synced=False)
    return FinalizeOutput(run_id=run.run_id, status="skipped", counts=run.counts)


def _fail(deps: Deps, run: Run, reason: str) -> FinalizeOutput:
    abandon_run(deps, run, reason)
    return FinalizeOutput(run_id=run.run_id, status="failed", counts=run.counts, error=reason)


def _write_log(deps: Deps, ref: RunRef, results: dict[int, _RowResult], log_key: str) -> None:
    """Row errors and match outcomes, merged in file order; planned rows get their result."""

    def with_results() -> Iterator[list[str]]:
        for rec in _csv_rows(deps, keys.match_log_key(ref.tenant_id, ref.run_id)):
            if rec[4] == "changed":
                # the store's answer, then what the match noted (a product conflict)
                rec[4], rec[6] = applied_status(results.get(int(rec[0])), rec[6])
            yield rec

    errors = _csv_rows(deps, keys.row_errors_key(ref.tenant_id, ref.run_id))
    merged = heapq.merge(errors, with_results(), key=lambda rec: int(rec[0]))
    with _csv_to_s3(deps, log_key) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        writer.writerows(merged)


def apply_to_catalog(
    deps: Deps,
    store: Store,
    applied: dict[int, dict[str, Any]],
    applied_products: dict[int, dict[str, Any]] | None = None,
    *,
    gone_variants: Collection[int] = (),
    gone_products: Collection[int] = (),
) -> CatalogIndex:
    """Keep the stored index in step with what we wrote, so the next partial run compares
    true, and forget what the store no longer has (``gone_variants``, and every variant of
    ``gone_products``: a modified-since refresh never lists them, so the next run finds
    them "not_found"); a concurrent writer's changes are kept (``rewrite_catalog``)."""
    products = applied_products or {}
    dropped_variants, dropped_products = set(gone_variants), set(gone_products)

    def change(index: CatalogIndex) -> CatalogIndex:
        if applied or products:
            index = CatalogIndex.from_variants(_patched(index.variants, applied, products))
        return index.without(dropped_variants, dropped_products)

    return rewrite_catalog(deps, store, change)


def _patched(
    variants: Iterable[Variant],
    applied: dict[int, dict[str, Any]],
    applied_products: dict[int, dict[str, Any]],
) -> Iterator[Variant]:
    """The variants with what reached the store: the next partial run compares true."""
    for variant in variants:
        changes = applied.get(variant[VARIANT_ID])
        product_changes = applied_products.get(variant[PRODUCT_ID])
        if changes or product_changes:
            values = list(variant)
            for name, (_old, new) in {**(product_changes or {}), **(changes or {})}.items():
                values[VARIANT_POS[name]] = index_value(name, new)
            variant = tuple(values)  # type: ignore[assignment]
        yield variant
