"""The WooCommerce connector's create mode against the double: new simple and variable
products (hidden, in the category, with their options), variants added to a product the shop
has, an image the shop cannot load, a batch sent twice, the lookup by SKU and the delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from create_items import group, single
from fake_sleep import FakeSleep

from feedsync.core import creating
from feedsync.domain.writes import PlanItem
from feedsync.platforms.woocommerce.connector import WooCommerceConnector
from feedsync_local.woo_double import WooCommerceDouble


@pytest.fixture
def double() -> Iterator[WooCommerceDouble]:
    with WooCommerceDouble() as shop:
        yield shop


@pytest.fixture
def connector(double: WooCommerceDouble) -> WooCommerceConnector:
    key, secret = double.credentials
    return WooCommerceConnector(
        double.site_url, key, secret, sleep=FakeSleep(), allow_http=True, allow_private=True
    )


def _by_sku(double: WooCommerceDouble) -> dict[str, dict]:
    out = {p["sku"]: p for p in double.products() if p["sku"]}
    for product in double.products():
        out.update({v["sku"]: v for v in double.variations(product["id"])})
    return out


def test_new_items_are_created_private_with_their_options_and_ids(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a single item and a group of 3 sizes, in a category
    category = double.add_category("From the supplier")
    items = [
        single("MUG-1", 950, stock=4, weight="0.4", barcode="4006381333931"),
        group("TEE", {"Size": ["S", "M", "L"], "Colour": ["Red"]}, category=str(category)),
    ]

    # When the batch is created
    results = connector.apply("create", items, batch_key="b1")

    # Then both are made, private, and every variant's id comes back by SKU
    assert all(r.ok for r in results), results
    mug, tee = (r.created for r in results)
    assert mug is not None and tee is not None
    store = _by_sku(double)
    assert mug.variants == {"MUG-1": store["MUG-1"]["id"]}
    assert store["MUG-1"]["status"] == "private"
    assert (store["MUG-1"]["regular_price"], store["MUG-1"]["stock_quantity"]) == ("9.50", 4)
    assert store["MUG-1"]["global_unique_id"] == "4006381333931"
    assert tee.variants == {
        sku: store[sku]["id"] for sku in ("TEE-S-Red", "TEE-M-Red", "TEE-L-Red")
    }
    product = double.item(tee.product_id)
    assert (product["type"], product["status"], product["sku"]) == ("variable", "private", "TEE")
    assert [c["id"] for c in product["categories"]] == [category]
    assert {a["name"]: a["options"] for a in product["attributes"]} == {
        "Size": ["S", "M", "L"],
        "Colour": ["Red"],
    }
    assert {a["name"]: a["option"] for a in store["TEE-M-Red"]["attributes"]} == {
        "Size": "M",
        "Colour": "Red",
    }


def test_a_visible_group_is_published(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # When a group is created with create.visible on
    [result] = connector.apply(
        "create", [group("CAP", {"Size": ["S"]}, visible=True)], batch_key="b"
    )

    # Then its product is published
    assert result.created is not None
    assert double.item(result.created.product_id)["status"] == "publish"


def test_new_variants_join_a_product_the_shop_has_with_their_new_option_values(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a variable product made by an earlier run, sizes S and M
    [first] = connector.apply("create", [group("TEE", {"Size": ["S", "M"]})], batch_key="b1")
    assert first.created is not None
    product_id = first.created.product_id

    # When the feed brings size L of that group
    item = group("TEE", {"Size": ["L"]}, product_id=product_id)
    [result] = connector.apply("create", [item], batch_key="b2")

    # Then L is a new variation of the same product, and the product offers L
    assert result.ok and result.created is not None
    assert result.created.product_id == product_id
    assert list(result.created.variants) == ["TEE-L"]
    assert [v["sku"] for v in double.variations(product_id)] == ["TEE-S", "TEE-M", "TEE-L"]
    attributes = double.item(product_id)["attributes"]
    assert attributes[0]["options"] == ["S", "M", "L"]


def test_an_image_the_shop_cannot_load_leaves_the_item_created_without_it(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given an image URL the shop cannot fetch
    double.break_image_url("https://img.example/mug.jpg")

    # When an item with that image is created
    [result] = connector.apply(
        "create", [single("MUG-1", image_url="https://img.example/mug.jpg")], batch_key="b"
    )

    # Then it is made without an image, and the result says so
    assert result.ok and result.created is not None
    assert "without its image" in result.message
    assert double.item(result.created.product_id)["images"] == []


def test_a_batch_sent_again_makes_nothing_twice(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a batch the shop accepted
    items = [single("MUG-1"), group("TEE", {"Size": ["S", "M"]})]
    first = connector.apply("create", items, batch_key="b")

    # When the update step sends it again (its answer was lost): it looks the batch up first
    again = creating.send(connector, items, "b", resumed=True)

    # Then the shop holds one of each, and the answers name the same ids
    assert [r.created for r in again] == [r.created for r in first]
    assert sorted(p["sku"] for p in double.products()) == ["MUG-1", "TEE"]
    [tee] = [p for p in double.products() if p["sku"] == "TEE"]
    assert len(double.variations(tee["id"])) == 2


def test_a_batch_sent_again_blind_is_refused_not_taken_for_ours(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a batch the shop accepted
    items = [single("MUG-1")]
    connector.apply("create", items, batch_key="b")

    # When the same items are sent again without the look-up (a first POST, as far as the
    # transport knows: the shop's duplicate-SKU refusal may name the merchant's own product)
    [again] = connector.apply("create", items, batch_key="b")

    # Then the item fails saying the SKU is in the store, and nothing is made twice
    assert not again.ok and again.created is None
    assert "already in the store" in again.message
    assert [p["sku"] for p in double.products()] == ["MUG-1"]


def test_find_created_looks_the_items_up_by_sku(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given one of three items made earlier and a group partly made
    [mug] = connector.apply("create", [single("MUG-1")], batch_key="b")
    [tee] = connector.apply("create", [group("TEE", {"Size": ["S"]})], batch_key="b")
    assert mug.created is not None and tee.created is not None
    double.reset_log()

    # When the three items are looked up
    found = connector.find_created(
        [single("MUG-1"), single("CUP-1"), group("TEE", {"Size": ["S", "M"]})]
    )

    # Then the made one, nothing, and the part of the group the shop has come back
    assert found[0] == mug.created
    assert found[1] is None
    assert found[2] is not None
    assert found[2].product_id == tee.created.product_id
    assert dict(found[2].variants) == dict(tee.created.variants)


def test_delete_removes_created_products_and_added_variations(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a product made by one run and a variation another run added to it
    [tee] = connector.apply("create", [group("TEE", {"Size": ["S"]})], batch_key="b1")
    assert tee.created is not None
    pid = tee.created.product_id
    [more] = connector.apply(
        "create", [group("TEE", {"Size": ["M"]}, product_id=pid)], batch_key="b2"
    )
    [mug] = connector.apply("create", [single("MUG-1")], batch_key="b3")
    assert more.created is not None and mug.created is not None
    added = more.created.variants["TEE-M"]

    # When the second run's variation and the mug are deleted
    results = connector.apply(
        "delete",
        [
            PlanItem(1, "TEE-M", pid, added, {}),
            PlanItem(
                2, "MUG-1", mug.created.product_id, mug.created.product_id, {}, product_level=True
            ),
        ],
        batch_key="d",
    )

    # Then both are gone and the first run's product keeps its variation
    assert all(r.ok for r in results), results
    assert [v["sku"] for v in double.variations(pid)] == ["TEE-S"]
    assert [p["sku"] for p in double.products()] == ["TEE"]


def test_a_create_whose_answer_is_lost_is_resent_and_adopts_what_it_made(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a products batch the shop carries out but whose answer never arrives
    double.reset_next(after_apply=True)

    # When a single item and a group are created (the transport sends the batch again)
    results = connector.apply(
        "create", [single("MUG-1"), group("TEE", {"Size": ["S", "M"]})], batch_key="b"
    )

    # Then each exists once, and the answers name them
    assert all(r.ok for r in results), results
    assert sorted(p["sku"] for p in double.products()) == ["MUG-1", "TEE"]
    by_sku = {p["sku"]: p["id"] for p in double.products()}
    assert [r.created.product_id for r in results if r.created] == [by_sku["MUG-1"], by_sku["TEE"]]
    assert len(double.variations(by_sku["TEE"])) == 2


def test_a_group_named_like_one_of_its_variants_keeps_that_sku_for_the_variant(
    double: WooCommerceDouble, connector: WooCommerceConnector
) -> None:
    # Given a group whose parent code is its first variant's SKU (as some suppliers write it)
    item = group("TEE", {"Size": ["S", "M"]})
    assert item.new is not None
    item.new["variants"][0]["key"] = "TEE"

    # When it is created
    [result] = connector.apply("create", [item], batch_key="b")

    # Then the product has no SKU of its own, and both variations are made with theirs
    assert result.ok and result.created is not None, result
    assert set(result.created.variants) == {"TEE", "TEE-M"}
    assert double.item(result.created.product_id)["sku"] == ""
    skus = [v["sku"] for v in double.variations(result.created.product_id)]
    assert skus == ["TEE", "TEE-M"]
