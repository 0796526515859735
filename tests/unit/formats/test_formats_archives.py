"""gzip and zip feeds: entry choice and the decompression-bomb guard."""

from __future__ import annotations

import bz2
import gzip
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from feedsync.errors import FeedFormatError
from feedsync.formats import open_feed

MAPPING = {"sku": "SKU", "price": "Price"}
CSV = b"SKU;Price\nA1;1.00\nB2;2.00\n"


def run(path: Path, fmt: dict[str, Any] | None = None, work: Path | None = None):
    work = work or path.parent
    feed, info = open_feed(str(path), path.name, fmt or {}, MAPPING, work_dir=str(work))
    with feed:
        rows = list(feed)
    return rows, info


def test_gzip_csv(tmp_path: Path) -> None:
    # Given a gzipped semicolon CSV
    path = tmp_path / "feed.csv.gz"
    path.write_bytes(gzip.compress(CSV))
    work = tmp_path / "work"
    work.mkdir()
    # When opened
    rows, info = run(path, work=work)
    # Then it is unwrapped, sniffed and read; the temp file is gone afterwards
    assert [r[1] for r in rows] == ["A1", "B2"]
    assert (info["compression"], info["type"], info["delimiter"]) == ("gzip", "csv", ";")
    assert os.listdir(work) == []


def test_zip_entry_by_pattern_first_match(tmp_path: Path) -> None:
    # Given a zip with a readme and two CSVs
    path = tmp_path / "feeds.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("out/stock_1.csv", CSV)
        zf.writestr("out/stock_2.csv", b"SKU;Price\nZ9;9\n")
    # When the entry pattern is "stock_*.csv"
    rows, info = run(path, {"entry": "stock_*.CSV"})
    # Then the first match in archive order is read and recorded
    assert [r[1] for r in rows] == ["A1", "B2"]
    assert (info["compression"], info["entry"]) == ("zip", "stock_1.csv")


def test_zip_single_feed_without_pattern_and_ambiguous(tmp_path: Path) -> None:
    # Given a zip with one feed plus macOS junk, and one with two feeds
    one = tmp_path / "one.zip"
    with zipfile.ZipFile(one, "w") as zf:
        zf.writestr("__MACOSX/._feed.csv", b"junk")
        zf.writestr("feed.csv", CSV)
        zf.writestr("notes.pdf", b"%PDF")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", CSV)
        zf.writestr("b.csv", CSV)
    # When opened without a pattern
    rows, info = run(one)
    # Then the only feed is used, and two feeds are refused asking for a pattern
    assert info["entry"] == "feed.csv" and len(rows) == 2
    with pytest.raises(FeedFormatError, match=r"'a\.csv', 'b\.csv'.*'entry'"):
        run(two)


def test_zip_pattern_matching_nothing_lists_entries(tmp_path: Path) -> None:
    # Given a zip, When the pattern matches no entry, Then the entries are listed
    path = tmp_path / "f.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("feed.csv", CSV)
    with pytest.raises(FeedFormatError, match=r"no entry in the zip matches '\*\.xml'.*feed\.csv"):
        run(path, {"entry": "*.xml"})


def test_xlsx_inside_zip(tmp_path: Path) -> None:
    # Given a workbook inside a zip
    import openpyxl

    book = tmp_path / "inner.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["SKU", "Price"])
    wb.active.append(["X1", 4.5])
    wb.save(book)
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(book, "feed.xlsx")
    # When opened, Then the zip is unwrapped and the workbook read
    rows, info = run(path)
    assert rows == [(2, "X1", None, 450, None, None, None, None, None, None, None, None, None)]
    assert (info["compression"], info["type"]) == ("zip", "xlsx")


def _bomb_zip(path: Path, size: int) -> None:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("feed.csv", "w", force_zip64=True) as out,
    ):
        out.write(b"SKU,Price\n")
        block = b"A" * (1 << 20)
        for _ in range(size >> 20):
            out.write(block)


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    # Given a small zip expanding ~1000:1 to 40 MB
    path = tmp_path / "bomb.zip"
    _bomb_zip(path, 40 << 20)
    assert path.stat().st_size < 100_000
    work = tmp_path / "work"
    work.mkdir()
    # When opened, Then it stops (past the 16 MiB floor) and leaves no temp file
    with pytest.raises(FeedFormatError, match=r"bomb\.zip \(feed\.csv\): .*200 times"):
        run(path, work=work)
    assert os.listdir(work) == []


def test_gzip_bomb_is_refused_by_size_limit(tmp_path: Path) -> None:
    # Given a gzip of 5 MB and a 1 MB limit in the format
    path = tmp_path / "feed.csv.gz"
    path.write_bytes(gzip.compress(b"SKU,Price\n" + b"A,1\n" * (5 << 18)))
    # When opened, Then the absolute limit stops it
    with pytest.raises(FeedFormatError, match=r"more than 1,048,576 bytes"):
        run(path, {"max_uncompressed_bytes": 1 << 20})


def test_zip_declaring_a_huge_entry_is_refused_up_front(tmp_path: Path) -> None:
    # Given a zip whose entry declares more than the limit
    path = tmp_path / "big.zip"
    _bomb_zip(path, 3 << 20)
    # When opened with a 2 MB limit, Then it is refused from the declared size
    with pytest.raises(FeedFormatError, match="declares"):
        run(path, {"max_uncompressed_bytes": 2 << 20})


def test_damaged_gzip_and_empty_inner_file(tmp_path: Path) -> None:
    # Given a truncated gzip and a gzip of an empty file
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(CSV)[:20])
    empty = tmp_path / "empty.csv.gz"
    empty.write_bytes(gzip.compress(b""))
    # When opened, Then each is a format error naming the file
    with pytest.raises(FeedFormatError, match=r"broken\.csv\.gz: the gzip data is damaged"):
        run(broken)
    with pytest.raises(FeedFormatError, match=r"empty\.csv\.gz: the file is empty"):
        run(empty)


def test_bzip2_csv_is_unpacked_like_gzip(tmp_path: Path) -> None:
    # Given a bzip2-compressed semicolon CSV (csvkit's dummy.csv.bz2 kind of file)
    path = tmp_path / "feed.csv.bz2"
    path.write_bytes(bz2.compress(CSV))
    work = tmp_path / "work"
    work.mkdir()
    # When opened
    rows, info = run(path, work=work)
    # Then it is unwrapped and read, not taken for text full of binary junk
    assert [r[1] for r in rows] == ["A1", "B2"]
    assert (info["compression"], info["type"], info["delimiter"]) == ("bzip2", "csv", ";")
    assert os.listdir(work) == []


def test_bzip2_bomb_and_damaged_bzip2_are_refused(tmp_path: Path) -> None:
    # Given a bzip2 of 5 MB with a 1 MB limit, and a truncated bzip2
    bomb = tmp_path / "feed.csv.bz2"
    bomb.write_bytes(bz2.compress(b"SKU,Price\n" + b"A,1\n" * (5 << 18)))
    broken = tmp_path / "broken.csv.bz2"
    broken.write_bytes(bz2.compress(CSV * 50)[:40])
    # When opened, Then the size limit stops the bomb and the damage is named
    with pytest.raises(FeedFormatError, match=r"more than 1,048,576 bytes"):
        run(bomb, {"max_uncompressed_bytes": 1 << 20})
    with pytest.raises(FeedFormatError, match=r"broken\.csv\.bz2: the bzip2 data is damaged"):
        run(broken)


@pytest.mark.parametrize(
    ("magic", "name"),
    [
        (b"\xfd7zXZ\x00\x00\x04", "xz"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip"),
        (b"Rar!\x1a\x07\x01\x00", "RAR"),
        (b"\x28\xb5\x2f\xfd\x04\x58\x00\x00", "Zstandard"),
    ],
)
def test_a_compression_feedsync_does_not_unpack_is_named(
    tmp_path: Path, magic: bytes, name: str
) -> None:
    # Given a supplier file compressed in a way feedsync does not unpack
    path = tmp_path / "stock.csv.x"
    path.write_bytes(magic + os.urandom(200))
    # When opened, Then it is refused naming the file and the compression, not read as text
    with pytest.raises(
        FeedFormatError, match=rf"stock\.csv\.x: the file is compressed with {name}"
    ):
        run(path)
