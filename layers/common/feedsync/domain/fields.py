"""Canonical fields and the positional tuple layouts used on the hot path.

A parsed feed row and a catalog variant are plain tuples (no objects per row).
Field ``f`` sits at ``ROW_POS[f]`` in a row and at ``VARIANT_POS[f]`` in a variant.
Money is in integer minor units (cents); stock is an int; absent values are None.
"""

from __future__ import annotations

from typing import Final

CANONICAL_FIELDS: Final = (
    "sku",
    "barcode",
    "price",
    "sale_price",
    "retail_price",
    "cost_price",
    "stock",
    "name",
    # Content: description and brand belong to the product, weight and image to the variant.
    "description",
    "brand",
    "weight",
    "image_url",
)
MONEY_FIELDS: Final = ("price", "sale_price", "retail_price", "cost_price")
INT_FIELDS: Final = ("stock",)
DECIMAL_FIELDS: Final = ("weight",)
CONTENT_FIELDS: Final = ("description", "brand", "weight", "image_url")
# Fields that belong to the product on every platform: one value per product.
PRODUCT_FIELDS: Final = ("name", "description", "brand")
# Fields some platform can write (each platform's own set is in ``capabilities``): all
# but the keys.
WRITABLE_FIELDS: Final = CANONICAL_FIELDS[2:]
MATCH_BY: Final = ("sku", "barcode", "sku_then_barcode")

# Row tuple: (row_no, sku, barcode, price, sale_price, retail_price, cost_price, stock, name,
#             description, brand, weight, image_url)
ROW_NO: Final = 0
ROW_POS: Final = {name: i + 1 for i, name in enumerate(CANONICAL_FIELDS)}
# A profile with a ``key_transform`` (``domain/keys.py``): the row's SKU is the store's key,
# and the parsed row carries one more item, the SKU as the file wrote it (None without one).
FILE_KEY: Final = len(CANONICAL_FIELDS) + 1

# Variant tuple: (product_id, variant_id, sku, barcode, price, sale_price,
#                 retail_price, cost_price, stock, name, modified, ref,
#                 description, brand, weight, image_url, visible)
# ``modified`` is the platform's last-modified time of the item (ISO-8601 text, as the
# platform gives it); ``ref`` what the platform's writes need besides the ids (Shopify:
# the variant's inventory item id; BigCommerce: "product" when stock is tracked on the
# product), else None. The content fields follow, as ``content`` stores them: the
# description as a digest (never the text: an index of a million variants must stay
# small), the weight as a canonical decimal, the brand and image URL as the store has them.
# Last, ``visible``: the product's visibility (the same on each of its variants; see
# ``VISIBLE_AT``).
PRODUCT_ID: Final = 0
VARIANT_ID: Final = 1
MODIFIED: Final = 10
REF: Final = 11
VARIANT_POS: Final = {
    **{name: i + 2 for i, name in enumerate(CANONICAL_FIELDS[:8])},
    **{name: i + REF + 1 for i, name in enumerate(CONTENT_FIELDS)},
    "visible": REF + 1 + len(CONTENT_FIELDS),
}
# Where a variant holds its product's visibility: True on view (BigCommerce ``is_visible``,
# Shopify ACTIVE, WooCommerce ``publish``); False hidden the way feedsync hides a product
# (BigCommerce ``is_visible`` false, Shopify DRAFT, WooCommerce ``private``); None for any
# other state (Shopify ARCHIVED, a WooCommerce draft: held back by the merchant) or unknown
# (an index from before it was read, a platform without it). ``missing: disable`` hides only
# a True product and shows again only a False one: a merchant's own state is left alone.
VISIBLE_AT: Final = VARIANT_POS["visible"]
# A variant read before the content fields existed (old snapshots) is padded with these.
NO_CONTENT: Final = (None, None, None, None)

Row = tuple[
    int,
    str | None,
    str | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
]
Variant = tuple[
    int,
    int,
    str | None,
    str | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    bool | None,
]

# Create mode (``domain/create.py``): a profile that creates parses two more items after
# ``FILE_KEY``: the row's group value (None for a single item) and its option values (a
# tuple in the order of the profile's ``create.options``).
GROUP: Final = FILE_KEY + 1
OPTION_VALUES: Final = FILE_KEY + 2
