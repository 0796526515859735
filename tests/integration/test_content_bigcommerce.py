"""Content fields (description, brand, weight, image) through the real run into BigCommerce.

The real ASL on moto, the real handlers, the sandbox store: a profile mapping the four
content columns writes them, a second identical run finds nothing to do (what the store
answers on the next read is what the index was patched with), and an item that already
has an image keeps it in partial mode.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from integration_harness import Harness, simple_product

from feedsync.core.catalog_store import catalog_has_content, load_catalog
from feedsync.domain.catalog import SNAPSHOT_HEADER
from feedsync.domain.content import description_digest
from feedsync.domain.fields import VARIANT_POS

MUG_IMAGE = "https://shop.example/img/mug-front.jpg"
STORE: list[dict[str, Any]] = [
    {**simple_product("Tee", "TEE-1", "10.00", 5), "weight": 0.3},
    # Already has a product image (its base variant shows it) and the brand "Acme"
    {
        **simple_product("Mug", "MUG-1", "8.00", 2),
        "brand_name": "Acme",
        "images": [{"image_url": MUG_IMAGE, "is_thumbnail": True}],
    },
    {
        "name": "Hoodie",
        "type": "physical",
        "weight": 2,
        "price": 30.0,
        "variants": [
            {
                "sku": f"HD-{size}",
                "inventory_level": 1,
                "option_values": [{"option_display_name": "Size", "label": size}],
            }
            for size in ("S", "M")
        ],
    },
]
FEED = (
    "SKU,Description,Brand,Weight,Image\n"
    'TEE-1,"<p>Soft cotton tee, 180 g/m2</p>",Acme,0.250,https://supplier.example/img/tee.jpg\n'
    "MUG-1,<p>Stoneware mug</p>,Acme,0.450,https://supplier.example/img/mug.jpg\n"
    "HD-S,<p>Warm hoodie</p>,Northwind,0.800,https://supplier.example/img/hd-s.jpg\n"
    "HD-M,<p>Warm hoodie</p>,Northwind,0.9,https://supplier.example/img/hd-m.jpg\n"
)
CONTENT = ["description", "brand", "weight", "image_url"]
MAPPING = {
    "sku": "SKU",
    "description": "Description",
    "brand": "Brand",
    "weight": "Weight",
    "image_url": "Image",
}


def _log(h: Harness, log_key: str | None) -> dict[str, dict[str, str]]:
    assert log_key
    text = h.deps.blobs.get_bytes(log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def _store_content(h: Harness, store_hash: str) -> dict[str, tuple[Any, ...]]:
    """sku -> (description, brand name, variant weight, variant image) in the store."""
    brands = h.sandbox.brands(store_hash)
    products = {p["id"]: p for p in h.sandbox.products(store_hash)}
    out = {}
    for v in h.sandbox.variants(store_hash):
        product = products[v["product_id"]]
        out[v["sku"]] = (
            product["description"],
            brands.get(product["brand_id"]),
            v["weight"],
            v["image_url"],
        )
    return out


def test_content_is_written_once_and_an_existing_image_is_kept(h: Harness) -> None:
    # Given a store with a bare tee, a branded mug that has an image, and a hoodie of two
    # sizes, and a profile mapping the four content columns (partial mode)
    shop = h.shop(STORE)
    profile = h.url_profile(shop, FEED, mapping=MAPPING, fields=CONTENT)

    # When the sync runs
    first = h.run_to_end(shop.tenant, profile.profile_id)

    # Then every row was changed and written, none failed
    assert first.status == "succeeded", first.error
    assert first.mode == "partial"
    assert (first.counts["changed"], first.counts["updated"], first.counts["failed"]) == (4, 4, 0)
    # ... and the store holds the values: descriptions, brands by name (created once),
    # weights as numbers, images as the platform's own copies of the feed's images
    content = _store_content(h, shop.store_hash)
    tee, mug, small, medium = (content[s] for s in ("TEE-1", "MUG-1", "HD-S", "HD-M"))
    assert tee[:3] == ("<p>Soft cotton tee, 180 g/m2</p>", "Acme", 0.25)
    assert tee[3].startswith("https://cdn11.bigcommerce.com/") and tee[3].endswith("/tee.jpg")
    assert small[:3] == ("<p>Warm hoodie</p>", "Northwind", 0.8)
    assert medium[:3] == ("<p>Warm hoodie</p>", "Northwind", 0.9)
    assert small[3].endswith("/hd-s.jpg") and medium[3].endswith("/hd-m.jpg")
    assert sorted(h.sandbox.brands(shop.store_hash).values()) == ["Acme", "Northwind"]
    # ... and the mug kept its image: no variant image set, its product image untouched
    assert mug == ("<p>Stoneware mug</p>", "Acme", 0.45, "")
    [mug_product] = [p for p in shop.seeded if p["name"] == "Mug"]
    assert mug_product["images"][0]["url_standard"].endswith("/mug-front.jpg?c=2")
    log = _log(h, first.log_key)
    assert "image_url" not in log["MUG-1"]["changes"]
    assert "brand" not in log["MUG-1"]["changes"]  # it has that brand already
    assert log["MUG-1"]["status"] == "updated"
    assert "image_url: (empty) -> https://supplier.example/img/tee.jpg" in log["TEE-1"]["changes"]
    assert "description: set (" in log["TEE-1"]["changes"]
    # ... and the hoodie's description and brand went in one product write for both rows
    product_puts = [r for r in h.puts_to(shop) if "/catalog/products" in r[1]]
    assert len(product_puts) == 1

    # When the same file runs again
    writes_before = len(h.puts_to(shop))
    second = h.run_to_end(shop.tenant, profile.profile_id)

    # Then every row is unchanged and nothing is written: the store read back (the index is
    # refreshed from the store before matching) equals what the first run patched in
    assert second.status == "succeeded", second.error
    assert (second.counts["changed"], second.counts["unchanged"]) == (0, 4)
    assert len(h.puts_to(shop)) == writes_before
    assert {rec["status"] for rec in _log(h, second.log_key).values()} == {"unchanged"}
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None
    index = {v[VARIANT_POS["sku"]]: v for v in load_catalog(h.deps, store).variants}
    # (read from the store, not patched: the image is the platform's copy)
    assert index["TEE-1"][VARIANT_POS["image_url"]] == tee[3]
    assert index["TEE-1"][VARIANT_POS["description"]] == description_digest(tee[0])
    assert index["TEE-1"][VARIANT_POS["weight"]] == "0.25"
    assert index["HD-M"][VARIANT_POS["brand"]] == "Northwind"
    # (the mug's base variant counts as having an image: its product's)
    assert str(index["MUG-1"][VARIANT_POS["image_url"]]).endswith("/mug-front.jpg?c=2")
    assert _store_content(h, shop.store_hash)["MUG-1"][3] == ""


def test_no_mode_replaces_an_image_the_item_has(h: Harness) -> None:
    # Given the mug with its image, and a profile writing only the image
    shop = h.shop([STORE[1]])
    feed = "SKU,Image\nMUG-1,https://supplier.example/img/mug.jpg\n"
    mapping = {"sku": "SKU", "image_url": "Image"}
    profile = h.url_profile(shop, feed, mapping=mapping, fields=["image_url"])
    before = _store_content(h, shop.store_hash)["MUG-1"][3]

    # When a partial run, then a full run happen
    partial = h.run_to_end(shop.tenant, profile.profile_id)
    full = h.run_to_end(shop.tenant, profile.profile_id, mode="full")

    # Then both keep the image the mug has: the platform re-hosts images, so the feed's
    # URL cannot be compared with it, and re-sending it would add a copy on every run
    assert partial.status == "succeeded" and partial.counts["unchanged"] == 1
    assert full.status == "succeeded" and full.counts["unchanged"] == 1
    assert _store_content(h, shop.store_hash)["MUG-1"][3] == before


def test_an_index_from_before_content_fields_is_read_again_before_content_is_compared(
    h: Harness,
) -> None:
    # Given a store whose saved index predates content fields (no image column: every
    # item would look imageless), and a profile writing images
    shop = h.shop([STORE[1]])
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None and store.catalog_key
    index = load_catalog(h.deps, store)
    old = io.StringIO(newline="")
    writer = csv.writer(old, lineterminator="\n")
    writer.writerow(SNAPSHOT_HEADER[:12])
    writer.writerows(v[:12] for v in index.variants)
    h.deps.blobs.put_bytes(store.catalog_key, old.getvalue().encode(), "text/csv")
    before = _store_content(h, shop.store_hash)["MUG-1"][3]
    feed = "SKU,Image\nMUG-1,https://supplier.example/img/mug.jpg\n"
    profile = h.url_profile(shop, feed, mapping={"sku": "SKU", "image_url": "Image"},
                            fields=["image_url"])  # fmt: skip

    # When the run starts
    run = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the whole catalog was read again first, so the mug is known to have an image
    # and keeps it, and the saved index holds content from now on
    assert run.status == "succeeded", run.error
    assert run.counts["unchanged"] == 1, run.counts
    assert _store_content(h, shop.store_hash)["MUG-1"][3] == before
    assert catalog_has_content(h.deps, h.deps.repo.get_store(shop.tenant, shop.store.store_id))


def test_an_image_the_store_cannot_download_does_not_hold_back_price_and_stock(
    h: Harness,
) -> None:
    # Given a bare tee and a hoodie of two sizes, and a feed with new prices, stock and
    # images where the tee's image is on a host the platform cannot download from
    shop = h.shop([STORE[0], STORE[2]])
    feed = (
        "SKU,Price,Qty,Image\n"
        "TEE-1,12.50,9,https://img.supplier.invalid/tee.jpg\n"
        "HD-S,31.00,4,https://supplier.example/img/hd-s.jpg\n"
        "HD-M,32.00,6,https://supplier.example/img/hd-m.jpg\n"
    )
    mapping = {"sku": "SKU", "price": "Price", "stock": "Qty", "image_url": "Image"}
    profile = h.url_profile(shop, feed, mapping=mapping, fields=["price", "stock", "image_url"])

    # When the sync runs
    first = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the tee's price and stock are in the store, its image is not, and its row
    # failed with the platform's words and what was written; the hoodie got everything
    assert first.status == "succeeded", first.error
    assert (first.counts["updated"], first.counts["failed"]) == (2, 1), first.counts
    values = h.store_values(shop)
    assert values == {"TEE-1": (1250, 9), "HD-S": (3100, 4), "HD-M": (3200, 6)}
    content = _store_content(h, shop.store_hash)
    assert content["TEE-1"][3] == "" and content["HD-S"][3].endswith("/hd-s.jpg")
    tee = _log(h, first.log_key)["TEE-1"]
    assert tee["status"] == "failed"
    assert tee["error"].startswith("the image could not be set: ")
    assert "does not resolve" in tee["error"] and "(price, stock) were written" in tee["error"]
    # (the batch refused with one error; two group tests that isolate the tee, refused; the
    # hoodie's sizes written together; the tee without its image written)
    assert [r[2] for r in h.puts_to(shop)] == [422, 422, 422, 200, 200]

    # When the same file runs again
    writes_before = len(h.puts_to(shop))
    second = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the refresh before matching read the tee's price and stock back from the store
    # (its row was not patched into the index, having failed), so only its image is tried
    # again: refused, in one request, and nothing else is written
    assert second.status == "succeeded", second.error
    assert (second.counts["changed"], second.counts["unchanged"]) == (1, 2), second.counts
    tee = _log(h, second.log_key)["TEE-1"]
    assert tee["status"] == "failed" and "does not resolve" in tee["error"]
    assert tee["changes"].startswith("image_url: ") and "price" not in tee["changes"]
    assert [r[2] for r in h.puts_to(shop)[writes_before:]] == [422]
    assert h.store_values(shop) == values
