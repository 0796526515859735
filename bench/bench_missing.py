"""Benchmark the items missing from the feed: what ``missing: zero_stock`` and
``missing: disable`` cost a run on a large index.

    .venv/bin/python bench/bench_missing.py [--variants N]

An index of N variants (two per product), every one written by the profile before, a file
listing 99 % of them: the time to work out what to zero or hide (best of 3), once with every
variant written and once with a tenth. No target: the figures are for comparison with the
reconcile pass (``bench_reconcile.py``), which this follows once per run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.domain.fields import Variant  # noqa: E402
from feedsync.domain.missing import disable_outcomes, missing_outcomes  # noqa: E402


def _best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    n = parser.parse_args().variants
    index: list[Variant] = [
        (i // 2, i, f"S{i}", None, 1000, None, None, None, 5, "Item", None, None,
         None, None, None, None, True)
        for i in range(n)
    ]  # fmt: skip
    listed = {i for i in range(n) if i % 100}
    for share, written in (("every variant", set(range(n))), ("a tenth", set(range(0, n, 10)))):
        zero = _best(lambda w=written: missing_outcomes(index, w, listed, 1))  # type: ignore[misc]
        hide = _best(
            lambda w=written: disable_outcomes(  # type: ignore[misc]
                index, w, set(), listed, 1, file_whole=True, zero_siblings=True
            )
        )
        print(
            f"missing items, {n:,} variants, {share} written: "
            f"zero_stock {zero:.3f} s, disable {hide:.3f} s"
        )


if __name__ == "__main__":
    main()
