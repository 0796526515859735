"""The demo's supplier: a catalog for the sandbox store and the matching feed file.

Both come from one seeded generator, so the bundled ``samples/acme_stock.csv``
and the catalog the demo seeds always agree (a test checks the file).
"""

from __future__ import annotations

import csv
import io
import random
from typing import Any

SIZES = ("S", "M", "L")
PRODUCTS = 1000  # x 3 sizes = 3,000 variants


def _variant_values(rng: random.Random, index: int, size: str) -> dict[str, Any]:
    cents = rng.randrange(499, 19999)
    return {
        "sku": f"ACME-{index:05d}-{size}",
        "upc": f"{400000000000 + index * 10 + SIZES.index(size):012d}",
        "price": cents / 100,
        "inventory_level": rng.randrange(0, 60),
    }


def catalog_products(products: int = PRODUCTS, seed: int = 7) -> list[dict[str, Any]]:
    """Bodies for the sandbox's POST /catalog/products (one product, three sizes)."""
    rng = random.Random(seed)
    bodies = []
    for index in range(1, products + 1):
        variants = [
            {
                **_variant_values(rng, index, size),
                "option_values": [{"label": size, "option_display_name": "Size"}],
            }
            for size in SIZES
        ]
        bodies.append(
            {
                "name": f"Acme Trail Tee #{index}",
                "type": "physical",
                "weight": 0.3,
                "sku": f"ACME-{index:05d}",
                "price": variants[0]["price"],
                "variants": variants,
            }
        )
    return bodies


def supplier_csv(products: list[dict[str, Any]], seed: int = 11) -> str:
    """The supplier's file: most variants, some changed, some unknown, a few bad rows."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["SKU", "UPC", "Description", "Price", "Qty"])
    rows = []
    for product in products:
        for variant in product["variants"]:
            if rng.random() < 0.05:
                continue  # the supplier dropped it
            cents = round(variant["price"] * 100)
            qty = variant["inventory_level"]
            roll = rng.random()
            if roll < 0.25:
                cents = cents + rng.choice((-200, -100, 100, 150, 300))
            elif roll < 0.45:
                qty = rng.randrange(0, 80)
            rows.append(
                [variant["sku"], variant["upc"], product["name"], f"{cents / 100:.2f}", str(qty)]
            )
    for n in range(1, 151):
        rows.append(
            [f"ACME-9{n:04d}-X", "", f"New item {n}", f"{rng.randrange(500, 9000) / 100:.2f}", "10"]
        )
    for _ in range(5):
        bad = rng.randrange(len(rows))
        rows[bad] = [rows[bad][0], rows[bad][1], rows[bad][2], "call for price", rows[bad][4]]
    rows.append(list(rows[10]))  # the supplier listed one item twice
    rng.shuffle(rows)
    writer.writerows(rows)
    return out.getvalue()
