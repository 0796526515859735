"""reconcile: matching rows to variants and deciding what to write."""

from __future__ import annotations

import pytest

from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import Row, Variant
from feedsync.domain.reconcile import Counts, Outcome, ReconcileSpec, reconcile

# (product_id, variant_id, sku, barcode, price, sale, retail, cost, stock, name)
STORE: list[Variant] = [
    (1, 11, "A1", "111", 1000, None, None, None, 5, "a1"),
    (1, 12, "A2", "222", 2000, 1500, None, None, 0, "a2"),
    (2, 21, "B1", None, 3000, None, None, None, None, "b1"),
    (3, 31, "X", "900", 100, None, None, None, 1, "x1"),
    (3, 32, "X", "901", 100, None, None, None, 1, "x2"),
]
PARTIAL = ReconcileSpec("sku", ("price", "stock"), "partial")


def row(
    row_no: int, sku: str | None, barcode: str | None = None, price: int | None = None,
    stock: int | None = None, sale: int | None = None,
) -> Row:  # fmt: skip
    return (row_no, sku, barcode, price, sale, None, None, stock, None)


def run(rows: list[Row], spec: ReconcileSpec = PARTIAL) -> tuple[list[Outcome], Counts]:
    counts = Counts()
    return list(reconcile(rows, CatalogIndex.from_variants(STORE), spec, counts)), counts


def test_partial_writes_only_differing_fields() -> None:
    # Given a row with a new price and the same stock
    rows = [row(2, "A1", price=1100, stock=5)]
    # When reconciled in partial mode
    outs, counts = run(rows)
    # Then only the price is written, old value included
    assert outs == [(2, "A1", "changed", 1, 11, (("price", 1000, 1100),), "")]
    assert counts.changed == 1 and counts.matched == 1


def test_partial_with_equal_values_is_unchanged() -> None:
    # Given a row whose values equal the store's
    outs, counts = run([row(2, "A1", price=1000, stock=5)])
    # When reconciled, Then nothing is written
    assert outs == [(2, "A1", "unchanged", 1, 11, (), "")]
    assert counts.unchanged == 1 and counts.changed == 0


def test_full_writes_every_field_with_a_value() -> None:
    # Given the same equal-valued row plus one with an empty stock cell
    spec = ReconcileSpec("sku", ("price", "stock"), "full")
    # When reconciled in full mode
    outs, _ = run([row(2, "A1", price=1000, stock=5), row(3, "A2", price=2000)], spec)
    # Then every field with a feed value is written, and an empty cell never is
    assert outs[0][2:6] == ("changed", 1, 11, (("price", 1000, 1000), ("stock", 5, 5)))
    assert outs[1][5] == (("price", 2000, 2000),)


def test_none_never_writes_and_unlisted_fields_are_ignored() -> None:
    # Given a row with an empty price and a sale price that spec.fields does not list
    outs, _ = run([row(2, "A2", price=None, stock=3, sale=1)])
    # When reconciled, Then only stock changes
    assert outs[0][5] == (("stock", 0, 3),)


def test_not_found_and_same_unknown_key_twice() -> None:
    # Given an unknown SKU appearing on two rows
    outs, counts = run([row(2, "NOPE", price=1), row(3, "NOPE", price=2)])
    # When reconciled
    # Then the first is not_found and the second is a duplicate pointing at it
    assert outs[0][:3] == (2, "NOPE", "not_found")
    assert "NOPE" in outs[0][6]
    assert outs[1] == (3, "NOPE", "duplicate", None, None, (), "same SKU as row 2")
    assert (counts.not_found, counts.duplicates, counts.rows) == (1, 1, 2)


def test_same_sku_twice_writes_once() -> None:
    # Given the same known SKU on two rows with different prices
    outs, counts = run([row(2, "A1", price=1100), row(5, "A1", price=1200)])
    # When reconciled
    # Then only the first row writes; the second is a duplicate of it
    assert outs[0][2] == "changed"
    assert outs[1] == (5, "A1", "duplicate", 1, 11, (), "same item as row 2")
    assert (counts.matched, counts.duplicates) == (1, 1)


def test_two_rows_reaching_one_variant_by_sku_and_by_barcode() -> None:
    # Given one row keyed by SKU and another (SKU unknown) keyed by that variant's barcode
    spec = ReconcileSpec("sku_then_barcode", ("price",), "partial")
    rows = [row(2, "A1", price=1100), row(3, "OTHER", "111", price=1200)]
    # When reconciled
    outs, counts = run(rows, spec)
    # Then the variant is written once; the barcode row is a duplicate of row 2
    assert outs[0][2] == "changed"
    assert outs[1] == (3, "111", "duplicate", 1, 11, (), "same item as row 2")
    assert counts.changed == 1 and counts.duplicates == 1


def test_sku_then_barcode_falls_back_to_barcode() -> None:
    # Given a row with no SKU, one with an unknown SKU, and one with an ambiguous SKU
    spec = ReconcileSpec("sku_then_barcode", ("price",), "partial")
    rows = [row(2, None, "111", price=1), row(3, "ZZ", "222", price=2), row(4, "X", "901", price=3)]
    # When reconciled
    outs, _ = run(rows, spec)
    # Then each is matched on its barcode, which becomes the outcome key
    assert [(o[1], o[2], o[4]) for o in outs] == [
        ("111", "changed", 11),
        ("222", "changed", 12),
        ("901", "changed", 32),
    ]


def test_sku_then_barcode_prefers_sku() -> None:
    # Given a row whose SKU and barcode point at different variants
    spec = ReconcileSpec("sku_then_barcode", ("price",), "partial")
    # When reconciled, Then the SKU wins
    outs, _ = run([row(2, "A1", "222", price=1)], spec)
    assert (outs[0][1], outs[0][4]) == ("A1", 11)


def test_match_by_barcode_ignores_sku() -> None:
    # Given a barcode-matched spec and a row whose SKU would match something else
    spec = ReconcileSpec("barcode", ("price",), "partial")
    outs, _ = run([row(2, "A1", "222", price=1), row(3, "A1", None, price=1)], spec)
    # When reconciled, Then the barcode decides and a row without one is an error
    assert (outs[0][1], outs[0][4]) == ("222", 12)
    assert outs[1][2:] == ("row_error", None, None, (), "no barcode")


@pytest.mark.parametrize(
    ("match_by", "message"),
    [("sku", "no SKU"), ("barcode", "no barcode"), ("sku_then_barcode", "no SKU or barcode")],
)
def test_empty_key_is_a_row_error(match_by: str, message: str) -> None:
    # Given a row with neither SKU nor barcode
    outs, counts = run([row(7, None, None, price=1)], ReconcileSpec(match_by, ("price",)))
    # When reconciled, Then it is a row error saying which key is missing
    assert outs == [(7, None, "row_error", None, None, (), message)]
    assert counts.row_errors == 1


def test_ambiguous_store_key_is_a_row_error_every_time() -> None:
    # Given two rows carrying a SKU held by two store variants
    outs, counts = run([row(2, "X", price=1), row(3, "X", price=1)])
    # When reconciled, Then neither writes, and both say why
    assert [o[2] for o in outs] == ["row_error", "row_error"]
    assert outs[0][6] == "SKU 'X' is on more than one variant in the store"
    assert counts.row_errors == 2 and counts.duplicates == 0


def test_counts_add_up_and_accumulate() -> None:
    # Given a counts object that already holds parse errors from the feed
    counts = Counts(row_errors=3)
    rows = [row(2, "A1", price=1), row(3, "A2", price=2000), row(4, "Q"), row(5, None)]
    # When a mixed feed is reconciled
    outs = list(reconcile(rows, CatalogIndex.from_variants(STORE), PARTIAL, counts))
    # Then the tallies are added to it, and rows is the number of outcomes
    assert counts.as_dict() == {
        "rows": 4, "matched": 2, "not_found": 1, "duplicates": 0,
        "changed": 1, "unchanged": 1, "row_errors": 4,
    }  # fmt: skip
    assert len(outs) == counts.rows


def test_counts_are_written_when_the_consumer_stops_early() -> None:
    # Given a consumer that stops after one outcome
    counts = Counts()
    index = CatalogIndex.from_variants(STORE)
    gen = reconcile([row(2, "A1", price=1), row(3, "A2", price=1)], index, PARTIAL, counts)
    next(gen)
    # When the generator is closed
    gen.close()
    # Then the counts reflect what was produced
    assert counts.rows == 1 and counts.changed == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"match_by": "name", "fields": ("price",)},
        {"match_by": "sku", "fields": ("modified",)},
        {"match_by": "sku", "fields": ()},
        {"match_by": "sku", "fields": ("price", "price")},
        {"match_by": "sku", "fields": ("price",), "mode": "merge"},
    ],
)
def test_spec_validation(kwargs: dict[str, object]) -> None:
    # Given an invalid spec, When constructed, Then it is refused
    with pytest.raises(ValueError):
        ReconcileSpec(**kwargs)  # type: ignore[arg-type]
