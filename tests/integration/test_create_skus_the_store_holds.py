"""Issue 17 review: create mode never creates a row whose SKU the store already holds in any
case. WooCommerce's SKUs are unique regardless of case (MySQL's collation), so a row ``keep-1``
beside the store's ``KEEP-1`` matches nothing yet would be refused (or, before, adopted: a
revert then deleted the merchant's product); a profile matching by barcode never compares
SKUs, so a row whose barcode is new but whose SKU the store has is not a new item either."""

from __future__ import annotations

from integration_harness import Harness
from test_create_shopify_woocommerce import _created_changes, _woo_shop

from feedsync_local.woo_double import WooCommerceDouble

HEADER = "SKU,Barcode,Name,Price,Qty\n"
CREATE = {"enabled": True}
MAPPING = {"sku": "SKU", "barcode": "Barcode", "name": "Name", "price": "Price", "stock": "Qty"}


def _run(h: Harness, double: WooCommerceDouble, feed: str, match_by: str) -> tuple[list, int]:
    shop = _woo_shop(h, double)  # holds KEEP-1, the merchant's own
    [kept] = [p for p in double.products() if p["sku"] == "KEEP-1"]
    source = {"type": "url", "url": h.feed_url(feed)}
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, source, mapping=MAPPING, create=CREATE,
        match_by=match_by,
    )  # fmt: skip
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "succeeded", run.error
    return _created_changes(h, shop, run), int(kept["id"])


def _skus_sent(double: WooCommerceDouble) -> list[str]:
    """The SKUs of every object a create batch carried."""
    return [obj.get("sku") for _, body in double.batch_bodies() for obj in body.get("create", [])]


def test_a_row_whose_sku_the_store_holds_in_another_case_is_not_created(h: Harness) -> None:
    # Given the store's KEEP-1 and a file with keep-1 and a new item
    feed = HEADER + "keep-1,,Kept,9.00,3\nNEW-1,,Lamp,12.00,4\n"
    with WooCommerceDouble() as double:
        # When a create profile matching by SKU runs
        changes, kept = _run(h, double, feed, "sku")

        # Then keep-1 fails naming the store's product, NEW-1 is created, KEEP-1 is untouched
        by_key = {c["key"]: c for c in changes}
        assert by_key["keep-1"]["status"] == "failed"
        assert by_key["keep-1"]["error"] == f"SKU already in the store (product {kept})"
        assert _skus_sent(double) == ["NEW-1"]
        assert by_key["NEW-1"]["status"] == "updated"
        assert sorted(p["sku"] for p in double.products()) == ["KEEP-1", "NEW-1"]


def test_a_barcode_profile_does_not_create_a_row_whose_sku_the_store_holds(h: Harness) -> None:
    # Given the store's KEEP-1 (no barcode) and a file listing KEEP-1 under a new barcode
    feed = HEADER + "KEEP-1,4006381333931,Kept,9.00,3\nNEW-2,4012345678901,Lamp,12.00,4\n"
    with WooCommerceDouble() as double:
        # When a create profile matching by barcode runs
        changes, kept = _run(h, double, feed, "barcode")

        # Then only the row matched by neither barcode nor SKU is created
        by_key = {c["key"]: c for c in changes}
        assert by_key["KEEP-1"]["error"] == f"SKU already in the store (product {kept})"
        assert _skus_sent(double) == ["NEW-2"]
        assert by_key["NEW-2"]["status"] == "updated"
        assert sorted(p["sku"] for p in double.products()) == ["KEEP-1", "NEW-2"]
