"""The review benchmark (``bench/bench_review.py``, in ``make bench``) at a tiny size, on the
session's local stack: its figures are how the team judges preview and apply, so a change
that breaks the script, or the claim it measures, fails here first."""

from __future__ import annotations

from dataclasses import replace

import pytest
from integration_harness import Harness

from bench.bench_review import PLATFORMS, Counted, Figures, Phase, measure

ITEMS = 110


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_preview_writes_nothing_and_applying_it_writes_what_a_direct_run_writes(
    h: Harness, platform: str
) -> None:
    # Given two stores on the platform's double seeded alike, and a file changing every item
    # When the benchmark previews the file on one, applies all of it, and runs it on the other
    figures = measure(h.env, platform, ITEMS, h.files_dir)
    # Then the preview sent no write, the apply as many writes as the direct run, and both
    # stores end holding the file's values
    assert figures.changes == ITEMS and figures.updated == ITEMS
    assert figures.preview.requests.writes == 0 and figures.preview.requests.throttled == 0
    assert figures.preview.requests.reads > 0  # the preview did read the store
    assert figures.apply.requests.writes == figures.direct.requests.writes > 0
    assert figures.differing == [] and figures.unchanged == []
    assert all(passed for passed, _what in figures.checks()), figures.checks()


def test_the_benchmark_fails_a_preview_that_wrote_or_an_apply_that_wrote_more() -> None:
    # Given the figures of a platform where all went as it should
    def phase(status: str, writes: int) -> Phase:
        return Phase(status, 1.0, Counted(writes=writes, reads=3, throttled=0))

    good = Figures("woocommerce", 4, 4, 4, phase("previewed", 0), phase("succeeded", 2),
                   phase("succeeded", 2), [], [])  # fmt: skip
    assert all(passed for passed, _what in good.checks())
    # When the preview sent a write, or the apply one more than the direct run
    wrote = replace(good, preview=phase("previewed", 1))
    more = replace(good, apply=phase("succeeded", 3))
    # Then each is a named failure
    assert [what for ok, what in wrote.checks() if not ok] == [
        "the preview sent 1 write requests (target 0)"
    ]
    assert [what for ok, what in more.checks() if not ok] == [
        "apply / direct writes 3 / 2 = 1.50 (target 1.00)"
    ]
