"""A local WooCommerce (REST API v3) store for the tests, the benchmarks and the local stack.

Serves the subset of ``/wp-json/wc/v3`` the connector uses, on loopback, from a stdlib
``ThreadingHTTPServer`` in a background thread::

    GET  /wp-json/wc/v3/products?page=N&per_page=P[&modified_after=..][&modified_before=..]
                                 [&dates_are_gmt=true][&type=simple|variable][&orderby=..]
                                 [&order=..][&_fields=a,b][&include=1,2][&context=view|edit]
    GET  /wp-json/wc/v3/products/{id}/variations   (same query parameters)
    GET  /wp-json/wc/v3/variations                 (same; every product's variations)
    POST /wp-json/wc/v3/products/batch                {"create"?, "update": [...], "delete"?}
    POST /wp-json/wc/v3/products/{id}/variations/batch

Platform behaviour reproduced (from WooCommerce's REST controllers and API docs):

* HTTP Basic auth with the consumer key/secret. No credentials -> 401
  ``woocommerce_rest_cannot_view`` (reads) / ``woocommerce_rest_cannot_batch`` (batches);
  a wrong key or secret -> 401 ``woocommerce_rest_authentication_error``; a read-only key
  on a batch -> 401 "does not have write permissions". Errors are WordPress's
  ``{"code", "message", "data": {"status"}}``. (The real plugin accepts Basic auth over
  HTTPS only; the double serves plain HTTP on loopback and accepts it.)
* Paging: ``per_page`` 1..100 (else 400 ``rest_invalid_param``), ``X-WP-Total`` and
  ``X-WP-TotalPages`` headers, an empty list past the last page. Default order is
  newest first, like the platform; ``orderby=id&order=asc`` gives a stable order.
* ``GET /variations`` (``WC_REST_Variations_Controller``, WooCommerce 10.3+) lists the
  variations of every product with the collection parameters of
  ``/products/{id}/variations`` and answers each with its ``parent_id``. An older shop
  (``store_wide_variations=False``) has no such route: 404 ``rest_no_route``.
* ``modified_after`` / ``modified_before`` are exclusive bounds on ``date_modified_gmt``
  (WordPress's ``date_query`` is not inclusive by default). The double's site timezone
  is UTC, so ``dates_are_gmt`` changes nothing here.
* Batches: more than 100 objects across create/update/delete -> HTTP 413
  ``woocommerce_rest_request_entity_too_large``. Otherwise HTTP 200 whose ``update``
  list has, per object in order, the updated resource or
  ``{"id", "error": {"code", "message", "data": {"status": 400}}}``; a failing object
  changes nothing, the others are applied. ``create`` and ``delete`` (products with
  attributes and categories, variations with their options; deletes for good) are in
  ``woo_create.py``, with what they refuse.
* ``delete`` removes a product (with its variations) or a variation for good: it no
  longer lists, and a batch naming it answers the per-item error WooCommerce gives an id
  it does not have (``woocommerce_rest_product_invalid_id`` /
  ``woocommerce_rest_product_variation_invalid_id``, "Invalid ID.", status 400).
* Writes set ``date_modified_gmt``. A variation's write does not touch its parent
  (``bump_parent_on_variation_write`` turns that on): the real platform does not do it
  reliably, so a range import must not depend on it.
* Content, as ``WC_REST_Products_Controller`` / ``WC_REST_Product_Variations_Controller``
  answer it:

  - a ``description`` written is stored through ``wp_filter_post_kses`` (see below);
    a product's is answered as stored with ``context=edit`` and, in the default
    ``view`` context, run through ``wpautop`` (paragraphs become ``<p>``; the double's
    ``wpautop`` is a simplified one). A variation's own ``description`` always comes
    formatted (``wc_format_content``) and is not its product's.
  - ``weight`` is a string, kept as sent ("0.250"; "" when unset). A variation reads
    through ``get_weight()`` in view context, which answers the parent's weight when
    the variation's own is PHP-``empty()``: "" and also "0" (but not "0.0" or "00"), so
    a variation given the weight "0" answers its parent's.
  - images are attachments with ids from the post id sequence. A product answers
    ``images``: the featured image first, then the gallery; writing ``images`` replaces
    both (first = featured, the rest = gallery, ``[]`` removes them). A variation answers
    ``image`` (``{id, src, ...}`` or null) through ``get_image_id()`` in view context, so
    one without its own image (id 0, PHP-``empty()`` like the weight) answers its
    parent's featured image. An image sent as
    ``{"src": url}`` is "downloaded" into the media library and answered with the shop's
    own URL (``{site}/wp-content/uploads/YYYY/MM/name``, ``-1``... on a clash), never
    the URL sent; ``{"id": n}`` uses an existing attachment. A URL the shop cannot fetch
    (``break_image_url``) fails the whole object with
    ``woocommerce_product_image_upload_error`` (variations:
    ``woocommerce_variation_image_upload_error``), like ``set_product_images`` throwing.

Stricter than the real platform, on purpose (so a connector bug shows as an error):
prices and ``weight`` must be JSON strings holding a non-negative decimal (or "" to
clear), a sale price above the regular price is refused, ``stock_quantity`` must be an
integer and ``manage_stock`` a boolean, ``description`` a string, ``images`` a list of
objects and a variation's ``image`` an object (or null: left alone), a non-http(s) image
URL is refused, and a variation id sent to another parent's batch is an invalid id
(WooCommerce would move the variation to that parent).

Descriptions go through a faithful subset of ``wp_filter_post_kses`` (WordPress's
``wp_kses(text, 'post')``, which the REST controllers call on every description
written, whatever the key's user may do), so what reads back is WordPress's spelling:

* control characters are removed (``wp_kses_no_null``);
* entities are normalised (``wp_kses_normalize_entities``): a ``&`` that starts no
  entity WordPress knows becomes ``&amp;`` (``AT&T`` -> ``AT&amp;T``; ``&copy;`` and
  ``&#8364;`` stay, ``&#65;`` is spelled ``&#065;``); a ``>`` outside a tag is ``&gt;``;
* a tag of an element outside WordPress's post allowlist (``$allowedposttags``) is
  removed, its text kept: ``<script>alert(1)</script>`` is stored as ``alert(1)``; so
  is a ``<`` that opens no allowed tag (``a < 3`` -> ``a``);
* a closing tag loses any attributes; an opening tag is rebuilt from its attributes
  (``wp_kses_hair``): ``on*`` event handlers dropped, an unquoted value double-quoted
  (``width=2`` -> ``width="2"``), double- and single-quoted values kept as written
  (``class='x'`` stays), the first of a repeated attribute kept, a self-closing tag
  spelled `` />`` (``<br/>`` -> ``<br />``, ``<img src="a"/>`` -> ``<img src="a" />``).

Not reproduced: the per-element attribute lists (only event handlers are dropped),
URL protocol checks (``javascript:``), ``style`` filtering (``safecss_filter_attr``),
the clean-up inside HTML comments (kept as sent) and the slashing around the filter.
Seeded descriptions are stored as given (as if already filtered).

Money is held in integer cents and rendered like WooCommerce does: strings ("12.5"
is kept as "12.50"; "" when unset).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from html.entities import name2codepoint
from typing import Any, Final, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from feedsync_local.httpserver import LoopbackService, QuietHandler
from feedsync_local.woo_create import create_one, delete_one, product_attributes

API_PREFIX = "/wp-json/wc/v3"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
BATCH_LIMIT = 100

JSON = dict[str, Any]
Permissions = Literal["read", "write", "read_write"]
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def _wp_error(code: str, message: str, status: int, **data: Any) -> JSON:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def _fmt_date(when: datetime) -> str:
    """WooCommerce's ``*_gmt`` date format: ISO 8601 without offset, whole seconds."""
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def _parse_date(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _money_text(cents: int | None) -> str:
    return "" if cents is None else f"{Decimal(cents).scaleb(-2):.2f}"


def _price_cents(value: Any, key: str) -> tuple[int | None, str | None]:
    """A price as sent: ``(cents or None for "", problem)``."""
    if not isinstance(value, str):
        return None, f"{key} is not of type string."
    text = value.strip()
    if text == "":
        return None, None
    if not _DECIMAL.match(text):
        return None, f"{key} is not a valid price (got {value!r})."
    try:
        cents = Decimal(text).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # pragma: no cover - the pattern guards it
        return None, f"{key} is not a valid price (got {value!r})."
    return int(cents), None


@dataclass
class _Item:
    """A product or a variation (``parent_id`` > 0)."""

    id: int
    parent_id: int
    type: str
    name: str
    sku: str = ""
    global_unique_id: str = ""
    regular_price: int | None = None
    sale_price: int | None = None
    manage_stock: bool = False
    stock_quantity: int | None = None
    status: str = "publish"
    description: str = ""
    weight: str = ""
    # The featured image (a variation: its own image), 0 for none; a product's gallery.
    image_id: int = 0
    gallery_ids: list[int] = field(default_factory=list)
    date_created_gmt: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_modified_gmt: datetime = field(default_factory=lambda: datetime.now(UTC))
    variation_ids: list[int] = field(default_factory=list)
    # A product's: {"name", "position", "visible", "variation", "options"}; a variation's:
    # {"name", "option"} (one per variation attribute of its parent).
    attributes: list[JSON] = field(default_factory=list)
    category_ids: list[int] = field(default_factory=list)


@dataclass
class _Attachment:
    id: int
    src: str
    name: str
    date_gmt: datetime


@dataclass
class _Fault:
    kind: Literal["status", "slow", "reset"]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: JSON | None = None
    delay_s: float = 0.0
    after_apply: bool = False


class WooCommerceDouble(LoopbackService):
    """Loopback WooCommerce double. Use as a context manager or ``start()``/``stop()``."""

    name = "the WooCommerce double"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        permissions: Permissions = "read_write",
        pretty_permalinks: bool = True,
        batch_limit: int = BATCH_LIMIT,
        bump_parent_on_variation_write: bool = False,
        store_wide_variations: bool = True,
        max_variations: int | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the WooCommerce double listens on loopback only, not {host!r}")
        super().__init__(host, port)
        self.consumer_key = consumer_key or "ck_" + secrets.token_hex(20)
        self.consumer_secret = consumer_secret or "cs_" + secrets.token_hex(20)
        self.permissions: Permissions = permissions
        self.pretty_permalinks = pretty_permalinks
        self.batch_limit = batch_limit
        self.bump_parent_on_variation_write = bump_parent_on_variation_write
        # GET /variations as WooCommerce 10.3+ serves it; False: an older shop (404).
        self.store_wide_variations = store_wide_variations
        # A shop's own cap on variations per product (WooCommerce sets none).
        self.max_variations = max_variations
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._items: dict[int, _Item] = {}
        self._next_id = 10
        self._log: list[tuple[str, str, int]] = []
        self._counts: Counter[tuple[str, str]] = Counter()
        self._batch_objects: list[int] = []
        self._batch_bodies: list[tuple[int | None, Any]] = []
        self._faults: deque[_Fault] = deque()
        self._rejections: dict[int, tuple[str, str]] = {}
        self._attachments: dict[int, _Attachment] = {}
        self._broken_images: dict[str, str] = {}
        self._categories: dict[int, str] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def handler_class(self) -> type[_Handler]:
        return type("Handler", (_Handler,), {"store": self})

    @property
    def site_url(self) -> str:
        """What a merchant enters as the shop's address (the connector adds ``/wp-json``)."""
        return self.base_url

    @property
    def api_url(self) -> str:
        return self.site_url + API_PREFIX

    @property
    def credentials(self) -> tuple[str, str]:
        return self.consumer_key, self.consumer_secret

    # -- data -------------------------------------------------------------------------------
    def seed(self, products: Iterable[JSON]) -> list[JSON]:
        """Create products without HTTP; returns them in API shape (variable products
        with ``"variation_objects"``: their variations in API shape).

        A product: ``{"name", "type": "simple"|"variable", "sku", "global_unique_id",
        "regular_price": "12.50", "sale_price", "manage_stock", "stock_quantity",
        "description", "weight": "0.25", "images": [{"src": url}, ...],
        "date_modified_gmt": "2024-01-01T00:00:00", "variations": [variation, ...]}``
        (all optional but the name); a variation takes the same keys but name and type,
        and ``"image": {"src": url}`` instead of ``images``. Seeded images are already in
        the shop's media library: their ``src`` is kept as given.
        """
        created: list[JSON] = []
        with self._lock:
            for i, body in enumerate(products):
                if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                    raise ValueError(f"seed product #{i}: needs at least a name")
                variations = body.get("variations") or []
                ptype = str(body.get("type") or ("variable" if variations else "simple"))
                product = self._new_item(body, parent_id=0, ptype=ptype, name=body["name"])
                out = self._item_json(product)
                if variations:
                    out["variation_objects"] = []
                for vbody in variations:
                    variation = self._new_item(
                        vbody, parent_id=product.id, ptype="variation", name=body["name"]
                    )
                    product.variation_ids.append(variation.id)
                    out["variation_objects"].append(self._item_json(variation))
                out["variations"] = list(product.variation_ids)
                created.append(out)
        return created

    def seed_catalog(
        self,
        simple: int = 0,
        variable: int = 0,
        variations_each: int = 0,
        *,
        price: str = "10.00",
        stock: int = 5,
        modified: datetime | None = None,
    ) -> None:
        """A synthetic catalog for benchmarks: SKUs ``S-i`` and ``V-p-j``."""
        when = _fmt_date(modified or self._clock())
        base = {"regular_price": price, "manage_stock": True, "stock_quantity": stock}
        products: list[JSON] = [
            {"name": f"Simple {i}", "sku": f"S-{i}", "date_modified_gmt": when, **base}
            for i in range(simple)
        ]
        products += [
            {
                "name": f"Variable {p}",
                "type": "variable",
                "date_modified_gmt": when,
                "variations": [
                    {"sku": f"V-{p}-{j}", "date_modified_gmt": when, **base}
                    for j in range(variations_each)
                ],
            }
            for p in range(variable)
        ]
        self.seed(products)

    def products(self, context: str = "view") -> list[JSON]:
        """Snapshot of every product (API shape, in ``context``), by id."""
        with self._lock:
            return [self._item_json(i, context) for i in self._items.values() if not i.parent_id]

    def variations(self, product_id: int, context: str = "view") -> list[JSON]:
        with self._lock:
            parent = self._items[product_id]
            return [self._item_json(self._items[v], context) for v in parent.variation_ids]

    def item(self, item_id: int, context: str = "view") -> JSON:
        """One product or variation (API shape; ``context="edit"``: the stored description)."""
        with self._lock:
            return self._item_json(self._items[item_id], context)

    def attachments(self) -> dict[int, str]:
        """The media library: attachment id -> the shop's URL of the image."""
        with self._lock:
            return {a.id: a.src for a in self._attachments.values()}

    def add_category(self, name: str) -> int:
        """A product category (a ``product_cat`` term) created products may be put in."""
        with self._lock:
            self._next_id += 1
            self._categories[self._next_id] = name
            return self._next_id

    def item_ids(self) -> list[int]:
        """Every product and variation id, ascending."""
        with self._lock:
            return sorted(self._items)

    def set_modified(self, item_id: int, when: datetime) -> None:
        """Set ``date_modified_gmt`` (e.g. a variation changed by another app)."""
        with self._lock:
            self._items[item_id].date_modified_gmt = when.astimezone(UTC)

    def delete(self, item_id: int) -> None:
        """The merchant deletes a product (with its variations) or one variation for good
        (``DELETE /products/{id}?force=true``, ``.../variations/{id}?force=true``). Nothing
        else changes (a parent's ``date_modified_gmt`` stays), so a range read does not see
        it; a batch naming it answers the per-item ``woocommerce_rest_{kind}_invalid_id``."""
        with self._lock:
            item = self._items.pop(item_id)
            for variation_id in item.variation_ids:
                self._items.pop(variation_id, None)
            parent = self._items.get(item.parent_id) if item.parent_id else None
            if parent is not None:
                parent.variation_ids.remove(item_id)

    # -- observing --------------------------------------------------------------------------
    def requests_log(self) -> list[tuple[str, str, int]]:
        """``(method, request target incl. query, status)`` per request (a copy)."""
        with self._lock:
            return list(self._log)

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests by ``(method, path template)``, e.g. ``("POST", "/products/batch")``,
        ``("GET", "/products/{id}/variations")``, ``("GET", "/variations")``; faults and
        errors included."""
        with self._lock:
            return dict(self._counts)

    def batch_sizes(self) -> list[int]:
        """Objects per batch request that reached the batch handler, in order."""
        with self._lock:
            return list(self._batch_objects)

    def batch_bodies(self) -> list[tuple[int | None, Any]]:
        """``(parent product id or None, JSON body)`` of each batch request that reached the
        batch handler, in order (which items a write carried)."""
        with self._lock:
            return list(self._batch_bodies)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._counts.clear()
            self._batch_objects.clear()
            self._batch_bodies.clear()

    # -- faults -----------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | str | None = None,
        headers: dict[str, str] | None = None,
        body: JSON | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` (429, 500, 502, 503, ...).

        ``retry_after`` adds a ``Retry-After`` header (seconds or an HTTP date). Nothing
        is changed by a faulted request. Faults come before the auth check, like a proxy.
        """
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(retry_after)
        default = _wp_error("injected_fault", f"Injected HTTP {status}", status)
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault("status", status, all_headers, body or default))

    def slow_next(self, seconds: float, count: int = 1) -> None:
        """Delay the next ``count`` answers by ``seconds`` (the request is then served)."""
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault("slow", delay_s=seconds))

    def reset_next(self, count: int = 1, *, after_apply: bool = False) -> None:
        """Reset the connection (TCP RST) instead of answering the next ``count`` requests.

        ``after_apply``: the request is processed first, so its writes happen and only
        the answer is lost (a retry must be harmless).
        """
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault("reset", after_apply=after_apply))

    def reject_item(
        self,
        item_id: int,
        message: str = "The product could not be saved.",
        code: str = "woocommerce_rest_product_not_saved",
    ) -> None:
        """Every write of this product/variation fails with a per-item error (HTTP 200)."""
        with self._lock:
            self._rejections[item_id] = (code, message)

    def break_image_url(self, url: str, reason: str = "Not Found") -> None:
        """The shop cannot download this image URL: a write sending it fails its object."""
        with self._lock:
            self._broken_images[url] = reason

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rejections.clear()
            self._broken_images.clear()

    # -- internals (under self._lock) -------------------------------------------------------
    def _new_item(self, body: JSON, *, parent_id: int, ptype: str, name: str) -> _Item:
        self._next_id += 1
        item_id = self._next_id
        now = self._clock()
        modified = body.get("date_modified_gmt")
        money: dict[str, int | None] = {}
        for key in ("regular_price", "sale_price"):
            cents, problem = _price_cents(body.get(key, ""), key)
            if problem:
                raise ValueError(f"seed item {body!r}: {problem}")
            money[key] = cents
        stock = body.get("stock_quantity")
        weight = str(body.get("weight") or "")
        if weight and not _DECIMAL.match(weight):
            raise ValueError(f"seed item {body!r}: weight {weight!r} is not a decimal")
        images = [body["image"]] if body.get("image") else list(body.get("images") or [])
        image_ids = [self._add_attachment(str(image["src"]), rehost=False) for image in images]
        item = _Item(
            id=item_id,
            parent_id=parent_id,
            type=ptype,
            name=name,
            sku=str(body.get("sku") or ""),
            global_unique_id=str(body.get("global_unique_id") or ""),
            regular_price=money["regular_price"],
            sale_price=money["sale_price"],
            manage_stock=bool(body.get("manage_stock", stock is not None)),
            stock_quantity=None if stock is None else int(stock),
            description=str(body.get("description") or ""),
            status=str(body.get("status") or "publish"),
            weight=weight,
            image_id=image_ids[0] if image_ids else 0,
            gallery_ids=image_ids[1:],
            date_created_gmt=now,
            date_modified_gmt=_parse_date(modified) if modified else now,
        )
        self._items[item.id] = item
        return item

    def _add_attachment(self, url: str, *, rehost: bool) -> int:
        """A new image in the media library; ``rehost``: as downloaded from ``url`` (the
        shop answers its own URL for it), else ``url`` is the shop's URL already."""
        self._next_id += 1
        now = self._clock()
        name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "image"
        src = url
        if rehost:
            taken = {a.src for a in self._attachments.values()}
            stem, dot, ext = name.rpartition(".")
            if not dot:
                stem, ext = name, ""
            folder = f"{self.site_url}/wp-content/uploads/{now:%Y/%m}/"
            src, n = folder + name, 0
            while src in taken:  # WordPress's wp_unique_filename: name-1.jpg, name-2.jpg
                n += 1
                src = f"{folder}{stem}-{n}{dot}{ext}"
        title = name.rpartition(".")[0] or name
        self._attachments[self._next_id] = _Attachment(self._next_id, src, title, now)
        return self._next_id

    def _image_json(self, attachment_id: int) -> JSON | None:
        attachment = self._attachments.get(attachment_id)
        if attachment is None:
            return None
        when = _fmt_date(attachment.date_gmt)
        return {
            "id": attachment.id,
            "date_created": when,
            "date_created_gmt": when,
            "date_modified": when,
            "date_modified_gmt": when,
            "src": attachment.src,
            "name": attachment.name,
            "alt": "",
        }

    def _item_json(self, item: _Item, context: str = "view") -> JSON:
        active = item.sale_price if item.sale_price is not None else item.regular_price
        data: JSON = {
            "id": item.id,
            "name": item.name,
            "type": item.type,
            "status": item.status,
            "sku": item.sku,
            "global_unique_id": item.global_unique_id,
            "price": _money_text(active),
            "regular_price": _money_text(item.regular_price),
            "sale_price": _money_text(item.sale_price),
            "on_sale": item.sale_price is not None,
            "manage_stock": item.manage_stock,
            "stock_quantity": item.stock_quantity if item.manage_stock else None,
            "stock_status": "instock"
            if not item.manage_stock or (item.stock_quantity or 0) > 0
            else "outofstock",
            "date_created": _fmt_date(item.date_created_gmt),
            "date_created_gmt": _fmt_date(item.date_created_gmt),
            "date_modified": _fmt_date(item.date_modified_gmt),
            "date_modified_gmt": _fmt_date(item.date_modified_gmt),
            "weight": item.weight,
            "dimensions": {"length": "", "width": "", "height": ""},
            "meta_data": [],
        }
        if item.parent_id:
            # The variations controller reads through the view-context getters whatever
            # the request's context: no weight or image of its own -> the parent's.
            parent = self._items[item.parent_id]
            del data["type"]
            data["parent_id"] = item.parent_id
            data["description"] = _wpautop(item.description)
            own_weight, own_image = item.weight, item.image_id
            data["weight"] = parent.weight if _php_empty(own_weight) else own_weight
            data["image"] = self._image_json(
                parent.image_id if _php_empty(own_image) else own_image
            )
            data["attributes"] = [{"id": 0, **a} for a in item.attributes]
        else:
            data["parent_id"] = 0
            data["description"] = (
                item.description if context == "edit" else _wpautop(item.description)
            )
            data["short_description"] = ""
            ids = ([item.image_id] if item.image_id else []) + item.gallery_ids
            data["images"] = [j for j in map(self._image_json, ids) if j is not None]
            data["variations"] = list(item.variation_ids)
            data["attributes"] = [{"id": 0, **a} for a in item.attributes]
            data["categories"] = [
                {"id": c, "name": self._categories[c], "slug": _slug(self._categories[c])}
                for c in item.category_ids
                if c in self._categories
            ]
        return data

    def _record(self, method: str, target: str, template: str, status: int) -> None:
        with self._lock:
            self._log.append((method, target, status))
            self._counts[(method, template)] += 1

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _list(
        self, template: str, parent_id: int | None, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        """A collection: ``/products``, ``/products/{id}/variations`` (``parent_id``) or
        ``/variations`` (every product's)."""

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        try:
            page = int(one("page") or 1)
            per_page = int(one("per_page") or DEFAULT_PER_PAGE)
        except ValueError:
            return 400, _wp_error("rest_invalid_param", "Invalid parameter(s): page", 400), {}
        if page < 1:
            msg = "Invalid parameter(s): page"
            return 400, _wp_error("rest_invalid_param", msg, 400, params={"page": msg}), {}
        if not 1 <= per_page <= MAX_PER_PAGE:
            why = f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)"
            err = _wp_error(
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                400,
                params={"per_page": why},
            )
            return 400, err, {}
        bounds: dict[str, datetime] = {}
        for name in ("modified_after", "modified_before"):
            raw = one(name)
            if raw is None:
                continue
            try:
                bounds[name] = _parse_date(raw)
            except ValueError:
                why = f"Invalid date: {raw!r}"
                err = _wp_error(
                    "rest_invalid_param",
                    f"Invalid parameter(s): {name}",
                    400,
                    params={name: why},
                )
                return 400, err, {}
        context = one("context") or "view"
        if context not in ("view", "embed", "edit"):
            why = "context is not one of view, embed, and edit."
            err = _wp_error(
                "rest_invalid_param", "Invalid parameter(s): context", 400, params={"context": why}
            )
            return 400, err, {}
        # WordPress takes a list as "1,2" or as repeated include[]=1&include[]=2.
        raw_include = [part for v in query.get("include", []) for part in v.split(",")]
        raw_include += query.get("include[]", [])
        try:
            include = {int(part) for part in raw_include if part.strip()}
        except ValueError:
            why = "include[0] is not of type integer."
            err = _wp_error(
                "rest_invalid_param", "Invalid parameter(s): include", 400, params={"include": why}
            )
            return 400, err, {}
        # sku: one or several, comma-separated (exact, case-sensitive as MySQL's default is not).
        skus = {part.strip() for v in query.get("sku", []) for part in v.split(",") if part.strip()}
        wanted_type = one("type")
        orderby = one("orderby") or "date"
        descending = (one("order") or "desc").lower() == "desc"
        fields = [f for f in (one("_fields") or "").split(",") if f]
        with self._lock:
            if template == "/variations":
                pool = [i for i in self._items.values() if i.parent_id]
            elif parent_id is None:
                pool = [i for i in self._items.values() if not i.parent_id]
            else:
                parent = self._items.get(parent_id)
                ids = parent.variation_ids if parent and not parent.parent_id else []
                pool = [self._items[v] for v in ids]
            if wanted_type and template == "/products":
                pool = [i for i in pool if i.type == wanted_type]
            if include:
                pool = [i for i in pool if i.id in include]
            if skus:
                pool = [i for i in pool if i.sku in skus]
            after, before = bounds.get("modified_after"), bounds.get("modified_before")
            if after is not None:
                pool = [i for i in pool if i.date_modified_gmt.replace(microsecond=0) > after]
            if before is not None:
                pool = [i for i in pool if i.date_modified_gmt.replace(microsecond=0) < before]
            if orderby == "id":
                pool.sort(key=lambda i: i.id, reverse=descending)
            elif orderby == "modified":
                pool.sort(key=lambda i: (i.date_modified_gmt, i.id), reverse=descending)
            else:
                pool.sort(key=lambda i: (i.date_created_gmt, i.id), reverse=descending)
            total = len(pool)
            start = (page - 1) * per_page
            rows = [self._item_json(i, context) for i in pool[start : start + per_page]]
        if fields:
            keep = set(fields) | {"id"}
            rows = [{k: v for k, v in row.items() if k in keep} for row in rows]
        headers = {
            "X-WP-Total": str(total),
            "X-WP-TotalPages": str(math.ceil(total / per_page)),
        }
        return 200, rows, headers

    def _batch(self, parent_id: int | None, body: Any) -> tuple[int, JSON]:
        if not isinstance(body, dict):
            return 400, _wp_error("rest_invalid_json", "Invalid JSON body passed.", 400)
        with self._lock:
            self._batch_bodies.append((parent_id, body))
        total = 0
        for key in ("create", "update", "delete"):
            value = body.get(key)
            if value is None:
                continue
            if not isinstance(value, list):
                msg = f"Invalid parameter(s): {key}"
                why = f"{key} is not of type array."
                return 400, _wp_error("rest_invalid_param", msg, 400, params={key: why})
            total += len(value)
        with self._lock:
            self._batch_objects.append(total)
        if total > self.batch_limit:
            msg = f"Unable to accept more than {self.batch_limit} items for this request."
            return 413, _wp_error("woocommerce_rest_request_entity_too_large", msg, 413)
        kind = "product" if parent_id is None else "product_variation"
        out: JSON = {}
        # WooCommerce's batch_items runs create, then update, then delete.
        if "create" in body:
            out["create"] = [create_one(self, parent_id, kind, obj) for obj in body["create"]]
        if "update" in body:
            out["update"] = [self._update_one(parent_id, kind, obj) for obj in body["update"]]
        if "delete" in body:
            out["delete"] = [delete_one(self, parent_id, kind, raw) for raw in body["delete"]]
        return 200, out

    def _set_images(self, images: list[JSON], *, variation: bool) -> tuple[list[int], JSON | None]:
        """Attachment ids for ``images`` (``{"id"}`` or ``{"src"}``), downloading the new
        ones; or the error that fails the whole object (then nothing is added)."""
        what = "variation" if variation else "product"
        plan: list[int | str] = []
        for image in images:
            if not image:
                continue  # array_filter() drops empty entries
            raw = image.get("id")
            attachment_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
            src = image.get("src")
            if attachment_id == 0 and isinstance(src, str):
                parts = urlsplit(src)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    msg = f"Invalid URL {src}."
                    return [], _wp_error(f"woocommerce_{what}_image_upload_error", msg, 400)
                if src in self._broken_images:
                    msg = f"Error getting remote image {src}. Error: {self._broken_images[src]}"
                    return [], _wp_error(f"woocommerce_{what}_image_upload_error", msg, 400)
                plan.append(src)
            elif attachment_id in self._attachments:
                plan.append(attachment_id)
            elif variation and attachment_id == 0 and "src" not in image:
                return [], None  # {"id": 0}: the variation's image is removed
            else:
                msg = f"#{attachment_id} is an invalid image ID."
                return [], _wp_error(f"woocommerce_{what}_invalid_image_id", msg, 400)
        ids = [
            self._add_attachment(entry, rehost=True) if isinstance(entry, str) else entry
            for entry in plan
        ]
        return (ids[:1] if variation else ids), None

    def _update_one(self, parent_id: int | None, kind: str, obj: Any) -> JSON:
        raw_id = obj.get("id") if isinstance(obj, dict) else None
        invalid = {
            "id": raw_id,
            "error": _wp_error(f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.", 400),
        }
        try:
            item_id = int(str(raw_id))  # WordPress casts the id
        except ValueError:
            return invalid
        with self._lock:
            item = self._items.get(item_id)
            if item is None or not isinstance(obj, dict):
                return invalid
            if parent_id is None and item.parent_id:
                return invalid
            if parent_id is not None and item.parent_id != parent_id:
                return invalid
            rejection = self._rejections.get(item_id)
            if rejection is not None:
                return {"id": raw_id, "error": _wp_error(rejection[0], rejection[1], 400)}
            attributes: list[JSON] | None = None
            if parent_id is None and obj.get("attributes") is not None:
                parsed = product_attributes(obj["attributes"])
                if isinstance(parsed, str):
                    why = {"attributes": parsed}
                    msg = "Invalid parameter(s): attributes"
                    return {
                        "id": raw_id,
                        "error": _wp_error("rest_invalid_param", msg, 400, params=why),
                    }
                attributes = parsed
            error = self._write_fields(item, obj, parent_id, kind)
            if error is not None:
                return {"id": raw_id, "error": error}
            if attributes is not None:
                item.attributes = attributes
            return self._item_json(item)

    def _write_fields(
        self, item: _Item, obj: JSON, parent_id: int | None, kind: str
    ) -> JSON | None:
        """Write an update (or create) object's fields into ``item``; the error that fails the
        object instead (then nothing is changed)."""
        changes, problems = _parse_update(obj, item, is_variation=parent_id is not None)
        if problems:
            names = ", ".join(problems)
            return _wp_error(
                "rest_invalid_param", f"Invalid parameter(s): {names}", 400, params=problems
            )
        regular = changes.get("regular_price", item.regular_price)
        sale = changes.get("sale_price", item.sale_price)
        if regular is not None and sale is not None and sale > regular:
            msg = "Please enter in a value less than the regular price."
            return _wp_error(f"woocommerce_rest_{kind}_invalid_sale_price", msg, 400)
        if "images" in changes or "image" in changes:
            entries = changes.pop("images") if "images" in changes else changes.pop("image")
            ids, error = self._set_images(entries, variation=parent_id is not None)
            if error is not None:
                return error
            changes["image_id"] = ids[0] if ids else 0
            if parent_id is None:
                changes["gallery_ids"] = ids[1:]
        for key, value in changes.items():
            setattr(item, key, value)
        if not item.manage_stock:
            item.stock_quantity = None
        now = self._clock()
        item.date_modified_gmt = now
        if item.parent_id and self.bump_parent_on_variation_write:
            self._items[item.parent_id].date_modified_gmt = now
        return None


# The REST schema's product (and variation) status enum ("future" is a scheduled product).
_POST_STATUSES: Final = ("draft", "pending", "private", "publish", "future")


def _parse_update(obj: JSON, item: _Item, *, is_variation: bool) -> tuple[JSON, dict[str, str]]:
    """The attribute changes of one ``update`` object and the problems, by parameter."""
    changes: JSON = {}
    problems: dict[str, str] = {}
    for key in ("regular_price", "sale_price"):
        if key in obj and obj[key] is not None:
            cents, problem = _price_cents(obj[key], key)
            if problem:
                problems[key] = problem
            else:
                changes[key] = cents
    if "manage_stock" in obj:
        if not isinstance(obj["manage_stock"], bool):
            problems["manage_stock"] = "manage_stock is not of type boolean."
        else:
            changes["manage_stock"] = obj["manage_stock"]
    if "stock_quantity" in obj and obj["stock_quantity"] is not None:
        qty = obj["stock_quantity"]
        if isinstance(qty, bool) or not isinstance(qty, int):
            problems["stock_quantity"] = "stock_quantity is not of type integer."
        else:
            changes["stock_quantity"] = qty
    if "name" in obj and not is_variation:
        name = obj["name"]
        if not isinstance(name, str) or not name.strip():
            problems["name"] = "name is not a non-empty string."
        else:
            changes["name"] = name
    if "status" in obj and obj["status"] is not None:
        if obj["status"] not in _POST_STATUSES:
            problems["status"] = f"status is not one of {', '.join(_POST_STATUSES)}."
        else:
            changes["status"] = obj["status"]
    if "description" in obj and obj["description"] is not None:
        if not isinstance(obj["description"], str):
            problems["description"] = "description is not of type string."
        else:
            changes["description"] = wp_filter_post_kses(obj["description"])
    if "weight" in obj and obj["weight"] is not None:
        weight = obj["weight"]
        if not isinstance(weight, str):
            problems["weight"] = "weight is not of type string."
        elif weight.strip() and not _DECIMAL.match(weight.strip()):
            problems["weight"] = f"weight is not a valid decimal (got {weight!r})."
        else:
            changes["weight"] = weight.strip()
    # Images are resolved (and "downloaded") by the caller once everything else is valid.
    if is_variation and obj.get("image") is not None:  # null: isset() is false, no change
        if not isinstance(obj["image"], dict):
            problems["image"] = "image is not of type object."
        else:
            changes["image"] = [obj["image"]]
    if not is_variation and obj.get("images") is not None:
        images = obj["images"]
        if not isinstance(images, list) or not all(isinstance(i, dict) for i in images):
            problems["images"] = "images is not of type array of objects."
        else:
            changes["images"] = images
    if "stock_quantity" in changes and not changes.get("manage_stock", item.manage_stock):
        # WooCommerce ignores a quantity unless stock is managed: keep that visible.
        changes.pop("stock_quantity")
    return changes, problems


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _php_empty(value: Any) -> bool:
    """PHP's ``empty()``: "", "0", 0, null, false (but "0.0", "00" and " " are not)."""
    return value is None or value is False or value == 0 or value in ("", "0")


# WordPress's $allowedposttags (wp-includes/kses.php): the elements a description keeps.
_KSES_ELEMENTS = frozenset({
    "address", "a", "abbr", "acronym", "area", "article", "aside", "audio", "b", "bdo", "big",
    "blockquote", "br", "button", "caption", "cite", "code", "col", "colgroup", "del", "dd", "dfn",
    "details", "div", "dl", "dt", "em", "fieldset", "figure", "figcaption", "font", "footer", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "img", "ins", "kbd", "label",
    "legend", "li", "map", "mark", "menu", "nav", "p", "pre", "q", "s", "samp", "span", "section",
    "small", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "textarea",
    "tfoot", "th", "thead", "title", "tr", "track", "tt", "u", "ul", "ol", "var", "video",
})  # fmt: skip
# $allowedentitynames: the HTML 4 named entities and "apos".
_KSES_ENTITIES = frozenset({*name2codepoint, "apos"})
_KSES_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_KSES_AMP = re.compile(
    r"&(?:([A-Za-z]{2,8}[0-9]{0,2});|#(0*[0-9]{1,7});|#[Xx](0*[0-9A-Fa-f]{1,6});)?"
)
_KSES_SPLIT = re.compile(r"(<!--.*?(?:-->|$))|(<[^>]*(?:>|$)|>)")
_KSES_TAG = re.compile(r"^<\s*(/\s*)?([a-zA-Z0-9-]+)([^>]*)>?$")
_KSES_HTML_ERROR = re.compile(r"""^("[^"]*("|$)|'[^']*('|$)|\S)*\s*""")


def wp_filter_post_kses(text: str) -> str:
    """The subset of WordPress's ``wp_kses(text, 'post')`` the module docstring lists."""
    text = _KSES_CONTROL.sub("", text)
    text = _KSES_AMP.sub(_kses_entity, text)
    return _KSES_SPLIT.sub(_kses_split2, text)


def _valid_unicode(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _kses_entity(match: re.Match[str]) -> str:
    """``wp_kses_normalize_entities``: one ``&``, spelled as WordPress stores it."""
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return f"&{name};" if name in _KSES_ENTITIES else f"&amp;{name};"
    if decimal is not None:
        if decimal == "0":  # PHP empty("0"): the reference is dropped
            return ""
        if _valid_unicode(int(decimal)):
            return f"&#{decimal.lstrip('0').rjust(3, '0')};"
        return f"&amp;#{decimal};"
    if hexadecimal is not None:
        if _valid_unicode(int(hexadecimal, 16)):
            return f"&#x{hexadecimal.lstrip('0')};"
        return f"&amp;#x{hexadecimal};"
    return "&amp;"


def _kses_split2(match: re.Match[str]) -> str:
    """``wp_kses_split2``: one tag, comment or stray ``>``."""
    if match.group(1) is not None:
        return match.group(1)  # a comment: kept as sent (WordPress also filters inside)
    tag = match.group(2).replace('\\"', '"')  # wp_kses_stripslashes
    if not tag.startswith("<"):
        return "&gt;"
    if tag.startswith("<!--"):
        return tag  # a comment over several lines
    parts = _KSES_TAG.match(tag)
    if parts is None or parts.group(2).lower() not in _KSES_ELEMENTS:
        return ""
    element, attributes = parts.group(2), parts.group(3)
    if parts.group(1) is not None:
        return f"</{element}>"
    slash = " /" if re.search(r"\s*/\s*$", attributes) else ""
    kept = "".join(
        f" {whole}" for name, whole in _kses_hair(attributes) if not name.lower().startswith("on")
    )
    return f"<{element}{re.sub(r'[<>]', '', kept)}{slash}>"


def _kses_hair(attributes: str) -> list[tuple[str, str]]:
    """``wp_kses_hair``: ``(name, whole)`` per attribute, the first of a repeated name."""
    found: dict[str, str] = {}
    mode, name, rest = 0, "", attributes
    while rest:
        working = False
        if mode == 0:
            m = re.match(r"[-a-zA-Z:]+", rest)
            if m:
                name, mode, working, rest = m.group(), 1, True, rest[m.end() :]
        elif mode == 1:
            m = re.match(r"\s*=\s*", rest)
            if m:
                mode, working, rest = 2, True, rest[m.end() :]
            elif m := re.match(r"\s+", rest):
                found.setdefault(name, name)  # valueless
                mode, working, rest = 0, True, rest[m.end() :]
        else:
            for pattern, strip, quote in (
                (r'"([^"]*)"(\s+|/?$)', r'^"[^"]*"(\s+|$)', '"'),
                (r"'([^']*)'(\s+|/?$)", r"^'[^']*'(\s+|$)", "'"),
                (r"""([^\s"']+)(\s+|/?$)""", r"""^[^\s"']+(\s+|$)""", '"'),
            ):
                m = re.match(pattern, rest)
                if m:
                    found.setdefault(name, f"{name}={quote}{m.group(1)}{quote}")
                    mode, working, rest = 0, True, re.sub(strip, "", rest, count=1)
                    break
        if not working:  # wp_kses_html_error: drop the malformed part, start again
            rest = _KSES_HTML_ERROR.sub("", rest, count=1)
            mode = 0
    if mode == 1:
        found.setdefault(name, name)
    return list(found.items())


def _wpautop(text: str) -> str:
    """WordPress's ``wpautop``, simplified: blank-line separated paragraphs become
    ``<p>..</p>`` and single line breaks ``<br />`` (what the REST API answers for a
    description in the default ``view`` context)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join("<p>" + p.replace("\n", "<br />\n") + "</p>\n" for p in paragraphs if p)


def _route(path: str) -> tuple[str, int | None] | None:
    """``(template, product id)`` for an API path under the prefix, else None."""
    parts = [p for p in path.split("/") if p]
    if parts == ["products"]:
        return "/products", None
    if parts == ["products", "batch"]:
        return "/products/batch", None
    if parts == ["variations"]:
        return "/variations", None
    if len(parts) in (3, 4) and parts[0] == "products" and parts[2] == "variations":
        if not parts[1].isdigit():
            return None
        if len(parts) == 3:
            return "/products/{id}/variations", int(parts[1])
        if parts[3] == "batch":
            return "/products/{id}/variations/batch", int(parts[1])
    return None


class _Handler(QuietHandler):
    store: WooCommerceDouble  # set on the per-server subclass
    server_version = "feedsync-woo-double/1"

    def _send(
        self,
        method: str,
        template: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=UTF-8",
    ) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        # Log first: once the client has the answer, the log must already show it.
        self.store._record(method, self.path, template, status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (a timeout after slow_next): nothing to tell
            self.close_connection = True

    def _reset(self, method: str, template: str) -> None:
        self.store._record(method, self.path, template, 0)
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        double = self.store
        if not double.pretty_permalinks or not url.path.startswith(API_PREFIX):
            # Plain permalinks: /wp-json/ is not routed, WordPress serves its HTML 404 page.
            html = b"<!doctype html><html><body><h1>Page not found</h1></body></html>"
            self._send(method, url.path, 404, html, content_type="text/html; charset=UTF-8")
            return
        rest = url.path[len(API_PREFIX) :]
        routed = _route(rest)
        if routed is not None and routed[0] == "/variations" and not double.store_wide_variations:
            routed = None  # WooCommerce before 10.3
        template = routed[0] if routed else rest
        fault = double._take_fault()
        if fault is not None and fault.kind == "status":
            self._send(method, template, fault.status, fault.body, fault.headers)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_s)
        if fault is not None and fault.kind == "reset" and not fault.after_apply:
            self._reset(method, template)
            return
        is_get = method == "GET"
        allowed = routed is not None and (
            (is_get and not routed[0].endswith("/batch"))
            or (method in ("POST", "PUT", "PATCH") and routed[0].endswith("/batch"))
        )
        if routed is None or not allowed:
            msg = "No route was found matching the URL and request method."
            self._send(method, template, 404, _wp_error("rest_no_route", msg, 404))
            return
        auth_error = self._auth_error(is_get)
        if auth_error is not None:
            self._send(method, template, 401, auth_error)
            return
        status: int
        headers: dict[str, str] = {}
        try:
            if is_get:
                status, response, headers = double._list(*routed, parse_qs(url.query))
            else:
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                status, response = double._batch(routed[1], body)
        except Exception as exc:  # a double bug must look like a platform 500, not a hang
            status = 500
            response = _wp_error("internal_server_error", f"Internal double error: {exc!r}", 500)
        if fault is not None and fault.kind == "reset":
            self._reset(method, template)
            return
        self._send(method, template, status, response, headers)

    def _auth_error(self, is_get: bool) -> JSON | None:
        double = self.store
        header = self.headers.get("Authorization") or ""
        if not header.lower().startswith("basic "):
            if is_get:
                return _wp_error(
                    "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401
                )
            msg = "Sorry, you are not allowed to batch manipulate this resource."
            return _wp_error("woocommerce_rest_cannot_batch", msg, 401)
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        key, _, secret = decoded.partition(":")
        if not secrets.compare_digest(key.encode(), double.consumer_key.encode()):
            return _wp_error(
                "woocommerce_rest_authentication_error", "Consumer key is invalid.", 401
            )
        if not secrets.compare_digest(secret.encode(), double.consumer_secret.encode()):
            msg = "Consumer secret is invalid."
            return _wp_error("woocommerce_rest_authentication_error", msg, 401)
        if is_get and double.permissions == "write":
            msg = "The API key provided does not have read permissions."
            return _wp_error("woocommerce_rest_authentication_error", msg, 401)
        if not is_get and double.permissions == "read":
            msg = "The API key provided does not have write permissions."
            return _wp_error("woocommerce_rest_authentication_error", msg, 401)
        return None


__all__ = ["API_PREFIX", "BATCH_LIMIT", "MAX_PER_PAGE", "WooCommerceDouble"]
