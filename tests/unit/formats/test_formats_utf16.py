"""Issue 14: UTF-16 without a BOM is found by its NUL bytes; decoding errors name file
and encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError

MAPPING = {"sku": "Артикул", "price": "Цена", "stock": "Остаток", "name": "Название"}
LONG = "Очень длинное название товара для проверки кодировки"


def _text() -> str:
    rows = [f"RU-{i};{LONG} №{i};{i},50;{i}" for i in range(1, 40)]
    return "Артикул;Название;Цена;Остаток\r\n" + "\r\n".join(rows) + "\r\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_of_mostly_cyrillic_text_is_detected(tmp_path: Path, codec: str) -> None:
    # Given a BOM-less UTF-16 file of mostly Cyrillic text (ASCII only in digits and ;)
    path = tmp_path / "ru.csv"
    data = _text().encode(codec)
    path.write_bytes(data)
    nul_side = data[1::2] if codec == "utf-16-le" else data[0::2]
    assert nul_side.count(0) < 0.4 * len(nul_side)  # too few NULs for a 40% rule
    # When it is read with the format detected (decimal commas declared)
    feed, rows, info = read_all(path, {"decimal_separator": ","}, MAPPING)
    # Then it is read as UTF-16 of that byte order, with the Cyrillic names intact
    assert (info["encoding"], info["bom"], info["delimiter"]) == (codec, False, ";")
    assert rows[0][1] == "RU-1" and rows[0][3] == 150 and rows[0][8] == f"{LONG} №1"
    assert len(rows) == 39 and feed.row_errors == []


def test_explicit_utf16_without_a_bom_reads_the_file(tmp_path: Path) -> None:
    # Given a BOM-less UTF-16 LE file and a profile saying "utf-16"
    path = tmp_path / "ru.csv"
    path.write_bytes(_text().encode("utf-16-le"))
    # When it is read, Then there is no raw "stream does not start with BOM" error
    _, rows, info = read_all(path, {"encoding": "utf-16", "decimal_separator": ","}, MAPPING)
    assert info["encoding"] == "utf-16-le" and rows[-1][1] == "RU-39"


@pytest.mark.parametrize(
    ("data", "fmt", "encoding"),
    [
        # a lone surrogate half in UTF-16 LE
        ("SKU,Price\r\nA,1\r\n".encode("utf-16-le") + b"\x00\xd8,\x00" * 3, {}, "utf-16-le"),
        (b"SKU,Price\n" + b"A,1\n" * 3000 + b"Caf\xe9,1\n", {"encoding": "utf-8"}, "utf-8"),
        (b"SKU,Pr\xe9is\nA,1\n", {"encoding": "utf-8"}, "utf-8"),
        (b'[{"SKU": "A", "Price": "1"}]' + b"\xff", {"encoding": "utf-8"}, "utf-8"),
    ],
)
def test_a_decoding_error_names_the_file_and_the_encoding(
    tmp_path: Path, data: bytes, fmt: dict[str, Any], encoding: str
) -> None:
    # Given bytes that are not valid in the encoding used
    path = tmp_path / "feed.csv"
    path.write_bytes(data)
    # When the file is read
    with pytest.raises(FeedFormatError) as err:
        read_all(path, fmt, {"sku": "SKU", "price": "Price"})
    # Then the error names the file and the encoding, and says what to set
    msg = str(err.value)
    assert msg.startswith("feed.csv: ")
    assert f"cannot be read as {encoding} (" in msg and "'encoding'" in msg


def test_a_stray_nul_byte_does_not_make_a_file_utf16(tmp_path: Path) -> None:
    # Given a one-byte text file with two NUL bytes, both on odd (or both on even) offsets
    path = tmp_path / "feed.csv"
    path.write_bytes(b"SKU,Price\n" + b"AB-1,1.00\n" * 50 + b"AB\x00C\x00-2,2.00\n")
    # When it is read, Then it is read as UTF-8 text
    _, rows, info = read_all(path, None, {"sku": "SKU", "price": "Price"})
    assert info["encoding"] == "utf-8" and len(rows) == 51
