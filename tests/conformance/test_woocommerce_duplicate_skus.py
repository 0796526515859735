"""WooCommerce create mode and SKUs the shop already holds: a duplicate-SKU refusal is taken
as this create's own earlier attempt only on a POST the transport sent again and only for a
holder with exactly the item's SKU; otherwise the item fails and the merchant's product is
left alone (a revert would delete whatever was adopted). A group made without a SKU of its
own (its value is one of its variants' SKUs) is found through its variations before a resend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harnesses.woocommerce import WooCommerceHarness
from test_conformance_creations import _single

from feedsync.domain.capabilities import CREATE_OP
from feedsync.domain.create import NewProduct, NewVariant, resume_creations
from feedsync.domain.writes import PlanItem


@pytest.fixture
def woo() -> Iterator[WooCommerceHarness]:
    with WooCommerceHarness() as started:
        yield started


def _merchant_product(woo: WooCommerceHarness, sku: str) -> int:
    [made] = woo.double.seed([{"name": "The merchant's mug", "type": "simple", "sku": sku}])
    return int(made["id"])


@pytest.mark.parametrize("held", ["MUG-1", "mug-1"], ids=["same case", "other case"])
def test_a_first_attempt_refused_for_a_held_sku_fails_and_adopts_nothing(
    woo: WooCommerceHarness, held: str
) -> None:
    # Given the shop holds the merchant's own product under the SKU (in any case)
    theirs = _merchant_product(woo, held)
    before = len(woo.double.products())

    # When feedsync creates MUG-1 (a first attempt)
    [result] = woo.connector().apply(CREATE_OP, [_single("MUG-1", 950)], batch_key="c1")

    # Then the item fails naming the holder, and nothing was made or taken as made
    assert not result.ok and result.created is None
    assert result.message == f"SKU already in the store (product {theirs})"
    assert len(woo.double.products()) == before
    assert woo.double.item(theirs)["sku"] == held


def test_a_resent_create_whose_first_attempt_was_applied_adopts_that_product(
    woo: WooCommerceHarness,
) -> None:
    # Given a create POST the shop applies but whose answer is lost (the transport resends)
    woo.double.reset_next(after_apply=True)

    # When MUG-1 is created
    [result] = woo.connector().apply(CREATE_OP, [_single("MUG-1", 950)], batch_key="c1")

    # Then the resend's refusal names the first attempt's product, taken as made: one product
    [product] = [p for p in woo.double.products() if p["sku"] == "MUG-1"]
    assert result.ok and result.created is not None
    assert result.created.product_id == product["id"]


def test_a_resent_create_refused_for_a_product_under_another_case_fails(
    woo: WooCommerceHarness,
) -> None:
    # Given the merchant's mug-1, and a create POST whose first attempt is lost (reset
    # before the shop applied it), so the resend is refused for the merchant's product
    theirs = _merchant_product(woo, "mug-1")
    woo.double.reset_next(after_apply=False)

    # When MUG-1 is created
    [result] = woo.connector().apply(CREATE_OP, [_single("MUG-1", 950)], batch_key="c1")

    # Then the holder's SKU is not exactly ours: the item fails, the merchant's product stays
    assert not result.ok
    assert result.message == f"SKU already in the store (product {theirs})"
    assert woo.double.item(theirs)["sku"] == "mug-1"


def _group_named_after_a_variant() -> PlanItem:
    """Group TEE-1 whose first variant's SKU is TEE-1 itself (so its product gets no SKU)."""
    variants: list[NewVariant] = [
        {"row": 2 + i, "key": key, "options": {"Size": size}, "fields": {"price": 1500}}
        for i, (key, size) in enumerate([("TEE-1", "S"), ("TEE-1-M", "M")])
    ]
    new: NewProduct = {
        "group": "TEE-1",
        "fields": {"name": "Tee one"},
        "option_names": ["Size"],
        "variants": variants,
        "visible": False,
        "category": None,
    }
    return PlanItem(2, "TEE-1", 0, 0, {}, rows=[2, 3], product_level=True, new=new)


@pytest.mark.parametrize("store_wide", [True, False], ids=["10.3+", "older shop"])
def test_a_made_group_whose_value_is_a_variant_sku_is_found_before_a_resend(
    woo: WooCommerceHarness, store_wide: bool
) -> None:
    # Given a create batch the shop accepted for such a group (its answer lost), and a decoy:
    # an older variable product of the same name
    woo.double.store_wide_variations = store_wide
    woo.double.seed([{"name": "Tee one", "type": "variable", "variations": [{"sku": "OLD-S"}]}])
    connector = woo.connector()
    item = _group_named_after_a_variant()
    [made] = connector.apply(CREATE_OP, [item], batch_key="c1")
    assert made.created is not None

    # When the batch is looked up before it is sent again
    resume = resume_creations([item], connector.find_created([item]))

    # Then nothing is sent again, and the answer names the product made and its variations
    assert resume.send == []
    assert resume.known[0].created == made.created
    assert len([p for p in woo.double.products() if p["name"] == "Tee one"]) == 2
