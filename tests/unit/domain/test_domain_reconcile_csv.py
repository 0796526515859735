"""reconcile_csv: the fused feed+reconcile path gives exactly what reconcile(CsvFeed) gives."""

from __future__ import annotations

import io
import random

import pytest

from feedsync.domain import feed as feed_module
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.feed import CsvFeed
from feedsync.domain.fields import Variant
from feedsync.domain.reconcile import Counts, ReconcileSpec, reconcile, reconcile_csv
from feedsync.errors import FeedFormatError

STORE: list[Variant] = [
    (1, 10 + i, f"S{i}", f"B{i}", 100 * i, None, 50, None, i % 7, f"n{i}") for i in range(60)
]
# An ambiguous SKU and barcode, and one variant listed twice under another SKU.
STORE += [
    (2, 900, "S1", "BX", 1, None, None, None, 1, "x"),
    (3, 11, "S61", "B61", 5, 0, 0, 0, 0, ""),
]
MAPPING = {"sku": "SKU", "barcode": "UPC", "price": "Price", "retail_price": "RRP", "stock": "Qty"}


def make_feed(seed: int, n: int) -> str:
    rng = random.Random(seed)
    out = ["SKU,UPC,Price,RRP,Qty,Name\r\n"]
    for _ in range(n):
        i = rng.randrange(70)
        sku = rng.choice([f"S{i}", f" S{i} ", "", f"S{i}", f"S{i}"])
        bc = rng.choice([f"B{i}", "", "BX", f"B{rng.randrange(70)}"])
        price = rng.choice([f"{i}.00", f"{i + 1}", "", "abc", "  ", "$3.50", "0"])
        rrp = rng.choice(["0.50", "", "0.5"])
        qty = rng.choice([str(i % 7), "3", "", "-1", "2.0"])
        name = rng.choice(["plain", '"quoted, comma"', '"two\r\nlines"', ""])
        kind = rng.random()
        if kind < 0.02:
            out.append("\r\n")  # blank line
        elif kind < 0.04:
            out.append(f"{sku},{bc}\r\n")  # short row
        elif kind < 0.05:
            out.append(",,,,,\r\n")  # all-empty cells
        else:
            out.append(f"{sku},{bc},{price},{rrp},{qty},{name}\r\n")
    return "".join(out)


def run_both(text: str, spec: ReconcileSpec) -> tuple[tuple[object, ...], tuple[object, ...]]:
    results = []
    for fn in (reconcile, reconcile_csv):
        index = CatalogIndex.from_variants(STORE)
        counts = Counts(row_errors=1)
        feed = CsvFeed(io.StringIO(text, newline=""), MAPPING, file_name="f.csv")
        outs = list(fn(feed, index, spec, counts))
        results.append((outs, counts.as_dict(), feed.rows_read, feed.row_errors))
    return tuple(results[0]), tuple(results[1])


@pytest.mark.parametrize("match_by", ["sku", "barcode", "sku_then_barcode"])
@pytest.mark.parametrize("mode", ["partial", "full"])
@pytest.mark.parametrize(
    "fields", [("price", "stock"), ("stock",), ("retail_price",), ("sale_price",)]
)
@pytest.mark.parametrize("plain", [True, False])
def test_fused_path_matches_reconcile_of_the_feed(
    monkeypatch: pytest.MonkeyPatch, match_by: str, mode: str, fields: tuple[str, ...], plain: bool
) -> None:
    # Given small blocks (so a feed spans many) and feeds with and without odd rows
    monkeypatch.setattr(feed_module, "BLOCK_LINES", 37)
    spec = ReconcileSpec(match_by=match_by, fields=fields, mode=mode)
    for seed in range(4):
        text = make_feed(seed, 400)
        if plain:  # only well-formed lines: exercises the bulk path
            keep = [ln for ln in text.split("\r\n") if ln.count(",") == 5 and '"' not in ln]
            keep = [ln for ln in keep if "abc" not in ln and "-1" not in ln and "  " not in ln]
            text = "\r\n".join(keep) + "\r\n"
        # When both paths run, Then outcomes, counts, rows_read and row_errors agree
        expected, got = run_both(text, spec)
        assert got == expected


def test_fused_path_mapping_without_sku_and_early_close() -> None:
    # Given a mapping with no SKU column and a consumer that stops early
    text = "UPC,Price\nB2,9.99\nB1,1.00\nB3,2.00\n"
    spec = ReconcileSpec(match_by="sku_then_barcode", fields=("price",))
    index = CatalogIndex.from_variants(STORE)
    counts = Counts()
    feed = CsvFeed(
        io.StringIO(text, newline=""), {"barcode": "UPC", "price": "Price"}, file_name="f"
    )
    gen = reconcile_csv(feed, index, spec, counts)
    first = next(gen)
    gen.close()
    # Then it matched by barcode and the counts hold what was produced
    assert first[:3] == (2, "B2", "changed")
    assert counts.rows == 1


def test_fused_path_reports_unreadable_rows() -> None:
    # Given a line with a stray carriage return inside an unquoted field
    text = "SKU,Price\nS1,1.00\nS2,2\r.00\n"
    spec = ReconcileSpec(match_by="sku", fields=("price",))
    feed = CsvFeed(io.StringIO(text), {"sku": "SKU", "price": "Price"}, file_name="f")
    # When reconciled, Then it is a format error naming the row
    with pytest.raises(FeedFormatError, match=r"f: row 3 cannot be read"):
        list(reconcile_csv(feed, CatalogIndex.from_variants(STORE), spec, Counts()))
