"""The catalog read: every variant of the store as a ``fields.Variant`` tuple.

Reads ``GET /catalog/products?include=variants,primary_image`` (250 products per page),
optionally only the products modified in a range (``date_modified:min`` / ``:max``).
Content is read as ``domain.content`` keeps it in the index:

* description: the digest of the product's ``description``;
* brand: the name of the product's ``brand_id`` (products carry the id only), from
  ``GET /catalog/brands``, read once per import, the first time a product has a brand;
* weight: the variant's ``weight``, or the product's when it is null (the variant
  inherits it), as canonical decimal text;
* image: the variant's ``image_url`` ("" is none). A product without options shows its
  product images: its base variant counts as having an image when the product has a
  primary image, so a partial sync does not add one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from feedsync.domain.content import canonical_weight, description_digest
from feedsync.domain.fields import Variant
from feedsync.errors import StoreRequestError
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.endpoints import (
    BRANDS,
    JSON,
    MONEY_FIELDS,
    PRODUCTS,
    to_cents,
    to_query_time,
)


def iter_variants(
    api: StoreApi,
    modified_since: datetime | None,
    modified_until: datetime | None,
    *,
    page_limit: int,
    brands_page_limit: int,
) -> Iterator[Variant]:
    """Every variant of every product modified in the range (all without one).

    Money in cents; ``modified`` is the product's ``date_modified`` as the platform
    writes it. Both range ends are inclusive, at whole seconds.
    """
    params: dict[str, Any] = {"include": "variants,primary_image", "limit": page_limit}
    if modified_since is not None:
        params["date_modified:min"] = to_query_time(modified_since)
    if modified_until is not None:
        params["date_modified:max"] = to_query_time(modified_until)
    brands = BrandNames(lambda: read_brands(api, brands_page_limit))
    page = 1
    while True:
        body = api.get_json(PRODUCTS, {**params, "page": page})
        products = body.get("data") or []
        for product in products:
            yield from _product_variants(api, product, brands)
        total_pages = _total_pages(body)
        if not products:
            return
        if isinstance(total_pages, int):
            if page >= total_pages:
                return
        elif len(products) < page_limit:
            return
        page += 1


def read_brands(api: StoreApi, page_limit: int) -> dict[int, str]:
    """Every brand of the store, id -> name (``GET /catalog/brands``, all pages)."""
    names: dict[int, str] = {}
    page = 1
    while True:
        body = api.get_json(BRANDS, {"limit": page_limit, "page": page})
        brands = body.get("data") or []
        for brand in brands:
            if isinstance(brand, dict) and brand.get("id") is not None:
                names[int(brand["id"])] = str(brand.get("name") or "")
        total_pages = _total_pages(body)
        if not brands or (isinstance(total_pages, int) and page >= total_pages):
            return names
        if not isinstance(total_pages, int) and len(brands) < page_limit:
            return names
        page += 1


def _total_pages(body: JSON) -> Any:
    pagination = (body.get("meta") or {}).get("pagination") or {}
    return pagination.get("total_pages")


class BrandNames:
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


def _product_variants(api: StoreApi, product: JSON, brands: BrandNames) -> Iterator[Variant]:
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
    shown = product.get("is_visible")  # whether the storefront shows the product
    visible = shown if isinstance(shown, bool) else None
    # A variant money field that is null inherits the product's value; on the
    # product, 0 means "not set" for sale/retail/cost price.
    inherited: dict[str, int | None] = {}
    for key in MONEY_FIELDS:
        value = _money(api, product, key, pid)
        inherited[key] = value if key == "price" or value else None
    for variant in product.get("variants") or []:
        vid = int(variant["id"])
        money = []
        for key in MONEY_FIELDS:
            value = _money(api, variant, key, pid, vid)
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
            visible,
        )


def _money(api: StoreApi, obj: JSON, key: str, pid: int, vid: int | None = None) -> int | None:
    try:
        return to_cents(obj.get(key))
    except ValueError as exc:
        where = f"product {pid}" + (f" variant {vid}" if vid is not None else "")
        raise StoreRequestError(f"{api.where}: {where} has an unreadable {key}: {exc}") from None


def _image_of(image: Any) -> str | None:
    """The URL of a product image object (``primary_image``), None when there is none."""
    if not isinstance(image, dict):
        return None
    for key in ("url_standard", "url_zoom", "image_url"):
        url = image.get(key)
        if isinstance(url, str) and url:
            return url
    return None
