"""BigCommerceConnector against a real SandboxStore on loopback (no mocks of HTTP)."""

from __future__ import annotations

import math
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from fake_sleep import FakeSleep

from feedsync.adapters.rate_budget import LocalRateBudget
from feedsync.domain.content import description_digest, index_value
from feedsync.domain.fields import (
    CONTENT_FIELDS,
    MODIFIED,
    REF,
    VARIANT_ID,
    VARIANT_POS,
    VISIBLE_AT,
)
from feedsync.domain.writes import PlanItem
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector, from_cents, to_cents
from feedsync_local.bigcommerce_double import SandboxStore


def _connector(
    sandbox: SandboxStore, store: tuple[str, str], sleep: FakeSleep, **kw: Any
) -> BigCommerceConnector:
    return BigCommerceConnector(
        sandbox.api_url(store[0]), store[1], sleep=sleep, **kw, allow_private=True
    )


def _simple(n: int, prefix: str = "S", price: float = 10.0) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}{i}",
            "type": "physical",
            "weight": 1,
            "price": price,
            "sku": f"{prefix}-{i}",
            "inventory_level": 1,
        }
        for i in range(n)
    ]


def _plan(variants: list[dict[str, Any]], **changes: list[int | str | None]) -> list[PlanItem]:
    """One plan item per variant (a double's variant), each with ``changes``."""
    return [
        PlanItem(
            row=i + 1,
            key=v["sku"],
            product_id=v["product_id"],
            variant_id=v["id"],
            changes=dict(changes),
        )
        for i, v in enumerate(variants)
    ]


def _first_variant_id(product: dict[str, Any]) -> int:
    """A product's first variant (a product listed without its variants: the base one)."""
    variants = product.get("variants")
    return int(variants[0]["id"] if variants else product["base_variant_id"])


def _product_item(row: int, product: dict[str, Any], **changes: list[Any]) -> PlanItem:
    """A products item for ``product`` (a double's product): it stands for the product."""
    return PlanItem(
        row=row,
        key=product.get("sku") or "",
        product_id=product["id"],
        variant_id=_first_variant_id(product),
        changes=dict(changes),
        product_level=True,
    )


def _statuses(sandbox: SandboxStore, method: str | None = None) -> list[int]:
    return [s for m, _, s in sandbox.requests_log if method is None or m == method]


# -- money ------------------------------------------------------------------------------------
def test_money_conversion_is_exact_and_half_even() -> None:
    # Given JSON numbers that drift as binary floats, and half-cent ties
    # When they are converted to cents and back
    # Then the cents are exact, ties go to the even cent, and the way back is 2 decimals
    assert to_cents(0.29) == 29  # 0.29 * 100 == 28.999999999999996 as floats
    assert to_cents(19.99) == 1999
    assert to_cents(1234567.89) == 123456789
    assert to_cents(12) == 1200
    assert (to_cents(1.005), to_cents(1.015), to_cents(0.125)) == (100, 102, 12)
    assert to_cents(None) is None
    assert from_cents(1349) == 13.49 and repr(from_cents(1349)) == "13.49"
    assert from_cents(7) == 0.07 and from_cents(None) is None
    with pytest.raises(ValueError):
        to_cents(True)


# -- reading ------------------------------------------------------------------------------------
def test_iter_variants_pages_over_more_than_250(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 300 products: 200 simple ones and 100 with 3 variants (500 variants)
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(200))
    sandbox.seed(
        store_hash,
        [
            {
                "name": f"M{i}",
                "type": "physical",
                "weight": 1,
                "price": 20,
                "variants": [
                    {
                        "sku": f"M-{i}-{k}",
                        "upc": f"99{i:04d}{k}",
                        "price": 21.5,
                        "inventory_level": k,
                    }
                    for k in range(3)
                ],
            }
            for i in range(100)
        ],
    )
    connector = _connector(sandbox, store, FakeSleep())
    # When every variant is read
    got = list(connector.iter_variants())
    # Then all 500 come back once each, over exactly two 250-product pages
    expected = {v["id"] for v in sandbox.variants(store_hash)}
    assert len(got) == 500 and {v[VARIANT_ID] for v in got} == expected
    gets = [p for m, p, _ in sandbox.requests_log if m == "GET"]
    assert len(gets) == 2 and gets[1].endswith("page=2")
    # And the tuples follow fields.Variant: ids, sku, barcode, cents, stock, product name
    last = got[-1]
    assert last[VARIANT_POS["sku"]] == "M-99-2"
    assert last[VARIANT_POS["barcode"]] == "9900992"
    assert last[VARIANT_POS["price"]] == 2150
    assert last[VARIANT_POS["stock"]] == 2
    assert last[VARIANT_POS["name"]] == "M99"
    # And the 17-field tuple carries the product's date_modified, no platform ref and the
    # product's visibility
    assert len(last) == 17 and last[REF] is None and last[VISIBLE_AT] is True
    assert last[MODIFIED] == sandbox.products(store_hash)[-1]["date_modified"]


def test_iter_variants_reads_exact_cents_and_barcode_fallback(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a product with drift-prone prices, and one with a gtin but no upc
    store_hash, _ = store
    sandbox.seed(
        store_hash,
        [
            {
                "name": "Drift",
                "type": "physical",
                "weight": 1,
                "price": 0.29,
                "sale_price": 0.07,
                "retail_price": 19.99,
                "cost_price": 0.1,
                "sku": "D1",
                "upc": "123456789012",
            },
            {"name": "G", "type": "physical", "weight": 1, "price": 1, "gtin": "4006381333931"},
        ],
    )
    connector = _connector(sandbox, store, FakeSleep())
    # When the variants are read
    first, second = list(connector.iter_variants())
    # Then money is exact cents (inherited product values where the variant has none)
    assert first[4:8] == (29, 7, 1999, 10)
    assert first[3] == "123456789012"
    # And the gtin stands in for a missing upc; an empty sku reads as None
    assert second[3] == "4006381333931"
    assert second[2] is None


# -- writing ------------------------------------------------------------------------------------
def test_update_applies_exact_values(sandbox: SandboxStore, store: tuple[str, str]) -> None:
    # Given 3 variants
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(3))
    connector = _connector(sandbox, store, FakeSleep())
    plan = _plan(
        sandbox.variants(store_hash),
        price=[1000, 1349],
        sale_price=[None, 29],
        retail_price=[None, 123456789],
        cost_price=[None, 7],
        stock=[1, 40],
    )
    # When the batch is applied
    results = connector.apply("variants", plan, batch_key="b1")
    # Then every item is ok and the store holds exactly those values
    assert results == [(True, "")] * 3
    for v in sandbox.variants(store_hash):
        assert (v["price"], v["sale_price"], v["retail_price"], v["cost_price"]) == (
            13.49,
            0.29,
            1234567.89,
            0.07,
        )
        assert v["inventory_level"] == 40
    # And reading back gives the same cents
    assert {v[4:9] for v in connector.iter_variants()} == {(1349, 29, 123456789, 7, 40)}
    assert _statuses(sandbox, "PUT") == [200]


def test_422_bisection_isolates_one_bad_item_among_50(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 50 variants and a plan where item 37 has a negative price
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(50))
    connector = _connector(sandbox, store, FakeSleep())
    plan = _plan(sandbox.variants(store_hash), price=[1000, 1111])
    plan[37].changes = {"price": [1000, -5]}
    # When it is applied
    results = connector.apply("variants", plan, batch_key="b1")
    # Then only item 37 failed, with the platform's explanation
    assert [ok for ok, _ in results] == [i != 37 for i in range(50)]
    _, message = results[37]
    assert "price" in message and "greater than or equal to 0" in message
    # And the other 49 were applied, item 37 unchanged
    prices = [v["price"] for v in sandbox.variants(store_hash)]
    assert prices == [11.11] * 37 + [10.0] + [11.11] * 12
    # And it took at most 2*ceil(log2(50)) + 1 = 13 requests
    puts = _statuses(sandbox, "PUT")
    assert len(puts) <= 2 * math.ceil(math.log2(50)) + 1
    assert puts.count(200) >= 1 and puts[0] == 422


def test_422_bisection_reports_each_of_two_bad_items(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 10 variants, one deleted (unknown id) and one with a negative stock
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(10))
    connector = _connector(sandbox, store, FakeSleep())
    plan = _plan(sandbox.variants(store_hash), stock=[1, 5])
    plan[2].variant_id = 987654
    plan[8].changes = {"stock": [1, -1]}
    # When applied
    results = connector.apply("variants", plan, batch_key="b1")
    # Then exactly those two fail with their own reasons, the rest are ok
    assert [i for i, (ok, _) in enumerate(results) if not ok] == [2, 8]
    assert "987654" in results[2][1] and "inventory_level" in results[8][1]
    # And the store holds the new stock everywhere except the two (item 2 hit no variant)
    levels = [v["inventory_level"] for v in sandbox.variants(store_hash)]
    assert levels == [5, 5, 1, 5, 5, 5, 5, 5, 1, 5]


def test_more_than_50_items_is_a_caller_bug(sandbox: SandboxStore, store: tuple[str, str]) -> None:
    # Given a plan of 51 items
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(51))
    connector = _connector(sandbox, store, FakeSleep())
    plan = _plan(sandbox.variants(store_hash), price=[1000, 1100])
    # When it is passed in one call / Then ValueError, and nothing was sent
    with pytest.raises(ValueError, match="at most 50"):
        connector.apply("variants", plan, batch_key="b1")
    assert sandbox.requests_log == []


def test_unknown_writable_field_is_a_caller_bug(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a plan item changing a field BigCommerce variants cannot take
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(1))
    plan = _plan(sandbox.variants(store_hash), name=[None, 1])
    # When applied / Then ValueError before any request
    with pytest.raises(ValueError, match="name"):
        _connector(sandbox, store, FakeSleep()).apply("variants", plan, batch_key="b1")
    assert sandbox.requests_log == []


# -- rate limiting ------------------------------------------------------------------------------
def test_429_with_reset_header_waits_the_reset_time(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store whose next answer is a 429 asking to wait 1.5 s
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    sandbox.fail_next(
        429, headers={"X-Rate-Limit-Time-Reset-Ms": "1500", "X-Rate-Limit-Requests-Left": "0"}
    )
    sleep = FakeSleep()
    # When the catalog is read
    got = list(_connector(sandbox, store, sleep).iter_variants())
    # Then the connector waited exactly the reset time once, retried, and read everything
    assert sleep.calls == [1.5]
    assert len(got) == 2
    assert _statuses(sandbox) == [429, 200]


def test_429_without_headers_backs_off_exponentially(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store under platform load: two 429s without any rate-limit header
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    sandbox.fail_next(429, count=2)
    sleep = FakeSleep()
    # When the catalog is read
    got = list(_connector(sandbox, store, sleep).iter_variants())
    # Then it backed off twice with jittered, growing waits, then succeeded
    assert len(got) == 2
    assert len(sleep.calls) == 2
    assert 0.25 <= sleep.calls[0] <= 0.5 and 0.5 <= sleep.calls[1] <= 1.0
    assert _statuses(sandbox) == [429, 429, 200]


def test_persistent_429_without_headers_gives_up_as_store_unavailable(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store that keeps answering 429 without headers
    sandbox.fail_next(429, count=10)
    connector = _connector(sandbox, store, FakeSleep(), max_retries=3)
    # When the catalog is read / Then StoreUnavailable after 1 + 3 attempts
    with pytest.raises(StoreUnavailable, match="429"):
        list(connector.iter_variants())
    assert _statuses(sandbox) == [429] * 4


def test_exhausted_quota_waits_for_the_window_instead_of_failing() -> None:
    # Given a store allowing 3 requests per 1 s window, and 7 single-item writes to do
    with SandboxStore(quota_requests=3, quota_window_s=1.0) as sandbox:
        store = sandbox.create_store()
        sandbox.seed(store[0], _simple(7))
        sleep = FakeSleep(real=True)
        connector = _connector(sandbox, store, sleep)
        plan = _plan(sandbox.variants(store[0]), stock=[1, 9])
        # When they are sent one request each
        results = [connector.apply("variants", [item], batch_key="b")[0] for item in plan]
        # Then all succeeded, the connector waited for the window to reset (no 429 seen)
        assert all(ok for ok, _ in results)
        assert _statuses(sandbox) == [200] * 7
        assert len(sleep.calls) == 2
        assert all(0 < s <= 1.0 for s in sleep.calls)


def test_quota_used_by_another_app_429_then_waits_and_succeeds() -> None:
    # Given a 2-request window already used up by another app on the same store
    with SandboxStore(quota_requests=2, quota_window_s=1.0) as sandbox:
        store = sandbox.create_store()
        sandbox.seed(store[0], _simple(1))
        other = BigCommerceConnector(
            sandbox.api_url(store[0]), store[1], sleep=FakeSleep(), allow_private=True
        )
        list(other.iter_variants())
        list(other.iter_variants())
        sleep = FakeSleep(real=True)
        # When our connector reads the catalog
        got = list(_connector(sandbox, store, sleep).iter_variants())
        # Then it got a 429, waited the advertised reset, and then read the catalog
        assert len(got) == 1
        assert _statuses(sandbox) == [200, 200, 429, 200]
        assert len(sleep.calls) == 1 and 0 < sleep.calls[0] <= 1.0


# -- failures -----------------------------------------------------------------------------------
def test_500_is_retried_then_succeeds(sandbox: SandboxStore, store: tuple[str, str]) -> None:
    # Given a store that answers 500 twice, then works
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    sandbox.fail_next(500, count=2)
    sleep = FakeSleep()
    plan = _plan(sandbox.variants(store_hash), price=[1000, 1200])
    # When a batch is written
    results = _connector(sandbox, store, sleep).apply("variants", plan, batch_key="b1")
    # Then it was retried with backoff and applied once
    assert all(ok for ok, _ in results)
    assert _statuses(sandbox, "PUT") == [500, 500, 200]
    assert len(sleep.calls) == 2
    assert [v["price"] for v in sandbox.variants(store_hash)] == [12.0, 12.0]


def test_persistent_500_raises_store_unavailable_naming_the_store(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store that keeps answering 503
    sandbox.fail_next(503, count=20)
    connector = _connector(sandbox, store, FakeSleep(), max_retries=2)
    # When the catalog is read / Then StoreUnavailable names the store URL and the status
    with pytest.raises(StoreUnavailable) as err:
        list(connector.iter_variants())
    assert sandbox.api_url(store[0]) in err.value.message
    assert "HTTP 503" in err.value.message and "3 attempt" in err.value.message


def test_connection_refused_is_retried_then_store_unavailable() -> None:
    # Given a loopback port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/stores/abc/v3"
    sleep = FakeSleep()
    connector = BigCommerceConnector(
        url, "t", sleep=sleep, max_retries=2, timeout=2, allow_private=True
    )
    # When the catalog is read / Then two backoffs, then StoreUnavailable naming the URL
    with pytest.raises(StoreUnavailable, match="ConnectionError") as err:
        list(connector.iter_variants())
    assert url in err.value.message
    assert len(sleep.calls) == 2


def test_401_raises_store_auth_error_without_leaking_the_token(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a connector holding a wrong token
    connector = BigCommerceConnector(
        sandbox.api_url(store[0]), "wrong-secret-token", sleep=FakeSleep(), allow_private=True
    )
    # When it reads / Then StoreAuthError at once (no retry), token not in the message
    with pytest.raises(StoreAuthError) as err:
        list(connector.iter_variants())
    assert "401" in err.value.message and "wrong-secret-token" not in err.value.message
    assert _statuses(sandbox) == [401]


def test_403_raises_store_auth_error(sandbox: SandboxStore, store: tuple[str, str]) -> None:
    # Given a store answering 403 (token lacks the scope)
    sandbox.fail_next(403)
    # When the connector reads / Then StoreAuthError
    with pytest.raises(StoreAuthError, match="403"):
        list(_connector(sandbox, store, FakeSleep()).iter_variants())


def test_other_4xx_raises_store_request_error_with_status_and_title(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store answering 404 to the next request
    sandbox.fail_next(404)
    # When the connector reads / Then StoreRequestError with the status and platform title
    with pytest.raises(StoreRequestError, match="HTTP 404: Injected fault"):
        list(_connector(sandbox, store, FakeSleep()).iter_variants())
    assert _statuses(sandbox) == [404]


# -- product batches ----------------------------------------------------------------------------
def _product_plan(products: list[dict[str, Any]], names: list[str]) -> list[PlanItem]:
    return [
        _product_item(i + 1, p, name=[p["name"], name])
        for i, (p, name) in enumerate(zip(products, names, strict=True))
    ]


def test_product_batch_renames_ten_products_in_one_request(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 10 products
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(10))
    products = sandbox.products(store_hash)
    plan = _product_plan(products, [f"Renamed {i}" for i in range(10)])
    connector = _connector(sandbox, store, FakeSleep())
    # When the names are written as one products batch
    results = connector.apply("products", plan, batch_key="p1")
    # Then one PUT /catalog/products did it, and every product has its new name
    assert results == [(True, "")] * 10
    assert sandbox.request_counts == {("PUT", "/catalog/products"): 1}
    assert [p["name"] for p in sandbox.products(store_hash)] == [f"Renamed {i}" for i in range(10)]
    # And 11 items is a caller bug (the platform's limit is 10)
    with pytest.raises(ValueError, match="at most 10"):
        connector.apply("products", plan + plan[:1], batch_key="p2")


def test_product_batch_reports_duplicate_and_unknown_products_per_item(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 7 products; the plan renames the first 6: #1 to #6's name (#6 keeps it),
    # and #3 is a deleted product
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(7))
    products = sandbox.products(store_hash)[:6]
    plan = _product_plan(products, [f"New {i}" for i in range(6)])
    plan[1].changes = {"name": ["S1", "S6"]}
    plan[3].product_id = 999_999
    # When the batch is applied
    results = _connector(sandbox, store, FakeSleep()).apply("products", plan, batch_key="p")
    # Then those two are reported with the platform's words, the rest are renamed
    assert [ok for ok, _ in results] == [True, False, True, False, True, True]
    assert "duplicate" in results[1][1].lower() and "999999" in results[3][1]
    names = [p["name"] for p in sandbox.products(store_hash)]
    assert names == ["New 0", "S1", "New 2", "S3", "New 4", "New 5", "S6"]


def test_product_batch_with_an_empty_name_is_reported_without_sending_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a plan where one product's new name is empty
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    plan = _product_plan(sandbox.products(store_hash), ["Fine", ""])
    # When applied / Then that item is reported, the other written in one request
    results = _connector(sandbox, store, FakeSleep()).apply("products", plan, batch_key="p")
    assert results[0] == (True, "") and not results[1][0] and "name" in results[1][1]
    assert _statuses(sandbox) == [200]


# -- inventory adjustments ---------------------------------------------------------------------
def _inventory_connector(
    sandbox: SandboxStore, store: tuple[str, str], sleep: FakeSleep, **kw: Any
) -> BigCommerceConnector:
    return _connector(sandbox, store, sleep, inventory="adjustments", **kw)


def test_inventory_adjustments_set_absolute_stock_at_a_location(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 2,000 variants and a second location 7
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2000))
    sandbox.add_location(store_hash, 7)
    variants = sandbox.variants(store_hash)
    plan = _plan(variants, stock=[1, 0])
    for i, item in enumerate(plan):
        item.changes = {"stock": [1, i % 50]}
    connector = _inventory_connector(sandbox, store, FakeSleep())
    # When all of them are adjusted at location 7
    results = connector.apply("inventory", plan, batch_key="inv-1", location="7")
    # Then one request did it, and location 7 holds exactly those quantities
    assert results == [(True, "")] * 2000
    assert sandbox.request_counts == {("PUT", "/inventory/adjustments/absolute"): 1}
    assert sandbox.stock_at(store_hash, variants[51]["id"]) == {1: 1, 7: 1}
    # And sending it again (a retry) changes nothing: the values are absolute
    assert connector.apply("inventory", plan[:3], batch_key="inv-1", location="7")[0][0]
    assert sandbox.stock_at(store_hash, variants[2]["id"]) == {1: 1, 7: 2}
    # And without a location the default location 1 is adjusted
    connector.apply("inventory", plan[5:6], batch_key="inv-2")
    assert sandbox.stock_at(store_hash, variants[5]["id"]) == {1: 5, 7: 5}


def test_stock_tracked_by_product_is_adjusted_by_product_id(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 4 simple products, two of them tracking stock by product, read into the index
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(4))
    for p in sandbox.products(store_hash)[1:3]:
        sandbox.set_tracking(store_hash, p["id"], "product")
    connector = _inventory_connector(sandbox, store, FakeSleep())
    refs = {v[1]: v[11] for v in connector.iter_variants()}
    assert list(refs.values()) == [None, "product", "product", None]
    plan = [
        replace(item, ref=refs[item.variant_id])
        for item in _plan(sandbox.variants(store_hash), stock=[1, 9])
    ]
    sandbox.reset_log()
    # When their stock is adjusted
    results = connector.apply("inventory", plan, batch_key="inv")
    # Then one request carried all four, two of them by product id
    assert results == [(True, "")] * 4
    assert _statuses(sandbox) == [200]
    assert [v["inventory_level"] for v in sandbox.variants(store_hash)] == [9] * 4


def test_a_stale_index_item_tracked_by_product_is_reported_not_guessed(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a product whose tracking moved to the product after the index was read
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(3))
    sandbox.set_tracking(store_hash, sandbox.products(store_hash)[1]["id"], "product")
    plan = _plan(sandbox.variants(store_hash), stock=[1, 9])  # no "product" ref
    # When adjusted by variant id
    results = _inventory_connector(sandbox, store, FakeSleep()).apply(
        "inventory", plan, batch_key="inv"
    )
    # Then the others are written and that one fails with the platform's own words
    # (the next run's catalog refresh reads the new tracking)
    assert [ok for ok, _ in results] == [True, False, True]
    assert "tracked by product" in results[1][1]


def test_stock_goes_through_inventory_when_adjustments_are_chosen(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a connector writing inventory through adjustments
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(1))
    connector = _inventory_connector(sandbox, store, FakeSleep())
    plan = _plan(sandbox.variants(store_hash), stock=[1, 2])
    # When stock is sent on the variants operation / Then ValueError, nothing sent
    assert "stock" not in connector.capabilities.op("variants").fields
    with pytest.raises(ValueError, match="stock"):
        connector.apply("variants", plan, batch_key="b")
    # And a variants-mode connector has no inventory operation at all
    with pytest.raises(ValueError, match="inventory"):
        _connector(sandbox, store, FakeSleep()).apply("inventory", plan, batch_key="b")
    assert sandbox.requests_log == []


def test_inventory_adjustment_waits_while_another_is_processed(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given an adjustment of the store being processed (another client, 0.4 s long)
    store_hash, token = store
    sandbox.seed(store_hash, _simple(2))
    variants = sandbox.variants(store_hash)
    sandbox.inventory_processing_s = 0.4
    url = f"{sandbox.api_url(store_hash)}/inventory/adjustments/absolute"
    body = {"items": [{"location_id": 1, "variant_id": variants[0]["id"], "quantity": 3}]}
    other = threading.Thread(
        target=requests.put, args=(url,), kwargs={"json": body, "headers": {"X-Auth-Token": token}}
    )
    other.start()
    while not sandbox.adjustment_in_progress(store_hash):
        time.sleep(0.005)
    connector = _inventory_connector(sandbox, store, FakeSleep(real=True))
    connector.backoff_base_s = 0.1
    # When our connector sends its own adjustment meanwhile
    results = connector.apply("inventory", _plan(variants[1:], stock=[1, 8]), batch_key="i")
    other.join()
    # Then it was told 409 (one at a time), backed off, and then applied
    assert results == [(True, "")]
    puts = _statuses(sandbox, "PUT")
    assert puts[0] == 409 and puts[-1] == 200 and puts.count(200) == 2
    assert [v["inventory_level"] for v in sandbox.variants(store_hash)] == [3, 8]


# -- modified-range import -----------------------------------------------------------------------
def test_iter_variants_reads_only_products_modified_in_the_range(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 5 products last modified on 1, 2, 3, 4 and 5 March
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(5))
    products = sandbox.products(store_hash)
    for day, p in enumerate(products, start=1):
        sandbox.set_modified(store_hash, p["id"], datetime(2025, 3, day, 12, 0, tzinfo=UTC))
    connector = _connector(sandbox, store, FakeSleep())
    # When the range 2 March 12:00 .. 4 March 12:00 (inclusive) is read
    got = list(
        connector.iter_variants(
            datetime(2025, 3, 2, 12, 0, tzinfo=UTC), datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
        )
    )
    # Then exactly the products of 2, 3 and 4 March come back, with their date_modified
    assert [v[0] for v in got] == [p["id"] for p in products[1:4]]
    assert got[0][MODIFIED] == "2025-03-02T12:00:00+00:00"
    target = sandbox.requests_log[-1][1]
    assert "date_modified%3Amin=2025-03-02T12%3A00%3A00Z" in target
    assert "date_modified%3Amax=2025-03-04T12%3A00%3A00Z" in target


def test_every_kind_of_write_moves_date_modified(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 3 products all last modified in 2020
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(3))
    products = sandbox.products(store_hash)
    for p in products:
        sandbox.set_modified(store_hash, p["id"], datetime(2020, 1, 1, tzinfo=UTC))
    variants = sandbox.variants(store_hash)
    connector = _inventory_connector(sandbox, store, FakeSleep())
    started = datetime.now(UTC) - timedelta(seconds=1)
    # When product 0's price, product 1's name and product 2's stock are written
    connector.apply("variants", _plan(variants[:1], price=[1000, 900]), batch_key="a")
    connector.apply("products", _product_plan(products[1:2], ["Other"]), batch_key="b")
    connector.apply("inventory", _plan(variants[2:], stock=[1, 4]), batch_key="c")
    # Then all three show up as modified since the writes began
    assert {v[0] for v in connector.iter_variants(started)} == {p["id"] for p in products}
    assert list(connector.iter_variants(None, datetime(2021, 1, 1, tzinfo=UTC))) == []


# -- bisection cost ------------------------------------------------------------------------------
@pytest.mark.parametrize(("op", "n"), [("variants", 50), ("products", 10), ("inventory", 64)])
def test_one_refused_item_costs_o_log_n_extra_requests(
    sandbox: SandboxStore, store: tuple[str, str], op: str, n: int
) -> None:
    # Given n items of which the platform refuses exactly one (a 422 for the whole batch)
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(n))
    bad = n * 2 // 3
    connector = _inventory_connector(sandbox, store, FakeSleep())
    if op == "products":
        products = sandbox.products(store_hash)
        plan = _product_plan(products, [f"N{i}" for i in range(n)])
        sandbox.reject_product(store_hash, products[bad]["id"], "Product is locked by PIM")
    else:
        variants = sandbox.variants(store_hash)
        field = "stock" if op == "inventory" else "price"
        plan = _plan(variants, **{field: [1, 7]})
        sandbox.reject_variant(store_hash, variants[bad]["id"], "Variant is locked by PIM")
    # When the batch is applied
    results = connector.apply(op, plan, batch_key="k")
    # Then only that item failed, with the platform's message
    assert [ok for ok, _ in results] == [i != bad for i in range(n)]
    assert "locked by PIM" in results[bad][1]
    # And it took at most 1 + 2 * ceil(log2 n) requests
    assert len(sandbox.requests_log) <= 1 + 2 * math.ceil(math.log2(n))


def test_a_half_that_goes_through_convicts_the_other_half_without_resending_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 50 variants and, in turn, each one of them refused by the platform
    # (a quota large enough that only the requests are counted)
    store_hash, _ = store
    sandbox.set_quota(1_000_000, 30.0)
    sandbox.seed(store_hash, _simple(50))
    variants = sandbox.variants(store_hash)
    connector = _connector(sandbox, store, FakeSleep())
    sent: list[int] = []
    for bad in range(50):
        sandbox.clear_rejections(store_hash)
        sandbox.reject_variant(store_hash, variants[bad]["id"], "Variant is locked by PIM")
        sandbox.reset_log()
        # When the batch is applied
        results = connector.apply("variants", _plan(variants, price=[1, 100 + bad]), batch_key="k")
        # Then exactly that item failed, with the platform's words (it still exists)
        assert [ok for ok, _ in results] == [i != bad for i in range(50)]
        assert "locked by PIM" in results[bad][1] and results[bad].gone is None
        methods = [m for m, _, _ in sandbox.requests_log]
        assert methods.count("GET") == 1  # the one look-up of the refused item
        sent.append(methods.count("PUT"))
    # And on average it cost about 1.5 log2(50) extra writes, not 2 log2(50)
    assert sum(sent) / len(sent) <= 1 + 1.5 * math.ceil(math.log2(50))


# -- faults --------------------------------------------------------------------------------------
def test_slow_answer_times_out_and_the_retry_is_harmless(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store whose next answer comes late (after the connector's timeout)
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    sandbox.delay_next(1.0, route="/catalog/variants")
    sleep = FakeSleep()
    connector = _connector(sandbox, store, sleep, timeout=0.2)
    # When a batch is written
    results = connector.apply(
        "variants", _plan(sandbox.variants(store_hash), price=[1000, 1234]), batch_key="s"
    )
    # Then the timeout was retried with backoff and the values are right (absolute writes)
    assert results == [(True, "")] * 2 and len(sleep.calls) == 1
    assert [v["price"] for v in sandbox.variants(store_hash)] == [12.34, 12.34]


def test_connection_reset_is_retried_then_succeeds(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store that drops the next two connections without answering
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(2))
    sandbox.reset_next(2)
    sleep = FakeSleep()
    # When the catalog is read
    got = list(_connector(sandbox, store, sleep).iter_variants())
    # Then both resets were retried with backoff and the catalog was read
    assert len(got) == 2 and len(sleep.calls) == 2
    assert _statuses(sandbox) == [0, 0, 200]


def test_persistent_connection_reset_is_store_unavailable(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store that keeps dropping connections
    sandbox.reset_next(10)
    connector = _connector(sandbox, store, FakeSleep(), max_retries=2)
    # When a write is attempted / Then StoreUnavailable after 3 attempts
    with pytest.raises(StoreUnavailable, match="ConnectionError"):
        connector.apply(
            "variants", [_plan([{"sku": "x", "product_id": 1, "id": 2}])[0]], batch_key="r"
        )
    assert _statuses(sandbox) == [0, 0, 0]


def test_429_with_headers_waits_the_reset_once(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store throttling the next write with a 700 ms reset
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(1))
    sandbox.throttle_next(reset_ms=700, route="/catalog/variants")
    sleep = FakeSleep()
    # When a batch is written
    results = _connector(sandbox, store, sleep).apply(
        "variants", _plan(sandbox.variants(store_hash), stock=[1, 3]), batch_key="t"
    )
    # Then it waited exactly the reset, then wrote; the injected 429 used no quota
    assert results == [(True, "")] and sleep.calls == [0.7]
    assert _statuses(sandbox) == [429, 200] and sandbox.rate_limited == 0


# -- shared rate budget --------------------------------------------------------------------------
def test_four_threads_sharing_a_budget_never_get_a_429() -> None:
    # Given a store allowing 20 requests per 1 s window, and 4 workers sharing one budget
    with SandboxStore(quota_requests=20, quota_window_s=1.0) as sandbox:
        store = sandbox.create_store()
        sandbox.seed(store[0], _simple(60))
        variants = sandbox.variants(store[0])
        budget = LocalRateBudget()
        results: list[list[tuple[bool, str]]] = [[] for _ in range(4)]

        def worker(n: int) -> None:
            connector = _connector(sandbox, store, FakeSleep(real=True), budget=budget)
            for item in _plan(variants[n::4], stock=[1, 5]):
                results[n] += connector.apply("variants", [item], batch_key=f"w{n}")

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        # When they write 60 single-item batches at once (3 windows' worth)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then every write succeeded and the store never answered 429
        assert sum(len(r) for r in results) == 60 and all(ok for r in results for ok, _ in r)
        assert sandbox.rate_limited == 0 and 429 not in sandbox.status_counts
        assert sandbox.request_counts == {("PUT", "/catalog/variants"): 60}


# -- content fields (description, brand, weight, image) ---------------------------------------
def _content_store(sandbox: SandboxStore, store_hash: str) -> list[dict[str, Any]]:
    """A product with a brand, a description and an image; one with options; a bare one."""
    return sandbox.seed(
        store_hash,
        [
            {
                "name": "Tee",
                "type": "physical",
                "weight": 0.5,
                "price": 10,
                "sku": "TEE",
                "description": "<p>Soft\n   cotton</p>",
                "brand_name": "Acme",
                "images": [{"image_url": "https://supplier.example/img/tee.jpg"}],
            },
            {
                "name": "Hoodie",
                "type": "physical",
                "weight": 2,
                "price": 30,
                "variants": [
                    {
                        "sku": "HD-S",
                        "weight": 0.25,
                        "image_url": "https://supplier.example/img/hd-s.jpg",
                        "option_values": [{"option_display_name": "Size", "label": "S"}],
                    },
                    {
                        "sku": "HD-M",
                        "option_values": [{"option_display_name": "Size", "label": "M"}],
                    },
                ],
            },
            {"name": "Cap", "type": "physical", "weight": 0, "price": 5, "sku": "CAP"},
        ],
    )


def _content(variant: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(variant[VARIANT_POS[f]] for f in CONTENT_FIELDS)


def test_iter_variants_reads_content_as_the_index_keeps_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a branded product with a description and a product image, a product whose
    # variants carry their own weight/image (or inherit the weight), and a bare product
    store_hash, _ = store
    seeded = _content_store(sandbox, store_hash)
    connector = _connector(sandbox, store, FakeSleep())
    # When the catalog is read
    got = {v[VARIANT_POS["sku"]]: v for v in connector.iter_variants()}
    # Then the description is its digest, the brand its name, the weight canonical text
    tee_image = seeded[0]["images"][0]["url_standard"]
    assert _content(got["TEE"]) == (
        description_digest("<p>Soft cotton</p>"),
        "Acme",
        "0.5",
        tee_image,  # no options: the product's image is its base variant's
    )
    # And a variant's own weight and image win; a null weight inherits the product's
    hd_s_image = seeded[1]["variants"][0]["image_url"]
    assert hd_s_image.startswith("https://cdn11.bigcommerce.com/")  # the platform's copy
    assert _content(got["HD-S"]) == (None, None, "0.25", hd_s_image)
    assert _content(got["HD-M"]) == (None, None, "2", None)
    # And a product without description, brand or image reads as None, weight 0 as "0"
    assert _content(got["CAP"]) == (None, None, "0", None)
    # And the brands were read once for the whole import, with the product pages
    assert sandbox.request_counts == {
        ("GET", "/catalog/products"): 1,
        ("GET", "/catalog/brands"): 1,
    }
    assert "include=variants%2Cprimary_image" in sandbox.requests_log[0][1]


def test_a_store_without_brands_is_never_asked_for_them(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 3 products without a brand
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(3))
    # When the catalog is read, whole and by modified range
    connector = _connector(sandbox, store, FakeSleep())
    list(connector.iter_variants())
    list(connector.iter_variants(datetime(2020, 1, 1, tzinfo=UTC)))
    # Then only the product pages were read
    assert sandbox.request_counts == {("GET", "/catalog/products"): 2}


def test_brands_are_read_once_per_import_and_again_for_a_brand_made_meanwhile(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 3 products of brand "Acme", read one product per page
    store_hash, _ = store
    sandbox.seed(store_hash, [{**p, "brand_name": "Acme"} for p in _simple(3)])
    connector = _connector(sandbox, store, FakeSleep())
    connector.page_limit = 1
    # When a ranged import reads the first page, then the third product moves to a brand
    # created meanwhile (by another app), then the import reads on
    pages = connector.iter_variants(datetime(2020, 1, 1, tzinfo=UTC))
    first = next(pages)
    third = sandbox.products(store_hash)[2]
    writer = _connector(sandbox, store, FakeSleep())
    plan = [_product_item(1, third, brand=[None, "Northwind"])]
    assert writer.apply("products", plan, batch_key="b") == [(True, "")]
    rest = list(pages)
    # Then every product has its brand's name
    assert [v[VARIANT_POS["brand"]] for v in [first, *rest]] == ["Acme", "Acme", "Northwind"]
    # And the brands were read once, then once more for the unknown brand only
    assert sandbox.request_counts[("GET", "/catalog/brands")] == 2
    # And a second import reads them once again (never once per product)
    list(connector.iter_variants())
    assert sandbox.request_counts[("GET", "/catalog/brands")] == 3


def test_content_writes_read_back_as_the_index_patch_expects(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given the content store, and the brand "Northwind" already there
    store_hash, _ = store
    seeded = _content_store(sandbox, store_hash)
    sandbox.add_brand(store_hash, "Northwind")
    tee, hoodie, cap = seeded
    hd_s, hd_m = hoodie["variants"]
    connector = _connector(sandbox, store, FakeSleep())
    written = {
        "TEE": {"weight": "0.250", "image_url": "https://supplier.example/new/tee.png"},
        "HD-M": {"weight": "1.10", "image_url": "https://supplier.example/new/hd-m.png"},
        "CAP": {"weight": "3", "image_url": "https://supplier.example/new/cap.png"},
    }
    variant_plan = [
        PlanItem(
            row=i + 1,
            key=v["sku"],
            product_id=v["product_id"],
            variant_id=v["id"],
            changes={f: [None, value] for f, value in written[v["sku"]].items()},
        )
        for i, v in enumerate([tee["variants"][0], hd_m, cap["variants"][0]])
    ]
    description = "<p>Brushed fleece,\n  warm.</p>"
    product_plan = [
        _product_item(1, tee, description=[None, description], brand=[None, "Globex"]),
        _product_item(2, hoodie, brand=[None, "Northwind"]),
        _product_item(3, cap, description=[None, "Plain cap"]),
    ]
    # When the variants batch and the products batch are written
    assert connector.apply("variants", variant_plan, batch_key="v") == [(True, "")] * 3
    assert connector.apply("products", product_plan, batch_key="p") == [(True, "")] * 3
    # Then one request each did it, and the store shows the values
    assert sandbox.request_counts == {
        ("PUT", "/catalog/variants"): 1,
        ("PUT", "/catalog/products"): 1,
    }
    variants = {v["sku"]: v for v in sandbox.variants(store_hash)}
    assert (variants["TEE"]["weight"], variants["HD-M"]["weight"]) == (0.25, 1.1)
    assert variants["HD-S"]["weight"] == 0.25 and variants["HD-S"]["image_url"] == hd_s["image_url"]
    # (the platform keeps its own copy of each image: its URL is not the one sent)
    assert variants["CAP"]["image_url"].endswith("/cap.png")
    assert variants["CAP"]["image_url"] != written["CAP"]["image_url"]
    products = {p["name"]: p for p in sandbox.products(store_hash)}
    brands = sandbox.brands(store_hash)
    assert products["Tee"]["description"] == description
    assert products["Cap"]["description"] == "Plain cap"
    assert brands[products["Tee"]["brand_id"]] == "Globex"  # created by brand_name
    assert brands[products["Hoodie"]["brand_id"]] == "Northwind"  # the existing one
    assert sorted(brands.values()) == ["Acme", "Globex", "Northwind"]
    # And reading back gives exactly what the index is patched with (no rewrite loop)
    got = {v[VARIANT_POS["sku"]]: v for v in connector.iter_variants()}
    for sku, values in written.items():
        assert got[sku][VARIANT_POS["weight"]] == index_value("weight", values["weight"])
        assert got[sku][VARIANT_POS["image_url"]] is not None  # has an image: kept
    assert got["TEE"][VARIANT_POS["description"]] == index_value("description", description)
    assert got["TEE"][VARIANT_POS["brand"]] == index_value("brand", "Globex")
    assert got["HD-S"][VARIANT_POS["brand"]] == got["HD-M"][VARIANT_POS["brand"]] == "Northwind"
    assert got["CAP"][VARIANT_POS["description"]] == index_value("description", "Plain cap")


def test_a_description_alone_is_written_without_touching_the_name(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a product, and a products item that changes its description only
    store_hash, _ = store
    [product] = sandbox.seed(store_hash, _simple(1))
    plan = [_product_item(1, product, description=[None, "New"])]
    sandbox.reset_log()
    # When it is applied
    results = _connector(sandbox, store, FakeSleep()).apply("products", plan, batch_key="p")
    # Then it is written, and the name is what it was
    assert results == [(True, "")]
    [after] = sandbox.products(store_hash)
    assert (after["name"], after["description"]) == ("S0", "New")


def test_unwritable_content_is_reported_without_sending_it(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given plans with an empty brand, a weight that is no number and an empty image URL
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(4))
    products = sandbox.products(store_hash)
    variants = sandbox.variants(store_hash)
    product_plan = [
        _product_item(1, products[0], brand=[None, "  "]),
        _product_item(2, products[1], brand=[None, "B" * 256]),
        _product_item(3, products[2], brand=[None, "Acme"]),
    ]
    variant_plan = _plan(variants[:3], weight=[None, "1.5"])
    variant_plan[0].changes = {"weight": [None, "heavy"]}
    variant_plan[1].changes = {"image_url": [None, ""]}
    connector = _connector(sandbox, store, FakeSleep())
    # When they are applied
    product_results = connector.apply("products", product_plan, batch_key="p")
    variant_results = connector.apply("variants", variant_plan, batch_key="v")
    # Then the unwritable items are reported and only the good ones were sent, once each
    assert [ok for ok, _ in product_results] == [False, False, True]
    assert "empty brand" in product_results[0][1] and "255" in product_results[1][1]
    assert [ok for ok, _ in variant_results] == [False, False, True]
    assert "weight" in variant_results[0][1] and "image URL" in variant_results[1][1]
    assert _statuses(sandbox, "PUT") == [200, 200]
    assert [v["weight"] for v in sandbox.variants(store_hash)] == [None, None, 1.5, None]


UNREACHABLE_IMAGE = "https://img.supplier.invalid/x.jpg"  # the sandbox cannot download it


def test_an_image_the_platform_cannot_download_is_isolated_by_bisection(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 8 variants and a plan where one image (the item's only change) is on a host
    # the platform cannot download from
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(8))
    plan = _plan(sandbox.variants(store_hash), image_url=[None, "https://supplier.example/x.jpg"])
    plan[5].changes = {"image_url": [None, UNREACHABLE_IMAGE]}
    # When it is applied
    results = _connector(sandbox, store, FakeSleep()).apply("variants", plan, batch_key="i")
    # Then that item fails with the platform's words and the others got their image
    assert [ok for ok, _ in results] == [i != 5 for i in range(8)]
    assert "image_url" in results[5][1] and "could not be downloaded" in results[5][1]
    images = [v["image_url"] for v in sandbox.variants(store_hash)]
    assert [bool(url) for url in images] == [i != 5 for i in range(8)]
    # And with nothing else to write, the item is not sent again without its image:
    # 0-7 refused (1 bad), 0-2 ok, 3-4 ok, 5-6 refused, 5 with 7 refused (5 convicted),
    # 7 and 6 ok
    assert _statuses(sandbox, "PUT") == [422, 200, 200, 422, 422, 200]


def test_a_refused_image_does_not_keep_the_price_and_stock_of_its_item_from_being_written(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 50 variants with new prices and stock, where item 37 also sets an
    # image the platform cannot download (so it refuses the whole item, and the batch)
    store_hash, _ = store
    sandbox.set_quota(1_000_000, 30.0)
    sandbox.seed(store_hash, _simple(50))
    variants = sandbox.variants(store_hash)
    plan = _plan(variants, price=[1000, 1111], stock=[1, 5])
    plan[37].changes = {**plan[37].changes, "image_url": [None, UNREACHABLE_IMAGE]}
    connector = _connector(sandbox, store, FakeSleep())
    started = datetime.now(UTC) - timedelta(seconds=1)
    # When it is applied
    results = connector.apply("variants", plan, batch_key="b")
    # Then the other 49 are written, and so are item 37's price and stock, not its image
    assert [v["price"] for v in sandbox.variants(store_hash)] == [11.11] * 50
    assert [v["inventory_level"] for v in sandbox.variants(store_hash)] == [5] * 50
    assert sandbox.variants(store_hash)[37]["image_url"] == ""
    # And item 37 is reported failed (its image is not there, so nothing of it is
    # patched into the index) with the platform's words and what was written instead
    assert [ok for ok, _ in results] == [i != 37 for i in range(50)]
    message = results[37][1]
    assert message.startswith("the image could not be set: ")
    assert "image_url" in message and "could not be downloaded" in message
    assert message.endswith("other changes (price, stock) were written without it")
    # And it cost the isolation that convicts item 37 (1 + 6 requests) and one request
    # more: item 37 again, without its image
    # (0-49 refused (1 bad), 0-23 ok, 24-35 ok, 36-41 refused, 36-38 with 39-41 refused,
    # 36-37 with 38-41 refused, 36 with 38-41 ok (37 convicted), 37 without its image ok)
    assert _statuses(sandbox, "PUT") == [422, 200, 200, 422, 422, 422, 200, 200]
    # And the next run's refresh reads what was written (the write moved the product's
    # date_modified): the index then has the price and stock, and lacks the image
    [reread] = [v for v in connector.iter_variants(started) if v[VARIANT_ID] == variants[37]["id"]]
    assert (reread[VARIANT_POS["price"]], reread[VARIANT_POS["stock"]]) == (1111, 5)
    assert reread[VARIANT_POS["image_url"]] is None


def test_an_item_refused_for_more_than_its_image_is_sent_without_it_once_and_fails(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 4 variants with new prices, where the platform refuses item 2 whatever it
    # holds, and item 2 also sets an image
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(4))
    variants = sandbox.variants(store_hash)
    sandbox.reject_variant(store_hash, variants[2]["id"], "Variant is locked by PIM")
    plan = _plan(variants, price=[1000, 1111])
    plan[2].changes = {**plan[2].changes, "image_url": [None, "https://s.example/a.jpg"]}
    # When it is applied
    results = _connector(sandbox, store, FakeSleep()).apply("variants", plan, batch_key="b")
    # Then item 2 fails with the platform's words from both attempts, and nothing of it
    # is written; the others are
    assert [ok for ok, _ in results] == [True, True, False, True]
    assert "locked by PIM" in results[2][1] and "refused too" in results[2][1]
    assert [v["price"] for v in sandbox.variants(store_hash)] == [11.11, 11.11, 10.0, 11.11]
    # And the refusal was not read to decide: the item was sent once more without its
    # image (0-3 refused, 0-1 ok, 2 refused, 2 without its image refused, 3 ok)
    assert _statuses(sandbox, "PUT") == [422, 200, 422, 422, 200]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://supplier.example/a.jpg",
        "/img/a.jpg",
        "supplier.example/a.jpg",
        "https:///a.jpg",
        "http://[::1/a.jpg",
        "javascript:alert(1)",
    ],
)
def test_an_image_url_that_is_not_absolute_http_is_refused_unsent(
    sandbox: SandboxStore, store: tuple[str, str], url: str
) -> None:
    # Given 3 variants with new prices and images, item 1's image URL not an absolute
    # http(s) URL (one the platform could never download)
    store_hash, _ = store
    sandbox.seed(store_hash, _simple(3))
    good = "HTTPS://s.example/a.jpg"
    plan = _plan(sandbox.variants(store_hash), price=[1000, 1111], image_url=[None, good])
    plan[1].changes = {**plan[1].changes, "image_url": [None, url]}
    # When it is applied
    results = _connector(sandbox, store, FakeSleep()).apply("variants", plan, batch_key="b")
    # Then item 1 is reported with a clear reason and not sent at all (its price neither,
    # as for any other unwritable value); the others go in one request
    assert [ok for ok, _ in results] == [True, False, True]
    assert "absolute http or https URL" in results[1][1] and repr(url) in results[1][1]
    assert _statuses(sandbox, "PUT") == [200]
    after = sandbox.variants(store_hash)
    assert [v["price"] for v in after] == [11.11, 10.0, 11.11]
    assert [bool(v["image_url"]) for v in after] == [True, False, True]


def test_brands_over_several_pages_are_all_read(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 5 products of 5 brands, and brands read 2 per page
    store_hash, _ = store
    sandbox.seed(store_hash, [{**p, "brand_name": f"Brand {i}"} for i, p in enumerate(_simple(5))])
    connector = _connector(sandbox, store, FakeSleep())
    connector.brands_page_limit = 2
    # When the catalog is read
    got = [v[VARIANT_POS["brand"]] for v in connector.iter_variants()]
    # Then every product has its brand's name, from 3 pages of brands
    assert got == [f"Brand {i}" for i in range(5)]
    assert sandbox.request_counts[("GET", "/catalog/brands")] == 3


def test_a_brand_name_in_other_letter_case_joins_the_existing_brand(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a store with the brand "Acme", and a product without a brand
    store_hash, _ = store
    [product] = sandbox.seed(store_hash, _simple(1))
    sandbox.add_brand(store_hash, "Acme")
    connector = _connector(sandbox, store, FakeSleep())
    plan = [_product_item(1, product, brand=[None, "ACME"])]
    # When the brand "ACME" is written
    assert connector.apply("products", plan, batch_key="b") == [(True, "")]
    # Then the platform attached the product to "Acme" (names ignore case) and made no
    # new brand, so the store reads back "Acme", not the "ACME" that was sent
    assert sandbox.brands(store_hash) == {sandbox.products(store_hash)[0]["brand_id"]: "Acme"}
    assert [v[VARIANT_POS["brand"]] for v in connector.iter_variants()] == ["Acme"]
