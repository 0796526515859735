"""Plan items for a Shopify product's variants, as the update step hands them over."""

from __future__ import annotations

from typing import Any

from feedsync.domain.writes import PlanItem


def variant_items(product: dict[str, Any], **changes: list[Any]) -> list[PlanItem]:
    """One item per variant of ``product`` (a double's product), each with ``changes``."""
    return [
        PlanItem(
            row=i + 1,
            key=v["sku"],
            product_id=product["id"],
            variant_id=v["id"],
            ref=str(v["inventory_item_id"]),
            changes=dict(changes),
        )
        for i, v in enumerate(product["variants"])
    ]
