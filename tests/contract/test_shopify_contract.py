"""Contract: the Shopify connector and the Shopify double against Shopify's Admin schema.

The schema is ``../shared/specs/shopify_admin_schema.graphql`` (never copied into the repo;
``FEEDSYNC_SPECS_DIR`` overrides), built once per process. The double records every
document it receives (bulk mutation lines included); each is checked here independently
of the double: it parses, validates, and its variables coerce to the declared input
types. graphql-core leaves custom scalars unchecked (``Money``, ``Decimal``, ``ID``,
``DateTime`` accept anything), so those are checked for Shopify's documented formats too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    parse,
    type_from_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from feedsync.domain.writes import PlanItem
from feedsync.platforms.shopify import queries as shopify
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync_local.shopify_double import ShopifyDouble, load_schema

DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
GID = re.compile(r"^gid://shopify/[A-Za-z]+/\d+$")
DOCUMENTS = {
    name: value
    for name, value in vars(shopify).items()
    if name.isupper()
    and isinstance(value, str)
    and value.lstrip().startswith(("query", "mutation"))
}


class NoSleep:
    """Real but short waits: the bulk poll must let the double's worker run."""

    def __call__(self, seconds: float) -> None:
        time.sleep(min(seconds, 0.05))


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema()


@pytest.fixture
def double() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as shop:
        yield shop


def _scalar_problems(value: Any, type_: GraphQLInputType, where: str) -> list[str]:
    """Shopify's formats for the scalars graphql-core passes through unchecked."""
    if isinstance(type_, GraphQLNonNull):
        return _scalar_problems(value, type_.of_type, where)
    if value is None:
        return []
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [
            p
            for i, v in enumerate(items)
            for p in _scalar_problems(v, type_.of_type, f"{where}[{i}]")
        ]
    if isinstance(type_, GraphQLInputObjectType):
        return [
            p
            for key, v in value.items()
            if key in type_.fields
            for p in _scalar_problems(v, type_.fields[key].type, f"{where}.{key}")
        ]
    if isinstance(type_, GraphQLScalarType) and not isinstance(type_, GraphQLEnumType):
        if type_.name in ("Money", "Decimal") and not (
            isinstance(value, str) and DECIMAL.match(value)
        ):
            return [f"{where}: {value!r} is not a {type_.name} decimal string"]
        if type_.name == "ID" and not (isinstance(value, str) and GID.match(value)):
            return [f"{where}: {value!r} is not a Shopify GID"]
    return []


def _contract_problems(schema: GraphQLSchema, query: str, variables: dict[str, Any]) -> list[str]:
    document = parse(query)
    problems = [e.message for e in validate(schema, document)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return [*problems, "one named operation per document expected"]
    definitions = operations[0].variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables)
    if isinstance(coerced, list):
        problems += [e.message for e in coerced]
    declared = {d.variable.name.value for d in definitions}
    problems += [f"undeclared variable ${k}" for k in variables if k not in declared]
    for definition in definitions:
        type_ = type_from_ast(schema, definition.type)
        name = definition.variable.name.value
        if type_ is not None and name in variables:
            problems += _scalar_problems(variables[name], type_, f"${name}")  # type: ignore[arg-type]
    return problems


def _exercise_every_path(double: ShopifyDouble) -> None:
    """Drive each document the connector has: reads, writes, stale recheck, the bulk path,
    content (weights, images, product fields)."""
    products = double.seed(
        [
            {
                "title": "Long",
                "description_html": "<p>Twelve of them</p>",
                "vendor": "Acme",
                "variants": [
                    {
                        "sku": f"L{i}",
                        "price": "9.99",
                        "available": 3,
                        "weight": "0.5",
                        "image": f"https://supplier.example/l{i % 2}.jpg",
                    }
                    for i in range(12)
                ],
            },
            {"title": "Short", "variants": [{"sku": "S", "price": "5.00", "available": 1}]},
        ]
    )
    connector = ShopifyConnector(
        double.shop_url, double.access_token, sleep=NoSleep(), bulk_poll_s=0.02, allow_private=True
    )
    assert len(list(connector.iter_variants(None, None))) == 13  # a bulk query
    assert connector.last_read == "bulk"
    # pages (an incremental read); the long product needs a product(id) page
    assert len(list(connector.iter_variants(datetime(2000, 1, 1, tzinfo=UTC)))) == 13
    long, short = products

    def items(product: dict[str, Any], **changes: Any) -> list[PlanItem]:
        return [
            PlanItem(
                row=n + 1,
                key=v["sku"],
                product_id=product["id"],
                variant_id=v["id"],
                ref=str(v["inventory_item_id"]),
                changes=dict(changes),
            )
            for n, v in enumerate(product["variants"])
        ]

    connector.apply(
        "variants_bulk",
        items(
            long,
            price=[999, 1099],
            retail_price=[None, 1500],
            cost_price=[None, 250],
            weight=["0.5", "0.750"],
            image_url=[None, "https://supplier.example/new.jpg"],
        ),
        batch_key="k1",
    )
    double.set_available(long["variants"][0]["inventory_item_id"], 0)  # a sale: stale compare
    connector.apply("inventory_set", items(long, stock=[3, 6]), batch_key="k2")
    connector.apply("inventory_set", items(short, stock=[None, 2]), batch_key="k3")
    connector.apply(
        "variants_bulk_operation",
        items(long, price=[1099, 1199])
        + items(short, price=[500, 450], weight=["0", "2"], image_url=[None, "https://s.ex/s.png"]),
        batch_key="k4",
    )
    product = replace(items(short)[0], rows=[1], product_level=True)
    product.changes = {
        "name": ["Short", "Short one"],
        "description": [None, "<p>One <b>short</b> one</p>"],
        "brand": [None, "Acme"],
        "visible": [True, False],
    }
    assert connector.apply("product_update", [product], batch_key="k5") == [(True, "")]
    assert double.product(short["id"])["status"] == "DRAFT"
    # the same product fields as a bulk mutation (one JSONL line of variables per product)
    long_product = replace(items(long)[0], rows=[2], product_level=True)
    long_product.changes = {"description": [None, "<p>Twelve</p>"], "brand": [None, "B"]}
    product.changes = {"name": ["Short one", "Short two"], "visible": [False, True]}
    assert connector.apply(
        "product_update_bulk_operation", [long_product, product], batch_key="k6"
    ) == [(True, ""), (True, "")]
    assert double.product(short["id"])["status"] == "ACTIVE"
    # a product deleted in the shop: its refused update is looked up (nodes) and found gone
    [gone] = double.seed([{"title": "Gone", "variants": [{"sku": "G", "price": "1.00"}]}])
    double.delete_product(gone["id"])
    gone_item = replace(items(gone)[0], rows=[3], product_level=True)
    gone_item.changes = {"name": ["Gone", "Still gone"]}
    [result] = connector.apply("product_update", [gone_item], batch_key="k7")
    assert (result.ok, result.gone) == (False, "product")


def _bulk_query_problems(schema: GraphQLSchema, query: str) -> list[str]:
    """The inner document of bulkOperationRunQuery: valid against the schema, and within
    Shopify's bulk rules (one query, no variables, one top-level connection field, nodes
    through ``edges { node }`` or ``nodes``, connections nested at most two deep, ``id`` on
    the parent of a nested connection so ``__parentId`` can name it)."""
    document = parse(query)
    problems = [e.message for e in validate(schema, document)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return [*problems, "one query operation expected"]
    operation = operations[0]
    if operation.variable_definitions:
        problems.append("a bulk query takes no variables")
    tops = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(tops) != 1 or tops[0].name.value in ("node", "nodes"):
        return [*problems, "one top-level field other than node/nodes expected"]
    connections: list[int] = []

    def walk(type_: Any, field: FieldNode, depth: int) -> None:
        named = get_named_type(type_.fields[field.name.value].type)
        if field.selection_set is None:
            return
        if named.name.endswith("Connection"):
            connections.append(depth + 1)
            for sub in field.selection_set.selections:
                assert isinstance(sub, FieldNode)
                node_type: Any = get_named_type(named.fields[sub.name.value].type)  # type: ignore[attr-defined]
                selection = sub.selection_set
                if sub.name.value == "edges" and selection is not None:
                    [inner] = selection.selections
                    assert isinstance(inner, FieldNode) and inner.name.value == "node"
                    node_type = get_named_type(node_type.fields["node"].type)
                    selection = inner.selection_set
                if selection is None:
                    continue
                before = len(connections)
                children = [f for f in selection.selections if isinstance(f, FieldNode)]
                for child in children:
                    walk(node_type, child, depth + 1)
                if len(connections) > before and "id" not in {c.name.value for c in children}:
                    problems.append(f"{field.name.value}: nodes with a nested connection need id")
        else:
            for child in field.selection_set.selections:
                assert isinstance(child, FieldNode)
                walk(named, child, depth)

    walk(schema.query_type, tops[0], 0)
    if not connections or connections[0] != 1:
        problems.append("the top-level field must be a connection")
    if len(connections) > 5 or max(connections, default=0) > 2:
        problems.append(f"too many or too deep connections: {connections}")
    return problems


def test_every_connector_document_validates_statically(schema: GraphQLSchema) -> None:
    assert len(DOCUMENTS) >= 10
    for name, query in DOCUMENTS.items():
        assert validate(schema, parse(query)) == [], name
    # and the bulk query the full read runs, for a location GID
    inner = shopify.bulk_products_query("gid://shopify/Location/123")
    assert _bulk_query_problems(schema, inner) == []
    assert '"gid://shopify/Location/123"' in inner


def test_the_contract_check_catches_a_bulk_query_out_of_the_rules(schema: GraphQLSchema) -> None:
    """Guard: the bulk rules check fails where Shopify would refuse the bulk query."""
    assert _bulk_query_problems(schema, "query { shop { name } }") == [
        "the top-level field must be a connection"
    ]
    deep = (
        "query { products { edges { node { id variants { edges { node { id "
        "inventoryItem { inventoryLevels { edges { node { id } } } } } } } } } } }"
    )
    assert _bulk_query_problems(schema, deep) == ["too many or too deep connections: [1, 2, 3]"]
    orphan = "query { products { nodes { title variants { nodes { id } } } } }"
    assert _bulk_query_problems(schema, orphan) == [
        "products: nodes with a nested connection need id"
    ]


def test_everything_the_connector_sends_matches_the_schema(
    double: ShopifyDouble, schema: GraphQLSchema
) -> None:
    # Given a run through every read and write path of the connector
    _exercise_every_path(double)
    sent = double.documents()
    # Then every document (and each bulk JSONL line's variables) is valid with its variables
    for record in sent:
        problems = _contract_problems(schema, record["query"], record["variables"])
        assert problems == [], (record.get("operationName"), problems)
        assert record["valid"]
    # And the bulk query's inner document too, against the schema and the bulk rules
    inner = [r["variables"]["query"] for r in sent if r["operationName"] == "FeedsyncBulkQuery"]
    assert len(inner) == 1
    assert _bulk_query_problems(schema, inner[0]) == []
    # And every document the connector defines was exercised (the bulk query's inner one too)
    names = {
        parse(query).definitions[0].name.value  # type: ignore[attr-defined]
        for query in [r["query"] for r in sent] + inner
    }
    defined = {parse(q).definitions[0].name.value for q in DOCUMENTS.values()}  # type: ignore[attr-defined]
    assert defined - names == {"FeedsyncCurrentBulkMutation"}  # only when a bulk op is running
    assert any(r["bulk"] for r in sent)
    # And both bulk mutations ran their lines: variant updates and product updates
    bulk_roots = {parse(r["query"]).definitions[0].name.value for r in sent if r["bulk"]}  # type: ignore[attr-defined]
    assert bulk_roots == {"FeedsyncVariantsBulkUpdate", "FeedsyncProductUpdate"}


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("query { products { edges { node { inventory } } } }", "Cannot query field"),
        ("query { shop { name } }", "require a connection field"),
        ("query Q($n: Int) { products(first: $n) { nodes { id } } }", "cannot use variables"),
        ('query { node(id: "gid://shopify/Product/1") { id } }', "node and nodes"),
        (
            "query { products { nodes { title variants { nodes { id } } } } }",
            "must select the 'id' field",
        ),
        (
            "query { products { nodes { id variants { nodes { id inventoryItem { "
            "inventoryLevels { nodes { id } } } } } } } }",
            "at most 2 levels deep",
        ),
    ],
)
def test_the_double_refuses_a_bulk_query_shopify_would_refuse(
    double: ShopifyDouble, query: str, fragment: str
) -> None:
    response = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={"query": shopify.BULK_QUERY_RUN, "variables": {"query": query}},
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    )
    payload = response.json()["data"]["bulkOperationRunQuery"]
    assert payload["bulkOperation"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "INVALID" and fragment in error["message"], error
    assert double.bulk_operations() == []


def test_every_answer_carries_the_cost_extension(double: ShopifyDouble) -> None:
    double.seed([{"title": "A"}])
    response = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={"query": "query Q { products(first: 5) { nodes { id } } }"},
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    )
    cost = response.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 5 * 1
    assert cost["actualQueryCost"] == 2 + 1
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        ("query Q { products(first: 1) { nodes { inventory } } }", {}, "Cannot query field"),
        ("query Q { products(first: 1, limit: 5) { nodes { id } } }", {}, "Unknown argument"),
        ("query Q { products(first: 1) { nodes { id }", {}, "Syntax Error"),
        (
            "mutation M($v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate("
            "variants: $v) { userErrors { message } } }",
            {"v": []},
            "(productId:)' of type 'ID!' is required",
        ),
    ],
)
def test_the_double_rejects_an_invalid_document(
    double: ShopifyDouble, query: str, variables: dict[str, Any], fragment: str
) -> None:
    # Given a product, When an invalid document is sent
    [product] = double.seed([{"title": "A", "variants": [{"price": "1.00"}]}])
    response = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={"query": query, "variables": variables},
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    )
    # Then Shopify's shape comes back: HTTP 200, errors with a message, no data, nothing run
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert fragment in body["errors"][0]["message"]
    assert double.variant(product["variants"][0]["id"])["price"] == "1.00"
    assert double.documents()[-1]["valid"] is False


def test_the_double_rejects_variables_that_do_not_match_their_types(
    double: ShopifyDouble,
) -> None:
    [product] = double.seed([{"title": "A", "variants": [{"price": "1.00"}]}])
    response = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={
            "query": shopify.VARIANTS_BULK_UPDATE,
            "variables": {
                "productId": f"gid://shopify/Product/{product['id']}",
                "variants": [{"prices": "2"}],
            },
        },
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    )
    body = response.json()
    assert "prices" in body["errors"][0]["message"]
    assert body.get("data") is None
    assert double.variant(product["variants"][0]["id"])["price"] == "1.00"


def test_the_contract_check_catches_a_weight_or_media_shopify_would_not_take(
    schema: GraphQLSchema,
) -> None:
    """Guard: WeightInput wants a Float and a WeightUnit; CreateMediaInput a MediaContentType."""
    problems = _contract_problems(
        schema,
        shopify.VARIANTS_BULK_UPDATE,
        {
            "productId": "gid://shopify/Product/1",
            "variants": [
                {
                    "id": "gid://shopify/ProductVariant/2",
                    "inventoryItem": {"measurement": {"weight": {"value": "0.25", "unit": "KG"}}},
                    "mediaSrc": ["https://s.example/a.jpg"],
                }
            ],
            "media": [{"originalSource": "https://s.example/a.jpg", "mediaContentType": "JPEG"}],
        },
    )
    assert len(problems) == 3, problems
    assert any("Float" in p for p in problems)
    assert any("WeightUnit" in p for p in problems)
    assert any("MediaContentType" in p for p in problems)


def test_the_double_answers_content_reads_by_the_schema(double: ShopifyDouble) -> None:
    """Every content field the double serves resolves without errors (graphql-core checks
    each answer against the schema's types and non-null rules)."""
    double.seed(
        [
            {
                "title": "A",
                "description_html": "<p>x</p>",
                "vendor": "V",
                "variants": [{"image": "https://s.example/a.jpg", "weight": "1"}, {}],
            }
        ]
    )
    query = """
    query Q {
      shop { weightUnit }
      products(first: 5) { nodes {
        id descriptionHtml description vendor
        featuredMedia { id mediaContentType status }
        media(first: 5) { nodes { id alt mediaContentType ... on MediaImage { image { url } } } }
        variants(first: 5) { nodes {
          image { url altText }
          media(first: 1) { nodes { id } }
          inventoryItem { measurement { id weight { value unit } } }
        } }
      } }
    }
    """
    response = requests.post(
        f"{double.shop_url}/admin/api/2025-01/graphql.json",
        json={"query": query},
        headers={"X-Shopify-Access-Token": double.access_token},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    [product] = body["data"]["products"]["nodes"]
    assert body["data"]["shop"] == {"weightUnit": "KILOGRAMS"}
    assert (product["description"], product["vendor"]) == ("x", "V")
    with_image, without = product["variants"]["nodes"]
    assert with_image["image"]["url"].startswith("https://cdn.shopify.com/")
    assert without["image"] is None and without["media"]["nodes"] == []
    assert without["inventoryItem"]["measurement"]["weight"] == {"value": 0.0, "unit": "KILOGRAMS"}


def test_the_contract_check_catches_a_wrong_scalar_format(schema: GraphQLSchema) -> None:
    """Guard: the check itself must fail on numbers where Shopify wants decimal strings."""
    problems = _contract_problems(
        schema,
        shopify.VARIANTS_BULK_UPDATE,
        {"productId": "gid://shopify/Product/1", "variants": [{"id": "7", "price": 12.5}]},
    )
    assert problems == [
        "$variants[0].id: '7' is not a Shopify GID",
        "$variants[0].price: 12.5 is not a Money decimal string",
    ]
