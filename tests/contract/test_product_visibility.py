"""Contract: hiding and showing a product (``missing: disable``) as each platform takes it.

BigCommerce: ``is_visible`` on the products batch; Shopify: productUpdate's ``status``
(ACTIVE / DRAFT, also checked against the schema in ``test_shopify_contract``);
WooCommerce: ``status`` on the products batch (``publish`` / ``private``). Each double
holds the state, answers it on reads and refuses a value its spec would refuse; each reader
gives the catalog index the state it finds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from test_sandbox_contract import (  # noqa: F401 (fixtures)
    Contract,
    _product_item,
    _products,
    contract,
    sandbox,
    store,
    traffic,
)

from feedsync.domain.fields import VISIBLE_AT, Variant
from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync.platforms.shopify.connector import ShopifyConnector
from feedsync.platforms.woocommerce.connector import WooCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble


def test_bigcommerce_hides_and_shows_a_product_with_is_visible(
    contract: Contract,  # noqa: F811
    sandbox: SandboxStore,  # noqa: F811
    store: tuple[str, str],  # noqa: F811
    traffic: tuple[requests.Session, list[tuple[Any, Any]]],  # noqa: F811
) -> None:
    # Given two visible products
    store_hash, token = store
    sandbox.seed(store_hash, _products(2))
    first, second = sandbox.products(store_hash)
    session, seen = traffic
    connector = BigCommerceConnector(
        sandbox.api_url(store_hash), token, session=session, allow_private=True
    )
    # When the first is hidden through the products batch
    hide = _product_item(1, first, {"visible": [True, False]})
    assert connector.apply("products", [hide], batch_key="h") == [(True, "")]
    # Then the store shows it hidden and the other untouched, the body saying is_visible
    shown = {p["id"]: p["is_visible"] for p in sandbox.products(store_hash)}
    assert shown == {first["id"]: False, second["id"]: True}
    [(request, _answer)] = seen
    assert json.loads(request.body or b"") == [{"id": first["id"], "is_visible": False}]
    contract.check(seen)
    # And showing it again is the same write the other way
    show = _product_item(1, first, {"visible": [False, True]})
    assert connector.apply("products", [show], batch_key="s") == [(True, "")]
    assert sandbox.products(store_hash)[0]["is_visible"] is True


def test_the_bigcommerce_double_refuses_a_visibility_that_is_not_a_boolean(
    sandbox: SandboxStore,  # noqa: F811
    store: tuple[str, str],  # noqa: F811
) -> None:
    # Given a product
    store_hash, token = store
    sandbox.seed(store_hash, _products(1))
    [product] = sandbox.products(store_hash)
    # When a client sends is_visible as text
    answer = requests.put(
        f"{sandbox.api_url(store_hash)}/catalog/products",
        json=[{"id": product["id"], "is_visible": "no"}],
        headers={"X-Auth-Token": token, "Accept": "application/json"},
        timeout=10,
    )
    # Then the batch is refused as the platform does, and the product stays visible
    assert answer.status_code == 422
    assert "is_visible" in json.dumps(answer.json()["errors"])
    assert sandbox.products(store_hash)[0]["is_visible"] is True


@pytest.fixture
def shop() -> Iterator[ShopifyDouble]:
    with ShopifyDouble() as double:
        yield double


def test_shopify_hides_a_product_as_a_draft_and_shows_it_active(shop: ShopifyDouble) -> None:
    # Given an active product
    [product] = shop.seed([{"title": "Mug", "variants": [{"sku": "MUG", "price": "5.00"}]}])
    connector = ShopifyConnector(
        shop.shop_url, shop.access_token, sleep=lambda s: None, allow_private=True
    )
    item = PlanItem(
        1, "MUG", product["id"], product["variants"][0]["id"], {"visible": [True, False]},
        rows=[1], product_level=True,
    )  # fmt: skip
    # When it is hidden
    assert connector.apply("product_update", [item], batch_key="h") == [(True, "")]
    # Then the shop holds it as a draft (unavailable on every sales channel)
    assert shop.product(product["id"])["status"] == "DRAFT"
    # And shown again, it is active
    item.changes = {"visible": [False, True]}
    assert connector.apply("product_update", [item], batch_key="s") == [(True, "")]
    assert shop.product(product["id"])["status"] == "ACTIVE"


def test_the_shopify_double_refuses_a_status_outside_the_schema(shop: ShopifyDouble) -> None:
    # Given an active product
    [product] = shop.seed([{"title": "Cup", "variants": [{"sku": "CUP", "price": "5.00"}]}])
    # When a client sends a status the ProductStatus enum does not hold
    answer = requests.post(
        f"{shop.shop_url}/admin/api/2025-01/graphql.json",
        json={
            "query": "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) "
            "{ userErrors { message } } }",
            "variables": {
                "p": {"id": f"gid://shopify/Product/{product['id']}", "status": "HIDDEN"}
            },
        },
        headers={"X-Shopify-Access-Token": shop.access_token},
        timeout=10,
    )
    # Then the document is refused and the product is still active
    assert answer.json().get("errors"), answer.json()
    assert shop.product(product["id"])["status"] == "ACTIVE"


@pytest.fixture
def woo() -> Iterator[WooCommerceDouble]:
    with WooCommerceDouble() as double:
        yield double


def _woo_connector(woo: WooCommerceDouble) -> WooCommerceConnector:
    key, secret = woo.credentials
    return WooCommerceConnector(
        woo.site_url, key, secret, allow_http=True, sleep=lambda s: None, allow_private=True
    )


def test_woocommerce_hides_a_product_as_private_and_publishes_it_again(
    woo: WooCommerceDouble,
) -> None:
    # Given a published variable product and a published simple one
    [tee, poster] = woo.seed(
        [
            {"name": "Tee", "variations": [{"sku": "TEE-S", "regular_price": "7.00"}]},
            {"name": "Poster", "regular_price": "5.00"},
        ]
    )
    connector = _woo_connector(woo)
    [vid] = tee["variations"]
    item = PlanItem(1, "TEE-S", tee["id"], vid, {"visible": [True, False]}, product_level=True)
    # When the variable product is hidden
    assert connector.apply("product_fields", [item], batch_key="h") == [(True, "")]
    # Then it is private, the other still published
    assert woo.item(tee["id"])["status"] == "private"
    assert woo.item(poster["id"])["status"] == "publish"
    # And shown again it is published
    item.changes = {"visible": [False, True]}
    assert connector.apply("product_fields", [item], batch_key="s") == [(True, "")]
    assert woo.item(tee["id"])["status"] == "publish"


def test_the_woocommerce_double_refuses_a_status_outside_the_enum(woo: WooCommerceDouble) -> None:
    # Given a published product
    [poster] = woo.seed([{"name": "Poster", "regular_price": "5.00"}])
    # When a client sends a status the REST schema does not list
    answer = requests.post(
        f"{woo.api_url}/products/batch",
        json={"update": [{"id": poster["id"], "status": "hidden"}]},
        auth=woo.credentials,
        timeout=10,
    )
    # Then that object fails alone with rest_invalid_param and the product stays published
    [entry] = answer.json()["update"]
    assert entry["error"]["code"] == "rest_invalid_param"
    assert woo.item(poster["id"])["status"] == "publish"


# -- reads: each reader gives the catalog index a product's visibility as the store has it ---
# True on view; False hidden as feedsync hides a product; None any other state (the
# merchant's own: missing: disable leaves it alone).
def _visibility(variants: Iterable[Variant]) -> dict[int, bool | None]:
    return {v[0]: v[VISIBLE_AT] for v in variants}


def test_bigcommerce_reads_is_visible(
    sandbox: SandboxStore,  # noqa: F811
    store: tuple[str, str],  # noqa: F811
) -> None:
    # Given a visible product and one the merchant hid
    store_hash, token = store
    bodies = _products(2)
    bodies[1]["is_visible"] = False
    sandbox.seed(store_hash, bodies)
    shown, hidden = (p["id"] for p in sandbox.products(store_hash))
    connector = BigCommerceConnector(sandbox.api_url(store_hash), token, allow_private=True)
    # When the catalog is read, whole and by a modified-since range
    whole = _visibility(connector.iter_variants())
    since = _visibility(connector.iter_variants(datetime(2000, 1, 1, tzinfo=UTC)))
    # Then each product's variants carry its visibility
    assert whole == since == {shown: True, hidden: False}


def test_shopify_reads_status_as_visibility(shop: ShopifyDouble) -> None:
    # Given an active product, a draft (as feedsync hides one) and an archived one
    seeded = shop.seed(
        [
            {"title": t, "status": s, "variants": [{"sku": t, "price": "5.00"}]}
            for t, s in (("On", "ACTIVE"), ("Draft", "DRAFT"), ("Old", "ARCHIVED"))
        ]
    )
    on, draft, archived = (p["id"] for p in seeded)
    connector = ShopifyConnector(
        shop.shop_url, shop.access_token, sleep=lambda s: None, allow_private=True
    )
    # When the catalog is read whole (a bulk query) and by a range (pages)
    whole = _visibility(connector.iter_variants())
    since = _visibility(connector.iter_variants(datetime(2000, 1, 1, tzinfo=UTC)))
    # Then ACTIVE is on view, DRAFT hidden, ARCHIVED the merchant's own (None)
    assert whole == since == {on: True, draft: False, archived: None}


def test_woocommerce_reads_status_as_visibility(woo: WooCommerceDouble) -> None:
    # Given a published variable product, a private one, a draft and a pending one
    seeded = woo.seed(
        [
            {"name": "Tee", "status": "publish",
             "variations": [{"sku": "TEE-S", "regular_price": "7.00"}]},
            {"name": "Hid", "status": "private",
             "variations": [{"sku": "HID-S", "regular_price": "7.00"}]},
            {"name": "Draft", "status": "draft", "regular_price": "5.00"},
            {"name": "Pending", "status": "pending", "regular_price": "5.00"},
        ]
    )  # fmt: skip
    tee, hid, draft, pending = (p["id"] for p in seeded)
    # When the catalog is read
    read = _visibility(_woo_connector(woo).iter_variants())
    # Then publish is on view, private hidden, a draft or pending product the merchant's own
    assert read == {tee: True, hid: False, draft: None, pending: None}
