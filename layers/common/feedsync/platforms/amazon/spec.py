"""Amazon (a seller's listings in one marketplace, through the Selling Partner API) as the
rest of feedsync knows it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from feedsync.domain.capabilities import Capabilities, FieldRule, Quota, WriteOp
from feedsync.platforms.spec import ConnectorSetup, PlatformSpec

if TYPE_CHECKING:
    from feedsync.core.ports import StoreConnector

NAME = "amazon"
# A JSON_LISTINGS_FEED document holds at most 25,000 messages (listings-feed-schema-v2).
FEED_MESSAGES: Final = 25_000
_CONTENT = (
    "a listing's content belongs to its product detail page, written with its product "
    "type's full attribute set; feedsync sends offer-only PATCH messages"
)


# What Amazon refuses of an offer-only PATCH (canonical units: cents, units). The listings
# feed schema leaves values to the product type definitions (not in ../shared/specs): our
# price must be above 0, a merchant-fulfilled quantity a whole number of at least 0.
CONSTRAINTS: Final = {
    "price": FieldRule(
        minimum=1,
        source="Amazon product type definitions: purchasable_offer.our_price.schedule."
        "value_with_tax is greater than 0",
    ),
    "stock": FieldRule(
        minimum=0,
        source="Amazon product type definitions: fulfillment_availability.quantity is at least 0",
        # A DEFAULT quantity sent to an FBA listing would make it merchant-fulfilled.
        needs_read="the listing has no merchant-fulfilled quantity on Amazon (it is fulfilled "
        "by Amazon, whose stock it is, or a variation parent)",
    ),
}


def capabilities() -> Capabilities:
    """One operation, a listings feed carrying price and quantity PATCH messages.

    Each SKU is a listing of its own (``applies="simple"``: product id = variant id).
    The quota is Amazon's usage plan per operation (``token_bucket``), the seller's
    buckets shared by every shard (``ConnectorSetup.buckets``); one feed per shard, one
    shard at a time.
    """
    return Capabilities(
        platform=NAME,
        ops=(WriteOp("listings_feed", FEED_MESSAGES, ("price", "stock"), applies="simple"),),
        quota=Quota("token_bucket"),
        concurrency=1,
        # A feed takes minutes at Amazon: one per update shard (one Lambda) at a time.
        batches_per_shard=1,
        constraints=CONSTRAINTS,
        # listings-feed-message-schema-v2.json: an UPDATE needs a productType and its
        # attributes; feedsync knows neither for a supplier's row.
        cannot_create="Amazon: creating listings needs a product type; create mode is not "
        "available",
        unwritable={
            "sale_price": "Amazon's sale price is a scheduled discount in purchasable_offer "
            "with start and end dates; feedsync writes our_price only",
            "retail_price": "Amazon's list price is catalog data Amazon may override",
            "cost_price": "Amazon has no cost price field",
            "name": _CONTENT,
            "description": _CONTENT,
            "brand": _CONTENT,
            "weight": _CONTENT,
            "image_url": _CONTENT,
        },
    )


def _capabilities(options: Mapping[str, Any]) -> Capabilities:
    return capabilities()


def _connector(setup: ConnectorSetup) -> StoreConnector:
    from feedsync.platforms.amazon.connector import AmazonConnector

    options = setup.options
    seller_id = str(options.get("seller_id") or "")
    # Amazon's usage plans are the seller's in a region, whichever marketplace a store is.
    region = urlsplit(setup.api_url).hostname or setup.api_url
    buckets = setup.buckets(f"{NAME}#{region}#{seller_id}") if setup.buckets else None
    return AmazonConnector(
        setup.api_url,
        client_id=setup.credentials["client_id"],
        client_secret=setup.credentials["client_secret"],
        refresh_token=setup.credentials["refresh_token"],
        seller_id=seller_id,
        marketplace_id=str(options.get("marketplace_id") or ""),
        token_url=options.get("token_url") or None,
        allow_private=setup.allow_private,
        buckets=buckets,
        **setup.injected(),
    )


SPEC = PlatformSpec(
    name=NAME,
    label="Amazon",
    credential_fields=("client_id", "client_secret", "refresh_token"),
    # The SP-API endpoint of the seller's region: the token goes nowhere else.
    store_url=re.compile(r"https://sellingpartnerapi-(na|eu|fe)\.amazon\.com/?"),
    store_url_hint="https://sellingpartnerapi-na.amazon.com (or -eu, -fe: the seller's region)",
    capabilities=_capabilities,
    connector=_connector,
    options=frozenset({"seller_id", "marketplace_id", "token_url"}),
    required_options=frozenset({"seller_id", "marketplace_id"}),
)
