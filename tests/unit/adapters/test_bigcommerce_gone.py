"""BigCommerceConnector: an item deleted in the store since the catalog was read is reported
gone (one look-up per item refused for good), against a real SandboxStore on loopback."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fake_sleep import FakeSleep

from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync.platforms.bigcommerce.spec import SPEC
from feedsync.platforms.spec import ConnectorSetup
from feedsync_local.bigcommerce_double import SandboxStore

LOOKUP = ("GET", "/catalog/products/{id}")


def _connector(sandbox: SandboxStore, store: tuple[str, str], **kw: Any) -> BigCommerceConnector:
    return BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=FakeSleep(), **kw, allow_private=True
    )


def _seed(sandbox: SandboxStore, store_hash: str) -> list[dict[str, Any]]:
    """A tee in three sizes and two simple products (mug, cap)."""
    return sandbox.seed(
        store_hash,
        [
            {
                "name": "Tee",
                "type": "physical",
                "weight": 1,
                "price": 10,
                "variants": [
                    {"sku": f"TEE-{size}", "price": 10, "inventory_level": 2}
                    for size in ("S", "M", "L")
                ],
            },
            {"name": "Mug", "type": "physical", "weight": 1, "price": 5, "sku": "MUG"},
            {"name": "Cap", "type": "physical", "weight": 1, "price": 7, "sku": "CAP"},
        ],
    )


def _items(products: list[dict[str, Any]], **changes: list[Any]) -> list[PlanItem]:
    """One plan item per variant of ``products`` (the double's), each with ``changes``."""
    return [
        PlanItem(
            row=n + 1,
            key=v["sku"],
            product_id=p["id"],
            variant_id=v["id"],
            changes=dict(changes),
        )
        for n, (p, v) in enumerate((p, v) for p in products for v in p["variants"])
    ]


def _renames(products: list[dict[str, Any]]) -> list[PlanItem]:
    """A products item per product: its name, with " 2" appended."""
    return [
        PlanItem(
            row=n + 1,
            key=p["variants"][0]["sku"],
            product_id=p["id"],
            variant_id=p["variants"][0]["id"],
            changes={"name": [p["name"], p["name"] + " 2"]},
            product_level=True,
        )
        for n, p in enumerate(products)
    ]


def _skus(sandbox: SandboxStore, store_hash: str) -> dict[str, float]:
    return {v["sku"]: v["price"] for v in sandbox.variants(store_hash)}


def test_a_variant_deleted_in_the_store_is_reported_gone_and_the_rest_written(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the catalog as it was read, and then the merchant deletes the tee's size M
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products, price=[1000, 1250])
    sandbox.delete_variant(store_hash, items[1].variant_id)
    sandbox.reset_log()
    # When a variant batch writes all five
    results = _connector(sandbox, store).apply("variants", items, batch_key="b")
    # Then size M is gone (its variant, not its product), the others are written
    assert [r.ok for r in results] == [True, False, True, True, True]
    assert [r.gone for r in results] == [None, "variant", None, None, None]
    assert _skus(sandbox, store_hash) == {"TEE-S": 12.5, "TEE-L": 12.5, "MUG": 12.5, "CAP": 12.5}
    # And finding that out took one look-up of its product, with its variants
    assert sandbox.request_counts[LOOKUP] == 1
    [lookup] = [t for m, t, _ in sandbox.requests_log if m == "GET"]
    assert f"/catalog/products/{products[0]['id']}?include=variants" in lookup


def test_a_product_deleted_in_the_store_is_gone_for_its_variants_and_its_fields(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the catalog as it was read, and then the merchant deletes the whole tee
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products, price=[1000, 900])
    sandbox.delete_product(store_hash, products[0]["id"])
    connector = _connector(sandbox, store)
    # When its three variants are written with the mug and the cap
    variant_results = connector.apply("variants", items, batch_key="v")
    # Then each of them is gone with its product; the mug and the cap are written
    assert [r.gone for r in variant_results] == ["product"] * 3 + [None, None]
    assert [r.ok for r in variant_results] == [False] * 3 + [True, True]
    assert _skus(sandbox, store_hash) == {"MUG": 9.0, "CAP": 9.0}
    # And when its name is written (a product batch, which the platform refuses with 404)
    sandbox.reset_log()
    product_results = _connector(sandbox, store).apply(
        "products", _renames(products), batch_key="p"
    )
    # Then the tee is gone, the others renamed, at one look-up (without variants),
    assert [(r.ok, r.gone) for r in product_results] == [
        (False, "product"),
        (True, None),
        (True, None),
    ]
    assert [p["name"] for p in sandbox.products(store_hash)] == ["Mug 2", "Cap 2"]
    # plus one read of the product list, proving the store itself still answers
    assert sandbox.request_counts[LOOKUP] == 1
    [lookup, probe] = [t for m, t, _ in sandbox.requests_log if m == "GET"]
    assert f"/catalog/products/{products[0]['id']}" in lookup and "include" not in lookup
    assert probe.endswith("/catalog/products?limit=1")


def test_stock_adjustments_of_a_deleted_variant_and_of_a_deleted_product_are_gone(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the mug's stock tracked on the product, then the tee's size S and the mug deleted
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    sandbox.set_tracking(store_hash, products[1]["id"], "product")
    items = _items(products, stock=[2, 9])
    items[3].ref = "product"  # the index says: adjusted by product id
    sandbox.delete_variant(store_hash, items[0].variant_id)
    sandbox.delete_product(store_hash, products[1]["id"])
    # When the absolute adjustments are sent
    connector = _connector(sandbox, store, inventory="adjustments")
    results = connector.apply("inventory", items, batch_key="i")
    # Then the size S is gone as a variant, the mug as a product, the rest adjusted
    assert [r.gone for r in results] == ["variant", None, None, "product", None]
    assert [r.ok for r in results] == [False, True, True, False, True]
    assert {v["sku"]: v["inventory_level"] for v in sandbox.variants(store_hash)} == {
        "TEE-M": 9,
        "TEE-L": 9,
        "CAP": 9,
    }


def test_a_refused_item_the_store_still_has_is_an_ordinary_failure(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a variant the platform refuses, with words that sound like a deletion
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products, price=[1000, 1100])
    sandbox.reject_variant(store_hash, items[2].variant_id, "Variant was not found in PIM")
    # When the batch is written
    results = _connector(sandbox, store).apply("variants", items, batch_key="b")
    # Then it failed with the platform's words but is not gone: the store still has it
    assert "not found in PIM" in results[2].message
    assert (results[2].ok, results[2].gone) == (False, None)
    assert sandbox.request_counts[LOOKUP] == 1


def test_a_deleted_variant_that_also_sets_an_image_is_gone_after_the_retry_without_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a deleted variant whose item sets an image along with its price
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products[:1], price=[1000, 1100])
    items[0].changes["image_url"] = [None, "https://supplier.example/tee-s.jpg"]
    sandbox.delete_variant(store_hash, items[0].variant_id)
    sandbox.reset_log()
    # When written
    results = _connector(sandbox, store).apply("variants", items, batch_key="b")
    # Then it was sent once more without the image (refused too), then found gone once the
    # batch was done (0-2 refused, 0-1 refused, 0 with 2 refused, 0 without its image
    # refused, 2 and 1 written; the look-up)
    assert [r.gone for r in results] == ["variant", None, None]
    assert [m for m, _, _ in sandbox.requests_log] == ["PUT"] * 5 + ["GET"]


def test_a_look_up_that_fails_leaves_the_refusal_as_it_was(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a deleted variant, and a store that answers the look-up with an error
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products, price=[1000, 1100])
    sandbox.delete_variant(store_hash, items[1].variant_id)
    sandbox.fail_next(400, route=f"/catalog/products/{products[0]['id']}")
    # When written
    results = _connector(sandbox, store).apply("variants", items, batch_key="b")
    # Then the item failed with the platform's refusal, but nothing says it is gone
    assert (results[1].ok, results[1].gone) == (False, None)
    assert str(items[1].variant_id) in results[1].message
    assert [r.ok for r in results] == [True, False, True, True, True]


def test_a_store_answering_404_to_everything_has_no_item_gone(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given products the index holds, and a store address that now answers 404 to every
    # request (a closed store, a platform incident)
    store_hash, token = store
    products = _seed(sandbox, store_hash)
    dead = BigCommerceConnector(
        sandbox.api_url("closed-store"), token, sleep=FakeSleep(), allow_private=True
    )
    # When their names are written (the platform refuses product batches with 404)
    results = dead.apply("products", _renames(products), batch_key="p")
    # Then every item failed, and none is taken for deleted: the index must keep them
    assert [r.ok for r in results] == [False, False, False]
    assert [r.gone for r in results] == [None, None, None]


def test_items_refused_in_one_batch_are_looked_up_together(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the catalog as it was read, and then the merchant deletes the mug and the cap
    store_hash, _ = store
    products = _seed(sandbox, store_hash)
    items = _items(products, price=[1000, 900])
    for product in products[1:]:
        sandbox.delete_product(store_hash, product["id"])
    sandbox.reset_log()
    # When the five variants are written
    results = _connector(sandbox, store).apply("variants", items, batch_key="v")
    # Then both are gone, found by one read of the product list naming both (its 200
    # shows the store answers: no look-up each, no probe)
    assert [r.gone for r in results] == [None, None, None, "product", "product"]
    gets = [unquote(t) for m, t, _ in sandbox.requests_log if m == "GET"]
    assert len(gets) == 1 and sandbox.request_counts.get(LOOKUP, 0) == 0
    assert f"id:in={products[1]['id']},{products[2]['id']}" in gets[0]


def test_the_store_proves_itself_alive_again_once_a_minute_has_passed_on_the_given_clock(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a connector built by the platform's spec with a fake monotonic clock, and the
    # mug and the cap deleted in the store
    store_hash, token = store
    products = _seed(sandbox, store_hash)
    now = [1000.0]
    setup = ConnectorSetup(
        sandbox.api_url(store_hash), {"access_token": token}, {}, allow_private=True,
        sleep=FakeSleep(), clock=lambda: now[0],
    )  # fmt: skip
    connector = SPEC.connector(setup)
    mug, cap = (_items([p], price=[500, 600]) for p in products[1:])
    for product in products[1:]:
        sandbox.delete_product(store_hash, product["id"])
    sandbox.reset_log()

    def probes() -> int:
        return sum(1 for m, t, _ in sandbox.requests_log if t.endswith("/catalog/products?limit=1"))

    # When the mug is written, and the cap 59 s later
    assert [r.gone for r in connector.apply("variants", mug, batch_key="a")] == ["product"]
    now[0] += 59.0
    assert [r.gone for r in connector.apply("variants", cap, batch_key="b")] == ["product"]
    # Then the product list was read once: the store's answer still vouched for it
    assert probes() == 1
    # And once a minute has passed on that clock, the next deletion reads it again
    now[0] += 2.0
    assert [r.gone for r in connector.apply("variants", mug, batch_key="c")] == ["product"]
    assert probes() == 2
