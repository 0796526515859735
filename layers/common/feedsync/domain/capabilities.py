"""What each store platform can write, how much per request, and under which quota.

The match step plans batches from these declarations and the update step applies
them, so neither needs to know a platform. A plan item's changes are routed to
one or more write operations (e.g. BigCommerce: prices and stock on the variant
batch, the name on the product batch); each operation says how many items one
request may carry and whether a request may mix products.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Applies = Literal["any", "simple", "variation"]
QuotaModel = Literal["request_window", "cost_bucket", "none"]


@dataclass(frozen=True)
class WriteOp:
    """One kind of write request.

    ``per_product``: a request carries one product's items only (Shopify's
    productVariantsBulkUpdate, WooCommerce's variations/batch).
    ``product_level``: the fields belong to the product, so the variants of one
    product collapse into a single item keyed by the product id.
    ``serial``: the platform processes these one at a time per store, so the
    planner keeps all of them in one shard (never two in flight).
    ``applies``: which items it takes: every item, simple products only (the
    product is its own variant, ``product_id == variant_id``) or variations only.
    """

    name: str
    max_batch: int
    fields: tuple[str, ...]
    per_product: bool = False
    product_level: bool = False
    serial: bool = False
    applies: Applies = "any"

    def takes(self, product_id: int, variant_id: int) -> bool:
        if self.applies == "any":
            return True
        simple = product_id == variant_id
        return simple if self.applies == "simple" else not simple


@dataclass(frozen=True)
class Quota:
    """The platform's rate model: a request window (BigCommerce), a cost bucket
    (Shopify GraphQL: ``points`` capacity restored at ``restore_per_s``) or none."""

    model: QuotaModel
    requests: int = 0
    window_s: float = 0.0
    points: int = 0
    restore_per_s: float = 0.0


@dataclass(frozen=True)
class BulkPath:
    """Above ``threshold`` items of ``op``, send them through ``bulk_op`` instead."""

    op: str
    bulk_op: str
    threshold: int


@dataclass(frozen=True)
class Capabilities:
    platform: str
    ops: tuple[WriteOp, ...]
    quota: Quota
    # Update shards that run at once without outrunning the quota.
    concurrency: int
    bulk: tuple[BulkPath, ...] = ()
    # Why a canonical field cannot be written here, for the merchant's error message.
    unwritable: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [op.name for op in self.ops]
        if len(set(names)) != len(names):  # results and index patches are keyed by name
            raise ValueError(f"{self.platform}: write operation names repeat: {names}")

    @property
    def writable_fields(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for op in self.ops:
            if op.name in {b.bulk_op for b in self.bulk}:
                continue
            for f in op.fields:
                seen[f] = None
        return tuple(seen)

    def op(self, name: str) -> WriteOp:
        for op in self.ops:
            if op.name == name:
                return op
        raise KeyError(f"{self.platform} has no write operation {name!r}")

    def route(
        self, product_id: int, variant_id: int, changes: Mapping[str, Any]
    ) -> list[tuple[WriteOp, dict[str, Any]]]:
        """Split one item's changes over the operations that write them (first op wins)."""
        bulk_ops = {b.bulk_op for b in self.bulk}
        left = dict(changes)
        out: list[tuple[WriteOp, dict[str, Any]]] = []
        for op in self.ops:
            if op.name in bulk_ops or not op.takes(product_id, variant_id):
                continue
            mine = {f: left.pop(f) for f in op.fields if f in left}
            if mine:
                out.append((op, mine))
        if left:
            raise ValueError(f"{self.platform} cannot write {', '.join(sorted(left))}")
        return out

    def check_fields(self, fields: list[str] | tuple[str, ...]) -> None:
        """ValueError naming each field this platform cannot write, and why."""
        bad = [f for f in fields if f not in self.writable_fields]
        if bad:
            reasons = "; ".join(
                f"{f}: {self.unwritable.get(f, 'not writable on ' + self.platform)}" for f in bad
            )
            raise ValueError(
                f"{self.platform} cannot write {', '.join(bad)} ({reasons}); "
                f"writable fields: {', '.join(self.writable_fields)}"
            )


_VARIANT_MONEY: Final = ("price", "sale_price", "retail_price", "cost_price")
# Content written with a variant's own fields, and with its product's (one per product).
_VARIANT_CONTENT: Final = ("weight", "image_url")
_PRODUCT_CONTENT: Final = ("name", "description", "brand")


def bigcommerce(inventory: Literal["variants", "adjustments"] = "variants") -> Capabilities:
    """BigCommerce v3: 150 requests / 30 s per store (shared by every app)."""
    variant_fields = (
        _VARIANT_MONEY + (("stock",) if inventory == "variants" else ()) + _VARIANT_CONTENT
    )
    ops = [
        WriteOp("variants", 50, variant_fields),
        WriteOp("products", 10, _PRODUCT_CONTENT, product_level=True),
    ]
    if inventory == "adjustments":
        ops.append(WriteOp("inventory", 2000, ("stock",), serial=True))
    return Capabilities(
        platform="bigcommerce",
        ops=tuple(ops),
        quota=Quota("request_window", requests=150, window_s=30.0),
        concurrency=4,
    )


_SHOPIFY_VARIANT: Final = ("price", "retail_price", "cost_price", *_VARIANT_CONTENT)
# Above this many products, product fields go as one bulk productUpdate mutation. Plain,
# each product is a request of 10 points: a full bucket (2,000) pays for 200, each one after
# that waits 0.1 s for refill, refill the price and stock shards (same bucket) then wait for
# too; 500 products are 5,000 points (~30 s of refill past the first bucket) and 500 requests.
# The bulk handshake costs the same whatever the count (staged upload and run at 10 points
# each, a few 1-point polls, a download: ~25 points, ~5 requests) but adds the job's time in
# Shopify's queue, waits for any other bulk mutation (one per shop) and reports only at the
# end: below a couple of buckets' worth, plain requests are as quick and report product by
# product; from 500 on, the bulk path spends 200 times fewer points.
_SHOPIFY_PRODUCT_BULK_THRESHOLD: Final = 500


def shopify() -> Capabilities:
    """Shopify Admin GraphQL: a cost bucket (Standard: 2,000 points, 100 restored per s)."""
    return Capabilities(
        platform="shopify",
        ops=(
            WriteOp("variants_bulk", 250, _SHOPIFY_VARIANT, per_product=True),
            WriteOp("inventory_set", 250, ("stock",)),
            WriteOp("variants_bulk_operation", 100_000, _SHOPIFY_VARIANT, serial=True),
            # productUpdate: title, descriptionHtml and vendor, one product per request.
            WriteOp("product_update", 1, _PRODUCT_CONTENT, product_level=True),
            # The same as a bulk mutation, one JSONL line per product.
            WriteOp(
                "product_update_bulk_operation",
                100_000,
                _PRODUCT_CONTENT,
                product_level=True,
                serial=True,
            ),
        ),
        quota=Quota("cost_bucket", points=2000, restore_per_s=100.0),
        concurrency=2,
        bulk=(
            BulkPath("variants_bulk", "variants_bulk_operation", threshold=5000),
            BulkPath(
                "product_update",
                "product_update_bulk_operation",
                threshold=_SHOPIFY_PRODUCT_BULK_THRESHOLD,
            ),
        ),
        unwritable={
            "sale_price": "Shopify has no sale price: map the sale price to price and the "
            "regular price to retail_price (written as compareAtPrice)",
        },
    )


_WOO_VARIANT: Final = ("price", "sale_price", "stock", *_VARIANT_CONTENT)


def woocommerce() -> Capabilities:
    """WooCommerce REST v3: no quota built in; the shop's own server is the limit."""
    return Capabilities(
        platform="woocommerce",
        ops=(
            WriteOp("products_batch", 100, _WOO_VARIANT, applies="simple"),
            WriteOp("variations_batch", 100, _WOO_VARIANT, per_product=True, applies="variation"),
            # products/batch too, apart so a row's price and its product's fields (which
            # its sibling variations share) report separately.
            WriteOp("product_fields", 100, ("name", "description"), product_level=True),
        ),
        quota=Quota("none"),
        concurrency=2,
        unwritable={
            "retail_price": "WooCommerce has no retail (MSRP) price field",
            "cost_price": "WooCommerce has no cost price field",
            "brand": "WooCommerce keeps brands as taxonomy terms managed in the shop; "
            "feedsync does not create or assign them",
        },
    )


def capabilities_for(platform: str, options: Mapping[str, Any] | None = None) -> Capabilities:
    options = options or {}
    if platform == "bigcommerce":
        return bigcommerce(options.get("inventory", "variants"))
    if platform == "shopify":
        return shopify()
    if platform == "woocommerce":
        return woocommerce()
    raise ValueError(f"unsupported platform {platform!r}")
