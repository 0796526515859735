"""bench/bench_dashboard.py still runs: 20 profiles, their tiles, and the calls it counts
(one list call per refresh, none while the tab is hidden). No timing is asserted: `make
bench` prints the figures at 500 profiles."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from e2e_support import ROOT

pytestmark = pytest.mark.e2e


def test_the_dashboard_benchmark_counts_one_api_call_per_refresh_at_20_profiles() -> None:
    # Given the dashboard benchmark at 20 profiles, as `make bench` runs it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["layers/common", "local", "."])}

    # When it runs
    done = subprocess.run(
        [sys.executable, "bench/bench_dashboard.py", "--profiles", "20", "--repeats", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip

    # Then every tile rendered, the first load asked who is signed in (GET /me, once per page
    # load: the role decides the buttons) and the list, a refresh the list only, and nothing
    # was asked while the tab was hidden
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "API calls per refresh: 1 (GET /profiles; target 1)" in out
    assert "API calls while the tab was hidden: 0" in out
    assert "API calls on the first load: 2 (GET /me, GET /profiles)" in out
    assert re.search(r"time to render 20 tiles .*: median [\d,]+ ms", out)
