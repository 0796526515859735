"""Issue 17, create mode on BigCommerce through the real state machine on the local stack:
a file of new single items and groups of variants creates exactly those, hidden, with
their options; a second identical run creates nothing and changes nothing; a preview
shows the creations and sends no write; a revert deletes exactly what was created; a crash
after the store accepted a create batch and before it was recorded creates no duplicate
when the run is retried."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from create_support import CREATE, MAPPING, new_items_file
from integration_harness import Harness, Shop, simple_product
from review_support import preview, wait_round

from feedsync.core import api
from feedsync.core.review import revert_run
from feedsync.errors import StoreUnavailable
from feedsync.models import ApplyBody, Run


def _shop(h: Harness) -> Shop:
    return h.shop([simple_product("Kept item", "KEEP-1", "9.00", 3)])


def _products(h: Harness, shop: Shop) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in h.sandbox.products(shop.store_hash)}


def _created_changes(h: Harness, shop: Shop, run: Run) -> list[dict[str, Any]]:
    changes, following = api.run_changes(
        h.deps, shop.tenant, run.run_id, field="create", limit=1000
    )
    assert following is None
    return changes


def _variants_by_product(h: Harness, shop: Shop) -> Counter[int]:
    return Counter(v["product_id"] for v in h.sandbox.variants(shop.store_hash))


def test_a_file_of_new_items_creates_exactly_those_hidden_and_a_second_run_nothing(
    h: Harness,
) -> None:
    # Given a store with one item and a file of 50 new single items and 20 new groups
    shop = _shop(h)
    feed, shape = new_items_file()
    profile = h.url_profile(shop, feed, mapping=MAPPING, create=CREATE)
    # When the profile runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then exactly those products were created, hidden, each with its variants and options
    assert run.status == "succeeded", run.error
    variants = sum(shape.values())
    assert run.counts["created"] == variants and run.counts["failed"] == 0, run.counts
    products = _products(h, shop)
    assert set(products) == {"KEEP-1", *shape}
    per_product = _variants_by_product(h, shop)
    for key, count in shape.items():
        product = products[key]
        assert product["is_visible"] is False, key
        assert per_product[product["id"]] == count, key
    tee = next(v for v in h.sandbox.variants(shop.store_hash) if v["sku"] == "TEE-03-M")
    assert [(o["option_display_name"], o["label"]) for o in tee["option_values"]] == [
        ("Size", "M"), ("Colour", "Red")]  # fmt: skip
    # and each created variant is an updated "create" change with its new ids
    created = _created_changes(h, shop, run)
    assert len(created) == variants
    assert {c["status"] for c in created} == {"updated"}
    assert all(c["variant_id"] and c["product_id"] for c in created)
    # When the same file runs again
    writes_before = len(h.puts_to(shop))
    again = h.run_to_end(shop.tenant, profile.profile_id)
    # Then it creates nothing and changes nothing
    assert again.status == "succeeded", again.error
    assert again.counts.get("created", 0) == 0, again.counts
    assert again.counts["not_found"] == 0 and again.counts["changed"] == 0, again.counts
    assert len(h.puts_to(shop)) == writes_before
    assert len(_products(h, shop)) == len(shape) + 1


def test_a_preview_shows_the_creations_and_sends_no_write_then_apply_and_revert(
    h: Harness,
) -> None:
    # Given a store and a file of 4 new single items and 2 groups
    shop = _shop(h)
    feed, shape = new_items_file(4, 2)
    profile = h.url_profile(shop, feed, mapping=MAPPING, create=CREATE)
    # When it is previewed
    run = preview(h, shop, profile)
    # Then the creations are pending changes and nothing was written
    assert run.status == "previewed", run.error
    created = _created_changes(h, shop, run)
    assert len(created) == sum(shape.values())
    assert {c["status"] for c in created} == {"pending"}
    assert h.puts_to(shop) == []
    # When the preview is applied
    applied = wait_round(h, shop.tenant, api_apply(h, shop, run))
    # Then the items are created
    assert applied.status == "succeeded", applied.error
    assert set(_products(h, shop)) == {"KEEP-1", *shape}
    # When the run is reverted
    reverted = revert_run(h.deps, shop.tenant, run.run_id)
    done = h.wait_run(shop.tenant, reverted.run_id)
    # Then exactly what it created is deleted, and the store's own item stays
    assert done.status == "succeeded", done.error
    assert set(_products(h, shop)) == {"KEEP-1"}


def api_apply(h: Harness, shop: Shop, run: Run) -> Run:
    from feedsync.core.review import apply_run

    return apply_run(h.deps, shop.tenant, run.run_id, ApplyBody())


class Crash(Exception):
    """An unexpected crash (no named feedsync error): the run fails, nothing retries it."""


@contextmanager
def creates_hooked(h: Harness, hook: Callable[[int, Callable[[], Any]], Any]) -> Iterator[None]:
    """Every create request of the run goes through ``hook(n, send)`` (n from 1, over all
    its connectors); everything else (reads, look-ups) goes straight through."""
    real = h.deps.connectors
    count = itertools.count(1)
    lock = threading.Lock()

    class Hooked:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def apply(self, op: str, items: list[Any], **kw: Any) -> Any:
            if op != "create":
                return self.inner.apply(op, items, **kw)
            with lock:
                n = next(count)
            return hook(n, lambda: self.inner.apply(op, items, **kw))

    h.deps.connectors = lambda store, creds: Hooked(real(store, creds))  # type: ignore[assignment,return-value]
    try:
        yield
    finally:
        h.deps.connectors = real


def _each_sku_once(h: Harness, shop: Shop) -> list[str]:
    skus = [v["sku"] for v in h.sandbox.variants(shop.store_hash)]
    assert len(skus) == len(set(skus)), Counter(skus).most_common(3)
    return skus


@pytest.mark.parametrize("retried_by", ["shard-retry", "next-run"])
def test_a_crash_after_the_store_accepted_a_create_batch_creates_no_duplicate(
    h: Harness, retried_by: str
) -> None:
    # Given a file of 6 new single items and 2 groups, and a connection that drops right
    # after the store accepted the third create request: a transient error the update
    # step's retry takes (shard-retry), or a crash that fails the run (next-run)
    shop = _shop(h)
    feed, shape = new_items_file(6, 2)
    profile = h.url_profile(shop, feed, mapping=MAPPING, create=CREATE)
    dropped = StoreUnavailable("the connection dropped") if retried_by == "shard-retry" else Crash()

    def drop_third(n: int, send: Callable[[], Any]) -> Any:
        answers = send()
        if n == 3:
            raise dropped
        return answers

    # When the run goes through the state machine (and, after a crash, the profile again)
    with creates_hooked(h, drop_third):
        run = h.run_to_end(shop.tenant, profile.profile_id)
    created = 0
    if retried_by == "next-run":
        assert run.status == "failed", run.error
        # the item the store accepted is logged created, read back from the store
        created = run.counts.get("created", 0)
        assert created >= 3, run.counts
        run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then every item was created once: nothing refused as a duplicate, nothing sent twice
    assert run.status == "succeeded", run.error
    assert run.counts.get("failed", 0) == 0, run.counts
    assert created + run.counts["created"] == sum(shape.values()), run.counts
    posts = [r for r in h.puts_to(shop) if r[0] == "POST"]
    assert len(posts) == len(shape), posts
    # and every item exists exactly once, each product with its variants
    skus = _each_sku_once(h, shop)
    assert len(skus) == sum(shape.values()) + 1
    assert set(_products(h, shop)) == {"KEEP-1", *shape}
