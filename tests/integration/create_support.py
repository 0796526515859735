"""Create mode's supplier file for the integration tests: new single items and groups of
variants told apart by size, with the mapping and create settings that read it."""

from __future__ import annotations

import random

SINGLES = 50
GROUPS = 20
HEADER = "SKU,Name,Price,Qty,Parent,Size,Colour,Brand\n"
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
MAPPING = {"sku": "SKU", "name": "Name", "price": "Price", "stock": "Qty", "brand": "Brand"}
CREATE = {"enabled": True, "group": "Parent", "options": {"Size": "Size", "Colour": "Colour"}}


def new_items_file(singles: int = SINGLES, groups: int = GROUPS) -> tuple[str, dict[str, int]]:
    """``singles`` new single items and ``groups`` groups of 3 to 6 variants; the number of
    variants per product key (a single item's SKU, a group's parent code)."""
    rng = random.Random(17)
    lines, shape = [HEADER], {}
    for i in range(singles):
        lines.append(f"NEW-{i:03},Lamp {i},{10 + i}.50,{i % 7},,,,Acme\n")
        shape[f"NEW-{i:03}"] = 1
    for g in range(groups):
        size = rng.randint(3, 6)
        for s in SIZES[:size]:
            lines.append(f"TEE-{g:02}-{s},Tee {g},15.00,{g},TEE-{g:02},{s},Red,Acme\n")
        shape[f"TEE-{g:02}"] = size
    return "".join(lines), shape
