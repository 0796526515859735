"""WooCommerce REST API v3 connector: read products and variations, write batches.

Base URL ``{site}/wp-json/wc/v3``; the consumer key/secret go as HTTP Basic auth, which
WooCommerce accepts over HTTPS only (over plain HTTP it wants OAuth 1.0a signatures, and
Basic auth would send the secret in clear), so plain ``http://`` is refused unless
``allow_http`` (the loopback double).

Reading: ``GET /products?context=edit`` 100 per page in id order (stable while the shop
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
``/products/{id}/variations``. Set ``check_unchanged_parents = False`` where parents
are known to be bumped.

Content fields, as the index keeps them (``domain.content``):

* ``description`` is the product's (a variation's own ``description`` field is a
  different, per-variation text and is not read): kept as its digest. WooCommerce
  stores a description through ``wp_filter_post_kses``, which respells it (``&`` as
  ``&amp;``, ``<br/>`` as ``<br />``); the digest is taken from a canonical spelling
  those share, so such a description reads back unchanged. Known limits, where a
  description reads back different and is written again on every run: markup kses
  removes (``<script>``, ``<style>``, ``<iframe>``, form fields, ``on*`` event
  handlers, any element outside WordPress's allowlist; the connector logs a warning
  naming the products when it sends one of these usual cases), and spellings the
  canonical form does not share yet: an unquoted attribute value (``width=2``, stored
  as ``width="2"``) and an entity without its ``;`` (``&copy 2024``, stored as
  ``&amp;copy 2024``).
* ``brand`` is None: WooCommerce keeps brands as taxonomy terms (not writable here).
* ``weight`` is a string in WooCommerce; kept as canonical decimal text. A variation
  without a weight of its own ships with its parent's (the API reads it through
  ``get_weight()`` in view context); an empty one is given the parent's here as well.
  ``get_weight()`` tests the variation's own weight with PHP's ``empty()``, which holds
  for "0" too: a zero weight is therefore sent as "0.0" (not empty, and still zero),
  else the variation would answer its parent's weight and be rewritten on every run.
* the image URL: a simple product's first ``images`` entry (the featured image), a
  variation's ``image``. WooCommerce answers a variation without an image of its own
  with its parent's featured image (``get_image_id()`` in view context, whatever the
  request's context), so a variation whose image is its parent's featured image counts
  as having none. (A merchant who deliberately gave a variation the parent's featured
  image sees it replaced by a partial sync; a parent without a featured image lists its
  gallery first, so a variation using the first gallery image is treated the same.)

Writing: ``POST /products/batch`` (simple products' price/stock/weight/image, any
product's name and description: ``products_batch`` and ``product_fields``) and
``POST /products/{parent}/variations/batch`` (one parent per request), 100 objects at
most. Per-item failures come inside HTTP 200 as ``{"id", "error": {...}}`` and are
matched to items by id. An error whose ``code`` says the id does not exist
(``woocommerce_rest_product_invalid_id``: the product; ``..._product_variation_invalid_id``:
the variation) reports the item gone (``ports.item_gone``): deleted since the catalog was
read. A 413 (a site that lowered ``woocommerce_rest_batch_items_limit``)
splits the batch in halves. Updates carry absolute values, so a retry after a lost
answer is harmless (WooCommerce has no idempotency keys: ``batch_key`` is unused).

Images are sent as ``{"src": url}``: the shop downloads the file into its media library
and from then on answers its own URL, never the supplier's, so an image cannot be
compared. An image is therefore set only where the item has none, in full mode too
(``domain.content.NEVER_FORCED``): re-sending it would add a copy to the shop's media
library on every run. On a simple product the image goes as ``images: [{"src": url}]``,
which replaces the featured image AND the gallery (WooCommerce has no "featured image
only" field); as only a product without any image (featured or gallery) gets one, no
gallery is ever removed. A variation's goes as ``image: {"src": url}``. When the shop
cannot fetch an image, WooCommerce fails the whole object (price and stock too): such
an item is sent once more without the image, and reported failed with the image's
error and a note that its other changes were written.

429, 5xx, timeouts and connection errors are retried with exponential backoff and
jitter (``Retry-After`` honoured), then ``StoreUnavailable``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

import requests

from feedsync.core.ports import GoneScope, ItemResult, PlanItem, item_gone
from feedsync.domain.content import canonical_weight, description_digest
from feedsync.domain.fields import Variant
from feedsync.domain.money import amount_to_cents
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce_capabilities

JSON = dict[str, Any]
log = logging.getLogger(__name__)

_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
# One second either side: WordPress's date bounds are exclusive, and a product read
# twice at the edge of two ranges is harmless (the index replaces it wholesale).
_RANGE_SLACK = timedelta(seconds=1)
# Reads in the edit context: stored values, not values formatted for display.
_EDIT: Final = {"context": "edit"}
# What a variation needs of its product (a range import asks for just these).
_PARENT_FIELDS: Final = "id,name,type,variations,description,weight,images"
# What a range import needs of a changed variation in the store-wide list.
_VARIATION_FIELDS: Final = "id,parent_id"
# A weight WooCommerce keeps as sent (wc_format_decimal drops anything but digits, "."
# and "-", so "1e3" would be stored as "13"): other spellings go as canonical decimals.
_PLAIN_DECIMAL: Final = re.compile(r"^\d+(\.\d+)?$")
# Zero as a weight PHP's empty() does not take for "none" (empty("0") is true).
_ZERO_WEIGHT: Final = "0.0"
# Markup ``wp_filter_post_kses`` removes from a description (the usual cases, not every
# element outside WordPress's allowlist): such a description never reads back as sent.
_KSES_REMOVES: Final = re.compile(
    r"<\s*/?\s*(?:script|style|iframe|frameset|frame|embed|applet|form|input|select|option"
    r"|noscript|svg|link|meta|base)\b|<[^>]*\son[a-z]+\s*=",
    re.IGNORECASE,
)
# The per-item errors of an image the shop could not fetch or use; the whole object
# failed, so the item is sent again without its image.
_IMAGE_ERRORS: Final = frozenset(
    {
        "woocommerce_product_image_upload_error",
        "woocommerce_product_invalid_image_id",
        "woocommerce_variation_image_upload_error",
        "woocommerce_variation_invalid_image_id",
    }
)
_IMAGE_KEYS: Final = ("image", "images")
# A batch item's error code for an id the shop does not have (the REST controllers'
# "woocommerce_rest_{post_type}_invalid_id", "Invalid ID."): what no longer exists.
_MISSING: Final[dict[str, GoneScope]] = {
    "woocommerce_rest_product_invalid_id": "product",
    "woocommerce_rest_product_variation_invalid_id": "variant",
}


class _NoRoute(Exception):
    """The shop has no such REST route (404 ``rest_no_route``): an older WooCommerce."""


class _Parent(NamedTuple):
    """What a variation takes from its product."""

    name: str | None
    description: str | None  # digest
    weight: Any  # as WooCommerce sent it
    image_id: int | None  # the first of ``images``: the featured image when there is one


def _parent(product: JSON) -> _Parent:
    images = product.get("images")
    first = images[0] if isinstance(images, list) and images else None
    return _Parent(
        str(product.get("name") or "") or None,
        description_digest(_text(product.get("description"))),
        product.get("weight"),
        _int_or_none(first.get("id")) if isinstance(first, dict) else None,
    )


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


def weight_text(value: Any) -> str:
    """A weight as WooCommerce stores it unchanged: plain decimal text ("0.250" as is).

    Zero goes as "0.0": WooCommerce stores "0" as sent, but a variation's ``get_weight()``
    takes PHP-``empty("0")`` for no weight and answers its parent's instead.
    """
    text = str(value).strip()
    if not _PLAIN_DECIMAL.match(text):
        canonical = canonical_weight(text)
        if canonical is None or canonical.startswith("-"):
            raise ValueError(f"WooCommerce needs a weight as a decimal number >= 0, got {value!r}")
        text = canonical
    return _ZERO_WEIGHT if text == "0" else text


def to_cents(value: Any) -> int | None:
    """A WooCommerce price ("12.5", "" when unset) -> integer cents, rounded half-even."""
    return amount_to_cents(value)


def money_text(cents: int | None) -> str:
    """Integer cents -> WooCommerce's price string with 2 decimals; None -> "" (unset)."""
    if cents is None:
        return ""
    return f"{Decimal(int(cents)).scaleb(-2):.2f}"


def _gmt_param(when: datetime) -> str:
    """A bound for ``modified_after``/``_before`` with ``dates_are_gmt`` (naive = UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WooCommerceConnector:
    """One shop, addressed by its site URL (``https://shop.example``)."""

    capabilities = woocommerce_capabilities()
    page_size = 100
    backoff_base_s = 0.5
    backoff_cap_s = 30.0
    retry_after_cap_s = 120.0
    check_unchanged_parents = True

    def __init__(
        self,
        site_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        allow_http: bool = False,
    ) -> None:
        site = site_url.strip().rstrip("/")
        for suffix in ("/wp-json/wc/v3", "/wp-json"):  # a pasted API URL still works
            if site.endswith(suffix):
                site = site[: -len(suffix)]
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StoreRequestError(f"WooCommerce site URL {site_url!r} is not an http(s) URL")
        if parts.scheme == "http" and not allow_http:
            raise StoreRequestError(
                f"WooCommerce site {site} uses plain http: WooCommerce accepts REST API keys "
                "as Basic auth over HTTPS only, and sending them over http would expose the "
                "consumer secret; use the shop's https:// address"
            )
        self.site_url = site
        self.api_url = f"{site}/wp-json/wc/v3"
        self._auth = (consumer_key, consumer_secret)
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self.timeout = timeout
        self.max_retries = max_retries
        self._random = random.Random()
        # Whether the shop lists variations across products (GET /variations,
        # WooCommerce 10.3+); None until a range import asked.
        self.store_wide_variations: bool | None = None

    @property
    def default_location(self) -> str | None:
        return None  # stock locations are given, never looked up

    def __repr__(self) -> str:  # never shows the key or secret
        return f"WooCommerceConnector({self.site_url!r})"

    # -- reading ----------------------------------------------------------------------------
    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all without a range)."""
        window = self._window(modified_since, modified_until)
        params: JSON = {"orderby": "id", "order": "asc", **_EDIT, **window}
        done: set[int] = set()
        for product in self._pages("/products", params):
            pid = int(product["id"])
            kind = _kind(product)
            if kind == "simple":
                yield self._simple_variant(product)
            elif kind == "variable":
                done.add(pid)
                yield from self._variations(pid, _parent(product))
        if not window or not self.check_unchanged_parents:
            return
        # A variation can change without its parent: read the products whose variations
        # changed (those read above aside) whole, their content fields (description,
        # weight, featured image) fetched by id, 100 per request; a product deleted
        # meanwhile is not listed and is skipped.
        changed = self._parents_of_changed_variations(window, done)
        for start in range(0, len(changed), self.page_size):
            chunk = changed[start : start + self.page_size]
            query = {"include": ",".join(map(str, chunk)), "orderby": "id", "order": "asc"}
            query |= {**_EDIT, "_fields": _PARENT_FIELDS}
            for product in self._pages("/products", query):
                pid = int(product["id"])
                if pid in chunk and _kind(product) == "variable":
                    yield from self._variations(pid, _parent(product))

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
        query = {"orderby": "id", "order": "asc", "_fields": _VARIATION_FIELDS, **window}
        parents: set[int] = set()
        try:
            for variation in self._pages("/variations", query, route_optional=True):
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
        ids = {"orderby": "id", "order": "asc", "_fields": "id,name,type,variations"}
        changed: list[int] = []
        for product in self._pages("/products", ids):
            pid = int(product["id"])
            if pid in done or _kind(product) != "variable":
                continue
            path = f"/products/{pid}/variations"
            probe = self._get(path, {"per_page": 1, "page": 1, **window}, passthrough=(404,))
            if probe.status_code != 404 and _json_list(probe, self._where("GET", path)):
                changed.append(pid)
        return changed

    @staticmethod
    def _window(since: datetime | None, until: datetime | None) -> JSON:
        if since is None and until is None:
            return {}
        window: JSON = {"dates_are_gmt": "true"}
        if since is not None:
            window["modified_after"] = _gmt_param(since - _RANGE_SLACK)
        if until is not None:
            window["modified_before"] = _gmt_param(until + _RANGE_SLACK)
        return window

    def _pages(
        self, path: str, params: JSON, *, gone_ok: bool = False, route_optional: bool = False
    ) -> Iterator[JSON]:
        """Every row of a list; ``gone_ok``: a 404 for the resource (a product deleted
        while the catalog is read) ends the list instead of the import;
        ``route_optional``: a shop without the route raises ``_NoRoute``."""
        page = 1
        while True:
            query = {**params, "per_page": self.page_size, "page": page}
            passthrough = (404,) if gone_ok else ()
            response = self._get(path, query, passthrough, route_optional=route_optional)
            if response.status_code == 404:
                return
            rows = _json_list(response, self._where("GET", path))
            yield from rows
            total_pages = _int_header(response, "X-WP-TotalPages")
            if not rows or (total_pages is not None and page >= total_pages):
                return
            if total_pages is None and len(rows) < self.page_size:
                return
            page += 1

    def _variations(self, pid: int, parent: _Parent) -> Iterator[Variant]:
        path = f"/products/{pid}/variations"
        for variation in self._pages(path, {"orderby": "id", "order": "asc"}, gone_ok=True):
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
        )

    def _money(self, obj: JSON, key: str, pid: int, vid: int | None = None) -> int | None:
        try:
            return to_cents(obj.get(key))
        except ValueError as exc:
            raise StoreRequestError(
                f"WooCommerce shop {self.site_url}: {_what(pid, vid)} has an unreadable "
                f"{key}: {exc}"
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
                f"WooCommerce shop {self.site_url}: {_what(pid, vid)} has an unreadable "
                f"stock_quantity {quantity!r}"
            ) from None

    # -- writing ----------------------------------------------------------------------------
    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """One batch of one operation; ``(ok, message)`` per item, in order."""
        write_op = self.capabilities.op(op)
        if len(items) > write_op.max_batch:
            raise ValueError(f"{op} takes at most {write_op.max_batch} items, got {len(items)}")
        if not items:
            return []
        if op in ("products_batch", "product_fields"):
            path = "/products/batch"
            ids = [int(item["product_id"]) for item in items]
        elif op == "variations_batch":
            parents = {int(item["product_id"]) for item in items}
            if len(parents) != 1:
                raise ValueError(
                    f"variations_batch carries one product's variations, got {sorted(parents)}"
                )
            path = f"/products/{parents.pop()}/variations/batch"
            ids = [int(item["variant_id"]) for item in items]
        else:  # pragma: no cover - capabilities.op() knows only these
            raise ValueError(f"WooCommerce has no write operation {op!r}")
        results: list[ItemResult | None] = [None] * len(items)
        payloads: list[JSON | None] = []
        for i, (item, item_id) in enumerate(zip(items, ids, strict=True)):
            try:
                payloads.append(_update_payload(item_id, item.get("changes") or {}, op))
            except ValueError as exc:
                payloads.append(None)
                results[i] = ItemResult(False, str(exc))
        send = [i for i, p in enumerate(payloads) if p is not None]
        self._warn_of_filtered_descriptions([payloads[i] for i in send])
        self._post_batch(path, send, payloads, results)
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    def _warn_of_filtered_descriptions(self, payloads: list[JSON | None]) -> None:
        """Log the descriptions WordPress will store without some of their markup: they
        read back different, so every run writes them again (they are written)."""
        found: dict[int, str] = {}
        for payload in payloads:
            text = (payload or {}).get("description")
            match = _KSES_REMOVES.search(text) if isinstance(text, str) else None
            if payload is not None and match is not None:
                found[int(payload["id"])] = match.group(0)
        if found:
            log.warning(
                "WooCommerce shop %s: the descriptions of products %s hold markup that "
                "WordPress removes when it stores a description (wp_filter_post_kses), "
                "e.g. %r: they will read back different and be written again on every "
                "run until the feed drops that markup",
                self.site_url,
                ", ".join(map(str, found)),
                next(iter(found.values())),
            )

    def _post_batch(
        self,
        path: str,
        indexes: list[int],
        payloads: list[JSON | None],
        results: list[ItemResult | None],
        *,
        image_fallback: bool = True,
    ) -> None:
        if not indexes:
            return
        body = {"update": [payloads[i] for i in indexes]}
        response = self._request("POST", path, json_body=body, passthrough=(400, 404, 413))
        status = response.status_code
        if status == 413 and len(indexes) > 1:
            middle = len(indexes) // 2
            for half in (indexes[:middle], indexes[middle:]):
                self._post_batch(path, half, payloads, results, image_fallback=image_fallback)
            return
        if status >= 300:
            # The whole request was refused (e.g. the parent product is gone): every
            # item carries the platform's reason.
            reason = f"HTTP {status}: {_error_text(response)}"
            for i in indexes:
                results[i] = ItemResult(False, reason)
            return
        entries = _json_dict(response, self._where("POST", path)).get("update")
        if not isinstance(entries, list):
            entries = []
        # Match by id (first unmatched item with that id, for a product written twice).
        waiting: dict[int, deque[int]] = {}
        for i in indexes:
            payload = payloads[i]
            assert payload is not None
            waiting.setdefault(int(payload["id"]), deque()).append(i)
        image_failed: list[int] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            try:
                entry_id = int(str(entry.get("id")))
            except ValueError:
                continue
            queue = waiting.get(entry_id)
            if not queue:
                continue
            i = queue.popleft()
            error = entry.get("error")
            results[i] = _entry_result(error)
            if error and image_fallback and isinstance(error, dict):
                payload = payloads[i]
                others = set(payload or ()) - {"id", *_IMAGE_KEYS}
                if error.get("code") in _IMAGE_ERRORS and others:
                    image_failed.append(i)
        for queue in waiting.values():
            for i in queue:
                results[i] = ItemResult(
                    False, "WooCommerce's batch answer did not mention this item"
                )
        if image_failed:
            self._resend_without_images(path, image_failed, payloads, results)

    def _resend_without_images(
        self,
        path: str,
        indexes: list[int],
        payloads: list[JSON | None],
        results: list[ItemResult | None],
    ) -> None:
        """The shop refused these objects for their image alone: write the rest of each,
        and report the item failed (its image is not there) with what was written."""
        stripped: list[JSON | None] = [None] * len(payloads)
        for i in indexes:
            payload = payloads[i] or {}
            stripped[i] = {k: v for k, v in payload.items() if k not in _IMAGE_KEYS}
        again: list[ItemResult | None] = [None] * len(payloads)
        self._post_batch(path, indexes, stripped, again, image_fallback=False)
        for i in indexes:
            image_error = (results[i] or ItemResult(False, ""))[1]
            retried = again[i] or ItemResult(False, "not sent")
            if retried[0]:
                note = "the item's other changes were written without the image"
            else:
                note = f"without the image it failed too: {retried[1]}"
            results[i] = ItemResult(False, f"{image_error}; {note}")

    # -- transport --------------------------------------------------------------------------
    def _where(self, method: str, path: str) -> str:
        return f"WooCommerce shop {self.site_url}: {method} {path}"

    def _get(
        self,
        path: str,
        params: JSON,
        passthrough: tuple[int, ...] = (),
        *,
        route_optional: bool = False,
    ) -> requests.Response:
        return self._request(
            "GET", path, params=params, passthrough=passthrough, route_optional=route_optional
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: JSON | None = None,
        json_body: Any = None,
        passthrough: tuple[int, ...] = (),
        route_optional: bool = False,
    ) -> requests.Response:
        """Send one logical request: retries and error mapping live here.

        ``route_optional``: WordPress's 404 ``rest_no_route`` (a route this shop's
        WooCommerce does not have) raises ``_NoRoute`` instead of ``StoreRequestError``.
        """
        url = f"{self.api_url}{path}"
        headers = {"Accept": "application/json"}
        failures = 0
        while True:
            what: str
            retry_after: float | None = None
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    auth=self._auth,
                    timeout=self.timeout,
                )
            except _TRANSIENT_EXCEPTIONS as exc:
                what = f"{type(exc).__name__} ({exc})"
            else:
                status = response.status_code
                if status in (408, 429) or status >= 500:
                    what = f"HTTP {status} {_error_text(response)}".rstrip()
                    retry_after = _retry_after_s(response.headers.get("Retry-After"))
                elif status in (401, 403):
                    raise StoreAuthError(
                        f"WooCommerce shop {self.site_url} refused the REST API key (HTTP "
                        f"{status}: {_error_text(response)}); check under WooCommerce > "
                        "Settings > Advanced > REST API that the key exists, has Read/Write "
                        "permissions (Read is enough to import the catalog) and belongs to "
                        "a user who may edit products"
                    )
                elif status == 404 and _is_missing_route(response):
                    if route_optional and _is_no_route_error(response):
                        raise _NoRoute(f"{method} {path}")
                    raise StoreRequestError(
                        f"WooCommerce REST API not found at {self.api_url} ({method} {path} "
                        "answered 404) — are pretty permalinks on (Settings > Permalinks, "
                        "anything but 'Plain') and is WooCommerce active?"
                    )
                elif status < 300 or status in passthrough:
                    return response
                else:
                    raise StoreRequestError(
                        f"{self._where(method, path)} was rejected with HTTP {status}: "
                        f"{_error_text(response)}"
                    )
            if failures >= self.max_retries:
                raise StoreUnavailable(
                    f"{self._where(method, path)} failed after {failures + 1} attempt(s); "
                    f"last: {what}"
                )
            wait = self._backoff(failures)
            if retry_after is not None:
                wait = min(max(retry_after, 0.0), self.retry_after_cap_s)
            self._sleep(wait)
            failures += 1


def _kind(product: JSON) -> str:
    """simple (the product is its own variant), variable, or skip (grouped: no price)."""
    ptype = str(product.get("type") or "simple")
    if ptype == "grouped":
        return "skip"
    variations = product.get("variations")
    if (isinstance(variations, list) and variations) or ptype.startswith("variable"):
        return "variable"
    return "simple"


def _what(pid: int, vid: int | None) -> str:
    return f"product {pid}" + (f" variation {vid}" if vid is not None else "")


def _update_payload(item_id: int, changes: JSON, op: str) -> JSON:
    payload: JSON = {"id": item_id}
    product_op = op in ("products_batch", "product_fields")
    for field_name, change in changes.items():
        new = change[1] if isinstance(change, list | tuple) else change
        if field_name in ("weight", "image_url") and op == "product_fields":
            raise ValueError(f"WooCommerce cannot write {field_name} with {op}")
        if field_name == "price":
            payload["regular_price"] = money_text(None if new is None else int(new))
        elif field_name == "sale_price":
            payload["sale_price"] = money_text(None if new is None else int(new))
        elif field_name == "stock":
            if new is None:
                payload["manage_stock"] = False
            else:
                payload["manage_stock"] = True
                payload["stock_quantity"] = int(new)
        elif field_name == "name" and product_op:
            payload["name"] = str(new)
        elif field_name == "description" and op == "product_fields":
            payload["description"] = "" if new is None else str(new)
        elif field_name == "weight":
            payload["weight"] = "" if new is None else weight_text(new)
        elif field_name == "image_url":
            if new is None or not str(new).strip():
                raise ValueError("feedsync sets images, it does not remove them")
            # A variation has one image; a product's list replaces featured + gallery.
            image = {"src": str(new).strip()}
            if op == "variations_batch":
                payload["image"] = image
            else:
                payload["images"] = [image]
        else:
            raise ValueError(f"WooCommerce cannot write {field_name} with {op}")
    return payload


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        # WordPress sites often print PHP notices before the JSON: skip to the JSON.
        text = response.text
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        if not starts:
            return None
        try:
            return json.loads(text[min(starts) :])
        except ValueError:
            return None


def _json_list(response: requests.Response, where: str) -> list[JSON]:
    body = _body(response)
    if not isinstance(body, list):
        raise StoreRequestError(
            f"{where} answered HTTP {response.status_code} without a JSON list (a security "
            "or caching plugin in front of the REST API?)"
        )
    return [row for row in body if isinstance(row, dict)]


def _json_dict(response: requests.Response, where: str) -> JSON:
    body = _body(response)
    if not isinstance(body, dict):
        raise StoreRequestError(
            f"{where} answered HTTP {response.status_code} without a JSON object (a security "
            "or caching plugin in front of the REST API?)"
        )
    return body


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None


def _is_missing_route(response: requests.Response) -> bool:
    """A 404 for the API itself (no route / WordPress's HTML page), not for one product."""
    body = _body(response)
    return not isinstance(body, dict) or body.get("code") == "rest_no_route"


def _is_no_route_error(response: requests.Response) -> bool:
    """WordPress's own JSON answer for a route it does not have (not an HTML page)."""
    body = _body(response)
    return isinstance(body, dict) and body.get("code") == "rest_no_route"


def _error_text(response: requests.Response) -> str:
    body = _body(response)
    if isinstance(body, dict) and (body.get("message") or body.get("code")):
        return _item_error_text(body)
    raw = response.text.strip()
    return raw[:300] if raw else f"HTTP {response.status_code} without details"


def _entry_result(error: Any) -> ItemResult:
    """A batch answer entry's result: ok without ``error``; gone when its code says the
    id does not exist (the code, never the message)."""
    if not error:
        return ItemResult(True, "")
    text = _item_error_text(error)
    code = error.get("code") if isinstance(error, dict) else None
    scope = _MISSING.get(code) if isinstance(code, str) else None
    return item_gone(scope, text) if scope is not None else ItemResult(False, text)


def _item_error_text(error: Any) -> str:
    """WordPress's ``{"code", "message", "data": {"params": {...}}}`` as one line."""
    if not isinstance(error, dict):
        return str(error)
    message = str(error.get("message") or "").strip() or "rejected"
    data = error.get("data")
    params = data.get("params") if isinstance(data, dict) else None
    if isinstance(params, dict) and params:
        message += " (" + "; ".join(str(v) for v in params.values()) + ")"
    code = error.get("code")
    return f"{message} [{code}]" if code else message
