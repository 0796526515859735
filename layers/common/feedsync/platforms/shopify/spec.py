"""Shopify as the rest of feedsync knows it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from feedsync.domain.capabilities import (
    CREATE_OP,
    DELETE_OP,
    PRODUCT_CONTENT,
    VARIANT_CONTENT,
    VISIBLE,
    BulkPath,
    Capabilities,
    Creation,
    FieldRule,
    Quota,
    WriteOp,
)
from feedsync.platforms.spec import ConnectorSetup, PlatformSpec

if TYPE_CHECKING:
    from feedsync.core.ports import StoreConnector

NAME = "shopify"
# Create mode's sizes (platforms/shopify/creator.py keeps them with the documents).
CREATE_BATCH: Final = 10
DELETE_BATCH: Final = 25
MAX_VARIANTS: Final = 2048

_VARIANT: Final = ("price", "retail_price", "cost_price", *VARIANT_CONTENT)
_PRODUCT: Final = (*PRODUCT_CONTENT, VISIBLE)
_SCHEMA: Final = "shopify_admin_schema.graphql"
_MONEY: Final = FieldRule(
    minimum=0,
    source=f"{_SCHEMA}: ProductVariantsBulkUpdateUserErrorCode GREATER_THAN_OR_EQUAL_TO "
    "(the price must be greater than or equal to zero), NEGATIVE_PRICE_VALUE",
)
_TITLE: Final = 255
# What Shopify refuses (canonical units: cents, units, the shop's weight unit): price is the
# variant's price, retail_price its compareAtPrice, cost_price its inventory item's cost,
# brand the product's vendor; see ``domain/validation.py``.
CONSTRAINTS: Final = {
    "price": _MONEY,
    "retail_price": _MONEY,
    "cost_price": _MONEY,
    "stock": FieldRule(
        minimum=-1_000_000_000,
        maximum=1_000_000_000,
        source=f"{_SCHEMA}: InventorySetQuantitiesUserErrorCode INVALID_QUANTITY_TOO_HIGH "
        "(at most 1,000,000,000), INVALID_QUANTITY_TOO_LOW (at least -1,000,000,000)",
    ),
    "weight": FieldRule(minimum=0, source="Shopify: a variant's weight must be >= 0"),
    "image_url": FieldRule(
        web_url=True, source=f"{_SCHEMA}: mediaSrc / originalSource, an external URL"
    ),
    "name": FieldRule(
        max_length=_TITLE,
        source=f"{_SCHEMA}: TITLE_TOO_LONG (the title cannot be longer than 255 characters)",
    ),
    "brand": FieldRule(max_length=_TITLE, source="Shopify: a product's vendor, 255 characters"),
}
# Above this many products, product fields go as one bulk productUpdate mutation. Plain,
# each product is a request of 10 points: a full bucket (2,000) pays for 200, each one after
# that waits 0.1 s for refill, refill the price and stock shards (same bucket) then wait for
# too; 500 products are 5,000 points (~30 s of refill past the first bucket) and 500 requests.
# The bulk handshake costs the same whatever the count (staged upload and run at 10 points
# each, a few 1-point polls, a download: ~25 points, ~5 requests) but adds the job's time in
# Shopify's queue, waits for any other bulk mutation (one per shop) and reports only at the
# end: below a couple of buckets' worth, plain requests are as quick and report product by
# product; from 500 on, the bulk path spends 200 times fewer points.
PRODUCT_BULK_THRESHOLD: Final = 500
_LOCATION_GID: Final = "gid://shopify/Location/"


def capabilities() -> Capabilities:
    """Shopify Admin GraphQL: a cost bucket (Standard: 2,000 points, 100 restored per s)."""
    return Capabilities(
        platform=NAME,
        ops=(
            WriteOp("variants_bulk", 250, _VARIANT, per_product=True),
            # A stock change does not move the product's updated_at.
            WriteOp("inventory_set", 250, ("stock",), range_read_sees=False),
            WriteOp("variants_bulk_operation", 100_000, _VARIANT, serial=True),
            # productUpdate: title, descriptionHtml, vendor and status (visible: ACTIVE or
            # DRAFT), one product per request.
            WriteOp("product_update", 1, _PRODUCT, product_level=True),
            # The same as a bulk mutation, one JSONL line per product.
            WriteOp(
                "product_update_bulk_operation",
                100_000,
                _PRODUCT,
                product_level=True,
                serial=True,
            ),
            # productSet (a new product with its variants) or productVariantsBulkCreate (new
            # variants of a product the shop has), one aliased field per product, 10 a
            # document: platforms/shopify/creator.py.
            WriteOp(CREATE_OP, CREATE_BATCH, (), product_level=True),
            # productDelete / productVariantsBulkDelete (a revert), 25 a document.
            WriteOp(DELETE_OP, DELETE_BATCH, (), product_level=True),
        ),
        creation=Creation(
            max_variants=MAX_VARIANTS,
            source=f"{_SCHEMA}: ProductSetUserErrorCode VARIANTS_OVER_LIMIT; Shopify allows "
            "2,048 variants per product (API 2024-04 on)",
        ),
        quota=Quota("cost_bucket", points=2000, restore_per_s=100.0),
        concurrency=2,
        bulk=(
            BulkPath("variants_bulk", "variants_bulk_operation", threshold=5000),
            BulkPath(
                "product_update",
                "product_update_bulk_operation",
                threshold=PRODUCT_BULK_THRESHOLD,
            ),
        ),
        constraints=CONSTRAINTS,
        unwritable={
            "sale_price": "Shopify has no sale price: map the sale price to price and the "
            "regular price to retail_price (written as compareAtPrice)",
        },
    )


def _capabilities(options: Mapping[str, Any]) -> Capabilities:
    return capabilities()


def _check_location(location_id: str) -> None:
    if not (location_id.isdigit() or location_id.startswith(_LOCATION_GID)):
        raise ValueError(
            f"a Shopify location id is a number or {_LOCATION_GID}<n>, not {location_id!r}"
        )


def location_key(location_id: str) -> str:
    """Shopify names a location by GID or by its number: gid://shopify/Location/12 is 12."""
    return location_id.rsplit("/", 1)[-1]


def _connector(setup: ConnectorSetup) -> StoreConnector:
    from feedsync.platforms.shopify.connector import ShopifyConnector

    return ShopifyConnector(
        setup.api_url,
        setup.credentials["access_token"],
        location=setup.options.get("location_id"),
        allow_private=setup.allow_private,
        **setup.injected(),
    )


SPEC = PlatformSpec(
    name=NAME,
    label="Shopify",
    credential_fields=("access_token",),
    store_url=re.compile(r"https://[A-Za-z0-9][A-Za-z0-9-]*\.myshopify\.com"),
    store_url_hint="https://<shop>.myshopify.com",
    capabilities=_capabilities,
    connector=_connector,
    check_location=_check_location,
    location_key=location_key,
    options=frozenset({"location_id"}),
)
