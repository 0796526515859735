"""Benchmark pre-validation: what checking every changed row against the platform's
constraints adds to the match step's hot loop.

    .venv/bin/python bench/bench_validation.py [--rows N]

Changed rows as reconcile yields them (a price or a stock change, one row in 1,000 with a
stock over the platform's maximum), checked by ``Validator.refused`` (and split by
``withheld`` when refused) against a bare loop over the same rows (the floor). Prints the
time per row and the rows refused, per platform.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.domain.reconcile import Change  # noqa: E402
from feedsync.domain.validation import Validator  # noqa: E402
from feedsync.platforms.registry import PLATFORMS, capabilities_for  # noqa: E402

SEED = 20261206
TOO_MANY = 10**12  # over every platform's stock maximum that has one


def changed_rows(n: int) -> list[tuple[Change, ...]]:
    rng = random.Random(SEED)
    rows: list[tuple[Change, ...]] = []
    for i in range(n):
        if i % 1000 == 999:
            rows.append((("price", 1000, 1100), ("stock", 5, TOO_MANY)))
        elif rng.random() < 0.5:
            rows.append((("price", 1000, rng.randrange(100, 20_000)),))
        else:
            rows.append((("stock", 5, rng.randrange(0, 60)),))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    rows = changed_rows(args.rows)

    floors = []
    for _ in range(3):
        t = time.perf_counter()
        n = 0
        for changes in rows:
            if changes:
                n += 1
        floors.append(time.perf_counter() - t)
    t_floor = min(floors)
    print(f"{len(rows):,} changed rows; bare loop {t_floor * 1e9 / len(rows):.0f} ns/row")
    for name, spec in PLATFORMS.items():
        validator = Validator(spec.label, capabilities_for(name))
        check = validator.refused
        best = float("inf")
        refused = 0
        for _ in range(3):
            refused = 0
            t = time.perf_counter()
            for changes in rows:
                found = check(changes)
                if found is not None:
                    validator.withheld(1, 1, changes, found)
                    refused += 1
            best = min(best, time.perf_counter() - t)
        added = (best - t_floor) * 1e9 / len(rows)
        print(
            f"  {spec.label:12s} {best * 1e9 / len(rows):5.0f} ns/row "
            f"(+{added:.0f} ns over the floor), {refused:,} rows refused"
        )


if __name__ == "__main__":
    main()
