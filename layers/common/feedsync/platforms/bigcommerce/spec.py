"""BigCommerce as the rest of feedsync knows it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from feedsync.domain.capabilities import (
    CREATE_OP,
    DELETE_OP,
    PRODUCT_CONTENT,
    VARIANT_CONTENT,
    VARIANT_MONEY,
    VISIBLE,
    Capabilities,
    Creation,
    FieldRule,
    Quota,
    WriteOp,
)
from feedsync.platforms.spec import ConnectorSetup, PlatformSpec

if TYPE_CHECKING:
    from feedsync.core.ports import StoreConnector

NAME = "bigcommerce"

_VARIANTS_SPEC: Final = "product-variants_catalog.v3.yml, PUT /catalog/variants"
_PRODUCTS_SPEC: Final = "products_catalog.v3.yml, PUT /catalog/products"
_MONEY: Final = FieldRule(minimum=0, source=f"{_VARIANTS_SPEC}: minimum 0")
# What BigCommerce's specifications refuse (canonical units: cents, units, the store's
# weight unit); see ``domain/validation.py``.
CONSTRAINTS: Final = {
    "price": _MONEY,
    "sale_price": _MONEY,
    "retail_price": _MONEY,
    "cost_price": _MONEY,
    # The catalog's inventory_level (the variant's maximum, the product's minimum 0); an
    # absolute adjustment's quantity is held to the same by the platform.
    "stock": FieldRule(
        minimum=0,
        maximum=2_147_483_647,
        source=f"{_VARIANTS_SPEC}: inventory_level maximum 2147483647; "
        f"{_PRODUCTS_SPEC}: inventory_level minimum 0",
    ),
    "weight": FieldRule(
        minimum=0,
        maximum=9_999_999_999,
        source=f"{_VARIANTS_SPEC}: weight minimum 0; {_PRODUCTS_SPEC}: weight maximum 9999999999",
    ),
    "image_url": FieldRule(
        web_url=True,
        source=f"{_VARIANTS_SPEC}: image_url, a publicly available URL the platform downloads",
    ),
    "name": FieldRule(max_length=250, source=f"{_PRODUCTS_SPEC}: name maxLength 250"),
    "brand": FieldRule(max_length=255, source="Brands API: brand name at most 255 characters"),
}


def capabilities(inventory: Literal["variants", "adjustments"] = "variants") -> Capabilities:
    """BigCommerce v3: 150 requests / 30 s per store (shared by every app)."""
    variant_fields = (
        VARIANT_MONEY + (("stock",) if inventory == "variants" else ()) + VARIANT_CONTENT
    )
    ops = [
        # A refused item rejects its whole request (422; 404/409 for products).
        WriteOp("variants", 50, variant_fields, refusal_rejects_batch=True),
        WriteOp(
            "products",
            10,
            (*PRODUCT_CONTENT, VISIBLE),
            product_level=True,
            refusal_rejects_batch=True,
        ),
    ]
    if inventory == "adjustments":
        ops.append(WriteOp("inventory", 2000, ("stock",), serial=True, refusal_rejects_batch=True))
    ops += [
        # POST /catalog/products makes one product (with its variants) per request.
        WriteOp(CREATE_OP, 1, (), product_level=True, refusal_rejects_batch=True),
        # DELETE /catalog/products?id:in= takes 250 products per request.
        WriteOp(DELETE_OP, 250, (), product_level=True),
    ]
    return Capabilities(
        platform=NAME,
        ops=tuple(ops),
        quota=Quota("request_window", requests=150, window_s=30.0),
        concurrency=4,
        constraints=CONSTRAINTS,
        # A refused batch's known-good items ride in the next batch (``writer.py``).
        carries_pile=True,
        creation=Creation(
            max_variants=600,
            source="product-variants_catalog.v3.yml, POST /catalog/products/{product_id}/variants:"
            " 600 SKUs per product",
        ),
    )


def _capabilities(options: Mapping[str, Any]) -> Capabilities:
    return capabilities(options.get("inventory") or "variants")


def _check_location(location_id: str) -> None:
    if not location_id.isdigit():
        raise ValueError(f"a BigCommerce location id is a number, not {location_id!r}")


def _connector(setup: ConnectorSetup) -> StoreConnector:
    from feedsync.platforms.bigcommerce.connector import BigCommerceConnector

    return BigCommerceConnector(
        setup.api_url,
        setup.credentials["access_token"],
        inventory=setup.options.get("inventory") or "variants",
        # Every shard writing to the store shares its request window.
        budget=setup.budget() if setup.budget is not None else None,
        allow_private=setup.allow_private,
        **setup.injected(),
    )


SPEC = PlatformSpec(
    name=NAME,
    label="BigCommerce",
    credential_fields=("access_token",),
    # The platform's own API host; anything else would send the store token elsewhere.
    store_url=re.compile(r"https://api\.bigcommerce\.com/stores/[A-Za-z0-9]+/v3"),
    store_url_hint="https://api.bigcommerce.com/stores/<store hash>/v3",
    capabilities=_capabilities,
    connector=_connector,
    check_location=_check_location,
    options=frozenset({"inventory", "location_id"}),
)
