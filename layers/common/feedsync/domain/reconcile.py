"""Match feed rows to store variants and diff the writable fields.

This is the per-row hot loop of a sync, so it works on tuples with local aliases
and allocates nothing per row but the outcome tuple (and a changes tuple when
something changed). Guarantees the caller relies on:

* a feed value of None (empty cell / unmapped column) never writes;
* one variant is written at most once per run: a later row reaching the same
  variant (by any key) is a "duplicate", never a second write;
* a key held by several store variants is reported, never written.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import Final

from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.content import NEVER_FORCED, SAME, same_feed_values
from feedsync.domain.fields import (
    MATCH_BY,
    PRODUCT_FIELDS,
    ROW_POS,
    VARIANT_POS,
    WRITABLE_FIELDS,
    Row,
)

MODES: Final = ("partial", "full")

# (field, old index value, new feed value); new is never None. Money and stock are
# ints; content fields are text (the old description is the index's digest).
Change = tuple[str, int | str | None, int | str]
# (row_no, key, status, product_id, variant_id, changes, message)
Outcome = tuple[int, str | None, str, int | None, int | None, tuple[Change, ...], str]

CHANGED: Final = "changed"
UNCHANGED: Final = "unchanged"
NOT_FOUND: Final = "not_found"
DUPLICATE: Final = "duplicate"
ROW_ERROR: Final = "row_error"


@dataclass(frozen=True)
class ReconcileSpec:
    """What to match on and which fields to write.

    partial: write only fields whose feed value differs from the store's.
    full: write every mapped field in ``fields`` that has a feed value.
    ``unknown``: fields whose store value the index does not hold (stock written to
    another location than the one the index reads): written whenever the feed has a
    value, as in full mode.
    """

    match_by: str
    fields: tuple[str, ...]
    mode: str = "partial"
    unknown: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.match_by not in MATCH_BY:
            raise ValueError(
                f"match_by must be one of {', '.join(MATCH_BY)}, not {self.match_by!r}"
            )
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not self.fields:
            raise ValueError("fields must name at least one field to update")
        bad = [f for f in self.fields if f not in WRITABLE_FIELDS]
        if bad:
            raise ValueError(
                f"field(s) {', '.join(repr(b) for b in bad)} cannot be updated; "
                f"writable fields are: {', '.join(WRITABLE_FIELDS)}"
            )
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("fields must not repeat")


@dataclass
class Counts:
    """Per-run tallies; ``matched`` = distinct variants reached = changed + unchanged."""

    rows: int = 0
    matched: int = 0
    not_found: int = 0
    duplicates: int = 0
    changed: int = 0
    unchanged: int = 0
    row_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile(
    rows: Iterable[Row], index: CatalogIndex, spec: ReconcileSpec, counts: Counts
) -> Generator[Outcome, None, None]:
    """Yield one Outcome per feed row, in feed order (a generator, so it can be closed).

    ``counts`` is updated when the generator finishes or is closed (the tallies are
    kept in locals on the hot path), by adding to whatever it already holds.
    With ``sku_then_barcode`` a row whose SKU is unknown *or ambiguous* in the store
    falls back to its barcode; it is an error only if that does not resolve either.
    """
    use_sku = spec.match_by != "barcode"
    use_bc = spec.match_by != "sku"
    sku_get = index.by_sku.get
    bc_get = index.by_barcode.get
    full = spec.mode == "full"
    # Per field: is it written whatever the store holds (full mode, or a store value the
    # index does not know)? Content fields have their own notion of "the same"
    # (``content.SAME``); equal values are the same for every field.
    # A field the index does not know is written with no old value (nothing to compare).
    fpos = tuple(
        (f, ROW_POS[f], _NOWHERE, None, True)
        if f in spec.unknown
        else (f, ROW_POS[f], VARIANT_POS[f], SAME.get(f), full and f not in NEVER_FORCED)
        for f in spec.fields
    )
    # One C-level comparison settles the common "nothing differs" row in partial mode.
    shortcut = not any(forced for *_, forced in fpos)
    row_vals = itemgetter(*(ROW_POS[f] for f in spec.fields))
    store_vals = itemgetter(*(VARIANT_POS[f] for f in spec.fields))
    # Product fields (name, description, brand): the first row of a product that gives
    # one decides it; a later row of the product saying otherwise is not written, or
    # the product would flip between the two values on alternate runs.
    per_product = tuple((f, ROW_POS[f]) for f in spec.fields if f in PRODUCT_FIELDS)
    product_values: dict[tuple[int, str], tuple[int, object]] = {}
    seen: dict[int, int] = {}  # variant_id -> first row_no that reached it
    seen_get = seen.get
    missing_sku: dict[str, int] = {}  # unmatched key -> first row_no
    missing_bc: dict[str, int] = {}
    n_changed = n_unchanged = n_dup = n_nf = n_err = 0
    no_changes: tuple[Change, ...] = ()
    try:
        for row in rows:
            v = None
            key = None
            if use_sku:
                key = row[1]
                if key is not None:
                    v = sku_get(key)
            if v is None and use_bc:
                bc = row[2]
                if bc is not None:
                    v = bc_get(bc)
                    if v is not None:
                        key = bc
            if v is None:
                out = _unmatched(row, spec.match_by, index, missing_sku, missing_bc)
                status = out[2]
                if status == NOT_FOUND:
                    n_nf += 1
                elif status == DUPLICATE:
                    n_dup += 1
                else:
                    n_err += 1
                yield out
                continue
            vid = v[1]
            first = seen_get(vid)
            if first is not None:
                n_dup += 1
                yield (row[0], key, DUPLICATE, v[0], vid, no_changes, f"same item as row {first}")
                continue
            seen[vid] = row[0]
            note = ""
            skip: tuple[str, ...] = ()
            if per_product:
                skip, note = _product_clashes(row, v[0], per_product, product_values)
            if not skip and shortcut and row_vals(row) == store_vals(v):
                n_unchanged += 1
                yield (row[0], key, UNCHANGED, v[0], vid, no_changes, note)
                continue
            changes = no_changes
            for f, rp, vp, same, forced in fpos:
                new = row[rp]
                if new is not None and f not in skip:
                    old = v[vp] if vp >= 0 else None
                    if forced or (new != old if same is None else not same(new, old)):
                        changes += ((f, old, new),)
            if changes:
                n_changed += 1
                yield (row[0], key, CHANGED, v[0], vid, changes, note)
            else:
                n_unchanged += 1
                yield (row[0], key, UNCHANGED, v[0], vid, no_changes, note)
    finally:
        counts.rows += n_changed + n_unchanged + n_dup + n_nf + n_err
        counts.matched += n_changed + n_unchanged
        counts.changed += n_changed
        counts.unchanged += n_unchanged
        counts.duplicates += n_dup
        counts.not_found += n_nf
        counts.row_errors += n_err


_NOWHERE: Final = -1  # the index position of a field the index does not know


def _product_clashes(
    row: Row,
    product_id: int,
    fields: tuple[tuple[str, int], ...],
    first: dict[tuple[int, str], tuple[int, object]],
) -> tuple[tuple[str, ...], str]:
    """The product fields this row must not write (an earlier row of the same product
    gives another value), and the note saying so."""
    skip: list[str] = []
    notes: list[str] = []
    for field, pos in fields:
        value = row[pos]
        if value is None:
            continue
        got = first.get((product_id, field))
        if got is None:
            first[(product_id, field)] = (row[0], value)
        elif not same_feed_values(field, got[1], value):
            skip.append(field)
            notes.append(
                f"{field} not written: row {got[0]} gives this product another {field}, "
                "and the first row of a product decides it"
            )
    return tuple(skip), "; ".join(notes)


def _unmatched(
    row: Row,
    match_by: str,
    index: CatalogIndex,
    missing_sku: dict[str, int],
    missing_bc: dict[str, int],
) -> Outcome:
    """The off-path cases: no key, ambiguous key, key repeated in the file, not found."""
    row_no = row[0]
    sku = row[1] if match_by != "barcode" else None
    bc = row[2] if match_by != "sku" else None
    if sku is None and bc is None:
        msg = {"sku": "no SKU", "barcode": "no barcode"}.get(match_by, "no SKU or barcode")
        return (row_no, None, ROW_ERROR, None, None, (), msg)
    if sku is not None and sku in index.ambiguous_skus:
        msg = f"SKU '{sku}' is on more than one variant in the store"
        return (row_no, sku, ROW_ERROR, None, None, (), msg)
    if bc is not None and bc in index.ambiguous_barcodes:
        msg = f"barcode '{bc}' is on more than one variant in the store"
        return (row_no, bc, ROW_ERROR, None, None, (), msg)
    if sku is not None:
        first = missing_sku.get(sku)
        if first is not None:
            return (row_no, sku, DUPLICATE, None, None, (), f"same SKU as row {first}")
    if bc is not None:
        first = missing_bc.get(bc)
        if first is not None:
            return (row_no, sku or bc, DUPLICATE, None, None, (), f"same barcode as row {first}")
    if sku is not None:
        missing_sku[sku] = row_no
    if bc is not None:
        missing_bc[bc] = row_no
    if sku is not None and bc is not None:
        msg = f"no variant in the store has SKU '{sku}' or barcode '{bc}'"
    elif sku is not None:
        msg = f"no variant in the store has SKU '{sku}'"
    else:
        msg = f"no variant in the store has barcode '{bc}'"
    return (row_no, sku if sku is not None else bc, NOT_FOUND, None, None, (), msg)
