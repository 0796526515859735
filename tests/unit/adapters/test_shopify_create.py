"""The Shopify connector's create mode against the double: new products in one document
(DRAFT, in the collection, with their options and stock), variants added to a product the
shop has, an image that fails to load, refusals, the lookup by SKU and the delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from create_items import group, single
from fake_sleep import FakeSleep

from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreUnavailable
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync_local.shopify_double import ShopifyDouble


@pytest.fixture
def double() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as shop:
        yield shop


@pytest.fixture
def connector(double: ShopifyDouble) -> ShopifyConnector:
    return ShopifyConnector(
        double.shop_url, double.access_token, sleep=FakeSleep(), allow_private=True
    )


def _create_documents(double: ShopifyDouble) -> list[dict]:
    return [d for d in double.documents() if d.get("operationName") == "FeedsyncCreate"]


def test_a_batch_of_new_items_is_one_document_of_draft_products_with_their_options(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a collection, a single item and a group of sizes and colours
    collection = double.add_collection("From the supplier")
    items = [
        single("MUG-1", 950, stock=4, barcode="4006381333931", retail_price=1200),
        group(
            "TEE",
            {"Size": ["S", "M", "L"], "Colour": ["Red", "Blue", "Red"]},
            category=str(collection),
        ),
    ]

    # When the batch is created
    results = connector.apply("create", items, batch_key="b1")

    # Then one document made both, as drafts, with each variant's id by SKU
    assert all(r.ok for r in results), results
    assert len(_create_documents(double)) == 1
    mug, tee = (r.created for r in results)
    assert mug is not None and tee is not None
    [mug_variant] = mug.variants.values()
    assert double.variant(mug_variant)["sku"] == "MUG-1"
    assert double.variant(mug_variant)["available"] == 4
    assert double.variant(mug_variant)["compare_at_price"] == "12.00"
    assert double.product(mug.product_id)["status"] == "DRAFT"
    product = double.product(tee.product_id)
    assert product["status"] == "DRAFT"
    assert product["vendor"] == "Acme"
    assert product["options"] == {"Size": ["S", "M", "L"], "Colour": ["Red", "Blue"]}
    assert product["collection_ids"] == [collection]
    assert double.collection_members(collection) == [tee.product_id]
    assert {sku: double.variant(v)["options"] for sku, v in tee.variants.items()} == {
        "TEE-S-Red": {"Size": "S", "Colour": "Red"},
        "TEE-M-Blue": {"Size": "M", "Colour": "Blue"},
        "TEE-L-Red": {"Size": "L", "Colour": "Red"},
    }


def test_a_visible_item_is_active(double: ShopifyDouble, connector: ShopifyConnector) -> None:
    # When a group is created with create.visible on
    [result] = connector.apply(
        "create", [group("CAP", {"Size": ["S"]}, visible=True)], batch_key="b"
    )

    # Then its product is ACTIVE
    assert result.created is not None
    assert double.product(result.created.product_id)["status"] == "ACTIVE"


def test_new_variants_join_a_product_the_shop_has(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a product made by an earlier run with sizes S and M
    [first] = connector.apply("create", [group("TEE", {"Size": ["S", "M"]})], batch_key="b1")
    assert first.created is not None
    product_id = first.created.product_id

    # When size L of that group is created
    [result] = connector.apply(
        "create", [group("TEE", {"Size": ["L"]}, product_id=product_id)], batch_key="b2"
    )

    # Then L is a new variant of the same product, and the product offers L
    assert result.ok and result.created is not None
    assert result.created.product_id == product_id
    [added] = result.created.variants.values()
    assert double.variant(added)["options"] == {"Size": "L"}
    assert double.product(product_id)["options"] == {"Size": ["S", "M", "L"]}


def test_an_image_that_fails_to_load_leaves_the_item_created_and_says_so(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given an image URL the shop cannot download
    double.break_image_url("https://img.example/mug.jpg")

    # When an item with that image is created
    [result] = connector.apply(
        "create", [single("MUG-1", image_url="https://img.example/mug.jpg")], batch_key="b"
    )

    # Then the item is made, and its result names the failed image
    assert result.ok and result.created is not None
    assert "could not be loaded (IMAGE_DOWNLOAD_FAILURE)" in result.message


def test_an_item_the_shop_refuses_fails_alone(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a group with four options (Shopify allows three) beside a single item
    four = group("BAD", {"A": ["1"], "B": ["1"], "C": ["1"], "D": ["1"]})

    # When both are created
    bad, good = connector.apply("create", [four, single("MUG-1")], batch_key="b")

    # Then the group fails with Shopify's reason and the single item is made
    assert not bad.ok and "OPTIONS_OVER_LIMIT" in bad.message
    assert good.ok and good.created is not None
    assert double.product_ids() == [good.created.product_id]


def test_find_created_looks_the_items_up_by_sku(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a single item and a group made earlier
    made = connector.apply(
        "create", [single("MUG-1"), group("TEE", {"Size": ["S", "M"]})], batch_key="b"
    )

    # When they are looked up with an item never made
    found = connector.find_created(
        [single("MUG-1"), single("CUP-1"), group("TEE", {"Size": ["S", "M"]})]
    )

    # Then the made ones come back with their ids, the other as nothing
    assert found == [made[0].created, None, made[1].created]


def test_delete_removes_created_products_and_added_variants(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a product made by one run, a variant another run added, and a single item
    [tee] = connector.apply("create", [group("TEE", {"Size": ["S"]})], batch_key="b1")
    assert tee.created is not None
    pid = tee.created.product_id
    [more] = connector.apply(
        "create", [group("TEE", {"Size": ["M"]}, product_id=pid)], batch_key="b2"
    )
    [mug] = connector.apply("create", [single("MUG-1")], batch_key="b3")
    assert more.created is not None and mug.created is not None
    added = more.created.variants["TEE-M"]
    mug_id = mug.created.product_id

    # When the added variant and the single item are deleted
    results = connector.apply(
        "delete",
        [
            PlanItem(1, "TEE-M", pid, added, {}),
            PlanItem(2, "MUG-1", mug_id, mug_id, {}, product_level=True),
        ],
        batch_key="d",
    )

    # Then both are gone and the first run's product keeps its own variant
    assert all(r.ok for r in results), results
    assert double.product_ids() == [pid]
    assert double.product(pid)["variant_ids"] == list(tee.created.variants.values())


def test_deleting_a_product_already_gone_reports_it_gone(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a created product the merchant deleted since
    [mug] = connector.apply("create", [single("MUG-1")], batch_key="b")
    assert mug.created is not None
    double.delete_product(mug.created.product_id)

    # When a revert deletes it
    pid = mug.created.product_id
    [result] = connector.apply(
        "delete", [PlanItem(1, "MUG-1", pid, pid, {}, product_level=True)], batch_key="d"
    )

    # Then it is reported gone
    assert not result.ok and result.gone == "product"


def test_a_create_whose_answer_is_lost_is_not_sent_again_blind(
    double: ShopifyDouble, connector: ShopifyConnector
) -> None:
    # Given a create document Shopify carries out but whose answer never arrives
    connector.shop.location_gid(None)  # (the primary location looked up before the fault)
    double.fail_next("reset_after")

    # When the batch is created
    with pytest.raises(StoreUnavailable, match="not sent again blind"):
        connector.apply("create", [single("MUG-1")], batch_key="b")

    # Then the product exists once, and the look-up the retry makes finds it
    assert len(double.product_ids()) == 1
    [found] = connector.find_created([single("MUG-1")])
    assert found is not None and found.product_id == double.product_ids()[0]
