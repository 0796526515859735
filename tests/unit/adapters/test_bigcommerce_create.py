"""BigCommerce create mode (issue 17) against the SandboxStore on loopback: products with
their variants and options, variants added to a product the store has, hidden and in the
profile's category, the look-up that keeps a retried batch from creating twice, and
deletion for a revert."""

from __future__ import annotations

from typing import Any

from fake_sleep import FakeSleep

from feedsync.domain.create import CreateSettings, gather_creations, resume_creations, row_of
from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore

SETTINGS = CreateSettings({"Size": "Size", "Colour": "Color"}, "Parent", 600, "BigCommerce")


def _connector(sandbox: SandboxStore, store: tuple[str, str]) -> BigCommerceConnector:
    return BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=FakeSleep(), allow_private=True
    )


def _items(rows: list[tuple[Any, ...]], **settings: Any) -> list[PlanItem]:
    items, skipped = gather_creations(rows, SETTINGS._replace(**settings))
    assert skipped == []
    return items


def _single(n: int, sku: str, **extra: Any) -> tuple[Any, ...]:
    values = {"sku": sku, "name": f"Lamp {sku}", "price": 1999, "stock": 4, **extra}
    return row_of(n, values)


def _variant(n: int, sku: str, size: str, colour: str, group: str = "TEE") -> tuple[Any, ...]:
    values = {"sku": sku, "name": "Tee", "brand": "Acme", "price": 1500, "stock": n}
    return row_of(n, values, group=group, options=(size, colour))


def test_a_single_item_is_created_hidden_with_its_fields(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a new single item with a barcode, weight, sale price and image
    connector = _connector(sandbox, store)
    row = _single(
        2,
        "LAMP-1",
        barcode="4006381333931",
        sale_price=1799,
        weight="1.5",
        image_url="https://cdn.example.com/lamp.jpg",
    )
    # When it is created
    [result] = connector.apply("create", _items([row]), batch_key="b1")
    # Then the store holds one hidden product whose base variant carries the SKU
    assert result.ok and result.message == ""
    assert result.created is not None
    [product] = sandbox.products(store[0])
    assert product["id"] == result.created.product_id
    assert (product["sku"], product["is_visible"], product["price"]) == ("LAMP-1", False, 19.99)
    assert (product["sale_price"], product["weight"], product["upc"]) == (
        17.99,
        1.5,
        "4006381333931",
    )
    [variant] = sandbox.variants(store[0])
    assert result.created.variants == {"LAMP-1": variant["id"]}
    assert variant["inventory_level"] == 4


def test_a_group_becomes_one_product_with_its_options_in_the_category(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given three rows of one group, told apart by size and colour, and a category
    connector = _connector(sandbox, store)
    rows = [_variant(3, "TEE-S-R", "S", "Red"), _variant(4, "TEE-M-R", "M", "Red"),
            _variant(5, "TEE-M-B", "M", "Blue")]  # fmt: skip
    # When the group is created visible
    [result] = connector.apply("create", _items(rows, visible=True, category="23"), batch_key="b1")
    # Then one product holds the three variants with their option values
    assert result.ok and result.created is not None
    [product] = sandbox.products(store[0])
    assert (product["sku"], product["is_visible"], product["categories"]) == ("TEE", True, [23])
    variants = {v["sku"]: v for v in sandbox.variants(store[0])}
    assert set(result.created.variants) == set(variants) == {"TEE-S-R", "TEE-M-R", "TEE-M-B"}
    options = variants["TEE-M-B"]["option_values"]
    assert [(o["option_display_name"], o["label"]) for o in options] == [
        ("Size", "M"), ("Colour", "Blue")]  # fmt: skip
    assert variants["TEE-M-B"]["inventory_level"] == 5
    # and the create request carried option_values by display name and label, as the spec says
    [(method, path, body)] = sandbox.write_bodies(store[0])
    assert (method, path) == ("POST", "/catalog/products")
    assert body["variants"][0]["option_values"] == [
        {"option_display_name": "Size", "label": "S"},
        {"option_display_name": "Colour", "label": "Red"},
    ]


def test_new_variants_of_a_group_the_store_has_are_added_to_its_product(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the group created earlier and a later file with one more size
    connector = _connector(sandbox, store)
    [first] = connector.apply("create", _items([_variant(2, "TEE-S-R", "S", "Red")]), batch_key="a")
    assert first.created is not None
    product_id = first.created.product_id
    items, _ = gather_creations(
        [_variant(7, "TEE-L-R", "L", "Red")], SETTINGS, existing={"TEE": product_id}
    )
    # When the new row is created
    [result] = connector.apply("create", items, batch_key="b")
    # Then it is a variant of the same product, and no product was added
    assert result.ok and result.created is not None
    assert result.created.product_id == product_id
    assert len(sandbox.products(store[0])) == 1
    added = next(v for v in sandbox.variants(store[0]) if v["sku"] == "TEE-L-R")
    assert (added["product_id"], result.created.variants) == (product_id, {"TEE-L-R": added["id"]})


def test_an_image_the_store_cannot_load_leaves_the_item_created_without_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a new item whose image host does not resolve
    connector = _connector(sandbox, store)
    row = _single(2, "LAMP-9", image_url="https://images.invalid/lamp.jpg")
    # When it is created
    [result] = connector.apply("create", _items([row]), batch_key="b1")
    # Then it is created, without images, and the result says why
    assert result.ok and result.created is not None
    assert "created without its images" in result.message and "images.invalid" in result.message
    [product] = sandbox.products(store[0])
    assert product["sku"] == "LAMP-9"


def test_a_refused_product_is_a_failed_result_and_nothing_is_created(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store that already has a product of that name (BigCommerce names are unique)
    connector = _connector(sandbox, store)
    connector.apply("create", _items([_single(2, "LAMP-1")]), batch_key="a")
    clash = row_of(3, {"sku": "LAMP-2", "name": "Lamp LAMP-1", "price": 100})
    # When another item of that name is created
    [result] = connector.apply("create", _items([clash]), batch_key="b")
    # Then it fails with the platform's words and the store keeps one product
    assert not result.ok and result.created is None
    assert "duplicate" in result.message.lower()
    assert len(sandbox.products(store[0])) == 1


def test_a_retried_batch_finds_what_the_store_accepted_and_sends_nothing_again(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a group and a single item the store accepted before the attempt died
    connector = _connector(sandbox, store)
    group = _items([_variant(2, "TEE-S-R", "S", "Red"), _variant(3, "TEE-M-R", "M", "Red")])
    single = _items([_single(4, "LAMP-1")])
    connector.apply("create", group, batch_key="b1")
    connector.apply("create", single, batch_key="b2")
    fresh = _items([_single(5, "LAMP-2")])
    sandbox.reset_log()
    # When a retry looks the batch up before sending it again
    items = group + single + fresh
    found = connector.find_created(items)
    resume = resume_creations(items, found)
    # Then the two made are answered from the store with their ids, only the new one is sent
    assert [i for i, _ in resume.send] == [2]
    assert set(resume.known) == {0, 1}
    variants = {v["sku"]: v["id"] for v in sandbox.variants(store[0])}
    assert resume.known[0].created is not None
    assert dict(resume.known[0].created.variants) == {
        "TEE-S-R": variants["TEE-S-R"], "TEE-M-R": variants["TEE-M-R"]}  # fmt: skip
    # and the look-up cost one read, no write
    assert [m for m, _, _ in sandbox.requests_log] == ["GET"]


def test_delete_removes_created_products_and_added_variants_only(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a product the merchant had, a product a run created, and a variant it added
    connector = _connector(sandbox, store)
    [kept] = connector.apply("create", _items([_variant(2, "TEE-S-R", "S", "Red")]), batch_key="a")
    [made] = connector.apply("create", _items([_single(3, "LAMP-1")]), batch_key="b")
    assert kept.created is not None and made.created is not None
    items, _ = gather_creations(
        [_variant(4, "TEE-L-R", "L", "Red")], SETTINGS, existing={"TEE": kept.created.product_id}
    )
    [added] = connector.apply("create", items, batch_key="c")
    assert added.created is not None
    # When the run that created the lamp and the large tee is reverted
    deletes = [
        PlanItem(3, "LAMP-1", made.created.product_id, 0, {}, product_level=True),
        PlanItem(4, "TEE-L-R", kept.created.product_id, added.created.variants["TEE-L-R"], {}),
    ]
    results = connector.apply("delete", deletes, batch_key="r")
    # Then both are gone and the tee keeps its first variant
    assert [r.ok for r in results] == [True, True]
    assert [p["sku"] for p in sandbox.products(store[0])] == ["TEE"]
    assert [v["sku"] for v in sandbox.variants(store[0])] == ["TEE-S-R"]
    # and deleting again (a retried revert) succeeds without harm
    assert [r.ok for r in connector.apply("delete", deletes, batch_key="r")] == [True, True]
