"""A local, BigCommerce-v3-compatible store for the demo, the local stack and the tests.

Serves the subset of the Catalog API the connector uses, on loopback, from a stdlib
``ThreadingHTTPServer`` in a background thread::

    GET  /stores/{hash}/v3/catalog/products?include=variants&page=N&limit=L
    POST /stores/{hash}/v3/catalog/products
    GET  /stores/{hash}/v3/catalog/variants?page=N&limit=L
    PUT  /stores/{hash}/v3/catalog/variants

Platform behaviour reproduced (shapes follow BigCommerce's OpenAPI files):

* ``X-Auth-Token`` must equal the store's token (401 otherwise); unknown store -> 404.
* A fixed-window quota per store; every answer for a known store carries
  ``X-Rate-Limit-Requests-Left``, ``-Time-Reset-Ms``, ``-Requests-Quota`` and
  ``-Time-Window-Ms``; over the quota -> 429 with the same headers.
* ``PUT /catalog/variants``: at most 50 items (413). The spec documents 200, 413 and
  422 for this operation (no 207): one invalid item rejects the whole batch with 422
  ``{"batch_errors": [{"status", "title", "type", "errors"}, ...]}`` (one entry per
  invalid item) and nothing is applied.
* ``POST /catalog/products``: 422 for missing/invalid fields (spec-required: name, type,
  weight, price), 409 for a duplicate product name or SKU (the spec documents duplicate
  unique values as 409).

Money is held in integer cents and rendered as JSON numbers (``12.99``); variant money
fields are ``null`` when unset (the variant inherits the product's value).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedsync.local.httpserver import LoopbackServer

MAX_VARIANT_BATCH = 50
MAX_PAGE_LIMIT = 250
DEFAULT_PAGE_LIMIT = 50
MAX_INVENTORY = 2_147_483_647
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
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
    variant_ids: list[int] = field(default_factory=list)
    has_options: bool = False


@dataclass
class _Store:
    hash: str
    token: str
    products: dict[int, _Product] = field(default_factory=dict)
    variants: dict[int, _Variant] = field(default_factory=dict)
    skus: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    window_start: float = 0.0
    window_count: int = 0


class SandboxStore:
    """Loopback BigCommerce double. Use as a context manager or ``start()``/``stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        quota_requests: int = 150,
        quota_window_s: float = 30.0,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the sandbox store listens on loopback only, not {host!r}")
        self.host = host
        self.port = port
        self.quota_requests = quota_requests
        self.quota_window_s = quota_window_s
        self._lock = threading.RLock()
        self._stores: dict[str, _Store] = {}
        self._log: list[tuple[str, str, int]] = []
        self._faults: deque[tuple[int, dict[str, str] | None]] = deque()
        self._next_product_id = 100
        self._next_variant_id = 1000
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SandboxStore:
        if self._server is not None:
            return self
        sandbox = self

        class Handler(_Handler):
            store = sandbox

        server = LoopbackServer((self.host, self.port), Handler)
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SandboxStore:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox store is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

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
                created.append(self._product_json(store, product, with_variants=True))
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

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def fail_next(self, status: int, count: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``count`` requests (to any known store) with ``status``.

        The fault response carries exactly ``headers`` (no rate-limit headers unless given),
        consumes no quota and changes nothing; e.g. ``fail_next(429)`` is a platform-load 429.
        """
        with self._lock:
            for _ in range(count):
                self._faults.append((status, dict(headers) if headers else None))

    # -- internals (all under self._lock) --------------------------------------------------
    def _store(self, store_hash: str) -> _Store:
        try:
            return self._stores[store_hash]
        except KeyError:
            raise KeyError(f"no sandbox store {store_hash!r}") from None

    def _record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self._log.append((method, target, status))

    def _take_fault(self) -> tuple[int, dict[str, str] | None] | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _consume_quota(self, store: _Store) -> tuple[bool, dict[str, str]]:
        """Count one request in the store's window: ``(allowed, rate-limit headers)``."""
        with self._lock:
            now = time.monotonic()
            window = self.quota_window_s
            if store.window_count == 0 or now - store.window_start >= window:
                store.window_start = now
                store.window_count = 0
            allowed = store.window_count < self.quota_requests
            if allowed:
                store.window_count += 1
            return allowed, self._rate_headers(store, now)

    def _rate_headers(self, store: _Store, now: float | None = None) -> dict[str, str]:
        now = time.monotonic() if now is None else now
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
        raw_variants = body.get("variants") or []
        if not isinstance(raw_variants, list):
            errors["variants"] = "must be an array"
            raw_variants = []
        specs: list[JSON] = []
        for i, raw in enumerate(raw_variants):
            spec, verrs = _parse_new_variant(raw)
            errors.update({f"variants.{i}.{k}": v for k, v in verrs.items()})
            specs.append(spec)
        if errors:
            raise _Invalid("The product was not valid", errors)
        assert isinstance(name, str) and isinstance(sku, str)

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
        )
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
            variant = _Variant(id=self._next_variant_id, product_id=product.id, **spec)
            store.variants[variant.id] = variant
            product.variant_ids.append(variant.id)
        store.products[product.id] = product
        store.names.add(name.lower())
        store.skus.update(seen)
        return product

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
            "weight": None,
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
            "option_values": [dict(o) for o in v.option_values],
        }

    def _product_json(self, store: _Store, p: _Product, *, with_variants: bool) -> JSON:
        variants = [store.variants[vid] for vid in p.variant_ids]
        data: JSON = {
            "id": p.id,
            "name": p.name,
            "type": p.type,
            "sku": p.sku,
            "description": "",
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
            "categories": [],
            "inventory_level": min(MAX_INVENTORY, sum(v.inventory_level for v in variants)),
            "inventory_warning_level": 0,
            "inventory_tracking": p.inventory_tracking,
            "is_visible": True,
            "upc": p.upc,
            "gtin": p.gtin,
            "mpn": p.mpn,
            "date_created": p.date_created,
            "date_modified": p.date_created,
        }
        if not p.has_options and len(variants) == 1:
            data["base_variant_id"] = variants[0].id
        if with_variants:
            data["variants"] = [self._variant_json(store, v) for v in variants]
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
        for variant, changes in updates:  # all valid: apply the whole batch
            for key, value in changes.items():
                setattr(variant, key, value)
        return 200, {"data": [self._variant_json(store, v) for v, _ in updates], "meta": {}}


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
    spec: JSON = {
        "sku": sku,
        "upc": upc,
        "gtin": gtin,
        "inventory_level": level,
        "option_values": [dict(o) for o in options],
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
    title = f"Variant {vid} is not valid" if errors else ""
    return title, errors, changes


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


class _Handler(BaseHTTPRequestHandler):
    store: SandboxStore  # set on the per-server subclass
    protocol_version = "HTTP/1.1"
    server_version = "feedsync-sandbox/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, method: str, status: int, body: JSON | None, headers: dict[str, str]) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        # Log first: once the client has the answer, the log must already show it.
        self.store._record(method, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

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
        fault = sandbox._take_fault()
        if fault is not None:
            status, fault_headers = fault
            self._send(method, status, _error(status, "Injected fault"), fault_headers or {})
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
            self._send(method, 429, _error(429, "Too many requests: quota exhausted"), headers)
            return
        route = "/".join(parts[3:])
        query = parse_qs(url.query)
        body: Any = None
        if method in ("PUT", "POST"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._send(method, 400, _error(400, "The request body is not valid JSON"), headers)
                return
        try:
            status, response = self._route(method, route, query, body, store)
        except Exception as exc:  # a sandbox bug must look like a platform 500, not a hang
            status, response = 500, _error(500, f"Internal sandbox error: {exc!r}")
        self._send(method, status, response, headers)

    def _route(
        self, method: str, route: str, query: dict[str, list[str]], body: Any, store: _Store
    ) -> tuple[int, JSON]:
        sandbox = self.store
        if route not in ("catalog/products", "catalog/variants"):
            return 404, _error(404, f"The route /{route} is not found")
        page = max(1, _int_param(query, "page", 1))
        limit = _int_param(query, "limit", DEFAULT_PAGE_LIMIT)
        # Like the platform, a limit above 250 is capped rather than refused.
        limit = DEFAULT_PAGE_LIMIT if limit < 1 else min(limit, MAX_PAGE_LIMIT)
        start = (page - 1) * limit
        with sandbox._lock:
            if route == "catalog/products" and method == "GET":
                include = {i for v in query.get("include", []) for i in v.split(",")}
                products = list(store.products.values())
                items = [
                    sandbox._product_json(store, p, with_variants="variants" in include)
                    for p in products[start : start + limit]
                ]
                return 200, _paginate(items, len(products), page, limit)
            if route == "catalog/products" and method == "POST":
                try:
                    product = sandbox._create_product(store, body)
                except _Invalid as exc:
                    return exc.status, _error(exc.status, exc.title, exc.errors)
                return 200, {
                    "data": sandbox._product_json(store, product, with_variants=True),
                    "meta": {},
                }
            if route == "catalog/variants" and method == "GET":
                variants = list(store.variants.values())
                items = [sandbox._variant_json(store, v) for v in variants[start : start + limit]]
                return 200, _paginate(items, len(variants), page, limit)
            if route == "catalog/variants" and method == "PUT":
                return sandbox._update_variants(store, body)
        return 405, _error(405, f"Method {method} is not allowed on /{route}")
