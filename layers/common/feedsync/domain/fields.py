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
    # Product content: mapped, validated and logged; written with product-level updates.
    "description",
    "brand",
    "weight",
    "image_url",
)
MONEY_FIELDS: Final = ("price", "sale_price", "retail_price", "cost_price")
INT_FIELDS: Final = ("stock",)
DECIMAL_FIELDS: Final = ("weight",)
# Fields some platform can write (each platform's own set is in ``capabilities``).
WRITABLE_FIELDS: Final = ("price", "sale_price", "retail_price", "cost_price", "stock", "name")
# Store-side fields the catalog index keeps per variant (compared in partial mode).
INDEXED_FIELDS: Final = CANONICAL_FIELDS[:8]
MATCH_BY: Final = ("sku", "barcode", "sku_then_barcode")

# Row tuple: (row_no, sku, barcode, price, sale_price, retail_price, cost_price, stock, name,
#             description, brand, weight, image_url)
ROW_NO: Final = 0
ROW_POS: Final = {name: i + 1 for i, name in enumerate(CANONICAL_FIELDS)}

# Variant tuple: (product_id, variant_id, sku, barcode, price, sale_price,
#                 retail_price, cost_price, stock, name, modified, ref)
# ``modified`` is the platform's last-modified time of the item (ISO-8601 text, as the
# platform gives it); ``ref`` what the platform's writes need besides the ids (Shopify:
# the variant's inventory item id; BigCommerce: "product" when stock is tracked on the
# product), else None.
PRODUCT_ID: Final = 0
VARIANT_ID: Final = 1
VARIANT_POS: Final = {name: i + 2 for i, name in enumerate(INDEXED_FIELDS)}
MODIFIED: Final = 10
REF: Final = 11

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
]
