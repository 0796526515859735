"""Contract: the sandbox store and the BigCommerce connector against BigCommerce's OpenAPI files.

Every request the connector sends and every response the sandbox returns (for the
operations the connector uses) is validated with openapi-core against the specs in
``../shared/specs`` (never copied into the repo; ``FEEDSYNC_SPECS_DIR`` overrides).

Normalisation applied to the specs in memory: the variants file marks nullable fields
with the Swagger-2 extension ``x-nullable: true``, which OpenAPI 3.0 validators ignore;
BigCommerce means "nullable" (variant prices are null when inherited), so it is read as
``nullable: true``. ``PUT /catalog/products`` (``product_Put_Collection``) requires each
item's ``id`` and also marks it ``readOnly``, which a request validator then refuses; the
operation's description says the id is required, so ``readOnly`` is dropped there.
``application/problem+json`` (inventory errors) is deserialised as JSON. Servers: requests
are validated as if sent to api.bigcommerce.com. ``POST /catalog/products``'s ``variants``
(``productVariant_Full``) require ``id`` and ``product_id``, which a variant created with its
product cannot have yet: there only ``sku`` is required.

``GET /catalog/brands`` (brand names for the index) is described by BigCommerce's
``brands_catalog.v3.yml``, which ``../shared/specs`` does not hold: its exchanges are
checked against the documented shape by hand (``check_brands``) instead.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from feedsync.domain.create import CreateSettings, gather_creations, row_of
from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore
from feedsync_local.specs import specs_dir

REPO = Path(__file__).resolve().parents[2]
SPECS_DIR = specs_dir()
PLATFORM = "https://api.bigcommerce.com"
RATE_HEADERS = (
    "X-Rate-Limit-Requests-Left",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Time-Window-Ms",
)

Exchange = tuple[requests.PreparedRequest, requests.Response]


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("x-nullable") is True:
            node["nullable"] = True
        for value in node.values():
            _nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable(value)
    return node


def _load(name: str) -> dict[str, Any]:
    path = SPECS_DIR / name
    if not path.is_file():
        pytest.fail(f"BigCommerce spec {path} not found (set FEEDSYNC_SPECS_DIR)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        return _nullable(yaml.load(fh, Loader=loader))


class Contract:
    """openapi-core validators for the two catalog specs, routed by path."""

    def __init__(self) -> None:
        self.products_doc = _load("products_catalog.v3.yml")
        self.variants_doc = _load("product-variants_catalog.v3.yml")
        self.inventory_doc = _load("inventory.v3.yml")
        # The batch update requires ``id`` but the spec also marks it read-only.
        put_item = self.products_doc["components"]["schemas"]["product_Put_Collection"]["items"]
        put_item["allOf"][0]["properties"]["id"].pop("readOnly", None)
        # ``POST /catalog/products`` creates a product's variants with it, so they have no
        # ids yet; its ``variants`` share ``productVariant_Full``, which requires ``id`` and
        # ``product_id`` (the ids the answer carries): a new product's variant needs ``sku``.
        schemas = self.products_doc["components"]["schemas"]
        post = schemas["product_Base_POST"]["properties"]["variants"]
        new_variant = json.loads(json.dumps(schemas["productVariant_Full"]))
        new_variant["required"] = ["sku"]
        post["items"] = new_variant
        # Inventory errors are ``application/problem+json``: JSON, as far as schemas go.
        config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
        self.products = OpenAPI.from_dict(self.products_doc, config=config)
        self.variants = OpenAPI.from_dict(self.variants_doc, config=config)
        self.inventory = OpenAPI.from_dict(self.inventory_doc, config=config)

    def spec_for(self, path: str) -> OpenAPI:
        if path.endswith("/catalog/brands"):
            raise AssertionError("no spec file for /catalog/brands: use check_brands")
        if path.endswith("/catalog/products") or re.search(r"/catalog/products/\d+$", path):
            return self.products
        if path.endswith("/catalog/variants") or re.search(r"/catalog/products/\d+/variants", path):
            return self.variants
        if path.endswith("/inventory/adjustments/absolute"):
            return self.inventory
        raise AssertionError(f"no spec routed for {path}")

    @staticmethod
    def to_openapi(prepared: requests.PreparedRequest) -> MockRequest:
        url = urlsplit(prepared.url or "")
        body = prepared.body
        data = body.encode() if isinstance(body, str) else body
        return MockRequest(
            PLATFORM,
            prepared.method or "GET",
            url.path,
            args=parse_qs(url.query),
            headers=dict(prepared.headers),
            data=data,
            content_type=prepared.headers.get("Content-Type", "application/json"),
        )

    def validate_request(self, prepared: requests.PreparedRequest) -> None:
        request = self.to_openapi(prepared)
        self.spec_for(request.path).validate_request(request)

    def validate_response(
        self, prepared: requests.PreparedRequest, resp: requests.Response
    ) -> None:
        request = self.to_openapi(prepared)
        if resp.status_code == 204:  # no content, as HTTP says: the status must be declared
            self.check_no_content(prepared, resp)
            return
        response = MockResponse(
            resp.content,
            status_code=resp.status_code,
            headers=dict(resp.headers),
            content_type=resp.headers.get("Content-Type", ""),
        )
        self.spec_for(request.path).validate_response(request, response)

    def check_no_content(self, prepared: requests.PreparedRequest, resp: requests.Response) -> None:
        """A 204 has no body; openapi-core asks for one whatever the spec says, so the
        operation is looked up by hand: it must declare 204 with no content."""
        path = urlsplit(prepared.url or "").path.split("/v3", 1)[1]
        docs = (self.products_doc, self.variants_doc)
        for doc in docs:
            for template, operations in doc["paths"].items():
                pattern = re.sub(r"\{[^}]+\}", r"\\d+", template)
                if re.fullmatch(pattern, path) and str(prepared.method).lower() in operations:
                    declared = operations[str(prepared.method).lower()]["responses"]
                    assert "204" in declared and not declared["204"].get("content"), template
                    assert not resp.content, resp.content[:200]
                    return
        raise AssertionError(f"no operation {prepared.method} {path} in the specs")

    def check(self, exchanges: list[Exchange]) -> None:
        assert exchanges, "no traffic was recorded"
        for prepared, resp in exchanges:
            if urlsplit(prepared.url or "").path.endswith("/catalog/brands"):
                self.check_brands(prepared, resp)
                continue
            self.validate_request(prepared)
            self.validate_response(prepared, resp)

    @staticmethod
    def check_brands(prepared: requests.PreparedRequest, resp: requests.Response) -> None:
        """``GET /catalog/brands`` as BigCommerce documents it (getBrands, brand_Full)."""
        assert prepared.method == "GET" and not prepared.body
        params = parse_qs(urlsplit(prepared.url or "").query)
        assert set(params) <= {"page", "limit", "id:in"}, params
        assert 1 <= int(params["limit"][0]) <= 250
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
        body = resp.json()
        assert set(body) == {"data", "meta"}
        for brand in body["data"]:
            assert isinstance(brand["id"], int) and brand["id"] > 0
            assert isinstance(brand["name"], str) and 1 <= len(brand["name"]) <= 255
            assert isinstance(brand["custom_url"]["url"], str)
        pagination = body["meta"]["pagination"]
        assert pagination["count"] == len(body["data"]) <= pagination["per_page"]

    def declared(self, doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
        """The property names a request schema declares (through $ref and allOf)."""
        ref = schema.get("$ref")
        if ref:
            node: Any = doc
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]
            return self.declared(doc, node)
        names = set(schema.get("properties") or {})
        for part in schema.get("allOf") or []:
            names |= self.declared(doc, part)
        if "items" in schema:
            names |= self.declared(doc, schema["items"])
        return names

    def put_fields(self, path: str, *, batch_only: bool = False) -> set[str]:
        """What a batch PUT body item may carry, by the spec.

        The variant batch's item schema ("Variant Put") is a trimmed inline copy of the
        file's ``productVariant_Put`` (the single-variant update): it leaves out
        ``product_id`` (which the operation's description names) and ``image_url``. Both
        are declared variant fields of the same file, so unless ``batch_only`` they count.
        """
        doc = self.products_doc if path == "/catalog/products" else self.variants_doc
        body = doc["paths"][path]["put"]["requestBody"]["content"]["application/json"]
        names = self.declared(doc, body["schema"])
        if path == "/catalog/variants" and not batch_only:
            names |= self.declared(doc, {"$ref": "#/components/schemas/productVariant_Put"})
        return names


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    with SandboxStore() as store:
        yield store


@pytest.fixture
def store(sandbox: SandboxStore) -> tuple[str, str]:
    return sandbox.create_store()


@pytest.fixture
def traffic() -> tuple[requests.Session, list[Exchange]]:
    """A session that records every (request, response) pair it sees."""
    session = requests.Session()
    seen: list[Exchange] = []

    def hook(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append((resp.request, resp))

    session.hooks["response"].append(hook)
    return session, seen


def _products(n: int, prefix: str = "P", variants: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        body: dict[str, Any] = {
            "name": f"{prefix} product {i}",
            "type": "physical",
            "weight": 1.5,
            "price": 10 + i / 100,
            "sku": f"{prefix}-{i}",
            "upc": f"{400000000000 + i}",
            "inventory_level": i % 7,
        }
        if variants:
            body["sku"] = ""
            body["variants"] = [
                {"sku": f"{prefix}-{i}-{k}", "price": 5.25 + k, "inventory_level": k}
                for k in range(variants)
            ]
        out.append(body)
    return out


def _headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token, "Accept": "application/json"}


# -- the validator itself is not vacuous ---------------------------------------------------
def test_validator_rejects_a_response_that_breaks_the_spec(contract: Contract) -> None:
    # Given a variant batch response whose price is negative (spec: minimum 0)
    request = MockRequest(
        PLATFORM,
        "put",
        "/stores/abc/v3/catalog/variants",
        headers={"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "*/*"},
        data=b'[{"id": 1, "price": 1.5}]',
    )
    bad = {"data": [{"id": 1, "product_id": 2, "sku": "a", "price": -1}], "meta": {}}
    # When it is validated / Then the validator raises
    with pytest.raises(Exception, match=r"not valid|minimum"):
        contract.variants.validate_response(request, MockResponse(json.dumps(bad).encode()))
    # And a request body with a non-numeric price is rejected too
    wrong = MockRequest(
        PLATFORM,
        "put",
        "/stores/abc/v3/catalog/variants",
        headers={"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "*/*"},
        data=b'[{"id": 1, "price": "13.49"}]',
    )
    with pytest.raises(Exception, match=r"(?i)invalid|not valid"):
        contract.variants.validate_request(wrong)
    # And an inventory adjustment naming an item two ways (the spec's oneOf) is rejected
    twice = MockRequest(
        PLATFORM,
        "put",
        "/stores/abc/v3/inventory/adjustments/absolute",
        headers={"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "*/*"},
        data=b'{"items": [{"location_id": 1, "variant_id": 2, "product_id": 3, "quantity": 1}]}',
    )
    with pytest.raises(Exception, match=r"(?i)invalid|not valid"):
        contract.inventory.validate_request(twice)


# -- GET /catalog/products?include=variants --------------------------------------------------
def test_connector_catalog_read_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store with 260 products over two pages (simple and multi-variant products)
    store_hash, token = store
    sandbox.seed(store_hash, _products(240) + _products(20, prefix="M", variants=3))
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    # When the connector reads the whole catalog
    variants = list(connector.iter_variants())
    # Then it read every variant over two pages
    assert len(variants) == 240 + 60
    assert [urlsplit(p.url or "").query for p, _ in seen] == [
        "include=variants%2Cprimary_image&limit=250&page=1",
        "include=variants%2Cprimary_image&limit=250&page=2",
    ]
    # And every request and response conforms to getProducts
    contract.check(seen)
    first = seen[0][1].json()
    assert first["meta"]["pagination"]["total_pages"] == 2
    assert "variants" in first["data"][0]


def test_products_without_include_have_no_variants_and_conform(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store with three products
    store_hash, token = store
    sandbox.seed(store_hash, _products(3))
    session, seen = traffic
    # When products are listed without include=variants
    resp = session.get(
        f"{sandbox.api_url(store_hash)}/catalog/products", headers=_headers(token), timeout=5
    )
    # Then no product carries variants, and the exchange conforms
    assert resp.status_code == 200
    assert all("variants" not in p for p in resp.json()["data"])
    contract.check(seen)


def test_get_all_variants_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store with 5 products of 2 variants each (null sale prices: inherited)
    store_hash, token = store
    sandbox.seed(store_hash, _products(5, variants=2))
    session, seen = traffic
    # When variants are listed 4 per page
    url = f"{sandbox.api_url(store_hash)}/catalog/variants"
    pages = [
        session.get(url, params={"page": p, "limit": 4}, headers=_headers(token), timeout=5)
        for p in (1, 2, 3)
    ]
    # Then the pages hold 4 + 4 + 2 variants with consistent pagination, and conform
    assert [len(r.json()["data"]) for r in pages] == [4, 4, 2]
    meta = pages[1].json()["meta"]["pagination"]
    assert (meta["total"], meta["total_pages"], meta["current_page"]) == (10, 3, 2)
    assert set(meta["links"]) == {"previous", "current", "next"}
    assert pages[0].json()["data"][0]["sale_price"] is None
    contract.check(seen)


# -- PUT /catalog/variants -------------------------------------------------------------------
def _plan(variants: list[dict[str, Any]], **changes: list[int | str | None]) -> list[PlanItem]:
    return [
        PlanItem(
            row=i + 1,
            key=v["sku"],
            product_id=v["product_id"],
            variant_id=v["id"],
            changes=changes,
        )
        for i, v in enumerate(variants)
    ]


def test_connector_variant_batch_200_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 10 variants
    store_hash, token = store
    sandbox.seed(store_hash, _products(10))
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    plan = _plan(
        sandbox.variants(store_hash),
        price=[1000, 1349],
        sale_price=[None, 1299],
        retail_price=[None, 1999],
        cost_price=[None, 701],
        stock=[0, 12],
    )
    # When the connector writes all five writable fields
    results = connector.apply("variants", plan, batch_key="b1")
    # Then one PUT was sent, it and the 200 response conform, and the values landed
    assert all(ok for ok, _ in results)
    assert [(p.method, r.status_code) for p, r in seen] == [("PUT", 200)]
    contract.check(seen)
    sent = json.loads(seen[0][0].body or b"[]")
    assert sent[0]["price"] == 13.49 and sent[0]["inventory_level"] == 12
    after = sandbox.variants(store_hash)[0]
    assert (after["price"], after["sale_price"], after["retail_price"], after["cost_price"]) == (
        13.49,
        12.99,
        19.99,
        7.01,
    )


def test_variant_batch_over_50_is_413_as_documented(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 51 variants
    store_hash, token = store
    sandbox.seed(store_hash, _products(51))
    session, seen = traffic
    before = sandbox.variants(store_hash)
    body = [{"id": v["id"], "price": 1.0} for v in before]
    # When all 51 are sent in one PUT
    resp = session.put(
        f"{sandbox.api_url(store_hash)}/catalog/variants",
        json=body,
        headers=_headers(token),
        timeout=5,
    )
    # Then the sandbox answers 413 with the documented example's shape, nothing applied
    assert resp.status_code == 413
    example = contract.variants_doc["paths"]["/catalog/variants"]["put"]["responses"]["413"][
        "content"
    ]["application/json"]["example"]
    assert set(resp.json()) == set(example)
    assert resp.json()["title"] == example["title"]
    assert sandbox.variants(store_hash) == before
    contract.check(seen)


def test_variant_batch_422_rejects_whole_batch_and_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 4 variants and a batch where one price is negative and one id is unknown
    store_hash, token = store
    sandbox.seed(store_hash, _products(4))
    session, seen = traffic
    before = sandbox.variants(store_hash)
    ids = [v["id"] for v in before]
    body = [
        {"id": ids[0], "price": 20.0},
        {"id": ids[1], "price": -1},
        {"id": 999999, "price": 3.0},
        {"id": ids[3], "inventory_level": 5},
    ]
    # When it is sent raw (the spec itself allows only minimum 0, so skip request checks)
    resp = session.put(
        f"{sandbox.api_url(store_hash)}/catalog/variants",
        json=body,
        headers=_headers(token),
        timeout=5,
    )
    # Then 422 names both bad items in batch_errors, and nothing at all was applied
    assert resp.status_code == 422
    errors = resp.json()["batch_errors"]
    assert len(errors) == 2
    assert "price" in errors[0]["errors"] and "id" in errors[1]["errors"]
    assert sandbox.variants(store_hash) == before
    contract.validate_response(*seen[0])


def test_a_422_names_no_item_but_in_its_words_as_the_spec_documents(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 4 products, a variant refused for its price (a fault naming that field), a
    # product refused as such, and batches holding them with a bad value of another item
    store_hash, token = store
    sandbox.seed(store_hash, _products(4))
    products = sandbox.products(store_hash)
    ids = [v["id"] for v in sandbox.variants(store_hash)]
    sandbox.reject_variant(store_hash, ids[1], "must be positive", field="price")
    sandbox.reject_product(store_hash, products[2]["id"], "Product is locked")
    session, seen = traffic
    base = sandbox.api_url(store_hash)
    variants = [{"id": ids[0], "inventory_level": -1}, {"id": ids[1], "price": 3.0}]
    named = [{"id": products[2]["id"], "name": "x" * 251}, {"id": products[3]["id"], "name": ""}]
    # When they are sent raw
    refused_variants = session.put(
        f"{base}/catalog/variants", json=variants, headers=_headers(token), timeout=5
    )
    refused_products = session.put(
        f"{base}/catalog/products", json=named, headers=_headers(token), timeout=5
    )
    # Then each 422 entry carries only the spec's error keys, and its `errors` name fields
    # of the items sent (the fault's under the field it names), never an item id or place
    put = contract.variants_doc["paths"]["/catalog/variants"]["put"]
    entry_schema = put["responses"]["422"]["content"]["application/json"]["schema"]
    entry = entry_schema["properties"]["batch_errors"]["items"]["allOf"]
    allowed = set(entry[0]["properties"]) | set(entry[1]["properties"])
    batch_errors = refused_variants.json()["batch_errors"]
    assert [set(e) <= allowed for e in batch_errors] == [True, True]
    assert [set(e["errors"]) for e in batch_errors] == [{"inventory_level"}, {"price"}]
    assert refused_products.status_code == 422
    assert set(refused_products.json()["errors"]) == {"id", "name"}
    for prepared, resp in seen:
        contract.validate_response(prepared, resp)


def test_connector_bisection_traffic_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 8 variants and a plan where one variant id no longer exists
    store_hash, token = store
    sandbox.seed(store_hash, _products(8))
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    plan = _plan(sandbox.variants(store_hash), price=[1000, 1500])
    plan[5].variant_id = 424242
    # When the connector writes it
    results = connector.apply("variants", plan, batch_key="b1")
    # Then only that item failed; every PUT (422s and 200s) and response conforms
    assert [ok for ok, _ in results] == [True] * 5 + [False] + [True] * 2
    assert {r.status_code for _, r in seen} == {200, 422}
    contract.check(seen)


def test_looking_up_deleted_items_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a product of three variants and four simple products; after the catalog was
    # read, the merchant deletes one of the three variants, and one simple product
    store_hash, token = store
    sandbox.seed(store_hash, _products(1, prefix="V", variants=3) + _products(4))
    variants = sandbox.variants(store_hash)
    plan = _plan(variants, price=[1000, 1500])
    sandbox.delete_variant(store_hash, variants[1]["id"])
    sandbox.delete_product(store_hash, variants[4]["product_id"])
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    # When the connector writes the plan
    results = connector.apply("variants", plan, batch_key="b1")
    # Then the two are gone (a variant, a product), the rest written
    assert [r.gone for r in results] == [None, "variant", None, None, "product", None, None]
    # And both were looked up together once the batch was done: one read of the product
    # list by id:in with their variants (200: the variant's product lists it no longer, the
    # other product is missing), every request and answer as the products spec documents
    gets = [(p.url or "", r.status_code) for p, r in seen if p.method == "GET"]
    assert [status for _, status in gets] == [200]
    assert "id%3Ain=" in gets[0][0] and "include=variants" in gets[0][0]
    contract.check(seen)


# -- POST /catalog/products ------------------------------------------------------------------
def test_create_product_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a spec-valid product body with two variants (the spec's productVariant_Full
    # marks id/product_id required on nested variants; the sandbox ignores them)
    store_hash, token = store
    session, seen = traffic
    body = {
        "name": "Smith Journal 13",
        "type": "physical",
        "weight": 0.5,
        "price": 12.99,
        "sku": "SM-13",
        "inventory_tracking": "variant",
        "variants": [
            {"id": 0, "product_id": 0, "sku": "SM-13-RED", "price": 12.99, "upc": "012345678905"},
            {"id": 0, "product_id": 0, "sku": "SM-13-BLUE", "inventory_level": 4},
        ],
    }
    url = f"{sandbox.api_url(store_hash)}/catalog/products"
    # When it is created
    resp = session.post(url, json=body, headers=_headers(token), timeout=5)
    # Then 200 with the product and real variant ids; request and response conform
    assert resp.status_code == 200
    data = resp.json()["data"]
    assert data["name"] == body["name"] and data["price"] == 12.99
    assert [v["sku"] for v in data["variants"]] == ["SM-13-RED", "SM-13-BLUE"]
    assert all(v["id"] > 0 and v["product_id"] == data["id"] for v in data["variants"])
    assert data["inventory_level"] == 4
    contract.check(seen)


def test_create_product_duplicate_sku_is_409_and_missing_fields_422(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store holding SKU "DUP-1"
    store_hash, token = store
    sandbox.seed(
        store_hash, [{"name": "A", "type": "physical", "weight": 1, "price": 1, "sku": "DUP-1"}]
    )
    session, seen = traffic
    url = f"{sandbox.api_url(store_hash)}/catalog/products"
    # When a product reusing the SKU (other letter case) is posted
    dup = session.post(
        url,
        json={"name": "B", "type": "physical", "weight": 1, "price": 2, "sku": "dup-1"},
        headers=_headers(token),
        timeout=5,
    )
    # And a product missing the spec-required weight is posted
    missing = session.post(
        url, json={"name": "C", "type": "physical", "price": 2}, headers=_headers(token), timeout=5
    )
    # Then the duplicate is a 409 (as the spec documents duplicates) and the other a 422
    assert dup.status_code == 409 and "duplicate" in dup.json()["title"].lower()
    assert missing.status_code == 422 and "weight" in missing.json()["errors"]
    # And both responses conform; the spec agrees the second request is invalid
    for prepared, resp in seen:
        contract.validate_response(prepared, resp)
    contract.validate_request(seen[0][0])
    with pytest.raises(Exception, match=r"(?i)invalid|not valid|required"):
        contract.validate_request(seen[1][0])
    assert len(sandbox.variants(store_hash)) == 1


# -- every write the connector sends ---------------------------------------------------------
def _first_variant_id(product: dict[str, Any]) -> int:
    """A product's first variant (a product listed without its variants: the base one)."""
    variants = product.get("variants")
    return int(variants[0]["id"] if variants else product["base_variant_id"])


def _product_item(row: int, product: dict[str, Any], changes: dict[str, list[Any]]) -> PlanItem:
    """A products item for ``product`` (the sandbox's): it stands for the product."""
    return PlanItem(
        row=row,
        key=product.get("sku") or "",
        product_id=product["id"],
        variant_id=_first_variant_id(product),
        changes=changes,
        product_level=True,
    )


def _names_plan(products: list[dict[str, Any]], names: list[str]) -> list[PlanItem]:
    return [
        _product_item(i + 1, p, {"name": [p["name"], name]})
        for i, (p, name) in enumerate(zip(products, names, strict=True))
    ]


def test_every_request_body_the_connector_sends_conforms(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store with 12 products, one tracking stock by product, one variant and one
    # product the platform refuses (so batches are bisected and items re-sent)
    store_hash, token = store
    sandbox.seed(store_hash, _products(12))
    products = sandbox.products(store_hash)
    variants = sandbox.variants(store_hash)
    sandbox.set_tracking(store_hash, products[4]["id"], "product")
    sandbox.reject_variant(store_hash, variants[7]["id"], "Variant is locked")
    sandbox.reject_product(store_hash, products[2]["id"], "Product is locked")
    sandbox.add_location(store_hash, 3)
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash),
        token,
        session=session,
        inventory="adjustments",
        allow_private=True,
    )
    since = datetime(2020, 1, 1, tzinfo=UTC)
    # When it reads a modified range and writes every operation it has
    read = list(connector.iter_variants(since, datetime.now(UTC)))
    tracked_by = {v[1]: v[11] for v in read if v[11]}  # the index's platform refs
    variant_results = connector.apply(
        "variants",
        _plan(
            variants,
            price=[1000, 1349],
            sale_price=[None, None],
            retail_price=[None, 1999],
            cost_price=[None, 701],
        ),
        batch_key="v",
    )
    product_results = connector.apply(
        "products", _names_plan(products[:10], [f"N{i}" for i in range(10)]), batch_key="p"
    )
    stock_plan = [
        replace(item, ref=tracked_by.get(item.variant_id)) for item in _plan(variants, stock=[0, 5])
    ]
    stock_results = connector.apply("inventory", stock_plan, batch_key="i", location="3")
    # Then the refused items are reported and the rest applied
    assert [ok for ok, _ in variant_results] == [i != 7 for i in range(12)]
    assert [ok for ok, _ in product_results] == [i != 2 for i in range(10)]
    assert [ok for ok, _ in stock_results] == [i != 7 for i in range(12)]
    # And every request (bodies included) and every answer conforms to its operation
    methods = {(p.method, urlsplit(p.url or "").path.split("/v3")[1]) for p, _ in seen}
    refused_product = f"/catalog/products/{products[2]['id']}"
    refused_variant_owner = f"/catalog/products/{variants[7]['product_id']}"
    assert methods == {
        ("GET", "/catalog/products"),
        ("PUT", "/catalog/variants"),
        ("PUT", "/catalog/products"),
        ("PUT", "/inventory/adjustments/absolute"),
        # each item refused for good was looked up once: it exists, so it is not gone
        ("GET", refused_product),
        ("GET", refused_variant_owner),
    }
    assert not [r for r in (*variant_results, *product_results, *stock_results) if r.gone]
    assert {r.status_code for _, r in seen} == {200, 422}
    contract.check(seen)
    # And the inventory bodies name a reason and location 3; the product-tracked item
    # went by product id (the read said its stock is tracked on the product)
    bodies = [json.loads(p.body or b"{}") for p, _ in seen if (p.url or "").endswith("absolute")]
    assert all(b["reason"] == "feedsync i" for b in bodies)
    assert all(item["location_id"] == 3 for b in bodies for item in b["items"])
    assert not [k for b in bodies for item in b["items"] for k in item if k.startswith("_")]
    assert any(item.get("product_id") == products[4]["id"] for b in bodies for item in b["items"])


def test_product_batch_answers_conform(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 11 products
    store_hash, token = store
    sandbox.seed(store_hash, _products(11))
    products = sandbox.products(store_hash)
    session, seen = traffic
    url = f"{sandbox.api_url(store_hash)}/catalog/products"

    def put(body: list[dict[str, Any]]) -> requests.Response:
        return session.put(url, json=body, headers=_headers(token), timeout=5)

    # When batches too big, with a duplicate name, an unknown id, a bad name and a good one
    too_big = put([{"id": p["id"], "name": f"X{i}"} for i, p in enumerate(products)])
    duplicate = put([{"id": products[0]["id"], "name": products[1]["name"]}])
    unknown = put([{"id": 999_999, "name": "Ghost"}])
    bad = put([{"id": products[0]["id"], "name": "x" * 251}])
    good = put([{"id": products[0]["id"], "name": "Renamed"}])
    # Then 413 / 409 / 404 / 422 / 200 as documented, and nothing but the last applied
    statuses = [r.status_code for r in (too_big, duplicate, unknown, bad, good)]
    assert statuses == [413, 409, 404, 422, 200]
    example = contract.products_doc["paths"]["/catalog/products"]["put"]["responses"]["413"][
        "content"
    ]["application/json"]["example"]
    assert too_big.json()["title"] == example["title"]
    assert [p["name"] for p in sandbox.products(store_hash)][:2] == ["Renamed", "P product 1"]
    for prepared, resp in seen:
        contract.validate_response(prepared, resp)
    # And the spec agrees the over-long name is an invalid request
    with pytest.raises(Exception, match=r"(?i)invalid|not valid|long"):
        contract.validate_request(seen[3][0])


def test_inventory_adjustment_answers_conform(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a store with 2 variants, the first tracked by product
    store_hash, token = store
    sandbox.seed(store_hash, _products(2))
    products = sandbox.products(store_hash)
    variants = sandbox.variants(store_hash)
    sandbox.set_tracking(store_hash, products[0]["id"], "product")
    session, seen = traffic
    url = f"{sandbox.api_url(store_hash)}/inventory/adjustments/absolute"

    def put(items: list[dict[str, Any]]) -> requests.Response:
        body = {"reason": "contract", "items": items}
        return session.put(url, json=body, headers=_headers(token), timeout=5)

    # When the tracked-by-product item is adjusted by variant id, then by product id
    by_variant = put([{"location_id": 1, "variant_id": variants[0]["id"], "quantity": 4}])
    by_product = put([{"location_id": 1, "product_id": products[0]["id"], "quantity": 4}])
    by_sku = put([{"location_id": 1, "sku": variants[1]["sku"], "quantity": 6}])
    # Then 422 with the platform's wording (problem+json), then 200 with a transaction id
    assert by_variant.status_code == 422
    assert by_variant.headers["Content-Type"] == "application/problem+json"
    assert by_variant.json()["title"] == (
        f"[Item with variant_id {variants[0]['id']} is tracked by product, please update "
        "stock by product id]"
    )
    assert by_product.status_code == by_sku.status_code == 200
    assert by_product.json()["transaction_id"]
    assert [v["inventory_level"] for v in sandbox.variants(store_hash)] == [4, 6]
    contract.check(seen)


def test_modified_range_filters_conform_and_select(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 3 products modified at midnight on 1, 2 and 3 June 2024 (a bare max date gets
    # the current time of day added, as the spec says: midnight is inside it at any hour)
    store_hash, token = store
    sandbox.seed(store_hash, _products(3))
    for day, p in enumerate(sandbox.products(store_hash), start=1):
        sandbox.set_modified(store_hash, p["id"], datetime(2024, 6, day, 0, 0, tzinfo=UTC))
    session, seen = traffic
    # When products are listed with date_modified:min / :max in both documented formats
    url = f"{sandbox.api_url(store_hash)}/catalog/products"
    got = session.get(
        url,
        params={"date_modified:min": "2024-06-02T00:00:00Z", "date_modified:max": "2024-06-02"},
        headers=_headers(token),
        timeout=5,
    )
    # Then only the product of 2 June comes back, and the exchange conforms
    assert [p["date_modified"] for p in got.json()["data"]] == ["2024-06-02T00:00:00+00:00"]
    contract.check(seen)


# -- platform behaviour outside the spec files (auth, quota) --------------------------------
def test_every_store_response_carries_rate_limit_headers(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store
    store_hash, token = store
    url = f"{sandbox.api_url(store_hash)}/catalog/products"
    # When it is called twice
    first = requests.get(url, headers=_headers(token), timeout=5)
    second = requests.get(url, headers=_headers(token), timeout=5)
    # Then both answers carry the four headers, and requests-left counts down
    for resp in (first, second):
        assert all(h in resp.headers for h in RATE_HEADERS)
    assert first.headers["X-Rate-Limit-Requests-Quota"] == "150"
    assert first.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    left = int(first.headers["X-Rate-Limit-Requests-Left"])
    assert int(second.headers["X-Rate-Limit-Requests-Left"]) == left - 1 == 148
    assert 0 < int(second.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000


def test_quota_exhausted_is_429_with_headers_then_resets() -> None:
    # Given a sandbox with a quota of 3 requests per 1 s
    with SandboxStore(quota_requests=3, quota_window_s=1.0) as sandbox:
        store_hash, token = sandbox.create_store()
        url = f"{sandbox.api_url(store_hash)}/catalog/variants"
        # When 4 requests are sent at once
        statuses = [requests.get(url, headers=_headers(token), timeout=5) for _ in range(4)]
        # Then the 4th is a 429 with the rate-limit headers and a reset time
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        last = statuses[-1]
        assert last.headers["X-Rate-Limit-Requests-Left"] == "0"
        reset_ms = int(last.headers["X-Rate-Limit-Time-Reset-Ms"])
        assert 0 < reset_ms <= 1000
        # And after the reset the store answers again
        time.sleep(reset_ms / 1000 + 0.02)
        assert requests.get(url, headers=_headers(token), timeout=5).status_code == 200


def test_wrong_token_is_401_and_unknown_store_404(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store
    store_hash, token = store
    # When it is called with a wrong token, without a token, and under an unknown hash
    wrong = requests.get(
        f"{sandbox.api_url(store_hash)}/catalog/products", headers=_headers("nope"), timeout=5
    )
    none = requests.get(f"{sandbox.api_url(store_hash)}/catalog/products", timeout=5)
    unknown = requests.get(
        f"{sandbox.api_url('zzzzzz')}/catalog/products", headers=_headers(token), timeout=5
    )
    # Then 401 / 401 / 404 with JSON error bodies, and the log recorded all three
    assert (wrong.status_code, none.status_code, unknown.status_code) == (401, 401, 404)
    assert wrong.json()["status"] == 401 and wrong.json()["title"]
    assert unknown.json()["status"] == 404
    assert [s for _, _, s in sandbox.requests_log] == [401, 401, 404]


def test_money_round_trips_in_cents_without_float_drift(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given prices that drift as binary floats (0.29 * 100 == 28.999999999999996)
    store_hash, _ = store
    prices = [0.29, 0.07, 19.99, 1234567.89, 0.1]
    sandbox.seed(
        store_hash,
        [
            {"name": f"N{i}", "type": "physical", "weight": 0, "price": p, "sku": f"N{i}"}
            for i, p in enumerate(prices)
        ],
    )
    # When the variants are read back
    got = [v["price"] for v in sandbox.variants(store_hash)]
    # Then every price comes back as exactly the same JSON number
    assert got == prices
    assert all(math.isclose(a, b, abs_tol=0) for a, b in zip(got, prices, strict=True))


# -- content fields: description, brand, weight, image -------------------------------------
def _content_products() -> list[dict[str, Any]]:
    return [
        {
            "name": "Tee",
            "type": "physical",
            "weight": 0.5,
            "price": 10,
            "sku": "TEE",
            "description": "<p>Soft cotton</p>",
            "brand_name": "Acme",
            "images": [{"image_url": "https://supplier.example/tee.jpg", "is_thumbnail": True}],
        },
        {
            "name": "Hoodie",
            "type": "physical",
            "weight": 2,
            "price": 30,
            "brand_name": "Northwind",
            "variants": [
                {"sku": "HD-S", "weight": 0.25, "image_url": "https://supplier.example/s.jpg"},
                {"sku": "HD-M"},
            ],
        },
        {"name": "Cap", "type": "physical", "weight": 0, "price": 5, "sku": "CAP"},
    ]


def test_content_reads_conform(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given branded products with descriptions, a product image and variant weights/images
    store_hash, token = store
    sandbox.seed(store_hash, _content_products())
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    # When the connector reads the catalog
    variants = list(connector.iter_variants())
    # Then it asked for the variants and the primary image, and for the brands once
    assert len(variants) == 4
    paths = [urlsplit(p.url or "").path.split("/v3")[1] for p, _ in seen]
    assert paths == ["/catalog/products", "/catalog/brands"]
    # And every exchange conforms: the products with description, brand_id and
    # primary_image (primaryImage_Full), the variants with weight and image_url; the
    # brands with the documented brand shape
    contract.check(seen)
    products = seen[0][1].json()["data"]
    assert products[0]["primary_image"]["url_standard"].startswith("https://")
    assert "primary_image" not in products[2]  # no images, nothing to show
    assert {p["brand_id"] for p in products} == set(sandbox.brands(store_hash)) | {0}
    assert products[1]["variants"][0]["weight"] == 0.25
    assert products[1]["variants"][1]["weight"] is None  # inherits the product's
    assert products[1]["variants"][1]["image_url"] == ""


def test_content_write_bodies_conform_and_use_only_declared_fields(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given 12 products, one variant and one product the platform refuses (bisection)
    store_hash, token = store
    sandbox.seed(store_hash, _products(12))
    products = sandbox.products(store_hash)
    variants = sandbox.variants(store_hash)
    sandbox.reject_variant(store_hash, variants[3]["id"], "Variant is locked")
    sandbox.reject_product(store_hash, products[6]["id"], "Product is locked")
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    variant_plan = _plan(
        variants,
        price=[1000, 1349],
        weight=["1.5", "0.250"],
        image_url=[None, "https://supplier.example/img/a.jpg"],
    )
    product_plan = [
        _product_item(
            i + 1,
            p,
            {
                "name": [p["name"], f"N{i}"],
                "description": [None, f"<p>Item {i}</p>"],
                "brand": [None, "Acme" if i % 2 else "Globex"],
            },
        )
        for i, p in enumerate(products[:10])
    ]
    # When the connector writes the content with both operations
    variant_results = connector.apply("variants", variant_plan, batch_key="v")
    product_results = connector.apply("products", product_plan, batch_key="p")
    # Then the refused items are reported and the rest applied
    assert [ok for ok, _ in variant_results] == [i != 3 for i in range(12)]
    assert [ok for ok, _ in product_results] == [i != 6 for i in range(10)]
    assert {r.status_code for _, r in seen} == {200, 422}
    # And every request body and every answer conforms to its operation (the refused items
    # were looked up, GET /catalog/products/{id}, and found to exist)
    contract.check(seen)
    assert [r.gone for r in (variant_results[3], product_results[6])] == [None, None]
    # And the bodies carry the weight as a number, the image URL, the description and the
    # brand by name: fields the batch schemas declare (not extras a validator lets pass)
    bodies: dict[str, list[dict[str, Any]]] = {"/catalog/variants": [], "/catalog/products": []}
    for prepared, _ in seen:
        if prepared.method == "GET":
            continue
        bodies[urlsplit(prepared.url or "").path.split("/v3")[1]] += json.loads(
            prepared.body or b""
        )
    for path, items in bodies.items():
        sent = {key for item in items for key in item}
        assert sent <= contract.put_fields(path), sent - contract.put_fields(path)
    # (the variant batch schema itself omits these two: see Contract.put_fields)
    variant_keys = {key for item in bodies["/catalog/variants"] for key in item}
    batch_declared = contract.put_fields("/catalog/variants", batch_only=True)
    assert variant_keys - batch_declared == {"product_id", "image_url"}
    assert {(i["weight"], i.get("image_url")) for i in bodies["/catalog/variants"]} == {
        (0.25, "https://supplier.example/img/a.jpg"),
        (0.25, None),
    }
    # (the refused variant, which sets an image along with other changes, was sent once
    # more without its image, alone, and refused again)
    without_image = [i["id"] for i in bodies["/catalog/variants"] if "image_url" not in i]
    assert without_image == [variants[3]["id"]]
    assert "refused too" in variant_results[3][1]
    assert {i["brand_name"] for i in bodies["/catalog/products"]} == {"Acme", "Globex"}
    assert all("brand_id" not in i for i in bodies["/catalog/products"])
    # And the store holds them: the brands were created by name, once each
    assert sorted(sandbox.brands(store_hash).values()) == ["Acme", "Globex"]
    assert sandbox.products(store_hash)[1]["description"] == "<p>Item 1</p>"


def test_the_spec_refuses_content_in_the_wrong_shape(contract: Contract) -> None:
    # Given batch bodies with a weight as text, a negative weight and a brand name as a number
    headers = {"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "*/*"}
    bad = [
        ("/catalog/variants", b'[{"id": 1, "weight": "0.250"}]'),
        ("/catalog/variants", b'[{"id": 1, "weight": -1}]'),
        ("/catalog/products", b'[{"id": 1, "brand_name": 37}]'),
        ("/catalog/products", b'[{"id": 1, "description": ["<p>x</p>"]}]'),
    ]
    for path, data in bad:
        request = MockRequest(PLATFORM, "put", f"/stores/abc/v3{path}", headers=headers, data=data)
        # When each is validated / Then the spec refuses it
        with pytest.raises(Exception, match=r"(?i)invalid|not valid"):
            contract.spec_for(path).validate_request(request)
    # And the right shapes pass
    good = [
        (
            "/catalog/variants",
            b'[{"id": 1, "weight": 0.25, "image_url": "https://x.example/a.jpg"}]',
        ),
        ("/catalog/products", b'[{"id": 1, "description": "<p>x</p>", "brand_name": "Acme"}]'),
    ]
    for path, data in good:
        request = MockRequest(PLATFORM, "put", f"/stores/abc/v3{path}", headers=headers, data=data)
        contract.spec_for(path).validate_request(request)


def test_content_answers_conform_for_refusals(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given a product and its variant
    store_hash, token = store
    sandbox.seed(store_hash, _products(1))
    [product] = sandbox.products(store_hash)
    [variant] = sandbox.variants(store_hash)
    session, seen = traffic
    base = sandbox.api_url(store_hash)

    def put(path: str, body: list[dict[str, Any]]) -> requests.Response:
        return session.put(f"{base}{path}", json=body, headers=_headers(token), timeout=5)

    # When images that cannot be downloaded (not http, a host that does not resolve), an
    # unknown brand id and an over-long brand name are sent, then good content
    image = put("/catalog/variants", [{"id": variant["id"], "image_url": "ftp://x/a.jpg"}])
    gone = "https://img.supplier.invalid/a.jpg"
    unreachable = put("/catalog/variants", [{"id": variant["id"], "image_url": gone}])
    unknown = put("/catalog/products", [{"id": product["id"], "brand_id": 999}])
    long_name = put("/catalog/products", [{"id": product["id"], "brand_name": "B" * 256}])
    good = put(
        "/catalog/products", [{"id": product["id"], "brand_name": "Acme", "description": "d"}]
    )
    # Then 422 (batch_errors) / 409 (a missing brand, as the spec documents) / 422 / 200
    answers = (image, unreachable, unknown, long_name, good)
    assert [r.status_code for r in answers] == [422, 422, 409, 422, 200]
    assert "image_url" in image.json()["batch_errors"][0]["errors"]
    assert "does not resolve" in unreachable.json()["batch_errors"][0]["errors"]["image_url"]
    assert sandbox.variants(store_hash)[0]["image_url"] == ""
    assert good.json()["data"][0]["brand_id"] == next(iter(sandbox.brands(store_hash)))
    assert "brand_name" not in good.json()["data"][0]  # the answer names the id only
    # And every answer conforms
    for prepared, resp in seen:
        contract.validate_response(prepared, resp)


def test_create_mode_requests_and_answers_follow_the_specs(
    contract: Contract,
    sandbox: SandboxStore,
    store: tuple[str, str],
    traffic: tuple[requests.Session, list[Exchange]],
) -> None:
    # Given the connector on a recording session, a new single item and a new group
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], session=session, allow_private=True
    )
    settings = CreateSettings({"Size": "Size"}, "Parent", 600, "BigCommerce")
    rows = [
        row_of(2, {"sku": "NEW-1", "name": "New lamp", "price": 1999, "stock": 3,
                   "barcode": "400638133393", "weight": "1.5", "description": "<p>Lamp</p>",
                   "brand": "Acme", "image_url": "https://cdn.example.com/lamp.jpg"}),
        row_of(3, {"sku": "TEE-S", "name": "New tee", "price": 1500, "stock": 1,
                   "sale_price": 1200}, group="TEE", options=("S",)),
        row_of(4, {"sku": "TEE-M", "name": "New tee", "price": 1500, "stock": 2},
               group="TEE", options=("M",)),
    ]  # fmt: skip
    items, _ = gather_creations(rows, settings._replace(category="7"))
    # When they are created, a variant is added to the group, all are looked up, and deleted
    made = [connector.apply("create", [item], batch_key=f"c{n}")[0] for n, item in enumerate(items)]
    tee = made[1].created
    assert tee is not None
    more, _ = gather_creations(
        [row_of(5, {"sku": "TEE-L", "price": 1500}, group="TEE", options=("L",))],
        settings,
        existing={"TEE": tee.product_id},
    )
    [added] = connector.apply("create", more, batch_key="c9")
    assert added.created is not None and all(r.ok for r in made)
    assert all(found is not None for found in connector.find_created(items + more))
    deletes = [
        PlanItem(5, "TEE-L", tee.product_id, added.created.variants["TEE-L"], {}),
        *(PlanItem(0, "p", r.created.product_id, 0, {}, product_level=True)
          for r in made if r.created),
    ]  # fmt: skip
    assert all(r.ok for r in connector.apply("delete", deletes, batch_key="d"))
    # Then every request the connector sent and every answer the sandbox gave is one the
    # specs define (POST products with variants and option values, POST a product's variant,
    # GET products by sku:in, GET a product with its variants, DELETE a variant, DELETE by id:in)
    methods = {(p.method, re.sub(r"/\d+", "/{id}", urlsplit(p.url or "").path.split("/v3")[1]))
               for p, _ in seen}  # fmt: skip
    assert methods >= {
        ("POST", "/catalog/products"),
        ("POST", "/catalog/products/{id}/variants"),
        ("GET", "/catalog/products"),
        ("GET", "/catalog/products/{id}"),
        ("DELETE", "/catalog/products/{id}/variants/{id}"),
        ("DELETE", "/catalog/products"),
    }, methods
    contract.check(seen)
