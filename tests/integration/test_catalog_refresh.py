"""Catalog imports (full, incremental, by date) and the refresh every run does first."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.core.catalog_import import import_catalog
from feedsync.core.catalog_store import load_catalog
from feedsync.errors import Conflict, NotFound
from feedsync.models import CatalogImportInput, ImportCatalogBody

STORE = [
    simple_product("Mug A", "MUG-A", "8.00", 10),
    simple_product("Mug B", "MUG-B", "9.00", 4),
]


def _sandbox_put(h: Harness, shop_hash: str, token: str, body: list[dict[str, object]]) -> None:
    """Another app edits the store behind feedsync's back."""
    answer = requests.put(
        f"{h.sandbox.api_url(shop_hash)}/catalog/variants",
        json=body,
        headers={"X-Auth-Token": token},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_a_stock_reset_by_another_app_is_seen_by_the_next_partial_run(h: Harness) -> None:
    # Given a store imported with MUG-A at 10 in stock, and a feed that says 10
    shop = h.shop(STORE)
    profile = h.url_profile(shop, "SKU,Price,Qty\nMUG-A,8.00,10\nMUG-B,9.00,4\n")
    first = h.run_to_end(shop.tenant, profile.profile_id)
    assert first.status == "succeeded" and first.counts["changed"] == 0, first.counts
    # When another app resets MUG-A's stock to 0 in the store
    variant = shop.seeded_variant("MUG-A")
    _sandbox_put(h, shop.store_hash, shop.token, [{"id": variant["id"], "inventory_level": 0}])
    # And the same feed runs again in partial mode
    second = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the run re-read the changed product first and put the stock back to 10
    assert second.status == "succeeded", second.error
    assert second.counts["changed"] == 1 and second.counts["updated"] == 1, second.counts
    assert h.store_values(shop)["MUG-A"] == (800, 10)


def test_import_modes_full_incremental_and_by_date(h: Harness) -> None:
    # Given an imported store
    shop = h.shop(STORE)
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None and store.import_mode == "full" and store.imported_at
    # When MUG-B's price changes in the store and an incremental import runs
    variant = shop.seeded_variant("MUG-B")
    _sandbox_put(h, shop.store_hash, shop.token, [{"id": variant["id"], "price": 7.5}])
    cmd = CatalogImportInput(tenant_id=shop.tenant, store_id=store.store_id, mode="incremental")
    result = import_catalog(h.deps, cmd)
    # Then the index has the new price and the store says how it was imported
    assert result.status == "ready", result.detail
    after = h.deps.repo.get_store(shop.tenant, store.store_id)
    assert after is not None and after.import_mode == "incremental"
    assert after.imported_at is not None and after.imported_at >= store.imported_at
    index = load_catalog(h.deps, after)
    assert index.by_sku["MUG-B"][4] == 750 and len(index) == 2
    # When a by_date import covers a range in the future, nothing is read
    later = h.deps.clock() + timedelta(days=1)
    cmd = CatalogImportInput(
        tenant_id=shop.tenant, store_id=store.store_id, mode="by_date", since=later
    )
    assert import_catalog(h.deps, cmd).detail.startswith("by_date: 0 variants read")
    # When a full import is asked for through the API, it runs in the background
    api.import_store_catalog(h.deps, shop.tenant, store.store_id, ImportCatalogBody(mode="full"))
    deadline = time.monotonic() + 30
    while True:
        got = h.deps.repo.get_store(shop.tenant, store.store_id)
        if got is not None and got.import_mode == "full":
            break
        assert time.monotonic() < deadline, "the full import did not run"
        time.sleep(0.02)
    assert got.status == "ready" and got.variant_count == 2


def test_a_store_is_deleted_with_its_token_and_index_once_no_profile_uses_it(h: Harness) -> None:
    # Given a store with a profile
    shop = h.shop(STORE)
    profile = h.url_profile(shop, "SKU,Price,Qty\nMUG-A,8.00,10\n")
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None and store.catalog_key
    # When it is deleted while the profile uses it, Then that is refused, naming the profile
    with pytest.raises(Conflict) as refused:
        api.delete_store(h.deps, shop.tenant, store.store_id)
    assert refused.value.reason == "store_in_use" and profile.profile_id in str(refused.value)
    # When the profile goes first, Then the store, its token and its index go too
    api.delete_profile(h.deps, shop.tenant, profile.profile_id)
    api.delete_store(h.deps, shop.tenant, store.store_id)
    assert h.deps.repo.get_store(shop.tenant, store.store_id) is None
    assert h.deps.blobs.head(store.catalog_key) is None
    with pytest.raises(NotFound):
        h.deps.secrets.get(store.secret_ref)
    with pytest.raises(NotFound):
        api.delete_store(h.deps, shop.tenant, store.store_id)
