"""Catalog index: the store's variants keyed by SKU and by barcode.

Variants are plain tuples (layout in ``fields``). A key held by more than one
variant is ambiguous: it is removed from the lookup dicts and remembered, so a
feed row carrying it is reported rather than written to an arbitrary variant.
The index persists as compact CSV text (money in minor units) between runs, with
each barcode as the store holds it: the GTIN-14 keys are made when an index is built
(so a snapshot written before barcodes were keyed matches like a fresh one).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable
from typing import Final, TextIO

from feedsync.domain.fields import CANONICAL_FIELDS, CONTENT_FIELDS, NO_CONTENT, Variant
from feedsync.domain.rules import barcode_key

SNAPSHOT_HEADER: Final = (
    "product_id",
    "variant_id",
    *CANONICAL_FIELDS[:8],  # sku .. name
    "modified",
    "ref",
    *CONTENT_FIELDS,
)
# Snapshots written before the index kept modified times and platform refs (v1), and
# before it kept the content fields (v2).
_SNAPSHOT_HEADER_V1: Final = SNAPSHOT_HEADER[:10]
_SNAPSHOT_HEADER_V2: Final = SNAPSHOT_HEADER[:12]


_NO_CONTENT_CELLS: Final = ("",) * len(NO_CONTENT)


class CatalogIndex:
    """Lookup of store variants by SKU and barcode, with ambiguous keys set aside.

    SKUs are matched exactly after stripping surrounding whitespace (feed cells are
    stripped too); barcodes by ``barcode_key`` (a valid GTIN as its GTIN-14, so
    ``84500001005`` and ``0084500001005`` are one key; any other code as written). The
    same variant listed twice (same variant_id) does not make its keys ambiguous; the
    later listing wins.
    """

    def __init__(self, variants: list[Variant], *, has_content: bool = True) -> None:
        self.variants = variants
        # False for an index read from a snapshot older than the content fields: its
        # None there means "not read", not "none" (no image, no description).
        self.has_content = has_content
        self.by_sku: dict[str, Variant] = {}
        self.by_barcode: dict[str, Variant] = {}
        self.ambiguous_skus: set[str] = set()
        self.ambiguous_barcodes: set[str] = set()
        self._index(2, self.by_sku, self.ambiguous_skus, str.strip)
        self._index(3, self.by_barcode, self.ambiguous_barcodes, barcode_key)

    def _index(
        self,
        pos: int,
        lookup: dict[str, Variant],
        ambiguous: set[str],
        key_of: Callable[[str], str],
    ) -> None:
        get = lookup.get
        for v in self.variants:
            key = v[pos]
            if not key:
                continue
            key = key_of(key)  # type: ignore[arg-type]
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
        return cls(list(variants))

    def merged(self, refreshed: Iterable[Variant]) -> CatalogIndex:
        """The index with every refreshed product's variants replaced by its new ones.

        An incremental import lists whole products, so a variant removed from a
        refreshed product disappears and a new one appears; other products stay.
        """
        fresh = list(refreshed)
        if not fresh:
            return self
        products = {v[0] for v in fresh}
        kept = [v for v in self.variants if v[0] not in products]
        return CatalogIndex(kept + fresh, has_content=self.has_content)

    def without(
        self, variant_ids: Collection[int] = (), product_ids: Collection[int] = ()
    ) -> CatalogIndex:
        """The index less these variants and every variant of these products (items the
        store no longer has: a modified-since refresh never lists what was deleted)."""
        if not variant_ids and not product_ids:
            return self
        kept = [v for v in self.variants if v[1] not in variant_ids and v[0] not in product_ids]
        return CatalogIndex(kept, has_content=self.has_content)

    def __len__(self) -> int:
        return len(self.variants)

    def dump(self, out: TextIO) -> None:
        """Write the variants as CSV; None is an empty cell (so "" reads back as None)."""
        writer = csv.writer(out, lineterminator="\n")
        if self.has_content:
            writer.writerow(SNAPSHOT_HEADER)
            writer.writerows(self.variants)  # csv writes None as ""
        else:  # still unknown: keep it saying so
            writer.writerow(_SNAPSHOT_HEADER_V2)
            writer.writerows(v[: len(_SNAPSHOT_HEADER_V2)] for v in self.variants)

    @classmethod
    def load(cls, lines: Iterable[str]) -> CatalogIndex:
        """Read what ``dump`` wrote. Raises ValueError on a foreign or damaged snapshot."""
        reader = csv.reader(lines)
        header = next(reader, None)
        has_content = header is not None and tuple(header) == SNAPSHOT_HEADER
        if header is not None and tuple(header) == _SNAPSHOT_HEADER_V1:
            reader = ([*rec, "", "", *_NO_CONTENT_CELLS] for rec in reader)  # type: ignore[assignment]
        elif header is not None and tuple(header) == _SNAPSHOT_HEADER_V2:
            reader = ([*rec, *_NO_CONTENT_CELLS] for rec in reader)  # type: ignore[assignment]
        elif header is None or tuple(header) != SNAPSHOT_HEADER:
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
            for pid, vid, sku, bc, pr, sp, rp, cp, st, nm, md, ref, ds, br, wt, im in reader:
                append(
                    (
                        int(pid),
                        int(vid),
                        sku or None,
                        bc or None,
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
                    )
                )
        except ValueError as exc:
            raise ValueError(
                f"damaged catalog snapshot near record {len(variants) + 2}: {exc}"
            ) from exc
        return cls(variants, has_content=has_content)

    @staticmethod
    def snapshot_has_content(first_line: str) -> bool:
        """Whether a snapshot with this first line holds the content fields."""
        return next(csv.reader([first_line]), None) == list(SNAPSHOT_HEADER)
