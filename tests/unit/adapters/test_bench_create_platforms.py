"""``bench/bench_create_platforms.py`` at 40 items: the figures it prints are at the minimum
and every item is made (the bench's own check, kept working)."""

from __future__ import annotations

import pytest

from bench.bench_create_platforms import RUNS, create_items


def test_the_bench_file_is_half_single_items_and_half_groups_of_five() -> None:
    # When the bench's 40 items are made
    items = create_items(40)

    # Then 20 are single products and 4 are groups of 5 variants
    sizes = sorted(len(i.new["variants"]) for i in items if i.new is not None)
    assert sizes == [1] * 20 + [5] * 4


@pytest.mark.parametrize("platform", sorted(RUNS))
def test_creating_40_items_costs_the_minimum_requests(
    platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the bench creates 40 items on the platform's double
    passed = RUNS[platform](40)

    # Then it passes and prints its figures at the minimum, every variant made
    out = capsys.readouterr().out
    assert passed, out
    assert "= 1.000" in out and "40 variants made, 0 failed" in out
