"""missing: disable through the state machine on each platform's double (issue 13): a
product this profile wrote that today's file lacks is hidden in the store and nothing else
is written; a preview of the file that lists it again sends nothing; a revert shows it again;
a file that lists it again shows it."""

from __future__ import annotations

import re

import pytest
from integration_harness import Harness
from review_support import PLATFORMS, SKUS, Shop, changes, log_of, preview, seeded

from feedsync.core import review
from feedsync.core.catalog_store import load_catalog
from feedsync.models import Run

WROTE = SKUS[:3]  # the profile's first file lists these (the store holds SKUS)
GONE = WROTE[2]
ROWS = {sku: f"{sku},12.0{i},1{i}\n" for i, sku in enumerate(WROTE)}
ALL = "SKU,Price,Qty\n" + "".join(ROWS.values())
LACKING = "SKU,Price,Qty\n" + "".join(ROWS[s] for s in WROTE if s != GONE)


def _visibility(h: Harness, request: pytest.FixtureRequest, shop: Shop) -> dict[str, bool]:
    """Each SKU's product shown (True) or hidden, as the platform's double holds it."""
    product_of = {v[2]: v[0] for v in load_catalog(h.deps, shop.store).variants}
    if shop.platform == "bigcommerce":
        found = re.search(r"/stores/([^/]+)/", shop.store.api_url)
        assert found is not None
        shown = {p["id"]: p["is_visible"] for p in h.sandbox.products(found.group(1))}
        return {sku: shown[pid] for sku, pid in product_of.items()}
    if shop.platform == "shopify":
        double = request.getfixturevalue("shopify")
        return {sku: double.product(pid)["status"] == "ACTIVE" for sku, pid in product_of.items()}
    woo = request.getfixturevalue("woo")
    return {sku: woo.item(pid)["status"] == "publish" for sku, pid in product_of.items()}


def _run(h: Harness, shop: Shop, profile_id: str, feed: str) -> Run:
    url = h.feed_url(feed)
    h.deps.repo.update_profile(shop.tenant, profile_id, source={"type": "url", "url": url})
    run = h.run_to_end(shop.tenant, profile_id)
    assert run.status == "succeeded", (run.status, run.error)
    return run


@pytest.mark.parametrize("platform", PLATFORMS)
def test_disable_hides_the_missing_product_and_shows_it_again(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a store of six products and a profile (missing: disable) that wrote three
    shop = seeded(h, request, platform)
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(ALL)}, missing="disable"
    )
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
    every = dict.fromkeys(SKUS, True)
    assert _visibility(h, request, shop) == every
    writes = len(shop.write_bodies())

    # When today's file lacks one of the three
    hid = _run(h, shop, profile.profile_id, LACKING)
    # Then that product alone is hidden, and the only write carried it
    assert _visibility(h, request, shop) == {**every, GONE: False}
    assert shop.carried(writes) == {GONE}
    assert hid.counts["missing"] == 1 and hid.counts["updated"] == 1
    line = log_of(h, hid)[GONE]
    assert (line["status"], line["changes"]) == ("missing", "visible: shown -> hidden")
    assert line["error"] == "not in today's file: disabled (hidden in the store)"

    # When the file lists it again, in a preview
    writes = len(shop.write_bodies())
    h.deps.repo.update_profile(
        shop.tenant, profile.profile_id, source={"type": "url", "url": h.feed_url(ALL)}
    )
    looked = preview(h, shop, profile)
    # Then nothing is sent; the preview shows the product going back on view
    assert len(shop.write_bodies()) == writes
    assert _visibility(h, request, shop)[GONE] is False
    planned = [(c.key, c.field, c.store_value, c.new_value) for c in changes(h, looked)]
    assert planned == [(GONE, "visible", False, True)]

    # When the run that hid it is reverted
    started = review.revert_run(h.deps, shop.tenant, hid.run_id)
    reverted = h.wait_run(shop.tenant, started.run_id)
    # Then the product is shown again
    assert reverted.status == "succeeded", (reverted.status, reverted.error)
    assert _visibility(h, request, shop) == every

    # When a later file lacks it again, then lists it again
    _run(h, shop, profile.profile_id, LACKING)
    assert _visibility(h, request, shop)[GONE] is False
    back = _run(h, shop, profile.profile_id, ALL)
    # Then it is shown again, counted as changed and logged as updated
    assert _visibility(h, request, shop) == every
    assert back.counts["changed"] == 1 and back.counts["updated"] == 1
    line = log_of(h, back)[GONE]
    assert (line["status"], line["changes"]) == ("updated", "visible: hidden -> shown")
