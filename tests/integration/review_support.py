"""Each platform's double seeded alike for the preview / apply / retry / revert tests
(``test_review_apply.py``), and what the tests read from it: the store's values, the
write requests it served and the items they carried, a merchant's own edit, a refused
item.

Every store holds ``SKUS`` as simple products at 10.00 with 1 in stock, last modified a
day ago, so a modified-since refresh lists only what a run or the merchant changed.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.core.change_files import read_changes
from feedsync.domain.changes import ChangeLine
from feedsync.models import Profile, Run, Store
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble

PLATFORMS = ["bigcommerce", "shopify", "woocommerce"]
ITEMS = 6
SKUS = [f"RV-{i}" for i in range(ITEMS)]
OLD_PRICE, OLD_STOCK = 1000, 1
YESTERDAY = datetime.now(UTC) - timedelta(days=1)
SHOPIFY_VERSION = "2025-01"


def new_price(i: int) -> int:
    """What the feed asks for item i, in cents (each item its own value)."""
    return 1200 + i


def new_stock(i: int) -> int:
    return 10 + i


FEED = "SKU,Price,Qty\n" + "".join(
    f"{sku},{Decimal(new_price(i)) / 100:.2f},{new_stock(i)}\n" for i, sku in enumerate(SKUS)
)
SEEDED = {sku: (OLD_PRICE, OLD_STOCK) for sku in SKUS}
WANTED = {sku: (new_price(i), new_stock(i)) for i, sku in enumerate(SKUS)}


def cents(text: Any) -> int:
    return int(Decimal(str(text)) * 100)


@dataclasses.dataclass
class Shop:
    """One platform's double seeded with ``SKUS`` and the feedsync store reading it.

    ``writes()``: write requests the double served for this store so far (faults and
    refusals included: every request that reached it); ``carried(since)``: the SKUs the
    write requests after the first ``since`` carried; ``edit(sku, cents)``: the merchant
    changes a price in the store (through the platform's own API, so its modified time
    moves on as the platform's does); ``sell(sku, n)``: the item's stock in the store
    becomes n (sales, another app: on Shopify the product's ``updatedAt`` stays);
    ``refuse(sku)`` / ``accept_all()``: the platform refuses every write of that item (a
    per-item error) / accepts them again.
    """

    platform: str
    tenant: str
    store: Store
    values: Callable[[], dict[str, tuple[int, int]]]
    writes: Callable[[], int]
    write_bodies: Callable[[], list[Any]]
    carried_by: Callable[[Any], set[str]]
    edit: Callable[[str, int], None]
    sell: Callable[[str, int], None]
    refuse: Callable[[str], None]
    accept_all: Callable[[], None]

    def carried(self, since: int) -> set[str]:
        """SKUs carried by the write requests after the first ``since`` of them."""
        found: set[str] = set()
        for body in self.write_bodies()[since:]:
            found |= self.carried_by(body)
        return found

    def profile(self, h: Harness) -> Profile:
        return h.profile_for(
            self.tenant, self.store.store_id, {"type": "url", "url": h.feed_url(FEED)}
        )


def seeded(h: Harness, request: pytest.FixtureRequest, platform: str, twin: bool = False) -> Shop:
    """A new tenant whose store on ``platform`` holds ``SKUS`` as seeded. ``twin``: on a
    second double of its own (the Shopify and WooCommerce fixtures serve one store)."""
    tenant = h.tenant()
    if platform == "bigcommerce":
        return _bigcommerce(h, tenant)
    if platform == "shopify":
        double = _double(request, "shopify", ShopifyDouble, twin)
        return _shopify(h, tenant, double)
    return _woocommerce(h, tenant, _double(request, "woo", WooCommerceDouble, twin))


def _double(request: pytest.FixtureRequest, fixture: str, kind: Any, twin: bool) -> Any:
    if not twin:
        return request.getfixturevalue(fixture)
    double = kind()
    double.__enter__()
    request.addfinalizer(lambda: double.__exit__(None, None, None))
    return double


def _bigcommerce(h: Harness, tenant: str) -> Shop:
    sandbox = h.sandbox
    store_hash, token = sandbox.create_store()
    made = sandbox.seed(store_hash, [simple_product(s, s, "10.00", OLD_STOCK) for s in SKUS])
    for product in made:
        sandbox.set_modified(store_hash, product["id"], YESTERDAY)
    ids = {p["variants"][0]["sku"]: (p["id"], p["variants"][0]["id"]) for p in made}
    sku_of = {("product", pid): sku for sku, (pid, _) in ids.items()}
    sku_of.update({("variant", vid): sku for sku, (_, vid) in ids.items()})
    store = h.platform_store(
        tenant, "bigcommerce", sandbox.api_url(store_hash), {"access_token": token}
    )
    prefix = f"/stores/{store_hash}/"

    def values() -> dict[str, tuple[int, int]]:
        return {
            v["sku"]: (cents(v["price"]), v["inventory_level"])
            for v in sandbox.variants(store_hash)
        }

    def writes() -> int:
        return sum(1 for m, t, _ in sandbox.requests_log if m != "GET" and t.startswith(prefix))

    def carried_by(write: tuple[str, str, Any]) -> set[str]:
        _method, route, body = write
        kind = "product" if route == "/catalog/products" else "variant"
        found = set()
        for item in body if isinstance(body, list) else body.get("items", []):
            for key, what in (("id", kind), ("variant_id", "variant"), ("product_id", "product")):
                if key in item:
                    found.add(sku_of[(what, item[key])])
        return found

    def edit(sku: str, price: int) -> None:
        answer = requests.put(
            f"{sandbox.api_url(store_hash)}/catalog/variants",
            json=[{"id": ids[sku][1], "price": price / 100}],
            headers={"X-Auth-Token": token},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    def sell(sku: str, stock: int) -> None:
        answer = requests.put(
            f"{sandbox.api_url(store_hash)}/catalog/variants",
            json=[{"id": ids[sku][1], "inventory_level": stock}],
            headers={"X-Auth-Token": token},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    return Shop(
        "bigcommerce",
        tenant,
        store,
        values,
        writes,
        lambda: sandbox.write_bodies(store_hash),
        carried_by,
        edit,
        sell,
        lambda sku: sandbox.reject_variant(store_hash, ids[sku][1], "Price is not allowed"),
        lambda: sandbox.clear_rejections(store_hash),
    )


_GID = re.compile(r"gid://shopify/(\w+)/(\d+)")


def _shopify(h: Harness, tenant: str, shop: ShopifyDouble) -> Shop:
    made = shop.seed(
        [
            {"title": s, "variants": [{"sku": s, "price": "10.00", "available": OLD_STOCK}]}
            for s in SKUS
        ]
    )
    stamp = YESTERDAY.strftime("%Y-%m-%dT%H:%M:%SZ")
    for product in made:
        shop.set_updated_at(product["id"], stamp)
    variants = {p["variants"][0]["sku"]: {**p["variants"][0], "product_id": p["id"]} for p in made}
    sku_of = {("Product", p["id"]): p["variants"][0]["sku"] for p in made}
    for sku, v in variants.items():
        sku_of[("ProductVariant", v["id"])] = sku
        sku_of[("InventoryItem", v["inventory_item_id"])] = sku
    store = h.platform_store(tenant, "shopify", shop.shop_url, {"access_token": shop.access_token})
    assert shop.schema.mutation_type is not None
    # Root fields that write (a bulk query is a mutation that only reads).
    writing = set(shop.schema.mutation_type.fields) - {"bulkOperationRunQuery"}

    def values() -> dict[str, tuple[int, int]]:
        out = {}
        for sku, v in variants.items():
            now = shop.variant(v["id"])
            out[sku] = (cents(now["price"]), now["available"])
        return out

    def is_write(entry: dict[str, Any]) -> bool:
        return bool(entry.get("graphql")) and not writing.isdisjoint(entry.get("fields", ()))

    def write_bodies() -> list[Any]:
        return [d["variables"] for d in shop.documents() if _is_mutation(d) and d.get("valid")]

    def carried_by(variables: Any) -> set[str]:
        text = repr(variables)
        return {
            sku_of[(kind, int(n))] for kind, n in _GID.findall(text) if (kind, int(n)) in sku_of
        }

    def edit(sku: str, price: int) -> None:
        v = variants[sku]
        document = (
            "mutation Edit($p: ID!, $v: [ProductVariantsBulkInput!]!) {"
            " productVariantsBulkUpdate(productId: $p, variants: $v) { userErrors { message } } }"
        )
        answer = requests.post(
            f"{shop.shop_url}/admin/api/{SHOPIFY_VERSION}/graphql.json",
            json={
                "query": document,
                "variables": {
                    "p": f"gid://shopify/Product/{v['product_id']}",
                    "v": [
                        {
                            "id": f"gid://shopify/ProductVariant/{v['id']}",
                            "price": f"{price / 100:.2f}",
                        }
                    ],
                },
            },
            headers={"X-Shopify-Access-Token": shop.access_token},
            timeout=10,
        )
        body = answer.json()
        assert answer.status_code == 200 and not body.get("errors"), body
        assert not body["data"]["productVariantsBulkUpdate"]["userErrors"], body

    return Shop(
        "shopify",
        tenant,
        store,
        values,
        lambda: sum(1 for e in shop.requests_log() if is_write(e)),
        write_bodies,
        carried_by,
        edit,
        lambda sku, stock: shop.set_available(variants[sku]["inventory_item_id"], stock),
        lambda sku: shop.reject_variant(variants[sku]["id"], "Price is not allowed"),
        shop.clear_rejections,
    )


def _is_mutation(document: dict[str, Any]) -> bool:
    text = document.get("query") or ""
    return text.lstrip().startswith("mutation") and "bulkOperationRunQuery" not in text


def _woocommerce(h: Harness, tenant: str, woo: WooCommerceDouble) -> Shop:
    made = woo.seed(
        [
            {"name": s, "sku": s, "regular_price": "10.00", "manage_stock": True,
             "stock_quantity": OLD_STOCK}
            for s in SKUS
        ]
    )  # fmt: skip
    ids = {p["sku"]: p["id"] for p in made}
    sku_of = {pid: sku for sku, pid in ids.items()}
    for product in made:
        woo.set_modified(product["id"], YESTERDAY)
    key, secret = woo.credentials
    store = h.platform_store(
        tenant, "woocommerce", woo.site_url, {"consumer_key": key, "consumer_secret": secret}
    )

    def values() -> dict[str, tuple[int, int]]:
        out = {}
        for sku, pid in ids.items():
            item = woo.item(pid)
            out[sku] = (cents(item["regular_price"]), item["stock_quantity"])
        return out

    def carried_by(batch: tuple[int | None, Any]) -> set[str]:
        _parent, body = batch
        return {sku_of[obj["id"]] for obj in body.get("update", []) if obj.get("id") in sku_of}

    def update(sku: str, **fields: Any) -> None:
        answer = requests.post(
            f"{woo.api_url}/products/batch",
            json={"update": [{"id": ids[sku], **fields}]},
            auth=(key, secret),
            timeout=10,
        )
        assert answer.status_code == 200 and "error" not in answer.json()["update"][0]

    return Shop(
        "woocommerce",
        tenant,
        store,
        values,
        lambda: sum(1 for m, _t, _s in woo.requests_log() if m != "GET"),
        woo.batch_bodies,
        carried_by,
        lambda sku, price: update(sku, regular_price=f"{price / 100:.2f}"),
        lambda sku, stock: update(sku, stock_quantity=stock),
        lambda sku: woo.reject_item(ids[sku], "The product could not be saved."),
        woo.clear_faults,
    )


# ------------------------------------------------------------------------------ runs


def preview(h: Harness, shop: Shop, profile: Profile) -> Run:
    """Start a preview of the profile's file and wait for it to end."""
    run = api.start(h.deps, shop.tenant, profile.profile_id, "manual", None, preview=True)
    return h.wait_run(shop.tenant, run.run_id)


def wait_round(h: Harness, tenant: str, run: Run) -> Run:
    """Wait for an apply round (a new execution of ``run``) to end; the run as it ended."""
    ended = h.wait_run(tenant, run.run_id)
    _execution_ended(h, run.execution_name)
    return ended


def _execution_ended(h: Harness, name: str) -> None:
    sfn = h.stack.client("stepfunctions")
    arn = h.stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=f"{arn}:{name}")["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"execution {name} still RUNNING"
        time.sleep(0.02)


def changes(h: Harness, run: Run) -> list[ChangeLine]:
    """The run's changes as ``GET /runs/{id}/changes`` reads them (its changes file)."""
    assert run.changes_key, run
    return list(read_changes(h.deps, run.changes_key))


def statuses(h: Harness, run: Run) -> dict[str, set[str]]:
    """Each key's change statuses (as the API shows them)."""
    out: dict[str, set[str]] = {}
    for line in changes(h, run):
        out.setdefault(line.key, set()).add(line.shown_status)
    return out


def log_of(h: Harness, run: Run) -> dict[str, dict[str, str]]:
    """The run's log by key."""
    assert run.log_key, run
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}
