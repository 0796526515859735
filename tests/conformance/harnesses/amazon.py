"""Amazon (Selling Partner API) against ``AmazonDouble``, on the suite's virtual clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance_kit import (
    CATALOG,
    Catalog,
    ProductSpec,
    SeededProduct,
    SeededVariant,
    VariantSpec,
)

from feedsync.domain.writes import PlanItem
from feedsync.platforms.amazon.endpoints import listing_id
from feedsync_local.amazon_double import AmazonDouble
from harnesses.base import REFUSAL, Harness


class AmazonHarness(Harness):
    platform = "amazon"
    # A feed has no idempotency key: its values are absolute (batch_key is unused).
    keyed_ops = frozenset()

    def start(self) -> None:
        self.double = AmazonDouble(clock=self.clock).start()
        # The seller and its marketplace are store options; the token comes from the double.
        self.options |= {
            "seller_id": self.double.seller_id,
            "marketplace_id": self.double.marketplace_id,
            "token_url": self.double.token_url,
        }
        self._skus: dict[int, str] = {}

    def stop(self) -> None:
        self.double.stop()

    def address(self) -> tuple[str, dict[str, str]]:
        d = self.double
        creds = {"client_id": d.client_id, "client_secret": d.client_secret}
        return d.endpoint, {**creds, "refresh_token": d.refresh_token}

    # -- catalog -------------------------------------------------------------------------------
    def seed_catalog(self) -> Catalog:
        """Amazon has no products with options on this path: each SKU is a listing of its
        own (a variation family's children are separate offers), so each of the suite's
        variants is seeded as its own product, named as its family."""
        flat = tuple(
            ProductSpec(p.name, (VariantSpec(v.sku, v.barcode, v.price, v.stock),))
            for p in CATALOG
            for v in p.variants
        )
        self._catalog = Catalog(tuple(self.seed(flat)))
        return self._catalog

    def seed(self, products: tuple[ProductSpec, ...]) -> list[SeededProduct]:
        seeded = []
        for spec in products:
            [v] = spec.variants
            self.double.seed(
                [
                    {
                        "sku": v.sku,
                        "name": spec.name,
                        "price": v.price,
                        "quantity": v.stock,
                        "upc": v.barcode,
                    }
                ]
            )
            ident = listing_id(v.sku)
            self._skus[ident] = v.sku
            seeded.append(SeededProduct(spec, ident, (SeededVariant(v, ident, v.sku),)))
        return seeded

    def state(self, product_id: int, variant_id: int) -> dict[str, Any]:
        listing = self.double.listing(self._skus[variant_id])
        assert listing is not None
        return {"price": listing.price_cents, "stock": listing.quantity, "name": listing.name}

    def set_modified(self, product_id: int, when: datetime) -> None:
        self.double.set_modified(self._skus[product_id], when)

    # -- faults --------------------------------------------------------------------------------
    def refuse(self, op: str, item: PlanItem) -> str:
        self.double.reject_sku(self._skus[item.variant_id], REFUSAL, code="8572")
        return REFUSAL

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self.double.delete(self._skus[variant_id])

    def delete_product(self, product_id: int) -> None:
        self.double.delete(self._skus[product_id])

    def throttle(self, wait_s: float, count: int = 1) -> None:
        # Amazon's 429 names the operation's rate: the next token comes in 1 / rate.
        headers = {"x-amzn-RateLimit-Limit": f"{1 / wait_s:g}"}
        self.double.fail_next(429, count, headers=headers)

    def throttle_bare(self, count: int = 1) -> None:
        self.double.fail_next(429, count)

    def unavailable(self, count: int = 1, retry_after: float | None = None) -> None:
        headers = None if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.double.fail_next(503, count, headers=headers)

    # -- what the double received --------------------------------------------------------------
    def statuses(self) -> list[int]:
        return [status for _, _, status in self.double.requests_log()]

    def rate_limited(self) -> int:
        return self.statuses().count(429)

    def batch_keys(self) -> list[str]:
        return []

    def reset_log(self) -> None:
        super().reset_log()
        self.double.reset_log()
