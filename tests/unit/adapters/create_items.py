"""Create items as the planner makes them (``domain/create.py``), for the connector tests."""

from __future__ import annotations

from typing import Any

from feedsync.domain.create import NewProduct, NewVariant
from feedsync.domain.writes import PlanItem


def single(sku: str, price: int = 1250, *, row: int = 1, **fields: Any) -> PlanItem:
    """A new product of one variant (a row without a group)."""
    name = fields.pop("name", f"Item {sku}")
    variant: NewVariant = {
        "row": row,
        "key": sku,
        "options": {},
        "fields": {"price": price, **fields},
    }
    new: NewProduct = {
        "group": None,
        "fields": {"name": name},
        "option_names": [],
        "variants": [variant],
        "visible": False,
        "category": None,
    }
    return PlanItem(row, sku, 0, 0, {}, rows=[row], product_level=True, new=new)


def group(
    key: str,
    options: dict[str, list[str]],
    *,
    row: int = 100,
    product_id: int = 0,
    price: int = 2000,
    visible: bool = False,
    category: str | None = None,
    **fields: Any,
) -> PlanItem:
    """A new product with one variant per combination of the first values given (each
    option's i-th value with the others' i-th, so ``{"Size": ["S", "M"]}`` is 2 variants)."""
    names = list(options)
    count = max(len(v) for v in options.values())
    variants: list[NewVariant] = []
    for i in range(count):
        chosen = {n: options[n][min(i, len(options[n]) - 1)] for n in names}
        variants.append(
            {
                "row": row + i,
                "key": f"{key}-{'-'.join(chosen.values())}",
                "options": chosen,
                "fields": {"price": price + i, "stock": 3 + i, **fields},
            }
        )
    new: NewProduct = {
        "group": key,
        "fields": {"name": f"Group {key}", "description": "<p>New</p>", "brand": "Acme"},
        "option_names": names,
        "variants": variants,
        "visible": visible,
        "category": category,
    }
    return PlanItem(
        row, key, product_id, 0, {}, rows=[v["row"] for v in variants], product_level=True, new=new
    )
