"""Issue 14: one line of a text file is bounded (4 MiB), checked before it is read whole.

A file without line ends used to be read as one line (a 200 MB line took 440 MB, and
300 MB of records joined on one line 2 GB). The limit is checked on the bytes, in
pieces, so the memory a bad file takes stays near the piece size, whatever its size.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError
from feedsync.formats.text import MAX_LINE_BYTES, check_line_lengths

MAPPING = {"sku": "SKU", "price": "Price"}
FILE_MB = 40
# Peak memory growth allowed while failing a 40 MB file: the bound is the 1 MB pieces,
# far below the file (the unbounded reader took 79 MB for the line and 645 MB for the
# joined records, and succeeded on them).
PEAK_GROWTH_MB = 16

_MEASURE = """
import json, resource, sys
from feedsync.errors import FeedFormatError
from feedsync.formats import open_feed

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path, name, work = sys.argv[1:4]
base = peak_mb()
error = None
try:
    feed, _ = open_feed(path, name, {}, {"sku": "SKU", "price": "Price"}, work_dir=work)
    with feed:
        rows = sum(1 for _ in feed)
except FeedFormatError as exc:
    error = str(exc)
print(json.dumps({"error": error, "growth_mb": peak_mb() - base}))
"""


def _peak_growth(path: Path) -> dict[str, object]:
    """Open and read ``path`` in a fresh interpreter: its error and peak memory growth."""
    root = Path(__file__).resolve().parents[3]
    env = {"PYTHONPATH": f"{root / 'layers' / 'common'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), path.name, str(path.parent)],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("no_line_ends.csv", b"A" * 1024),  # one 40 MB line: no line end at all
        ("joined.csv", b"SKU-1,1.00,SKU-2,2.00,SKU-3,3.00,SKU-4,4.00,SKU-5,5.00,"),  # records
        ("stock.jsonl", b'{"SKU": "A", "Price": "1.00"} '),  # JSON Lines without line ends
    ],
    ids=["no-line-ends", "records-joined-by-the-delimiter", "jsonl"],
)
def test_a_file_without_line_ends_fails_within_a_fixed_memory_bound(
    tmp_path: Path, name: str, body: bytes
) -> None:
    # Given a 40 MB file whose second line never ends
    path = tmp_path / name
    head = b"SKU,Price\n" if name.endswith(".csv") else b'{"SKU": "A", "Price": "1.00"}\n'
    with path.open("wb") as fh:
        fh.write(head)
        for _ in range(FILE_MB * 2**20 // len(body)):
            fh.write(body)
    # When it is opened and read in a fresh process
    got = _peak_growth(path)
    # Then it fails naming the file, the line and the limit, and says what is likely wrong
    assert got["error"] == (
        f"{name}: line 2 is longer than 4 MiB (4,194,304 bytes), the limit on one line: the "
        "file's records are probably not separated by line breaks (all on one line, or "
        "split by another character), or it is not a text file; send one record per line"
    )
    # And the memory it took stayed far below the file's size
    assert isinstance(got["growth_mb"], float) and got["growth_mb"] < PEAK_GROWTH_MB


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_line_of_exactly_the_limit_is_read_and_one_byte_more_fails(
    tmp_path: Path, end: str
) -> None:
    # Given a file whose row 4 (line 5: row 2 spans two lines) has many short cells that
    # make the line exactly MAX_LINE_BYTES long, without its line end (or a byte more)
    def write(extra: int) -> Path:
        line = "SKU-3,3.00," + "x," * (MAX_LINE_BYTES // 2)
        line = line[: MAX_LINE_BYTES + extra]
        lines = ["SKU,Price,Note", 'SKU-1,1.00,"two', 'lines"', "SKU-2,2.00,ok", line]
        path = tmp_path / "wide.csv"
        path.write_bytes((end.join([*lines, "SKU-4,4.00,ok"]) + end).encode())
        return path

    # When the file at the limit is read, Then every row comes out
    _, rows, _ = read_all(write(0), None, MAPPING)
    assert [r[1] for r in rows] == ["SKU-1", "SKU-2", "SKU-3", "SKU-4"]
    # And one byte more fails on the limit before anything is parsed, naming line 5
    with pytest.raises(FeedFormatError, match=r"^wide\.csv: line 5 is longer than 4 MiB"):
        read_all(write(1), None, MAPPING)


def _line_bytes(text: str, unit: int, bom: int) -> list[int]:
    """The reference: each line's length in the file's bytes (a BOM is on line 1), split
    on every line end the text reader knows."""
    sizes = [len(line) * unit for line in re.split(r"\r\n|\r|\n", text)]
    sizes[0] += bom
    return sizes


@pytest.mark.parametrize(
    "codec", ["latin-1", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-16"], ids=lambda c: c
)
def test_the_pre_pass_measures_every_line_exactly_across_pieces(tmp_path: Path, codec: str) -> None:
    # Given many random files of short and long lines with mixed line ends, read with a
    # limit of 64 bytes (so the 64-byte pieces split lines and "\r\n" pairs everywhere)
    rnd = random.Random(14)
    unit = 2 if codec.startswith("utf-16") else 1
    bom = b"\xff\xfe" if codec == "utf-16" else b""
    limit = 64
    for case in range(300):
        lines = ["a" * rnd.choice([0, 1, 5, 30, 31, 32, 33, 63, 64, 65, 100]) for _ in range(8)]
        ends = [rnd.choice(["\n", "\r\n", "\r"]) for _ in lines]
        text = "".join(line + end for line, end in zip(lines, ends, strict=True))
        text = text[: len(text) - rnd.choice([0, 1])]  # sometimes no last line end
        path = tmp_path / f"case{case}.csv"
        wide = "utf-16-be" if codec == "utf-16-be" else "utf-16-le"
        path.write_bytes(bom + text.encode(wide if unit == 2 else "latin-1"))
        sizes = _line_bytes(text, unit, len(bom))
        # When the pre-pass checks it
        if max(sizes) <= limit:
            check_line_lengths(str(path), codec, path.name, limit=limit)
            continue
        with pytest.raises(FeedFormatError) as err:
            check_line_lengths(str(path), codec, path.name, limit=limit)
        # Then it fails exactly when a line is over the limit, naming the first such line
        first = next(i for i, size in enumerate(sizes, start=1) if size > limit)
        assert str(err.value).startswith(f"{path.name}: line {first} is longer than"), case
