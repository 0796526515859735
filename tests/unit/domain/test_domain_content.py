"""Content fields: how the index keeps them and when a feed value is "the same"."""

from __future__ import annotations

import pytest

from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.content import canonical_weight, description_digest, index_value
from feedsync.domain.fields import CANONICAL_FIELDS, ROW_POS, Row, Variant
from feedsync.domain.reconcile import Counts, Outcome, ReconcileSpec, reconcile
from feedsync.domain.runlog import format_changes
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce
from feedsync.platforms.shopify.spec import capabilities as shopify
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce

TEXT = "<p>Soft merino crew.</p>\n<ul><li>Machine wash</li></ul>"


def variant(vid: int, *, description: str | None = None, brand: str | None = None,
            weight: str | None = None, image: str | None = None, product: int | None = None
            ) -> Variant:  # fmt: skip
    """A variant of its own product (``product`` to share one)."""
    return (product or vid, vid, f"S{vid}", None, 1000, None, None, None, 5, "Crew", None, None,
            description_digest(description), brand, weight, image)  # fmt: skip


def row(row_no: int, sku: str, **values: object) -> Row:
    cells: list[object] = [row_no, sku, *([None] * (len(CANONICAL_FIELDS) - 1))]
    for name, value in values.items():
        cells[ROW_POS[name]] = value
    return tuple(cells)  # type: ignore[return-value]


def run(store: list[Variant], rows: list[Row], fields: tuple[str, ...], mode: str = "partial"
        ) -> list[Outcome]:  # fmt: skip
    spec = ReconcileSpec("sku", fields, mode)
    return list(reconcile(rows, CatalogIndex.from_variants(store), spec, Counts()))


def test_description_digest_ignores_reflowed_whitespace() -> None:
    # Given the same description with different line breaks and padding
    reflowed = "  <p>Soft   merino crew.</p> <ul><li>Machine\twash</li></ul>\n"
    # When digested, Then both are the same, and blank text is no description
    assert description_digest(TEXT) == description_digest(reflowed)
    assert description_digest(TEXT) != description_digest(TEXT.replace("crew", "vest"))
    assert description_digest(" \n ") is None and description_digest(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.250", "0.25"), (0.25, "0.25"), ("3", "3"), (3.0, "3"), ("10.00", "10"), (0, "0"),
     ("1E+2", "100"), ("0.12345", "0.1235"), (0.30000000000000004, "0.3"), ("", None),
     (None, None), ("heavy", None), ("nan", None)],
)  # fmt: skip
def test_weights_compare_as_numbers(value: object, expected: str | None) -> None:
    # Given a weight as a feed or a platform writes it, When made canonical, Then it is
    assert canonical_weight(value) == expected


def test_an_unchanged_description_is_not_written_again() -> None:
    # Given a store description and the same text re-wrapped in the feed
    store = [variant(11, description=TEXT)]
    rows = [row(2, "S11", description=TEXT.replace("\n", "\n\n  "))]
    # When reconciled in partial mode, Then nothing is written
    assert run(store, rows, ("description",))[0][2] == "unchanged"


def test_a_changed_description_carries_the_new_text() -> None:
    # Given a store description and a different one in the feed
    store = [variant(11, description=TEXT)]
    new = TEXT + "<p>Now in navy.</p>"
    # When reconciled
    (out,) = run(store, [row(2, "S11", description=new)], ("description",))
    # Then the change holds the digest the index had and the full new text
    assert out[2] == "changed"
    assert out[5] == (("description", description_digest(TEXT), new),)
    # And the log shows its size, not the digest
    assert format_changes(out[5]) == f"description: replaced ({len(new):,} characters)"


def test_weight_and_brand_partial_sync() -> None:
    # Given a store weight of 0.25 and brand Acme
    store = [variant(11, brand="Acme", weight="0.25"), variant(12, brand="Acme", weight="0.25")]
    # When the feed says 0.250 / Acme for one and 0.3 / Acme Outdoor for the other
    outs = run(
        store,
        [row(2, "S11", weight="0.250", brand="Acme"), row(3, "S12", weight="0.3", brand="Acme Co")],
        ("weight", "brand"),
    )
    # Then only the real differences are written
    assert outs[0][2] == "unchanged"
    assert outs[1][5] == (("weight", "0.25", "0.3"), ("brand", "Acme", "Acme Co"))


def test_a_brand_in_other_letter_case_is_the_same_brand() -> None:
    # Given a store brand "Acme" (BigCommerce files "ACME" under it)
    store = [variant(11, brand="Acme"), variant(12)]
    # When the feed says "ACME" for it, and "ACME" for an item without a brand
    outs = run(store, [row(2, "S11", brand="ACME"), row(3, "S12", brand="ACME")], ("brand",))
    # Then only the item without a brand gets one
    assert [o[2] for o in outs] == ["unchanged", "changed"]


def test_an_image_is_set_only_where_the_item_has_none() -> None:
    # Given one variant with an image (at the platform's CDN URL) and one without
    store = [variant(11, image="https://cdn.store/abc.jpg"), variant(12)]
    feed = [row(2, "S11", image_url="https://supplier/a.jpg"),
            row(3, "S12", image_url="https://supplier/b.jpg")]  # fmt: skip
    # When reconciled in partial mode, Then only the one without an image gets one
    partial = run(store, feed, ("image_url",))
    assert [o[2] for o in partial] == ["unchanged", "changed"]
    assert partial[1][5] == (("image_url", None, "https://supplier/b.jpg"),)
    # And a full sync does too: it never adds a second copy of an image
    assert [o[2] for o in run(store, feed, ("image_url",), "full")] == ["unchanged", "changed"]


def test_the_index_keeps_what_it_compares_against() -> None:
    # Given values that reached the store, When patched into the index, Then it keeps the
    # digest of a description and the canonical weight, and other values as written
    assert index_value("description", TEXT) == description_digest(TEXT)
    assert index_value("weight", "0.250") == "0.25"
    assert index_value("image_url", "https://s/a.jpg") == "https://s/a.jpg"
    assert index_value("price", 1299) == 1299


@pytest.mark.parametrize(
    ("caps", "field", "op"),
    [
        (bigcommerce(), "weight", "variants"),
        (bigcommerce(), "image_url", "variants"),
        (bigcommerce(), "description", "products"),
        (bigcommerce(), "brand", "products"),
        (shopify(), "weight", "variants_bulk"),
        (shopify(), "image_url", "variants_bulk"),
        (shopify(), "description", "product_update"),
        (shopify(), "brand", "product_update"),
        (shopify(), "name", "product_update"),
        (woocommerce(), "weight", "variations_batch"),
        (woocommerce(), "image_url", "variations_batch"),
        (woocommerce(), "description", "product_fields"),
    ],
)
def test_each_platform_routes_content_to_its_operation(caps, field, op) -> None:  # type: ignore[no-untyped-def]
    # Given a variation (product 1, variant 2) with one content change
    # When routed, Then the platform's operation for that field takes it
    [(routed, mine)] = caps.route(1, 2, {field: [None, "x"]})
    assert routed.name == op and list(mine) == [field]
    # And product-level content collapses to one item per product
    assert routed.product_level == (field in ("description", "brand", "name"))


def test_woocommerce_refuses_brand_with_the_reason() -> None:
    # Given WooCommerce, When a profile asks to write the brand, Then it is refused, saying why
    with pytest.raises(ValueError, match="brands as taxonomy terms"):
        woocommerce().check_fields(["price", "brand"])


def test_stock_the_index_does_not_know_is_written_without_an_old_value() -> None:
    # Given a store variant with stock 5 in the index (read at the store's location)
    store = [variant(11), variant(12)]
    spec = ReconcileSpec("sku", ("price", "stock"), "partial", unknown=("stock",))
    rows = [row(2, "S11", price=1000, stock=5), row(3, "S12", price=1000, stock=5)]
    # When the profile writes stock elsewhere and the feed says 5 (as the index does)
    outs = list(reconcile(rows, CatalogIndex.from_variants(store), spec, Counts()))
    # Then stock is written anyway, with no old value to compare against (never the
    # index's, which belongs to another location), and the price is still compared
    assert [o[5] for o in outs] == [(("stock", None, 5),), (("stock", None, 5),)]
    assert format_changes(outs[0][5]) == "stock: (not known) -> 5"


def test_the_first_row_of_a_product_decides_its_description() -> None:
    # Given two variants of one product whose store description is the first row's
    store = [variant(11, product=1, description=TEXT), variant(12, product=1, description=TEXT)]
    other = "<p>Another text</p>"
    feed = [row(2, "S11", description=TEXT), row(3, "S12", description=other)]
    # When a feed gives the product's two rows different descriptions
    outs = run(store, feed, ("description",))
    # Then the later row is not written (else the product would flip between the two
    # texts on alternate runs), and its log line says why
    assert [o[2] for o in outs] == ["unchanged", "unchanged"]
    assert "row 2 gives this product another description" in outs[1][6]


def test_a_later_row_with_the_same_product_value_rides_along() -> None:
    # Given a product of two variants, brand "Acme" in the store
    store = [variant(11, product=1, brand="Acme"), variant(12, product=1, brand="Acme")]
    # When both rows say the new brand, in different letter case, and a third product row
    # (none for the first) says yet another
    feed = [row(2, "S11", brand="Northwind"), row(3, "S12", brand="NORTHWIND")]
    outs = run(store, feed, ("brand",))
    # Then both are written as one brand, with no conflict noted
    assert [o[2] for o in outs] == ["changed", "changed"] and outs[1][6] == ""


def test_a_product_value_is_decided_by_the_first_row_that_gives_one() -> None:
    # Given three variants of one product; the first row has no description
    store = [variant(v, product=1) for v in (11, 12, 13)]
    feed = [
        row(2, "S11"),
        row(3, "S12", description="<p>B</p>"),
        row(4, "S13", description="<p>C</p>"),
    ]
    # When reconciled
    outs = run(store, feed, ("description",))
    # Then row 3 decides, and row 4 is not written
    assert [o[2] for o in outs] == ["unchanged", "changed", "unchanged"]
    assert "row 3 gives this product another description" in outs[2][6]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("<p>AT&T</p>", "<p>AT&amp;T</p>"),
        ("<p>a<br/>b</p>", "<p>a<br />b</p>"),
        ("<p align=center>x</p>", '<p align="center">x</p>'),
        ("<img src='a.jpg'/>", '<img src="a.jpg" />'),
        ("&copy 2024", "&amp;copy 2024"),
        ("<p>One</p>\n<p>Two</p>", "<p>One</p><p>Two</p>"),
    ],
)
def test_a_description_stored_in_the_platform_spelling_has_the_digest_written(
    sent: str, stored: str
) -> None:
    # Given a description as sent and as WordPress (or an editor) stores it
    # When both are digested, Then they are the same description
    assert description_digest(sent) == description_digest(stored)


def test_a_name_stored_with_entities_is_the_same_name() -> None:
    # Given a store name as WordPress keeps "AT&T" (the fast path sees different text)
    store = [variant(11)]
    store[0] = (*store[0][:9], "AT&amp;T", *store[0][10:])
    # When the feed says AT&T, Then nothing is written
    assert run(store, [row(2, "S11", name="AT&T")], ("name",))[0][2] == "unchanged"
