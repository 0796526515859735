"""Items missing from the feed: what the profile wrote before that today's file lacks.

A supplier that stops listing an item has usually stopped selling it. With
``missing: zero_stock`` such an item's stock is set to 0; with ``missing: disable`` its
product is hidden in the store. Only items this profile wrote before, only when the file
was read whole, and counted against the safety limits, so a file that lost half its rows is
held, not applied. They follow the file's rows in the log, each with a row number of its own
past the file's last (the log says why).

Hiding is a product's state, so ``disable`` looks at products, and only at what it can
tell is its own to change. A product is hidden only when none of its variants is listed
(hiding it would hide the listed ones too), every variant of it is one this profile wrote
(another profile, or none, may supply the rest), and the store shows it now (the index's
``visible``: a draft or archived product, or one of unknown state, is left alone). Otherwise
a missing variant this profile wrote has its stock set to 0. The profile's ledger remembers
each product feedsync hid (``visible`` false, keyed by the product id): such a product is not
hidden again (a merchant who shows it by hand wins, as with any store-side edit) and is shown
again once the file lists it, only while it is still hidden the way feedsync hid it (a
merchant who made it a draft, or archived it, since keeps that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any, Final

from feedsync.domain.capabilities import VISIBLE
from feedsync.domain.fields import PRODUCT_ID, VARIANT_ID, VARIANT_POS, VISIBLE_AT, Variant
from feedsync.domain.reconcile import CHANGED, Outcome

MISSING: Final = "missing"  # a log line's status: the item is not in today's file
ZERO_STOCK: Final = "zero_stock"
DISABLE: Final = "disable"
IGNORE: Final = "ignore"
DISABLED_NOTE: Final = "not in today's file: disabled (hidden in the store)"
ENABLED_NOTE: Final = "back in today's file: shown in the store again (feedsync had hidden it)"

_SKU, _BARCODE, _STOCK = VARIANT_POS["sku"], VARIANT_POS["barcode"], VARIANT_POS["stock"]


def missing_note(stock: int) -> str:
    return f"not in today's file: stock set to 0 (was {stock})"


def _key(variant: Variant) -> str:
    return str(variant[_SKU] or variant[_BARCODE] or variant[VARIANT_ID])


def _zeroed(variant: Variant, row: int) -> Outcome | None:
    stock = variant[_STOCK]
    if not isinstance(stock, int) or stock <= 0:
        return None  # untracked, or already out of stock: nothing to do
    return (row, _key(variant), MISSING, variant[PRODUCT_ID], variant[VARIANT_ID],
            (("stock", stock, 0),), missing_note(stock))  # fmt: skip


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
        outcome = _zeroed(variant, first_row + len(out))
        if outcome is not None:
            out.append(outcome)
    return out


def hidden_products(written: Mapping[tuple[int, str], Any]) -> set[int]:
    """The products feedsync hid and has not shown again (the profile's ledger)."""
    return {pid for (pid, field), value in written.items() if field == VISIBLE and value is False}


def released_products(variants: Iterable[Variant], hidden: Set[int], listed: Set[int]) -> set[int]:
    """Products feedsync hid that the file lists again while the store no longer holds them
    as feedsync hid them (the merchant showed, archived or drafted one by hand): theirs now,
    so the ledger forgets feedsync hid them, and the next time one goes missing it is judged
    afresh (else it could never be hidden again)."""
    return {
        v[PRODUCT_ID]
        for v in variants
        if v[PRODUCT_ID] in hidden and v[VARIANT_ID] in listed and v[VISIBLE_AT] is not False
    }


def disable_outcomes(
    variants: Sequence[Variant],
    written: Set[int],
    hidden: Set[int],
    listed: Set[int],
    first_row: int,
    *,
    file_whole: bool,
    zero_siblings: bool,
) -> list[Outcome]:
    """``missing: disable``'s changes, numbered from ``first_row``: each product the store
    shows whose variants this profile all wrote and the file lists none of is hidden
    (status ``missing``); a missing variant this profile wrote whose product the file lists,
    or has a variant the profile never wrote, gets stock 0 (``zero_siblings``: the profile
    writes stock where the index reads it); a product in ``hidden`` (feedsync hid it) that
    the file lists again and the store still holds as feedsync hid it is shown (status
    ``changed``). Hiding and zeroing need ``file_whole`` (no row refused: a refused
    row may be the item's); showing a listed product does not."""
    relevant = {v[PRODUCT_ID] for v in variants if v[VARIANT_ID] in written}
    relevant.update(hidden)
    # One pass over the relevant products' variants: which products the file lists (and
    # their first listed variant, for those feedsync hid), which written variants it lacks,
    # which have a variant this profile never wrote.
    shown: set[int] = set()
    first_shown: dict[int, Variant] = {}
    lacking: dict[int, list[Variant]] = {}
    foreign: set[int] = set()
    touched: dict[int, None] = {}  # the products with something to do, in index order
    for v in variants:
        pid = v[PRODUCT_ID]
        if pid not in relevant:
            continue
        vid = v[VARIANT_ID]
        if vid in listed:
            if pid not in shown:
                shown.add(pid)
                if pid in hidden and v[VISIBLE_AT] is False:  # still as feedsync hid it
                    first_shown[pid] = v
                    touched[pid] = None
        elif vid in written:
            lacking.setdefault(pid, []).append(v)
            touched[pid] = None
        if vid not in written:
            foreign.add(pid)
    out: list[Outcome] = []
    for pid in touched:
        first = first_shown.get(pid)
        if first is not None:
            out.append((first_row + len(out), _key(first), CHANGED, pid, first[VARIANT_ID],
                        ((VISIBLE, False, True),), ENABLED_NOTE))  # fmt: skip
        gone = lacking.get(pid)
        if not gone or not file_whole:
            continue
        if pid in shown or pid in foreign:  # not all of it is gone: stock 0 for what is
            if zero_siblings:
                for v in gone:
                    zeroed = _zeroed(v, first_row + len(out))
                    if zeroed is not None:
                        out.append(zeroed)
        # Hidden only when the store shows it now: a product the merchant hid or holds back
        # (or of unknown state) is theirs, and feedsync would publish it when it came back.
        elif pid not in hidden and gone[0][VISIBLE_AT] is True:
            first = gone[0]
            out.append((first_row + len(out), _key(first), MISSING, pid, first[VARIANT_ID],
                        ((VISIBLE, True, False),), DISABLED_NOTE))  # fmt: skip
    return out
