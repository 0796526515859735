"""Issue 17, create mode on Shopify and WooCommerce through the real state machine on the
local stack (their doubles): a file of 50 new single items and 20 new groups of 3 to 6
variants creates exactly those, hidden, with their options; a second identical run creates
nothing and changes nothing; a preview shows the creations and sends no write, its apply
creates them and a revert deletes exactly those; a crash after the store accepted a create
batch and before it was recorded creates no duplicate when the update step is retried."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from create_support import CREATE, MAPPING, SINGLES, SIZES, new_items_file
from integration_harness import Harness
from review_support import wait_round

from feedsync.core import api
from feedsync.core.review import apply_run, revert_run
from feedsync.errors import StoreUnavailable
from feedsync.models import ApplyBody, Run, Store
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble


@dataclass
class Product:
    """What the double holds of one product, the same way for both platforms."""

    hidden: bool
    skus: list[str]
    options: list[dict[str, str]]  # per variant: option name -> value


@dataclass
class Shop:
    tenant: str
    store: Store
    products: Callable[[], dict[str, Product]]  # by product key
    writes: Callable[[], int]  # write requests the double answered so far


def _key(skus: list[str]) -> str:
    """A product's key: its single item's SKU, or its group (the SKUs less their size)."""
    if (len(skus) == 1 and skus[0].startswith("NEW-")) or skus == ["KEEP-1"]:
        return skus[0]
    return skus[0].rsplit("-", 1)[0]


def _shopify_shop(h: Harness, double: ShopifyDouble) -> Shop:
    double.seed([{"title": "Kept", "variants": [{"sku": "KEEP-1", "price": "9.00"}]}])
    tenant = h.tenant()
    store = h.platform_store(
        tenant, "shopify", double.shop_url, {"access_token": double.access_token}
    )

    def products() -> dict[str, Product]:
        out = {}
        for pid in double.product_ids():
            product = double.product(pid)
            variants = [double.variant(v) for v in product["variant_ids"]]
            skus = [str(v["sku"]) for v in variants]
            out[_key(skus)] = Product(
                product["status"] == "DRAFT", skus, [v["options"] for v in variants]
            )
        return out

    def writes() -> int:
        return sum(1 for d in double.documents() if str(d["query"]).lstrip().startswith("mutation"))

    return Shop(tenant, store, products, writes)


def _woo_shop(h: Harness, double: WooCommerceDouble) -> Shop:
    double.seed(
        [
            {
                "name": "Kept",
                "sku": "KEEP-1",
                "regular_price": "9.00",
                "manage_stock": True,
                "stock_quantity": 3,
            }
        ]
    )
    tenant = h.tenant()
    key, secret = double.credentials
    store = h.platform_store(
        tenant, "woocommerce", double.site_url, {"consumer_key": key, "consumer_secret": secret}
    )

    def products() -> dict[str, Product]:
        out = {}
        for product in double.products():
            if product["type"] == "variable":
                variations = double.variations(product["id"])
                out[product["sku"]] = Product(
                    product["status"] == "private",
                    [v["sku"] for v in variations],
                    [{a["name"]: a["option"] for a in v["attributes"]} for v in variations],
                )
            else:
                hidden = product["status"] == "private"
                out[product["sku"]] = Product(hidden, [product["sku"]], [{}])
        return out

    def writes() -> int:
        return sum(1 for method, _, _ in double.requests_log() if method == "POST")

    return Shop(tenant, store, products, writes)


@pytest.fixture(params=["shopify", "woocommerce"])
def shop(request: pytest.FixtureRequest, h: Harness) -> Iterator[Shop]:
    if request.param == "shopify":
        with ShopifyDouble() as double:
            yield _shopify_shop(h, double)
    else:
        with WooCommerceDouble() as double:
            yield _woo_shop(h, double)


def _profile(h: Harness, shop: Shop, feed: str) -> str:
    source = {"type": "url", "url": h.feed_url(feed)}
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, source, mapping=MAPPING, create=CREATE
    )
    return profile.profile_id


def _created_changes(h: Harness, shop: Shop, run: Run) -> list[dict[str, Any]]:
    changes, following = api.run_changes(
        h.deps, shop.tenant, run.run_id, field="create", limit=1000
    )
    assert following is None
    return changes


def _assert_created(shop: Shop, shape: dict[str, int]) -> None:
    products = shop.products()
    assert set(products) == {"KEEP-1", *shape}
    for key, count in shape.items():
        product = products[key]
        assert product.hidden, key
        assert len(product.skus) == count, (key, product.skus)
        if count > 1 or key.startswith("TEE"):
            size = [o["Size"] for o in product.options]
            assert size == list(SIZES[:count]), (key, product.options)
            assert {o["Colour"] for o in product.options} == {"Red"}
    assert not products["KEEP-1"].hidden


def test_a_file_of_new_items_creates_exactly_those_hidden_and_a_second_run_nothing(
    h: Harness, shop: Shop
) -> None:
    # Given a store with one item and a file of 50 new single items and 20 new groups
    feed, shape = new_items_file()
    profile_id = _profile(h, shop, feed)

    # When the profile runs
    run = h.run_to_end(shop.tenant, profile_id)

    # Then exactly those products were created, hidden, each with its variants and options
    assert run.status == "succeeded", run.error
    variants = sum(shape.values())
    assert run.counts["created"] == variants and run.counts["failed"] == 0, run.counts
    _assert_created(shop, shape)
    created = _created_changes(h, shop, run)
    assert len(created) == variants
    assert {c["status"] for c in created} == {"updated"}
    assert all(c["variant_id"] and c["product_id"] for c in created)

    # When the same file runs again
    writes_before = shop.writes()
    again = h.run_to_end(shop.tenant, profile_id)

    # Then it creates nothing and changes nothing
    assert again.status == "succeeded", again.error
    assert again.counts.get("created", 0) == 0, again.counts
    assert again.counts["not_found"] == 0 and again.counts["changed"] == 0, again.counts
    assert shop.writes() == writes_before
    assert len(shop.products()) == len(shape) + 1


def test_a_preview_shows_the_creations_and_sends_no_write_then_apply_and_revert(
    h: Harness, shop: Shop
) -> None:
    # Given a store and a file of 4 new single items and 2 groups
    feed, shape = new_items_file(4, 2)
    profile_id = _profile(h, shop, feed)
    writes_before = shop.writes()

    # When it is previewed
    started = api.start(h.deps, shop.tenant, profile_id, "manual", None, preview=True)
    run = h.wait_run(shop.tenant, started.run_id)

    # Then the creations are pending changes and nothing was written
    assert run.status == "previewed", run.error
    created = _created_changes(h, shop, run)
    assert len(created) == sum(shape.values())
    assert {c["status"] for c in created} == {"pending"}
    assert shop.writes() == writes_before
    assert set(shop.products()) == {"KEEP-1"}

    # When the preview is applied
    applied = wait_round(h, shop.tenant, apply_run(h.deps, shop.tenant, run.run_id, ApplyBody()))

    # Then the items are created
    assert applied.status == "succeeded", applied.error
    _assert_created(shop, shape)

    # When the run is reverted
    reverted = revert_run(h.deps, shop.tenant, run.run_id)
    done = h.wait_run(shop.tenant, reverted.run_id)

    # Then exactly what it created is deleted, and the store's own item stays
    assert done.status == "succeeded", done.error
    assert set(shop.products()) == {"KEEP-1"}


@contextmanager
def _crash_after_create(h: Harness, batch: int) -> Iterator[list[int]]:
    """The ``batch``-th create batch reaches the store, then its shard dies (a timeout's
    StoreUnavailable: the state machine retries the shard). Yields the look-ups made."""
    real = h.deps.connectors
    looked_up: list[int] = []
    creates = [0]

    class Crashing:
        def __init__(self, inner: Any) -> None:
            self.inner, self.capabilities = inner, inner.capabilities

        @property
        def default_location(self) -> Any:
            return self.inner.default_location

        def iter_variants(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.iter_variants(*args, **kwargs)

        def find_created(self, items: list[Any]) -> Any:
            looked_up.append(len(items))
            return self.inner.find_created(items)

        def apply(self, op: str, items: list[Any], **kw: Any) -> Any:
            answers = self.inner.apply(op, items, **kw)
            if op == "create":
                creates[0] += 1
                if creates[0] == batch:
                    raise StoreUnavailable("injected: the answer to a create batch was lost")
            return answers

    h.deps.connectors = lambda store, creds: Crashing(real(store, creds))  # type: ignore[assignment,return-value]
    try:
        yield looked_up
    finally:
        h.deps.connectors = real


def test_a_crash_after_the_store_accepted_a_create_batch_creates_no_duplicate(
    h: Harness, shop: Shop
) -> None:
    # Given a file of new items (one create batch on WooCommerce, six on Shopify)
    feed, shape = new_items_file(SINGLES, 4)
    profile_id = _profile(h, shop, feed)

    # When the shard dies after the store accepted its first create batch, and is retried
    with _crash_after_create(h, batch=1) as looked_up:
        run = h.run_to_end(shop.tenant, profile_id)

    # Then the retry looked the batch up first, and every item exists once
    assert run.status == "succeeded", run.error
    assert looked_up, "the retried create batch was sent again without a look-up"
    assert run.counts["created"] == sum(shape.values()), run.counts
    _assert_created(shop, shape)
    skus = [sku for product in shop.products().values() for sku in product.skus]
    assert len(skus) == len(set(skus)) == sum(shape.values()) + 1
