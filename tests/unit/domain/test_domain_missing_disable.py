"""missing: disable in the domain: which products are hidden, which shown again, and the
rule for a product of several variants of which only some are missing (issue 13)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from feedsync.domain.fields import Variant
from feedsync.domain.missing import (
    DISABLED_NOTE,
    ENABLED_NOTE,
    MISSING,
    disable_outcomes,
    hidden_products,
    missing_note,
)
from feedsync.domain.reconcile import CHANGED, Outcome


def _v(pid: int, vid: int, sku: str, stock: int | None = 5) -> Variant:
    return (pid, vid, sku, None, 1000, None, None, None, stock, sku, None, None,
            None, None, None, None, True)  # fmt: skip


# Product 1: simple (A). Product 2: variants B1, B2. Product 3: simple (C), never written.
# All on view in the store.
INDEX = [_v(1, 10, "A"), _v(2, 20, "B1"), _v(2, 21, "B2", stock=4), _v(3, 30, "C")]
WROTE = {10, 20, 21}


def _store_shows(states: dict[int, bool | None]) -> list[Variant]:
    """INDEX with these products' visibility as the store holds it (False: hidden as
    feedsync hides a product; None: held back by the merchant, or unknown)."""
    return [(*v[:-1], states.get(v[0], v[-1])) for v in INDEX]  # type: ignore[misc]


def _run(
    listed: set[int],
    hidden: AbstractSet[int] = frozenset(),
    *,
    file_whole: bool = True,
    zero_siblings: bool = True,
    index: list[Variant] = INDEX,
    wrote: AbstractSet[int] = WROTE,
) -> list[Outcome]:
    return disable_outcomes(
        index, wrote, hidden, listed, 7, file_whole=file_whole, zero_siblings=zero_siblings
    )


def test_a_product_none_of_whose_variants_is_listed_is_hidden() -> None:
    # Given a file listing B1 and B2, not A (written before) nor C (never written)
    # When the missing items are worked out
    out = _run(listed={20, 21})
    # Then A's product alone is hidden, numbered from the first free row, logged missing
    assert out == [(7, "A", MISSING, 1, 10, (("visible", True, False),), DISABLED_NOTE)]


def test_a_product_with_every_variant_missing_is_hidden_once() -> None:
    # Given a file listing only A: both of product 2's variants are missing
    out = _run(listed={10})
    # Then product 2 is hidden by one change (a product's), keyed by its first written variant
    assert out == [(7, "B1", MISSING, 2, 20, (("visible", True, False),), DISABLED_NOTE)]


def test_a_missing_variant_whose_siblings_are_listed_goes_to_stock_0_not_hidden() -> None:
    # Given a file listing A and B1, not B2 (product 2 is still sold through B1)
    out = _run(listed={10, 20})
    # Then the product stays shown and B2 alone goes to stock 0
    assert out == [(7, "B2", MISSING, 2, 21, (("stock", 4, 0),), missing_note(4))]
    # And where the profile writes no stock (or writes it elsewhere), nothing is done to it
    assert _run(listed={10, 20}, zero_siblings=False) == []


def test_nothing_is_hidden_when_the_file_was_not_read_whole() -> None:
    # Given a file with a row the parser refused (it may be A's)
    # Then nothing is hidden nor zeroed
    assert _run(listed={20}, file_whole=False) == []


def test_a_product_feedsync_hid_is_not_hidden_again_and_is_shown_when_listed() -> None:
    # Given product 1 hidden by feedsync earlier (the store holds it so)
    hid = _store_shows({1: False})
    # When it is still missing: nothing (hidden already, or shown by the merchant: theirs)
    assert _run(listed={20, 21}, hidden={1}, index=hid) == []
    assert _run(listed={20, 21}, hidden={1}) == []
    # When the file lists A again, even with a refused row elsewhere
    out = _run(listed={10, 20, 21}, hidden={1}, file_whole=False, index=hid)
    # Then it is shown again: a change of its own, counted as changed
    assert out == [(7, "A", CHANGED, 1, 10, (("visible", False, True),), ENABLED_NOTE)]


def test_a_product_shown_again_with_a_missing_sibling_shows_and_zeroes_that_sibling() -> None:
    # Given product 2 hidden by feedsync, and a file listing B1 only
    out = _run(listed={10, 20}, hidden={2}, index=_store_shows({2: False}))
    # Then the product is shown again and B2 set to 0, in that order
    assert [(o[1], o[2], o[5]) for o in out] == [
        ("B1", CHANGED, (("visible", False, True),)),
        ("B2", MISSING, (("stock", 4, 0),)),
    ]
    assert [o[0] for o in out] == [7, 8]


def test_the_ledger_names_the_products_feedsync_hid() -> None:
    # Given a ledger with prices, a product hidden and a product shown again
    ledger = {(10, "price"): 1000, (1, "visible"): False, (2, "visible"): True}
    # Then only the hidden product is named
    assert hidden_products(ledger) == {1}


def test_a_product_the_store_does_not_show_is_never_hidden_nor_touched() -> None:
    # Given product 1 hidden by the merchant (False: as feedsync would), or held back as a
    # draft / archived, or of unknown state (an index from before visibility was read)
    for state in (False, None):
        index = _store_shows({1: state})
        # When the file drops it
        out = _run(listed={20, 21}, index=index)
        # Then nothing is done to it: no hiding (so nothing to show again later) and no stock
        assert out == [], state


def test_a_product_the_merchant_changed_after_feedsync_hid_it_is_not_shown_again() -> None:
    # Given product 1 hidden by feedsync, which the merchant since made a draft or archived
    # (None), or showed by hand (True)
    for state in (None, True):
        index = _store_shows({1: state})
        # When the file lists A again
        out = _run(listed={10, 20, 21}, hidden={1}, index=index)
        # Then the merchant's state stands: it is not published by feedsync
        assert out == [], state


def test_a_product_with_a_variant_this_profile_never_wrote_is_not_hidden() -> None:
    # Given product 2 whose B2 another profile (or none) supplies: this profile wrote B1 only
    wrote = {10, 20}
    # When the file lists A only: B1 is missing, and B2 (not this profile's) is too
    out = _run(listed={10}, wrote=wrote)
    # Then the product stays on view and B1 alone goes to stock 0, as for a listed sibling
    assert out == [(7, "B1", MISSING, 2, 20, (("stock", 5, 0),), missing_note(5))]
    # And without stock to write, nothing at all is done to it
    assert _run(listed={10}, wrote=wrote, zero_siblings=False) == []
