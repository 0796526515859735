"""Issue 17 review: an apply (or retry) of create lines checks them against the store as the
refreshed index holds it now. A preview on Monday lists new items; on Tuesday another run
creates some of them; on Wednesday the merchant applies Monday's preview: what the store now
holds is ``stale`` ("already in the store") and not created again, and a group the store now
has gets only its other variants, added to that product."""

from __future__ import annotations

from create_support import HEADER, new_items_file
from integration_harness import Harness
from review_support import wait_round
from test_create_shopify_woocommerce import (
    Shop,
    _created_changes,
    _profile,
    shop,  # noqa: F401  (the fixture: each test on Shopify and WooCommerce)
)

from feedsync.core import api
from feedsync.core.review import apply_run
from feedsync.models import ApplyBody


def test_applying_an_old_preview_creates_only_what_the_store_still_lacks(
    h: Harness,
    shop: Shop,  # noqa: F811
) -> None:
    # Given Monday's preview of one new single item and one new group
    feed, shape = new_items_file(1, 1)
    monday = _profile(h, shop, feed)
    started = api.start(h.deps, shop.tenant, monday, "manual", None, preview=True)
    preview = h.wait_run(shop.tenant, started.run_id)
    assert preview.status == "previewed", preview.error
    # And Tuesday's run of another profile creating the single item and the group's first size
    lines = feed.splitlines(keepends=True)[1:]
    tuesday = _profile(h, shop, HEADER + lines[0] + lines[1])
    assert h.run_to_end(shop.tenant, tuesday).counts["created"] == 2

    # When Monday's preview is applied on Wednesday
    applied = wait_round(
        h, shop.tenant, apply_run(h.deps, shop.tenant, preview.run_id, ApplyBody())
    )

    # Then every SKU is in the store once, the group one product with all its sizes
    assert applied.status == "succeeded", applied.error
    products = shop.products()
    skus = [sku for product in products.values() for sku in product.skus]
    assert len(skus) == len(set(skus)) == sum(shape.values()) + 1
    assert set(products) == {"KEEP-1", *shape}
    assert len(products["TEE-00"].skus) == shape["TEE-00"]
    # And the two lines Tuesday created are stale, the rest created
    made_tuesday = {lines[0].split(",")[0], lines[1].split(",")[0]}
    by_status = {c["key"]: (c["status"], c["error"]) for c in _created_changes(h, shop, applied)}
    for sku, (status, error) in by_status.items():
        if sku in made_tuesday:
            assert status == "stale" and error.startswith("already in the store"), (sku, error)
        else:
            assert status == "updated", (sku, status, error)
