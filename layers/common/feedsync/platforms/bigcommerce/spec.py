"""BigCommerce as the rest of feedsync knows it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from feedsync.domain.capabilities import (
    PRODUCT_CONTENT,
    VARIANT_CONTENT,
    VARIANT_MONEY,
    Capabilities,
    Quota,
    WriteOp,
)
from feedsync.platforms.spec import ConnectorSetup, PlatformSpec

if TYPE_CHECKING:
    from feedsync.core.ports import StoreConnector

NAME = "bigcommerce"


def capabilities(inventory: Literal["variants", "adjustments"] = "variants") -> Capabilities:
    """BigCommerce v3: 150 requests / 30 s per store (shared by every app)."""
    variant_fields = (
        VARIANT_MONEY + (("stock",) if inventory == "variants" else ()) + VARIANT_CONTENT
    )
    ops = [
        # A refused item rejects its whole request (422; 404/409 for products).
        WriteOp("variants", 50, variant_fields, refusal_rejects_batch=True),
        WriteOp("products", 10, PRODUCT_CONTENT, product_level=True, refusal_rejects_batch=True),
    ]
    if inventory == "adjustments":
        ops.append(WriteOp("inventory", 2000, ("stock",), serial=True, refusal_rejects_batch=True))
    return Capabilities(
        platform=NAME,
        ops=tuple(ops),
        quota=Quota("request_window", requests=150, window_s=30.0),
        concurrency=4,
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
