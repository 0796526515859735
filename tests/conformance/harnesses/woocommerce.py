"""WooCommerce (REST v3) against ``WooCommerceDouble``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance_kit import ProductSpec, SeededProduct, SeededVariant

from feedsync.domain.content import canonical_weight
from feedsync.domain.money import amount_to_cents
from feedsync.domain.writes import PlanItem
from feedsync_local.woo_double import WooCommerceDouble
from harnesses.base import REFUSAL, Harness


class WooCommerceHarness(Harness):
    platform = "woocommerce"
    # WooCommerce has no idempotency keys (batch_key is unused): values are absolute.
    keyed_ops = frozenset()
    # A variations batch names variations only, and a product deleted for good takes its
    # variations with it: each is answered with the variation's invalid-id code.
    product_gone_scope = {"variations_batch": "variant"}

    def start(self) -> None:
        self.double = WooCommerceDouble().start()

    def stop(self) -> None:
        self.double.stop()

    def address(self) -> tuple[str, dict[str, str]]:
        key, secret = self.double.credentials
        return self.double.site_url, {"consumer_key": key, "consumer_secret": secret}

    # -- catalog -------------------------------------------------------------------------------
    def seed(self, products: tuple[ProductSpec, ...]) -> list[SeededProduct]:
        def stocked(sku: str, barcode: str, price: int, stock: int) -> dict[str, Any]:
            return {
                "sku": sku,
                "global_unique_id": barcode,
                "regular_price": f"{price / 100:.2f}",
                "manage_stock": True,
                "stock_quantity": stock,
            }

        bodies: list[dict[str, Any]] = []
        for spec in products:
            if spec.simple:
                [v] = spec.variants
                bodies.append(
                    {
                        "name": spec.name,
                        "type": "simple",
                        **stocked(v.sku, v.barcode, v.price, v.stock),
                    }
                )
            else:
                bodies.append(
                    {
                        "name": spec.name,
                        "type": "variable",
                        "variations": [
                            stocked(v.sku, v.barcode, v.price, v.stock) for v in spec.variants
                        ],
                    }
                )
        created = self.double.seed(bodies)
        seeded = []
        for spec, product in zip(products, created, strict=True):
            # A simple product is its own variant: same id.
            ids = [v["id"] for v in product.get("variation_objects") or [product]]
            variants = tuple(
                SeededVariant(v, vid, None) for v, vid in zip(spec.variants, ids, strict=True)
            )
            seeded.append(SeededProduct(spec, product["id"], variants))
        return seeded

    def state(self, product_id: int, variant_id: int) -> dict[str, Any]:
        item = self.double.item(variant_id, context="edit")
        product = self.double.item(product_id, context="edit")
        if variant_id == product_id:
            images = item.get("images") or []
            image = images[0]["src"] if images else None
        else:
            image = (item.get("image") or {}).get("src")
        return {
            "price": amount_to_cents(item["regular_price"]),
            "sale_price": amount_to_cents(item["sale_price"]),
            "stock": item["stock_quantity"],
            "name": product["name"],
            "description": product["description"],
            "weight": canonical_weight(item["weight"] or product["weight"]),
            "image_url": image,
            "visible": {"publish": True, "private": False}.get(product["status"]),
        }

    def set_modified(self, product_id: int, when: datetime) -> None:
        # A range read asks for products and (store-wide) variations modified in it.
        self.double.set_modified(product_id, when)
        for variation in self.double.item(product_id).get("variations") or []:
            self.double.set_modified(int(variation), when)

    # -- faults --------------------------------------------------------------------------------
    def refuse(self, op: str, item: PlanItem) -> str:
        target = item.variant_id if op == "variations_batch" else item.product_id
        self.double.reject_item(target, REFUSAL)
        return REFUSAL

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self.double.delete(variant_id)

    def delete_product(self, product_id: int) -> None:
        self.double.delete(product_id)

    def throttle(self, wait_s: float, count: int = 1) -> None:
        # WooCommerce's REST API has no rate limit of its own: the host's (or a plugin's)
        # 429 says when to come back in Retry-After.
        self.double.fail_next(429, count, retry_after=f"{wait_s:g}")

    def throttle_bare(self, count: int = 1) -> None:
        self.double.fail_next(429, count)

    def unavailable(self, count: int = 1, retry_after: float | None = None) -> None:
        self.double.fail_next(
            503, count, retry_after=None if retry_after is None else f"{retry_after:g}"
        )

    # -- what the double received --------------------------------------------------------------
    def statuses(self) -> list[int]:
        return [status for _, _, status in self.double.requests_log()]

    def rate_limited(self) -> int:
        return self.statuses().count(429)

    def batch_keys(self) -> list[str]:
        return []  # no request of the REST API carries one

    def reset_log(self) -> None:
        super().reset_log()
        self.double.reset_log()
