"""Catalog index: the store's variants keyed by SKU and by barcode.

Variants are plain tuples (layout in ``fields``). A key held by more than one
variant is ambiguous: it is removed from the lookup dicts and remembered, so a
feed row carrying it is reported rather than written to an arbitrary variant.
A variant's barcode is held as its match key (``rules.barcode_key``: a valid GTIN as
its GTIN-14), made once where the store's variants come in (``from_store``, ``merged``)
so that loading the index for a run costs nothing extra. Barcodes are never written
back to a store, so the store keeps its own spelling.
The index persists as compact CSV text (money in minor units) between runs; a snapshot
from before barcodes were keyed (its column says ``barcode``) is keyed when loaded, and one
from before products' visibility was read (no ``visible`` column) loads with it unknown.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable
from typing import Final, TextIO

from feedsync.domain.fields import CANONICAL_FIELDS, CONTENT_FIELDS, NO_CONTENT, Variant
from feedsync.domain.rules import barcode_key

SNAPSHOT_HEADER: Final = (
    "product_id",
    "variant_id",
    "sku",
    "barcode_key",
    *CANONICAL_FIELDS[2:8],  # price .. name
    "modified",
    "ref",
    *CONTENT_FIELDS,
    "visible",
)
# Snapshots written before the index kept products' visibility (v4): unknown when loaded.
_SNAPSHOT_HEADER_V4: Final = SNAPSHOT_HEADER[:-1]
# An index not knowing the content fields (read from a v2 snapshot) is saved as such.
_SNAPSHOT_HEADER_NO_CONTENT: Final = SNAPSHOT_HEADER[:12]
# Snapshots written before barcodes were keyed (v3), and before that before the index
# kept the content fields (v2) and modified times and platform refs (v1): their barcodes
# are the store's spelling.
_SNAPSHOT_HEADER_V3: Final = (
    "product_id",
    "variant_id",
    *CANONICAL_FIELDS[:8],
    *_SNAPSHOT_HEADER_V4[10:],
)
_SNAPSHOT_HEADER_V2: Final = _SNAPSHOT_HEADER_V3[:12]
_SNAPSHOT_HEADER_V1: Final = _SNAPSHOT_HEADER_V3[:10]
_BARCODE: Final = 3
_WITH_CONTENT: Final = (SNAPSHOT_HEADER, _SNAPSHOT_HEADER_V4, _SNAPSHOT_HEADER_V3)
_KEYED: Final = (SNAPSHOT_HEADER, _SNAPSHOT_HEADER_V4, _SNAPSHOT_HEADER_NO_CONTENT)


def _keyed(variant: Variant) -> Variant:
    """The variant with its barcode as its match key (the same tuple when it already is)."""
    code = variant[_BARCODE]
    if not code:
        return variant
    key = barcode_key(code)
    if key == code:
        return variant
    return (*variant[:_BARCODE], key, *variant[_BARCODE + 1 :])  # type: ignore[return-value]


_NO_CONTENT_CELLS: Final = ("",) * len(NO_CONTENT)


def _visibility(cell: str) -> bool | None:
    """A snapshot cell's product visibility (csv writes the bool as its name); the common
    case, shown, is tested inline in ``load``."""
    if not cell:
        return None
    if cell == "False":
        return False
    raise ValueError(f"visible is {cell!r}, not True, False or empty")


class CatalogIndex:
    """Lookup of store variants by SKU and barcode, with ambiguous keys set aside.

    Keys are matched exactly after stripping surrounding whitespace (feed cells are
    stripped too); the variants' barcodes are already match keys (``from_store``), so
    ``84500001002`` and ``0084500001002`` in the store are one key. The same variant
    listed twice (same variant_id) does not make its keys ambiguous; the later listing
    wins.
    """

    def __init__(
        self, variants: list[Variant], *, has_content: bool = True, has_visibility: bool = True
    ) -> None:
        self.variants = variants
        # False for an index read from a snapshot older than the content fields: its
        # None there means "not read", not "none" (no image, no description).
        self.has_content = has_content
        # Likewise for the products' visibility (a snapshot older than it): such an index is
        # saved without it, so the next run that needs it reads the whole catalog once.
        self.has_visibility = has_visibility and has_content
        self.by_sku: dict[str, Variant] = {}
        self.by_barcode: dict[str, Variant] = {}
        self.ambiguous_skus: set[str] = set()
        self.ambiguous_barcodes: set[str] = set()
        self._index(2, self.by_sku, self.ambiguous_skus)
        self._index(_BARCODE, self.by_barcode, self.ambiguous_barcodes)

    def _index(self, pos: int, lookup: dict[str, Variant], ambiguous: set[str]) -> None:
        get = lookup.get
        for v in self.variants:
            key = v[pos]
            if not key:
                continue
            key = key.strip()  # type: ignore[union-attr]
            if not key:
                continue
            other = get(key)
            if other is not None and other[1] != v[1]:
                ambiguous.add(key)
            lookup[key] = v
        for key in ambiguous:
            del lookup[key]

    @classmethod
    def from_variants(cls, variants: Iterable[Variant]) -> CatalogIndex:
        """An index of variants whose barcodes are match keys already (an index's own)."""
        return cls(list(variants))

    @classmethod
    def from_store(cls, variants: Iterable[Variant]) -> CatalogIndex:
        """An index of variants as a store lists them: each barcode becomes its key."""
        return cls([_keyed(v) for v in variants])

    def merged(self, refreshed: Iterable[Variant]) -> CatalogIndex:
        """The index with every refreshed product's variants replaced by its new ones.

        An incremental import lists whole products, so a variant removed from a
        refreshed product disappears and a new one appears; other products stay.
        ``refreshed`` are as the store lists them (their barcodes become keys here).
        """
        fresh = [_keyed(v) for v in refreshed]
        if not fresh:
            return self
        products = {v[0] for v in fresh}
        kept = [v for v in self.variants if v[0] not in products]
        return self.like(kept + fresh)

    def without(
        self, variant_ids: Collection[int] = (), product_ids: Collection[int] = ()
    ) -> CatalogIndex:
        """The index less these variants and every variant of these products (items the
        store no longer has: a modified-since refresh never lists what was deleted)."""
        if not variant_ids and not product_ids:
            return self
        kept = [v for v in self.variants if v[1] not in variant_ids and v[0] not in product_ids]
        return self.like(kept)

    def like(self, variants: list[Variant]) -> CatalogIndex:
        """An index of these variants that knows the fields this one knows."""
        return CatalogIndex(
            variants, has_content=self.has_content, has_visibility=self.has_visibility
        )

    def __len__(self) -> int:
        return len(self.variants)

    def dump(self, out: TextIO) -> None:
        """Write the variants as CSV; None is an empty cell (so "" reads back as None)."""
        writer = csv.writer(out, lineterminator="\n")
        if self.has_visibility:
            writer.writerow(SNAPSHOT_HEADER)
            writer.writerows(self.variants)  # csv writes None as ""
        elif self.has_content:  # visibility still unknown: keep it saying so
            writer.writerow(_SNAPSHOT_HEADER_V4)
            writer.writerows(v[: len(_SNAPSHOT_HEADER_V4)] for v in self.variants)
        else:  # still unknown: keep it saying so
            writer.writerow(_SNAPSHOT_HEADER_NO_CONTENT)
            writer.writerows(v[: len(_SNAPSHOT_HEADER_NO_CONTENT)] for v in self.variants)

    @classmethod
    def load(cls, lines: Iterable[str]) -> CatalogIndex:
        """Read what ``dump`` wrote. Raises ValueError on a foreign or damaged snapshot."""
        reader = csv.reader(lines)
        header = next(reader, None)
        found = tuple(header) if header is not None else None
        has_content = found in _WITH_CONTENT
        # Before v4 the barcodes are the store's spelling: key them as they are read.
        key_of = None if found in _KEYED else barcode_key
        # Before v5 the products' visibility is unknown: an empty cell.
        if found == _SNAPSHOT_HEADER_V1:
            reader = ([*rec, "", "", *_NO_CONTENT_CELLS, ""] for rec in reader)  # type: ignore[assignment]
        elif found in (_SNAPSHOT_HEADER_V2, _SNAPSHOT_HEADER_NO_CONTENT):
            reader = ([*rec, *_NO_CONTENT_CELLS, ""] for rec in reader)  # type: ignore[assignment]
        elif found in (_SNAPSHOT_HEADER_V3, _SNAPSHOT_HEADER_V4):
            reader = ([*rec, ""] for rec in reader)  # type: ignore[assignment]
        elif not has_content:
            raise ValueError(f"not a catalog snapshot (header {header!r})")
        variants: list[Variant] = []
        append = variants.append
        # Prices and stock levels repeat a lot: parse each spelling once and share the int
        # objects, which saves memory and keeps them cache-hot for the reconcile loop.
        memo: dict[str, int] = {}
        memo_get = memo.get
        # Modified times and brands repeat too: one string object per spelling. A
        # product's variants are listed together, so its description digest is shared by
        # keeping the last one.
        stamps: dict[str, str] = {}
        stamp = stamps.setdefault
        brands: dict[str, str] = {}
        brand = brands.setdefault
        last_ds = ""

        def num(text: str) -> int:
            value = int(text)
            if len(memo) < 100_000:
                memo[text] = value
            return value

        try:
            for pid, vid, sku, bc, pr, sp, rp, cp, st, nm, md, ref, ds, br, wt, im, vs in reader:
                append(
                    (
                        int(pid),
                        int(vid),
                        sku or None,
                        (key_of(bc) if key_of else bc) if bc else None,
                        (memo_get(pr) or num(pr)) if pr else None,
                        (memo_get(sp) or num(sp)) if sp else None,
                        (memo_get(rp) or num(rp)) if rp else None,
                        (memo_get(cp) or num(cp)) if cp else None,
                        (memo_get(st) or num(st)) if st else None,
                        nm or None,
                        (stamp(md, md) if len(stamps) < 100_000 else md) or None,
                        ref or None,
                        (last_ds := ds if ds != last_ds else last_ds) or None,
                        (brand(br, br) if len(brands) < 10_000 else br) or None,
                        wt or None,
                        im or None,
                        True if vs == "True" else _visibility(vs),
                    )
                )
        except ValueError as exc:
            raise ValueError(
                f"damaged catalog snapshot near record {len(variants) + 2}: {exc}"
            ) from exc
        return cls(variants, has_content=has_content, has_visibility=found == SNAPSHOT_HEADER)

    @staticmethod
    def snapshot_knows_visibility(first_line: str) -> bool:
        """Whether a snapshot with this first line holds the products' visibility."""
        header = next(csv.reader([first_line]), None)
        return header is not None and tuple(header) == SNAPSHOT_HEADER

    @staticmethod
    def snapshot_has_content(first_line: str) -> bool:
        """Whether a snapshot with this first line holds the content fields."""
        header = next(csv.reader([first_line]), None)
        return header is not None and tuple(header) in _WITH_CONTENT
