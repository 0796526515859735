"""BigCommerce v3 as feedsync addresses it: paths, write payloads, money and weights.

Writes, as the capabilities declare:

* ``variants``  -> ``PUT /catalog/variants``, 50 per request (prices, stock, weight,
  image URL: the platform downloads the image and answers its own copy's URL);
* ``products``  -> ``PUT /catalog/products``, 10 per request (name, description, brand
  as ``brand_name``: the platform attaches the product to that brand, creating it when
  the store has none of that name; visible as ``is_visible``);
* ``inventory`` -> ``PUT /inventory/adjustments/absolute``, 2,000 per request (stock
  at a location; the platform takes one such request per store at a time).

Every write carries absolute values, so a retried request can never double-apply. An
image URL that is not an absolute http(s) URL is not sent at all: the platform could
never download it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

from feedsync.core.ports import PlanItem
from feedsync.domain.money import amount_to_cents

JSON = dict[str, Any]

PRODUCTS: Final = "/catalog/products"
BRANDS: Final = "/catalog/brands"

DEFAULT_LOCATION_ID: Final = 1  # BigCommerce's default location
MAX_BRAND_NAME: Final = 255  # a brand's name, as the Brands API takes it
MONEY_FIELDS: Final = ("price", "sale_price", "retail_price", "cost_price")
_VARIANT_API: Final = {
    "price": "price",
    "sale_price": "sale_price",
    "retail_price": "retail_price",
    "cost_price": "cost_price",
    "stock": "inventory_level",
}
# A variant item's body keys that are not changes: what identifies it.
VARIANT_IDS: Final = frozenset({"id", "product_id"})
# body key -> the field name a plan (and the run log) uses
VARIANT_FIELD: Final = {api: name for name, api in _VARIANT_API.items()} | {"weight": "weight"}


@dataclass(frozen=True, slots=True)
class Write:
    """How one write operation is sent, and which of its answers mean what."""

    path: str
    # Statuses that reject the whole batch because of some item(s): bisect.
    split: tuple[int, ...]
    # Statuses that mean "not now" for this operation: retried with backoff.
    retry: tuple[int, ...] = ()
    # A 207 lists the items written; the others failed (products only).
    multi_status: bool = False


WRITES: Final = {
    "variants": Write("/catalog/variants", split=(413, 422)),
    "products": Write(PRODUCTS, split=(404, 409, 413, 422), multi_status=True),
    # 409: another adjustment of this store is still being processed.
    "inventory": Write("/inventory/adjustments/absolute", split=(413, 422), retry=(409,)),
}


def product_path(product_id: int) -> str:
    return f"{PRODUCTS}/{product_id}"


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


def weight_number(value: Any) -> float | None:
    """A weight as decimal text ("0.250") -> the JSON number the API takes; None if bad."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    return float(number)


def is_web_url(url: str) -> bool:
    """Is ``url`` an absolute http(s) URL with a host (the only kind the platform fetches)?"""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def location_id(location: str | None) -> int:
    """The numeric location an adjustment is for (the default location without one)."""
    if location is None or str(location).strip() == "":
        return DEFAULT_LOCATION_ID
    try:
        return int(location)
    except ValueError:
        raise ValueError(
            f"a BigCommerce location is a numeric location id, not {location!r}"
        ) from None


def payload(op: str, item: PlanItem, location: int | None) -> tuple[JSON, str]:
    """The item's body entry, and why it cannot be sent ("" when it can)."""
    new = {name: change[1] for name, change in (item.changes or {}).items()}
    if op == "variants":
        return _variant_payload(item, new)
    if op == "products":
        return _product_payload(item, new)
    # inventory: one absolute quantity at one location, by the id that tracks the stock
    body: JSON
    if item.ref == "product" and item.product_id is not None:
        body = {"location_id": location, "product_id": int(item.product_id)}
    else:
        body = {"location_id": location, "variant_id": int(item.variant_id)}
    stock = new.get("stock")
    if stock is None:
        return body, "no stock value to write"
    body["quantity"] = int(stock)
    return body, ""


def _variant_payload(item: PlanItem, new: dict[str, Any]) -> tuple[JSON, str]:
    body: JSON = {"id": int(item.variant_id)}
    if item.product_id is not None:
        body["product_id"] = int(item.product_id)
    for name, value in new.items():
        if name == "stock":
            if value is None:
                return body, "no stock value to write"
            body["inventory_level"] = int(value)
        elif name == "weight":
            weight = weight_number(value)
            if weight is None:
                return body, f"not a weight BigCommerce takes (a number >= 0): {value!r}"
            body["weight"] = weight
        elif name == "image_url":
            if not isinstance(value, str) or not value.strip():
                return body, "no image URL to write"
            if not is_web_url(value.strip()):
                return body, (
                    "not an image URL BigCommerce can download (an absolute http or "
                    f"https URL): {value.strip()[:300]!r}"
                )
            body["image_url"] = value.strip()
        else:
            body[_VARIANT_API[name]] = from_cents(None if value is None else int(value))
    return body, ""


def _product_payload(item: PlanItem, new: dict[str, Any]) -> tuple[JSON, str]:
    body: JSON = {"id": int(item.product_id)}
    if "name" in new:
        title = new["name"]
        if not isinstance(title, str) or not title.strip():
            return body, "BigCommerce needs a product name: an empty name is not written"
        body["name"] = title
    if "description" in new:
        text = new["description"]
        if not isinstance(text, str):
            return body, "no description to write"
        body["description"] = text
    if "brand" in new:
        brand = new["brand"]
        if not isinstance(brand, str) or not brand.strip():
            return body, "no brand to write: an empty brand name is not written"
        if len(brand) > MAX_BRAND_NAME:
            return body, (
                f"BigCommerce brand names are at most {MAX_BRAND_NAME} characters "
                f"(this one has {len(brand):,})"
            )
        # The platform attaches the product to the brand of that name (letter case
        # aside), creating it when the store has none.
        body["brand_name"] = brand
    if "visible" in new:
        if not isinstance(new["visible"], bool):
            return body, "visible is shown (true) or hidden (false)"
        body["is_visible"] = new["visible"]
    if len(body) == 1:
        return body, "nothing to write"
    return body, ""


def request_body(op: str, entries: list[JSON], batch_key: str) -> Any:
    """A write's JSON body: the entries, which an adjustment wraps with its reason."""
    if op != "inventory":
        return entries
    return {"reason": f"feedsync {batch_key}"[:255], "items": entries}
