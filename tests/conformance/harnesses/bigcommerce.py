"""BigCommerce (v3 REST) against ``SandboxStore``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance_kit import ProductSpec, SeededProduct, SeededVariant

from feedsync.domain.content import canonical_weight
from feedsync.domain.money import amount_to_cents
from feedsync.domain.writes import PlanItem
from feedsync_local.bigcommerce_double import SandboxStore
from harnesses.base import REFUSAL, Harness

ADJUSTMENTS = "/inventory/adjustments/absolute"


class BigCommerceHarness(Harness):
    platform = "bigcommerce"
    # Stock goes with the variants by default, through inventory adjustments on request.
    option_sets = ({}, {"inventory": "adjustments"})
    # An adjustment's reason carries the batch key; the catalog writes have no such field.
    keyed_ops = frozenset({"inventory"})

    def start(self) -> None:
        self.double = SandboxStore(clock=self.clock).start()
        self.store_hash, self.token = self.double.create_store()

    def stop(self) -> None:
        self.double.stop()

    def address(self) -> tuple[str, dict[str, str]]:
        return self.double.api_url(self.store_hash), {"access_token": self.token}

    # -- catalog -------------------------------------------------------------------------------
    def seed(self, products: tuple[ProductSpec, ...]) -> list[SeededProduct]:
        bodies: list[dict[str, Any]] = []
        for spec in products:
            body: dict[str, Any] = {
                "name": spec.name,
                "type": "physical",
                "weight": 0.5,
                "price": spec.variants[0].price / 100,
            }
            if spec.simple:
                [v] = spec.variants
                # A product without options tracks its stock on the product.
                body |= {"sku": v.sku, "upc": v.barcode, "inventory_level": v.stock}
                body["inventory_tracking"] = "product"
            else:
                body["inventory_tracking"] = "variant"
                body["variants"] = [
                    {
                        "sku": v.sku,
                        "upc": v.barcode,
                        "price": v.price / 100,
                        "inventory_level": v.stock,
                        "option_values": [{"option_display_name": "Size", "label": v.option}],
                    }
                    for v in spec.variants
                ]
            bodies.append(body)
        created = self.double.seed(self.store_hash, bodies)
        return [
            SeededProduct(
                spec,
                product["id"],
                tuple(
                    SeededVariant(v_spec, v["id"], "product" if spec.simple else None)
                    for v_spec, v in zip(spec.variants, product["variants"], strict=True)
                ),
            )
            for spec, product in zip(products, created, strict=True)
        ]

    def state(self, product_id: int, variant_id: int) -> dict[str, Any]:
        variant = next(v for v in self.double.variants(self.store_hash) if v["id"] == variant_id)
        product = next(p for p in self.double.products(self.store_hash) if p["id"] == product_id)

        def money(key: str) -> int | None:
            # A variant's null inherits the product's; on the product 0 is "not set".
            own = variant[key]
            if own is not None:
                return amount_to_cents(own)
            return amount_to_cents(product[key]) if key == "price" or product[key] else None

        weight = variant["weight"] if variant["weight"] is not None else product["weight"]
        return {
            "price": money("price"),
            "sale_price": money("sale_price"),
            "retail_price": money("retail_price"),
            "cost_price": money("cost_price"),
            "stock": variant["inventory_level"],
            "name": product["name"],
            "description": product["description"],
            "brand": self.double.brands(self.store_hash).get(product["brand_id"]),
            "weight": canonical_weight(weight),
            "image_url": variant["image_url"] or None,
            "visible": product["is_visible"],
        }

    def set_modified(self, product_id: int, when: datetime) -> None:
        self.double.set_modified(self.store_hash, product_id, when)

    # -- faults --------------------------------------------------------------------------------
    def refuse(self, op: str, item: PlanItem) -> str:
        if op == "products":
            self.double.reject_product(self.store_hash, item.product_id, REFUSAL)
        else:  # variants, and inventory adjustments by variant id
            self.double.reject_variant(self.store_hash, item.variant_id, REFUSAL)
        return REFUSAL

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self.double.delete_variant(self.store_hash, variant_id)

    def delete_product(self, product_id: int) -> None:
        self.double.delete_product(self.store_hash, product_id)

    def throttle(self, wait_s: float, count: int = 1) -> None:
        # X-Rate-Limit-Requests-Left: 0 and X-Rate-Limit-Time-Reset-Ms: the wait.
        self.double.throttle_next(round(wait_s * 1000), count)

    def throttle_bare(self, count: int = 1) -> None:
        self.double.fail_next(429, count)

    def unavailable(self, count: int = 1, retry_after: float | None = None) -> None:
        headers = None if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.double.fail_next(503, count, headers)

    def set_request_window(self, requests: int, window_s: float) -> None:
        self.double.set_quota(requests, window_s)

    # -- what the double received --------------------------------------------------------------
    def statuses(self) -> list[int]:
        return [status for _, _, status in self.double.requests_log]

    def rate_limited(self) -> int:
        return self.statuses().count(429)

    def batch_keys(self) -> list[str]:
        # The double keeps no request bodies: the reasons are read from what was sent.
        return [
            str(sent.json.get("reason"))
            for sent in self.session.sent
            if sent.method == "PUT" and sent.url.endswith(ADJUSTMENTS)
        ]

    def reset_log(self) -> None:
        super().reset_log()
        self.double.reset_log()
