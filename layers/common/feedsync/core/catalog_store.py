"""The per-store catalog index in S3: load, save, rewrite under concurrency, and patch
with what a run wrote.

Several profiles (and catalog imports) may write one store's index; a rewrite is
conditional on the version read and starts over from the newer one on a conflict.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from feedsync.core import keys
from feedsync.core.blobcsv import text_lines
from feedsync.core.deps import Deps
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.content import index_value
from feedsync.domain.fields import PRODUCT_ID, VARIANT_ID, VARIANT_POS, Variant
from feedsync.errors import NotFound, TransientError
from feedsync.models import Store

_INDEX_WRITE_ATTEMPTS = 5


def load_catalog(deps: Deps, store: Store) -> CatalogIndex:
    if not store.catalog_key:
        raise NotFound(f"store {store.store_id} has no catalog index yet")
    raw = deps.blobs.open_read(store.catalog_key)
    try:
        return CatalogIndex.load(text_lines(raw))
    finally:
        raw.close()


def catalog_has_content(deps: Deps, store: Store) -> bool:
    """Whether the stored index holds the content fields (reads its first line only)."""
    return CatalogIndex.snapshot_has_content(catalog_header(deps, store))


def catalog_header(deps: Deps, store: Store) -> str:
    """The stored index's first line: which fields it knows ("" without an index)."""
    if not store.catalog_key:
        return ""
    raw = deps.blobs.open_read(store.catalog_key)
    try:
        return next(iter(text_lines(raw)), "")
    finally:
        raw.close()


def save_catalog(deps: Deps, store: Store, index: CatalogIndex) -> str:
    key = keys.catalog_key(store.tenant_id, store.store_id)
    fd, path = tempfile.mkstemp(dir=deps.work_dir, suffix=".csv")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            index.dump(out)
        deps.blobs.upload_file(path, key, "text/csv")
    finally:
        os.unlink(path)
    return key


def rewrite_catalog(
    deps: Deps, store: Store, change: Callable[[CatalogIndex], CatalogIndex]
) -> CatalogIndex:
    """Apply ``change`` to the stored index; a concurrent writer's changes are kept."""
    key = keys.catalog_key(store.tenant_id, store.store_id)
    for _attempt in range(_INDEX_WRITE_ATTEMPTS):
        raw, etag = deps.blobs.open_read_tagged(key)
        try:
            index = CatalogIndex.load(text_lines(raw))
        finally:
            raw.close()
        changed = change(index)
        fd, path = tempfile.mkstemp(dir=deps.work_dir, suffix=".csv")
        try:
            with open(fd, "w", encoding="utf-8", newline="") as out:
                changed.dump(out)
            if deps.blobs.upload_file_if_match(path, key, etag):
                return changed
        finally:
            os.unlink(path)
    raise TransientError(f"the catalog index of store {store.store_id} kept changing; retrying")


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
            index = index.like(list(_patched(index.variants, applied, products)))
        return index.without(dropped_variants, dropped_products)

    return rewrite_catalog(deps, store, change)


def _patched(
    variants: Iterable[Variant],
    applied: dict[int, dict[str, Any]],
    applied_products: dict[int, dict[str, Any]],
) -> Iterator[Variant]:
    """The variants with what reached the store (a product's changes under its variants')."""
    for variant in variants:
        changes = applied.get(variant[VARIANT_ID])
        product_changes = applied_products.get(variant[PRODUCT_ID])
        if changes or product_changes:
            values = list(variant)
            for name, (_old, new) in {**(product_changes or {}), **(changes or {})}.items():
                pos = VARIANT_POS.get(name)
                if pos is not None:  # (a field the index holds, visible included)
                    values[pos] = index_value(name, new)
            variant = tuple(values)  # type: ignore[assignment]
        yield variant
