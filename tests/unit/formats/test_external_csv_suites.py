"""Issue 14: external CSV test suites, as their registries package them, read by feedsync.

``make test`` installs them with npm (``package.json``): csv-spectrum (CSV files, each
with the JSON it must read as) and PapaParse (its core parser cases: an input string
and the rows it must read as, in ``tests/test-cases.js``). Each case goes through
``open_feed`` (encoding detection, delimiter sniffing, quotes, the end-of-file checks)
and its cells are compared with the suite's expected ones. A missing suite fails
loudly: it is test data the project installs, not an optional extra.

What feedsync does on purpose everywhere, applied to the expected cells before the
comparison: it strips every text cell (a supplier's padding is not data) and reads an
empty one as no value; it skips a wholly blank line (not a data row). Where a case
still differs on purpose, ``*_DIFFERS`` says so per case, with the reason, and the
test checks feedsync does what that reason says.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from formats_support import as_feedsync_reads, read_cells

from feedsync.domain.feed import column_letter
from feedsync.errors import FeedFormatError

ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "node_modules"
SPECTRUM = NODE_MODULES / "csv-spectrum"
PAPA_CASES = NODE_MODULES / "papaparse" / "tests" / "test-cases.js"


def _installed(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(ROOT)} is missing: the external CSV suites are installed by "
            "`make install` (npm ci, from package.json); run it, then the tests again"
        )
    return path


# -- csv-spectrum ---------------------------------------------------------------------
SPECTRUM_DIFFERS: dict[str, str] = {
    # The suite's own mistake, not a reading difference: its JSON is one object, not a
    # list of rows, and says 1234567890 where its CSV holds 2095257564.
    "location_coordinates": "expected JSON does not match its CSV (phone 1234567890)",
}
SPECTRUM_FIXED = {"location_coordinates": [{"Contact Phone Number": "2095257564"}]}


def _spectrum_cases() -> list[str]:
    return sorted(p.stem for p in (_installed(SPECTRUM) / "csvs").glob("*.csv"))


def test_csv_spectrum_is_installed_with_every_case_it_ships() -> None:
    # Given the csv-spectrum package npm installed, Then its 12 cases are all there
    assert len(_spectrum_cases()) == 12
    assert all((SPECTRUM / "json" / f"{name}.json").exists() for name in _spectrum_cases())


@pytest.mark.parametrize("name", _spectrum_cases() if SPECTRUM.exists() else ["(not installed)"])
def test_csv_spectrum_case(name: str, tmp_path: Path) -> None:
    # Given one csv-spectrum file and the rows its JSON says it holds
    csv_path = _installed(SPECTRUM / "csvs" / f"{name}.csv")
    expected: Any = json.loads((SPECTRUM / "json" / f"{name}.json").read_text("utf-8"))
    if name in SPECTRUM_DIFFERS:
        expected = [expected] if isinstance(expected, dict) else expected
        for row, fix in zip(expected, SPECTRUM_FIXED[name], strict=True):
            row.update(fix)
    columns = list(expected[0])
    path = tmp_path / f"{name}.csv"
    path.write_bytes(csv_path.read_bytes())
    # When feedsync reads it (format detected, delimiter sniffed)
    got = read_cells(path, {}, columns)
    # Then every row holds the expected cells
    assert got == as_feedsync_reads([[row[c] for c in columns] for row in expected])


# -- PapaParse's core parser cases ------------------------------------------------------
# Node evaluates the CORE_PARSER_TESTS array of the shipped test file (plain data, with
# two separator constants it uses) and prints it as JSON.
_EXTRACT = """
const fs = require("fs"), vm = require("vm");
const src = fs.readFileSync(process.argv[1], "utf8");
const start = src.indexOf("var CORE_PARSER_TESTS = [");
const end = src.indexOf("describe('Core Parser Tests'");
if (start < 0 || end < 0) throw new Error("CORE_PARSER_TESTS not found");
const ctx = {RECORD_SEP: String.fromCharCode(30), UNIT_SEP: String.fromCharCode(31)};
vm.runInNewContext(src.slice(start, end) + "; out = JSON.stringify(CORE_PARSER_TESTS);", ctx);
process.stdout.write(ctx.out);
"""
_PYTHON_CSV = (
    "like Python's csv, a quoted part ends at its closing quote and what follows joins "
    "the cell; PapaParse reads the quote as open to the end and reports it"
)
_HEADER_MODE = "PapaParse's header mode (renaming duplicates): feedsync maps by header name"
# Case -> (why feedsync differs, what it reads instead: its rows, or None: refused).
PAPA_DIFFERS: dict[str, tuple[str, list[list[str]] | None]] = {
    "Empty input string": ("an empty file is refused as such (nothing to sync)", None),
    "Quoted field has no closing quote": (
        "a quote never closed fails the file naming its row (no rows lost)",
        None,
    ),
    "Quoted field has invalid trailing quote after delimiter": (
        _PYTHON_CSV,
        [["a", "b,c"], ["d", "e", "f"]],
    ),
    "Quoted field has invalid trailing quote after new line": (
        _PYTHON_CSV,
        [["a", "b,c\nde", "f", "g"]],
    ),
    "Quoted field has invalid trailing quote before delimiter": (
        _PYTHON_CSV,
        [["a", "bc", "d"], ["e", "f", "g"]],
    ),
    "Quoted field has invalid trailing quote after delimiter with a valid closer": (
        _PYTHON_CSV,
        [["a,b", 'c"'], ["d", "e", "f"]],
    ),
    "Fast mode with preview": (
        "feedsync reads every row (PapaParse's preview stops after 2)",
        [["a", "b", "c"], ["d", "e", "f"], ["h", "j", "i"]],
    ),
}
# Options feedsync does not have, on purpose: the case's input read without them.
PAPA_NO_OPTION = {
    "comments": "feedsync has no comment lines: a line starting with '#' is a row",
    "header": _HEADER_MODE,
}


def _papa_cases() -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: `make install` needs it (npm ci) and so do these cases")
    out = subprocess.run(
        [node, "-e", _EXTRACT, str(_installed(PAPA_CASES))],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    cases: list[dict[str, Any]] = json.loads(out.stdout)
    return cases


PAPA = _papa_cases() if PAPA_CASES.exists() and shutil.which("node") else []


def test_papaparse_cases_are_installed_and_extracted() -> None:
    # Given PapaParse as npm installs it, Then its core parser cases come out of its tests
    cases = _papa_cases()
    assert len(cases) >= 60
    assert all("input" in c and "expected" in c for c in cases)


def _used(option: str, value: Any) -> bool:
    """Whether PapaParse applies the option (it ignores a comment marker not a string)."""
    if option == "comments":
        return value is True or (isinstance(value, str) and value != "")
    return bool(value)


@pytest.mark.parametrize("case", PAPA, ids=[c["description"] for c in PAPA])
def test_papaparse_core_case(case: dict[str, Any], tmp_path: Path) -> None:
    # Given one of PapaParse's inputs, written as a file (header-less: rows as lists)
    config = case.get("config") or {}
    path = tmp_path / "case.csv"
    path.write_bytes(case["input"].encode("utf-8"))
    rows: list[list[str]] = case["expected"]["data"]
    fmt: dict[str, Any] = {"header_row": 0, "type": "csv"}
    if "delimiter" in config:
        fmt["delimiter"] = config["delimiter"]
    differs = PAPA_DIFFERS.get(case["description"])
    unsupported = [k for k in PAPA_NO_OPTION if _used(k, config.get(k))]
    why = "as PapaParse reads it"
    if differs is not None:
        why, rows_instead = differs
        if rows_instead is None:
            # Then (on purpose) the file is refused, saying why
            with pytest.raises(FeedFormatError, match=r"never closed|is empty"):
                read_cells(path, fmt, ["A"])
            return
        rows = rows_instead
    elif unsupported:
        # Then (on purpose) the input is read without the option: e.g. comment lines
        # are rows, and header names are cells of row 1
        why = "; ".join(PAPA_NO_OPTION[k] for k in unsupported)
        rows = [line.split(config.get("delimiter", ",")) for line in case["input"].split("\n")]
    columns = [column_letter(i) for i in range(max((len(r) for r in rows), default=1))]
    # When feedsync reads it
    got = read_cells(path, fmt, columns)
    # Then every row holds the expected cells; rows without every column are reported
    assert got == as_feedsync_reads(rows), why
