"""WooCommerce REST API v3 as data: the site and API URLs, paths, query parameters, and
how values are spelled in both directions (money, weights, GMT bounds, update objects).

Nothing here sends a request; the reader and the writer build what they send from it.

Spelling of values:

* prices are strings with two decimals (``"12.50"``; ``""`` unsets a sale price), read
  back into integer cents rounded half-even;
* a weight is a string WooCommerce keeps as sent when it is plain decimal text
  (``wc_format_decimal`` drops anything but digits, "." and "-", so ``"1e3"`` would be
  stored as ``"13"``): other spellings go as canonical decimals. A variation's
  ``get_weight()`` tests its own weight with PHP's ``empty()``, which holds for ``"0"``
  too, so zero is sent as ``"0.0"`` (not empty, still zero), else the variation would
  answer its parent's weight and be rewritten on every run;
* an image goes as ``{"src": url}`` (the shop downloads it): a variation's as
  ``image``, a product's as ``images: [...]``, which replaces the featured image AND
  the gallery (WooCommerce has no "featured image only" field).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit

from feedsync.domain.content import canonical_weight
from feedsync.domain.money import amount_to_cents
from feedsync.errors import StoreRequestError

JSON = dict[str, Any]

API_PREFIX: Final = "/wp-json/wc/v3"
PRODUCTS: Final = "/products"
PRODUCTS_BATCH: Final = "/products/batch"
# WooCommerce 10.3+: every product's variations, each with its parent_id.
STORE_VARIATIONS: Final = "/variations"

# Reads in the edit context: stored values, not values formatted for display.
EDIT: Final = {"context": "edit"}
# Lists in id order: stable while the shop changes.
BY_ID: Final = {"orderby": "id", "order": "asc"}
# What a variation needs of its product (a range import asks for just these).
PARENT_FIELDS: Final = "id,name,type,variations,description,weight,images,status"
# What the fallback needs of every product to find the variable ones.
PRODUCT_KIND_FIELDS: Final = "id,name,type,variations"
# What a range import needs of a changed variation in the store-wide list.
VARIATION_FIELDS: Final = "id,parent_id"
# One second either side: WordPress's date bounds are exclusive, and a product read
# twice at the edge of two ranges is harmless (the index replaces it wholesale).
RANGE_SLACK: Final = timedelta(seconds=1)

# The update object's keys that carry an image (dropped when the shop cannot fetch it).
IMAGE_KEYS: Final = ("image", "images")
# The operations that write on the product (the rest: on one product's variations).
PRODUCT_OPS: Final = frozenset({"products_batch", "product_fields"})

_PLAIN_DECIMAL: Final = re.compile(r"^\d+(\.\d+)?$")
# Zero as a weight PHP's empty() does not take for "none" (empty("0") is true).
_ZERO_WEIGHT: Final = "0.0"


def product_variations(product_id: int) -> str:
    return f"/products/{product_id}/variations"


def variations_batch(product_id: int) -> str:
    return f"/products/{product_id}/variations/batch"


def site_url(given: str, *, allow_http: bool) -> str:
    """The shop's site URL from what the merchant gave (a pasted API URL works too).

    Plain ``http://`` is refused unless ``allow_http`` (the loopback double): WooCommerce
    takes the key pair as Basic auth over HTTPS only, and over http it would travel in
    clear.
    """
    site = given.strip().rstrip("/")
    for suffix in (API_PREFIX, "/wp-json"):
        if site.endswith(suffix):
            site = site[: -len(suffix)]
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StoreRequestError(f"WooCommerce site URL {given!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_http:
        raise StoreRequestError(
            f"WooCommerce site {site} uses plain http: WooCommerce accepts REST API keys "
            "as Basic auth over HTTPS only, and sending them over http would expose the "
            "consumer secret; use the shop's https:// address"
        )
    return site


def gmt_param(when: datetime) -> str:
    """A bound for ``modified_after``/``_before`` with ``dates_are_gmt`` (naive = UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def modified_window(since: datetime | None, until: datetime | None) -> JSON:
    """The query parameters of a range import; empty for the whole catalog."""
    if since is None and until is None:
        return {}
    window: JSON = {"dates_are_gmt": "true"}
    if since is not None:
        window["modified_after"] = gmt_param(since - RANGE_SLACK)
    if until is not None:
        window["modified_before"] = gmt_param(until + RANGE_SLACK)
    return window


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


# A hidden product is "private": off the shop front, its search and its feeds, yet still a
# finished product to the shop's staff (a "draft" reads as work not done yet).
PUBLISHED: Final = "publish"
HIDDEN: Final = "private"


def update_payload(item_id: int, changes: dict[str, Any], op: str) -> JSON:
    """One object of a batch's ``update`` list; ValueError for a change ``op`` cannot
    carry (the item then fails alone, unsent)."""
    payload: JSON = {"id": item_id}
    product_op = op in PRODUCT_OPS
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
        elif field_name == "visible" and op == "product_fields":
            if not isinstance(new, bool):
                raise ValueError("visible is shown (true) or hidden (false)")
            payload["status"] = PUBLISHED if new else HIDDEN
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
