"""Items missing from the feed: what the profile wrote before that today's file lacks.

A supplier that stops listing an item has usually stopped selling it. With
``missing: zero_stock`` such an item's stock is set to 0 (only items this profile wrote
before, only when the file was read whole, and counted against the safety limits, so a
file that lost half its rows is held, not applied). They follow the file's rows in the
log, each with a row number of its own past the file's last (the log says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Final

from feedsync.domain.fields import PRODUCT_ID, VARIANT_ID, VARIANT_POS, Variant
from feedsync.domain.reconcile import Outcome

MISSING: Final = "missing"  # a log line's status: the item is not in today's file
ZERO_STOCK: Final = "zero_stock"
IGNORE: Final = "ignore"

_SKU, _BARCODE, _STOCK = VARIANT_POS["sku"], VARIANT_POS["barcode"], VARIANT_POS["stock"]


def missing_note(stock: int) -> str:
    return f"not in today's file: stock set to 0 (was {stock})"


def missing_outcomes(
    variants: Iterable[Variant], written: Set[int], listed: Set[int], first_row: int
) -> list[Outcome]:
    """A stock-to-0 change for each variant this profile wrote (``written``) that the file
    did not list, in stock now; numbered from ``first_row``."""
    out: list[Outcome] = []
    for variant in variants:
        vid = variant[VARIANT_ID]
        if vid not in written or vid in listed:
            continue
        stock = variant[_STOCK]
        if not isinstance(stock, int) or stock <= 0:
            continue  # untracked, or already out of stock: nothing to do
        key = str(variant[_SKU] or variant[_BARCODE] or vid)
        row = first_row + len(out)
        out.append((row, key, MISSING, variant[PRODUCT_ID], vid, (("stock", stock, 0),),
                    missing_note(stock)))  # fmt: skip
    return out
