"""The per-store catalog index in S3: load, save, and rewrite under concurrency.

Several profiles (and catalog imports) may write one store's index; a rewrite is
conditional on the version read and starts over from the newer one on a conflict.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, cast

from feedsync.core import keys
from feedsync.core.deps import Deps
from feedsync.domain.catalog import CatalogIndex
from feedsync.errors import NotFound, TransientError
from feedsync.models import Store

_INDEX_WRITE_ATTEMPTS = 5


def text_lines(raw: IO[bytes]) -> Iterator[str]:
    """Stream bytes as text: UTF-8, BOM dropped, newlines kept for csv."""
    return io.TextIOWrapper(cast(io.BufferedReader, raw), encoding="utf-8-sig", newline="")


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
    if not store.catalog_key:
        return False
    raw = deps.blobs.open_read(store.catalog_key)
    try:
        first = next(iter(text_lines(raw)), "")
    finally:
        raw.close()
    return CatalogIndex.snapshot_has_content(first)


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
