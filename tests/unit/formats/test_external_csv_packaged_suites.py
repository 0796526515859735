"""Issue 14: csvkit's example files and CPython's csv tests, as their registries package
them, read by feedsync and compared cell by cell with what each case expects.

Installed by the project, never fetched by the test: ``make install`` downloads csvkit's
source distribution from PyPI (``pip download``, unpacked under ``build/test-data/``: its
``examples/`` are the files csvkit's own tests read); ``make test``'s
``scripts/test-servers.sh`` installs Debian's ``libpython3.11-testsuite`` (CPython's
``Lib/test``, with ``test_csv.py``). A missing one fails loudly.

csvkit ships its examples without per-file expected rows (its tests assert what its tools
print). It reads a CSV through agate, that is Python's csv module: UTF-8 with an optional
BOM (``-e latin1`` where its tests say so; UTF-16 by its BOM), the delimiter sniffed from
the first 1,024 characters among agate's , tab ; space : |. Each example's expected rows
are what Python's csv module reads from it that way; ``dummy.csv.gz`` and ``dummy.csv.bz2``
must read as its tests say (``dummy.csv``'s rows).

CPython: every literal reading case of ``test_csv.py``, found by parsing the file (never
run): ``self._read_test(lines, rows, **options)``, the same under ``assertRaises`` (the
error expected), and ``self.readerAssertEqual(text, rows)`` with its class's dialect.
Cases built by code (the big-field ones) are not literal and not taken.

What feedsync does on purpose everywhere applies to the expected cells first (stripped,
empty is no value, a blank line is no row: ``as_feedsync_reads``). Where a case still
differs on purpose, ``PY_REFUSED``, ``PY_AS_A_FILE`` and ``PY_NO_OPTION`` say why, and the
test checks feedsync does what that reason says.
"""

from __future__ import annotations

import ast
import bz2
import csv
import gzip
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from formats_support import as_feedsync_reads, read_cells

from feedsync.domain.feed import column_letter
from feedsync.errors import FeedFormatError

ROOT = Path(__file__).resolve().parents[3]
CSVKIT = ROOT / "build" / "test-data" / "csvkit-2.2.0" / "examples"
CPYTHON_CSV = Path(f"/usr/lib/python3.{sys.version_info.minor}/test/test_csv.py")


def _installed(path: Path, how: str) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: {how}; run it, then the tests again")
    return path


def _cells(path: Path, fmt: dict[str, Any], rows: list[list[str]]) -> Any:
    width = max((len(row) for row in rows), default=1) or 1
    return read_cells(path, fmt, [column_letter(i) for i in range(width)])


# -- csvkit's examples ----------------------------------------------------------------
CSVKIT_HOW = "csvkit's examples are unpacked by `make install` (pip download csvkit)"
# Where csvkit's tests name the encoding (-e latin1); UTF-16 is told by its BOM.
CSVKIT_ENCODINGS = {"test_latin1.csv": "latin-1"}
AGATE_DELIMITERS = ",\t; :|"
# Example -> (the error's words, why): refused on purpose where csvkit reads no rows.
CSVKIT_REFUSED = {"empty.csv": (r"is empty", "an empty file is refused as such (nothing to sync)")}


def _csvkit_examples() -> list[str]:
    found = [*CSVKIT.rglob("*.csv"), *CSVKIT.rglob("*.tsv")]
    return sorted(str(p.relative_to(CSVKIT)) for p in found)


def _as_csvkit_reads(raw: bytes, name: str) -> list[list[str]]:
    """The rows agate's reader (Python's csv) takes from a file, with csvkit's defaults."""
    utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    text = raw.decode("utf-16" if utf16 else CSVKIT_ENCODINGS.get(name, "utf-8-sig"))
    try:
        delimiter = csv.Sniffer().sniff(text[:1024], AGATE_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","  # agate reads with the excel dialect when sniffing finds nothing
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_csvkit_examples_are_installed() -> None:
    # Given csvkit's sdist as make install unpacks it, Then its example CSV files are there
    _installed(CSVKIT, CSVKIT_HOW)
    assert len(_csvkit_examples()) >= 60
    assert (CSVKIT / "dummy.csv.gz").exists()


@pytest.mark.parametrize("name", _csvkit_examples() if CSVKIT.exists() else ["(not installed)"])
def test_csvkit_example(name: str, tmp_path: Path) -> None:
    # Given one of csvkit's example files and the rows csvkit's reader takes from it
    raw = _installed(CSVKIT / name, CSVKIT_HOW).read_bytes()
    rows = _as_csvkit_reads(raw, Path(name).name)
    path = tmp_path / Path(name).name
    path.write_bytes(raw)
    if name in CSVKIT_REFUSED:
        words, _why = CSVKIT_REFUSED[name]
        assert as_feedsync_reads(rows) == ([], [])  # csvkit reads no row either
        # Then (on purpose) the file is refused, saying why
        with pytest.raises(FeedFormatError, match=words):
            _cells(path, {"header_row": 0}, rows)
        return
    # When feedsync reads it (encoding detected, delimiter sniffed), header row as cells
    got = _cells(path, {"header_row": 0}, rows)
    # Then every row holds the same cells; rows without every column are reported
    assert got == as_feedsync_reads(rows)


def test_csvkit_gzip_example_reads_as_its_tests_say(tmp_path: Path) -> None:
    # Given dummy.csv.gz, which csvkit's tests read as a, b, c / 1, 2, 3
    path = tmp_path / "dummy.csv.gz"
    path.write_bytes(_installed(CSVKIT / "dummy.csv.gz", CSVKIT_HOW).read_bytes())
    assert gzip.decompress(path.read_bytes()) == (CSVKIT / "dummy.csv").read_bytes()
    # When feedsync reads it, Then it is unpacked and read as the CSV inside
    assert _cells(path, {"header_row": 0}, [["a", "b", "c"]]) == (
        [["a", "b", "c"], ["1", "2", "3"]],
        [],
    )


def test_csvkit_bzip2_example_reads_as_its_tests_say(tmp_path: Path) -> None:
    # Given dummy.csv.bz2, which csvkit's tests read as a, b, c / 1, 2, 3
    path = tmp_path / "dummy.csv.bz2"
    path.write_bytes(_installed(CSVKIT / "dummy.csv.bz2", CSVKIT_HOW).read_bytes())
    assert bz2.decompress(path.read_bytes()) == (CSVKIT / "dummy.csv").read_bytes()
    # When feedsync reads it, Then it is unpacked and read as the CSV inside
    assert _cells(path, {"header_row": 0}, [["a", "b", "c"]]) == (
        [["a", "b", "c"], ["1", "2", "3"]],
        [],
    )


# -- CPython's test_csv.py --------------------------------------------------------------
CPYTHON_HOW = (
    "CPython's csv tests come with Debian's libpython3.11-testsuite, installed by "
    "`make test` (scripts/test-servers.sh)"
)
_NEVER_CLOSED = (
    r"never closed",
    "a quote never closed fails the file naming its row (no rows lost); Python's csv "
    "ends the cell at the end of the input",
)
_EMPTY = (r"is empty", "an empty file is refused as such (nothing to sync)")
_UTF16 = (
    r"utf-16",
    "a NUL between single characters is how UTF-16 text looks: the file is read as UTF-16 "
    "and refused as not being it (no supplier separates or quotes with NUL)",
)
# Input -> (the error's words, why): refused on purpose where Python's csv reads rows.
PY_REFUSED: dict[str, tuple[str, str]] = {
    "": _EMPTY,
    "\0": (r"is empty", "a file of nothing but NUL padding is refused as empty"),
    'a,"': _NEVER_CLOSED,
    '"a': _NEVER_CLOSED,
    'a,"b,c\\""': _NEVER_CLOSED,  # no escape character: \" is a backslash, "" a quote
    "a\0b\0c": _UTF16,
    "1,\0,3,\0,5": _UTF16,
}
# Input -> why it is read as a file (Python's csv over its lines) instead.
_ONE_LINE = (
    "the case hands csv.reader one line holding a line break (an error there); in a file "
    "a line break ends the row"
)
PY_AS_A_FILE = {"a,b\rc,d": _ONE_LINE, "a,b\nc,d": _ONE_LINE, "a,b\r\nc,d": _ONE_LINE}
# Options feedsync does not have, on purpose: the input is read without them (as Python's
# csv reads it as a file with the excel dialect and the case's delimiter).
PY_NO_OPTION = {
    "escapechar": "feedsync has no escape character: a supplier's backslash is text",
    "quotechar": 'feedsync quotes with " only',
    "quoting": "feedsync reads every cell as text, quoted or not (no QUOTE_* modes)",
    "strict": "feedsync is lenient as Python's default is, except for a quote never closed",
    "doublequote": 'feedsync reads "" in a quoted cell as one quote, always',
    "skipinitialspace": "feedsync strips every cell anyway",
}


def _literal(node: ast.expr) -> Any:
    """A literal, or a ``csv.NAME`` constant (the QUOTE_* modes)."""
    if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "csv":
        return getattr(csv, node.attr)
    return ast.literal_eval(node)


def _dialects(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """The literal attributes of every class (a dialect class's options)."""
    out: dict[str, dict[str, Any]] = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        attrs = out.setdefault(cls.name, {})
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                try:
                    attrs[stmt.targets[0].id] = _literal(stmt.value)
                except ValueError:
                    continue
    return out


def _case(call: ast.Call, method: str, dialect: dict[str, Any]) -> dict[str, Any] | None:
    """One reading case of a call, or None when the call is not a literal reading case."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    args, raises = list(call.args), None
    name = func.attr
    if name == "assertRaises" and len(args) >= 3 and isinstance(args[1], ast.Attribute):
        name, raises, args = args[1].attr, ast.unparse(args[0]), args[2:]
    if name not in ("_read_test", "readerAssertEqual"):
        return None
    try:
        text, expected = _literal(args[0]), _literal(args[1])
        options = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None  # built by code
    lines = [text] if name == "readerAssertEqual" else text
    if not all(isinstance(line, str) for line in lines):
        return None  # bytes: a TypeError case, not a reading one
    if name == "readerAssertEqual":
        options = {**dialect, **options}
    options = {k: v for k, v in options.items() if k != "lineterminator"}  # reading: unused
    return {
        "id": f"{method} {''.join(lines)!r} {options or ''}{' raises' if raises else ''}",
        "input": "".join(lines),
        "expected": expected,
        "options": options,
        "raises": raises,
    }


def _cpython_cases() -> list[dict[str, Any]]:
    tree = ast.parse(_installed(CPYTHON_CSV, CPYTHON_HOW).read_text("utf-8"))
    dialects = _dialects(tree)
    cases = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        dialect: dict[str, Any] = {}
        for stmt in cls.body:
            if (
                isinstance(stmt, ast.Assign)
                and ast.unparse(stmt.targets[0]) == "dialect"
                and isinstance(stmt.value, ast.Call)
            ):
                dialect = dict(dialects.get(ast.unparse(stmt.value.func), {}))
        for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            for node in ast.walk(method):
                if isinstance(node, ast.Call):
                    case = _case(node, method.name, dialect)
                    if case is not None:
                        cases.append(case)
    return cases


PY_CASES = _cpython_cases() if CPYTHON_CSV.exists() else []


def test_cpython_csv_cases_are_installed_and_extracted() -> None:
    # Given Debian's CPython test suite, Then test_csv.py's literal reading cases come out
    cases = _cpython_cases()
    assert len(cases) >= 60
    assert {c["id"].split()[0] for c in cases} >= {"test_read_eol", "test_quoted_quote"}


def _as_a_file(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("case", PY_CASES, ids=[c["id"] for c in PY_CASES])
def test_cpython_csv_case(case: dict[str, Any], tmp_path: Path) -> None:
    # Given one of CPython's reading cases, its input written as a header-less file
    text, options = case["input"], case["options"]
    path = tmp_path / "case.csv"
    path.write_bytes(text.encode("utf-8"))
    delimiter = options.get("delimiter", ",")
    fmt: dict[str, Any] = {"header_row": 0, "type": "csv"}
    if delimiter != ",":
        fmt["delimiter"] = delimiter
    if text in PY_REFUSED:
        words, why = PY_REFUSED[text]
        # Then (on purpose) the file is refused, saying why
        with pytest.raises(FeedFormatError, match=words):
            _cells(path, fmt, [["A"]])
        return
    unsupported = [k for k in PY_NO_OPTION if k in options and k != "delimiter"]
    rows: list[list[str]] = case["expected"]
    why = "as CPython's test expects"
    if text in PY_AS_A_FILE or unsupported:
        why = PY_AS_A_FILE.get(text) or "; ".join(PY_NO_OPTION[k] for k in unsupported)
        rows = _as_a_file(text, delimiter)
    else:
        assert case["raises"] is None, f"an error case without a reason pinned: {case['id']}"
    # When feedsync reads it, Then every row holds the expected cells
    assert _cells(path, fmt, rows) == as_feedsync_reads(rows), why
