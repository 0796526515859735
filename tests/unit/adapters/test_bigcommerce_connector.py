"""BigCommerceConnector against a real SandboxStore on loopback (no mocks of HTTP)."""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from feedsync.adapters.bigcommerce import BigCommerceConnector, from_cents, to_cents
from feedsync.domain.fields import VARIANT_ID, VARIANT_POS
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.local.sandbox import SandboxStore


class FakeSleep:
    """Records requested waits; sleeps for real only when ``real`` (quota windows)."""

    def __init__(self, real: bool = False) -> None:
        self.calls: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    with SandboxStore() as store:
        yield store


@pytest.fixture
def store(sandbox: SandboxStore) -> tuple[str, str]:
    return sandbox.create_store()


def _connector(
    sandbox: SandboxStore, store: tuple[str, str], sleep: FakeSleep, **kw: Any
) -> BigCommerceConnector:
    return BigCommerceConnector(sandbox.api_url(store[0]), store[1], sleep=sleep, **kw)


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


def _plan(variants: list[dict[str, Any]], **changes: list[int | None]) -> list[dict[str, Any]]:
    return [
        {
            "row": i + 1,
            "key": v["sku"],
            "product_id": v["product_id"],
            "variant_id": v["id"],
            "changes": dict(changes),
        }
        for i, v in enumerate(variants)
    ]


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
    results = connector.update_variants(plan)
    # Then every item is ok and the store holds exactly those values
    assert results == [(item["variant_id"], True, "") for item in plan]
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
    plan[37]["changes"] = {"price": [1000, -5]}
    # When it is applied
    results = connector.update_variants(plan)
    # Then only item 37 failed, with the platform's explanation
    assert [ok for _, ok, _ in results] == [i != 37 for i in range(50)]
    vid, _, message = results[37]
    assert vid == plan[37]["variant_id"]
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
    plan[2]["variant_id"] = 987654
    plan[8]["changes"] = {"stock": [1, -1]}
    # When applied
    results = connector.update_variants(plan)
    # Then exactly those two fail with their own reasons, the rest are ok
    assert [i for i, (_, ok, _) in enumerate(results) if not ok] == [2, 8]
    assert "987654" in results[2][2] and "inventory_level" in results[8][2]
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
        connector.update_variants(plan)
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
        _connector(sandbox, store, FakeSleep()).update_variants(plan)
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
        results = [connector.update_variants([item])[0] for item in plan]
        # Then all succeeded, the connector waited for the window to reset (no 429 seen)
        assert all(ok for _, ok, _ in results)
        assert _statuses(sandbox) == [200] * 7
        assert len(sleep.calls) == 2
        assert all(0 < s <= 1.0 for s in sleep.calls)


def test_quota_used_by_another_app_429_then_waits_and_succeeds() -> None:
    # Given a 2-request window already used up by another app on the same store
    with SandboxStore(quota_requests=2, quota_window_s=1.0) as sandbox:
        store = sandbox.create_store()
        sandbox.seed(store[0], _simple(1))
        other = BigCommerceConnector(sandbox.api_url(store[0]), store[1], sleep=FakeSleep())
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
    results = _connector(sandbox, store, sleep).update_variants(plan)
    # Then it was retried with backoff and applied once
    assert all(ok for _, ok, _ in results)
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
    connector = BigCommerceConnector(url, "t", sleep=sleep, max_retries=2, timeout=2)
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
        sandbox.api_url(store[0]), "wrong-secret-token", sleep=FakeSleep()
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
