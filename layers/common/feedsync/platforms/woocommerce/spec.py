"""WooCommerce as the rest of feedsync knows it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from feedsync.domain.capabilities import (
    CREATE_OP,
    DELETE_OP,
    VARIANT_CONTENT,
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

NAME = "woocommerce"
MAX_VARIATIONS: Final = 1000

_VARIANT: Final = ("price", "sale_price", "stock", *VARIANT_CONTENT)
_MONEY: Final = FieldRule(
    minimum=0, source="WooCommerce REST v3: regular_price, sale_price (a price, never negative)"
)
# WooCommerce's REST schema declares no maximum or maxLength for what feedsync writes (prices
# and weights are strings, names and descriptions WordPress posts, stock may go negative
# with backorders): the general rules hold.
CONSTRAINTS: Final = {
    "price": _MONEY,
    "sale_price": _MONEY,
    "weight": FieldRule(minimum=0, source="WooCommerce REST v3: weight, a decimal >= 0"),
    "image_url": FieldRule(
        web_url=True,
        source="WooCommerce REST v3: images[].src / image.src, a URL the shop downloads",
    ),
}


def capabilities() -> Capabilities:
    """WooCommerce REST v3: no quota built in; the shop's own server is the limit."""
    return Capabilities(
        platform=NAME,
        ops=(
            WriteOp("products_batch", 100, _VARIANT, applies="simple"),
            WriteOp("variations_batch", 100, _VARIANT, per_product=True, applies="variation"),
            # products/batch too, apart so a row's price and its product's fields (which
            # its sibling variations share) report separately. visible: status publish or
            # private.
            WriteOp("product_fields", 100, ("name", "description", VISIBLE), product_level=True),
            # products/batch create (a product each; a group's variations then go to its
            # variations/batch, 100 a request): platforms/woocommerce/creator.py.
            WriteOp(CREATE_OP, 100, (), product_level=True),
            # products/batch delete (for good, with the variations), or a variation's product's
            # variations/batch delete: a revert.
            WriteOp(DELETE_OP, 100, (), product_level=True),
        ),
        creation=Creation(
            max_variants=MAX_VARIATIONS,
            source="WooCommerce REST v3 sets no cap on a product's variations; feedsync's own "
            "(each 100 variations of a group cost one variations/batch request)",
        ),
        quota=Quota("none"),
        concurrency=2,
        constraints=CONSTRAINTS,
        unwritable={
            "retail_price": "WooCommerce has no retail (MSRP) price field",
            "cost_price": "WooCommerce has no cost price field",
            "brand": "WooCommerce keeps brands as taxonomy terms managed in the shop; "
            "feedsync does not create or assign them",
        },
    )


def _capabilities(options: Mapping[str, Any]) -> Capabilities:
    return capabilities()


def _connector(setup: ConnectorSetup) -> StoreConnector:
    from feedsync.platforms.woocommerce.connector import WooCommerceConnector

    return WooCommerceConnector(
        setup.api_url,
        setup.credentials["consumer_key"],
        setup.credentials["consumer_secret"],
        allow_http=setup.allow_private,
        allow_private=setup.allow_private,
        **setup.injected(),
    )


SPEC = PlatformSpec(
    name=NAME,
    label="WooCommerce",
    credential_fields=("consumer_key", "consumer_secret"),
    # The merchant's own site: HTTPS only, since the key pair travels as basic auth.
    store_url=re.compile(r"https://[^\s/?#]+(/[^\s?#]*)?"),
    store_url_hint="the shop's https:// address",
    capabilities=_capabilities,
    connector=_connector,
    options=frozenset(),
)
