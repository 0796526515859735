"""A local Shopify Admin GraphQL double for the tests, the demo and the benchmarks.

Serves, on loopback, as a ``LoopbackService`` (a stdlib ``ThreadingHTTPServer`` in a
background thread)::

    POST /admin/api/{version}/graphql.json    the Admin GraphQL endpoint
    POST /_staged_uploads                     staged upload target (multipart form, GCS-like)
    GET  /_bulk/{id}.jsonl                    bulk operation result files

Every document is parsed and validated against Shopify's real schema (the SDL in
``../shared/specs``; built once per process) with graphql-core, so a connector cannot
send a field or argument Shopify does not have. Valid documents are executed by
graphql-core over plain dicts; the subset with real behaviour behind it is:

* ``products(first|last, after, query, sortKey, reverse)`` with ``variants`` (paginated),
  ``product(id)``, ``location`` (no id: the primary location), ``locations``, ``node``/``nodes``
  (Product, ProductVariant, InventoryItem, Location, BulkOperation), ``currentBulkOperation``,
  ``shop`` (``weightUnit``: the constructor's ``weight_unit``).
  The ``query`` filter understands ``updated_at`` / ``created_at`` comparisons
  (``:``, ``:>``, ``:>=``, ``:<``, ``:<=``), ``sku:`` and ``id:``; other terms match nothing.
* Content: a product's ``descriptionHtml`` (kept as sent; ``description`` is its text),
  ``vendor``, ``media`` (MediaImage) and ``featuredMedia``; a variant's ``image`` /
  ``media`` and its inventory item's ``measurement.weight`` (value and unit; 0 in the shop's
  unit until set, as Shopify answers). Images are re-hosted like Shopify does: an image
  read back has a ``cdn.shopify.com`` URL, never the URL it was created from.
* ``productVariantsBulkUpdate`` (price, compareAtPrice, barcode, inventoryItem.cost/sku,
  inventoryItem.measurement.weight, ``mediaSrc`` naming one of the ``media`` the same call
  creates; ``allowPartialUpdates``; userErrors point at ``["variants", "<i>", field]`` or
  ``["media", "<j>", field]``).
* ``productUpdate`` (``product:`` or the deprecated ``input:``; title, descriptionHtml,
  vendor, status (``ProductStatus``: a product is ACTIVE unless seeded otherwise);
  userErrors ``{field, message}``, nothing changed when there is one).
* ``inventorySetQuantities`` (name ``available``/``on_hand``, compare-and-set with
  ``compareQuantity``; all-or-nothing: any userError leaves every quantity unchanged).
* ``stagedUploadsCreate`` (BULK_MUTATION_VARIABLES) + the upload endpoint,
  ``bulkOperationRunMutation`` of ``productVariantsBulkUpdate`` or ``productUpdate`` run on a
  worker thread (one mutation at a time), result JSONL lines ``{"data": ..., "__lineNumber":
  n}``; ``objectCount`` grows as lines run, ``bulk_durations()`` says how long each took.
* ``bulkOperationRunQuery``: the inner query is parsed and validated against the schema and
  Shopify's bulk rules (one query operation, no variables, one top-level field other than
  ``node``/``nodes``, 1-5 connections nested at most 2 deep, ``id`` on the parent of a nested
  connection), then run on a worker thread with every connection in full (page arguments
  ignored). Each connection node is one JSONL line; a nested connection's nodes follow their
  parent's line and name it with ``__parentId``. One bulk query at a time per shop, beside
  (not instead of) the one bulk mutation. ``hold_bulk_operations()`` keeps new ones CREATED.
* ``delete_product`` / ``delete_variant``: a product (with its variants) or one variant is
  gone; writes naming it answer as Shopify does for ids that do not exist
  (``PRODUCT_DOES_NOT_EXIST`` / ``PRODUCT_VARIANT_DOES_NOT_EXIST``, ``INVALID_INVENTORY_ITEM``,
  productUpdate's ``["id"]`` "Product does not exist") and ``node``/``nodes`` read null.
* Stock levels per (inventory item, location): ``add_location`` stocks every item there,
  ``unstock`` removes a level (``inventoryLevel`` reads null, ``inventorySetQuantities``
  answers ``ITEM_NOT_STOCKED_AT_LOCATION``), ``set_available`` (re)stocks.

Query cost (an approximation of Shopify's published rules): scalars and enums 0, objects 1,
connections ``2 + first x (cost of one node)`` (``pageInfo``/``edges`` wrappers free), lists
of objects ``len(ids)`` or 1 x child cost, each mutation field 10 (payload included). The
actual cost counts what came back (``2 + returned nodes x node cost``). More than 1,000
requested -> ``MAX_COST_EXCEEDED``. A leaky bucket (``maximum_available``, ``restore_rate``)
holds the requested cost while executing and refunds the difference; a request whose cost
exceeds what is available is answered HTTP 200 ``errors[0].extensions.code == "THROTTLED"``.
Every answer carries ``extensions.cost`` with ``throttleStatus``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    execute_sync,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)

from feedsync_local.httpserver import LoopbackService, QuietHandler
from feedsync_local.shopify_create import creation_mutations
from feedsync_local.specs import specs_dir

JSON = dict[str, Any]
Info = GraphQLResolveInfo[Any]

MAX_QUERY_COST = 1000
MAX_PAGE = 250
MAX_BULK_VARIANTS = 250
MUTATION_COST = 10
BULK_MUTATIONS = frozenset(
    {"productVariantsBulkUpdate", "productUpdate", "productSet", "productDelete"}
)
WEIGHT_UNITS = frozenset({"GRAMS", "KILOGRAMS", "OUNCES", "POUNDS"})
MAX_NAME_LENGTH = 255  # a product's title and vendor
CDN_FILES = "https://cdn.shopify.com/s/files/1/0000/0001/files"
SCHEMA_FILE = "shopify_admin_schema.graphql"
_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")

# -- the schema (built once per process) ---------------------------------------------------
_schema_lock = threading.Lock()
_schemas: dict[Path, GraphQLSchema] = {}


def schema_path() -> Path:
    """The Admin schema in ``specs_dir()``: read there, never copied."""
    return specs_dir() / SCHEMA_FILE


def load_schema(path: Path | str | None = None) -> GraphQLSchema:
    """Shopify's Admin schema, built on first use (about 2 s) and cached by path."""
    resolved = Path(path or schema_path()).resolve()
    with _schema_lock:
        schema = _schemas.get(resolved)
        if schema is None:
            schema = build_schema(resolved.read_text(encoding="utf-8"), assume_valid=True)
            _schemas[resolved] = schema
        return schema


# -- ids, money, times ---------------------------------------------------------------------
def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: Any, kind: str) -> int | None:
    """The numeric id of ``gid://shopify/<kind>/<n>`` (None when it is anything else)."""
    if not isinstance(value, str):
        return None
    prefix = f"gid://shopify/{kind}/"
    if not value.startswith(prefix):
        return None
    tail = value[len(prefix) :].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def _to_cents(value: Any) -> int:
    """A money value (``"12.99"``, 12.99, Decimal) -> integer cents; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"{value!r} is not a decimal amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a decimal amount")
    return int(amount.scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _money(cents: int | None) -> str | None:
    """Shopify's Money scalar: a decimal string with two places (``"12.90"``)."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().strip("'\"").replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cursor(number: int) -> str:
    return base64.b64encode(json.dumps({"last_id": number}).encode()).decode()


def _uncursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        return int(json.loads(base64.b64decode(cursor.encode()))["last_id"])
    except (ValueError, KeyError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from None


# -- store state -----------------------------------------------------------------------------
@dataclass
class _Variant:
    id: int
    product_id: int
    inventory_item_id: int
    sku: str | None
    barcode: str | None
    price: int
    compare_at_price: int | None
    cost: int | None
    title: str
    updated_at: str
    weight: Decimal = Decimal(0)
    weight_unit: str = "KILOGRAMS"
    media_id: int | None = None  # the variant's image
    option_values: list[str] = field(default_factory=list)  # one per product option, in order


@dataclass
class _Product:
    id: int
    title: str
    created_at: str
    updated_at: str
    variant_ids: list[int] = field(default_factory=list)
    description_html: str = ""
    vendor: str = ""
    media_ids: list[int] = field(default_factory=list)
    status: str = "ACTIVE"  # ProductStatus: ACTIVE, ARCHIVED or DRAFT
    # ProductOption name -> its values, in position order (Shopify's "Title" for one variant).
    options: list[tuple[str, list[str]]] = field(default_factory=list)
    collection_ids: list[int] = field(default_factory=list)


@dataclass
class _Media:
    """A MediaImage: created from ``source``, served from Shopify's CDN at ``url``."""

    id: int
    product_id: int
    source: str
    url: str
    alt: str | None = None
    status: str = "READY"  # MediaStatus; FAILED when the source could not be downloaded
    error: str | None = None  # MediaErrorCode of a FAILED one


@dataclass
class _BulkOperation:
    id: int
    type: str
    query: str
    status: str = "CREATED"
    created_at: str = field(default_factory=_now)
    completed_at: str | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    partial_data_url: str | None = None
    client_identifier: str | None = None
    files_url: str = ""  # where result files are served (fixed at creation: stop() may come first)
    created_s: float = field(default_factory=time.monotonic)  # for bulk_durations()
    completed_s: float | None = None


@dataclass
class _Fault:
    kind: str  # "status", "throttled", "reset", "slow"
    status: int = 0
    delay_s: float = 0.0
    retry_after: float | None = None


@dataclass
class _Loc:
    id: int


@dataclass
class _Collection:
    id: int
    title: str


class ShopifyDouble(LoopbackService):
    """Loopback Shopify Admin GraphQL double. Use as a context manager or ``start()``/``stop()``.

    ``shop_url`` is what the connector takes; ``access_token`` the token it must send.
    """

    name = "the Shopify double"
    bulk_query_chunk = 250  # root objects a bulk query executes per hold of the lock

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_token: str | None = None,
        maximum_available: float = 2000.0,
        restore_rate: float = 100.0,
        max_query_cost: int = MAX_QUERY_COST,
        bulk_line_delay_s: float = 0.0,
        schema_file: Path | str | None = None,
        weight_unit: str = "KILOGRAMS",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``weight_unit``: the shop's ``weightUnit`` (new variants weigh 0 in it). ``clock``:
        monotonic seconds the cost bucket refills in (tests share a virtual one with the
        connector, so a refill passes without waiting for it)."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the Shopify double listens on loopback only, not {host!r}")
        if weight_unit not in WEIGHT_UNITS:
            raise ValueError(f"weight_unit must be one of {sorted(WEIGHT_UNITS)}")
        super().__init__(host, port)
        self.weight_unit = weight_unit
        self.access_token = access_token or "shpat_" + secrets.token_hex(16)
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self.max_query_cost = max_query_cost
        self.bulk_line_delay_s = bulk_line_delay_s
        self.schema = load_schema(schema_file)
        self._lock = threading.RLock()
        self._clock = clock
        self._started = clock()
        self._available = self.maximum_available
        self._bucket_t = self._started
        self._products: dict[int, _Product] = {}
        self._variants: dict[int, _Variant] = {}
        self._item_variant: dict[int, int] = {}
        self._media: dict[int, _Media] = {}
        self._levels: dict[tuple[int, int], dict[str, int]] = {}
        self._locations: dict[int, str] = {}
        self._collections: dict[int, _Collection] = {}
        self._broken_images: dict[str, str] = {}
        self._primary_location = 0
        self._ids = itertools.count(1)
        self._uploads: dict[str, bytes] = {}
        self._upload_keys: dict[str, str] = {}  # key -> signature the form must carry
        self._results: dict[str, bytes] = {}
        self._bulk: dict[int, _BulkOperation] = {}
        self._bulk_threads: list[threading.Thread] = []
        self._faults: deque[_Fault] = deque()
        self._bulk_faults: deque[tuple[str, int]] = deque()
        self._rejections: dict[int, tuple[str, str, str]] = {}
        self._product_rejections: dict[int, tuple[str, str]] = {}
        self._log: list[JSON] = []
        self._documents: list[JSON] = []
        self._by_field: Counter[str] = Counter()
        self._by_operation: Counter[str] = Counter()
        self._points_spent = 0
        self._points_requested = 0
        self._throttled = 0
        self._available_samples: list[tuple[float, float]] = []
        self._secret = secrets.token_bytes(16)
        self._bulk_gate = threading.Event()
        self._bulk_gate.set()
        self._bulk_local = threading.local()
        self._query_root = {
            "products": self._q_products,
            "product": self._q_product,
            "productVariant": self._q_variant,
            "inventoryItem": self._q_inventory_item,
            "location": self._q_location,
            "locations": self._q_locations,
            "node": self._q_node,
            "nodes": self._q_nodes,
            "currentBulkOperation": self._q_current_bulk,
            "shop": self._q_shop,
        }
        self._mutation_root = {
            "productVariantsBulkUpdate": self._m_variants_bulk_update,
            "productUpdate": self._m_product_update,
            "inventorySetQuantities": self._m_inventory_set,
            "stagedUploadsCreate": self._m_staged_uploads,
            "bulkOperationRunMutation": self._m_bulk_run,
            "bulkOperationRunQuery": self._m_bulk_run_query,
            **creation_mutations(self),
        }
        self.add_location("Shop location", primary=True)

    # -- lifecycle --------------------------------------------------------------------------
    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"shop": self})

    def stop(self) -> None:
        """Stop serving, then let running bulk operations finish (held ones are released)."""
        super().stop()
        self._bulk_gate.set()
        for worker in list(self._bulk_threads):
            worker.join(timeout=5)

    @property
    def shop_url(self) -> str:
        """What ``ShopifyConnector`` takes as ``shop_url`` (it appends ``/admin/api/...``)."""
        return self.base_url

    # -- seeding and inspection --------------------------------------------------------------
    def add_location(self, name: str, *, primary: bool = False) -> int:
        """A stock location; returns its numeric id. Every inventory item is stocked at all."""
        with self._lock:
            number = 70_000_000_000 + next(self._ids)
            self._locations[number] = name
            if primary or not self._primary_location:
                self._primary_location = number
            for item in self._item_variant:
                self._levels.setdefault((item, number), {"available": 0, "on_hand": 0})
            return number

    def add_collection(self, title: str) -> int:
        """A manual collection products can join (``productSet``'s ``collections``)."""
        with self._lock:
            number = 480_000_000_000 + next(self._ids)
            self._collections[number] = _Collection(number, title)
            return number

    def collection_members(self, collection_id: int) -> list[int]:
        with self._lock:
            return [p.id for p in self._products.values() if collection_id in p.collection_ids]

    def break_image_url(self, url: str, code: str = "IMAGE_DOWNLOAD_FAILURE") -> None:
        """Media created from ``url`` end FAILED with ``code`` (the product is kept)."""
        with self._lock:
            self._broken_images[url] = code

    @property
    def primary_location_id(self) -> int:
        return self._primary_location

    def seed(self, products: Iterable[Mapping[str, Any]]) -> list[JSON]:
        """Create products without HTTP or cost.

        Each product: ``{"title", "updated_at"?: ISO-8601, "description_html", "vendor",
        "variants": [{"sku", "barcode", "price": "12.99", "compare_at_price", "cost",
        "available": int, "weight": "0.25", "weight_unit"?: "GRAMS", "image": URL}]}``
        (money as decimal strings or numbers; a weight in the shop's unit unless given; an
        image becomes a media of the product; a product without variants gets one default
        variant). Returns ``[{"id", "title", "updated_at", "variants": [{"id",
        "inventory_item_id", "sku", ...}]}]`` with numeric ids.
        """
        created = []
        with self._lock:
            for spec in products:
                created.append(self._create_product(spec))
        return created

    def seed_catalog(
        self,
        products: int,
        variants_per_product: int = 1,
        *,
        price: str = "10.00",
        available: int = 5,
        sku_prefix: str = "SKU",
        updated_at: str | None = None,
    ) -> list[JSON]:
        """``products`` products with ``variants_per_product`` variants each (benchmarks)."""
        return self.seed(
            {
                "title": f"Product {p}",
                "updated_at": updated_at,
                "variants": [
                    {
                        "sku": f"{sku_prefix}-{p}-{v}",
                        "price": price,
                        "available": available,
                    }
                    for v in range(variants_per_product)
                ],
            }
            for p in range(products)
        )

    def variant(self, variant_id: int) -> JSON:
        """Snapshot of one variant: money as decimal strings, stock at the primary location."""
        with self._lock:
            v = self._variants[variant_id]
            return {
                "id": v.id,
                "product_id": v.product_id,
                "inventory_item_id": v.inventory_item_id,
                "sku": v.sku,
                "barcode": v.barcode,
                "price": _money(v.price),
                "compare_at_price": _money(v.compare_at_price),
                "cost": _money(v.cost),
                "available": (
                    self._levels.get((v.inventory_item_id, self._primary_location)) or {}
                ).get("available"),
                "updated_at": v.updated_at,
                "weight": format(v.weight.normalize(), "f"),
                "weight_unit": v.weight_unit,
                "image_url": None if v.media_id is None else self._media[v.media_id].url,
                "image_source": None if v.media_id is None else self._media[v.media_id].source,
                "options": dict(
                    zip(
                        [name for name, _ in self._products[v.product_id].options],
                        v.option_values,
                        strict=False,
                    )
                ),
            }

    def product_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._products)

    def product(self, product_id: int) -> JSON:
        """Snapshot of one product: its content and media (``{"id", "source", "url"}``)."""
        with self._lock:
            p = self._products[product_id]
            return {
                "id": p.id,
                "title": p.title,
                "description_html": p.description_html,
                "vendor": p.vendor,
                "status": p.status,
                "updated_at": p.updated_at,
                "variant_ids": list(p.variant_ids),
                "options": {name: list(values) for name, values in p.options},
                "collection_ids": list(p.collection_ids),
                "media": [
                    {"id": m.id, "source": m.source, "url": m.url, "status": m.status}
                    for m in (self._media[i] for i in p.media_ids)
                ],
            }

    def available(self, inventory_item_id: int, location_id: int | None = None) -> int:
        """Stock at a location (the primary one by default); KeyError when not stocked there."""
        with self._lock:
            loc = location_id or self._primary_location
            level = self._levels.get((inventory_item_id, loc))
            if level is None:
                raise KeyError(f"inventory item {inventory_item_id} is not stocked at {loc}")
            return level["available"]

    def set_available(
        self, inventory_item_id: int, quantity: int, location_id: int | None = None
    ) -> None:
        """Change stock behind the connector's back (a sale, another app); stocks the item
        at the location first when it was not."""
        with self._lock:
            loc = location_id or self._primary_location
            level = self._levels.setdefault(
                (inventory_item_id, loc), {"available": 0, "on_hand": 0}
            )
            level["on_hand"] += quantity - level["available"]
            level["available"] = quantity

    def unstock(self, inventory_item_id: int, location_id: int | None = None) -> None:
        """The item is no longer stocked at the location (``inventoryLevel`` reads null)."""
        with self._lock:
            self._levels.pop((inventory_item_id, location_id or self._primary_location), None)

    def set_updated_at(self, product_id: int, updated_at: str) -> None:
        with self._lock:
            self._products[product_id].updated_at = updated_at

    def delete_product(self, product_id: int) -> None:
        """The merchant deletes a product (``productDelete``): its variants, their inventory
        items and its media go with it. It no longer reads (``product``/``node`` null, not in
        ``products``); a write naming it gets the schema's "does not exist" userErrors."""
        with self._lock:
            product = self._products.pop(product_id)
            for variant_id in list(product.variant_ids):
                self._drop_variant(variant_id)
            for media_id in product.media_ids:
                self._media.pop(media_id, None)

    def delete_variant(self, variant_id: int) -> None:
        """The merchant deletes one variant of a product that has others
        (``productVariantsBulkDelete``); its inventory item goes with it. Nothing else
        changes (the product's ``updatedAt`` stays), so a range read does not see it."""
        with self._lock:
            product = self._products[self._variants[variant_id].product_id]
            if len(product.variant_ids) < 2:
                raise ValueError(f"variant {variant_id} is its product's only one")
            product.variant_ids.remove(variant_id)
            self._drop_variant(variant_id)

    def _drop_variant(self, variant_id: int) -> None:
        variant = self._variants.pop(variant_id)
        self._item_variant.pop(variant.inventory_item_id, None)
        for key in [k for k in self._levels if k[0] == variant.inventory_item_id]:
            del self._levels[key]

    # -- faults -----------------------------------------------------------------------------
    def fail_next(
        self,
        fault: str | int,
        count: int = 1,
        *,
        delay_s: float = 0.0,
        retry_after: float | None = None,
    ) -> None:
        """Spoil the next ``count`` GraphQL requests (uploads and downloads are not affected).

        ``fault``: an HTTP status (500, 502, 503, 429: ``retry_after`` sets ``Retry-After``),
        ``"throttled"`` (HTTP 200 THROTTLED with the real bucket status), ``"reset"`` (the
        connection is reset before any answer; nothing executed), ``"reset_after"`` (executed,
        then the connection is reset: the client never sees the answer) or ``"slow"``
        (answered normally after ``delay_s``).
        """
        kinds = {"throttled", "reset", "reset_after", "slow"}
        if isinstance(fault, int):
            item = _Fault("status", status=fault, retry_after=retry_after)
        elif fault in kinds:
            item = _Fault(fault, delay_s=delay_s)
        else:
            raise ValueError(f"unknown fault {fault!r}; use an HTTP status or one of {kinds}")
        with self._lock:
            self._faults.extend(item for _ in range(count))

    def reject_product(self, product_id: int, message: str, *, field: str = "title") -> None:
        """Every later productUpdate of this product gets this userError (``[field]``)."""
        with self._lock:
            self._product_rejections[product_id] = (message, field)

    def reject_variant(
        self, variant_id: int, message: str, *, field: str = "price", code: str = "INVALID_INPUT"
    ) -> None:
        """Every later update of this variant gets this userError (``["variants", i, field]``)."""
        with self._lock:
            self._rejections[variant_id] = (message, field, code)

    def clear_rejections(self) -> None:
        """Writes of every product and variant are accepted again."""
        with self._lock:
            self._rejections.clear()
            self._product_rejections.clear()

    def fail_next_bulk(
        self, error_code: str = "INTERNAL_SERVER_ERROR", after_lines: int = 0
    ) -> None:
        """The next bulk operation (query or mutation) FAILS with ``error_code`` after
        ``after_lines`` result lines (those are left at ``partialDataUrl``)."""
        with self._lock:
            self._bulk_faults.append((error_code, after_lines))

    def set_bucket(
        self,
        *,
        currently_available: float | None = None,
        maximum_available: float | None = None,
        restore_rate: float | None = None,
    ) -> None:
        with self._lock:
            self._refill()
            if maximum_available is not None:
                self.maximum_available = float(maximum_available)
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)
            if currently_available is not None:
                self._available = float(currently_available)
            self._available = min(self._available, self.maximum_available)

    # -- counters ---------------------------------------------------------------------------
    def requests_log(self) -> list[JSON]:
        """One entry per HTTP request: ``{"method", "path", "status", "operation", "fields",
        "code", "requested", "actual"}`` (GraphQL fields only for GraphQL requests)."""
        with self._lock:
            return [dict(e) for e in self._log]

    def documents(self) -> list[JSON]:
        """Every GraphQL document received: ``{"query", "variables", "operationName",
        "valid", "bulk"}``; ``bulk`` marks a mutation run line by line by a bulk operation."""
        with self._lock:
            return [dict(d) for d in self._documents]

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._documents.clear()

    def stats(self) -> JSON:
        """Benchmark counters since start: ``requests`` (HTTP), ``graphql_requests``,
        ``by_field`` (root field name -> count), ``by_operation``, ``points_spent``
        (sum of actual costs), ``points_requested``, ``throttled``, ``available``
        (``[(seconds since start, points available after the request)]``),
        ``maximum_available``, ``restore_rate``."""
        with self._lock:
            return {
                "requests": len(self._log),
                "graphql_requests": sum(1 for e in self._log if e.get("graphql")),
                "by_field": dict(self._by_field),
                "by_operation": dict(self._by_operation),
                "points_spent": self._points_spent,
                "points_requested": self._points_requested,
                "throttled": self._throttled,
                "available": list(self._available_samples),
                "maximum_available": self.maximum_available,
                "restore_rate": self.restore_rate,
            }

    def bulk_operations(self) -> list[JSON]:
        with self._lock:
            return [self._bulk_view(op) for op in self._bulk.values()]

    def uploaded_files(self) -> list[bytes]:
        """The files uploaded to staged targets (bulk mutation variables), in order."""
        with self._lock:
            return list(self._uploads.values())

    def bulk_durations(self) -> list[float | None]:
        """Per bulk operation, in creation order: seconds from its creation to its end (None
        while it runs), on a monotonic clock (``completedAt`` has whole seconds only)."""
        with self._lock:
            return [
                None if op.completed_s is None else op.completed_s - op.created_s
                for op in self._bulk.values()
            ]

    def hold_bulk_operations(self) -> None:
        """Bulk operations started from now on stay CREATED (in progress) until released."""
        self._bulk_gate.clear()

    def release_bulk_operations(self) -> None:
        self._bulk_gate.set()

    def wait_bulk_idle(self, timeout_s: float = 30.0) -> None:
        for worker in list(self._bulk_threads):
            worker.join(timeout=timeout_s)

    # -- bucket -----------------------------------------------------------------------------
    def _refill(self) -> float:
        now = self._clock()
        self._available = min(
            self.maximum_available, self._available + (now - self._bucket_t) * self.restore_rate
        )
        self._bucket_t = now
        return now

    def _throttle_status(self) -> JSON:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(self._available),
            "restoreRate": self.restore_rate,
        }

    # -- creating ---------------------------------------------------------------------------
    def _create_product(self, spec: Mapping[str, Any]) -> JSON:
        number = 8_000_000_000_000 + next(self._ids)
        stamp = spec.get("updated_at") or _now()
        product = _Product(number, str(spec.get("title") or f"Product {number}"), stamp, stamp)
        product.description_html = str(spec.get("description_html") or "")
        product.vendor = str(spec.get("vendor") or "")
        product.status = str(spec.get("status") or "ACTIVE")
        self._products[number] = product
        variant_specs = list(spec.get("variants") or [{}])
        out_variants = []
        for i, vs in enumerate(variant_specs):
            variant = _Variant(
                id=44_000_000_000_000 + next(self._ids),
                product_id=number,
                inventory_item_id=46_000_000_000_000 + next(self._ids),
                sku=vs.get("sku"),
                barcode=vs.get("barcode"),
                price=_to_cents(vs.get("price", "0.00")),
                compare_at_price=None
                if vs.get("compare_at_price") is None
                else _to_cents(vs["compare_at_price"]),
                cost=None if vs.get("cost") is None else _to_cents(vs["cost"]),
                title=str(vs.get("title") or ("Default Title" if len(variant_specs) == 1 else i)),
                updated_at=stamp,
                weight=Decimal(str(vs.get("weight") or 0)),
                weight_unit=str(vs.get("weight_unit") or self.weight_unit),
            )
            if vs.get("image"):
                variant.media_id = self._create_media(product, str(vs["image"])).id
            variant.option_values = [variant.title]
            self._variants[variant.id] = variant
            self._item_variant[variant.inventory_item_id] = variant.id
            product.variant_ids.append(variant.id)
            for loc in self._locations:
                qty = int(vs.get("available", 0)) if loc == self._primary_location else 0
                self._levels[(variant.inventory_item_id, loc)] = {"available": qty, "on_hand": qty}
            out_variants.append(
                {
                    "id": variant.id,
                    "inventory_item_id": variant.inventory_item_id,
                    "sku": variant.sku,
                    "barcode": variant.barcode,
                    "price": _money(variant.price),
                    "compare_at_price": _money(variant.compare_at_price),
                    "cost": _money(variant.cost),
                    "available": self._levels[(variant.inventory_item_id, self._primary_location)][
                        "available"
                    ],
                }
            )
        product.options = [("Title", [self._variants[v].title for v in product.variant_ids])]
        return {"id": number, "title": product.title, "updated_at": stamp, "variants": out_variants}

    def _create_media(self, product: _Product, source: str) -> _Media:
        """A MediaImage on the product; Shopify copies the file to its CDN."""
        number = 30_000_000_000_000 + next(self._ids)
        name = urlsplit(source).path.rsplit("/", 1)[-1] or "image"
        media = _Media(number, product.id, source, f"{CDN_FILES}/{name}?v={number}")
        if source in self._broken_images:  # created, then its download fails (asynchronously)
            media.status, media.error = "FAILED", self._broken_images[source]
        self._media[number] = media
        product.media_ids.append(number)
        return media

    # -- object views (dicts graphql-core resolves; callables take (info, **args)) ------------
    def _product_view(self, p: _Product) -> JSON:
        media = [self._media[m] for m in p.media_ids]
        return {
            "__typename": "Product",
            "id": gid("Product", p.id),
            "legacyResourceId": str(p.id),
            "title": p.title,
            "handle": re.sub(r"[^a-z0-9]+", "-", p.title.lower()).strip("-"),
            "createdAt": p.created_at,
            "updatedAt": p.updated_at,
            "descriptionHtml": p.description_html,
            "description": lambda info, truncateAt=None: _plain_text(
                p.description_html, truncateAt
            ),
            "vendor": p.vendor,
            "status": p.status,
            "totalInventory": sum(self._variant_quantity(self._variants[v]) for v in p.variant_ids),
            "variantsCount": {"count": len(p.variant_ids), "precision": "EXACT"},
            "variants": lambda info, **args: self._connection(
                [self._variants[v] for v in p.variant_ids], self._variant_view, args
            ),
            "media": lambda info, **args: self._connection(media, self._media_view, args),
            "mediaCount": {"count": len(media), "precision": "EXACT"},
            "featuredMedia": self._media_view(media[0]) if media else None,
            "options": lambda info, first=None: [
                self._option_view(p, position, name, values)
                for position, (name, values) in enumerate(p.options[:first], start=1)
            ],
            "collections": lambda info, **args: self._connection(
                [self._collections[c] for c in p.collection_ids if c in self._collections],
                self._collection_view,
                args,
            ),
        }

    def _option_view(self, p: _Product, position: int, name: str, values: list[str]) -> JSON:
        used = {self._variants[v].option_values[position - 1] for v in p.variant_ids}
        return {
            "__typename": "ProductOption",
            "id": gid("ProductOption", p.id * 10 + position),
            "name": name,
            "position": position,
            "values": list(values),
            "optionValues": [
                {
                    "__typename": "ProductOptionValue",
                    "id": gid("ProductOptionValue", p.id * 10_000 + position * 1_000 + k),
                    "name": value,
                    "hasVariants": value in used,
                }
                for k, value in enumerate(values)
            ],
        }

    @staticmethod
    def _collection_view(c: _Collection) -> JSON:
        return {"__typename": "Collection", "id": gid("Collection", c.id), "title": c.title}

    def _media_view(self, m: _Media) -> JSON:
        return {
            "__typename": "MediaImage",
            "id": gid("MediaImage", m.id),
            "alt": m.alt,
            "mediaContentType": "IMAGE",
            "status": m.status,
            "mediaErrors": []
            if m.error is None
            else [{"code": m.error, "details": None, "message": "Image could not be downloaded"}],
            "mediaWarnings": [],
            "image": self._image_view(m),
            "preview": {"__typename": "MediaPreviewImage", "status": "READY"},
        }

    @staticmethod
    def _image_view(m: _Media) -> JSON:
        return {
            "__typename": "Image",
            "id": gid("ProductImage", m.id),
            "altText": m.alt,
            "url": lambda info, **args: m.url,
            "src": m.url,
            "originalSrc": m.url,
            "transformedSrc": lambda info, **args: m.url,
        }

    def _variant_quantity(self, v: _Variant) -> int:
        return sum(
            self._levels[(v.inventory_item_id, loc)]["available"]
            for loc in self._locations
            if (v.inventory_item_id, loc) in self._levels
        )

    def _variant_view(self, v: _Variant) -> JSON:
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", v.id),
            "legacyResourceId": str(v.id),
            "sku": v.sku,
            "barcode": v.barcode,
            "title": v.title,
            "displayName": f"{self._products[v.product_id].title} - {v.title}",
            "price": _money(v.price),
            "compareAtPrice": _money(v.compare_at_price),
            "inventoryQuantity": self._variant_quantity(v),
            "updatedAt": v.updated_at,
            "createdAt": v.updated_at,
            "image": lambda info, **args: (
                None if v.media_id is None else self._image_view(self._media[v.media_id])
            ),
            "media": lambda info, **args: self._connection(
                [] if v.media_id is None else [self._media[v.media_id]], self._media_view, args
            ),
            "inventoryItem": self._item_view(v),
            "selectedOptions": [
                {"name": name, "value": value, "optionValue": {"name": value}}
                for (name, _), value in zip(
                    self._products[v.product_id].options, v.option_values, strict=False
                )
            ],
            "product": lambda info, **args: self._product_view(self._products[v.product_id]),
        }

    def _item_view(self, v: _Variant) -> JSON:
        item_id = v.inventory_item_id
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", item_id),
            "legacyResourceId": str(item_id),
            "sku": v.sku,
            "tracked": True,
            "unitCost": None
            if v.cost is None
            else {"amount": _money(v.cost), "currencyCode": "USD"},
            "measurement": {
                "__typename": "InventoryItemMeasurement",
                "id": gid("InventoryItemMeasurement", item_id),
                "weight": {"value": float(v.weight), "unit": v.weight_unit},
            },
            "inventoryLevel": lambda info, locationId: self._level_view(
                item_id, parse_gid(locationId, "Location")
            ),
            "variant": lambda info, **args: self._variant_view(self._variants[v.id]),
        }

    def _level_view(self, item_id: int, location_id: int | None) -> JSON | None:
        level = self._levels.get((item_id, location_id or -1))
        if level is None or location_id is None:
            return None
        return {
            "__typename": "InventoryLevel",
            "id": f"gid://shopify/InventoryLevel/{item_id}?inventory_item_id={location_id}",
            "quantities": lambda info, names: [
                {"name": n, "quantity": level.get(n, 0), "id": None} for n in names
            ],
            "location": self._location_view(location_id),
        }

    def _location_view(self, number: int) -> JSON:
        return {
            "__typename": "Location",
            "id": gid("Location", number),
            "legacyResourceId": str(number),
            "name": self._locations[number],
            "isPrimary": number == self._primary_location,
            "isActive": True,
            "inventoryLevel": lambda info, inventoryItemId: self._level_view(
                parse_gid(inventoryItemId, "InventoryItem") or -1, number
            ),
        }

    def _bulk_view(self, op: _BulkOperation) -> JSON:
        return {
            "__typename": "BulkOperation",
            "id": gid("BulkOperation", op.id),
            "type": op.type,
            "status": op.status,
            "query": op.query,
            "createdAt": op.created_at,
            "completedAt": op.completed_at,
            "errorCode": op.error_code,
            "objectCount": str(op.object_count),
            "rootObjectCount": str(op.root_object_count),
            "fileSize": None if op.file_size is None else str(op.file_size),
            "url": op.url,
            "partialDataUrl": op.partial_data_url,
        }

    def _connection(
        self,
        items: list[Any],
        view: Callable[[Any], JSON],
        args: Mapping[str, Any],
        info: Info | None = None,
    ) -> JSON:
        bulk: tuple[int | None, int] | None = getattr(self._bulk_local, "page", None)
        if bulk is not None:  # a bulk query: no page arguments, every node
            ordered = sorted(items, key=lambda x: x.id)
            if info is not None and info.path.prev is None:  # the root: a chunk at a time
                start, chunk = bulk
                rest = [x for x in ordered if start is None or x.id > start]
                ordered = rest[:chunk]
                self._bulk_local.more = len(rest) > chunk
                self._bulk_local.last = ordered[-1].id if ordered else None
            nodes = [view(x) for x in ordered]
            return {
                "nodes": nodes,
                "edges": [
                    {"cursor": _cursor(x.id), "node": n}
                    for x, n in zip(ordered, nodes, strict=True)
                ],
                "pageInfo": {
                    "hasNextPage": False,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
            }
        first, last = args.get("first"), args.get("last")
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        size = first if first is not None else last
        if not isinstance(size, int) or size < 0 or size > MAX_PAGE:
            raise GraphQLError(f"The first or last argument must be between 0 and {MAX_PAGE}")
        ordered = sorted(items, key=lambda x: x.id, reverse=bool(args.get("reverse")))
        after, before = _uncursor(args.get("after")), _uncursor(args.get("before"))
        forward = not args.get("reverse")
        if after is not None:
            ordered = [x for x in ordered if (x.id > after) == forward and x.id != after]
        if before is not None:
            ordered = [x for x in ordered if (x.id < before) == forward and x.id != before]
        if first is not None:
            page, has_next, has_prev = ordered[:size], len(ordered) > size, after is not None
        else:
            page = ordered[-size:] if size else []
            has_next, has_prev = before is not None, len(ordered) > size
        nodes = [view(x) for x in page]
        return {
            "nodes": nodes,
            "edges": [
                {"cursor": _cursor(x.id), "node": n} for x, n in zip(page, nodes, strict=True)
            ],
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": has_prev,
                "startCursor": _cursor(page[0].id) if page else None,
                "endCursor": _cursor(page[-1].id) if page else None,
            },
        }

    # -- query root -----------------------------------------------------------------------------
    def _q_products(self, info: Info, **args: Any) -> JSON:
        test = _search_filter(args.get("query"))
        products = [p for p in self._products.values() if test(p, self)]
        return self._connection(products, self._product_view, args, info)

    def _q_product(self, info: Info, id: str) -> JSON | None:
        p = self._products.get(parse_gid(id, "Product") or -1)
        return None if p is None else self._product_view(p)

    def _q_variant(self, info: Info, id: str) -> JSON | None:
        v = self._variants.get(parse_gid(id, "ProductVariant") or -1)
        return None if v is None else self._variant_view(v)

    def _q_inventory_item(self, info: Info, id: str) -> JSON | None:
        vid = self._item_variant.get(parse_gid(id, "InventoryItem") or -1)
        return None if vid is None else self._item_view(self._variants[vid])

    def _q_location(self, info: Info, id: str | None = None) -> JSON | None:
        number = self._primary_location if id is None else parse_gid(id, "Location")
        return self._location_view(number) if number in self._locations else None

    def _q_locations(self, info: Info, **args: Any) -> JSON:
        return self._connection(
            [_Loc(n) for n in self._locations], lambda x: self._location_view(x.id), args, info
        )

    def _q_node(self, info: Info, id: str) -> JSON | None:
        kind = id.split("/")[3] if id.startswith("gid://shopify/") and id.count("/") >= 4 else ""
        number = parse_gid(id, kind) if kind else None
        if number is None:
            return None
        if kind == "Product" and number in self._products:
            return self._product_view(self._products[number])
        if kind == "ProductVariant" and number in self._variants:
            return self._variant_view(self._variants[number])
        if kind == "InventoryItem" and number in self._item_variant:
            return self._item_view(self._variants[self._item_variant[number]])
        if kind == "Location" and number in self._locations:
            return self._location_view(number)
        if kind == "BulkOperation" and number in self._bulk:
            return self._bulk_view(self._bulk[number])
        return None

    def _q_nodes(self, info: Info, ids: list[str]) -> list[JSON | None]:
        if len(ids) > MAX_PAGE:
            raise GraphQLError(f"The ids argument accepts at most {MAX_PAGE} ids")
        return [self._q_node(info, i) for i in ids]

    def _q_current_bulk(self, info: Info, type: str = "QUERY") -> JSON | None:
        ops = [op for op in self._bulk.values() if op.type == type]
        return self._bulk_view(ops[-1]) if ops else None

    def _q_shop(self, info: Info) -> JSON:
        return {
            "__typename": "Shop",
            "id": gid("Shop", 1),
            "name": "feedsync double",
            "currencyCode": "USD",
            "weightUnit": self.weight_unit,
        }

    # -- mutation root ----------------------------------------------------------------------------
    def _m_variants_bulk_update(
        self,
        info: Info | None,
        productId: str,
        variants: list[JSON],
        allowPartialUpdates: bool | None = False,
        media: Any = None,
    ) -> JSON:
        product = self._products.get(parse_gid(productId, "Product") or -1)
        if product is None:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    _user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
                ],
            }
        errors: list[JSON] = []
        if len(variants) > MAX_BULK_VARIANTS:
            errors.append(
                _user_error(
                    ["variants"],
                    f"Too many variants: at most {MAX_BULK_VARIANTS} can be updated at once",
                    "INVALID_INPUT",
                )
            )
            return {
                "product": self._product_view(product),
                "productVariants": [],
                "userErrors": errors,
            }
        creating: dict[str, None] = {}  # URLs of the valid media to create, in order
        for j, spec in enumerate(media or []):
            problem = _media_input_problem(j, spec)
            if problem is not None:
                errors.append(problem)
            else:
                creating[spec["originalSource"]] = None
        updates: list[tuple[_Variant, JSON]] = []
        for i, spec in enumerate(variants):
            found = self._check_variant_input(product, i, spec, creating)
            if isinstance(found, list):
                errors.extend(found)
            else:
                updates.append(found)
        if errors and not allowPartialUpdates:
            updates, creating = [], {}
        created = {url: self._create_media(product, url).id for url in creating}
        stamp = _now()
        for variant, changes in updates:
            source = changes.pop("media_source", None)
            if source is not None:
                variant.media_id = created[source]
            for key, value in changes.items():
                setattr(variant, key, value)
            variant.updated_at = stamp
        if updates or created:
            product.updated_at = stamp
        return {
            "product": self._product_view(product),
            "productVariants": [self._variant_view(v) for v, _ in updates],
            "userErrors": errors,
        }

    def _check_variant_input(
        self, product: _Product, i: int, spec: JSON, creating: Mapping[str, None]
    ) -> tuple[_Variant, JSON] | list[JSON]:
        where = ["variants", str(i)]
        number = parse_gid(spec.get("id"), "ProductVariant")
        if spec.get("id") is None:
            return [
                _user_error(
                    [*where, "id"],
                    "Product variant is missing ID attribute",
                    "PRODUCT_VARIANT_ID_MISSING",
                )
            ]
        variant = self._variants.get(number or -1)
        if variant is None:
            return [
                _user_error(
                    [*where, "id"],
                    "Product variant does not exist",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                )
            ]
        if variant.product_id != product.id:
            return [
                _user_error(
                    [*where, "id"],
                    "Product variant does not belong to the product",
                    "MUST_BE_FOR_THIS_PRODUCT",
                )
            ]
        errors: list[JSON] = []
        changes: JSON = {}
        for key, attr in (("price", "price"), ("compareAtPrice", "compare_at_price")):
            if key not in spec:
                continue
            value = spec[key]
            if value is None:
                if key == "price":
                    errors.append(_user_error([*where, key], "Price can't be blank", "BLANK"))
                else:
                    changes[attr] = None
                continue
            try:
                cents = _to_cents(value)
            except ValueError:
                errors.append(_user_error([*where, key], f"{key} is invalid", "INVALID_INPUT"))
                continue
            if cents < 0:
                label = "Price" if key == "price" else "Compare at price"
                errors.append(
                    _user_error(
                        [*where, key],
                        f"{label} must be greater than or equal to 0",
                        "GREATER_THAN_OR_EQUAL_TO",
                    )
                )
                continue
            changes[attr] = cents
        if "barcode" in spec:
            changes["barcode"] = spec["barcode"]
        item = spec.get("inventoryItem")
        if isinstance(item, dict) and "cost" in item:
            cost = item["cost"]
            if cost is None:
                changes["cost"] = None
            else:
                try:
                    cents = _to_cents(cost)
                except ValueError:
                    cents = -1
                if cents < 0:
                    errors.append(
                        _user_error(
                            [*where, "inventoryItem", "cost"],
                            "Cost must be greater than or equal to 0",
                            "GREATER_THAN_OR_EQUAL_TO",
                        )
                    )
                else:
                    changes["cost"] = cents
        if isinstance(item, dict) and "sku" in item:
            changes["sku"] = item["sku"]
        weight = ((item or {}).get("measurement") or {}).get("weight")
        if weight is not None:
            # WeightInput: value Float!, unit WeightUnit! (both checked by the schema).
            if weight["value"] < 0:
                errors.append(
                    _user_error(
                        [*where, "inventoryItem", "measurement", "weight", "value"],
                        "Weight must be greater than or equal to 0",
                        "GREATER_THAN_OR_EQUAL_TO",
                    )
                )
            else:
                changes["weight"] = Decimal(repr(float(weight["value"])))
                changes["weight_unit"] = weight["unit"]
        if "mediaSrc" in spec:
            sources = spec["mediaSrc"] or []
            if len(sources) != 1:
                errors.append(
                    _user_error(
                        [*where, "mediaSrc"], "Only one mediaSrc is allowed", "INVALID_INPUT"
                    )
                )
            elif sources[0] not in creating:
                errors.append(
                    _user_error(
                        [*where, "mediaSrc"],
                        "The mediaSrc must match one of the media being created on the product",
                        "INVALID_INPUT",
                    )
                )
            else:
                changes["media_source"] = sources[0]
        rejection = self._rejections.get(variant.id)
        if rejection is not None:
            message, field_name, code = rejection
            errors.append(_user_error([*where, field_name], message, code))
        return errors if errors else (variant, changes)

    def _m_product_update(
        self,
        info: Info | None,
        product: JSON | None = None,
        input: JSON | None = None,
        media: Any = None,
        productPreferences: Any = None,
    ) -> JSON:
        """``product`` (ProductUpdateInput) or the deprecated ``input`` (ProductInput):
        title, descriptionHtml and vendor; any userError leaves the product unchanged."""
        if media is not None or productPreferences is not None:
            raise GraphQLError("The Shopify double does not implement productUpdate media")
        spec = product if product is not None else input
        if spec is None:
            return {"product": None, "userErrors": [_user_error(["product"], "Input is required")]}
        target = self._products.get(parse_gid(spec.get("id"), "Product") or -1)
        if target is None:
            return {"product": None, "userErrors": [_user_error(["id"], "Product does not exist")]}
        errors: list[JSON] = []
        changes: JSON = {}
        if "title" in spec:
            title = spec["title"]
            if title is None or not title.strip():
                errors.append(_user_error(["title"], "Title can't be blank"))
            elif len(title) > MAX_NAME_LENGTH:
                errors.append(
                    _user_error(
                        ["title"], f"Title is too long (maximum is {MAX_NAME_LENGTH} characters)"
                    )
                )
            else:
                changes["title"] = title
        if "vendor" in spec:
            vendor = spec["vendor"] or ""
            if len(vendor) > MAX_NAME_LENGTH:
                errors.append(
                    _user_error(
                        ["vendor"], f"Vendor is too long (maximum is {MAX_NAME_LENGTH} characters)"
                    )
                )
            else:
                changes["vendor"] = vendor
        if "descriptionHtml" in spec:
            changes["description_html"] = spec["descriptionHtml"] or ""
        if spec.get("status") is not None:  # the schema's ProductStatus enum checked it
            changes["status"] = spec["status"]
        rejection = self._product_rejections.get(target.id)
        if rejection is not None:
            errors.append(_user_error([rejection[1]], rejection[0]))
        if not errors:
            for key, value in changes.items():
                setattr(target, key, value)
            target.updated_at = _now()
        return {"product": self._product_view(target), "userErrors": errors}

    def _m_inventory_set(self, info: Info | None, input: JSON) -> JSON:
        name = input.get("name")
        errors: list[JSON] = []
        if name not in ("available", "on_hand"):
            errors.append(
                _user_error(
                    ["input", "name"],
                    "The quantity name must be either 'available' or 'on_hand'.",
                    "INVALID_NAME",
                )
            )
        if input.get("reason") not in _REASONS:
            errors.append(
                _user_error(
                    ["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"
                )
            )
        ignore = bool(input.get("ignoreCompareQuantity"))
        seen: set[tuple[int, int]] = set()
        changes: list[tuple[dict[str, int], int]] = []
        for i, q in enumerate(input.get("quantities") or []):
            where = ["input", "quantities", str(i)]
            item = parse_gid(q.get("inventoryItemId"), "InventoryItem")
            loc = parse_gid(q.get("locationId"), "Location")
            if item not in self._item_variant:
                errors.append(
                    _user_error(
                        [*where, "inventoryItemId"],
                        "The specified inventory item could not be found.",
                        "INVALID_INVENTORY_ITEM",
                    )
                )
                continue
            if loc not in self._locations:
                errors.append(
                    _user_error(
                        [*where, "locationId"],
                        "The specified location could not be found.",
                        "INVALID_LOCATION",
                    )
                )
                continue
            assert item is not None and loc is not None
            if (item, loc) in seen:
                errors.append(
                    _user_error(
                        [*where, "inventoryItemId"],
                        "The combination of inventoryItemId and locationId must be unique.",
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    )
                )
                continue
            seen.add((item, loc))
            quantity = q["quantity"]
            if quantity < -1_000_000_000:
                errors.append(
                    _user_error(
                        [*where, "quantity"], "The quantity is too low.", "INVALID_QUANTITY_TOO_LOW"
                    )
                )
                continue
            if quantity > 1_000_000_000:
                errors.append(
                    _user_error(
                        [*where, "quantity"],
                        "The quantity is too high.",
                        "INVALID_QUANTITY_TOO_HIGH",
                    )
                )
                continue
            level = self._levels.get((item, loc))
            if level is None:
                errors.append(
                    _user_error(
                        [*where, "locationId"],
                        "The specified inventory item is not stocked at the location.",
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                    )
                )
                continue
            if not ignore:
                compare = q.get("compareQuantity")
                if compare is None:
                    errors.append(
                        _user_error(
                            [*where, "compareQuantity"],
                            "The compareQuantity argument must be given to each quantity or "
                            "ignored using ignoreCompareQuantity.",
                            "COMPARE_QUANTITY_REQUIRED",
                        )
                    )
                    continue
                if name in level and compare != level[name]:
                    errors.append(
                        _user_error(
                            [*where, "compareQuantity"],
                            "The compareQuantity value does not match persisted value.",
                            "COMPARE_QUANTITY_STALE",
                        )
                    )
                    continue
            changes.append((level, quantity))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        for level, quantity in changes:  # all or nothing
            if name == "available":
                level["on_hand"] += quantity - level["available"]
                level["available"] = quantity
            else:
                level["available"] += quantity - level["on_hand"]
                level["on_hand"] = quantity
        group: JSON = {
            "__typename": "InventoryAdjustmentGroup",
            "id": gid("InventoryAdjustmentGroup", next(self._ids)),
            "createdAt": _now(),
            "reason": input.get("reason"),
            "referenceDocumentUri": input.get("referenceDocumentUri"),
            "changes": [],
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    def _m_staged_uploads(self, info: Info, input: list[JSON]) -> JSON:
        targets: list[JSON | None] = []
        errors: list[JSON] = []
        for i, spec in enumerate(input):
            if spec.get("resource") != "BULK_MUTATION_VARIABLES":
                errors.append(
                    _user_error(
                        ["input", str(i), "resource"],
                        "The double only stages BULK_MUTATION_VARIABLES uploads",
                    )
                )
                targets.append(None)
                continue
            key = f"tmp/{next(self._ids)}/bulk/{secrets.token_hex(8)}/bulk_op_vars"
            policy = base64.b64encode(json.dumps({"key": key}).encode()).decode()
            signature = hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
            self._upload_keys[key] = signature
            params = [
                ("Content-Type", spec.get("mimeType") or "text/jsonl"),
                ("success_action_status", "201"),
                ("acl", "private"),
                ("key", key),
                ("x-goog-date", datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")),
                ("x-goog-credential", "feedsync-double/staged-uploads"),
                ("x-goog-algorithm", "GOOG4-HMAC-SHA256"),
                ("x-goog-signature", signature),
                ("policy", policy),
            ]
            url = f"{self.base_url}/_staged_uploads"
            targets.append(
                {
                    "url": url,
                    "resourceUrl": f"{url}/{key}",
                    "parameters": [{"name": k, "value": v} for k, v in params],
                }
            )
        return {"stagedTargets": targets, "userErrors": errors}

    def _m_bulk_run(
        self,
        info: Info,
        mutation: str,
        stagedUploadPath: str,
        clientIdentifier: str | None = None,
    ) -> JSON:
        def refuse(message: str, code: str, where: str) -> JSON:
            return {"bulkOperation": None, "userErrors": [_user_error([where], message, code)]}

        running = [
            op
            for op in self._bulk.values()
            if op.type == "MUTATION" and op.status in ("CREATED", "RUNNING", "CANCELING")
        ]
        if running:
            return refuse(
                "A bulk mutation operation for this app and shop is already in progress: "
                f"{gid('BulkOperation', running[-1].id)}.",
                "OPERATION_IN_PROGRESS",
                "mutation",
            )
        try:
            document = parse(mutation)
        except GraphQLError as exc:
            return refuse(
                f"Failed to parse the mutation - {exc.message}", "INVALID_MUTATION", "mutation"
            )
        problems = validate(self.schema, document)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if problems or len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
            detail = problems[0].message if problems else "exactly one mutation operation expected"
            return refuse(f"Invalid mutation: {detail}", "INVALID_MUTATION", "mutation")
        roots = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
        if len(roots) != 1 or roots[0].name.value not in BULK_MUTATIONS:
            return refuse(
                "Bulk mutations support one of: " + ", ".join(sorted(BULK_MUTATIONS)),
                "INVALID_MUTATION",
                "mutation",
            )
        data = self._uploads.get(stagedUploadPath)
        if data is None:
            return refuse(
                "The file is not found. Please use a valid staged upload path.",
                "NO_SUCH_FILE",
                "stagedUploadPath",
            )
        op = _BulkOperation(
            id=9_000_000_000 + next(self._ids),
            type="MUTATION",
            query=mutation,
            client_identifier=clientIdentifier,
            files_url=self.base_url,
        )
        self._bulk[op.id] = op
        fault = self._bulk_faults.popleft() if self._bulk_faults else None
        worker = threading.Thread(
            target=self._run_bulk, args=(op, document, data, fault), daemon=True
        )
        self._bulk_threads.append(worker)
        worker.start()
        return {"bulkOperation": self._bulk_view(op), "userErrors": []}

    def _run_bulk(
        self,
        op: _BulkOperation,
        document: DocumentNode,
        data: bytes,
        fault: tuple[str, int] | None,
    ) -> None:
        """Execute the mutation once per JSONL line (no bucket cost), then publish results."""
        with self._lock:
            op.status = "RUNNING"
        out: list[bytes] = []
        failed: str | None = None
        for number, raw in enumerate(data.splitlines()):
            if fault is not None and number >= fault[1]:
                failed = fault[0]
                break
            if not raw.strip():
                continue
            if self.bulk_line_delay_s:
                time.sleep(self.bulk_line_delay_s)
            try:
                variables = json.loads(raw)
                if not isinstance(variables, dict):
                    raise ValueError("not an object")
            except ValueError:
                line: JSON = {
                    "errors": [{"message": f"Line {number + 1} is not a JSON object"}],
                    "__lineNumber": number,
                }
            else:
                with self._lock:
                    result = execute_sync(
                        self.schema,
                        document,
                        root_value=self._mutation_root,
                        variable_values=variables,
                        field_resolver=_resolve,
                    )
                    self._documents.append(
                        {
                            "query": op.query,
                            "variables": variables,
                            "operationName": None,
                            "valid": True,
                            "bulk": True,
                        }
                    )
                line = {"data": result.data} if result.data is not None else {}
                if result.errors:
                    line["errors"] = [e.formatted for e in result.errors]
                line["__lineNumber"] = number
            out.append(json.dumps(line, separators=(",", ":")).encode())
            with self._lock:  # progress, as Shopify reports it while the job runs
                op.object_count = len(out)
        with self._lock:
            op.root_object_count = len(out)
        self._publish(op, out, failed)

    def _m_bulk_run_query(self, info: Info, query: str) -> JSON:
        def refuse(message: str, code: str = "INVALID") -> JSON:
            return {"bulkOperation": None, "userErrors": [_user_error(["query"], message, code)]}

        running = [
            op
            for op in self._bulk.values()
            if op.type == "QUERY" and op.status in ("CREATED", "RUNNING", "CANCELING")
        ]
        if running:  # one bulk query per shop, whatever bulk mutation runs beside it
            return refuse(
                "A bulk query operation for this app and shop is already in progress: "
                f"{gid('BulkOperation', running[-1].id)}.",
                "OPERATION_IN_PROGRESS",
            )
        try:
            document = parse(query)
        except GraphQLError as exc:
            return refuse(f"Invalid bulk query: {exc.message}")
        problems = validate(self.schema, document)
        if problems:
            return refuse(f"Invalid bulk query: {problems[0].message}")
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
            return refuse("Invalid bulk query: exactly one query operation expected")
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        shape = _BulkShape(self.schema, fragments)
        problem = shape.problems(operations[0])
        if problem is not None:
            return refuse(problem)
        op = _BulkOperation(
            id=9_000_000_000 + next(self._ids),
            type="QUERY",
            query=query,
            files_url=self.base_url,
        )
        self._bulk[op.id] = op
        fault = self._bulk_faults.popleft() if self._bulk_faults else None
        worker = threading.Thread(
            target=self._run_bulk_query, args=(op, document, shape, fault), daemon=True
        )
        self._bulk_threads.append(worker)
        worker.start()
        return {"bulkOperation": self._bulk_view(op), "userErrors": []}

    def _run_bulk_query(
        self,
        op: _BulkOperation,
        document: DocumentNode,
        shape: _BulkShape,
        fault: tuple[str, int] | None,
    ) -> None:
        """Execute the query (no bucket cost) a chunk of root objects at a time, every nested
        connection in full, and write each connection node as one JSONL line; nodes of a
        nested connection name theirs with ``__parentId`` and follow their parent."""
        self._bulk_gate.wait()
        with self._lock:
            op.status = "RUNNING"
        assert self.schema.query_type is not None
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        out: list[bytes] = []
        roots = 0
        failed: str | None = None
        after: int | None = None
        while failed is None:
            with self._lock:
                self._bulk_local.page = (after, self.bulk_query_chunk)
                self._bulk_local.more = False
                try:
                    result = execute_sync(
                        self.schema,
                        document,
                        root_value=self._query_root,
                        field_resolver=_resolve,
                    )
                finally:
                    self._bulk_local.page = None
                more, after = self._bulk_local.more, self._bulk_local.last
            if result.errors:
                failed = "INTERNAL_SERVER_ERROR"
                break
            lines: list[JSON] = []
            shape.lines(self.schema.query_type, operation.selection_set, result.data, None, lines)
            for line in lines:
                if fault is not None and len(out) >= fault[1]:
                    failed = fault[0]
                    break
                out.append(json.dumps(line, separators=(",", ":")).encode())
                roots += "__parentId" not in line
            if self.bulk_line_delay_s:
                time.sleep(self.bulk_line_delay_s * len(lines))
            with self._lock:
                op.object_count, op.root_object_count = len(out), roots
            if not more:
                break
        if fault is not None and failed is None and len(out) >= fault[1]:
            failed = fault[0]
        self._publish(op, out, failed)

    def _publish(self, op: _BulkOperation, out: list[bytes], failed: str | None) -> None:
        body = b"\n".join(out) + (b"\n" if out else b"")
        name = f"{op.id}-{secrets.token_hex(6)}.jsonl"
        with self._lock:
            op.object_count = len(out)
            op.completed_at = _now()
            op.completed_s = time.monotonic()
            if out:
                self._results[name] = body
            if failed is not None:
                op.status, op.error_code = "FAILED", failed
                op.partial_data_url = f"{op.files_url}/_bulk/{name}" if out else None
            else:
                op.status = "COMPLETED"
                op.file_size = len(body) if out else None
                op.url = f"{op.files_url}/_bulk/{name}" if out else None

    # -- one GraphQL request ----------------------------------------------------------------------
    def _graphql(self, body: JSON) -> tuple[JSON, JSON]:
        """Answer one POSTed GraphQL body: ``(response body, log fields)``; always HTTP 200."""
        query = body.get("query")
        variables = body.get("variables") or {}
        op_name = body.get("operationName")
        record: JSON = {
            "query": query,
            "variables": variables,
            "operationName": op_name,
            "valid": False,
            "bulk": False,
        }
        with self._lock:
            self._documents.append(record)
        try:
            document = parse(str(query))
        except GraphQLError as exc:
            return _errors([_format(exc, "GRAPHQL_PARSE_FAILED")]), {"code": "GRAPHQL_PARSE_FAILED"}
        problems = validate(self.schema, document)
        if problems:
            errs = [_format(e, "GRAPHQL_VALIDATION_FAILED") for e in problems]
            return _errors(errs), {"code": "GRAPHQL_VALIDATION_FAILED"}
        record["valid"] = True
        operation = _pick_operation(document, op_name)
        if operation is None:
            msg = (
                "An operation name is required"
                if op_name is None
                else f"No operation named {op_name!r}"
            )
            return _errors(
                [{"message": msg, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]
            ), {}
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        is_mutation = operation.operation == OperationType.MUTATION
        root = self.schema.mutation_type if is_mutation else self.schema.query_type
        assert root is not None
        fields = [
            s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
        ]
        info: JSON = {
            "operation": op_name or (operation.name.value if operation.name else None),
            "fields": fields,
        }
        coster = _Coster(self.schema, fragments, variables)
        requested = coster.cost(root, operation.selection_set, None, top=True)
        if requested > self.max_query_cost:
            with self._lock:
                self._refill()
                status = self._throttle_status()
            return {
                "errors": [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query "
                        f"max cost limit ({self.max_query_cost}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": requested,
                            "maxCost": self.max_query_cost,
                        },
                    }
                ],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": requested,
                        "actualQueryCost": None,
                        "throttleStatus": status,
                    }
                },
            }, {**info, "code": "MAX_COST_EXCEEDED", "requested": requested}
        with self._lock:
            now = self._refill()
            if requested > self._available:
                self._throttled += 1
                self._available_samples.append((now - self._started, self._available))
                return _throttled(requested, self._throttle_status()), {
                    **info,
                    "code": "THROTTLED",
                    "requested": requested,
                }
            self._available -= requested
            result = execute_sync(
                self.schema,
                document,
                root_value=self._mutation_root if is_mutation else self._query_root,
                variable_values=variables,
                operation_name=op_name,
                field_resolver=_resolve,
            )
            actual = coster.cost(root, operation.selection_set, result.data, top=True)
            self._available = min(self.maximum_available, self._available + requested - actual)
            self._points_spent += actual
            self._points_requested += requested
            for name in fields:
                self._by_field[name] += 1
            self._by_operation[str(info["operation"])] += 1
            self._available_samples.append((now - self._started, self._available))
            cost = {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self._throttle_status(),
            }
        out: JSON = {}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        out["data"] = result.data
        out["extensions"] = {"cost": cost}
        return out, {**info, "requested": requested, "actual": actual}

    def _upload(self, content_type: str, raw: bytes) -> tuple[int, bytes, str]:
        """The GCS-like POST form upload of a staged target."""
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        if not message.is_multipart():
            return 400, b"<Error><Code>InvalidArgument</Code></Error>", "application/xml"
        form: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                form[name] = payload
        key = form.get("key", b"").decode()
        with self._lock:
            expected = self._upload_keys.get(key)
            signature = form.get("x-goog-signature", b"").decode()
            if expected is None or not hmac.compare_digest(expected, signature):
                return 403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml"
            if "file" not in form or "policy" not in form:
                return 400, b"<Error><Code>InvalidArgument</Code></Error>", "application/xml"
            self._uploads[key] = form["file"]
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
            f"<Location>{self.base_url}/_staged_uploads/{key}</Location>"
            f"<Bucket>shopify-staged-uploads</Bucket><Key>{key}</Key>"
            f'<ETag>"{hashlib.md5(form["file"]).hexdigest()}"</ETag></PostResponse>'
        )
        return 201, xml.encode(), "application/xml"


_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_TOO_MANY = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume "
    "uninterrupted service."
)
_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)


def _plain_text(html: str, limit: int | None = None) -> str:
    """A description's text (Product.description): tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]*>", " ", html).split())[:limit]


def _media_input_problem(j: int, spec: JSON) -> JSON | None:
    """Why Shopify would refuse a CreateMediaInput (None: it is created)."""
    where = ["media", str(j)]
    source = spec.get("originalSource")
    parts = urlsplit(source or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _user_error([*where, "originalSource"], "Image URL is invalid", "INVALID_INPUT")
    if spec.get("mediaContentType") is None:
        return _user_error(
            [*where, "mediaContentType"], "Media content type can't be blank", "BLANK"
        )
    if spec["mediaContentType"] != "IMAGE":
        return _user_error(
            [*where, "mediaContentType"],
            "The Shopify double only creates IMAGE media",
            "INVALID_INPUT",
        )
    return None


def _user_error(path: list[str], message: str, code: str | None = None) -> JSON:
    error: JSON = {"field": path, "message": message}
    if code is not None:
        error["code"] = code
    return error


def _format(error: GraphQLError, code: str) -> JSON:
    out: JSON = dict(error.formatted)
    out["extensions"] = {**(out.get("extensions") or {}), "code": code}
    return out


def _errors(errors: list[JSON]) -> JSON:
    return {"errors": errors}


def _throttled(requested: int, status: JSON) -> JSON:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": status,
            }
        },
    }


def _pick_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name and o.name.value == name), None)


def _resolve(source: Any, info: Info, **args: Any) -> Any:
    """Dict sources; a callable value is called with ``(info, **args)``."""
    if isinstance(source, dict):
        if info.field_name not in source:
            root = info.parent_type.name in ("QueryRoot", "Mutation")
            if root:
                raise GraphQLError(f"The Shopify double does not implement {info.field_name}")
            return None
        value = source[info.field_name]
    else:
        value = getattr(source, info.field_name, None)
    return value(info, **args) if callable(value) else value


# -- search syntax ------------------------------------------------------------------------------
_TERM = re.compile(r"""(\w+):(>=|<=|>|<|=)?('[^']*'|"[^"]*"|\S+)""")


def _search_filter(query: str | None) -> Callable[[_Product, ShopifyDouble], bool]:
    """A predicate for Shopify's search syntax (AND of ``field:[op]value`` terms; ``OR``
    between such groups, without parentheses)."""
    if not query or not query.strip():
        return lambda p, shop: True
    if " OR " in query:
        either = [_search_filter(part) for part in query.split(" OR ")]
        return lambda p, shop: any(test(p, shop) for test in either)
    tests: list[Callable[[_Product, ShopifyDouble], bool]] = []
    rest = _TERM.sub(" ", query).replace(" AND ", " ").strip()
    if rest:
        return lambda p, shop: False  # free text: the double has no full-text index
    for key, op, raw in _TERM.findall(query):
        value = raw.strip("'\"")
        if key in ("updated_at", "created_at"):
            try:
                bound = _parse_time(value)
            except ValueError:
                return lambda p, shop: False
            attr = "updated_at" if key == "updated_at" else "created_at"
            tests.append(_time_test(attr, op or "=", bound))
        elif key == "sku":
            tests.append(_sku_test(value))
        elif key == "id":
            tests.append(_id_test(value))
        else:
            return lambda p, shop: False
    return lambda p, shop: all(t(p, shop) for t in tests)


def _sku_test(sku: str) -> Callable[[_Product, ShopifyDouble], bool]:
    return lambda p, shop: any(shop._variants[x].sku == sku for x in p.variant_ids)


def _id_test(number: str) -> Callable[[_Product, ShopifyDouble], bool]:
    return lambda p, shop: str(p.id) == number


def _time_test(attr: str, op: str, bound: datetime) -> Callable[[_Product, ShopifyDouble], bool]:
    compare: dict[str, Callable[[datetime], bool]] = {
        ">=": lambda t: t >= bound,
        ">": lambda t: t > bound,
        "<=": lambda t: t <= bound,
        "<": lambda t: t < bound,
        "=": lambda t: t == bound,
    }
    check = compare[op]
    return lambda p, shop: check(_parse_time(getattr(p, attr)))


# -- query cost ---------------------------------------------------------------------------------
class _Coster:
    """Requested cost (``data is None``) or actual cost (over the result) of a selection."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: JSON,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _arg(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def _fields(
        self, parent: Any, selection_set: SelectionSetNode
    ) -> Iterable[tuple[Any, FieldNode]]:
        """``(type, field)`` pairs, fragments flattened (type conditions narrow the type)."""
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                yield parent, sel
            elif isinstance(sel, InlineFragmentNode):
                cond = (
                    self.schema.get_type(sel.type_condition.name.value)
                    if sel.type_condition
                    else parent
                )
                yield from self._fields(cond, sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments[sel.name.value]
                yield from self._fields(
                    self.schema.get_type(frag.type_condition.name.value), frag.selection_set
                )

    def cost(
        self, parent: Any, selection_set: SelectionSetNode, data: Any, top: bool = False
    ) -> int:
        total = 0
        typename = data.get("__typename") if isinstance(data, dict) else None
        for owner, node in self._fields(parent, selection_set):
            name = node.name.value
            if name.startswith("__") or not isinstance(
                owner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
            ):
                continue
            if isinstance(owner, GraphQLUnionType) or name not in owner.fields:
                continue
            if (
                data is not None
                and isinstance(owner, GraphQLObjectType)
                and owner is not parent
                and typename not in (None, owner.name)
            ):
                continue  # a fragment on a type this object is not
            if top and owner is self.schema.mutation_type:
                total += MUTATION_COST
                continue
            key = node.alias.value if node.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            total += self._field_cost(owner.fields[name].type, node, value, data is not None)
        return total

    def _field_cost(self, field_type: Any, node: FieldNode, value: Any, actual: bool) -> int:
        named = get_named_type(field_type)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        if named.name.endswith("Connection"):
            return self._connection_cost(named, node, value, actual)
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(inner, GraphQLList):
            if actual:
                items = value if isinstance(value, list) else []
                return sum(
                    1 + self.cost(named, node.selection_set, v) for v in items if v is not None
                )
            ids = self._arg(node, "ids")
            size = len(ids) if isinstance(ids, list) else 1
            return size * (1 + self.cost(named, node.selection_set, None))
        if actual and value is None:
            return 1
        return 1 + self.cost(named, node.selection_set, value if actual else None)

    def _connection_cost(self, conn: Any, node: FieldNode, value: Any, actual: bool) -> int:
        assert node.selection_set is not None
        size = self._arg(node, "first") or self._arg(node, "last") or 0
        total = 2
        for owner, sub in self._fields(conn, node.selection_set):
            name = sub.name.value
            if name not in ("nodes", "edges") or sub.selection_set is None:
                continue
            if name == "nodes":
                item_type = get_named_type(owner.fields[name].type)
                sel, unwrap = sub.selection_set, None
            else:
                edge_type = get_named_type(owner.fields["edges"].type)
                node_field = next(
                    (
                        f
                        for _, f in self._fields(edge_type, sub.selection_set)
                        if f.name.value == "node"
                    ),
                    None,
                )
                if node_field is None or node_field.selection_set is None:
                    continue
                item_type = get_named_type(edge_type.fields["node"].type)
                sel, unwrap = (
                    node_field.selection_set,
                    (node_field.alias.value if node_field.alias else "node"),
                )
            if not actual:
                total += size * (1 + self.cost(item_type, sel, None))
                continue
            key = sub.alias.value if sub.alias else name
            items = (value or {}).get(key) or []
            for item in items:
                inner = item.get(unwrap) if unwrap and isinstance(item, dict) else item
                total += 1 + self.cost(item_type, sel, inner)
        return total


# -- bulk queries -------------------------------------------------------------------------------
MAX_BULK_CONNECTIONS = 5
MAX_BULK_DEPTH = 2
_ConnPart = tuple[Any, SelectionSetNode, str, str | None]  # node type, selection, keys


class _BulkShape:
    """Shopify's rules for a bulk query, and its result as JSONL lines."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]):
        self.schema = schema
        self._walk = _Coster(schema, fragments, {})

    def _fields(
        self, parent: Any, selection_set: SelectionSetNode
    ) -> Iterable[tuple[Any, FieldNode]]:
        for owner, node in self._walk._fields(parent, selection_set):
            if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType) and (
                node.name.value in owner.fields
            ):
                yield owner, node

    def _parts(self, conn: Any, node: FieldNode) -> list[_ConnPart]:
        """Where a connection's nodes are: ``nodes`` or ``edges { node }``."""
        parts: list[_ConnPart] = []
        if node.selection_set is None:
            return parts
        for owner, sub in self._fields(conn, node.selection_set):
            key = sub.alias.value if sub.alias else sub.name.value
            if sub.selection_set is None:
                continue
            if sub.name.value == "nodes":
                parts.append(
                    (get_named_type(owner.fields["nodes"].type), sub.selection_set, key, None)
                )
            elif sub.name.value == "edges":
                edge = get_named_type(owner.fields["edges"].type)
                for _, inner in self._fields(edge, sub.selection_set):
                    if inner.name.value == "node" and inner.selection_set is not None:
                        inner_key = inner.alias.value if inner.alias else "node"
                        node_type = get_named_type(edge.fields["node"].type)
                        parts.append((node_type, inner.selection_set, key, inner_key))
        return parts

    def problems(self, operation: OperationDefinitionNode) -> str | None:
        """Why Shopify would refuse the query (None: it runs)."""
        if operation.variable_definitions:
            return "Invalid bulk query: bulk queries cannot use variables"
        root = self.schema.query_type
        tops = list(self._fields(root, operation.selection_set))
        if len(tops) != 1:
            return "Invalid bulk query: select exactly one top-level field"
        if tops[0][1].name.value in ("node", "nodes"):
            return "Invalid bulk query: the top-level node and nodes fields can't be used"
        found: list[str] = []
        self._scan(root, operation.selection_set, 0, found)
        broken = [f for f in found if not f.isdigit()]
        if broken:
            return f"Invalid bulk query: {broken[0]}"
        depths = [int(f) for f in found]
        if not depths:
            return "Invalid bulk query: bulk queries require a connection field"
        if len(depths) > MAX_BULK_CONNECTIONS:
            return (
                f"Invalid bulk query: bulk queries have at most {MAX_BULK_CONNECTIONS} "
                f"connections, this one has {len(depths)}"
            )
        if max(depths) > MAX_BULK_DEPTH:
            return (
                f"Invalid bulk query: connections nest at most {MAX_BULK_DEPTH} levels deep, "
                f"this one {max(depths)}"
            )
        return None

    def _scan(
        self, parent: Any, selection_set: SelectionSetNode, depth: int, out: list[str]
    ) -> None:
        """Appends each connection's depth (as text) or, for a rule broken, a message."""
        for owner, node in self._fields(parent, selection_set):
            named = get_named_type(owner.fields[node.name.value].type)
            if is_leaf_type(named) or node.selection_set is None:
                continue
            if not named.name.endswith("Connection"):
                self._scan(named, node.selection_set, depth, out)
                continue
            out.append(str(depth + 1))
            for node_type, node_sel, _, _ in self._parts(named, node):
                before = len(out)
                self._scan(node_type, node_sel, depth + 1, out)
                has_id = any(
                    f.name.value == "id" and f.alias is None
                    for _, f in self._fields(node_type, node_sel)
                )
                if len(out) > before and not has_id:
                    out.append(
                        "The parent 'node' field for a nested connection must select the 'id' "
                        f"field without an alias. Connection field: '{node.name.value}'"
                    )

    def lines(
        self,
        parent: Any,
        selection_set: SelectionSetNode,
        data: Any,
        owner_id: str | None,
        out: list[JSON],
    ) -> None:
        """Lift every connection node out of ``data`` onto its own line (depth first, a
        parent before its children, which carry ``__parentId``)."""
        if not isinstance(data, dict):
            return
        for owner, node in self._fields(parent, selection_set):
            key = node.alias.value if node.alias else node.name.value
            named = get_named_type(owner.fields[node.name.value].type)
            if key not in data or is_leaf_type(named) or node.selection_set is None:
                continue
            value = data[key]
            if not named.name.endswith("Connection"):
                for item in value if isinstance(value, list) else [value]:
                    self.lines(named, node.selection_set, item, owner_id, out)
                continue
            del data[key]
            for node_type, node_sel, outer, inner in self._parts(named, node):
                for entry in (value or {}).get(outer) or []:
                    item = entry.get(inner) if inner and isinstance(entry, dict) else entry
                    if not isinstance(item, dict):
                        continue
                    children: list[JSON] = []
                    self.lines(node_type, node_sel, item, item.get("id") or owner_id, children)
                    if owner_id is not None:
                        item["__parentId"] = owner_id
                    out.append(item)
                    out.extend(children)


# -- HTTP ---------------------------------------------------------------------------------------
class _Handler(QuietHandler):
    shop: ShopifyDouble  # set on the per-server subclass
    server_version = "feedsync-shopify-double/1"

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        entry: JSON | None = None,
    ) -> None:
        with self.shop._lock:  # log first: once the client has the answer, the log shows it
            self.shop._log.append(
                {"method": self.command, "path": self.path, "status": status, **(entry or {})}
            )
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.close_connection = True

    def _json(
        self,
        status: int,
        body: Any,
        entry: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._send(status, json.dumps(body).encode(), headers=headers, entry=entry)

    def _reset(self, entry: JSON) -> None:
        with self.shop._lock:
            self.shop._log.append({"method": self.command, "path": self.path, "status": 0, **entry})
        # SO_LINGER 0: close sends RST, so the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        shop = self.shop
        if method == "POST" and path == "/_staged_uploads":
            status, payload, ctype = shop._upload(self.headers.get("Content-Type", ""), raw)
            self._send(status, payload, ctype, entry={"upload": True})
            return
        if method == "GET" and path.startswith("/_bulk/"):
            with shop._lock:
                data = shop._results.get(path.rsplit("/", 1)[-1])
            if data is None:
                self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            else:
                self._send(200, data, "application/jsonl", entry={"download": True})
            return
        parts = path.strip("/").split("/")
        if (
            method != "POST"
            or len(parts) != 4
            or parts[:2] != ["admin", "api"]
            or not _VERSION.match(parts[2])
            or parts[3] != "graphql.json"
        ):
            self._json(404, {"errors": "Not Found"})
            return
        entry: JSON = {"graphql": True, "version": parts[2]}
        with shop._lock:
            fault = shop._faults.popleft() if shop._faults else None
        if fault is not None:
            entry["fault"] = fault.kind if fault.kind != "status" else fault.status
            if fault.kind == "reset":
                self._reset(entry)
                return
            if fault.kind == "slow":
                time.sleep(fault.delay_s)
            elif fault.kind == "status":
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                )
                message = _TOO_MANY if fault.status == 429 else "Internal Server Error"
                self._json(fault.status, {"errors": message}, entry, headers)
                return
            elif fault.kind == "throttled":
                with shop._lock:
                    shop._refill()
                    shop._throttled += 1
                    bucket = shop._throttle_status()
                entry["code"] = "THROTTLED"
                self._json(200, _throttled(50, bucket), entry)
                return
        token = self.headers.get("X-Shopify-Access-Token")
        if token is None or not secrets.compare_digest(token, shop.access_token):
            self._json(
                401,
                {"errors": _INVALID_TOKEN},
                entry,
            )
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            self._json(400, {"errors": {"query": "Required parameter missing or invalid"}}, entry)
            return
        if body.get("variables") is not None and not isinstance(body["variables"], dict):
            self._json(400, {"errors": {"variables": "must be an object"}}, entry)
            return
        answer, info = shop._graphql(body)
        entry.update(info)
        if fault is not None and fault.kind == "reset_after":
            self._reset(entry)
            return
        self._json(200, answer, entry)
