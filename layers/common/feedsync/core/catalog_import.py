"""Import a store's catalog into the index the match step reads.

``full`` reads every product; ``incremental`` the products modified since the last
import began (less a margin for clock skew between us and the platform); ``by_date``
those modified in a range. The first import of a store is always full. Partial
imports replace the listed products' variants in the stored index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from feedsync.core import keys
from feedsync.core.catalog_store import (
    catalog_header,
    load_catalog,
    rewrite_catalog,
    save_catalog,
)
from feedsync.core.deps import Deps
from feedsync.core.ports import StoreConnector
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import Variant
from feedsync.errors import FeedsyncError, NotFound
from feedsync.models import CatalogImportInput, ImportProgress, StatusOnly, Store

log = logging.getLogger(__name__)
# Platforms stamp modification times with their own clocks; read a little further back.
CLOCK_SKEW_MARGIN = timedelta(minutes=5)
# How often a running import writes its count to the store (one write, not one per item).
PROGRESS_EVERY = timedelta(seconds=2)


def request_import(deps: Deps, cmd: CatalogImportInput) -> None:
    """Mark the store as importing, then start the import in the background: a page that
    reads the store at once sees the import it asked for, before the function runs."""
    progress = ImportProgress(mode=cmd.mode, started_at=deps.clock())
    deps.repo.update_store(cmd.tenant_id, cmd.store_id, importing=progress.model_dump(mode="json"))
    deps.invoker.invoke_async(deps.catalog_import_function, cmd.model_dump(mode="json"))


def _counted(
    deps: Deps, store: Store, mode: str, started: datetime, variants: Iterable[Variant]
) -> Iterator[Variant]:
    """The variants as they come, with the count written to the store now and then."""
    progress = ImportProgress(mode=mode, started_at=started)
    last = started
    for read, variant in enumerate(variants, 1):
        yield variant
        now = deps.clock()
        if now - last >= PROGRESS_EVERY:
            last, progress.read = now, read
            importing = progress.model_dump(mode="json")
            deps.repo.update_store(store.tenant_id, store.store_id, importing=importing)


def import_catalog(deps: Deps, cmd: CatalogImportInput) -> StatusOnly:
    store = deps.repo.get_store(cmd.tenant_id, cmd.store_id)
    if store is None:
        raise NotFound(f"store {cmd.store_id} not found")
    started = deps.clock()
    mode = cmd.mode if store.catalog_key and store.imported_at else "full"
    progress = ImportProgress(mode=mode, started_at=started).model_dump(mode="json")
    deps.repo.update_store(cmd.tenant_id, cmd.store_id, importing=progress)
    try:
        connector = deps.connectors(store, deps.secrets.get(store.secret_ref))
        if mode == "full":
            index = CatalogIndex.from_store(
                _counted(deps, store, mode, started, connector.iter_variants())
            )
            key = save_catalog(deps, store, index)
            count, changed = len(index), len(index)
        else:
            since, until = cmd.since, cmd.until
            if mode == "incremental":
                assert store.imported_at is not None
                since, until = store.imported_at - CLOCK_SKEW_MARGIN, None
            changed, count = refresh_catalog(
                deps,
                store,
                connector,
                since,
                until,
                counted=lambda variants: _counted(deps, store, mode, started, variants),
            )
            key = store.catalog_key or keys.catalog_key(store.tenant_id, store.store_id)
    except Exception as exc:  # a store must never stay "setting_up" for ever
        reason = str(exc) if isinstance(exc, FeedsyncError) else f"catalog import failed ({exc})"
        code = exc.code if isinstance(exc, FeedsyncError) else "catalog_import_failed"
        # A store that has an index keeps working with it; only a first import fails it, or
        # the check of new credentials or options (PATCH /stores: "setting_up" until known).
        kept = store.catalog_key and store.status != "setting_up"
        status = store.status if kept else "import_failed"
        deps.repo.update_store(
            cmd.tenant_id,
            cmd.store_id,
            status=status,
            error=reason,
            error_code=code,
            importing=None,
        )
        return StatusOnly(status="import_failed", detail=reason)
    fields: dict[str, object] = {
        "status": "ready",
        "catalog_key": key,
        "variant_count": count,
        "import_mode": mode,
        "error": None,
        "error_code": None,
        "importing": None,
    }
    if mode != "by_date":  # a range import does not say the rest is fresh
        fields["imported_at"] = started
    found = connector.default_location
    if found and store.options.location_id is None:
        # The index's stock was read there: remember it, so every later read and write
        # uses the same location (and no update shard has to look it up again).
        fields["options"] = store.options.model_copy(update={"location_id": found}).model_dump()
    deps.repo.update_store(cmd.tenant_id, cmd.store_id, **fields)
    return StatusOnly(status="ready", detail=f"{mode}: {changed} variants read, {count} in index")


def refresh_catalog(
    deps: Deps,
    store: Store,
    connector: StoreConnector,
    since: datetime | None,
    until: datetime | None = None,
    counted: Callable[[Iterable[Variant]], Iterator[Variant]] | None = None,
) -> tuple[int, int]:
    """Merge the products modified in the range into the stored index.

    Returns (variants read, variants in the index). ``counted`` watches the read (an
    import shows its count on the store; a run's refresh does not).
    """
    read = connector.iter_variants(modified_since=since, modified_until=until)
    fresh = list(counted(read) if counted else read)
    if not fresh:
        return 0, store.variant_count  # nothing changed: the stored index stands as is
    merged = rewrite_catalog(deps, store, lambda index: index.merged(fresh))
    return len(fresh), len(merged)


def refresh_before_match(
    deps: Deps, store: Store, needs_content: bool = False, needs_visibility: bool = False
) -> CatalogIndex:
    """The index as the store is now: products changed in the store since the last
    import (e.g. stock reset by another app) are re-read, so partial sync sees them.

    ``needs_content``: the run compares content fields. An index saved before the
    index kept them does not know which items have an image or a description, so the
    whole catalog is read again first (once: the new index keeps them).
    ``needs_visibility``: the run may hide products (``missing: disable``); likewise for an
    index saved before it kept the products' visibility (else it would hide none).
    """
    if store.imported_at is None or not store.catalog_key:
        return load_catalog(deps, store)
    started = deps.clock()
    connector = deps.connectors(store, deps.secrets.get(store.secret_ref))
    header = catalog_header(deps, store) if needs_content or needs_visibility else ""
    lacking = [
        what
        for what, needed, known in (
            ("content", needs_content, CatalogIndex.snapshot_has_content),
            ("products' visibility", needs_visibility, CatalogIndex.snapshot_knows_visibility),
        )
        if needed and not known(header)
    ]
    if lacking:
        index = CatalogIndex.from_store(connector.iter_variants())
        save_catalog(deps, store, index)
        log.info(
            "re-read the whole catalog of store %s for its %s",
            store.store_id,
            " and ".join(lacking),
        )
        deps.repo.update_store(
            store.tenant_id,
            store.store_id,
            imported_at=started,
            variant_count=len(index),
            import_mode="full",
        )
        return index
    since = store.imported_at - CLOCK_SKEW_MARGIN
    fresh = list(connector.iter_variants(modified_since=since))
    if not fresh:
        index = load_catalog(deps, store)
    else:
        index = rewrite_catalog(deps, store, lambda current: current.merged(fresh))
        log.info("refreshed %d variants of store %s before matching", len(fresh), store.store_id)
    deps.repo.update_store(
        store.tenant_id, store.store_id, imported_at=started, variant_count=len(index)
    )
    return index
