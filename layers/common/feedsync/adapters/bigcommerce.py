"""BigCommerce Catalog API v3 connector: read variants, write variant batches.

Reads ``GET /catalog/products?include=variants`` (250 per page) and writes
``PUT /catalog/variants`` (at most 50 per batch). The platform rejects a whole
variant batch with 422 when one item is invalid; the connector bisects such a
batch so the valid items are still applied and each bad item is reported with
the platform's own words, at O(log n) extra requests per bad item.

Rate limits: every response carries ``X-Rate-Limit-Requests-Left`` and
``X-Rate-Limit-Time-Reset-Ms``; when the window is used up the connector waits
for the reset before its next request. A 429 waits the advertised reset time, or
backs off exponentially (with jitter) when the 429 has no headers (platform load).
5xx answers, timeouts and connection errors are retried with backoff, then
raise ``StoreUnavailable``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import requests

from feedsync.domain.fields import Variant
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable

JSON = dict[str, Any]
PlanItem = dict[str, Any]
ItemResult = tuple[int, bool, str]

_MONEY_FIELDS = ("price", "sale_price", "retail_price", "cost_price")
_FIELD_TO_API = {
    "price": "price",
    "sale_price": "sale_price",
    "retail_price": "retail_price",
    "cost_price": "cost_price",
    "stock": "inventory_level",
}
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def to_cents(value: Any) -> int | None:
    """A BigCommerce money value (JSON number) -> integer cents, rounded half-even."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a money amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a money amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a money amount: {value!r}")
    return int(amount.scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_cents(cents: int | None) -> float | None:
    """Integer cents -> JSON number with (at most) 2 decimals, e.g. 1349 -> 13.49."""
    if cents is None:
        return None
    # int / int is correctly rounded, so repr() gives the shortest decimal: "13.49".
    return cents / 100


def _header_number(headers: Any, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


class BigCommerceConnector:
    """One store, addressed by its v3 API URL (``https://api.bigcommerce.com/stores/H/v3``)."""

    max_batch = 50
    page_limit = 250
    max_throttle_waits = 20  # consecutive 429s carrying a reset time before giving up
    backoff_base_s = 0.5
    backoff_cap_s = 30.0

    def __init__(
        self,
        api_url: str,
        access_token: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = access_token
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self.timeout = timeout
        self.max_retries = max_retries
        self._random = random.Random()
        self._wait_before_next_s = 0.0

    def __repr__(self) -> str:  # never shows the token
        return f"BigCommerceConnector({self.api_url!r})"

    # -- reading ----------------------------------------------------------------------------
    def iter_variants(self) -> Iterator[Variant]:
        """Every variant of the catalog, as ``fields.Variant`` tuples (money in cents)."""
        page = 1
        while True:
            body = self._get_json(
                "/catalog/products",
                {"include": "variants", "limit": self.page_limit, "page": page},
            )
            products = body.get("data") or []
            for product in products:
                yield from self._product_variants(product)
            pagination = (body.get("meta") or {}).get("pagination") or {}
            total_pages = pagination.get("total_pages")
            if not products:
                return
            if isinstance(total_pages, int):
                if page >= total_pages:
                    return
            elif len(products) < self.page_limit:
                return
            page += 1

    def _product_variants(self, product: JSON) -> Iterator[Variant]:
        pid = int(product["id"])
        name = product.get("name")
        # A variant money field that is null inherits the product's value; on the
        # product, 0 means "not set" for sale/retail/cost price.
        inherited: dict[str, int | None] = {}
        for key in _MONEY_FIELDS:
            value = self._money(product, key, pid)
            inherited[key] = value if key == "price" or value else None
        for variant in product.get("variants") or []:
            vid = int(variant["id"])
            money = []
            for key in _MONEY_FIELDS:
                value = self._money(variant, key, pid, vid)
                money.append(inherited[key] if value is None else value)
            stock = variant.get("inventory_level")
            yield (
                pid,
                vid,
                variant.get("sku") or None,
                variant.get("upc") or variant.get("gtin") or None,
                money[0],
                money[1],
                money[2],
                money[3],
                int(stock) if stock is not None else None,
                name,
            )

    def _money(self, obj: JSON, key: str, pid: int, vid: int | None = None) -> int | None:
        try:
            return to_cents(obj.get(key))
        except ValueError as exc:
            where = f"product {pid}" + (f" variant {vid}" if vid is not None else "")
            raise StoreRequestError(
                f"BigCommerce store {self.api_url}: {where} has an unreadable {key}: {exc}"
            ) from None

    # -- writing ----------------------------------------------------------------------------
    def update_variants(self, batch: list[PlanItem]) -> list[ItemResult]:
        """Apply plan items; one ``(variant_id, ok, error_message)`` per item, in order."""
        if len(batch) > self.max_batch:
            raise ValueError(
                f"update_variants takes at most {self.max_batch} items, got {len(batch)}"
            )
        payloads = [self._variant_payload(item) for item in batch]
        results: list[ItemResult | None] = [None] * len(batch)
        self._put_variants(list(range(len(batch))), payloads, results)
        return [r for r in results if r is not None]

    @staticmethod
    def _variant_payload(item: PlanItem) -> JSON:
        payload: JSON = {"id": int(item["variant_id"])}
        if item.get("product_id") is not None:
            payload["product_id"] = int(item["product_id"])
        for field_name, change in (item.get("changes") or {}).items():
            api_name = _FIELD_TO_API.get(field_name)
            if api_name is None:
                raise ValueError(f"variant field {field_name!r} is not writable on BigCommerce")
            new = change[1]
            if field_name == "stock":
                payload[api_name] = None if new is None else int(new)
            else:
                payload[api_name] = from_cents(None if new is None else int(new))
        return payload

    def _put_variants(
        self, indexes: list[int], payloads: list[JSON], results: list[ItemResult | None]
    ) -> None:
        if not indexes:
            return
        response = self._request(
            "PUT",
            "/catalog/variants",
            json_body=[payloads[i] for i in indexes],
            passthrough=(413, 422),
        )
        if response.status_code < 300:
            for i in indexes:
                results[i] = (payloads[i]["id"], True, "")
            return
        if len(indexes) == 1:
            if response.status_code == 413:
                raise self._request_error("PUT", "/catalog/variants", response)
            i = indexes[0]
            results[i] = (payloads[i]["id"], False, _error_text(response))
            return
        # 422: the whole batch was rejected (nothing applied); 413: the platform's
        # batch limit shrank. Either way, split in halves and retry each half.
        middle = len(indexes) // 2
        self._put_variants(indexes[:middle], payloads, results)
        self._put_variants(indexes[middle:], payloads, results)

    # -- transport --------------------------------------------------------------------------
    def _get_json(self, path: str, params: dict[str, Any]) -> JSON:
        response = self._request("GET", path, params=params)
        try:
            body = response.json()
        except ValueError:
            raise StoreUnavailable(
                f"BigCommerce store {self.api_url}: GET {path} answered HTTP "
                f"{response.status_code} with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise StoreUnavailable(
                f"BigCommerce store {self.api_url}: GET {path} answered an unexpected body"
            )
        return body

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        passthrough: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send one logical request: waits, retries and error mapping live here."""
        url = f"{self.api_url}{path}"
        headers = {"X-Auth-Token": self._token, "Accept": "application/json"}
        failures = 0  # 5xx, timeouts, connection errors, 429 without a reset time
        throttled = 0  # 429 with a reset time
        attempts = 0
        while True:
            attempts += 1
            if self._wait_before_next_s > 0:
                wait, self._wait_before_next_s = self._wait_before_next_s, 0.0
                self._sleep(wait)
            what: str
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                )
            except _TRANSIENT_EXCEPTIONS as exc:
                what = f"{type(exc).__name__} ({exc})"
            else:
                status = response.status_code
                left = _header_number(response.headers, "X-Rate-Limit-Requests-Left")
                reset_ms = _header_number(response.headers, "X-Rate-Limit-Time-Reset-Ms")
                if status != 429 and left is not None and left <= 0 and reset_ms is not None:
                    # The window is used up: wait for its reset before the next request.
                    self._wait_before_next_s = max(reset_ms, 0.0) / 1000
                if status == 429:
                    if reset_ms is not None and throttled < self.max_throttle_waits:
                        throttled += 1
                        self._sleep(max(reset_ms, 0.0) / 1000)
                        continue
                    what = "HTTP 429 Too Many Requests" + (
                        f" {throttled} times in a row" if reset_ms is not None else ""
                    )
                    if reset_ms is not None:
                        failures = self.max_retries  # patience exhausted
                elif status >= 500:
                    what = f"HTTP {status} {_error_title(response)}".rstrip()
                else:
                    if status < 300 or status in passthrough:
                        return response
                    if status in (401, 403):
                        raise StoreAuthError(
                            f"BigCommerce store {self.api_url} rejected the access token "
                            f"(HTTP {status}: {_error_title(response) or 'unauthorized'}); "
                            "check the store's API account and its scopes"
                        )
                    raise self._request_error(method, path, response)
            if failures >= self.max_retries:
                raise StoreUnavailable(
                    f"BigCommerce store {self.api_url}: {method} {path} failed after "
                    f"{attempts} attempt(s); last: {what}"
                )
            self._sleep(self._backoff(failures))
            failures += 1

    def _request_error(
        self, method: str, path: str, response: requests.Response
    ) -> StoreRequestError:
        return StoreRequestError(
            f"BigCommerce store {self.api_url}: {method} {path} was rejected with HTTP "
            f"{response.status_code}: {_error_text(response)}"
        )


def _body(response: requests.Response) -> JSON:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_title(response: requests.Response) -> str:
    title = _body(response).get("title")
    return title if isinstance(title, str) else ""


def _error_text(response: requests.Response) -> str:
    """The platform's error title and details, from a plain or a batch error body."""
    body = _body(response)
    entries = body.get("batch_errors")
    if not isinstance(entries, list) or not entries:
        entries = [body]
    texts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        text = str(entry.get("title") or "").strip()
        details = entry.get("errors")
        if isinstance(details, dict) and details:
            detail = "; ".join(f"{k}: {v}" for k, v in details.items())
            text = f"{text} ({detail})" if text else detail
        if text:
            texts.append(text)
    if texts:
        return " | ".join(texts)
    raw = response.text.strip()
    return raw[:300] if raw else f"HTTP {response.status_code} without details"
