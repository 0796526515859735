"""Shopify (Admin GraphQL) against ``ShopifyDouble``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from conformance_kit import ProductSpec, SeededProduct, SeededVariant

from feedsync.domain.content import canonical_weight
from feedsync.domain.money import amount_to_cents
from feedsync.domain.writes import PlanItem
from feedsync_local.shopify_double import ShopifyDouble
from harnesses.base import REFUSAL, Harness

_REFERENCE = "gid://feedsync/SyncBatch/"
_CLIENT = re.compile(r"clientIdentifier:\s*\$(\w+)")
# inventorySetQuantities has nothing to refuse one item with but the shop's own state: an
# item no longer stocked at the location is refused with this (ITEM_NOT_STOCKED_AT_LOCATION).
NOT_STOCKED = "The specified inventory item is not stocked at the location."


class ShopifyHarness(Harness):
    platform = "shopify"
    # inventorySetQuantities carries it as referenceDocumentUri, a bulk mutation as its
    # clientIdentifier; productVariantsBulkUpdate and productUpdate have no such argument.
    keyed_ops = frozenset(
        {"inventory_set", "variants_bulk_operation", "product_update_bulk_operation"}
    )
    # inventorySetQuantities names inventory items only: when the product is deleted, all
    # Shopify can say is that the item's inventory item is gone (INVALID_INVENTORY_ITEM).
    product_gone_scope = {"inventory_set": "variant"}

    def start(self) -> None:
        self.double = ShopifyDouble(clock=self.clock).start()

    def stop(self) -> None:
        self.double.stop()

    def address(self) -> tuple[str, dict[str, str]]:
        return self.double.shop_url, {"access_token": self.double.access_token}

    @property
    def default_location(self) -> str | None:
        return f"gid://shopify/Location/{self.double.primary_location_id}"

    # -- catalog -------------------------------------------------------------------------------
    def seed(self, products: tuple[ProductSpec, ...]) -> list[SeededProduct]:
        created = self.double.seed(
            {
                "title": spec.name,
                "variants": [
                    {
                        "sku": v.sku,
                        "barcode": v.barcode,
                        "price": f"{v.price / 100:.2f}",
                        "available": v.stock,
                    }
                    for v in spec.variants
                ],
            }
            for spec in products
        )
        return [
            SeededProduct(
                spec,
                product["id"],
                tuple(
                    SeededVariant(v_spec, v["id"], str(v["inventory_item_id"]))
                    for v_spec, v in zip(spec.variants, product["variants"], strict=True)
                ),
            )
            for spec, product in zip(products, created, strict=True)
        ]

    def state(self, product_id: int, variant_id: int) -> dict[str, Any]:
        variant = self.double.variant(variant_id)
        product = self.double.product(product_id)
        return {
            "price": amount_to_cents(variant["price"]),
            "retail_price": amount_to_cents(variant["compare_at_price"]),
            "cost_price": amount_to_cents(variant["cost"]),
            "stock": variant["available"],
            "name": product["title"],
            "description": product["description_html"],
            "brand": product["vendor"] or None,
            "weight": canonical_weight(variant["weight"]),
            "image_url": variant["image_url"],
            "visible": {"ACTIVE": True, "DRAFT": False}.get(product["status"]),
        }

    def set_modified(self, product_id: int, when: datetime) -> None:
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.double.set_updated_at(product_id, stamp)

    # -- faults --------------------------------------------------------------------------------
    def refuse(self, op: str, item: PlanItem) -> str:
        if op in ("product_update", "product_update_bulk_operation"):
            self.double.reject_product(item.product_id, REFUSAL)
            return REFUSAL
        if op == "inventory_set":
            assert item.ref is not None
            self.double.unstock(int(item.ref))
            return NOT_STOCKED
        self.double.reject_variant(item.variant_id, REFUSAL)
        return REFUSAL

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self.double.delete_variant(variant_id)

    def delete_product(self, product_id: int) -> None:
        self.double.delete_product(product_id)

    def throttle(self, wait_s: float, count: int = 1) -> None:
        # Shopify's 429 says when to come back in Retry-After (its cost bucket is in-band:
        # see the quota test).
        self.double.fail_next(429, count, retry_after=wait_s)

    def throttle_bare(self, count: int = 1) -> None:
        self.double.fail_next(429, count)

    def unavailable(self, count: int = 1, retry_after: float | None = None) -> None:
        self.double.fail_next(503, count, retry_after=retry_after)

    def set_cost_bucket(self, points: float, restore_per_s: float, available: float) -> None:
        self.double.set_bucket(
            maximum_available=points, restore_rate=restore_per_s, currently_available=available
        )

    # -- what the double received --------------------------------------------------------------
    def _graphql(self) -> list[dict[str, Any]]:
        return [e for e in self.double.requests_log() if e.get("graphql")]

    def statuses(self) -> list[int]:
        return [int(e["status"]) for e in self._graphql()]

    def rate_limited(self) -> int:
        return sum(1 for e in self._graphql() if e["status"] == 429 or e.get("code") == "THROTTLED")

    def batch_keys(self) -> list[str]:
        """Read off the wire as Shopify reads it: an inventorySetQuantities input's
        ``referenceDocumentUri``, a bulkOperationRunMutation's ``clientIdentifier``."""
        keys = []
        for document in self.double.documents():
            if document.get("bulk"):
                continue  # a line a bulk operation ran, not a request
            variables = document.get("variables") or {}
            for uri in _values_of(variables, "referenceDocumentUri"):
                if isinstance(uri, str) and uri.startswith(_REFERENCE):
                    keys.append(unquote(uri[len(_REFERENCE) :]))
            bound = _CLIENT.search(str(document.get("query") or ""))
            if bound is not None and "bulkOperationRunMutation" in str(document.get("query")):
                keys.append(str(variables.get(bound.group(1))))
        return keys

    def reset_log(self) -> None:
        super().reset_log()
        self.double.reset_log()


def _values_of(value: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [value[key]] if key in value else []
        return found + [v for child in value.values() for v in _values_of(child, key)]
    if isinstance(value, list):
        return [v for child in value for v in _values_of(child, key)]
    return []
