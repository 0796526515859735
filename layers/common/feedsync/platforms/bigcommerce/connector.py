"""BigCommerce v3 connector (``ports.StoreConnector``) at the platform's own limits.

Reads ``GET /catalog/products?include=variants,primary_image`` (250 products per
page), optionally only the products modified in a range (``date_modified:min`` /
``:max``). Content is read as ``domain.content`` keeps it in the index:

* description: the digest of the product's ``description``;
* brand: the name of the product's ``brand_id`` (products carry the id only), from
  ``GET /catalog/brands``, read once per import, the first time a product has a brand;
* weight: the variant's ``weight``, or the product's when it is null (the variant
  inherits it), as canonical decimal text;
* image: the variant's ``image_url`` ("" is none). A product without options shows its
  product images: its base variant counts as having an image when the product has a
  primary image, so a partial sync does not add one.

Writes, as the capabilities declare:

* ``variants``  -> ``PUT /catalog/variants``, 50 per request (prices, stock, weight,
  image URL: the platform downloads the image and answers its own copy's URL);
* ``products``  -> ``PUT /catalog/products``, 10 per request (name, description, brand
  as ``brand_name``: the platform attaches the product to that brand, creating it when
  the store has none of that name);
* ``inventory`` -> ``PUT /inventory/adjustments/absolute``, 2,000 per request (stock
  at a location; the platform takes one such request per store at a time).

Every write carries absolute values, so a retried request can never double-apply.
The platform rejects a whole batch (422; 404/409 for products) when one item is
bad; the connector bisects such a batch so the good items are still written and
each bad one is reported with the platform's own words, at O(log n) extra
requests per bad item. An inventory item "tracked by product" is re-sent by its
product id instead (the platform names those items in its 422).

An image travels in the same variant item as its price and stock, and an image the
platform cannot download makes it refuse the whole item. So a variant isolated as
refused while it sets an image along with other changes is sent once more without the
image (one request, whatever the refusal said: its text is never matched). When that
goes through, the item is still reported failed (its image is not there, so the index
must not claim it) with the platform's words and a note that the other changes were
written. An image URL that is not an absolute http(s) URL is not sent at all.

An item still refused once isolated may be one the merchant deleted since the catalog
was read (a batch naming an unknown id is refused like any invalid one). The connector
then asks the platform, with one ``GET /catalog/products/{id}`` (``include=variants``
when the item is a variant): a 404 means the product is gone, a product whose variants
no longer list the item's variant means the variant is gone. Such an item is reported
with ``ports.item_gone``; any other answer leaves it an ordinary refusal.

Rate limits: with a ``RateBudget`` (shared by every worker writing to the store)
each request first reserves its slot of the shared window and reports the
answer's ``X-Rate-Limit-*`` headers back. Without one, the connector waits on its
own for the reset when an answer says the window is used up. A 429 waits the
advertised reset time, or backs off exponentially (with jitter) when it has no
headers (platform load). 5xx answers, timeouts and connection resets are retried
with backoff, then raise ``StoreUnavailable``; 401/403 raise ``StoreAuthError``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import requests

from feedsync.core.ports import GoneScope, ItemResult, PlanItem, RateBudget, item_gone
from feedsync.domain.content import canonical_weight, description_digest
from feedsync.domain.fields import Variant
from feedsync.domain.money import amount_to_cents
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce_capabilities

JSON = dict[str, Any]

DEFAULT_LOCATION_ID = 1  # BigCommerce's default location
MAX_BRAND_NAME = 255  # a brand's name, as the Brands API takes it
_MONEY_FIELDS = ("price", "sale_price", "retail_price", "cost_price")
_VARIANT_API = {
    "price": "price",
    "sale_price": "sale_price",
    "retail_price": "retail_price",
    "cost_price": "cost_price",
    "stock": "inventory_level",
}
# A variant item's body keys that are not changes: what identifies it.
_VARIANT_IDS = frozenset({"id", "product_id"})
# body key -> the field name a plan (and the run log) uses
_VARIANT_FIELD = {api: name for name, api in _VARIANT_API.items()} | {"weight": "weight"}
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class _Write:
    """How one write operation is sent and how its answers read."""

    def __init__(self, path: str, split: tuple[int, ...], retry: tuple[int, ...] = ()) -> None:
        self.path = path
        # Statuses that reject the whole batch because of some item(s): bisect.
        self.split = split
        # Statuses that mean "not now" for this operation: retried with backoff.
        self.retry = retry


# How long a 200 from the store's product list vouches for the store (see _gone).
_ALIVE_FOR_S: Final = 60.0

_WRITES = {
    "variants": _Write("/catalog/variants", split=(413, 422)),
    "products": _Write("/catalog/products", split=(404, 409, 413, 422)),
    # 409: another adjustment of this store is still being processed.
    "inventory": _Write("/inventory/adjustments/absolute", split=(413, 422), retry=(409,)),
}


def to_cents(value: Any) -> int | None:
    """A BigCommerce money value (JSON number) -> integer cents, rounded half-even."""
    return amount_to_cents(value)


def from_cents(cents: int | None) -> float | None:
    """Integer cents -> JSON number with (at most) 2 decimals, e.g. 1349 -> 13.49."""
    if cents is None:
        return None
    # int / int is correctly rounded, so repr() gives the shortest decimal: "13.49".
    return cents / 100


def to_query_time(moment: datetime) -> str:
    """A datetime as the ``date_modified:min/max`` filters take it (UTC, whole seconds)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    page_limit = 250
    brands_page_limit = 250
    max_throttle_waits = 20  # consecutive 429s carrying a reset time before giving up
    backoff_base_s = 0.5
    backoff_cap_s = 30.0

    def __init__(
        self,
        api_url: str,
        access_token: str,
        *,
        inventory: Literal["variants", "adjustments"] = "variants",
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.capabilities = bigcommerce_capabilities(inventory)
        self.budget = budget
        self._token = access_token
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self.timeout = timeout
        self.max_retries = max_retries
        self._random = random.Random()
        self._wait_before_next_s = 0.0
        # When the store last proved it answers (see _gone): a mass deletion then costs
        # one look-up per product, not two.
        self._alive_at: float | None = None

    @property
    def default_location(self) -> str | None:
        return None  # stock locations are given, never looked up

    def __repr__(self) -> str:  # never shows the token
        return f"BigCommerceConnector({self.api_url!r})"

    # -- reading ----------------------------------------------------------------------------
    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all without one).

        Money in cents; ``modified`` is the product's ``date_modified`` as the
        platform writes it. Both range ends are inclusive, at whole seconds.
        """
        params: dict[str, Any] = {"include": "variants,primary_image", "limit": self.page_limit}
        if modified_since is not None:
            params["date_modified:min"] = to_query_time(modified_since)
        if modified_until is not None:
            params["date_modified:max"] = to_query_time(modified_until)
        brands = _BrandNames(self._read_brands)
        page = 1
        while True:
            body = self._get_json("/catalog/products", {**params, "page": page})
            products = body.get("data") or []
            for product in products:
                yield from self._product_variants(product, brands)
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

    def _read_brands(self) -> dict[int, str]:
        """Every brand of the store, id -> name (``GET /catalog/brands``, all pages)."""
        names: dict[int, str] = {}
        page = 1
        while True:
            params = {"limit": self.brands_page_limit, "page": page}
            body = self._get_json("/catalog/brands", params)
            brands = body.get("data") or []
            for brand in brands:
                if isinstance(brand, dict) and brand.get("id") is not None:
                    names[int(brand["id"])] = str(brand.get("name") or "")
            pagination = (body.get("meta") or {}).get("pagination") or {}
            total_pages = pagination.get("total_pages")
            if not brands or (isinstance(total_pages, int) and page >= total_pages):
                return names
            if not isinstance(total_pages, int) and len(brands) < self.brands_page_limit:
                return names
            page += 1

    def _product_variants(self, product: JSON, brands: _BrandNames) -> Iterator[Variant]:
        pid = int(product["id"])
        name = product.get("name")
        modified = product.get("date_modified")
        modified = str(modified) if modified else None
        tracking = product.get("inventory_tracking")
        description = product.get("description")
        digest = description_digest(description if isinstance(description, str) else None)
        brand = brands.name(product.get("brand_id"))
        product_weight = canonical_weight(product.get("weight"))
        # A product without options is its base variant: the product's images are its own.
        product_image = _image_of(product.get("primary_image"))
        base_id = product.get("base_variant_id")
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
            weight = variant.get("weight")
            image = variant.get("image_url") or None
            if image is None and (vid == base_id or not variant.get("option_values")):
                image = product_image
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
                modified,
                # Stock tracked on the product is adjusted by product id, not variant id.
                "product" if tracking == "product" else None,
                digest,
                brand,
                product_weight if weight is None else canonical_weight(weight),
                image if isinstance(image, str) else None,
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
    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """Write one batch of ``op``; one ``(ok, platform message)`` per item, in order.

        More items than the operation takes, or a field it cannot write, is a
        caller bug (ValueError, nothing sent). Items the platform refuses are
        reported, never raised; a store-wide failure raises a named error.
        """
        try:
            spec = self.capabilities.op(op)
        except KeyError:
            raise ValueError(
                f"BigCommerce (inventory via {self._inventory_mode()}) has no write operation "
                f"{op!r}; it has {', '.join(o.name for o in self.capabilities.ops)}"
            ) from None
        if len(items) > spec.max_batch:
            raise ValueError(f"{op} takes at most {spec.max_batch} items, got {len(items)}")
        for item in items:
            unknown = set(item.get("changes") or {}) - set(spec.fields)
            if unknown:
                raise ValueError(
                    f"{op} cannot write {', '.join(sorted(unknown))} on BigCommerce "
                    f"(it writes {', '.join(spec.fields)})"
                )
        results: list[ItemResult | None] = [None] * len(items)
        payloads: list[JSON] = []
        send: list[int] = []
        location_id = self._location_id(location) if op == "inventory" else None
        for i, item in enumerate(items):
            payload, problem = self._payload(op, item, location_id)
            payloads.append(payload)
            if problem:
                results[i] = ItemResult(False, problem)
            else:
                send.append(i)
        batch = _Batch(op, payloads, results, batch_key, [_owner(op, item) for item in items])
        self._write(batch, send)
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    def _inventory_mode(self) -> str:
        names = {o.name for o in self.capabilities.ops}
        return "adjustments" if "inventory" in names else "variants"

    @staticmethod
    def _location_id(location: str | None) -> int:
        if location is None or str(location).strip() == "":
            return DEFAULT_LOCATION_ID
        try:
            return int(location)
        except ValueError:
            raise ValueError(
                f"a BigCommerce location is a numeric location id, not {location!r}"
            ) from None

    @staticmethod
    def _payload(op: str, item: PlanItem, location_id: int | None) -> tuple[JSON, str]:
        """The item's body entry, and why it cannot be sent ("" when it can)."""
        changes: dict[str, Any] = item.get("changes") or {}
        new = {name: change[1] for name, change in changes.items()}
        if op == "variants":
            payload: JSON = {"id": int(item["variant_id"])}
            if item.get("product_id") is not None:
                payload["product_id"] = int(item["product_id"])
            for name, value in new.items():
                if name == "stock":
                    if value is None:
                        return payload, "no stock value to write"
                    payload["inventory_level"] = int(value)
                elif name == "weight":
                    weight = _weight_number(value)
                    if weight is None:
                        return payload, f"not a weight BigCommerce takes (a number >= 0): {value!r}"
                    payload["weight"] = weight
                elif name == "image_url":
                    if not isinstance(value, str) or not value.strip():
                        return payload, "no image URL to write"
                    if not _is_web_url(value.strip()):
                        return payload, (
                            "not an image URL BigCommerce can download (an absolute http or "
                            f"https URL): {value.strip()[:300]!r}"
                        )
                    payload["image_url"] = value.strip()
                else:
                    payload[_VARIANT_API[name]] = from_cents(None if value is None else int(value))
            return payload, ""
        if op == "products":
            payload = {"id": int(item["product_id"])}
            if "name" in new:
                title = new["name"]
                if not isinstance(title, str) or not title.strip():
                    return payload, "BigCommerce needs a product name: an empty name is not written"
                payload["name"] = title
            if "description" in new:
                text = new["description"]
                if not isinstance(text, str):
                    return payload, "no description to write"
                payload["description"] = text
            if "brand" in new:
                brand = new["brand"]
                if not isinstance(brand, str) or not brand.strip():
                    return payload, "no brand to write: an empty brand name is not written"
                if len(brand) > MAX_BRAND_NAME:
                    return payload, (
                        f"BigCommerce brand names are at most {MAX_BRAND_NAME} characters "
                        f"(this one has {len(brand):,})"
                    )
                # The platform attaches the product to the brand of that name (letter case
                # aside), creating it when the store has none.
                payload["brand_name"] = brand
            if len(payload) == 1:
                return payload, "nothing to write"
            return payload, ""
        # inventory: one absolute quantity at one location, by the id that tracks the stock
        if item.get("ref") == "product" and item.get("product_id") is not None:
            payload = {"location_id": location_id, "product_id": int(item["product_id"])}
        else:
            payload = {"location_id": location_id, "variant_id": int(item["variant_id"])}
        stock = new.get("stock")
        if stock is None:
            return payload, "no stock value to write"
        payload["quantity"] = int(stock)
        return payload, ""

    @staticmethod
    def _body(op: str, entries: list[JSON], batch_key: str) -> Any:
        if op != "inventory":
            return entries
        return {"reason": f"feedsync {batch_key}"[:255], "items": entries}

    def _write(self, batch: _Batch, indexes: list[int]) -> None:
        if not indexes:
            return
        op = batch.op
        write = _WRITES[op]
        response = self._put(op, indexes, batch.payloads, batch.key)
        status = response.status_code
        if status < 300:
            self._record_success(op, response, indexes, batch.payloads, batch.results)
            return
        if len(indexes) == 1:
            if status == 413:
                raise self._request_error("PUT", write.path, response)
            self._refused(batch, indexes[0], _error_text(response))
            return
        if status == 413:  # the platform's batch limit shrank: send halves
            middle = len(indexes) // 2
            self._write(batch, indexes[:middle])
            self._write(batch, indexes[middle:])
            return
        # The whole batch was rejected (nothing applied) because of some item(s).
        self._isolate(batch, indexes, response)

    def _isolate(self, batch: _Batch, indexes: list[int], rejection: requests.Response) -> None:
        """Find the refused item(s) of a rejected batch, writing every other item.

        Bisection that never re-sends what it already knows: when the first half of
        a rejected set goes through, the refusal lies in the second half, which is
        split again without being sent whole. One refused item among n costs about
        1.5 log2(n) extra requests instead of 2 log2(n).
        """
        op = batch.op
        while len(indexes) > 1:
            middle = len(indexes) // 2
            first, second = indexes[:middle], indexes[middle:]
            response = self._put(op, first, batch.payloads, batch.key)
            if response.status_code < 300:
                self._record_success(op, response, first, batch.payloads, batch.results)
                indexes = second  # still rejected as a whole: narrow it down
                continue
            if response.status_code == 413:
                raise self._request_error("PUT", _WRITES[op].path, response)
            # Both halves may hold refusals: the second is written (or isolated) as usual.
            self._write(batch, second)
            indexes, rejection = first, response
        if len(_rejections(rejection)) == 1:
            # The last rejection named exactly one problem and this is the only item left.
            self._refused(batch, indexes[0], _error_text(rejection))
        else:
            self._write(batch, indexes)  # its own words

    def _refused(self, batch: _Batch, index: int, why: str) -> None:
        """Report the item the platform refused on its own, for ``why`` (its words).

        A variant that sets an image along with other changes is sent once more without
        the image (one request): an image the platform cannot download refuses the whole
        item, and its price and stock must not wait for the image. The decision is
        structural, never read from ``why``; if the item is refused without its image
        too, that request was the cost. Either way the item is reported failed, so
        nothing of it is taken as applied: the price and stock written here are read
        back by the next run's refresh (the write moved the product's ``date_modified``).

        An item refused for good is looked up once (``_gone``): one the store no longer
        has is reported gone.
        """
        op, payload = batch.op, batch.payloads[index]
        others = [key for key in payload if key not in _VARIANT_IDS and key != "image_url"]
        if op != "variants" or "image_url" not in payload or not others:
            batch.results[index] = self._refusal(batch, index, why)
            return
        without = {key: value for key, value in payload.items() if key != "image_url"}
        response = self._put(op, [0], [without], batch.key)
        if response.status_code == 413:
            raise self._request_error("PUT", _WRITES[op].path, response)
        if response.status_code < 300:
            written = ", ".join(_VARIANT_FIELD.get(key, key) for key in others)
            batch.results[index] = ItemResult(
                False,
                f"the image could not be set: {why}; the item's other changes ({written}) "
                "were written without it",
            )
        else:
            again = _error_text(response)
            batch.results[index] = self._refusal(
                batch, index, f"{why}; sent again without its image, refused too: {again}"
            )

    def _refusal(self, batch: _Batch, index: int, why: str) -> ItemResult:
        """The result of an item refused for good: gone if the store no longer has it."""
        product_id, variant_id = batch.owners[index]
        scope = self._gone(product_id, variant_id)
        return item_gone(scope, why) if scope is not None else ItemResult(False, why)

    def _gone(self, product_id: int | None, variant_id: int | None) -> GoneScope | None:
        """Does the store still have this product (and this variant of it)? One GET.

        ``GET /catalog/products/{id}`` answers 404 for a product that does not exist (the
        products spec); with ``include=variants`` its ``variants`` list every variant of
        it, as the catalog read relies on. A 404 counts only once the store's product
        list still answers (a closed store, or a platform incident, answers 404 to
        everything: that must not empty the index). Anything else (an error, an
        unreadable answer) is not taken as gone: the item is an ordinary failure.
        """
        if product_id is None:
            return None
        path = f"/catalog/products/{product_id}"
        params = {"include": "variants"} if variant_id is not None else None
        try:
            response = self._request("GET", path, params=params, passthrough=(404,))
            if response.status_code == 404:
                return "product" if self._store_answers() else None
        except (StoreRequestError, StoreUnavailable):
            return None
        if variant_id is None:
            return None
        data = _body(response).get("data")
        variants = data.get("variants") if isinstance(data, dict) else None
        if not isinstance(variants, list):
            return None
        ids = {v.get("id") for v in variants if isinstance(v, dict)}
        return None if variant_id in ids else "variant"

    def _store_answers(self) -> bool:
        """Does the store's product list answer 200? Asked at most once a minute."""
        now = time.monotonic()
        if self._alive_at is not None and now - self._alive_at < _ALIVE_FOR_S:
            return True
        probe = self._request("GET", "/catalog/products", params={"limit": 1}, passthrough=(404,))
        if probe.status_code != 200:
            return False
        self._alive_at = now
        return True

    def _put(
        self, op: str, indexes: list[int], payloads: list[JSON], batch_key: str
    ) -> requests.Response:
        write = _WRITES[op]
        return self._request(
            "PUT",
            write.path,
            json_body=self._body(op, [payloads[i] for i in indexes], batch_key),
            passthrough=write.split,
            retry_statuses=write.retry,
        )

    def _record_success(
        self,
        op: str,
        response: requests.Response,
        indexes: list[int],
        payloads: list[JSON],
        results: list[ItemResult | None],
    ) -> None:
        failed = self._partial_failures(op, response, indexes, payloads)
        for i in indexes:
            results[i] = ItemResult(False, failed[i]) if i in failed else ItemResult(True, "")

    @staticmethod
    def _partial_failures(
        op: str, response: requests.Response, indexes: list[int], payloads: list[JSON]
    ) -> dict[int, str]:
        """A product batch answered 207: the products missing from ``data`` failed."""
        if op != "products" or response.status_code != 207:
            return {}
        data = _body(response).get("data")
        done = (
            {p.get("id") for p in data if isinstance(p, dict)} if isinstance(data, list) else set()
        )
        why = _error_text(response)
        return {i: why for i in indexes if payloads[i]["id"] not in done}

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

    def _send(
        self, method: str, url: str, params: Any, json_body: Any, headers: dict[str, str]
    ) -> requests.Response:
        """One HTTP exchange, inside the shared budget when there is one."""
        budget = self.budget
        if budget is None:
            if self._wait_before_next_s > 0:
                wait, self._wait_before_next_s = self._wait_before_next_s, 0.0
                self._sleep(wait)
            return self._session.request(
                method, url, params=params, json=json_body, headers=headers, timeout=self.timeout
            )
        budget.before_request()
        reported = False
        try:
            response = self._session.request(
                method, url, params=params, json=json_body, headers=headers, timeout=self.timeout
            )
            left, reset_ms, quota, window_ms = _rate_headers(response)
            if response.status_code == 429 and left is None and reset_ms is not None:
                left = 0
            if window_ms is not None and response.elapsed.total_seconds() * 4000 > window_ms:
                # So slow an answer may describe the window before this one: count it
                # as spent, but learn nothing from its headers.
                left = reset_ms = None
            reported = True  # a failing report must not be followed by a second one
            budget.after_response(
                None if left is None else int(left),
                None if reset_ms is None else reset_ms / 1000,
                None if quota is None else int(quota),
                None if window_ms is None else window_ms / 1000,
            )
            return response
        finally:
            if not reported:
                budget.after_response(None, None)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        passthrough: tuple[int, ...] = (),
        retry_statuses: tuple[int, ...] = (),
    ) -> requests.Response:
        """Send one logical request: waits, retries and error mapping live here."""
        url = f"{self.api_url}{path}"
        headers = {"X-Auth-Token": self._token, "Accept": "application/json"}
        failures = 0  # 5xx, timeouts, connection errors, 429 without a reset time
        throttled = 0  # 429 with a reset time
        attempts = 0
        while True:
            attempts += 1
            what: str
            try:
                response = self._send(method, url, params, json_body, headers)
            except _TRANSIENT_EXCEPTIONS as exc:
                what = f"{type(exc).__name__} ({exc})"
            else:
                status = response.status_code
                left, reset_ms, _, _ = _rate_headers(response)
                if (
                    self.budget is None
                    and status != 429
                    and left is not None
                    and left <= 0
                    and reset_ms is not None
                ):
                    # The window is used up: wait for its reset before the next request.
                    self._wait_before_next_s = max(reset_ms, 0.0) / 1000
                if status == 429:
                    if reset_ms is not None and throttled < self.max_throttle_waits:
                        throttled += 1
                        # A budget holds every worker back until the reset; wait here too
                        # only if it let a second 429 through.
                        if self.budget is None or throttled > 1:
                            self._sleep(max(reset_ms, 0.0) / 1000)
                        continue
                    what = "HTTP 429 Too Many Requests" + (
                        f" {throttled} times in a row" if reset_ms is not None else ""
                    )
                    if reset_ms is not None:
                        failures = self.max_retries  # patience exhausted
                elif status >= 500 or status == 408 or status in retry_statuses:
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


class _Batch:
    """One ``apply`` call: its operation, bodies, results so far, key and item owners."""

    def __init__(
        self,
        op: str,
        payloads: list[JSON],
        results: list[ItemResult | None],
        key: str,
        owners: list[tuple[int | None, int | None]],
    ) -> None:
        self.op = op
        self.payloads = payloads
        self.results = results
        self.key = key
        # Per item: (product id, variant id) to look up when it is refused for good; the
        # variant id is None where the item stands for its product.
        self.owners = owners


def _owner(op: str, item: PlanItem) -> tuple[int | None, int | None]:
    """Which product (and variant of it) an item writes, to ask whether it still exists."""
    pid = item.get("product_id")
    product_id = None if pid is None else int(pid)
    if op == "products" or (op == "inventory" and item.get("ref") == "product"):
        return product_id, None
    return product_id, int(item["variant_id"])


class _BrandNames:
    """Brand names by id for one import: all brands are read the first time a product
    has one, and read again (once) when a product names a brand made since."""

    def __init__(self, read: Callable[[], dict[int, str]]) -> None:
        self._read = read
        self._names: dict[int, str] | None = None
        self._reread = False

    def name(self, brand_id: Any) -> str | None:
        if isinstance(brand_id, bool) or not isinstance(brand_id, int) or brand_id <= 0:
            return None  # 0: the product has no brand
        if self._names is None:
            self._names = self._read()
        found = self._names.get(brand_id)
        if found is None and not self._reread:
            self._reread = True
            self._names = self._read()
            found = self._names.get(brand_id)
        return found or None


def _image_of(image: Any) -> str | None:
    """The URL of a product image object (``primary_image``), None when there is none."""
    if not isinstance(image, dict):
        return None
    for key in ("url_standard", "url_zoom", "image_url"):
        url = image.get(key)
        if isinstance(url, str) and url:
            return url
    return None


def _is_web_url(url: str) -> bool:
    """Is ``url`` an absolute http(s) URL with a host (the only kind the platform fetches)?"""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def _weight_number(value: Any) -> float | None:
    """A weight as decimal text ("0.250") -> the JSON number the API takes; None if bad."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    return float(number)


def _rate_headers(
    response: requests.Response,
) -> tuple[float | None, float | None, float | None, float | None]:
    """Requests left, reset (ms), quota and window (ms), None where a header is missing."""
    h = response.headers
    return (
        _header_number(h, "X-Rate-Limit-Requests-Left"),
        _header_number(h, "X-Rate-Limit-Time-Reset-Ms"),
        _header_number(h, "X-Rate-Limit-Requests-Quota"),
        _header_number(h, "X-Rate-Limit-Time-Window-Ms"),
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


def _rejections(response: requests.Response) -> list[Any]:
    """The entries of a batch rejection (one per refused item on BigCommerce)."""
    entries = _body(response).get("batch_errors")
    return entries if isinstance(entries, list) else []


def _error_text(response: requests.Response) -> str:
    """The platform's error title and details, from a plain, batch or multi-status body."""
    body = _body(response)
    entries = body.get("batch_errors")
    if not isinstance(entries, list) or not entries:
        multi = body.get("errors")
        # A 207's "errors" is one error object; a plain error's "errors" is its details.
        entries = [multi] if response.status_code == 207 and isinstance(multi, dict) else [body]
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
