"""The cost model's seeded import (``bench/cost_seeding.py``): the 1,000,000-row scenario's
store is set up with the double's items read in process instead of over HTTP. Its figures are
only honest if that index is the one the HTTP import saves; here both run on one double."""

from __future__ import annotations

import pytest
from integration_harness import Harness

from bench.bench_review import TWINS
from bench.cost_seeding import RecordingStack, full_read, seeded_reads

ITEMS = 240  # WooCommerce: 120 simple products and 2 variable ones of 50 variations


def _saved_index(h: Harness, catalog_key: str | None) -> bytes:
    assert catalog_key is not None
    raw = h.deps.blobs.open_read(catalog_key)
    try:
        return raw.read()
    finally:
        raw.close()


@pytest.mark.parametrize("platform", ["bigcommerce", "woocommerce"])
def test_a_seeded_import_saves_the_index_the_http_import_saves(h: Harness, platform: str) -> None:
    # Given one store on the platform's double, as the cost model seeds it
    with RecordingStack() as doubles:
        (twin,) = TWINS[platform](h.env, doubles, ITEMS, copies=1)
        read = full_read(platform, h.env, doubles, twin.api_url)
        assert read is not None
        # When one tenant imports it over HTTP, and another with the full read seeded
        imported_by = h.tenant()
        imported = h.platform_store(imported_by, platform, twin.api_url, twin.credentials)
        seeded_by = h.tenant()
        with seeded_reads(seeded_by, read):
            seeded = h.platform_store(seeded_by, platform, twin.api_url, twin.credentials)
        reads_after = twin.requests()[1]
        # Then both stores are ready with every item, and their saved indexes are the same
        # bytes: the seeded one is what the product's import saves
        assert seeded.variant_count == imported.variant_count == ITEMS
        assert (seeded.options, seeded.status) == (imported.options, imported.status)
        seeded_index = _saved_index(h, seeded.catalog_key)
        assert seeded_index == _saved_index(h, imported.catalog_key)
        assert seeded_index.count(b"\n") > ITEMS
        # And outside the seeded setup the tenant's store is read over HTTP again
        assert list(h.deps.connectors(seeded, twin.credentials).iter_variants())
        assert twin.requests()[1] > reads_after
