"""Conformance: catalog reads, full and by modification range, and the suite's coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance_kit import read_index
from harnesses import HARNESSES
from harnesses.base import Harness

from feedsync.domain.fields import REF, VARIANT_POS
from feedsync.platforms.registry import PLATFORM_NAMES, platform

OLD = datetime(2024, 1, 10, tzinfo=UTC)
NEW = datetime(2024, 2, 10, tzinfo=UTC)


def test_every_registered_platform_has_a_harness() -> None:
    """A platform in the registry is checked here too: adding one without opting in fails."""
    assert sorted(h.platform for h in HARNESSES) == sorted(PLATFORM_NAMES)


def test_the_option_sets_reach_every_operation_the_connectors_declare(harness: Harness) -> None:
    # Given the connector of each option set the harness runs
    declared: set[str] = set()
    for options in type(harness).option_sets:
        with type(harness)(options) as other:
            declared |= {op.name for op in other.connector().capabilities.ops}
    # Then the spec's capabilities (what the suite is parametrised with) name the same ones
    specced = {
        op.name
        for options in type(harness).option_sets
        for op in platform(harness.platform).capabilities(options).ops
    }
    assert declared == specced and declared


def test_a_full_read_yields_every_seeded_variant_with_money_in_cents(harness: Harness) -> None:
    # Given the catalog seeded (two simple products, two with options)
    catalog = harness.catalog
    # When the connector reads the whole catalog
    index = read_index(harness.connector())
    # Then every seeded variant comes back once, under its product's and its own id
    assert set(index) == catalog.keys
    for product in catalog.products:
        for seeded in product.variants:
            variant = index[(product.product_id, seeded.variant_id)]
            spec = seeded.spec
            # with its SKU, barcode, price in integer cents, stock and product name
            assert variant[VARIANT_POS["sku"]] == spec.sku
            assert variant[VARIANT_POS["barcode"]] == spec.barcode
            price = variant[VARIANT_POS["price"]]
            assert isinstance(price, int) and price == spec.price
            assert variant[VARIANT_POS["stock"]] == spec.stock
            assert variant[VARIANT_POS["name"]] == product.spec.name
            # and the reference the platform's writes need, where it has one
            assert variant[REF] == seeded.ref


def test_the_default_location_is_the_one_the_platform_chose(harness: Harness) -> None:
    # Given a connector given no stock location
    connector = harness.connector()
    # When it has read the catalog
    read_index(connector)
    # Then it names the platform's own location where it looked one up (None elsewhere)
    assert connector.default_location == harness.default_location


def test_an_incremental_read_yields_exactly_the_products_modified_since(
    harness: Harness,
) -> None:
    # Given every product last modified long ago, and the tee modified since
    catalog = harness.catalog
    for product in catalog.products:
        harness.set_modified(product.product_id, OLD)
    tee = catalog.products[2]
    harness.set_modified(tee.product_id, NEW)
    # When the connector reads what changed since between the two
    index = read_index(harness.connector(), since=NEW - timedelta(days=5))
    # Then it yields the tee, every variant of it, and nothing else
    assert set(index) == catalog.keys_of([tee])
    assert {v[VARIANT_POS["sku"]] for v in index.values()} == {v.sku for v in tee.spec.variants}


def test_a_bounded_range_leaves_out_what_changed_after_it(harness: Harness) -> None:
    # Given the tee modified recently and the other products long ago
    catalog = harness.catalog
    for product in catalog.products:
        harness.set_modified(product.product_id, OLD)
    tee = catalog.products[2]
    harness.set_modified(tee.product_id, NEW)
    # When the connector reads a range around the old modifications only
    index = read_index(
        harness.connector(), since=OLD - timedelta(days=1), until=OLD + timedelta(days=1)
    )
    # Then every other product comes back whole, the tee not at all
    others = [p for p in catalog.products if p is not tee]
    assert set(index) == catalog.keys_of(others)
