"""Feed rows meet store variants by GTIN-14: the feed's keys, the index's keys (fresh and
from a snapshot written before barcodes were keyed), and what a match reports."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from feedsync.domain import catalog
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.feed import CsvFeed
from feedsync.domain.fields import NO_CONTENT, WRITABLE_FIELDS, Row, Variant
from feedsync.domain.reconcile import Counts, ReconcileSpec, reconcile
from feedsync.domain.rules import CompiledRules, compile_rules

MAPPING = {"barcode": "UPC", "stock": "Qty"}
BY_BARCODE = ReconcileSpec(match_by="barcode", fields=("stock",))


def variant(vid: int, barcode: str | None, stock: int = 1) -> Variant:
    return (vid, vid * 10, f"SKU-{vid}", barcode, 100, None, None, None, stock, "x", None, None,
            *NO_CONTENT, True)  # fmt: skip


def read(text: str, rules: CompiledRules) -> tuple[list[Row], CsvFeed]:
    feed = CsvFeed(io.StringIO(text, newline=""), MAPPING, file_name="f.csv")
    feed.use_rules(rules)
    return list(feed), feed


def test_every_spelling_of_a_upc_in_a_feed_becomes_one_key() -> None:
    # Given a feed with one UPC-A as a spreadsheet, a supplier and an EAN-13 write it
    text = "UPC,Qty\n84500001002,1\n084500001002,2\n0084500001002,3\n 0845-0000-1002 ,4\n"
    # When read with the default rules (barcodes validated)
    rows, feed = read(text, compile_rules(None))
    # Then each row carries the GTIN-14 and none is refused
    assert [r[2] for r in rows] == ["00084500001002"] * 4
    assert feed.row_errors == []


def test_a_padded_code_failing_the_check_digit_is_a_row_error_naming_row_column_code() -> None:
    # Given a feed whose second row's UPC lost its zero and has a wrong check digit
    text = "UPC,Qty\n84500001002,1\n84500001005,2\n"
    # When read with barcodes validated
    rows, feed = read(text, compile_rules(None))
    # Then that row is skipped and reported with its row, column, code and the reason
    assert [r[0] for r in rows] == [2]
    [error] = feed.row_errors
    assert (error.row_no, error.column, error.value) == (3, "UPC", "84500001005")
    assert "fails the GTIN-12 check digit (read as 084500001005, expected 2)" in error.message


def test_without_validation_internal_codes_are_kept_and_gtins_keyed() -> None:
    # Given validation off and a feed mixing internal codes with GTINs
    text = "UPC,Qty\nINT-0042,1\n0042,2\n84500001002,3\n84500001005,4\n"
    # When read
    rows, feed = read(text, compile_rules({"validate_barcodes": False}))
    # Then nothing is refused; the valid GTIN is keyed, every other code kept as written
    assert [r[2] for r in rows] == ["INT-0042", "0042", "00084500001002", "84500001005"]
    assert feed.row_errors == []


def test_a_profile_not_matching_by_barcode_leaves_the_cells_alone() -> None:
    # Given rules whose barcodes are not match keys (the profile matches by SKU)
    rules = replace(compile_rules(None), validate_barcodes=False, match_barcodes=False)
    # When a feed with a bad and a short barcode is read
    rows, feed = read("UPC,Qty\n84500001005,1\n0042,2\n", rules)
    # Then the cells are as written and no row is refused
    assert [r[2] for r in rows] == ["84500001005", "0042"]
    assert feed.row_errors == []


def test_the_index_keys_store_barcodes_by_gtin_14() -> None:
    # Given store variants holding a UPC-A as 12 digits, a GTIN as 14, an internal code
    listed = [variant(1, "084500001002"), variant(2, "00012345678905"), variant(3, " INT-7 ")]
    # When an index is made of them as the store lists them
    index = CatalogIndex.from_store(listed)
    # Then valid GTINs are keyed by their GTIN-14, the internal code as written
    assert sorted(index.by_barcode) == ["00012345678905", "00084500001002", "INT-7"]
    assert [v[3] for v in index.variants] == ["00084500001002", "00012345678905", "INT-7"]
    # ... and the barcode is no field a run writes, so the store keeps its own spelling
    assert "barcode" not in WRITABLE_FIELDS


def test_a_refresh_keys_the_variants_it_brings() -> None:
    # Given an index, and a refresh listing a product whose UPC is now written with 11 digits
    index = CatalogIndex.from_store([variant(1, "084500001002"), variant(2, "96385074")])
    # When merged
    merged = index.merged([variant(1, "84500001002", stock=3)])
    # Then the refreshed variant is found by the same key, the other one as before
    assert merged.by_barcode["00084500001002"][8] == 3
    assert merged.by_barcode["00000096385074"] == index.by_barcode["00000096385074"]


# The header of a snapshot saved before barcodes were keyed (its barcodes as the store
# spells them), with and without the content fields.
V3 = (
    "product_id,variant_id,sku,barcode,price,sale_price,retail_price,cost_price,stock,name,"
    "modified,ref,description,brand,weight,image_url"
)
V2 = V3.rsplit(",", 4)[0]


def test_a_snapshot_written_before_keying_matches_like_a_fresh_index() -> None:
    # Given snapshots as the index wrote them before barcodes were keyed
    for snapshot in (f"{V3}\n7,70,S7,84500001002,100,,,,1,x,,,,,,\n",
                     f"{V2}\n7,70,S7,84500001002,100,,,,1,x,,\n"):  # fmt: skip
        # When loaded and a feed row with the 13-digit spelling is matched against it
        index = CatalogIndex.load(io.StringIO(snapshot, newline=""))
        rows, _ = read("UPC,Qty\n0084500001002,5\n", compile_rules(None))
        [out] = reconcile(rows, index, BY_BARCODE, Counts())
        # Then it finds the variant, and the index is saved keyed from then on
        assert out[1:5] == ("00084500001002", "changed", 7, 70)
        buf = io.StringIO(newline="")
        index.dump(buf)
        header, record = buf.getvalue().splitlines()
        assert header.split(",")[3] == "barcode_key"
        assert record.startswith("7,70,S7,00084500001002,100,")
        assert CatalogIndex.snapshot_has_content(header) == (snapshot.startswith(V3))


def test_loading_a_keyed_snapshot_keys_nothing_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an index saved keyed
    buf = io.StringIO(newline="")
    CatalogIndex.from_store([variant(1, "84500001002"), variant(2, "INT-7")]).dump(buf)

    # When it is loaded for a run (with keying made to fail, to see it is not called)
    def no_keying(text: str) -> str:
        raise AssertionError(f"keyed {text!r} again")

    monkeypatch.setattr(catalog, "barcode_key", no_keying)
    index = CatalogIndex.load(io.StringIO(buf.getvalue(), newline=""))
    # Then its keys are there as saved, at no cost per variant
    assert sorted(index.by_barcode) == ["00084500001002", "INT-7"]


def test_feed_and_store_spellings_meet_and_repeats_are_duplicates() -> None:
    # Given a store with a 12-digit UPC and a 14-digit GTIN, and a feed spelling each
    # differently (the first UPC twice, with and without its zero)
    index = CatalogIndex.from_store([variant(1, "084500001002"), variant(2, "00012345678905")])
    text = "UPC,Qty\n84500001002,5\n12345678905,6\n0084500001002,7\n"
    rows, _ = read(text, compile_rules(None))
    # When matched
    outs = list(reconcile(rows, index, BY_BARCODE, Counts()))
    # Then both variants are reached, and the repeat is a duplicate of the first row
    assert [(o[0], o[2], o[4]) for o in outs] == [
        (2, "changed", 10), (3, "changed", 20), (4, "duplicate", 10),
    ]  # fmt: skip
    assert outs[2][6] == "same item as row 2"


def test_two_store_spellings_of_one_gtin_are_ambiguous_and_named() -> None:
    # Given two store variants holding one UPC, as 12 and as 13 digits
    index = CatalogIndex.from_store([variant(1, "084500001002"), variant(2, "0084500001002")])
    rows, _ = read("UPC,Qty\n84500001002,5\n", compile_rules(None))
    # When a feed row with that UPC is matched
    [out] = reconcile(rows, index, BY_BARCODE, Counts())
    # Then it is a row error naming the code, and neither variant is written
    assert index.ambiguous_barcodes == {"00084500001002"}
    assert out[2] == "row_error" and out[4] is None
    assert out[6] == "barcode '00084500001002' is on more than one variant in the store"


def test_internal_codes_match_with_validation_off() -> None:
    # Given a store and a feed both using internal, non-GTIN codes
    index = CatalogIndex.from_store([variant(1, "INT-0042"), variant(2, "0042")])
    rows, _ = read("UPC,Qty\nINT-0042,5\n0042,6\n", compile_rules({"validate_barcodes": False}))
    # When matched with validation off
    outs = list(reconcile(rows, index, BY_BARCODE, Counts()))
    # Then each reaches its own variant
    assert [(o[2], o[4]) for o in outs] == [("changed", 10), ("changed", 20)]
