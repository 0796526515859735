"""Import a store's catalog into the index the match step reads."""

from __future__ import annotations

from feedsync.core.deps import Deps
from feedsync.core.pipeline import save_catalog
from feedsync.domain.catalog import CatalogIndex
from feedsync.errors import FeedsyncError, NotFound
from feedsync.models import CatalogImportInput, StatusOnly


def import_catalog(deps: Deps, cmd: CatalogImportInput) -> StatusOnly:
    store = deps.repo.get_store(cmd.tenant_id, cmd.store_id)
    if store is None:
        raise NotFound(f"store {cmd.store_id} not found")
    try:
        connector = deps.connectors(store, deps.secrets.get(store.secret_ref))
        index = CatalogIndex.from_variants(connector.iter_variants())
        key = save_catalog(deps, store, index)
    except Exception as exc:  # a store must never stay "setting_up" for ever
        reason = str(exc) if isinstance(exc, FeedsyncError) else f"catalog import failed ({exc})"
        deps.repo.update_store(cmd.tenant_id, cmd.store_id, status="import_failed", error=reason)
        return StatusOnly(status="import_failed", detail=reason)
    deps.repo.update_store(
        cmd.tenant_id,
        cmd.store_id,
        status="ready",
        catalog_key=key,
        variant_count=len(index),
        imported_at=deps.clock(),
        error=None,
    )
    return StatusOnly(status="ready", detail=f"{len(index)} variants")
