"""Stale detection costs no read per item (issue 12): an apply learns which store values
moved on from the catalog refresh the run does anyway (one modified-since read), never
from a read of each item it is about to write.

A 200-change preview on the BigCommerce double, a few items edited by the merchant before
it is applied; every read the apply sent is counted at the double.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from integration_harness import Harness, simple_product
from review_support import statuses, wait_round

from feedsync.core import api, review
from feedsync.models import ApplyBody
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector

ITEMS = 200
SKUS = [f"SR-{i:03d}" for i in range(ITEMS)]
EDITED = SKUS[10:15]  # the merchant's own price edits between preview and apply
YESTERDAY = datetime.now(UTC) - timedelta(days=1)
FEED = "SKU,Price,Qty\n" + "".join(f"{sku},12.00,{10 + i}\n" for i, sku in enumerate(SKUS))


def test_an_apply_of_200_changes_reads_the_refresh_pages_not_each_item(h: Harness) -> None:
    # Given a BigCommerce store of 200 items at 10.00, untouched since yesterday, and a
    # previewed run that changes the price and stock of every one of them
    tenant = h.tenant()
    sandbox = h.sandbox
    store_hash, token = sandbox.create_store()
    made = sandbox.seed(store_hash, [simple_product(s, s, "10.00", 1) for s in SKUS])
    for product in made:
        sandbox.set_modified(store_hash, product["id"], YESTERDAY)
    variant_of = {p["variants"][0]["sku"]: p["variants"][0]["id"] for p in made}
    store = h.platform_store(
        tenant, "bigcommerce", sandbox.api_url(store_hash), {"access_token": token}
    )
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": h.feed_url(FEED)})
    started = api.start(h.deps, tenant, profile.profile_id, "manual", None, preview=True)
    run = h.wait_run(tenant, started.run_id)
    assert run.status == "previewed", (run.status, run.error)
    assert run.counts["pending"] == ITEMS
    # and the merchant then sets five prices to 11.11 in the store
    edited = requests.put(
        f"{sandbox.api_url(store_hash)}/catalog/variants",
        json=[{"id": variant_of[sku], "price": 11.11} for sku in EDITED],
        headers={"X-Auth-Token": token},
        timeout=10,
    )
    assert edited.status_code == 200, edited.text
    reads_before = len(_reads(h, store_hash))

    # When the whole preview is applied
    round_started = review.apply_run(h.deps, tenant, run.run_id, ApplyBody())
    applied = wait_round(h, tenant, round_started)

    # Then the five edited prices were found stale (kept), the rest written
    assert applied.status == "succeeded", (applied.status, applied.error)
    shown = statuses(h, applied)
    assert all(shown[sku] == {"stale", "updated"} for sku in EDITED), shown
    assert all(shown[sku] == {"updated"} for sku in SKUS if sku not in EDITED)
    # and every read the apply sent was a page of the modified-since refresh: as many pages
    # as the edited items fill (one), not a read per item (~200)
    reads = _reads(h, store_hash)[reads_before:]
    assert reads, "the apply must refresh the catalog before it selects"
    for target in reads:
        parts = urlsplit(target)
        assert parts.path.endswith("/v3/catalog/products"), target
        assert "date_modified:min" in parse_qs(parts.query), target
    assert len(reads) == math.ceil(len(EDITED) / BigCommerceConnector.page_limit) == 1, reads


def _reads(h: Harness, store_hash: str) -> list[str]:
    prefix = f"/stores/{store_hash}/"
    return [t for m, t, _ in h.sandbox.requests_log if m == "GET" and t.startswith(prefix)]
