"""Format detection by magic bytes and content."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from feedsync.formats import detect


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("f.gz", gzip.compress(b"a,b\n", mtime=0), "gzip"),
        ("f.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8, "xls"),
        ("f.json", b'  [{"a": 1}]', "json"),
        ("f.json", b'{"data": [{"a": 1}]}', "json"),
        ("f.txt", b'{"a": 1}\n{"a": 2}\n', "jsonl"),
        ("f.ndjson", b'{"a": 1}', "jsonl"),
        ("f.dat", b"\xef\xbb\xbf<?xml version='1.0'?><a/>", "xml"),
        ("f.xml", "\ufeff<a/>".encode("utf-16-le"), "xml"),
        ("f.xls", b"SKU\tPrice\nA\t1\n", "csv"),  # CSV mislabelled as .xls
        ("f.csv", b"SKU,Price\n", "csv"),
    ],
)
def test_detect(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    # Given a file's bytes, When detected, Then the type is decided by content
    path = tmp_path / name
    path.write_bytes(data)
    assert detect(str(path), name)["type"] == expected


def test_zip_vs_xlsx(tmp_path: Path) -> None:
    # Given a plain zip and a zip with an xl/ workbook part
    plain, book = tmp_path / "a.zip", tmp_path / "b.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("feed.csv", "a")
    with zipfile.ZipFile(book, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    # When detected, Then only the second is a workbook (whatever its name)
    assert detect(str(plain), "a.zip")["type"] == "zip"
    assert detect(str(book), "b.zip")["type"] == "xlsx"
