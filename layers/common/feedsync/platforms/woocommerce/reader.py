"""Reading a WooCommerce catalog into variants, whole or by modification range.

``GET /products?context=edit`` 100 per page in id order (stable while the shop
changes), paged by ``X-WP-TotalPages``; a variable product's variations come from
``GET /products/{id}/variations``. ``context=edit`` because in the default ``view``
context WooCommerce answers a product's description through ``wpautop`` and
``do_shortcode`` (and prices through plugins' display filters): what we wrote would
never read back the same. A range import filters products with
``modified_after``/``modified_before`` (GMT). Changing a variation does not reliably
touch its parent's ``date_modified_gmt``, so a range import also looks for products
whose variations changed in the range:

* WooCommerce 10.3+ lists variations across products (``GET /variations``, each with
  its ``parent_id``): the variations modified in the range are paged with
  ``_fields=id,parent_id``. Cost: ``ceil(changed variations/100)`` small requests
  (one when nothing changed).
* An older shop answers that route 404 ``rest_no_route`` (a shop whose answer lacks
  ``parent_id`` is treated alike; remembered for the connector's lifetime, so it is
  asked once): the catalog's ids are paged
  (``_fields=id,name,type,variations``) and each variable product outside the range
  is asked whether a variation changed (``/products/{id}/variations?per_page=1`` with
  the same range). Cost: ``ceil(products/100)`` small pages plus one small request
  per variable product.

Those products are read whole (the index replaces whole products), their content
fields fetched by id (``include=``, 100 per request) and their variations from
``/products/{id}/variations``. Set ``check_unchanged_parents = False`` on the
connector where parents are known to be bumped.

Content fields, as the index keeps them (``domain.content``):

* ``description`` is the product's (a variation's own ``description`` field is a
  different, per-variation text and is not read): kept as its digest. WooCommerce
  stores a description through ``wp_filter_post_kses``, which respells it (``&`` as
  ``&amp;``, ``<br/>`` as ``<br />``); the digest is taken from a canonical spelling
  those share, so such a description reads back unchanged (the markup kses removes
  is the writer's warning).
* ``brand`` is None: WooCommerce keeps brands as taxonomy terms (not writable here).
* ``weight`` is a string in WooCommerce; kept as canonical decimal text. A variation
  without a weight of its own ships with its parent's (the API reads it through
  ``get_weight()`` in view context); an empty one is given the parent's here as well.
* the image URL: a simple product's first ``images`` entry (the featured image), a
  variation's ``image``. WooCommerce answers a variation without an image of its own
  with its parent's featured image (``get_image_id()`` in view context, whatever the
  request's context), so a variation whose image is its parent's featured image counts
  as having none. (A merchant who deliberately gave a variation the parent's featured
  image sees it replaced by a partial sync; a parent without a featured image lists its
  gallery first, so a variation using the first gallery image is treated the same.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Protocol

from feedsync.domain.content import canonical_weight, description_digest
from feedsync.domain.fields import Variant
from feedsync.errors import StoreRequestError
from feedsync.platforms.woocommerce.client import ShopClient
from feedsync.platforms.woocommerce.endpoints import (
    BY_ID,
    EDIT,
    PARENT_FIELDS,
    PRODUCT_KIND_FIELDS,
    PRODUCTS,
    STORE_VARIATIONS,
    VARIATION_FIELDS,
    modified_window,
    product_variations,
    to_cents,
)
from feedsync.platforms.woocommerce.responses import READ, Expect, int_header, json_list

JSON = dict[str, Any]

# A product deleted while the catalog is read: its variations answer 404, skipped.
_MAY_BE_GONE = Expect(resource_gone=True)
# GET /variations exists from WooCommerce 10.3 on; older shops answer rest_no_route.
_OPTIONAL_ROUTE = Expect(optional_route=True)


class ReadSettings(Protocol):
    """The connector's tunables, read at each use (an instance or subclass may set them)."""

    page_size: int
    check_unchanged_parents: bool


class _NoRoute(Exception):
    """The shop has no such REST route (404 ``rest_no_route``): an older WooCommerce."""


class _Parent(NamedTuple):
    """What a variation takes from its product."""

    name: str | None
    description: str | None  # digest
    weight: Any  # as WooCommerce sent it
    image_id: int | None  # the first of ``images``: the featured image when there is one
    visible: bool | None  # the product's status (``_visible``)


class CatalogReader:
    """Products and variations of one shop, as ``Variant`` tuples."""

    def __init__(self, client: ShopClient, settings: ReadSettings) -> None:
        self._client = client
        self._settings = settings
        # Whether the shop lists variations across products (GET /variations,
        # WooCommerce 10.3+); None until a range import asked.
        self.store_wide_variations: bool | None = None

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all without a range)."""
        window = modified_window(modified_since, modified_until)
        params: JSON = {**BY_ID, **EDIT, **window}
        done: set[int] = set()
        for product in self._pages(PRODUCTS, params):
            pid = int(product["id"])
            kind = _kind(product)
            if kind == "simple":
                yield self._simple_variant(product)
            elif kind == "variable":
                done.add(pid)
                yield from self._variations(pid, _parent(product))
        if not window or not self._settings.check_unchanged_parents:
            return
        # A variation can change without its parent: read the products whose variations
        # changed (those read above aside) whole, their content fields (description,
        # weight, featured image) fetched by id, 100 per request; a product deleted
        # meanwhile is not listed and is skipped.
        changed = self._parents_of_changed_variations(window, done)
        size = self._settings.page_size
        for start in range(0, len(changed), size):
            chunk = changed[start : start + size]
            query = {"include": ",".join(map(str, chunk)), **BY_ID}
            query |= {**EDIT, "_fields": PARENT_FIELDS}
            for product in self._pages(PRODUCTS, query):
                pid = int(product["id"])
                if pid in chunk and _kind(product) == "variable":
                    yield from self._variations(pid, _parent(product))

    # -- products whose variations changed --------------------------------------------------
    def _parents_of_changed_variations(self, window: JSON, done: set[int]) -> list[int]:
        """Ids of the products, but ``done``, with a variation modified in ``window``."""
        if self.store_wide_variations is not False:
            parents = self._store_wide_variation_parents(window)
            self.store_wide_variations = parents is not None
            if parents is not None:
                return sorted(parents - done)
        return self._probe_variable_products(window, done)

    def _store_wide_variation_parents(self, window: JSON) -> set[int] | None:
        """The parents of the variations modified in ``window`` from ``GET /variations``
        (WooCommerce 10.3+); None when the shop has no such route or its answer does not
        name the parents (a plugin trimming fields): then each product must be asked."""
        query = {**BY_ID, "_fields": VARIATION_FIELDS, **window}
        parents: set[int] = set()
        try:
            for variation in self._pages(STORE_VARIATIONS, query, _OPTIONAL_ROUTE):
                if "parent_id" not in variation:
                    return None
                parent_id = _int_or_none(variation["parent_id"])
                if parent_id:  # 0: an orphaned variation, in no product
                    parents.add(parent_id)
        except _NoRoute:
            return None
        return parents

    def _probe_variable_products(self, window: JSON, done: set[int]) -> list[int]:
        """Ids of the variable products, but ``done``, with a variation modified in
        ``window``, asking each one (shops without ``GET /variations``)."""
        ids = {**BY_ID, "_fields": PRODUCT_KIND_FIELDS}
        changed: list[int] = []
        for product in self._pages(PRODUCTS, ids):
            pid = int(product["id"])
            if pid in done or _kind(product) != "variable":
                continue
            path = product_variations(pid)
            probe = self._client.get(path, {"per_page": 1, "page": 1, **window}, _MAY_BE_GONE)
            if probe.kind == "gone":
                continue
            status = probe.response.status_code
            if json_list(probe.body, status, self._client.where("GET", path)):
                changed.append(pid)
        return changed

    # -- lists ------------------------------------------------------------------------------
    def _pages(self, path: str, params: JSON, expect: Expect = READ) -> Iterator[JSON]:
        """Every row of a list. A ``gone`` answer ends it: a product deleted while the
        catalog is read (``resource_gone``), or, for an ``optional_route``, a shop
        without the route, which raises ``_NoRoute``."""
        size = self._settings.page_size
        page = 1
        while True:
            query = {**params, "per_page": size, "page": page}
            reply = self._client.get(path, query, expect)
            if reply.kind == "gone":
                if expect.optional_route:
                    raise _NoRoute(f"GET {path}")
                return
            response = reply.response
            rows = json_list(reply.body, response.status_code, self._client.where("GET", path))
            yield from rows
            total_pages = int_header(response, "X-WP-TotalPages")
            if not rows or (total_pages is not None and page >= total_pages):
                return
            if total_pages is None and len(rows) < size:
                return
            page += 1

    # -- variants ---------------------------------------------------------------------------
    def _variations(self, pid: int, parent: _Parent) -> Iterator[Variant]:
        path = product_variations(pid)
        for variation in self._pages(path, dict(BY_ID), _MAY_BE_GONE):
            vid = int(variation["id"])
            image = variation.get("image")
            image_url = _image_src(image)
            own_id = _int_or_none(image.get("id")) if isinstance(image, dict) else None
            if parent.image_id is not None and own_id == parent.image_id:
                image_url = None  # the parent's featured image, shown in its place
            weight = variation.get("weight")
            yield (
                pid,
                vid,
                variation.get("sku") or None,
                variation.get("global_unique_id") or None,
                self._money(variation, "regular_price", pid, vid),
                self._money(variation, "sale_price", pid, vid),
                None,
                None,
                self._stock(variation, pid, vid),
                parent.name,
                variation.get("date_modified_gmt") or None,
                None,
                parent.description,
                None,
                canonical_weight(parent.weight if weight is None or weight == "" else weight),
                image_url,
                parent.visible,
            )

    def _simple_variant(self, product: JSON) -> Variant:
        pid = int(product["id"])
        images = product.get("images")
        return (
            pid,
            pid,
            product.get("sku") or None,
            product.get("global_unique_id") or None,
            self._money(product, "regular_price", pid),
            self._money(product, "sale_price", pid),
            None,
            None,
            self._stock(product, pid),
            product.get("name") or None,
            product.get("date_modified_gmt") or None,
            None,
            description_digest(_text(product.get("description"))),
            None,
            canonical_weight(product.get("weight")),
            next(filter(None, map(_image_src, images)), None) if isinstance(images, list) else None,
            _visible(product.get("status")),
        )

    def _money(self, obj: JSON, key: str, pid: int, vid: int | None = None) -> int | None:
        try:
            return to_cents(obj.get(key))
        except ValueError as exc:
            raise StoreRequestError(
                f"{self._client.shop}: {_what(pid, vid)} has an unreadable {key}: {exc}"
            ) from None

    def _stock(self, obj: JSON, pid: int, vid: int | None = None) -> int | None:
        # manage_stock is true, false, or "parent" (a variation using its parent's stock).
        if obj.get("manage_stock") is False:
            return None
        quantity = obj.get("stock_quantity")
        if quantity is None or quantity == "":
            return None
        try:
            return int(Decimal(str(quantity)))
        except (InvalidOperation, ValueError):
            raise StoreRequestError(
                f"{self._client.shop}: {_what(pid, vid)} has an unreadable "
                f"stock_quantity {quantity!r}"
            ) from None


def _kind(product: JSON) -> str:
    """simple (the product is its own variant), variable, or skip (grouped: no price)."""
    ptype = str(product.get("type") or "simple")
    if ptype == "grouped":
        return "skip"
    variations = product.get("variations")
    if (isinstance(variations, list) and variations) or ptype.startswith("variable"):
        return "variable"
    return "simple"


def _parent(product: JSON) -> _Parent:
    images = product.get("images")
    first = images[0] if isinstance(images, list) and images else None
    return _Parent(
        str(product.get("name") or "") or None,
        description_digest(_text(product.get("description"))),
        product.get("weight"),
        _int_or_none(first.get("id")) if isinstance(first, dict) else None,
        _visible(product.get("status")),
    )


def _visible(status: Any) -> bool | None:
    """``publish`` is on view, ``private`` hidden as feedsync hides a product; a draft,
    pending or scheduled product (the merchant's own, not ready) or none: None
    (``fields.VISIBLE_AT``)."""
    return {"publish": True, "private": False}.get(status) if isinstance(status, str) else None


def _what(pid: int, vid: int | None) -> str:
    return f"product {pid}" + (f" variation {vid}" if vid is not None else "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _image_src(image: Any) -> str | None:
    """An image object's URL; None for none (or WooCommerce's id-0 placeholder)."""
    if not isinstance(image, dict) or _int_or_none(image.get("id")) == 0:
        return None
    src = image.get("src")
    return src if isinstance(src, str) and src.strip() else None
