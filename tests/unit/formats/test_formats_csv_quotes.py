"""Issue 14: an unclosed quote in a CSV fails the file naming the row; no row is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError

MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty"}


def _write(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, encoding="utf-8")
    return path


def _rows(n: int, start: int = 1) -> list[str]:
    return [f"SKU-{i},{i}.00,{i % 7}" for i in range(start, start + n)]


def test_an_unclosed_quote_mid_file_fails_naming_its_row(tmp_path: Path) -> None:
    # Given 1,000 data rows where spreadsheet row 501 opens a quote it never closes
    rows = _rows(1000)
    rows[499] = 'SKU-500,"5.00,3'
    path = _write(tmp_path / "stock.csv", ["SKU,Price,Qty", *rows])
    # When the file is read
    with pytest.raises(FeedFormatError) as err:
        read_all(path, None, MAPPING)
    # Then the file fails (no silent loss of the 499 rows after it), naming file and row
    msg = str(err.value)
    assert msg.startswith("stock.csv: row 501 opens a quoted cell that is never closed")
    assert 'unclosed "' in msg


def test_a_field_over_the_csv_limit_names_the_row_and_the_quote(tmp_path: Path) -> None:
    # Given 100,000 rows with an unclosed quote on row 11: the cell outgrows csv's limit
    rows = _rows(100_000)
    rows[9] = 'SKU-10,"10.00,3'
    path = _write(tmp_path / "big.csv", ["SKU,Price,Qty", *rows])
    # When the file is read
    with pytest.raises(FeedFormatError) as err:
        read_all(path, None, MAPPING)
    # Then the error names the row where the quote opened and says what is probably wrong
    msg = str(err.value)
    assert msg.startswith("big.csv: row 11 has a cell longer than 131,072 characters")
    assert 'probably an unclosed "' in msg


def test_an_unclosed_quote_in_the_last_line_without_newline(tmp_path: Path) -> None:
    # Given a file whose last line opens a quote and has no line end
    path = tmp_path / "tail.csv"
    path.write_text('SKU,Price,Qty\nSKU-1,1.00,1\nSKU-2,"2.00,2', encoding="utf-8")
    # When it is read, Then row 3 is named
    with pytest.raises(FeedFormatError, match=r"tail\.csv: row 3 opens a quoted cell"):
        read_all(path, None, MAPPING)


@pytest.mark.parametrize(
    "mapping", [{"sku": "SKU"}, {"sku": "SKU", "price": "Price"}], ids=["sku", "swallowed"]
)
def test_an_unclosed_quote_in_the_header(tmp_path: Path, mapping: dict[str, str]) -> None:
    # Given a header that opens a quote (the whole file becomes one header cell), mapped
    # with or without a column the quote swallowed
    path = _write(tmp_path / "head.csv", ['SKU,"Price,Qty', *_rows(3)])
    # When it is read, Then the header row is named rather than "columns not found"
    with pytest.raises(FeedFormatError, match=r"head\.csv: row 1 opens a quoted cell") as err:
        read_all(path, {"type": "csv"}, mapping)
    assert "feedsync end" not in str(err.value)  # no internal marker in the message


@pytest.mark.parametrize("end", ["\n", "\r\n", ""])
def test_closed_quotes_and_a_last_line_without_newline_read_every_row(
    tmp_path: Path, end: str
) -> None:
    # Given quoted cells with delimiters and newlines, closed, and any file ending
    text = 'SKU,Name,Price,Qty\nSKU-1,"a, b\nc",1.00,1\nSKU-2,"say ""hi""",2.00,2' + end
    path = tmp_path / "ok.csv"
    path.write_text(text, encoding="utf-8")
    # When it is read
    feed, rows, _ = read_all(path, None, MAPPING)
    # Then both rows come out whole, with their spreadsheet row numbers
    assert [(r[0], r[1], r[3], r[7]) for r in rows] == [(2, "SKU-1", 100, 1), (3, "SKU-2", 200, 2)]
    assert feed.row_errors == []
