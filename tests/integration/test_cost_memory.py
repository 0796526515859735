"""The steps measured alone (``bench/cost_memory.py``): each supplier format is made, read
whole by the parse step's code in a fresh process, and its peaks kept for the cost model."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bench.cost_memory import FORMATS, alone_of, keep_in_state, measure, write_file

ROWS = 300


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_read_whole_in_a_fresh_process_and_its_peaks_measured(
    tmp_path: Path, fmt: str
) -> None:
    # Given a supplier file of 300 rows in the format
    path = tmp_path / f"feed.{fmt}"
    write_file(fmt, ROWS, path)
    # When the parse step's reading of it is measured alone
    got = measure("ParseFunction", f"parse:{fmt}", fmt.upper(), ROWS, path)
    # Then every row was read (measure checks the count), the traced peak is above nothing
    # and the process's peak RSS holds the handler's imports (Python, boto3, Powertools)
    assert (got.function, got.case, got.rows) == ("ParseFunction", fmt.upper(), ROWS)
    assert got.peak_mb > 0 and got.rss_peak_mb > 40 and got.file_mb > 0
    # And a file that holds fewer rows than it was made with is refused, not measured
    with pytest.raises(RuntimeError, match="rows made"):
        measure("ParseFunction", f"parse:{fmt}", fmt.upper(), ROWS + 1, path)


def test_the_catalog_index_is_measured_and_kept_in_the_cost_models_state(tmp_path: Path) -> None:
    # Given a state file the cost model wrote (measurements, traced runs, baselines)
    state = tmp_path / "state.pkl"
    state.write_bytes(pickle.dumps(([], [], {"ParseFunction": 82.0})))
    # When a catalog of 1,000 variants is measured alone and kept, then again
    first = measure("CatalogImportFunction", "catalog:1000", "catalog index", 1000, tmp_path / "x")
    keep_in_state(state, [first])
    keep_in_state(state, [first])
    # Then the state keeps the model's part and one copy of the result, read back as it was
    measured, traced, baselines, kept = pickle.loads(state.read_bytes())
    assert (measured, traced, baselines) == ([], [], {"ParseFunction": 82.0})
    assert alone_of(kept) == [first]
    assert first.label == "catalog of 1,000 variants, measured alone" and first.peak_mb > 0
