"""A local, BigCommerce-v3-compatible store for the demo, the local stack and the tests.

Serves the subset of the Catalog and Inventory APIs the connector uses, on loopback,
from a stdlib ``ThreadingHTTPServer`` in a background thread::

    GET  /stores/{hash}/v3/catalog/products?include=variants,primary_image,images
              &page=N&limit=L[&date_modified:min=T&date_modified:max=T][&id:in=1,2]
    GET  /stores/{hash}/v3/catalog/products/{id}?include=variants,primary_image,images
    POST /stores/{hash}/v3/catalog/products
    PUT  /stores/{hash}/v3/catalog/products                  (batch, at most 10)
    GET  /stores/{hash}/v3/catalog/variants?page=N&limit=L
    PUT  /stores/{hash}/v3/catalog/variants                  (batch, at most 50)
    GET  /stores/{hash}/v3/catalog/brands?page=N&limit=L[&id:in=1,2]
    PUT  /stores/{hash}/v3/inventory/adjustments/absolute    (at most 2,000 items)

Platform behaviour reproduced (shapes follow BigCommerce's OpenAPI files):

* ``X-Auth-Token`` must equal the store's token (401 otherwise); unknown store -> 404.
* A fixed-window quota per store (``set_quota`` scales it); every answer for a known
  store carries ``X-Rate-Limit-Requests-Left``, ``-Time-Reset-Ms``, ``-Requests-Quota``
  and ``-Time-Window-Ms``; over the quota -> 429 with the same headers.
* ``PUT /catalog/variants``: at most 50 items (413). The spec documents 200, 413 and
  422 for this operation (no 207): one invalid item rejects the whole batch with 422
  ``{"batch_errors": [{"status", "title", "type", "errors"}, ...]}`` (one entry per
  invalid item) and nothing is applied. The spec's entry has no field for an item index
  or id, and neither has the double's: ``errors`` maps the item's fields to reasons
  (``id`` for an unknown variant); only the words (title, reasons) may mention it.
* ``PUT /catalog/products``: at most 10 items (413); ``id`` required; an unknown id
  rejects the batch with 404, an invalid field with 422 (``errorResponse_422``: one
  error whose ``errors`` maps fields to reasons, naming no product), a duplicate name
  with 409; nothing is applied then. 200 ``{"data": [product], "meta"}``.
* ``PUT /inventory/adjustments/absolute``: ``{"reason", "items": [{location_id,
  variant_id | sku | product_id, quantity}]}``, at most 2,000 items; any invalid item
  rejects the whole request with 422 (``application/problem+json``, the spec's
  ``ErrorResponse``; e.g. ``[Item with variant_id 106 is tracked by product, please
  update stock by product id]``); 200 ``{"transaction_id"}``. The platform processes
  one adjustment per store at a time: one arriving while another is processed gets
  409 (the spec documents no status for this; ``inventory_processing_s`` makes the
  processing take time so it can be seen).
* ``GET /catalog/products/{id}``: 200 ``{"data": product, "meta": {}}`` (``include`` as
  for the list), 404 for a product the store does not have.
* ``date_modified`` per product, moved on by any write to the product, its variants
  or its stock; ``GET /catalog/products`` filters on ``date_modified:min``/``:max``
  (inclusive; ``YYYY-MM-DD`` or ISO-8601 date-time, UTC when no offset).
* ``POST /catalog/products``: 422 for missing/invalid fields (spec-required: name, type,
  weight, price), 409 for a duplicate product name or SKU (the spec documents duplicate
  unique values as 409).
* Content: a product has a ``description`` (HTML text, "" when none), a ``brand_id`` (0:
  no brand) and images (``images`` on POST; ``include=images`` / ``primary_image`` on
  GET); a variant has a ``weight`` (null: it inherits the product's) and an
  ``image_url`` ("" when it has none). ``brand_name`` on POST/PUT attaches the product to
  the brand of that name, matched without regard to letter case, creating it when there
  is none (as the spec describes; the answer carries ``brand_id`` only); an unknown
  ``brand_id`` is a 409, as the spec documents. Image URLs must be absolute http(s) URLs
  the platform can download: one on a host under ``.invalid`` (a name that never
  resolves, RFC 6761) cannot be, and refuses its item like any invalid field (422). The
  platform copies the image to its CDN, so a read answers a CDN URL, never the one
  sent. ``GET /catalog/brands`` lists the brands (``brands_catalog.v3.yml`` of
  BigCommerce's docs, a spec file not in ``../shared/specs``).
* ``is_visible`` (a boolean, true by default) on POST/PUT shows or hides a product on the
  storefront; reads answer it.

Faults on demand (thread-safe; each takes the next matching request, optionally only
on one route; none consumes quota except a slow answer, which is a real one):
``fail_next(status)`` (e.g. 5xx, or 429 without headers = platform load),
``throttle_next(reset_ms)`` (429 with rate-limit headers), ``delay_next(seconds)``,
``reset_next()`` (the connection is closed without an answer), and
``reject_variant``/``reject_product`` (every batch holding that item fails 422 with
the given message under ``errors[field]``, ``id`` unless told, as the platform does with
one bad item).

``delete_product`` / ``delete_variant`` remove a product (with its variants) or one
variant of a product that has others, as a merchant does in the control panel; nothing else
changes (no other product's ``date_modified`` moves), so a range read never lists what
was deleted. Later writes naming it are refused as the platform refuses unknown ids
(variants 422, products 404, inventory 422) and ``GET /catalog/products/{id}`` is 404.

Counters for benchmarks: ``request_counts`` by (method, path template),
``status_counts``, ``rate_limited`` (429s for an exhausted quota); ``reset_log``
clears them with the log.

Money is held in integer cents and rendered as JSON numbers (``12.99``); variant money
fields are ``null`` when unset (the variant inherits the product's value).
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import socket
import struct
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedsync_local.httpserver import LoopbackService, QuietHandler

MAX_VARIANT_BATCH = 50
MAX_PRODUCT_BATCH = 10
MAX_ADJUSTMENT_ITEMS = 2000
DEFAULT_LOCATION_ID = 1
MAX_PAGE_LIMIT = 250
DEFAULT_PAGE_LIMIT = 50
MAX_INVENTORY = 2_147_483_647
MAX_WEIGHT = 9_999_999_999
MAX_BRAND_NAME = 255
# Where the platform re-hosts images it was given by URL.
CDN_BASE = "https://cdn11.bigcommerce.com"
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
# product-variants_catalog.v3.yml, POST /catalog/products/{product_id}/variants: "600 SKUs
# per product limit"; products_catalog.v3.yml, DELETE /catalog/products: "The maximum number
# of products you can delete at one time is 250".
MAX_VARIANTS = 600
MAX_DELETE = 250
VARIANT_MONEY = ("price", "sale_price", "retail_price", "cost_price")

JSON = dict[str, Any]


class _Invalid(Exception):
    """A field of a request body is invalid: ``errors`` maps field -> reason."""

    def __init__(self, title: str, errors: dict[str, str], status: int = 422) -> None:
        super().__init__(title)
        self.title = title
        self.errors = errors
        self.status = status


def _cents(value: Any) -> int:
    """JSON number -> integer cents (half-even); raises ValueError for non-numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    try:
        cents = (Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:  # pragma: no cover - guarded above
        raise ValueError("must be a number") from exc
    return int(cents)


def _money(cents: int | None) -> float | None:
    return None if cents is None else cents / 100


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _parse_when(value: str) -> datetime:
    """A ``date_modified`` filter value -> aware datetime (ValueError when unreadable).

    As the spec says, a bare date gets the current time of day added.
    """
    text = value.strip()
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        now = datetime.now(UTC)
        return day.replace(hour=now.hour, minute=now.minute, second=now.second)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _template(route: str) -> str:
    """``catalog/products/12/variants`` -> ``/catalog/products/{id}/variants``."""
    return "/" + "/".join("{id}" if seg.isdigit() else seg for seg in route.split("/") if seg)


@dataclass
class _Fault:
    kind: str  # "status", "throttle", "delay", "reset"
    status: int = 0
    headers: dict[str, str] | None = None
    delay_s: float = 0.0
    route: str | None = None  # only requests to this route ("/catalog/variants")


@dataclass
class _Variant:
    id: int
    product_id: int
    sku: str
    upc: str = ""
    gtin: str = ""
    price: int | None = None
    sale_price: int | None = None
    retail_price: int | None = None
    cost_price: int | None = None
    inventory_level: int = 0
    option_values: list[JSON] = field(default_factory=list)
    weight: float | None = None  # None: the product's weight applies
    image_url: str = ""  # the CDN copy of the variant's image, "" for none
    # Stock per location id; ``inventory_level`` is their sum.
    levels: dict[int, int] = field(default_factory=dict)

    def set_level(self, location_id: int, quantity: int) -> None:
        if not self.levels:
            self.levels[DEFAULT_LOCATION_ID] = self.inventory_level
        self.levels[location_id] = quantity
        self.inventory_level = min(MAX_INVENTORY, sum(self.levels.values()))


@dataclass
class _Product:
    id: int
    name: str
    type: str
    sku: str
    weight: float
    price: int
    sale_price: int = 0
    retail_price: int = 0
    cost_price: int = 0
    inventory_tracking: str = "none"
    upc: str = ""
    gtin: str = ""
    mpn: str = ""
    date_created: str = ""
    date_modified: str = ""
    variant_ids: list[int] = field(default_factory=list)
    has_options: bool = False
    description: str = ""
    brand_id: int = 0  # 0: no brand
    images: list[JSON] = field(default_factory=list)  # productImage_Full, CDN URLs
    is_visible: bool = True  # shown on the storefront
    categories: list[int] = field(default_factory=list)


@dataclass
class _Store:
    hash: str
    token: str
    products: dict[int, _Product] = field(default_factory=dict)
    variants: dict[int, _Variant] = field(default_factory=dict)
    skus: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    brands: dict[int, str] = field(default_factory=dict)  # brand id -> name
    window_start: float = 0.0
    window_count: int = 0
    locations: set[int] = field(default_factory=lambda: {DEFAULT_LOCATION_ID})
    adjusting: bool = False  # an inventory adjustment is being processed
    # Items the platform refuses whatever they send: id -> (field the answer names, words).
    rejected_variants: dict[int, tuple[str, str]] = field(default_factory=dict)
    rejected_products: dict[int, tuple[str, str]] = field(default_factory=dict)
    # (method, path template, body) of every write request that reached the catalog.
    writes: list[tuple[str, str, Any]] = field(default_factory=list)


class SandboxStore(LoopbackService):
    """Loopback BigCommerce double. Use as a context manager or ``start()``/``stop()``."""

    name = "the sandbox store"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        quota_requests: int = 150,
        quota_window_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock``: monotonic seconds the quota windows are measured in (tests share a
        virtual one with the connector, so a window passes without waiting for it)."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the sandbox store listens on loopback only, not {host!r}")
        super().__init__(host, port)
        self.quota_requests = quota_requests
        self.quota_window_s = quota_window_s
        self._clock = clock
        self._lock = threading.RLock()
        self._stores: dict[str, _Store] = {}
        self._log: list[tuple[str, str, int]] = []
        self._faults: deque[_Fault] = deque()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._status_counts: Counter[int] = Counter()
        self._rate_limited = 0
        # How long each inventory adjustment is "processed" (the one-at-a-time window).
        self.inventory_processing_s = 0.0
        self._next_product_id = 100
        self._next_variant_id = 1000
        self._next_brand_id = 30
        self._next_image_id = 500

    # -- lifecycle --------------------------------------------------------------------------
    def handler_class(self) -> type[_Handler]:
        return type("Handler", (_Handler,), {"store": self})

    def api_url(self, store_hash: str) -> str:
        return f"{self.base_url}/stores/{store_hash}/v3"

    # -- in-process helpers ----------------------------------------------------------------
    def create_store(self) -> tuple[str, str]:
        """Create an empty store; returns ``(store_hash, access_token)``."""
        with self._lock:
            store_hash = secrets.token_hex(5)
            while store_hash in self._stores:  # pragma: no cover - 40 random bits
                store_hash = secrets.token_hex(5)
            token = secrets.token_urlsafe(24)
            self._stores[store_hash] = _Store(hash=store_hash, token=token)
            return store_hash, token

    def seed(self, store_hash: str, products: list[JSON]) -> list[JSON]:
        """Create products as ``POST /catalog/products`` would, without HTTP or quota.

        Returns the created products (with variants). Raises ValueError on an invalid body.
        """
        created: list[JSON] = []
        with self._lock:
            store = self._store(store_hash)
            for i, body in enumerate(products):
                try:
                    product = self._create_product(store, body)
                except _Invalid as exc:
                    raise ValueError(f"seed product #{i}: {exc.title}: {exc.errors}") from exc
                created.append(
                    self._product_json(
                        store, product, with_variants=True, include=frozenset({"images"})
                    )
                )
        return created

    def variants(self, store_hash: str) -> list[JSON]:
        """Snapshot of every variant of the store (API shape), by variant id."""
        with self._lock:
            store = self._store(store_hash)
            return [self._variant_json(store, v) for v in store.variants.values()]

    @property
    def requests_log(self) -> list[tuple[str, str, int]]:
        """``(method, request target incl. query, status)`` per request (a copy)."""
        with self._lock:
            return list(self._log)

    def write_bodies(self, store_hash: str) -> list[tuple[str, str, Any]]:
        """``(method, path template, JSON body)`` of each write request this store served
        past its faults, auth and quota (what items a write carried), in arrival order."""
        with self._lock:
            return list(self._store(store_hash).writes)

    def reset_log(self) -> None:
        """Clear the request log and every counter."""
        with self._lock:
            self._log.clear()
            self._counts.clear()
            self._status_counts.clear()
            self._rate_limited = 0

    @property
    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests to known stores by ``(method, path template)``, e.g.
        ``("PUT", "/catalog/variants")`` (faults included)."""
        with self._lock:
            return dict(self._counts)

    @property
    def status_counts(self) -> dict[int, int]:
        """Answers by HTTP status (0: connection closed without an answer)."""
        with self._lock:
            return dict(self._status_counts)

    @property
    def rate_limited(self) -> int:
        """429s answered because a store's window was used up (injected ones excluded)."""
        with self._lock:
            return self._rate_limited

    def set_quota(self, requests: int, window_s: float) -> None:
        """Scale every store's window (e.g. 150 / 3 s for a benchmark); windows restart."""
        with self._lock:
            self.quota_requests = requests
            self.quota_window_s = window_s
            for store in self._stores.values():
                store.window_count = 0

    def fail_next(
        self,
        status: int,
        count: int = 1,
        headers: dict[str, str] | None = None,
        *,
        route: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests (to any known store) with ``status``.

        The fault response carries exactly ``headers`` (no rate-limit headers unless given),
        consumes no quota and changes nothing; e.g. ``fail_next(429)`` is a platform-load 429.
        """
        fault = _Fault("status", status=status, headers=dict(headers) if headers else None)
        self._add_fault(fault, count, route)

    def throttle_next(
        self, reset_ms: int = 1000, count: int = 1, *, route: str | None = None
    ) -> None:
        """Answer 429 with the rate-limit headers (none left, reset in ``reset_ms``)."""
        self._add_fault(_Fault("throttle", status=429, delay_s=reset_ms / 1000), count, route)

    def delay_next(self, seconds: float, count: int = 1, *, route: str | None = None) -> None:
        """Answer the next requests normally, ``seconds`` late (quota is consumed)."""
        self._add_fault(_Fault("delay", delay_s=seconds), count, route)

    def reset_next(self, count: int = 1, *, route: str | None = None) -> None:
        """Close the connection of the next requests without answering (nothing applied)."""
        self._add_fault(_Fault("reset"), count, route)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reject_variant(
        self, store_hash: str, variant_id: int, message: str, *, field: str = "id"
    ) -> None:
        """Make the platform refuse this variant: any variant batch or inventory
        adjustment holding it fails 422 with ``message`` (nothing applied). ``field``:
        what the answer's ``errors`` names (``id``: the item as such, as for an unknown
        id; a field such as ``price``: a value of an item the store has)."""
        with self._lock:
            self._store(store_hash).rejected_variants[int(variant_id)] = (field, message)

    def reject_product(
        self, store_hash: str, product_id: int, message: str, *, field: str = "id"
    ) -> None:
        """Make the platform refuse this product in product batches (422, ``message``
        under ``field`` of the answer's ``errors``, as ``reject_variant``)."""
        with self._lock:
            self._store(store_hash).rejected_products[int(product_id)] = (field, message)

    def clear_rejections(self, store_hash: str) -> None:
        with self._lock:
            store = self._store(store_hash)
            store.rejected_variants.clear()
            store.rejected_products.clear()

    def delete_product(self, store_hash: str, product_id: int) -> None:
        """Delete a product and its variants (``DELETE /catalog/products/{id}``)."""
        with self._lock:
            store = self._store(store_hash)
            product = store.products.pop(int(product_id))
            store.names.discard(product.name.lower())
            store.skus.discard(product.sku.lower())
            for vid in product.variant_ids:
                variant = store.variants.pop(vid)
                store.skus.discard(variant.sku.lower())

    def delete_variant(self, store_hash: str, variant_id: int) -> None:
        """Delete one variant of a product that has others
        (``DELETE /catalog/products/{product_id}/variants/{variant_id}``); the product and
        its other variants stay as they are."""
        with self._lock:
            store = self._store(store_hash)
            variant = store.variants[int(variant_id)]
            product = store.products[variant.product_id]
            if len(product.variant_ids) < 2:
                raise ValueError(
                    f"variant {variant_id} is its product's only variant: delete the product"
                )
            del store.variants[variant.id]
            product.variant_ids.remove(variant.id)
            store.skus.discard(variant.sku.lower())

    def add_location(self, store_hash: str, location_id: int) -> None:
        """Add an inventory location (location 1, the default, always exists)."""
        with self._lock:
            self._store(store_hash).locations.add(int(location_id))

    def set_tracking(self, store_hash: str, product_id: int, tracking: str) -> None:
        """Set a product's ``inventory_tracking`` (none, product, variant)."""
        with self._lock:
            self._store(store_hash).products[int(product_id)].inventory_tracking = tracking

    def set_modified(self, store_hash: str, product_id: int, when: datetime) -> None:
        """Backdate (or move) a product's ``date_modified``, for range-import tests."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            product = self._store(store_hash).products[int(product_id)]
            product.date_modified = when.astimezone(UTC).replace(microsecond=0).isoformat()

    def products(self, store_hash: str) -> list[JSON]:
        """Snapshot of every product of the store (API shape, without variants)."""
        with self._lock:
            store = self._store(store_hash)
            return [
                self._product_json(store, p, with_variants=False) for p in store.products.values()
            ]

    def brands(self, store_hash: str) -> dict[int, str]:
        """The store's brands, id -> name."""
        with self._lock:
            return dict(self._store(store_hash).brands)

    def add_brand(self, store_hash: str, name: str) -> int:
        """Create a brand (``POST /catalog/brands``); returns its id. A name the store
        has already (in any letter case) is a ValueError, as the platform's 409."""
        with self._lock:
            store = self._store(store_hash)
            if _brand_named(store, name) is not None:
                raise ValueError(f"brand {name!r} exists already")
            return self._brand_id(store, name)

    def stock_at(self, store_hash: str, variant_id: int) -> dict[int, int]:
        """A variant's stock per location id."""
        with self._lock:
            v = self._store(store_hash).variants[int(variant_id)]
            return dict(v.levels) if v.levels else {DEFAULT_LOCATION_ID: v.inventory_level}

    def adjustment_in_progress(self, store_hash: str) -> bool:
        """Whether an inventory adjustment of the store is being processed right now."""
        with self._lock:
            return self._store(store_hash).adjusting

    def _add_fault(self, fault: _Fault, count: int, route: str | None) -> None:
        fault.route = _template(route) if route else None
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault(**{**fault.__dict__}))

    # -- internals (all under self._lock) --------------------------------------------------
    def _store(self, store_hash: str) -> _Store:
        try:
            return self._stores[store_hash]
        except KeyError:
            raise KeyError(f"no sandbox store {store_hash!r}") from None

    def _record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self._log.append((method, target, status))
            self._status_counts[status] += 1

    def _take_fault(self, route: str) -> _Fault | None:
        template = _template(route)
        with self._lock:
            for fault in self._faults:
                if fault.route is None or fault.route == template:
                    self._faults.remove(fault)
                    return fault
            return None

    def _consume_quota(self, store: _Store) -> tuple[bool, dict[str, str]]:
        """Count one request in the store's window: ``(allowed, rate-limit headers)``."""
        with self._lock:
            now = self._clock()
            window = self.quota_window_s
            if store.window_count == 0 or now - store.window_start >= window:
                store.window_start = now
                store.window_count = 0
            allowed = store.window_count < self.quota_requests
            if allowed:
                store.window_count += 1
            return allowed, self._rate_headers(store, now)

    def _rate_headers(self, store: _Store, now: float | None = None) -> dict[str, str]:
        now = self._clock() if now is None else now
        window = self.quota_window_s
        if store.window_count == 0 or now - store.window_start >= window:
            left, reset_s = self.quota_requests, window
        else:
            left = max(0, self.quota_requests - store.window_count)
            reset_s = window - (now - store.window_start)
        return {
            "X-Rate-Limit-Requests-Left": str(left),
            "X-Rate-Limit-Time-Reset-Ms": str(max(1, math.ceil(reset_s * 1000))),
            "X-Rate-Limit-Requests-Quota": str(self.quota_requests),
            "X-Rate-Limit-Time-Window-Ms": str(round(window * 1000)),
        }

    def _brand_id(self, store: _Store, name: str) -> int:
        """The id of the brand named ``name`` (any letter case), created when missing."""
        found = _brand_named(store, name)
        if found is not None:
            return found
        self._next_brand_id += 1
        store.brands[self._next_brand_id] = name
        return self._next_brand_id

    def _cdn_url(self, store: _Store, folder: str, source: str) -> str:
        """Where the platform keeps its copy of the image it downloaded from ``source``."""
        self._next_image_id += 1
        return f"{CDN_BASE}/s-{store.hash}/{folder}/{self._next_image_id}/{_file_name(source)}"

    def _product_image(self, store: _Store, product: _Product, raw: JSON, first: bool) -> JSON:
        self._next_image_id += 1
        image_id = self._next_image_id
        name = _file_name(raw["image_url"])
        base = f"{CDN_BASE}/s-{store.hash}/products/{product.id}/images/{image_id}/{name}"
        return {
            "id": image_id,
            "product_id": product.id,
            # Without a thumbnail chosen, the first image becomes it.
            "is_thumbnail": bool(raw.get("is_thumbnail", first)),
            "sort_order": int(raw.get("sort_order") or 0),
            "description": str(raw.get("description") or ""),
            "image_url": base,
            "url_zoom": f"{base}?c=2&imbypass=on",
            "url_standard": f"{base}?c=2",
            "url_thumbnail": f"{base}?c=2&w=220",
            "url_tiny": f"{base}?c=2&w=44",
            "date_modified": _now_iso(),
        }

    def _create_product(self, store: _Store, body: Any) -> _Product:
        if not isinstance(body, dict):
            raise _Invalid("The request body must be a JSON object", {"body": "not an object"})
        errors: dict[str, str] = {}
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 250:
            errors["name"] = "required: a string of 1 to 250 characters"
        ptype = body.get("type")
        if ptype not in ("physical", "digital"):
            errors["type"] = "required: one of physical, digital"
        weight = body.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            errors["weight"] = "required: a number >= 0"
        money: dict[str, int] = {}
        for key in VARIANT_MONEY:
            if key != "price" and body.get(key) is None:
                continue
            try:
                money[key] = _cents(body.get(key))
            except ValueError as exc:
                errors[key] = ("required: " if key == "price" else "") + f"{exc} >= 0"
                continue
            if money[key] < 0:
                errors[key] = "must be a number >= 0"
        sku = body.get("sku", "")
        if not isinstance(sku, str) or len(sku) > 255:
            errors["sku"] = "must be a string of at most 255 characters"
        tracking = body.get("inventory_tracking", "none")
        if tracking not in ("none", "product", "variant"):
            errors["inventory_tracking"] = "must be one of none, product, variant"
        level = body.get("inventory_level", 0)
        if not _valid_inventory(level):
            errors["inventory_level"] = f"must be an integer from 0 to {MAX_INVENTORY}"
        strings = {}
        for key in ("upc", "gtin", "mpn"):
            val = body.get(key, "")
            if not isinstance(val, str) or (key != "mpn" and len(val) > 14):
                errors[key] = "must be a string" + ("" if key == "mpn" else " of <= 14 chars")
            strings[key] = val if isinstance(val, str) else ""
        description = body.get("description", "")
        if not isinstance(description, str):
            errors["description"] = "must be a string"
            description = ""
        brand = _parse_brand(body, errors)
        visible = body.get("is_visible", True)
        if not isinstance(visible, bool):
            errors["is_visible"] = "must be a boolean"
        raw_images = body.get("images") or []
        if not isinstance(raw_images, list):
            errors["images"] = "must be an array"
            raw_images = []
        for i, image in enumerate(raw_images):
            url = image.get("image_url") if isinstance(image, dict) else None
            problem = _image_url_problem(url, max_length=255)
            if problem:
                errors[f"images.{i}.image_url"] = problem
        thumbnail = any(isinstance(i, dict) and i.get("is_thumbnail") for i in raw_images)
        categories = body.get("categories") or []
        if not isinstance(categories, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in categories
        ):
            errors["categories"] = "must be an array of category ids (integers)"
            categories = []
        raw_variants = body.get("variants") or []
        if not isinstance(raw_variants, list):
            errors["variants"] = "must be an array"
            raw_variants = []
        if len(raw_variants) > MAX_VARIANTS:
            errors["variants"] = f"a product has at most {MAX_VARIANTS} SKUs"
            raw_variants = []
        specs: list[JSON] = []
        for i, raw in enumerate(raw_variants):
            spec, verrs = _parse_new_variant(raw)
            errors.update({f"variants.{i}.{k}": v for k, v in verrs.items()})
            specs.append(spec)
        if errors:
            raise _Invalid("The product was not valid", errors)
        assert isinstance(name, str) and isinstance(sku, str)
        if isinstance(brand, int) and brand and brand not in store.brands:
            raise _Invalid("The brand does not exist", {"brand_id": f"no brand {brand}"}, 409)

        if name.lower() in store.names:
            raise _Invalid("The product name is a duplicate", {"name": name}, status=409)
        new_skus = [s["sku"] for s in specs] if specs else [sku]
        if specs and sku:
            new_skus.append(sku)
        seen: set[str] = set()
        for s in new_skus:
            low = s.lower()
            if not low:
                continue
            if low in store.skus or low in seen:
                raise _Invalid("The SKU is a duplicate", {"sku": f"{s!r} is already used"}, 409)
            seen.add(low)

        self._next_product_id += 1
        product = _Product(
            id=self._next_product_id,
            name=name,
            type=str(ptype),
            sku=sku,
            weight=float(weight or 0),
            price=money["price"],
            sale_price=money.get("sale_price", 0),
            retail_price=money.get("retail_price", 0),
            cost_price=money.get("cost_price", 0),
            inventory_tracking=str(tracking),
            upc=strings["upc"],
            gtin=strings["gtin"],
            mpn=strings["mpn"],
            date_created=_now_iso(),
            description=description,
            is_visible=visible is not False,
            categories=list(categories),
        )
        product.date_modified = product.date_created
        if isinstance(brand, str):
            product.brand_id = self._brand_id(store, brand)
        elif brand is not None:
            product.brand_id = brand
        product.images = [
            self._product_image(store, product, raw, first=i == 0 and not thumbnail)
            for i, raw in enumerate(raw_images)
        ]
        if not specs:  # a simple product: one base variant mirroring the product
            specs = [
                {
                    "sku": sku,
                    "upc": product.upc,
                    "gtin": product.gtin,
                    "price": product.price,
                    "inventory_level": level,
                    "option_values": [],
                }
            ]
        product.has_options = any(s["option_values"] for s in specs)
        for spec in specs:
            self._next_variant_id += 1
            source = spec.pop("image_url", "")
            variant = _Variant(id=self._next_variant_id, product_id=product.id, **spec)
            if source:
                variant.image_url = self._cdn_url(store, "attribute_rule_images", source)
            store.variants[variant.id] = variant
            product.variant_ids.append(variant.id)
        store.products[product.id] = product
        store.names.add(name.lower())
        store.skus.update(seen)
        return product

    def _add_variant(self, store: _Store, product_id: int, body: Any) -> tuple[int, JSON]:
        """``POST /catalog/products/{id}/variants``: one variant (``productVariant_Post``:
        ``sku`` and ``option_values`` required) added to a product the store has."""
        product = store.products.get(product_id)
        if product is None:
            return 404, _error(404, "The requested product was not found.")
        spec, errors = _parse_new_variant(body)
        if isinstance(body, dict) and not body.get("option_values"):
            errors["option_values"] = "required: the variant's option values"
        if isinstance(body, dict) and body.get("product_id") not in (None, product_id):
            errors["product_id"] = "must be the product of the path"
        if errors:
            return 422, _error(422, "The variant was not valid", errors)
        if len(product.variant_ids) >= MAX_VARIANTS:
            return 422, _error(
                422, "The product has too many variants", {"variants": f"at most {MAX_VARIANTS}"}
            )
        if spec["sku"].lower() in store.skus:
            return 409, _error(409, "The SKU is a duplicate", {"sku": f"{spec['sku']!r} is used"})
        self._next_variant_id += 1
        source = spec.pop("image_url", "")
        variant = _Variant(id=self._next_variant_id, product_id=product.id, **spec)
        if source:
            variant.image_url = self._cdn_url(store, "attribute_rule_images", source)
        store.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        product.has_options = True
        product.date_modified = _now_iso()
        store.skus.add(variant.sku.lower())
        return 200, {"data": self._variant_json(store, variant), "meta": {}}

    def _delete_variant(
        self, store: _Store, product_id: int, variant_id: int
    ) -> tuple[int, JSON | None]:
        variant = store.variants.get(variant_id)
        if variant is None or variant.product_id != product_id:
            return 404, _error(404, "The requested variant was not found.")
        try:
            self.delete_variant(store.hash, variant_id)
        except ValueError as exc:
            return 422, _error(422, "The variant cannot be deleted", {"id": str(exc)})
        store.products[product_id].date_modified = _now_iso()
        return 204, None

    def _delete_products(
        self, store: _Store, query: dict[str, list[str]]
    ) -> tuple[int, JSON | None]:
        """``DELETE /catalog/products?id:in=``: a filter is required (the spec's guard
        against deleting every product), at most 250 ids; ids the store lacks are ignored."""
        raw = [i for v in query.get("id:in", []) for i in v.split(",") if i]
        if not raw:
            return 422, _error(422, "A filter is required", {"id:in": "required"})
        if not all(i.isdigit() for i in raw) or len(raw) > MAX_DELETE:
            return 422, _error(
                422, "The filter is not valid", {"id:in": f"1 to {MAX_DELETE} product ids"}
            )
        for product_id in map(int, raw):
            if product_id in store.products:
                self.delete_product(store.hash, product_id)
        return 204, None

    def _variant_json(self, store: _Store, v: _Variant) -> JSON:
        p = store.products[v.product_id]
        base = v.price if v.price is not None else p.price
        sale = v.sale_price if v.sale_price is not None else p.sale_price
        calculated = sale if sale else base
        return {
            "id": v.id,
            "product_id": v.product_id,
            "sku": v.sku,
            "sku_id": v.id,
            "price": _money(v.price),
            "sale_price": _money(v.sale_price),
            "retail_price": _money(v.retail_price),
            "cost_price": _money(v.cost_price),
            "calculated_price": calculated / 100,
            "weight": v.weight,
            "width": None,
            "height": None,
            "depth": None,
            "is_free_shipping": False,
            "fixed_cost_shipping_price": None,
            "purchasing_disabled": False,
            "purchasing_disabled_message": "",
            "upc": v.upc,
            "inventory_level": v.inventory_level,
            "inventory_warning_level": 0,
            "bin_picking_number": "",
            "mpn": "",
            "gtin": v.gtin,
            "image_url": v.image_url,
            "option_values": [dict(o) for o in v.option_values],
        }

    def _product_json(
        self,
        store: _Store,
        p: _Product,
        *,
        with_variants: bool,
        include: frozenset[str] = frozenset(),
    ) -> JSON:
        """A product as the API answers it; ``include`` holds the other sub-resources
        asked for (``images``, ``primary_image``)."""
        variants = [store.variants[vid] for vid in p.variant_ids]
        data: JSON = {
            "id": p.id,
            "name": p.name,
            "type": p.type,
            "sku": p.sku,
            "description": p.description,
            "weight": p.weight,
            "width": 0,
            "depth": 0,
            "height": 0,
            "price": p.price / 100,
            "cost_price": p.cost_price / 100,
            "retail_price": p.retail_price / 100,
            "sale_price": p.sale_price / 100,
            "map_price": 0,
            "calculated_price": (p.sale_price or p.price) / 100,
            "categories": list(p.categories),
            "brand_id": p.brand_id,
            "inventory_level": min(MAX_INVENTORY, sum(v.inventory_level for v in variants)),
            "inventory_warning_level": 0,
            "inventory_tracking": p.inventory_tracking,
            "is_visible": p.is_visible,
            "upc": p.upc,
            "gtin": p.gtin,
            "mpn": p.mpn,
            "date_created": p.date_created,
            "date_modified": p.date_modified or p.date_created,
        }
        if not p.has_options and len(variants) == 1:
            data["base_variant_id"] = variants[0].id
        if with_variants:
            data["variants"] = [self._variant_json(store, v) for v in variants]
        if "images" in include:
            data["images"] = [dict(image) for image in p.images]
        if "primary_image" in include:
            primary = next((i for i in p.images if i["is_thumbnail"]), None)
            if primary is None and p.images:
                primary = p.images[0]
            if primary is not None:  # a product without images has none to show
                data["primary_image"] = dict(primary)
        return data

    def _update_variants(self, store: _Store, body: Any) -> tuple[int, JSON]:
        if not isinstance(body, list):
            return 422, _batch_error([("The request body must be a JSON array", {"body": "x"})])
        if len(body) > MAX_VARIANT_BATCH:
            return 413, {
                "errors": {},
                "status": 413,
                "title": "The request payload is too large. The maximum items allowed in the "
                f"array is {MAX_VARIANT_BATCH}",
                "type": ERROR_TYPE,
            }
        problems: list[tuple[str, dict[str, str]]] = []
        updates: list[tuple[_Variant, dict[str, Any]]] = []
        for i, item in enumerate(body):
            title, errors, changes = _parse_variant_update(store, i, item)
            if errors:
                problems.append((title, errors))
            else:
                updates.append((store.variants[item["id"]], changes))
        if problems:
            return 422, _batch_error(problems)
        now = _now_iso()
        for variant, changes in updates:  # all valid: apply the whole batch
            for key, value in changes.items():
                if key == "inventory_level":
                    variant.set_level(DEFAULT_LOCATION_ID, value)
                elif key == "image_url":  # the platform answers its own copy's URL
                    folder = "attribute_rule_images"
                    variant.image_url = value and self._cdn_url(store, folder, value)
                else:
                    setattr(variant, key, value)
            store.products[variant.product_id].date_modified = now
        return 200, {"data": [self._variant_json(store, v) for v, _ in updates], "meta": {}}

    def _update_products(self, store: _Store, body: Any) -> tuple[int, JSON]:
        """``PUT /catalog/products``: all or nothing, like the platform."""
        if not isinstance(body, list):
            return 422, _error(422, "The request body must be a JSON array", {"body": "x"})
        if len(body) > MAX_PRODUCT_BATCH:
            return 413, {
                "errors": {},
                "status": 413,
                "title": "The request payload is too large. The maximum items allowed in the "
                f"array is {MAX_PRODUCT_BATCH}.",
                "type": ERROR_TYPE,
            }
        missing: list[int] = []
        invalid: dict[str, str] = {}
        titles: list[str] = []
        updates: list[tuple[_Product, dict[str, Any]]] = []
        for i, item in enumerate(body):
            pid = item.get("id") if isinstance(item, dict) else None
            if isinstance(pid, bool) or not isinstance(pid, int):
                invalid["id"] = "required: an integer"
                titles.append(f"Item {i} has no product id")
                continue
            product = store.products.get(pid)
            if product is None:
                missing.append(pid)
                continue
            errors: dict[str, str] = {}
            changes: dict[str, Any] = {}
            if pid in store.rejected_products:
                key, message = store.rejected_products[pid]
                errors[key] = message
            if "name" in item:
                name = item["name"]
                if not isinstance(name, str) or not 1 <= len(name) <= 250:
                    errors["name"] = "must be a string of 1 to 250 characters"
                else:
                    changes["name"] = name
            for key in VARIANT_MONEY:
                if key in item:
                    cents = _parse_money_field(item, key, errors)
                    if cents is not None:
                        changes[key] = cents
            if "description" in item:
                if isinstance(item["description"], str):
                    changes["description"] = item["description"]
                else:
                    errors["description"] = "must be a string"
            if "brand_id" in item or "brand_name" in item:
                changes["brand"] = _parse_brand(item, errors)
            if "is_visible" in item:
                if isinstance(item["is_visible"], bool):
                    changes["is_visible"] = item["is_visible"]
                else:
                    errors["is_visible"] = "must be a boolean"
            if errors:
                invalid.update(errors)
                titles.append(f"Product {pid} is not valid")
            else:
                updates.append((product, changes))
        if missing:
            ids = ", ".join(str(m) for m in missing)
            return 404, {"status": 404, "title": f"Product(s) {ids} not found", "type": ERROR_TYPE}
        if invalid:
            return 422, _error(422, "; ".join(titles), invalid)
        for _, changes in updates:
            brand = changes.get("brand")
            if isinstance(brand, int) and brand and brand not in store.brands:
                return 409, _error(
                    409,
                    "The product is in conflict: its brand does not exist",
                    {"brand_id": f"no brand with id {brand}"},
                )
        # Names must stay unique: against other products and within the batch.
        renamed = {p.id: c["name"] for p, c in updates if "name" in c}
        taken = {p.name.lower(): p.id for p in store.products.values() if p.id not in renamed}
        for pid, name in renamed.items():
            other = taken.get(name.lower())
            if other is not None and other != pid:
                return 409, _error(
                    409, "The product name is a duplicate", {"name": f"{name!r} is already used"}
                )
            taken[name.lower()] = pid
        now = _now_iso()
        for product, changes in updates:
            if "name" in changes:
                store.names.discard(product.name.lower())
                store.names.add(changes["name"].lower())
            for key, value in changes.items():
                if key == "brand":  # a name attaches to (or creates) its brand
                    product.brand_id = (
                        self._brand_id(store, value) if isinstance(value, str) else value
                    )
                else:
                    setattr(product, key, value)
            product.date_modified = now
        return 200, {
            "data": [self._product_json(store, p, with_variants=False) for p, _ in updates],
            "meta": {},
        }

    def _adjust_inventory(self, store: _Store, body: Any) -> tuple[int, JSON]:
        """``PUT /inventory/adjustments/absolute``: all or nothing."""
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return 422, _error(422, "[items: a non-empty array is required]", {})
        if len(items) > MAX_ADJUSTMENT_ITEMS:
            return 422, _error(
                422, f"[The maximum items allowed in the payload is {MAX_ADJUSTMENT_ITEMS}]", {}
            )
        problems: list[str] = []
        sets: list[tuple[_Variant, int, int]] = []
        by_sku = {v.sku.lower(): v for v in store.variants.values() if v.sku}
        for i, item in enumerate(items):
            problem, target = _parse_adjustment(store, by_sku, i, item)
            if problem:
                problems.append(problem)
            elif target is not None:
                sets.append(target)
        if problems:
            return 422, _error(422, "[" + ", ".join(problems) + "]", {})
        now = _now_iso()
        for variant, location, quantity in sets:
            variant.set_level(location, quantity)
            store.products[variant.product_id].date_modified = now
        return 200, {"transaction_id": str(uuid.uuid4())}


def _valid_inventory(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INVENTORY


def _parse_money_field(item: JSON, key: str, errors: dict[str, str]) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        cents = _cents(value)
    except ValueError as exc:
        errors[key] = f"{exc} (got {value!r})"
        return None
    if cents < 0:
        errors[key] = f"must be greater than or equal to 0 (got {value!r})"
    return cents


def _parse_weight_field(item: JSON, key: str, errors: dict[str, str]) -> float | None:
    """A weight (JSON number >= 0) or None (the variant inherits the product's)."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[key] = f"must be a number (got {value!r})"
        return None
    if not 0 <= value <= MAX_WEIGHT:
        errors[key] = f"must be a number from 0 to {MAX_WEIGHT} (got {value!r})"
        return None
    return float(value)


def _image_url_problem(url: Any, max_length: int | None = None) -> str:
    """Why the platform could not download an image from ``url`` ("" when it can)."""
    if not isinstance(url, str) or not url:
        return "required: a publicly available image URL"
    if max_length is not None and len(url) > max_length:
        return f"must be at most {max_length} characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the image could not be downloaded: {url!r} is not a public http(s) URL"
    if parts.hostname == "invalid" or parts.hostname.endswith(".invalid"):
        return f"the image could not be downloaded from {url!r}: its host does not resolve"
    return ""


def _file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] or "image.jpg"


def _brand_named(store: _Store, name: str) -> int | None:
    """The id of the brand called ``name``; brand names ignore letter case."""
    folded = name.casefold()
    for brand_id, known in store.brands.items():
        if known.casefold() == folded:
            return brand_id
    return None


def _parse_brand(item: JSON, errors: dict[str, str]) -> int | str | None:
    """``brand_id`` (an int, 0 for none) or ``brand_name`` (a name); None when neither."""
    has_id, has_name = "brand_id" in item, "brand_name" in item
    if has_id and has_name:
        errors["brand_name"] = "use either brand_id or brand_name, not both"
        return None
    if has_id:
        brand_id = item["brand_id"]
        if isinstance(brand_id, bool) or not isinstance(brand_id, int) or brand_id < 0:
            errors["brand_id"] = f"must be an integer >= 0 (got {brand_id!r})"
            return None
        return brand_id
    if has_name:
        name = item["brand_name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_BRAND_NAME:
            errors["brand_name"] = f"must be a brand name of 1 to {MAX_BRAND_NAME} characters"
            return None
        return name
    return None


def _parse_new_variant(raw: Any) -> tuple[JSON, dict[str, str]]:
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        return {}, {"variant": "must be an object"}
    sku = raw.get("sku")
    if not isinstance(sku, str) or not sku or len(sku) > 255:
        errors["sku"] = "required: a non-empty string"
    upc = raw.get("upc", "")
    if upc is None:
        upc = ""
    if not isinstance(upc, str) or len(upc) > 14:
        errors["upc"] = "must be a string of at most 14 characters"
    gtin = raw.get("gtin") or ""
    if not isinstance(gtin, str) or len(gtin) > 14:
        errors["gtin"] = "must be a string of at most 14 characters"
    level = raw.get("inventory_level", 0)
    if level is None:
        level = 0
    if not _valid_inventory(level):
        errors["inventory_level"] = f"must be an integer from 0 to {MAX_INVENTORY}"
    options = raw.get("option_values") or []
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        errors["option_values"] = "must be an array of objects"
        options = []
    for j, option in enumerate(options):
        if "id" in option and "option_id" in option:
            continue  # an existing option value, by its ids
        # productVariantOptionValue_Full: both required on POST, 1 to 255 characters.
        for key in ("option_display_name", "label"):
            value = option.get(key)
            if not isinstance(value, str) or not 1 <= len(value) <= 255:
                errors[f"option_values.{j}.{key}"] = "required: a string of 1 to 255 characters"
    names = [o.get("option_display_name") for o in options]
    if len(set(map(str, names))) != len(names):
        errors["option_values"] = "an option may be given once per variant"
    image_url = raw.get("image_url") or ""
    problem = _image_url_problem(image_url) if image_url else ""
    if problem:
        errors["image_url"] = problem
    spec: JSON = {
        "sku": sku,
        "upc": upc,
        "gtin": gtin,
        "inventory_level": level,
        "option_values": [dict(o) for o in options],
        "weight": _parse_weight_field(raw, "weight", errors),
        "image_url": image_url,
    }
    for key in VARIANT_MONEY:
        spec[key] = _parse_money_field(raw, key, errors)
    return spec, errors


def _parse_variant_update(
    store: _Store, index: int, item: Any
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Validate one PUT item: ``(title, errors, changes)``; errors empty when valid."""
    if not isinstance(item, dict):
        return f"Item {index} is not an object", {"item": "must be an object"}, {}
    vid = item.get("id")
    if isinstance(vid, bool) or not isinstance(vid, int):
        return f"Item {index} has no variant id", {"id": "required: an integer"}, {}
    variant = store.variants.get(vid)
    if variant is None:
        return f"Variant {vid} was not found", {"id": f"no variant with id {vid}"}, {}
    errors: dict[str, str] = {}
    if vid in store.rejected_variants:
        key, message = store.rejected_variants[vid]
        errors[key] = message
    pid = item.get("product_id")
    if pid is not None and pid != variant.product_id:
        errors["product_id"] = f"variant {vid} belongs to product {variant.product_id}"
    changes: dict[str, Any] = {}
    for key in VARIANT_MONEY:
        if key in item:
            changes[key] = _parse_money_field(item, key, errors)
    if "inventory_level" in item:
        level = item["inventory_level"]
        if not _valid_inventory(level):
            errors["inventory_level"] = (
                f"must be an integer from 0 to {MAX_INVENTORY} (got {level!r})"
            )
        changes["inventory_level"] = level
    if "weight" in item:
        changes["weight"] = _parse_weight_field(item, "weight", errors)
    if "image_url" in item:
        url = item["image_url"]
        problem = "" if url == "" else _image_url_problem(url)
        if problem:
            errors["image_url"] = problem
        changes["image_url"] = url
    title = f"Variant {vid} is not valid" if errors else ""
    return title, errors, changes


def _parse_adjustment(
    store: _Store, by_sku: dict[str, _Variant], index: int, item: Any
) -> tuple[str, tuple[_Variant, int, int] | None]:
    """One absolute adjustment item: ``(problem, (variant, location, quantity))``."""
    if not isinstance(item, dict):
        return f"Item {index} is not an object", None
    location = item.get("location_id")
    if isinstance(location, bool) or not isinstance(location, int):
        return f"Item {index} has no location_id", None
    if location not in store.locations:
        return f"Location {location} does not exist", None
    quantity = item.get("quantity")
    if not _valid_inventory(quantity):
        quantity = None
    keys = [k for k in ("variant_id", "sku", "product_id") if k in item]
    if len(keys) != 1:
        return f"Item {index} needs exactly one of variant_id, sku, product_id", None
    key = keys[0]
    ident = item[key]
    if quantity is None:
        return (
            f"Item with {key} {ident}: quantity must be an integer from 0 to {MAX_INVENTORY}",
            None,
        )
    variant: _Variant | None
    if key == "variant_id":
        variant = store.variants.get(ident) if isinstance(ident, int) else None
    elif key == "sku":
        variant = by_sku.get(ident.lower()) if isinstance(ident, str) else None
    else:
        product = store.products.get(ident) if isinstance(ident, int) else None
        if product is None:
            return f"Item with product_id {ident} does not exist", None
        if product.has_options and product.inventory_tracking == "variant":
            return (
                f"Item with product_id {ident} is tracked by variant, please update stock by "
                "variant id",
                None,
            )
        # Product-level stock is one number: the sandbox keeps it on the first variant.
        return "", (store.variants[product.variant_ids[0]], location, quantity)
    if variant is None:
        return f"Item with {key} {ident} does not exist", None
    if variant.id in store.rejected_variants:
        return store.rejected_variants[variant.id][1], None
    product = store.products[variant.product_id]
    if product.inventory_tracking == "product":
        return (
            f"Item with variant_id {variant.id} is tracked by product, please update stock by "
            "product id",
            None,
        )
    return "", (variant, location, quantity)


def _batch_error(problems: list[tuple[str, dict[str, str]]]) -> JSON:
    return {
        "batch_errors": [
            {"status": 422, "title": title, "type": ERROR_TYPE, "errors": errors}
            for title, errors in problems
        ]
    }


def _error(status: int, title: str, errors: dict[str, str] | None = None) -> JSON:
    body: JSON = {"status": status, "title": title, "type": ERROR_TYPE}
    if errors is not None:
        body["errors"] = errors
    return body


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query[name][0])
    except (KeyError, IndexError, ValueError):
        return default


def _paginate(items: list[JSON], total: int, page: int, limit: int) -> JSON:
    total_pages = math.ceil(total / limit) if total else 0
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    return {
        "data": items,
        "meta": {
            "pagination": {
                "total": total,
                "count": len(items),
                "per_page": limit,
                "current_page": page,
                "total_pages": total_pages,
                "links": links,
            }
        },
    }


class _Handler(QuietHandler):
    store: SandboxStore  # set on the per-server subclass
    server_version = "feedsync-sandbox/1"

    def _send(
        self,
        method: str,
        status: int,
        body: JSON | None,
        headers: dict[str, str],
        content_type: str = "application/json",
    ) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        # Log first: once the client has the answer, the log must already show it.
        self.store._record(method, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self, method: str) -> None:
        """Close the connection without an answer (RST): a connection reset."""
        self.store._record(method, self.path, 0)
        self.close_connection = True
        with contextlib.suppress(OSError):  # the socket may already be gone
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        sandbox = self.store
        if len(parts) < 3 or parts[0] != "stores" or parts[2] != "v3":
            self._send(method, 404, _error(404, "The route is not found"), {})
            return
        with sandbox._lock:
            store = sandbox._stores.get(parts[1])
        if store is None:
            self._send(method, 404, _error(404, f"Store {parts[1]!r} not found"), {})
            return
        route = "/".join(parts[3:])
        with sandbox._lock:
            sandbox._counts[(method, _template(route))] += 1
        fault = sandbox._take_fault(route)
        delay = 0.0
        if fault is not None:
            if fault.kind == "reset":
                self._drop(method)
                return
            if fault.kind == "delay":
                delay = fault.delay_s
            elif fault.kind == "throttle":
                with sandbox._lock:
                    headers = sandbox._rate_headers(store)
                headers["X-Rate-Limit-Requests-Left"] = "0"
                headers["X-Rate-Limit-Time-Reset-Ms"] = str(max(1, round(fault.delay_s * 1000)))
                self._send(method, 429, _error(429, "Too many requests (injected)"), headers)
                return
            else:
                status = fault.status
                self._send(method, status, _error(status, "Injected fault"), fault.headers or {})
                return
        token = self.headers.get("X-Auth-Token")
        if token is None or not secrets.compare_digest(token, store.token):
            with sandbox._lock:
                headers = sandbox._rate_headers(store)
            title = "You are not authorized to access this store (missing or wrong X-Auth-Token)"
            self._send(method, 401, _error(401, title), headers)
            return
        allowed, headers = sandbox._consume_quota(store)
        if not allowed:
            with sandbox._lock:
                sandbox._rate_limited += 1
            self._send(method, 429, _error(429, "Too many requests: quota exhausted"), headers)
            return
        query = parse_qs(url.query)
        body: Any = None
        if method in ("PUT", "POST"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._send(method, 400, _error(400, "The request body is not valid JSON"), headers)
                return
            with sandbox._lock:
                store.writes.append((method, _template(route), body))
        adjusting = method == "PUT" and route == "inventory/adjustments/absolute"
        if adjusting:
            with sandbox._lock:
                busy, store.adjusting = store.adjusting, True
            if busy:
                title = (
                    "Another inventory adjustment of this store is being processed; "
                    "send adjustments one at a time"
                )
                self._send(method, 409, _error(409, title), headers)
                return
        try:
            wait = delay + (sandbox.inventory_processing_s if adjusting else 0.0)
            if wait > 0:
                time.sleep(wait)
            status, response = self._route(method, route, query, body, store)
        except Exception as exc:  # a sandbox bug must look like a platform 500, not a hang
            status, response = 500, _error(500, f"Internal sandbox error: {exc!r}")
        finally:
            if adjusting:
                with sandbox._lock:
                    store.adjusting = False
        problem = adjusting and status >= 400
        self._send(
            method,
            status,
            response,
            headers,
            "application/problem+json" if problem else "application/json",
        )

    def _route(
        self, method: str, route: str, query: dict[str, list[str]], body: Any, store: _Store
    ) -> tuple[int, JSON | None]:
        sandbox = self.store
        if route == "inventory/adjustments/absolute":
            if method != "PUT":
                return 405, _error(405, f"Method {method} is not allowed on /{route}")
            with sandbox._lock:
                return sandbox._adjust_inventory(store, body)
        parts = route.split("/")
        if parts[:2] == ["catalog", "products"] and len(parts) in (4, 5) and parts[2].isdigit():
            if parts[3] != "variants" or (len(parts) == 5 and not parts[4].isdigit()):
                return 404, _error(404, f"The route /{route} is not found")
            with sandbox._lock:
                if len(parts) == 4 and method == "POST":
                    return sandbox._add_variant(store, int(parts[2]), body)
                if len(parts) == 5 and method == "DELETE":
                    return sandbox._delete_variant(store, int(parts[2]), int(parts[4]))
            return 405, _error(405, f"Method {method} is not allowed on /{route}")
        if route == "catalog/products" and method == "DELETE":
            with sandbox._lock:
                return sandbox._delete_products(store, query)
        if len(parts) == 3 and parts[:2] == ["catalog", "products"] and parts[2].isdigit():
            if method != "GET":
                return 405, _error(405, f"Method {method} is not allowed on /{route}")
            include = {i for v in query.get("include", []) for i in v.split(",")}
            with sandbox._lock:
                product = store.products.get(int(parts[2]))
                if product is None:
                    return 404, {
                        "status": 404,
                        "title": "The requested product was not found.",
                        "type": ERROR_TYPE,
                    }
                data = sandbox._product_json(
                    store, product, with_variants="variants" in include, include=frozenset(include)
                )
            return 200, {"data": data, "meta": {}}
        if route not in ("catalog/products", "catalog/variants", "catalog/brands"):
            return 404, _error(404, f"The route /{route} is not found")
        page = max(1, _int_param(query, "page", 1))
        limit = _int_param(query, "limit", DEFAULT_PAGE_LIMIT)
        # Like the platform, a limit above 250 is capped rather than refused.
        limit = DEFAULT_PAGE_LIMIT if limit < 1 else min(limit, MAX_PAGE_LIMIT)
        start = (page - 1) * limit
        with sandbox._lock:
            if route == "catalog/products" and method == "GET":
                include = {i for v in query.get("include", []) for i in v.split(",")}
                try:
                    products = _modified_in(list(store.products.values()), query)
                except ValueError as exc:
                    return 422, _error(422, "The date filter is not valid", {"date": str(exc)})
                wanted = {i for v in query.get("id:in", []) for i in v.split(",") if i}
                if wanted:
                    products = [p for p in products if str(p.id) in wanted]
                skus = {i.lower() for v in query.get("sku:in", []) for i in v.split(",") if i}
                if skus:
                    products = [p for p in products if p.sku.lower() in skus]
                items = [
                    sandbox._product_json(
                        store, p, with_variants="variants" in include, include=frozenset(include)
                    )
                    for p in products[start : start + limit]
                ]
                return 200, _paginate(items, len(products), page, limit)
            if route == "catalog/products" and method == "POST":
                try:
                    product = sandbox._create_product(store, body)
                except _Invalid as exc:
                    return exc.status, _error(exc.status, exc.title, exc.errors)
                return 200, {
                    "data": sandbox._product_json(
                        store, product, with_variants=True, include=frozenset({"images"})
                    ),
                    "meta": {},
                }
            if route == "catalog/products" and method == "PUT":
                return sandbox._update_products(store, body)
            if route == "catalog/variants" and method == "GET":
                variants = list(store.variants.values())
                items = [sandbox._variant_json(store, v) for v in variants[start : start + limit]]
                return 200, _paginate(items, len(variants), page, limit)
            if route == "catalog/variants" and method == "PUT":
                return sandbox._update_variants(store, body)
            if route == "catalog/brands" and method == "GET":
                brands = sorted(store.brands.items())
                wanted = {i for v in query.get("id:in", []) for i in v.split(",") if i}
                if wanted:
                    brands = [b for b in brands if str(b[0]) in wanted]
                items = [_brand_json(i, n) for i, n in brands[start : start + limit]]
                return 200, _paginate(items, len(brands), page, limit)
        return 405, _error(405, f"Method {method} is not allowed on /{route}")


def _brand_json(brand_id: int, name: str) -> JSON:
    """A brand as ``GET /catalog/brands`` answers it (``brand_Full``)."""
    slug = "-".join(name.split())
    return {
        "id": brand_id,
        "name": name,
        "page_title": "",
        "meta_keywords": [""],
        "meta_description": "",
        "image_url": "",
        "search_keywords": "",
        "custom_url": {"url": f"/brands/{slug}.html", "is_customized": False},
    }


def _modified_in(products: list[_Product], query: dict[str, list[str]]) -> list[_Product]:
    """Products whose ``date_modified`` is within ``date_modified:min``/``:max`` (inclusive)."""
    low = query.get("date_modified:min")
    high = query.get("date_modified:max")
    if not low and not high:
        return products
    lo = _parse_when(low[0]) if low else None
    hi = _parse_when(high[0]) if high else None
    out = []
    for p in products:
        when = _parse_when(p.date_modified or p.date_created)
        if (lo is None or when >= lo) and (hi is None or when <= hi):
            out.append(p)
    return out
