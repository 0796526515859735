"""Content fields (description, weight, image) through the real state machine into the
WooCommerce double: written once, read back as written, never rewritten in a loop."""

from __future__ import annotations

import csv
import io
from typing import Any

import requests
from integration_harness import Harness

from feedsync.core import keys
from feedsync.models import Store
from feedsync_local.woo_double import WooCommerceDouble

SHOP_IMAGE = "https://shop.example/wp-content/uploads/2024/01/framed.jpg"
TEE_FEATURED = "https://shop.example/wp-content/uploads/2024/01/tee.jpg"
TEE_M_OWN = "https://shop.example/wp-content/uploads/2024/01/tee-m.jpg"
SUPPLIER = "https://cdn.supplier.example/img"
POSTER_TEXT = "<h2>Big poster</h2>\n<p>Printed on 200 g paper.\nShips rolled.</p>"
TEE_TEXT = "Soft cotton tee.\n\nMachine washable."
CONTENT = {
    "sku": "SKU",
    "price": "Price",
    "stock": "Qty",
    "description": "Description",
    "weight": "Weight",
    "image_url": "Image",
}


def _store(h: Harness, tenant: str, woo: WooCommerceDouble) -> Store:
    key, secret = woo.credentials
    creds = {"consumer_key": key, "consumer_secret": secret}
    return h.platform_store(tenant, "woocommerce", woo.site_url, creds)


def _log(h: Harness, tenant: str, run_id: str) -> dict[str, dict[str, str]]:
    run = h.deps.repo.get_run(tenant, run_id)
    assert run is not None and run.log_key == keys.log_key(tenant, run_id)
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def _feed(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["SKU", "Price", "Qty", "Description", "Weight", "Image"])
    writer.writerows(rows)
    return out.getvalue()


def _posts(woo: WooCommerceDouble) -> int:
    return sum(n for (method, _), n in woo.request_counts().items() if method == "POST")


def test_content_reaches_woocommerce_once_and_is_not_rewritten(
    h: Harness, woo: WooCommerceDouble
) -> None:
    # Given a shop with a bare simple product, a simple product that has an image, and a
    # variable product with a featured image whose small variation has no image of its
    # own (WooCommerce shows the parent's) while the medium one has its own
    poster, framed, tee = woo.seed(
        [
            {"name": "Poster", "sku": "PST", "regular_price": "10.00"},
            {"name": "Framed", "sku": "FRM", "regular_price": "30.00", "weight": "1.2",
             "images": [{"src": SHOP_IMAGE}]},
            {"name": "Tee", "type": "variable", "description": "Old text",
             "images": [{"src": TEE_FEATURED}],
             "variations": [
                 {"sku": "TEE-S", "regular_price": "15.00"},
                 {"sku": "TEE-M", "regular_price": "15.00", "image": {"src": TEE_M_OWN}},
             ]},
        ]
    )  # fmt: skip
    tee_s, tee_m = tee["variation_objects"]
    tenant = h.tenant()
    store = _store(h, tenant, woo)
    assert store.variant_count == 4
    # and a supplier feed with descriptions, weights and images for all of them
    feed = _feed(
        [
            ["PST", "10.00", "", POSTER_TEXT, "0.250", f"{SUPPLIER}/pst.jpg"],
            ["FRM", "30.00", "", "A framed print.", "1.20", f"{SUPPLIER}/frm.jpg"],
            ["TEE-S", "15.00", "", TEE_TEXT, "0.2", f"{SUPPLIER}/tee-s.jpg"],
            ["TEE-M", "15.00", "", TEE_TEXT, "0.21", f"{SUPPLIER}/tee-m.jpg"],
        ]
    )
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping=CONTENT,
        fields=["price", "description", "weight", "image_url"],
    )

    # When the sync runs in partial mode
    first = h.run_to_end(tenant, profile.profile_id)

    # Then (a) the shop has the descriptions as sent, the weights as the supplier wrote
    # them and, where there was no image, the supplier's image (re-hosted by the shop)
    assert first.status == "succeeded", first.error
    assert first.counts["failed"] == 0, first.counts
    assert woo.item(poster["id"], context="edit")["description"] == POSTER_TEXT
    assert woo.item(poster["id"])["weight"] == "0.250"
    [poster_image] = woo.item(poster["id"])["images"]
    assert poster_image["src"].startswith(f"{woo.site_url}/wp-content/uploads/")
    assert poster_image["src"].endswith("/pst.jpg")
    assert woo.item(tee["id"], context="edit")["description"] == TEE_TEXT
    assert woo.item(tee_s["id"])["weight"] == "0.2"
    assert woo.item(tee_m["id"])["weight"] == "0.21"
    assert woo.item(tee_s["id"])["image"]["src"].endswith("/tee-s.jpg")
    # and (c) the product and the variation that had an image of their own kept it; the
    # parent's featured image was not touched
    assert [i["src"] for i in woo.item(framed["id"])["images"]] == [SHOP_IMAGE]
    assert woo.item(tee_m["id"])["image"]["src"] == TEE_M_OWN
    assert [i["src"] for i in woo.item(tee["id"])["images"]] == [TEE_FEATURED]
    log = _log(h, tenant, first.run_id)
    assert "image_url" not in log["FRM"]["changes"] and "weight" not in log["FRM"]["changes"]
    assert "image_url" not in log["TEE-M"]["changes"]
    assert "description: replaced" in log["TEE-S"]["changes"]
    assert all(log[k]["status"] == "updated" for k in ("PST", "FRM", "TEE-S", "TEE-M")), log

    # When the same feed runs again
    posts = _posts(woo)
    second = h.run_to_end(tenant, profile.profile_id)

    # Then (b) the catalog read back what was written: every row is unchanged and nothing
    # was sent to the shop
    assert second.status == "succeeded", second.error
    assert second.counts["changed"] == 0, second.counts
    assert second.counts["unchanged"] == 4, second.counts
    assert {rec["status"] for rec in _log(h, tenant, second.run_id).values()} == {"unchanged"}
    assert _posts(woo) == posts


def test_a_zero_weight_and_a_description_wordpress_respells_are_not_rewritten(
    h: Harness, woo: WooCommerceDouble
) -> None:
    # Given a simple product and a variable product weighing 0.5 whose variation has no
    # weight of its own (WooCommerce answers it with the parent's)
    cable, tee = woo.seed(
        [
            {"name": "Cable", "sku": "CBL", "regular_price": "4.00", "weight": "0.1"},
            {"name": "Tee", "type": "variable", "weight": "0.5",
             "variations": [{"sku": "TEE-S", "regular_price": "15.00"}]},
        ]
    )  # fmt: skip
    [tee_s] = tee["variation_objects"]
    tenant = h.tenant()
    store = _store(h, tenant, woo)
    # and a feed giving both the weight 0 and descriptions that WordPress stores in its
    # own spelling: a bare "&", "<br/>", single-quoted attributes, a self-closing <img/>
    cable_text = "AT&T cable<br/>\n<p class='spec'>2 m <img src='https://cdn.example/c.png'/></p>"
    tee_text = "Cotton & elastane<br/>Wash <b class='hint'>cold</b>"
    feed = _feed(
        [
            ["CBL", "4.00", "", cable_text, "0", ""],
            ["TEE-S", "15.00", "", tee_text, "0", ""],
        ]
    )
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping=CONTENT,
        fields=["description", "weight"],
    )

    # When the sync runs in partial mode
    first = h.run_to_end(tenant, profile.profile_id)

    # Then both rows were written: the zero weight as "0.0" (the variation answers it as
    # its own, not its parent's 0.5) and the descriptions in WordPress's spelling
    assert first.status == "succeeded", first.error
    assert first.counts["failed"] == 0, first.counts
    log = _log(h, tenant, first.run_id)
    assert {log[k]["status"] for k in ("CBL", "TEE-S")} == {"updated"}, log
    assert woo.item(tee_s["id"])["weight"] == "0.0"
    assert woo.item(cable["id"])["weight"] == "0.0"
    stored = woo.item(cable["id"], context="edit")["description"]
    assert stored.startswith("AT&amp;T cable<br />") and "c.png' />" in stored
    assert woo.item(tee["id"], context="edit")["description"].startswith("Cotton &amp; elastane")

    # When the same feed runs again
    posts = _posts(woo)
    second = h.run_to_end(tenant, profile.profile_id)

    # Then what was written read back as the feed's values: nothing changed, nothing sent
    assert second.status == "succeeded", second.error
    assert second.counts["changed"] == 0, second.counts
    assert second.counts["unchanged"] == 2, second.counts
    assert {rec["status"] for rec in _log(h, tenant, second.run_id).values()} == {"unchanged"}
    assert _posts(woo) == posts


def test_a_full_sync_writes_every_field_but_keeps_an_existing_image(
    h: Harness, woo: WooCommerceDouble
) -> None:
    # Given a simple product with an image and a feed with another one
    [framed] = woo.seed(
        [
            {
                "name": "Framed",
                "sku": "FRM",
                "regular_price": "30.00",
                "images": [{"src": SHOP_IMAGE}],
            }
        ]
    )
    tenant = h.tenant()
    store = _store(h, tenant, woo)
    feed = _feed([["FRM", "30.00", "", "A framed print.", "1.5", f"{SUPPLIER}/frm.jpg"]])
    profile = h.profile_for(
        tenant,
        store.store_id,
        {"type": "url", "url": h.feed_url(feed)},
        mapping=CONTENT,
        fields=["description", "weight", "image_url"],
        mode="full",
    )

    # When a full sync runs twice
    first = h.run_to_end(tenant, profile.profile_id)
    second = h.run_to_end(tenant, profile.profile_id)

    # Then the other fields are written on every run, but the shop's image stays: an image
    # cannot be compared once re-hosted, and re-uploading it would grow the media library
    # and replace the gallery on every run
    assert first.status == "succeeded" and second.status == "succeeded", second.error
    [image] = woo.item(framed["id"])["images"]
    assert image["src"] == SHOP_IMAGE
    assert woo.item(framed["id"])["weight"] == "1.5"
    assert woo.item(framed["id"], context="edit")["description"] == "A framed print."
    assert second.counts["updated"] == 1, second.counts


def test_brand_on_a_woocommerce_store_is_refused_with_the_reason(
    h: Harness, woo: WooCommerceDouble
) -> None:
    # Given a WooCommerce store and an API key of its tenant
    woo.seed([{"name": "Cap", "sku": "CAP", "regular_price": "5.00"}])
    tenant = h.tenant()
    api_key = h.env.new_tenant(tenant)
    store = _store(h, tenant, woo)
    assert h.env.api is not None
    body: dict[str, Any] = {
        "name": "brands",
        "store_id": store.store_id,
        "source": {"type": "url", "url": h.feed_url("SKU,Brand\nCAP,Acme\n")},
        "mapping": {"sku": "SKU", "brand": "Brand"},
        "fields": ["brand"],
    }

    # When a profile asking to write the brand is posted to the API
    answer = requests.post(
        f"{h.env.api.url}/profiles",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )

    # Then it is refused with 422, naming the field and why WooCommerce cannot take it
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["error"] == "invalid_request" and error["field"] == "fields"
    assert "brand" in error["message"] and "taxonomy terms" in error["message"]
    assert h.deps.repo.list_profiles(tenant) == []
