"""Kill the update step part-way, or cancel the run, on each platform's double: log = store.

Through the real state machine on moto: the update step dies after k batches, (a) before
the store gets batch k+1 and (b) right after the store accepted batch k+1 but before the
step records its answers; or the run is cancelled while it updates. Every planned item's
log line must say what the double holds (``updated``: the new price, ``not_applied``: the
old one), the reason must be the injected error, and the lock must be free.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.core.steps import match as match_step
from feedsync.domain.runlog import CANCELLED_MESSAGE
from feedsync.models import Run, Store
from feedsync.platforms.registry import capabilities_for
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble

ITEMS = 6
SKUS = [f"KILL-{i}" for i in range(ITEMS)]
FEED = "SKU,Price,Qty\n" + "".join(f"{sku},12.00,1\n" for sku in SKUS)
OLD, NEW = 1000, 1200
YESTERDAY = datetime.now(UTC) - timedelta(days=1)  # when the seeded products last changed
BATCH = 2  # items a batch in these tests (Shopify's variant writes are one product each)


def cents(text: Any) -> int:
    return int(Decimal(str(text)) * 100)


class Crash(Exception):
    """The injected error (no named feedsync error: an unexpected crash)."""


@dataclasses.dataclass
class Seeded:
    """One platform's double with the six products at 10.00, and the store reading it."""

    platform: str
    store: Store
    price: Callable[[str], int]  # what the double holds for a SKU, in cents
    per_batch: int  # items a write batch carries on this platform (in these tests)


def seeded(h: Harness, tenant: str, request: pytest.FixtureRequest, platform: str) -> Seeded:
    if platform == "bigcommerce":
        store_hash, token = h.sandbox.create_store()
        made = h.sandbox.seed(store_hash, [simple_product(s, s, "10.00", 1) for s in SKUS])
        for product in made:  # a modified-since read lists only what the run changes
            h.sandbox.set_modified(store_hash, product["id"], YESTERDAY)
        store = h.platform_store(
            tenant, "bigcommerce", h.sandbox.api_url(store_hash), {"access_token": token}
        )

        def bc_price(sku: str) -> int:
            [v] = [v for v in h.sandbox.variants(store_hash) if v["sku"] == sku]
            return cents(v["price"])

        return Seeded(platform, store, bc_price, BATCH)
    if platform == "shopify":
        shopify: ShopifyDouble = request.getfixturevalue("shopify")
        made = shopify.seed(
            [{"title": s, "variants": [{"sku": s, "price": "10.00", "available": 1}]} for s in SKUS]
        )
        ids = {p["variants"][0]["sku"]: p["variants"][0]["id"] for p in made}
        backdate_shopify(shopify, made)
        store = h.platform_store(
            tenant, "shopify", shopify.shop_url, {"access_token": shopify.access_token}
        )
        return Seeded(platform, store, lambda sku: cents(shopify.variant(ids[sku])["price"]), 1)
    woo: WooCommerceDouble = request.getfixturevalue("woo")
    made = woo.seed(
        [
            {"name": s, "sku": s, "regular_price": "10.00", "manage_stock": True,
             "stock_quantity": 1}
            for s in SKUS
        ]
    )  # fmt: skip
    ids = {p["sku"]: p["id"] for p in made}
    for product in made:
        woo.set_modified(product["id"], YESTERDAY)
    key, secret = woo.credentials
    store = h.platform_store(
        tenant, "woocommerce", woo.site_url, {"consumer_key": key, "consumer_secret": secret}
    )
    return Seeded(platform, store, lambda sku: cents(woo.item(ids[sku])["regular_price"]), BATCH)


def backdate_shopify(shopify: ShopifyDouble, made: list[Any]) -> None:
    stamp = YESTERDAY.strftime("%Y-%m-%dT%H:%M:%SZ")
    for product in made:
        shopify.set_updated_at(product["id"], stamp)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two items a batch (the platforms' own limits are 50-250): six items, several batches."""

    def capabilities(name: str, options: Any = None) -> Any:
        caps = capabilities_for(name, options)
        ops = tuple(dataclasses.replace(op, max_batch=min(op.max_batch, BATCH)) for op in caps.ops)
        return dataclasses.replace(caps, ops=ops)

    monkeypatch.setattr(match_step, "capabilities_for", capabilities)


@contextmanager
def writes_hooked(h: Harness, hook: Callable[[int, Callable[[], Any]], Any]) -> Iterator[None]:
    """Every connector the run builds hands its n-th write (from 1) to ``hook(n, send)``,
    where ``send()`` sends it to the double; reads go straight through."""
    real = h.deps.connectors

    class Hooked:
        def __init__(self, inner: Any) -> None:
            self.inner, self.capabilities, self.writes = inner, inner.capabilities, 0

        @property
        def default_location(self) -> Any:
            return self.inner.default_location

        def iter_variants(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.iter_variants(*args, **kwargs)

        def apply(self, op: str, items: list[Any], **kw: Any) -> Any:
            self.writes += 1
            return hook(self.writes, lambda: self.inner.apply(op, items, **kw))

    h.deps.connectors = lambda store, creds: Hooked(real(store, creds))  # type: ignore[assignment,return-value]
    try:
        yield
    finally:
        h.deps.connectors = real


def log_equals_store(h: Harness, shop: Seeded, run: Run) -> dict[str, dict[str, str]]:
    """Every planned item's log line says what the double holds; the log by SKU."""
    assert run.log_key is not None, run
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    log = {rec["key"]: rec for rec in csv.DictReader(io.StringIO(text))}
    assert set(log) == set(SKUS)
    for sku in SKUS:
        status, held = log[sku]["status"], shop.price(sku)
        assert status in ("updated", "not_applied"), (sku, log[sku])
        assert held == (NEW if status == "updated" else OLD), (sku, status, held)
    assert run.counts["updated"] == sum(r["status"] == "updated" for r in log.values())
    return log


def lock_released(h: Harness, tenant: str, profile_id: str, run: Run) -> None:
    profile = h.deps.repo.get_profile(tenant, profile_id)
    assert profile is not None and profile.current_run_id is None
    assert profile.last_run is not None and profile.last_run.run_id == run.run_id


PLATFORMS = ["bigcommerce", "shopify", "woocommerce"]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("accepted", [False, True], ids=["before-store", "after-store"])
def test_a_killed_update_step_logs_what_the_store_holds(
    h: Harness, request: pytest.FixtureRequest, platform: str, accepted: bool
) -> None:
    # Given six price changes in batches, and an update step that dies in batch k+1 = 2:
    # before the store gets it, or right after the store accepted it
    tenant = h.tenant()
    shop = seeded(h, tenant, request, platform)
    profile = h.profile_for(tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(FEED)})
    k = 1

    def kill(n: int, send: Callable[[], Any]) -> Any:
        if n <= k:
            return send()
        if accepted:
            send()
        raise Crash(f"injected crash in batch {n}")

    # When the run goes through the state machine
    with writes_hooked(h, kill):
        run = h.run_to_end(tenant, profile.profile_id)
    # Then it failed with the injected error as its reason, and the lock is free
    assert run.status == "failed" and "injected crash in batch 2" in (run.error or ""), run.error
    lock_released(h, tenant, profile.profile_id, run)
    # and the log is the store: batch 2 updated exactly when the store accepted it
    log = log_equals_store(h, shop, run)
    reached = (k + accepted) * shop.per_batch
    assert run.counts["updated"] == reached, log


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_run_cancelled_while_updating_stops_and_logs_what_reached_the_store(
    h: Harness, request: pytest.FixtureRequest, platform: str
) -> None:
    # Given a run whose client cancels it while the first batch is being written
    tenant = h.tenant()
    shop = seeded(h, tenant, request, platform)
    profile = h.profile_for(tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(FEED)})
    runs: list[Run] = []

    def cancel_during_first(n: int, send: Callable[[], Any]) -> Any:
        answers = send()
        if n == 1:
            api.cancel_run(h.deps, tenant, runs[0].run_id)
        return answers

    # When it runs
    with writes_hooked(h, cancel_during_first):
        runs.append(h.start(tenant, profile.profile_id))
        run = h.wait_run(tenant, runs[0].run_id)
    # Then the run is cancelled (its execution ends normally), the lock is free
    assert run.status == "cancelled", (run.status, run.error, run.reason)
    assert h.execution(run.run_id)["status"] == "SUCCEEDED"
    lock_released(h, tenant, profile.profile_id, run)
    # and the first batch reached the store, nothing after it was sent: log = store
    log = log_equals_store(h, shop, run)
    assert run.counts["updated"] == shop.per_batch
    unsent = [r for r in log.values() if r["status"] == "not_applied"]
    assert len(unsent) == ITEMS - shop.per_batch
    assert all(r["error"] == CANCELLED_MESSAGE for r in unsent)
    # and a new run can start and sends only the rest
    again = h.run_to_end(tenant, profile.profile_id)
    assert again.status == "succeeded" and again.counts["updated"] == ITEMS - shop.per_batch


def test_a_run_cancelled_while_matching_ends_cancelled_writing_nothing(h: Harness) -> None:
    # Given a run whose client cancels it as the match step starts
    tenant = h.tenant()
    shop = seeded(h, tenant, None, "bigcommerce")  # type: ignore[arg-type]
    profile = h.profile_for(tenant, shop.store.store_id, {"type": "url", "url": h.feed_url(FEED)})

    def cancel(event: dict[str, Any]) -> None:
        api.cancel_run(h.deps, tenant, event["run"]["run_id"])

    h.stack.faults["MatchFunction"] = cancel
    # When it runs
    run = h.run_to_end(tenant, profile.profile_id)
    # Then it stopped at the match (MarkCancelled), wrote nothing and freed the lock
    assert run.status == "cancelled" and "before anything" in (run.reason or "")
    assert h.spy.of(run.run_id) == ["preparing", "cancelled"]
    assert h.execution(run.run_id)["status"] == "SUCCEEDED"
    assert all(shop.price(s) == OLD for s in SKUS)
    lock_released(h, tenant, profile.profile_id, run)
    # and a cancel now is refused: the run has ended
    with pytest.raises(Exception, match="already ended"):
        api.cancel_run(h.deps, tenant, run.run_id)


@pytest.mark.parametrize("accepted", [False, True], ids=["before-store", "after-store"])
def test_shopify_stock_written_before_a_crash_is_read_back_though_updated_at_stays(
    h: Harness, shopify: ShopifyDouble, accepted: bool
) -> None:
    # Given Shopify stock changes (a stock write does not move the product's updated_at,
    # so a modified-since read cannot see it) and a step that dies in batch 2
    made = shopify.seed(
        [{"title": s, "variants": [{"sku": s, "price": "10.00", "available": 1}]} for s in SKUS]
    )
    items = {p["variants"][0]["sku"]: p["variants"][0]["inventory_item_id"] for p in made}
    backdate_shopify(shopify, made)
    tenant = h.tenant()
    store = h.platform_store(
        tenant, "shopify", shopify.shop_url, {"access_token": shopify.access_token}
    )
    feed = "SKU,Price,Qty\n" + "".join(f"{sku},10.00,7\n" for sku in SKUS)
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": h.feed_url(feed)})

    def kill(n: int, send: Callable[[], Any]) -> Any:
        if n == 1 or accepted:
            answers = send()
            if n == 1:
                return answers
        raise Crash(f"injected crash in batch {n}")

    # When the run goes through the state machine
    with writes_hooked(h, kill):
        run = h.run_to_end(tenant, profile.profile_id)
    # Then the log says what Shopify holds for every item
    assert run.status == "failed" and "injected crash in batch 2" in (run.error or "")
    assert run.log_key is not None
    text = h.deps.blobs.get_bytes(run.log_key).decode()
    log = {rec["key"]: rec["status"] for rec in csv.DictReader(io.StringIO(text))}
    held = {sku: shopify.available(items[sku]) for sku in SKUS}
    assert {sku: 7 if log[sku] == "updated" else 1 for sku in SKUS} == held, log
    assert run.counts["updated"] == (1 + accepted) * BATCH
