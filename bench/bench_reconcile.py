"""Benchmark the domain hot loop: CSV feed -> parse -> match -> diff -> plan.

    .venv/bin/python bench/bench_reconcile.py [--rows N] [--profile]

Generates a seeded feed and catalog under bench/data/ (reused when present), then
times a bare ``csv.reader`` pass over the feed (the floor) and the full
parse+match+diff+plan pass, in that order, in one process. Targets: full pass
<= 3.0x the floor, peak RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gc
import random
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.domain.catalog import CatalogIndex  # noqa: E402
from feedsync.domain.content import description_digest  # noqa: E402
from feedsync.domain.feed import CsvFeed  # noqa: E402
from feedsync.domain.fields import Variant  # noqa: E402
from feedsync.domain.keys import KeyTransform  # noqa: E402
from feedsync.domain.plan import build_plan  # noqa: E402
from feedsync.domain.reconcile import Counts, Outcome, ReconcileSpec, reconcile  # noqa: E402
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SEED = 20240601
MAPPING = {"sku": "SKU", "barcode": "UPC", "price": "Price", "stock": "Qty", "name": "Name"}
COLOURS = ("Red", "Blue", "Green", "Black", "White", "Navy", "Olive")
BRANDS = tuple(f"Brand {k}" for k in range(40))
WEIGHTS = ("0.25", "0.4", "0.5", "1.2", "2")


def make_variants(n: int, seed: int) -> list[Variant]:
    """The store: n variants, about 3 per product; prices 1.00-199.99, stock 0-50; content
    as a real store's index holds it (a description digest per product, a brand, a weight,
    an image URL on 4 variants in 5; one product in 20 hidden), so the peak RSS is that of a
    realistic index."""
    rng = random.Random(seed)
    out: list[Variant] = []
    digest = None
    for i in range(n):
        if i % 3 == 0:
            digest = description_digest(f"<p>Product {i // 3}: {COLOURS[i % 7]} cotton</p>")
        out.append(
            (
                7_000_000_000 + i // 3,
                40_000_000_000 + i,
                f"SKU-{i:07d}",
                f"{100_000_000_000 + i:012d}",
                rng.randrange(100, 20_000),
                None,
                None,
                None,
                rng.randrange(0, 51),
                f"Product {i // 3} {COLOURS[i % len(COLOURS)]}",
                "2026-11-01T00:00:00+00:00",
                None,
                digest,
                BRANDS[(i // 3) % len(BRANDS)],
                WEIGHTS[i % len(WEIGHTS)],
                f"https://cdn11.example-store.com/s-abc123/images/{i}.jpg" if i % 5 else None,
                (i // 3) % 20 != 0,  # one product in 20 hidden
            )
        )
    return out


def write_feed(path: Path, variants: list[Variant], rows: int, seed: int) -> None:
    """~90% known SKUs (~30% of those changed), ~10% unknown, ~0.2% repeated rows."""
    rng = random.Random(seed + 1)
    order = list(range(len(variants)))
    rng.shuffle(order)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SKU", "UPC", "Price", "Qty", "Name"])
        written: list[int] = []
        for r in range(rows):
            x = rng.random()
            if x < 0.002 and written:
                v = variants[rng.choice(written)]  # a repeated item
            elif x < 0.10:
                new_price = f"{rng.randrange(100, 20_000) / 100:.2f}"
                w.writerow([f"NEW-{r:08d}", "", new_price, 5, "New"])
                continue
            else:
                i = order[r % len(order)]
                written.append(i)
                v = variants[i]
            price, stock = v[4], v[8]
            assert price is not None and stock is not None
            if rng.random() < 0.30:
                if rng.random() < 0.5:
                    price += rng.randrange(1, 500)
                else:
                    stock = rng.randrange(0, 60)
            w.writerow([v[2], v[3], f"{price // 100}.{price % 100:02d}", stock, v[9]])
    tmp.replace(path)


def rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--variants", type=int, default=None, help="catalog size (default: --rows)")
    ap.add_argument("--no-freeze", action="store_true", help="skip gc.freeze() of the index")
    ap.add_argument("--profile", action="store_true", help="cProfile the full pass")
    args = ap.parse_args()
    n_rows = args.rows
    n_variants = args.variants or n_rows
    DATA.mkdir(parents=True, exist_ok=True)
    feed_path = DATA / f"feed_{n_rows}_{n_variants}_{SEED}.csv"
    snap_path = DATA / f"catalog_{n_variants}_{SEED}.csv"

    variants = make_variants(n_variants, SEED)
    if not feed_path.exists():
        t = time.perf_counter()
        write_feed(feed_path, variants, n_rows, SEED)
        print(f"generated {feed_path.name} in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    index = CatalogIndex.from_store(variants)
    t_index = time.perf_counter() - t
    del variants
    t = time.perf_counter()
    with snap_path.open("w", encoding="utf-8", newline="") as fh:
        index.dump(fh)
    t_dump = time.perf_counter() - t
    # Keep one index alive at a time: continue with the reloaded copy.
    n_index = len(index)
    del index
    gc.collect()
    t = time.perf_counter()
    with snap_path.open(encoding="utf-8", newline="") as fh:
        index = CatalogIndex.load(fh)
    t_load = time.perf_counter() - t
    assert len(index) == n_index
    # The index lives for the whole run: move it out of the cyclic GC's sight, as the
    # Lambda handler should after loading it. Without this, full collections triggered
    # by the plan's surviving dicts re-walk a million variants several times.
    if not args.no_freeze:
        gc.collect()
        gc.freeze()

    # (a) the floor: a bare csv.reader pass, best of 3 (this VM's timings are noisy and
    # a single slow floor pass would flatter every ratio below).
    floors = []
    for _ in range(3):
        t = time.perf_counter()
        floor_rows = 0
        with feed_path.open(encoding="utf-8-sig", newline="") as fh:
            for _ in csv.reader(fh):
                floor_rows += 1
        floors.append(time.perf_counter() - t)
    t_floor = min(floors)

    # (b) parse + match + diff (+ plan for the changed rows).
    spec = ReconcileSpec(match_by="sku_then_barcode", fields=("price", "stock"), mode="partial")
    counts = Counts()
    statuses: dict[str, int] = {}
    items = shards = 0

    def full_pass() -> CsvFeed:
        """Stream: feed -> reconcile -> (count every outcome) -> plan of the changed ones."""
        nonlocal items, shards
        with feed_path.open(encoding="utf-8-sig", newline="") as fh:
            feed = CsvFeed(fh, MAPPING, file_name=feed_path.name)

            def counted(outcomes: Iterator[Outcome]) -> Iterator[Outcome]:
                get = statuses.get
                for out in outcomes:
                    s = out[2]
                    statuses[s] = get(s, 0) + 1
                    yield out

            plan = build_plan(counted(reconcile(feed, index, spec, counts)), bigcommerce())
            for shard in plan:
                shards += 1
                for batch in shard:
                    items += len(batch["items"])
        return feed

    t = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        feed = prof.runcall(full_pass)
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    else:
        feed = full_pass()
    t_full = time.perf_counter() - t
    counts.row_errors += len(feed.row_errors)

    # Breakdown (after the measured pass, so it cannot warm anything for it):
    # the feed reader alone, and csv.reader plus one bare SKU dict lookup per row,
    # which shows how much of the time is random access into a million-entry index.
    t = time.perf_counter()
    with feed_path.open(encoding="utf-8-sig", newline="") as fh:
        for _ in CsvFeed(fh, MAPPING, file_name=feed_path.name):
            pass
    t_feed = time.perf_counter() - t
    # The same with a key_transform (a prefix on every SKU): what reshaping keys costs.
    t = time.perf_counter()
    with feed_path.open(encoding="utf-8-sig", newline="") as fh:
        keyed = CsvFeed(fh, MAPPING, file_name=feed_path.name)
        keyed.use_key_transform(KeyTransform(prefix="ACME-"))
        for _ in keyed:
            pass
    t_keyed = time.perf_counter() - t
    t = time.perf_counter()
    get = index.by_sku.get
    with feed_path.open(encoding="utf-8-sig", newline="") as fh:
        for cells in csv.reader(fh):
            get(cells[0])
    t_lookup = time.perf_counter() - t
    # The issue's own measure, parse+match+diff: every outcome produced, no plan built.
    t = time.perf_counter()
    with feed_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = CsvFeed(fh, MAPPING, file_name=feed_path.name)
        collections.deque(reconcile(rows, index, spec, Counts()), maxlen=0)
    t_pmd = time.perf_counter() - t

    print(f"rows                    {feed.rows_read:,} (csv records {floor_rows - 1:,})")
    print(f"catalog variants        {n_index:,}")
    print(f"index build             {t_index:.2f}s")
    print(f"snapshot dump / load    {t_dump:.2f}s / {t_load:.2f}s")
    print(f"csv.reader floor        {t_floor:.2f}s")
    print(f"parse+match+diff+plan   {t_full:.2f}s  ({feed.rows_read / t_full:,.0f} rows/s)")
    print(f"ratio (b)/(a)           {t_full / t_floor:.2f}  (target <= 3.0)")
    print(f"parse+match+diff        {t_pmd:.2f}s  (ratio {t_pmd / t_floor:.2f}, no plan)")
    print(f"  of which CsvFeed      {t_feed:.2f}s  ({t_feed / t_floor:.2f}x floor)")
    print(f"  csv.reader + lookup   {t_lookup:.2f}s  ({t_lookup / t_floor:.2f}x floor)")
    print(f"  CsvFeed, SKU prefixed {t_keyed:.2f}s  ({t_keyed / t_floor:.2f}x floor)")
    print(f"peak RSS                {rss_mb():.0f} MB  (target <= 1024)")
    print(f"outcomes                {dict(sorted(statuses.items()))}")
    print(f"plan                    {items:,} items in {shards:,} shards")
    print(f"counts                  {counts.as_dict()}")


if __name__ == "__main__":
    main()
