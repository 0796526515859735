"""Issue 14: an unclosed quote in a CSV fails the file naming the row; no row is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import read_all

from feedsync.domain.fields import ROW_POS
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


# -- a quote closed by a stray quote later: rows in between would go into one cell --------
def test_a_quote_closed_by_a_stray_quote_later_fails_naming_its_row(tmp_path: Path) -> None:
    # Given 1,000 rows where row 501 opens a quote that a stray quote on row 740 closes
    rows = _rows(1000)
    rows[499] = 'SKU-500,"5.00,3'
    rows[738] = 'SKU-739,7.00,"3'
    path = _write(tmp_path / "stray.csv", ["SKU,Price,Qty", *rows])
    # When the file is read
    with pytest.raises(FeedFormatError) as err:
        read_all(path, None, MAPPING)
    # Then it fails naming the row where the quote opened and the line that closed it
    msg = str(err.value)
    assert msg.startswith(
        "stray.csv: row 501 opens a quoted cell that a stray quote on line 740 closes: "
        "238 lines in between that look like whole rows"
    )
    assert "the header's 2 delimiters" in msg


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_two_swallowed_rows_in_a_semicolon_file_with_a_preamble(tmp_path: Path, end: str) -> None:
    # Given a ;-file with its header on row 3 whose row 5 opens a quote closed on row 8
    text = end.join(
        ["Price list", "", "SKU;Name;Price;Qty", 'A1;"Mug;1.00;1', "A2;Cup;2.00;2",
         "A3;Bowl;3.00;3", 'A4;Plate";4.00;4', "A5;Jug;5.00;5", ""]
    )  # fmt: skip
    path = tmp_path / "pre.csv"
    path.write_bytes(text.encode())
    # When it is read with its header row, Then row 4 (the quote's row) is named
    with pytest.raises(FeedFormatError, match=r"^pre\.csv: row 4 opens a quoted cell .* line 7"):
        read_all(path, {"header_row": 3}, {"sku": "SKU", "price": "Price"})


@pytest.mark.parametrize(
    "cell",
    [
        # A description over lines, some with commas, none shaped like a whole row
        "Fits: A, B\\nColours: red, blue, green, white\\nCare: wash cold\\nMade in EU",
        # One line that happens to hold the header's count of delimiters
        "Sizes: S, M\\nRed, green\\nNote",
        # Two such lines among many prose lines (under half of them)
        "Intro\\na, b\\nc, d\\nsome prose\\nmore prose\\nyet more\\nend\\nfin",
    ],
    ids=["prose", "one-row-shaped-line", "minority"],
)
def test_legitimate_multiline_cells_are_read_whole(tmp_path: Path, cell: str) -> None:
    # Given quoted cells written over several lines (no stray quote)
    cell = cell.replace("\\n", "\n")
    header = "SKU,Name,Price"
    path = _write(tmp_path / "ok.csv", [header, f'A1,"{cell}",1.00', "A2,Cup,2.00"])
    # When the file is read
    feed, rows, _ = read_all(path, None, {"sku": "SKU", "name": "Name", "price": "Price"})
    # Then every row comes out, the cell intact
    assert [(r[0], r[1]) for r in rows] == [(2, "A1"), (3, "A2")]
    assert rows[0][ROW_POS["name"]] == cell and feed.row_errors == []


def test_a_two_column_file_cannot_tell_prose_from_rows_and_is_read(tmp_path: Path) -> None:
    # Given a two-column file whose cell spans lines with one comma each (prose-like)
    path = _write(tmp_path / "two.csv", ["SKU,Name", 'A1,"a, b\nc, d\ne, f\ng"', "A2,Cup"])
    # When it is read, Then both rows come out: one delimiter a line is no evidence
    _, rows, _ = read_all(path, None, {"sku": "SKU", "name": "Name"})
    assert [r[1] for r in rows] == ["A1", "A2"]


def test_a_header_less_file_with_cells_over_lines(tmp_path: Path) -> None:
    # Given a short file without a header (it ends while its width is being learnt) with
    # a legitimate multi-line cell, and one whose rows 3-4 a stray quote swallowed
    ok = _write(tmp_path / "ok.csv", ['A1,"Mug\nwith a lid",1.00', "A2,Cup,2.00"])
    bad = _write(
        tmp_path / "bad.csv",
        ["A0,Plate,0.50", 'A1,"Mug,1.00', "A2,Cup,2.00", "A3,Jug,3.00", 'A4,Tray",4.00'],
    )
    mapping = {"sku": "A", "price": "C"}
    # When they are read, Then the first reads whole, the second fails naming row 2
    _, rows, _ = read_all(ok, {"header_row": 0}, mapping)
    assert [(r[0], r[1]) for r in rows] == [(1, "A1"), (2, "A2")]
    with pytest.raises(FeedFormatError, match=r"^bad\.csv: row 2 opens a quoted cell .* line 5"):
        read_all(bad, {"header_row": 0}, mapping)
