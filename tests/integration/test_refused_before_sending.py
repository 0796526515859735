"""Values a platform's own spec refuses are refused before sending, on each platform's double.

The real state machine on moto: a file with a negative price, a stock over the platform's
maximum and a name (or brand) longer than its maxLength. Each such row is reported with the
reason, the rest of the file is written, and the double receives no request carrying a bad
value (its write bodies are read back). The same values sent on purpose through the
platform's connector are refused by the double: each would have cost a failed request.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from integration_harness import Harness, cents, simple_product

from feedsync.core import keys
from feedsync.core.catalog_store import load_catalog
from feedsync.domain.fields import PRODUCT_ID, REF, VARIANT_ID, VARIANT_POS
from feedsync.domain.writes import ItemResult, PlanItem
from feedsync.models import Run, Store
from feedsync.platforms.registry import platform
from feedsync.platforms.spec import ConnectorSetup
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble

NEGATIVE = "-5.00"
MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty", "name": "Name", "brand": "Brand"}


def _feed(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["SKU", "Price", "Qty", "Name", "Brand"])
    writer.writerows(rows)
    return out.getvalue()


def _log(h: Harness, run: Run) -> dict[str, dict[str, str]]:
    """The run's log by key (a row the parser refused is named by its SKU too)."""
    assert run.log_key == keys.log_key(run.tenant_id, run.run_id)
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    return {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}


def _send(store: Store, credentials: dict[str, str], op: str, item: PlanItem) -> ItemResult:
    """Send one item on purpose through the platform's own connector (what feedsync held)."""
    setup = ConnectorSetup(store.api_url, credentials, store.options.model_dump(), True)
    [result] = platform(store.platform).connector(setup).apply(op, [item], batch_key="probe")
    return result


def _item(h: Harness, store: Store, sku: str, changes: dict[str, Any]) -> PlanItem:
    current = h.deps.repo.get_store(store.tenant_id, store.store_id)
    assert current is not None
    index = {v[VARIANT_POS["sku"]]: v for v in load_catalog(h.deps, current).variants}
    v = index[sku]
    return PlanItem(99, sku, v[PRODUCT_ID], v[VARIANT_ID], changes, v[REF])


def _refusals(h: Harness, store_hash: str) -> int:
    """422 answers this BigCommerce store gave (the sandbox serves other tests' stores too)."""
    prefix = f"/stores/{store_hash}/"
    return sum(
        1
        for _, target, status in h.sandbox.requests_log
        if target.startswith(prefix) and status == 422
    )


def _bad_values_absent(bodies: str, *values: str) -> None:
    for value in values:
        assert value not in bodies, value[:40]


def test_bigcommerce_never_receives_a_value_its_spec_refuses(h: Harness) -> None:
    # Given a BigCommerce store of five simple products
    shop = h.shop(
        [
            simple_product(name, sku, "10.00", 5)
            for name, sku in (("Alpha", "A"), ("Bravo", "B"), ("Charlie", "C"), ("Delta", "D"),
                              ("Echo", "E"))
        ]
    )  # fmt: skip
    # and a file: a negative price (B), a stock over the catalog's inventory maximum (C,
    # with a new price that one variant request would carry with it), a name over the
    # products' maxLength of 250 (D, with a new price) and two good rows
    long_name = "Delta " + "x" * 245
    feed = _feed(
        [
            ["A", "11.00", "5", "Alpha", ""],
            ["B", NEGATIVE, "5", "Bravo", ""],
            ["C", "13.00", "2147483648", "Charlie", ""],
            ["D", "14.00", "5", long_name, ""],
            ["E", "15.00", "7", "Echo", ""],
        ]
    )
    profile = h.url_profile(
        shop, feed, mapping={k: v for k, v in MAPPING.items() if k != "brand"},
        fields=["price", "stock", "name"],
    )  # fmt: skip

    # When the sync runs
    run = h.run_to_end(shop.tenant, profile.profile_id)

    # Then the run finished, the good rows and D's price were written, C left as it was
    assert run.status == "succeeded", run.error
    values = h.store_values(shop)
    assert (values["A"], values["D"], values["E"]) == ((1100, 5), (1400, 5), (1500, 7))
    assert values["B"] == values["C"] == (1000, 5)
    # and each bad row is reported with its reason (B by the parser, C and D before sending)
    log = _log(h, run)
    assert log["B"]["status"] == "row_error" and "cannot be negative" in log["B"]["error"]
    assert log["C"]["status"] == "failed"
    assert log["C"]["error"] == (
        "stock 2,147,483,648: BigCommerce takes at most 2,147,483,647 (not sent with it: price)"
    )
    assert log["D"]["status"] == "failed"
    assert log["D"]["error"].startswith("name (251 characters, 'Delta xxx")
    assert log["D"]["error"].endswith("BigCommerce takes at most 250 characters")
    assert (log["A"]["status"], log["E"]["status"]) == ("updated", "updated")
    counts = run.counts
    assert {k: counts[k] for k in ("row_errors", "invalid", "failed", "updated", "changed")} == {
        "row_errors": 1,
        "invalid": 2,
        "failed": 2,
        "updated": 2,
        "changed": 3,
    }
    # and the store received one variant batch (A, D, E) and nothing else: no failed request,
    # no body carrying a refused value
    writes = h.sandbox.write_bodies(shop.store_hash)
    assert [(m, path) for m, path, _ in writes] == [("PUT", "/catalog/variants")]
    assert sorted(item["id"] for item in writes[0][2]) == sorted(
        shop.seeded_variant(s)["id"] for s in "ADE"
    )
    _bad_values_absent(json.dumps(writes), "2147483648", long_name, "-5")
    assert _refusals(h, shop.store_hash) == 0

    # When the withheld values are sent on purpose through the connector
    creds = {"access_token": shop.token}
    stock = _send(shop.store, creds, "variants", _item(h, shop.store, "C", {"stock": [5, 2**31]}))
    name = _send(
        shop.store, creds, "products", _item(h, shop.store, "D", {"name": ["D", long_name]})
    )
    # Then the double refuses both (422): pre-validation saved two failed requests
    assert not stock.ok and "inventory_level" in stock.message
    assert not name.ok and "name" in name.message
    assert _refusals(h, shop.store_hash) == 2


def test_shopify_never_receives_a_value_its_spec_refuses(h: Harness) -> None:
    with ShopifyDouble() as shopify:
        # Given a Shopify shop of four products
        seeded = shopify.seed(
            [
                {"title": title, "variants": [{"sku": sku, "price": "10.00", "available": 5}]}
                for title, sku in (("Alpha", "A"), ("Bravo", "B"), ("Charlie", "C"),
                                   ("Delta", "D"))
            ]
        )  # fmt: skip
        tenant = h.tenant()
        creds = {"access_token": shopify.access_token}
        store = h.platform_store(tenant, "shopify", shopify.shop_url, creds)
        # and a file: a negative price (B), a stock over inventorySetQuantities' maximum
        # (C, with a new price: written by another mutation), a vendor over 255 characters
        # (D, with a title productUpdate would carry with it) and a good row
        long_vendor = "Vendor " + "v" * 250
        feed = _feed(
            [
                ["A", "11.00", "6", "Alpha", ""],
                ["B", NEGATIVE, "5", "Bravo", ""],
                ["C", "13.00", "1000000001", "Charlie", ""],
                ["D", "14.00", "5", "Delta Deluxe", long_vendor],
            ]
        )
        profile = h.profile_for(
            tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)},
            mapping=MAPPING, fields=["price", "stock", "name", "brand"],
        )  # fmt: skip
        shopify.reset_log()

        # When the sync runs
        run = h.run_to_end(tenant, profile.profile_id)

        # Then each bad row is reported with its reason, and what the platform writes apart
        # (C's price, D's price) still went
        assert run.status == "succeeded", run.error
        log = _log(h, run)
        assert log["B"]["status"] == "row_error" and "cannot be negative" in log["B"]["error"]
        assert log["C"]["status"] == "failed"
        assert log["C"]["error"] == "stock 1,000,000,001: Shopify takes at most 1,000,000,000"
        assert log["D"]["status"] == "failed"
        assert log["D"]["error"].startswith("brand (257 characters, 'Vendor vvv")
        assert log["D"]["error"].endswith(
            "Shopify takes at most 255 characters (not sent with it: name)"
        )
        assert log["A"]["status"] == "updated"
        assert (run.counts["invalid"], run.counts["failed"], run.counts["updated"]) == (2, 2, 1)
        variants = {
            p["variants"][0]["sku"]: shopify.variant(p["variants"][0]["id"]) for p in seeded
        }
        assert {s: variants[s]["price"] for s in "ABCD"} == {
            "A": "11.00",
            "B": "10.00",
            "C": "13.00",
            "D": "14.00",
        }
        assert (variants["A"]["available"], variants["C"]["available"]) == (6, 5)
        delta = shopify.product(seeded[3]["id"])
        assert delta["title"] == "Delta" and delta["vendor"] != long_vendor
        # and no document carried a refused value, and none was refused
        docs = shopify.documents()
        _bad_values_absent(json.dumps(docs), "1000000001", long_vendor, "Delta Deluxe", "-5.00")
        assert not any(e.get("code") for e in shopify.requests_log() if e.get("operation"))

        # When the withheld values are sent on purpose through the connector
        stock = _send(
            store, creds, "inventory_set", _item(h, store, "C", {"stock": [5, 10**9 + 1]})
        )
        vendor = _send(
            store, creds, "product_update", _item(h, store, "D", {"brand": [None, long_vendor]})
        )
        # Then the double refuses both: pre-validation saved two failed requests
        assert not stock.ok and "too high" in stock.message.lower()
        assert not vendor.ok and "vendor" in vendor.message.lower()


def test_woocommerce_never_receives_a_negative_price(h: Harness, woo: WooCommerceDouble) -> None:
    # Given a WooCommerce shop of three simple products
    a, b, c = woo.seed(
        [
            {"name": n, "sku": s, "regular_price": "10.00"}
            for n, s in (("A", "A"), ("B", "B"), ("C", "C"))
        ]
    )
    tenant = h.tenant()
    key, secret = woo.credentials
    creds = {"consumer_key": key, "consumer_secret": secret}
    store = h.platform_store(tenant, "woocommerce", woo.site_url, creds)
    # and a file with a negative price between two good rows (WooCommerce's REST schema
    # declares no maximum or maxLength for what feedsync writes: the general rules hold)
    feed = _feed(
        [["A", "11.00", "", "", ""], ["B", NEGATIVE, "", "", ""], ["C", "13.00", "", "", ""]]
    )
    profile = h.profile_for(
        tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)}, fields=["price"]
    )

    # When the sync runs
    run = h.run_to_end(tenant, profile.profile_id)

    # Then the negative price is reported with its reason, the rest written
    assert run.status == "succeeded", run.error
    log = _log(h, run)
    assert log["B"]["status"] == "row_error" and "cannot be negative" in log["B"]["error"]
    assert (log["A"]["status"], log["C"]["status"]) == ("updated", "updated")
    prices = {item["sku"]: item["regular_price"] for item in (woo.item(i["id"]) for i in (a, b, c))}
    assert prices == {"A": "11.00", "B": "10.00", "C": "13.00"}
    # and no batch carried it, none failed
    bodies = woo.batch_bodies()
    _bad_values_absent(json.dumps(bodies), "-5")
    assert all(status == 200 for method, _, status in woo.requests_log() if method == "POST")

    # When the same price is sent on purpose through the connector
    refused = _send(store, creds, "products_batch", _item(h, store, "B", {"price": [1000, -500]}))
    # Then the double refuses it (a failed item a request paid for)
    assert not refused.ok and "regular_price" in refused.message
    assert cents(woo.item(b["id"])["regular_price"]) == 1000
