"""Contract: create mode on Shopify against the Admin schema (``../shared/specs``).

Every document the connector sends to create, find and delete products validates with its
variables (checked apart from the double, as ``test_shopify_contract.py`` does), and the
double refuses a ``productSet`` as Shopify would: more than 3 options, more than 2,048
variants, a variant's option value the product does not list, variants without options,
a blank title; each with the schema's ``ProductSetUserErrorCode`` and nothing created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from graphql import GraphQLSchema
from test_shopify_contract import _contract_problems

from feedsync.domain.create import NewProduct, NewVariant
from feedsync.domain.writes import PlanItem
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync.platforms.shopify.creator import product_set_input
from feedsync_local.shopify_double import ShopifyDouble, load_schema


def single_item(sku: str) -> PlanItem:
    new: NewProduct = {
        "group": None,
        "fields": {"name": f"Item {sku}"},
        "option_names": [],
        "variants": [{"row": 1, "key": sku, "options": {}, "fields": {"price": 950}}],
        "visible": False,
        "category": None,
    }
    return PlanItem(1, sku, 0, 0, {}, rows=[1], product_level=True, new=new)


def group_item(
    key: str, sizes: list[str], *, product_id: int = 0, category: str | None = None, **own: Any
) -> PlanItem:
    """A group of one variant per size, each with a price, stock and ``own`` fields."""
    variants: list[NewVariant] = [
        {
            "row": 10 + i,
            "key": f"{key}-{size}",
            "options": {"Size": size},
            "fields": {"price": 2000, "retail_price": 2500, "stock": 3, "barcode": "123", **own},
        }
        for i, size in enumerate(sizes)
    ]
    new: NewProduct = {
        "group": key,
        "fields": {"name": f"Group {key}", "description": "<p>x</p>", "brand": "Acme"},
        "option_names": ["Size"],
        "variants": variants,
        "visible": False,
        "category": category,
    }
    rows = [v["row"] for v in variants]
    return PlanItem(10, key, product_id, 0, {}, rows=rows, product_level=True, new=new)


PRODUCT_SET = """
mutation Create($input: ProductSetInput!) {
  productSet(input: $input) { product { id } userErrors { field message code } }
}
"""


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema()


@pytest.fixture
def double() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as shop:
        yield shop


def _product_set(double: ShopifyDouble, product: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={"query": PRODUCT_SET, "variables": {"input": product}},
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    ).json()
    return dict(answer["data"]["productSet"])


def test_every_create_find_and_delete_document_matches_the_schema(
    double: ShopifyDouble, schema: GraphQLSchema
) -> None:
    # Given the connector creating new products and variants, finding and deleting them
    collection = double.add_collection("New")
    connector = ShopifyConnector(double.shop_url, double.access_token, allow_private=True)
    tee, mug = connector.apply(
        "create",
        [group_item("TEE", ["S", "M"], category=str(collection)), single_item("MUG-1")],
        batch_key="b",
    )
    assert tee.created is not None and mug.created is not None
    pid = tee.created.product_id
    [more] = connector.apply("create", [group_item("TEE", ["L"], product_id=pid)], batch_key="c")
    assert more.created is not None
    connector.find_created([single_item("MUG-1"), group_item("TEE", ["S"])])
    mug_id = mug.created.product_id
    connector.apply(
        "delete",
        [
            PlanItem(1, "TEE-L", pid, more.created.variants["TEE-L"], {}),
            PlanItem(2, "MUG-1", mug_id, mug_id, {}, product_level=True),
        ],
        batch_key="d",
    )

    # Then each document it sent is valid with its variables
    sent = [d for d in double.documents() if str(d["operationName"]).startswith("Feedsync")]
    names = {d["operationName"] for d in sent}
    assert {"FeedsyncCreate", "FeedsyncFindCreated", "FeedsyncDelete"} <= names
    for record in sent:
        assert _contract_problems(schema, record["query"], record["variables"]) == [], record


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda p: p["productOptions"].extend(
                {"name": n, "values": [{"name": "x"}]} for n in ("B", "C", "D")
            ),
            "OPTIONS_OVER_LIMIT",
        ),
        (
            lambda p: p["variants"][0]["optionValues"][0].update(name="XXL"),
            "OPTION_VALUE_DOES_NOT_EXIST",
        ),
        (lambda p: p.pop("productOptions"), "PRODUCT_OPTIONS_INPUT_MISSING"),
        (lambda p: p.update(title=" "), "INVALID_PRODUCT"),
        (
            lambda p: p["variants"].extend(
                {"optionValues": [{"optionName": "Size", "name": "S"}], "sku": f"V{i}"}
                for i in range(2048)
            ),
            "VARIANTS_OVER_LIMIT",
        ),
    ],
    ids=["four options", "unknown value", "no options", "blank title", "2,049 variants"],
)
def test_the_double_refuses_a_product_shopify_would_refuse(
    double: ShopifyDouble, change: Any, code: str
) -> None:
    # Given a valid new product with sizes S and M, changed as Shopify would refuse
    location = f"gid://shopify/Location/{double.primary_location_id}"
    product = product_set_input(dict(group_item("TEE", ["S", "M"]).new or {}), location)
    change(product)

    # When it is sent
    answer = _product_set(double, product)

    # Then it is refused with the schema's code and nothing is made
    assert answer["product"] is None
    assert code in [e["code"] for e in answer["userErrors"]], answer["userErrors"]
    assert double.product_ids() == []


def test_the_double_keeps_a_draft_with_its_options_and_a_failed_image(
    double: ShopifyDouble,
) -> None:
    # Given an image the shop cannot download
    double.break_image_url("https://img.example/tee.jpg")
    location = f"gid://shopify/Location/{double.primary_location_id}"
    item = group_item("TEE", ["S", "M"], image_url="https://img.example/tee.jpg")
    product = product_set_input(dict(item.new or {}), location)

    # When the product is created
    answer = _product_set(double, product)

    # Then it is a draft with both sizes, its media FAILED
    made = double.product(int(answer["product"]["id"].rsplit("/", 1)[1]))
    assert made["status"] == "DRAFT"
    assert made["options"] == {"Size": ["S", "M"]}
    assert [m["status"] for m in made["media"]] == ["FAILED"]
