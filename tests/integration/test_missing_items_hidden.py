"""missing: disable through the state machine on each platform's double (issue 13): a
product this profile wrote that today's file lacks is hidden in the store and nothing else
is written; a preview of the file that lists it again sends nothing; a revert shows it again;
a file that lists it again shows it. A product with a size still listed, or a size another
profile writes, is not hidden: its missing size goes to stock 0. A product the merchant
holds back (hidden, a draft, archived) is never hidden nor published by feedsync."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from integration_harness import Harness
from review_support import (
    PLATFORMS,
    SHOPIFY_VERSION,
    SKUS,
    Shop,
    changes,
    log_of,
    preview,
    seeded,
)

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


def _run_on(h: Harness, shop: Any, profile_id: str, feed: str) -> Run:
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
    hid = _run_on(h, shop, profile.profile_id, LACKING)
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
    _run_on(h, shop, profile.profile_id, LACKING)
    assert _visibility(h, request, shop)[GONE] is False
    back = _run_on(h, shop, profile.profile_id, ALL)
    # Then it is shown again, counted as changed and logged as updated
    assert _visibility(h, request, shop) == every
    assert back.counts["changed"] == 1 and back.counts["updated"] == 1
    line = log_of(h, back)[GONE]
    assert (line["status"], line["changes"]) == ("updated", "visible: hidden -> shown")


def _product(name: str, skus: list[str]) -> dict[str, Any]:
    variants = [{"sku": s, "price": 10.0, "inventory_level": 5} for s in skus]
    return {"name": name, "type": "physical", "weight": 1, "price": 10.0, "sku": "",
            "variants": variants}  # fmt: skip


def test_a_product_is_hidden_only_when_none_of_its_variants_is_listed(h: Harness) -> None:
    # Given a store with a tee in two sizes and a mug, and a profile that wrote all three
    shop = h.shop([_product("Tee", ["TEE-S", "TEE-M"]), _product("Mug", ["MUG"])])
    first = "SKU,Price,Qty\nTEE-S,10.00,7\nTEE-M,10.00,7\nMUG,10.00,7\n"
    profile = h.url_profile(shop, first, missing="disable")
    assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
    # When today's file lists the small tee only
    run = _run_on(h, shop, profile.profile_id, "SKU,Price,Qty\nTEE-S,10.00,7\n")
    # Then the mug is hidden; the tee stays on view, its missing size at stock 0
    shown = {p["name"]: p["is_visible"] for p in h.sandbox.products(shop.store_hash)}
    assert shown == {"Tee": True, "Mug": False}
    stock = {sku: value[1] for sku, value in h.store_values(shop).items()}
    assert stock == {"TEE-S": 7, "TEE-M": 0, "MUG": 7}
    assert run.counts["missing"] == 2
    log = log_of(h, run)
    assert log["TEE-M"]["error"] == "not in today's file: stock set to 0 (was 7)"
    assert log["MUG"]["error"] == "not in today's file: disabled (hidden in the store)"


# How each merchant holds a product back by hand: BigCommerce hides it (as feedsync would),
# Shopify archives it or leaves it a draft, WooCommerce leaves it a draft.
HELD_BACK = [("bigcommerce", False), ("shopify", "ARCHIVED"), ("shopify", "DRAFT"),
             ("woocommerce", "draft")]  # fmt: skip


def _merchant_sets(
    h: Harness, request: pytest.FixtureRequest, shop: Shop, sku: str, state: Any
) -> None:
    """The merchant changes the product's state in the store, through the platform's API."""
    pid = next(v[0] for v in load_catalog(h.deps, shop.store).variants if v[2] == sku)
    if shop.platform == "bigcommerce":
        answer = requests.put(
            f"{shop.store.api_url}/catalog/products",
            json=[{"id": pid, "is_visible": state}],
            headers={"X-Auth-Token": h.deps.secrets.get(shop.store.secret_ref)["access_token"]},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    elif shop.platform == "shopify":
        double = request.getfixturevalue("shopify")
        answer = requests.post(
            f"{double.shop_url}/admin/api/{SHOPIFY_VERSION}/graphql.json",
            json={
                "query": "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) "
                "{ userErrors { message } } }",
                "variables": {"p": {"id": f"gid://shopify/Product/{pid}", "status": state}},
            },
            headers={"X-Shopify-Access-Token": double.access_token},
            timeout=10,
        )
        assert not answer.json().get("errors"), answer.json()
        assert not answer.json()["data"]["productUpdate"]["userErrors"], answer.json()
    else:
        woo = request.getfixturevalue("woo")
        answer = requests.post(
            f"{woo.api_url}/products/batch",
            json={"update": [{"id": pid, "status": state}]},
            auth=woo.credentials,
            timeout=10,
        )
        assert "error" not in answer.json()["update"][0], answer.json()


def _state(h: Harness, request: pytest.FixtureRequest, shop: Shop, sku: str) -> Any:
    """The product's state as the double holds it (is_visible, or status)."""
    pid = next(v[0] for v in load_catalog(h.deps, shop.store).variants if v[2] == sku)
    if shop.platform == "bigcommerce":
        found = re.search(r"/stores/([^/]+)/", shop.store.api_url)
        assert found is not None
        return next(p["is_visible"] for p in h.sandbox.products(found.group(1)) if p["id"] == pid)
    if shop.platform == "shopify":
        return request.getfixturevalue("shopify").product(pid)["status"]
    return request.getfixturevalue("woo").item(pid)["status"]


@pytest.mark.parametrize(("platform", "held"), HELD_BACK)
def test_a_product_the_merchant_holds_back_is_left_alone_and_never_published(
    h: Harness, request: pytest.FixtureRequest, platform: str, held: Any
) -> None:
    # Given a product the merchant holds back (hidden, a draft, archived), to which a
    # profile (missing: disable) writes price and stock with two others
    shop = seeded(h, request, platform)
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(ALL)}, missing="disable"
    )
    _merchant_sets(h, request, shop, GONE, held)
    _run_on(h, shop, profile.profile_id, ALL)
    assert _state(h, request, shop, GONE) == held
    writes = len(shop.write_bodies())
    # When the supplier drops it for a day
    dropped = _run_on(h, shop, profile.profile_id, LACKING)
    # Then nothing is written to it: it stays as the merchant left it, nothing is missing
    assert shop.carried(writes) == set() and dropped.counts["missing"] == 0
    assert _state(h, request, shop, GONE) == held
    # When it comes back
    writes = len(shop.write_bodies())
    _run_on(h, shop, profile.profile_id, ALL)
    # Then it is still held back: feedsync never published it
    assert _state(h, request, shop, GONE) == held
    assert shop.carried(writes) == set()


@pytest.mark.parametrize(("platform", "held"), [("shopify", "ARCHIVED"), ("woocommerce", "draft")])
def test_a_product_feedsync_hid_that_the_merchant_then_held_back_is_not_published(
    h: Harness, request: pytest.FixtureRequest, platform: str, held: Any
) -> None:
    # Given a product feedsync hid (the file dropped it: Shopify DRAFT, WooCommerce
    # private), which the merchant then archived, or made a draft
    shop = seeded(h, request, platform)
    profile = h.profile_for(
        shop.tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(ALL)}, missing="disable"
    )
    _run_on(h, shop, profile.profile_id, ALL)
    _run_on(h, shop, profile.profile_id, LACKING)
    assert _visibility(h, request, shop)[GONE] is False
    _merchant_sets(h, request, shop, GONE, held)
    # When the file lists it again
    writes = len(shop.write_bodies())
    back = _run_on(h, shop, profile.profile_id, ALL)
    # Then the merchant's state stands
    assert _state(h, request, shop, GONE) == held
    assert GONE not in shop.carried(writes) and back.counts["changed"] == 0


def test_a_product_with_a_variant_another_profile_writes_is_not_hidden(h: Harness) -> None:
    # Given a tee in two sizes: one profile (missing: disable) writes the small, another
    # profile writes the medium
    shop = h.shop([_product("Tee", ["TEE-S", "TEE-M"]), _product("Mug", ["MUG"])])
    small = h.url_profile(shop, "SKU,Price,Qty\nTEE-S,10.00,7\nMUG,10.00,7\n", missing="disable")
    medium = h.url_profile(shop, "SKU,Price,Qty\nTEE-M,10.00,8\n")
    for profile in (small, medium):
        assert h.run_to_end(shop.tenant, profile.profile_id).status == "succeeded"
    # When the first profile's file drops the small tee (and lists nothing else of it)
    run = _run_on(h, shop, small.profile_id, "SKU,Price,Qty\nMUG,10.00,7\n")
    # Then the tee stays on view (the other profile still sells its medium size); the small
    # size goes to stock 0 and the medium is untouched
    shown = {p["name"]: p["is_visible"] for p in h.sandbox.products(shop.store_hash)}
    assert shown == {"Tee": True, "Mug": True}
    stock = {sku: value[1] for sku, value in h.store_values(shop).items()}
    assert stock == {"TEE-S": 0, "TEE-M": 8, "MUG": 7}
    assert run.counts["missing"] == 1
    assert log_of(h, run)["TEE-S"]["error"] == "not in today's file: stock set to 0 (was 7)"
