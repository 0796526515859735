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

import csv
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass
from itertools import repeat
from operator import eq, itemgetter
from typing import Final

from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.feed import CsvFeed, _is_blank
from feedsync.domain.fields import MATCH_BY, ROW_POS, VARIANT_POS, WRITABLE_FIELDS, Row, Variant
from feedsync.errors import FeedFormatError

MODES: Final = ("partial", "full")

# (field, old store value, new feed value); new is never None.
Change = tuple[str, int | None, int]
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
    """

    match_by: str
    fields: tuple[str, ...]
    mode: str = "partial"

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


class _State:
    """What one run remembers across rows: variants already reached, unknown keys seen."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}  # variant_id -> first row_no that reached it
        self.missing_sku: dict[str, int] = {}  # unmatched key -> first row_no
        self.missing_bc: dict[str, int] = {}


def reconcile(
    rows: Iterable[Row], index: CatalogIndex, spec: ReconcileSpec, counts: Counts
) -> Generator[Outcome, None, None]:
    """Yield one Outcome per feed row, in feed order (a generator, so it can be closed).

    ``counts`` is updated when the generator finishes or is closed (the tallies are
    kept in locals on the hot path), by adding to whatever it already holds.
    With ``sku_then_barcode`` a row whose SKU is unknown *or ambiguous* in the store
    falls back to its barcode; it is an error only if that does not resolve either.
    """
    return _reconcile(rows, index, spec, counts, _State())


def _reconcile(
    rows: Iterable[Row], index: CatalogIndex, spec: ReconcileSpec, counts: Counts, state: _State
) -> Generator[Outcome, None, None]:
    use_sku = spec.match_by != "barcode"
    use_bc = spec.match_by != "sku"
    sku_get = index.by_sku.get
    bc_get = index.by_barcode.get
    full = spec.mode == "full"
    fpos = tuple((f, ROW_POS[f], VARIANT_POS[f]) for f in spec.fields)
    # One C-level comparison settles the common "nothing differs" row in partial mode.
    row_vals = itemgetter(*(ROW_POS[f] for f in spec.fields))
    store_vals = itemgetter(*(VARIANT_POS[f] for f in spec.fields))
    seen = state.seen
    seen_get = seen.get
    missing_sku = state.missing_sku
    missing_bc = state.missing_bc
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
                out = _unmatched(
                    row[0], row[1], row[2], spec.match_by, index, missing_sku, missing_bc
                )
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
            if not full and row_vals(row) == store_vals(v):
                n_unchanged += 1
                yield (row[0], key, UNCHANGED, v[0], vid, no_changes, "")
                continue
            changes = no_changes
            for f, rp, vp in fpos:
                new = row[rp]
                if new is not None:
                    old = v[vp]
                    if full or new != old:
                        changes += ((f, old, new),)  # type: ignore[operator]
            if changes:
                n_changed += 1
                yield (row[0], key, CHANGED, v[0], vid, changes, "")
            else:
                n_unchanged += 1
                yield (row[0], key, UNCHANGED, v[0], vid, no_changes, "")
    finally:
        counts.rows += n_changed + n_unchanged + n_dup + n_nf + n_err
        counts.matched += n_changed + n_unchanged
        counts.changed += n_changed
        counts.unchanged += n_unchanged
        counts.duplicates += n_dup
        counts.not_found += n_nf
        counts.row_errors += n_err


def _unmatched(
    row_no: int,
    row_sku: str | None,
    row_bc: str | None,
    match_by: str,
    index: CatalogIndex,
    missing_sku: dict[str, int],
    missing_bc: dict[str, int],
) -> Outcome:
    """The off-path cases: no key, ambiguous key, key repeated in the file, not found."""
    sku = row_sku if match_by != "barcode" else None
    bc = row_bc if match_by != "sku" else None
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


# Stands in for "no variant" in the bulk lookups (a tuple, so itemgetters accept it).
_MISSING: Final[Variant] = (0, 0, None, None, None, None, None, None, None, None)


def reconcile_csv(
    feed: CsvFeed, index: CatalogIndex, spec: ReconcileSpec, counts: Counts
) -> Generator[Outcome, None, None]:
    """``reconcile(feed, index, spec, counts)`` fused with the feed's parsing.

    Same outcomes in the same order, same ``counts``, and the feed's ``rows_read`` and
    ``row_errors`` are filled in just as iterating it would. Blocks of plain,
    equal-width lines are handled column-wise: the cells are split, parsed and looked
    up in C-level bulk calls (the lookups of a block then overlap their cache misses),
    and only the per-row decisions run in Python. Any other block (quotes, short rows,
    a bad cell, an unusual mapping) goes through ``CsvFeed`` rows and ``reconcile``.
    """
    state = _State()
    match_by = spec.match_by
    full = spec.mode == "full"
    col = {field: idx for field, _pos, idx, _col, _kind in feed._mapped}
    primary = "barcode" if match_by == "barcode" or "sku" not in col else "sku"
    bulk = primary in col and (primary == "sku" or match_by != "sku")
    key_idx = col.get(primary, 0)
    primary_get = (index.by_sku if primary == "sku" else index.by_barcode).get
    fallback = primary == "sku" and match_by == "sku_then_barcode" and "barcode" in col
    other_idx = col.get("barcode" if primary == "sku" else "sku", -1)
    bc_get = index.by_barcode.get
    need = feed._need
    # Parsed (numeric) fields: (canonical field, column index, memo get, memo miss).
    numeric: list[tuple[str, int, Callable[[str], int | None], Callable[[str], int]]] = []
    for field, _pos, idx, _col, kind in feed._mapped:
        if kind != "text":
            get, miss = feed._money_memo if kind == "money" else feed._stock_memo
            numeric.append((field, idx, get, miss))
    num_pos = {field: j for j, (field, _i, _g, _m) in enumerate(numeric)}
    # Spec fields with a column: (field, position in ``numeric``, variant position).
    fdiff = tuple((f, num_pos[f], VARIANT_POS[f]) for f in spec.fields if f in num_pos)
    js = [j for _f, j, _vp in fdiff]
    store_sel = itemgetter(*(vp for _f, _j, vp in fdiff)) if fdiff else None
    setdefault = state.seen.setdefault
    missing_sku = state.missing_sku
    missing_bc = state.missing_bc
    n_changed = n_unchanged = n_dup = n_nf = n_err = 0
    no_changes: tuple[Change, ...] = ()
    row_no = feed._row_no
    try:
        for records, flat, width in feed._blocks(flat=bulk):
            base = row_no
            vals: list[list[int | None]] = []
            if records is None:
                if width >= need:
                    for _field, idx, get, miss in numeric:
                        raw = flat[idx::width]
                        got = list(map(get, raw))
                        if got.count(None) != raw.count("") and not _fill(got, raw, miss):
                            break
                        vals.append(got)
                if len(vals) != len(numeric) or width < need:
                    records = [flat[i : i + width] for i in range(0, len(flat), width)]
            if records is not None:
                yield from _reconcile(feed._rows(records), index, spec, counts, state)
                row_no = feed._row_no
                continue

            # The bulk path: the block's keys, lookups and "nothing differs" tests.
            keys = list(map(str.strip, flat[key_idx::width]))
            vs = list(map(primary_get, keys, repeat(_MISSING)))
            same: Iterable[bool]
            if full or store_sel is None:
                same = repeat(store_sel is None)
            elif len(js) == 1:
                same = list(map(eq, vals[js[0]], map(store_sel, vs)))
            else:
                same = list(map(eq, zip(*(vals[j] for j in js), strict=True), map(store_sel, vs)))
            n_blank = 0
            for key, v, unchanged in zip(keys, vs, same, strict=False):
                row_no += 1
                if v is _MISSING:
                    i = (row_no - base - 1) * width
                    other = flat[i + other_idx].strip() if other_idx >= 0 else ""
                    sku, bc = (key, other) if primary == "sku" else (other, key)
                    if not sku and not bc and _is_blank(flat[i : i + width]):
                        n_blank += 1
                        continue
                    if fallback and bc:
                        v = bc_get(bc, _MISSING)
                    if v is _MISSING:
                        out = _unmatched(
                            row_no,
                            sku or None,
                            bc or None,
                            match_by,
                            index,
                            missing_sku,
                            missing_bc,
                        )
                        status = out[2]
                        if status == NOT_FOUND:
                            n_nf += 1
                        elif status == DUPLICATE:
                            n_dup += 1
                        else:
                            n_err += 1
                        yield out
                        continue
                    key = bc
                    if store_sel is not None and not full:
                        k = row_no - base - 1
                        new = tuple(vals[j][k] for j in js)
                        unchanged = store_sel(v) == (new if len(js) > 1 else new[0])
                vid = v[1]
                first = setdefault(vid, row_no)
                if first is not row_no:
                    n_dup += 1
                    yield (
                        row_no,
                        key,
                        DUPLICATE,
                        v[0],
                        vid,
                        no_changes,
                        f"same item as row {first}",
                    )
                    continue
                if unchanged:
                    n_unchanged += 1
                    yield (row_no, key, UNCHANGED, v[0], vid, no_changes, "")
                    continue
                k = row_no - base - 1
                changes = no_changes
                for f, j, vp in fdiff:
                    new_value = vals[j][k]
                    if new_value is not None:
                        old = v[vp]
                        if full or new_value != old:
                            changes += ((f, old, new_value),)  # type: ignore[operator]
                if changes:
                    n_changed += 1
                    yield (row_no, key, CHANGED, v[0], vid, changes, "")
                else:
                    n_unchanged += 1
                    yield (row_no, key, UNCHANGED, v[0], vid, no_changes, "")
            feed.rows_read += row_no - base - n_blank
            feed._row_no = row_no
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FeedFormatError(
            f"{feed.file_name}: row {feed._row_no + 1} cannot be read ({exc})"
        ) from exc
    finally:
        counts.rows += n_changed + n_unchanged + n_dup + n_nf + n_err
        counts.matched += n_changed + n_unchanged
        counts.changed += n_changed
        counts.unchanged += n_unchanged
        counts.duplicates += n_dup
        counts.not_found += n_nf
        counts.row_errors += n_err


def _fill(got: list[int | None], raw: list[str], miss: Callable[[str], int]) -> bool:
    """Parse the cells the memo did not know; False if one is bad (the caller re-runs
    the block row by row, which records the error against the right row)."""
    i = -1
    while True:
        try:
            i = got.index(None, i + 1)
        except ValueError:
            return True
        text = raw[i]
        if text:
            try:
                got[i] = miss(text)
            except ValueError:
                return False
