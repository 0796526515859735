"""Contract: the WooCommerce double creates and deletes through the batch endpoints as
WooCommerce's REST v3 does (``woo_create.py``), and refuses what the shop would refuse, with
WordPress's per-item error shape ``{"id": 0, "error": {"code", "message", "data": {"status"}}}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from feedsync_local.woo_double import WooCommerceDouble

JSON = dict[str, Any]


@pytest.fixture
def double() -> Iterator[WooCommerceDouble]:
    with WooCommerceDouble() as started:
        yield started


def _batch(double: WooCommerceDouble, body: JSON, parent: int | None = None) -> requests.Response:
    path = "/products/batch" if parent is None else f"/products/{parent}/variations/batch"
    return requests.post(double.api_url + path, json=body, auth=double.credentials, timeout=10)


def _variable_tee(category: int | None = None) -> JSON:
    product: JSON = {
        "name": "Tee",
        "type": "variable",
        "status": "private",
        "attributes": [
            {"name": "Size", "variation": True, "visible": True, "options": ["S", "M"]},
            {"name": "Colour", "variation": True, "visible": True, "options": ["Red"]},
        ],
    }
    if category is not None:
        product["categories"] = [{"id": category}]
    return product


def _error_of(entry: JSON) -> tuple[int, str, int]:
    error = entry["error"]
    return entry["id"], error["code"], error["data"]["status"]


def test_a_simple_product_is_created_private_in_its_category_with_its_values(
    double: WooCommerceDouble,
) -> None:
    # Given a category and a simple product to create, private
    category = double.add_category("New arrivals")
    body = {
        "create": [
            {
                "name": "Mug",
                "type": "simple",
                "status": "private",
                "sku": "MUG-1",
                "global_unique_id": "4006381333931",
                "regular_price": "9.50",
                "sale_price": "8.00",
                "manage_stock": True,
                "stock_quantity": 7,
                "weight": "0.4",
                "categories": [{"id": category}],
            }
        ]
    }

    # When the batch is sent
    answer = _batch(double, body)

    # Then the shop answers the created product, and holds it as sent
    assert answer.status_code == 200
    [created] = answer.json()["create"]
    stored = double.item(created["id"])
    assert stored["status"] == "private"
    assert (stored["sku"], stored["global_unique_id"]) == ("MUG-1", "4006381333931")
    assert (stored["regular_price"], stored["sale_price"]) == ("9.50", "8.00")
    assert (stored["stock_quantity"], stored["weight"]) == (7, "0.4")
    assert [c["id"] for c in stored["categories"]] == [category]


def test_a_variable_product_and_its_variations_are_created_with_their_options(
    double: WooCommerceDouble,
) -> None:
    # Given a variable product created with two variation attributes
    [product] = _batch(double, {"create": [_variable_tee()]}).json()["create"]

    # When its variations are created with one option of each attribute
    variations = [
        {
            "sku": f"TEE-{size}",
            "regular_price": "12.00",
            "attributes": [{"name": "Size", "option": size}, {"name": "Colour", "option": "Red"}],
        }
        for size in ("S", "M")
    ]
    answer = _batch(double, {"create": variations}, parent=product["id"])

    # Then both exist under the product with their options
    created = answer.json()["create"]
    assert all("error" not in entry for entry in created)
    listed = double.variations(product["id"])
    assert [v["sku"] for v in listed] == ["TEE-S", "TEE-M"]
    assert [{a["name"]: a["option"] for a in v["attributes"]} for v in listed] == [
        {"Size": "S", "Colour": "Red"},
        {"Size": "M", "Colour": "Red"},
    ]
    assert double.item(product["id"])["attributes"][0]["options"] == ["S", "M"]


def test_a_duplicated_sku_is_refused_naming_the_item_that_has_it(
    double: WooCommerceDouble,
) -> None:
    # Given a product that holds a SKU
    [holder] = double.seed([{"name": "Mug", "sku": "MUG-1", "regular_price": "9.50"}])

    # When a batch creates another product with that SKU and one with a new SKU
    answer = _batch(
        double,
        {"create": [{"name": "Mug again", "sku": "MUG-1"}, {"name": "Cup", "sku": "CUP-1"}]},
    ).json()["create"]

    # Then the first is refused by the shop's unique-SKU check and the second is created
    assert _error_of(answer[0]) == (0, "product_invalid_sku", 400)
    assert answer[0]["error"]["data"]["resource_id"] == holder["id"]
    assert answer[1]["sku"] == "CUP-1"
    assert sorted(p["sku"] for p in double.products()) == ["CUP-1", "MUG-1"]


def test_a_variation_with_an_option_its_product_lacks_is_refused(
    double: WooCommerceDouble,
) -> None:
    # Given a variable product whose sizes are S and M
    [product] = _batch(double, {"create": [_variable_tee()]}).json()["create"]

    # When variations name a size it lacks, an attribute it lacks, and no colour
    wrong = [
        {
            "sku": "T-XL",
            "attributes": [{"name": "Size", "option": "XL"}, {"name": "Colour", "option": "Red"}],
        },
        {"sku": "T-F", "attributes": [{"name": "Fit", "option": "Slim"}]},
        {"sku": "T-S", "attributes": [{"name": "Size", "option": "S"}]},
    ]
    answer = _batch(double, {"create": wrong}, parent=product["id"]).json()["create"]

    # Then each is refused and none is created
    code = "woocommerce_rest_product_variation_invalid_attribute"
    assert [_error_of(entry) for entry in answer] == [(0, code, 400)] * 3
    assert "XL" in answer[0]["error"]["message"]
    assert double.variations(product["id"]) == []


def test_a_variation_of_a_simple_product_and_an_unknown_category_are_refused(
    double: WooCommerceDouble,
) -> None:
    # Given a simple product
    [simple] = double.seed([{"name": "Mug", "sku": "MUG-1"}])

    # When a variation is created under it, and a product in a category the shop lacks
    variation = _batch(double, {"create": [{"sku": "MUG-2"}]}, parent=simple["id"]).json()
    product = _batch(double, {"create": [_variable_tee(category=999_999)]}).json()

    # Then both are refused
    assert (
        _error_of(variation["create"][0])[1] == "woocommerce_rest_product_variation_invalid_parent"
    )
    assert _error_of(product["create"][0])[1] == "woocommerce_rest_term_invalid"
    assert len(double.products()) == 1


def test_a_product_without_a_name_or_with_an_unknown_type_is_refused(
    double: WooCommerceDouble,
) -> None:
    # When products are created without a name and with a type outside the schema's enum
    answer = _batch(
        double, {"create": [{"sku": "A"}, {"name": "B", "type": "bundle", "sku": "B"}]}
    ).json()["create"]

    # Then each is refused as an invalid parameter, and nothing is created
    assert [_error_of(entry)[1] for entry in answer] == ["rest_invalid_param"] * 2
    assert double.products() == []


def test_a_create_whose_image_cannot_be_downloaded_creates_nothing(
    double: WooCommerceDouble,
) -> None:
    # Given an image URL the shop cannot fetch
    double.break_image_url("https://img.example/broken.jpg")

    # When a product is created with it
    answer = _batch(
        double,
        {
            "create": [
                {
                    "name": "Mug",
                    "sku": "MUG-1",
                    "images": [{"src": "https://img.example/broken.jpg"}],
                }
            ]
        },
    ).json()["create"]

    # Then the whole entry fails as set_product_images does, and the SKU stays free
    assert _error_of(answer[0])[1] == "woocommerce_product_image_upload_error"
    again = _batch(double, {"create": [{"name": "Mug", "sku": "MUG-1"}]}).json()["create"]
    assert again[0]["sku"] == "MUG-1"


def test_more_than_100_objects_in_one_batch_are_refused_whole(
    double: WooCommerceDouble,
) -> None:
    # When 101 products are created in one batch
    answer = _batch(double, {"create": [{"name": f"P{i}", "sku": f"P{i}"} for i in range(101)]})

    # Then the request is refused and nothing is created
    assert answer.status_code == 413
    assert answer.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert double.products() == []


def test_a_shop_cap_on_variations_refuses_the_one_past_it() -> None:
    # Given a shop that allows 2 variations per product
    with WooCommerceDouble(max_variations=2) as double:
        [product] = _batch(double, {"create": [_variable_tee()]}).json()["create"]
        three = [
            {
                "sku": f"T{i}",
                "attributes": [{"name": "Size", "option": s}, {"name": "Colour", "option": "Red"}],
            }
            for i, s in enumerate(("S", "M", "S"))
        ]

        # When 3 are created
        answer = _batch(double, {"create": three}, parent=product["id"]).json()["create"]

        # Then the third is refused with the cap
        assert "error" not in answer[1]
        assert "at most 2 variations" in answer[2]["error"]["message"]


def test_delete_removes_a_product_with_its_variations_and_answers_unknown_ids(
    double: WooCommerceDouble,
) -> None:
    # Given a variable product with a variation, and a simple product
    [product] = _batch(double, {"create": [_variable_tee()]}).json()["create"]
    variation = {
        "sku": "T-S",
        "attributes": [{"name": "Size", "option": "S"}, {"name": "Colour", "option": "Red"}],
    }
    [made] = _batch(double, {"create": [variation]}, parent=product["id"]).json()["create"]
    [simple] = double.seed([{"name": "Mug", "sku": "MUG-1"}])

    # When the variable product and an id the shop lacks are deleted
    answer = _batch(double, {"delete": [product["id"], 987_654]}).json()["delete"]

    # Then the product goes with its variation, the unknown id answers Invalid ID, the rest stays
    assert answer[0]["id"] == product["id"]
    assert _error_of(answer[1]) == (987_654, "woocommerce_rest_product_invalid_id", 400)
    assert [p["id"] for p in double.products()] == [simple["id"]]
    with pytest.raises(KeyError):
        double.item(made["id"])


def test_a_variation_is_deleted_through_its_product_batch_only(
    double: WooCommerceDouble,
) -> None:
    # Given two variable products, one with a variation
    [first, second] = _batch(double, {"create": [_variable_tee(), _variable_tee()]}).json()[
        "create"
    ]
    variation = {
        "sku": "T-S",
        "attributes": [{"name": "Size", "option": "S"}, {"name": "Colour", "option": "Red"}],
    }
    [made] = _batch(double, {"create": [variation]}, parent=first["id"]).json()["create"]

    # When the variation is deleted through the other product's batch, then its own
    wrong = _batch(double, {"delete": [made["id"]]}, parent=second["id"]).json()["delete"]
    right = _batch(double, {"delete": [made["id"]]}, parent=first["id"]).json()["delete"]

    # Then only its own product's batch deletes it
    assert _error_of(wrong[0])[1] == "woocommerce_rest_product_variation_invalid_id"
    assert right[0]["id"] == made["id"]
    assert double.variations(first["id"]) == []


def test_products_and_variations_are_found_by_sku(double: WooCommerceDouble) -> None:
    # Given a simple product and a variation with known SKUs
    [product] = _batch(double, {"create": [_variable_tee()]}).json()["create"]
    variation = {
        "sku": "T-S",
        "attributes": [{"name": "Size", "option": "S"}, {"name": "Colour", "option": "Red"}],
    }
    _batch(double, {"create": [variation]}, parent=product["id"])
    double.seed([{"name": "Mug", "sku": "MUG-1"}, {"name": "Cup", "sku": "CUP-1"}])

    # When the products and the variations are listed by SKU
    def listed(path: str, skus: str) -> list[str]:
        answer = requests.get(
            double.api_url + path, params={"sku": skus}, auth=double.credentials, timeout=10
        )
        return sorted(item["sku"] for item in answer.json())

    # Then each list holds exactly the SKUs asked that it has
    assert listed("/products", "MUG-1,T-S,NOPE") == ["MUG-1"]
    assert listed("/variations", "MUG-1,T-S") == ["T-S"]
    assert listed(f"/products/{product['id']}/variations", "T-S") == ["T-S"]
