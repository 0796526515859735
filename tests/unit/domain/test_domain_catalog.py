"""CatalogIndex: lookups, ambiguous keys, and the CSV snapshot round trip."""

from __future__ import annotations

import io

import pytest

from feedsync.domain.catalog import SNAPSHOT_HEADER, CatalogIndex
from feedsync.domain.fields import MODIFIED, NO_CONTENT, REF, VARIANT_POS, Variant

SHIRT = ("d1b2c3", "Acme", "0.25", "https://cdn.example/a1.jpg")
VARIANTS: list[Variant] = [
    (1, 11, "A1", "0001", 1299, None, 1500, 700, 4, "Shirt, red", "2026-11-01T10:00:00Z", None,
     *SHIRT, True),
    (1, 12, "A2", "0002", 1299, 999, None, None, 0, 'Shirt "blue"\nsecond line', None, None,
     "d1b2c3", "Acme", None, None, True),
    (2, 21, "B1", None, 50, None, None, None, None, None, None, "gid-item-21", *NO_CONTENT,
     False),
    (3, 31, None, "0003", None, None, None, None, 7, "  padded name  ", None, None, *NO_CONTENT,
     None),
    (4, 41, "DUP", "0004", 100, None, None, None, 1, "x", None, None, *NO_CONTENT, True),
    (5, 51, "DUP", "0004", 200, None, None, None, 1, "y", None, None, *NO_CONTENT, True),
    (6, 61, "BIG", None, 10**15, None, None, None, 10**6, "é ü 中", None, None, *NO_CONTENT,
     True),
]  # fmt: skip


def test_lookups_by_sku_and_barcode() -> None:
    # Given a catalog
    index = CatalogIndex.from_variants(VARIANTS)
    # When looking up by either key
    # Then the variant tuple comes back; variants without a key are not indexed by it
    assert index.by_sku["A2"] == VARIANTS[1]
    assert index.by_barcode["0003"] == VARIANTS[3]
    assert "B1" in index.by_sku and len(index) == len(VARIANTS)


def test_keys_on_several_variants_are_set_aside() -> None:
    # Given two variants sharing a SKU and a barcode
    index = CatalogIndex.from_variants(VARIANTS)
    # When the index is built
    # Then those keys are ambiguous and absent from the lookups
    assert index.ambiguous_skus == {"DUP"}
    assert index.ambiguous_barcodes == {"0004"}
    assert "DUP" not in index.by_sku
    assert "0004" not in index.by_barcode


def test_same_variant_listed_twice_is_not_ambiguous() -> None:
    # Given a store listing that repeated one variant (e.g. a pagination overlap)
    index = CatalogIndex.from_variants([VARIANTS[0], VARIANTS[0]])
    # When indexed, Then its keys stay usable
    assert index.ambiguous_skus == set()
    assert index.by_sku["A1"] == VARIANTS[0]


def test_store_keys_are_matched_after_stripping() -> None:
    # Given a store SKU saved with stray spaces
    index = CatalogIndex.from_variants(
        [(1, 2, " A1 ", None, None, None, None, None, None, None, None, None)]
    )
    # When indexed, Then the stripped key finds it (feed cells are stripped too)
    assert "A1" in index.by_sku


def test_dump_load_round_trip_is_exact() -> None:
    # Given an index with awkward names, big numbers and Nones
    index = CatalogIndex.from_variants(VARIANTS)
    buf = io.StringIO(newline="")
    # When dumped and loaded back
    index.dump(buf)
    loaded = CatalogIndex.load(io.StringIO(buf.getvalue(), newline=""))
    # Then every variant, lookup and ambiguity set is identical
    assert loaded.variants == VARIANTS
    assert loaded.by_sku == index.by_sku
    assert loaded.by_barcode == index.by_barcode
    assert loaded.ambiguous_skus == index.ambiguous_skus
    assert buf.getvalue().splitlines()[0] == (
        "product_id,variant_id,sku,barcode_key,price,sale_price,retail_price,cost_price,stock,"
        "name,modified,ref,description,brand,weight,image_url,visible"
    )


def test_a_snapshot_from_before_modified_times_still_loads() -> None:
    # Given a snapshot written before the index kept modified times and refs
    header = "product_id,variant_id,sku,barcode,price,sale_price,retail_price,cost_price,stock,name"
    # When loaded, Then its variants read with None for both
    loaded = CatalogIndex.load(io.StringIO(f"{header}\n1,2,A,,100,,,,1,x\n"))
    assert loaded.variants == [
        (1, 2, "A", None, 100, None, None, None, 1, "x", None, None, *NO_CONTENT, None)
    ]


def test_a_snapshot_from_before_content_fields_still_loads() -> None:
    # Given a snapshot written before the index kept content fields
    header = (
        "product_id,variant_id,sku,barcode,price,sale_price,retail_price,cost_price,stock,name,"
        "modified,ref"
    )
    # When loaded, Then its variants read with no content
    loaded = CatalogIndex.load(io.StringIO(f"{header}\n1,2,A,,100,,,,1,x,2026-01-01,r\n"))
    assert loaded.variants == [
        (1, 2, "A", None, 100, None, None, None, 1, "x", "2026-01-01", "r", *NO_CONTENT, None)
    ]


def test_a_snapshot_from_before_visibility_was_read_loads_with_it_unknown() -> None:
    # Given a snapshot written before the index kept products' visibility (no column)
    header = ",".join(SNAPSHOT_HEADER[:-1])
    text = f"{header}\n1,2,A,0001,100,,,,1,x,2026-01-01,r,d1b2c3,Acme,0.25,https://i/a.jpg\n"
    # When loaded
    loaded = CatalogIndex.load(io.StringIO(text))
    # Then its products' visibility is unknown (missing: disable leaves them alone), the
    # rest reads as written
    assert loaded.variants == [
        (1, 2, "A", "0001", 100, None, None, None, 1, "x", "2026-01-01", "r",
         "d1b2c3", "Acme", "0.25", "https://i/a.jpg", None)
    ]  # fmt: skip
    assert loaded.has_content and CatalogIndex.snapshot_has_content(header)
    assert not loaded.has_visibility and not CatalogIndex.snapshot_knows_visibility(header)
    # And merged with a refresh and saved again, it still says so (the next run that hides
    # products reads the whole catalog first)
    refreshed = (1, 3, "B", None, 100, None, None, None, 1, "x", None, None, *SHIRT, True)
    merged = loaded.merged([refreshed])
    buf = io.StringIO(newline="")
    merged.dump(buf)
    lines = buf.getvalue().splitlines()
    assert lines[0] == header and lines[1].count(",") == len(header.split(",")) - 1
    assert not CatalogIndex.snapshot_knows_visibility(lines[0])
    assert not CatalogIndex.load(io.StringIO(buf.getvalue())).has_visibility
    # while an index read from the store knows it
    fresh = io.StringIO(newline="")
    CatalogIndex.from_store([refreshed]).dump(fresh)
    assert CatalogIndex.snapshot_knows_visibility(fresh.getvalue().splitlines()[0])


def test_load_reports_a_damaged_visibility() -> None:
    # Given a snapshot whose record spells visibility in no way dump writes it
    text = ",".join(SNAPSHOT_HEADER) + "\n1,2,A,,100,,,,1,x,,,,,,,yes\n"
    # When loaded, Then the error points at the record
    with pytest.raises(ValueError, match="record 2"):
        CatalogIndex.load(io.StringIO(text))


def test_merging_a_refresh_replaces_whole_products() -> None:
    # Given an index and a refresh of product 1 that lost variant 12 and gained 13
    index = CatalogIndex.from_variants(VARIANTS)
    fresh: list[Variant] = [
        (1, 11, "A1", "0001", 1000, None, None, None, 9, "Shirt", "2026-11-02", None),
        (1, 13, "A3", None, 1000, None, None, None, 1, "Shirt", "2026-11-02", None),
    ]
    # When merged
    merged = index.merged(fresh)
    # Then product 1 is exactly the refresh, other products are untouched
    assert [v[1] for v in merged.variants if v[0] == 1] == [11, 13]
    assert merged.by_sku["A1"][4] == 1000 and "A2" not in merged.by_sku
    assert len(merged) == len(VARIANTS) and index.merged([]) is index


def test_load_refuses_a_foreign_file() -> None:
    # Given a CSV that is not a snapshot, When loaded, Then it is refused
    with pytest.raises(ValueError, match="not a catalog snapshot"):
        CatalogIndex.load(io.StringIO("SKU,Price\nA,1\n"))


def test_load_reports_a_damaged_record() -> None:
    # Given a snapshot whose second record has a non-integer price
    header = "product_id,variant_id,sku,barcode,price,sale_price,retail_price,cost_price,stock,name"
    text = f"{header}\n1,2,A,,100,,,,1,x\n1,3,B,,1.5,,,,1,y\n"
    # When loaded, Then the error points at the record
    with pytest.raises(ValueError, match="record 3"):
        CatalogIndex.load(io.StringIO(text))


def test_an_index_from_before_content_fields_says_its_content_is_unknown() -> None:
    # Given a snapshot written before the index kept content fields
    header = ",".join(SNAPSHOT_HEADER[:12])
    old = CatalogIndex.load(io.StringIO(f"{header}\n1,2,A,,100,,,,1,x,,\n"))
    # When it is merged with a refresh and written again
    merged = old.merged([(1, 2, "A", None, 100, None, None, None, 1, "x", None, None, *SHIRT)])
    buf = io.StringIO(newline="")
    merged.dump(buf)
    # Then it still says its content is unknown (None there is "not read", not "none")
    assert old.has_content is False and merged.has_content is False
    assert CatalogIndex.snapshot_has_content(buf.getvalue().splitlines()[0]) is False
    assert CatalogIndex.load(io.StringIO(buf.getvalue())).has_content is False
    # And an index read from the store knows it
    fresh = CatalogIndex.from_variants(VARIANTS)
    out = io.StringIO(newline="")
    fresh.dump(out)
    assert fresh.has_content and CatalogIndex.snapshot_has_content(out.getvalue().splitlines()[0])


def test_snapshot_columns_line_up_with_the_variant_tuple() -> None:
    # Given the snapshot header and the variant layout, Then each field's column is its
    # position in the tuple (the loader reads columns positionally)
    assert len(SNAPSHOT_HEADER) == len(VARIANTS[0])
    columns = {**VARIANT_POS, "barcode_key": VARIANT_POS["barcode"]}
    assert all(SNAPSHOT_HEADER[pos] == name for name, pos in columns.items() if name != "barcode")
    assert (SNAPSHOT_HEADER[MODIFIED], SNAPSHOT_HEADER[REF]) == ("modified", "ref")
