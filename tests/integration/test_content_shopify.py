"""Content fields (name, description, brand, weight, image) through the real state machine into
Shopify (its local double): written, read back without a rewrite loop, images kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from integration_harness import Harness

from feedsync.core import keys
from feedsync.core.catalog_store import load_catalog
from feedsync.domain.content import description_digest
from feedsync.domain.fields import VARIANT_POS
from feedsync.models import Store
from feedsync_local.shopify_double import ShopifyDouble

MAPPING = {
    "sku": "SKU",
    "price": "Price",
    "stock": "Qty",
    "name": "Name",
    "description": "Description",
    "brand": "Brand",
    "weight": "Weight",
    "image_url": "Image",
}
FIELDS = ["price", "stock", "name", "description", "brand", "weight", "image_url"]
TEAPOT_HTML = (
    "<p>Cast-iron teapot,\n  <strong>enamelled</strong> inside.</p>\n<ul><li>1 l</li></ul>"
)
CUP_HTML = "<p>A cup &amp; saucer</p>"
OLD_IMAGE = "https://old.example/teapot-large.jpg"
WRITES = ("FeedsyncVariantsBulkUpdate", "FeedsyncProductUpdate", "FeedsyncBulkRun")


@pytest.fixture
def shopify() -> Iterator[ShopifyDouble]:
    with ShopifyDouble(weight_unit="KILOGRAMS") as double:
        yield double


def _store(h: Harness, tenant: str, double: ShopifyDouble) -> Store:
    creds = {"access_token": double.access_token}
    return h.platform_store(tenant, "shopify", double.shop_url, creds)


def _feed(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(MAPPING.values()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _log(h: Harness, tenant: str, run_id: str) -> dict[str, dict[str, str]]:
    run = h.deps.repo.get_run(tenant, run_id)
    assert run is not None and run.log_key == keys.log_key(tenant, run_id)
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def _writes(double: ShopifyDouble) -> int:
    by_operation = double.stats()["by_operation"]
    return sum(by_operation.get(name, 0) for name in WRITES)


def test_content_reaches_shopify_once_and_a_second_run_changes_nothing(
    h: Harness, shopify: ShopifyDouble
) -> None:
    # Given a Shopify shop: a teapot in two sizes (the large one already has an image, neither
    # a weight), and a cup without any content
    teapot, cup = shopify.seed(
        [
            {
                "title": "Teapot",
                "variants": [
                    {"sku": "TP-S", "price": "20.00", "available": 5},
                    {"sku": "TP-L", "price": "24.00", "available": 5, "image": OLD_IMAGE},
                ],
            },
            {"title": "cup", "variants": [{"sku": "CUP", "price": "5.00", "available": 10}]},
        ]
    )
    small, large = teapot["variants"]
    [cup_variant] = cup["variants"]
    tenant = h.tenant()
    store = _store(h, tenant, shopify)
    assert store.variant_count == 3
    # And a feed with every content field, in partial mode (the default)
    common = {"Name": "Teapot", "Description": TEAPOT_HTML, "Brand": "Kettle & Co"}
    feed = _feed(
        [
            {"SKU": "TP-S", "Price": "20.00", "Qty": "5", **common, "Weight": "0.850",
             "Image": "https://supplier.example/img/teapot-small.jpg"},
            {"SKU": "TP-L", "Price": "24.00", "Qty": "5", **common, "Weight": "1.2",
             "Image": "https://supplier.example/img/teapot-large.jpg"},
            {"SKU": "CUP", "Price": "5.00", "Qty": "10", "Name": "Cup", "Description": CUP_HTML,
             "Brand": "Kettle & Co", "Weight": "0.25",
             "Image": "https://supplier.example/img/cup.jpg"},
        ]
    )  # fmt: skip
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        name="shopify content",
        mapping=MAPPING,
        fields=FIELDS,
    )

    # When the sync runs
    first = h.run_to_end(tenant, profile.profile_id)

    # Then (a) the shop got the product fields, the weights and the images
    assert first.status == "succeeded", first.error
    assert first.counts["changed"] == 3 and first.counts["failed"] == 0, first.counts
    for product, title, html in ((teapot, "Teapot", TEAPOT_HTML), (cup, "Cup", CUP_HTML)):
        got = shopify.product(product["id"])
        assert (got["title"], got["description_html"], got["vendor"]) == (
            title,
            html,
            "Kettle & Co",
        )
    tp_s, tp_l, cup_now = (shopify.variant(v["id"]) for v in (small, large, cup_variant))
    assert (tp_s["weight"], tp_s["weight_unit"]) == ("0.85", "KILOGRAMS")
    assert (tp_l["weight"], cup_now["weight"]) == ("1.2", "0.25")
    assert tp_s["image_source"] == "https://supplier.example/img/teapot-small.jpg"
    assert cup_now["image_source"] == "https://supplier.example/img/cup.jpg"
    # (Shopify serves images from its own CDN, never at the feed's URL)
    assert tp_s["image_url"].startswith("https://cdn.shopify.com/")
    # And (c) the variant that already had an image kept it: partial mode sets none over it
    assert tp_l["image_source"] == OLD_IMAGE
    assert len(shopify.product(teapot["id"])["media"]) == 2
    log = _log(h, tenant, first.run_id)
    assert "image_url" not in log["TP-L"]["changes"]
    assert (
        "image_url: (empty) -> https://supplier.example/img/teapot-small.jpg"
        in (log["TP-S"]["changes"])
    )
    assert all(rec["status"] == "updated" for rec in log.values()), log

    # When (b) the same feed runs again (the refresh before matching re-reads every product
    # the first run wrote, so what the index holds is what Shopify answers)
    writes = _writes(shopify)
    second = h.run_to_end(tenant, profile.profile_id)

    # Then every row is unchanged and nothing was written
    assert second.status == "succeeded", second.error
    assert second.counts["changed"] == 0 and second.counts["unchanged"] == 3, second.counts
    assert {rec["status"] for rec in _log(h, tenant, second.run_id).values()} == {"unchanged"}
    assert _writes(shopify) == writes
    assert shopify.variant(large["id"])["image_source"] == OLD_IMAGE
    # And the index it compared with was Shopify's answer, not just our own patch: the
    # image URL is the CDN's, the weight canonical, the description a digest
    current = h.deps.repo.get_store(tenant, store.store_id)
    assert current is not None
    index = {v[VARIANT_POS["sku"]]: v for v in load_catalog(h.deps, current).variants}
    assert index["TP-S"][VARIANT_POS["image_url"]] == tp_s["image_url"]
    assert index["TP-S"][VARIANT_POS["weight"]] == "0.85"
    assert index["TP-S"][VARIANT_POS["description"]] == description_digest(TEAPOT_HTML)
    assert index["CUP"][VARIANT_POS["brand"]] == "Kettle & Co"
