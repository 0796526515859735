"""The Amazon benchmark still runs, on a small plan, and reports the floor without faults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_amazon_benchmark_runs_on_a_small_plan_at_the_floor() -> None:
    # Given the benchmark script and a small size
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["layers/common", "local", "."])}
    # When it runs
    done = subprocess.run(
        [sys.executable, "bench/bench_amazon.py", "--sizes", "300", "--slow", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # Then it reports the three runs: the plain one at the floor, each refusal counted,
    # and slower feeds costing extra status polls only
    assert done.returncode == 0, done.stderr[-2000:]
    runs = [line for line in done.stdout.splitlines() if "listings," in line]
    assert len(runs) == 3
    assert "= 1.000" in runs[0] and "300 ok, 0 refused" in runs[0]
    assert "299 ok, 1 refused" in runs[1]
    assert "0 x 429" in runs[2] and "1 feeds" in runs[2]
