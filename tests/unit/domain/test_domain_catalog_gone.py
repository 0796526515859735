"""CatalogIndex.without: the index forgets variants and products the store no longer has."""

from __future__ import annotations

from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import NO_CONTENT, Variant


def _variant(pid: int, vid: int, sku: str, barcode: str | None = None) -> Variant:
    return (pid, vid, sku, barcode, 1000, None, None, None, 3, "x", None, None, *NO_CONTENT, True)


TEE_S, TEE_M = _variant(1, 11, "TEE-S", "0011"), _variant(1, 12, "TEE-M")
MUG, CAP = _variant(2, 21, "MUG"), _variant(3, 31, "CAP", "0031")


def test_a_gone_variant_and_every_variant_of_a_gone_product_are_dropped() -> None:
    # Given an index of a two-variant tee, a mug and a cap
    index = CatalogIndex.from_variants([TEE_S, TEE_M, MUG, CAP])
    # When the tee's size S and the whole cap are gone from the store
    smaller = index.without({11}, {3})
    # Then the index holds the tee's size M and the mug only, and no key finds the others
    assert smaller.variants == [TEE_M, MUG]
    assert set(smaller.by_sku) == {"TEE-M", "MUG"} and smaller.by_barcode == {}
    # And the index it came from is unchanged (pure)
    assert index.variants == [TEE_S, TEE_M, MUG, CAP] and "CAP" in index.by_sku


def test_a_whole_product_goes_with_all_its_variants() -> None:
    index = CatalogIndex.from_variants([TEE_S, TEE_M, MUG])
    assert index.without(product_ids={1}).variants == [MUG]


def test_nothing_gone_is_the_same_index_and_what_it_knows_is_kept() -> None:
    # Given an index read from a snapshot without content fields
    index = CatalogIndex([TEE_S, MUG], has_content=False)
    # When nothing (or an id it does not hold) is gone
    # Then it is the same index, and a smaller one still says it lacks content
    assert index.without() is index and index.without(set(), set()) is index
    assert index.without({999}).variants == [TEE_S, MUG]
    assert index.without({11}).has_content is False
