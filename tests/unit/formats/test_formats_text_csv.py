"""Delimited text through open_feed: encodings, BOMs, delimiters, header position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from formats_support import read_all

from feedsync.domain.rules import compile_rules
from feedsync.errors import FeedFormatError, MissingColumnsError, NoDataRowsError
from feedsync.formats import open_feed
from feedsync.formats.text import UTF8_PIECE, sniff_delimiter

MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty", "name": "Name"}


def run(path: Path, fmt: dict[str, Any] | None = None, mapping: dict[str, str] | None = None):
    return read_all(path, fmt, mapping or MAPPING)


TEXT = "SKU,Price,Qty,Name\r\nA1,1.50,3,Café crème\r\nB2,2,0,Ünïcødé “quoted”\r\n"
EXPECTED = [
    (2, "A1", None, 150, None, None, None, 3, "Café crème", None, None, None, None),
    (3, "B2", None, 200, None, None, None, 0, "Ünïcødé “quoted”", None, None, None, None),
]


@pytest.mark.parametrize(
    ("label", "data", "encoding", "bom"),
    [
        ("utf-8", TEXT.encode("utf-8"), "utf-8", False),
        ("utf-8 BOM", TEXT.encode("utf-8-sig"), "utf-8", True),
        ("utf-16 LE BOM", b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16-le", True),
        ("utf-16 BE BOM", b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16-be", True),
        ("windows-1252", TEXT.encode("cp1252"), "cp1252", False),
    ],
)
def test_each_encoding_reads_the_same_rows(
    tmp_path: Path, label: str, data: bytes, encoding: str, bom: bool
) -> None:
    # Given the same feed saved in one encoding
    path = tmp_path / "feed.csv"
    path.write_bytes(data)
    # When it is opened with the format left to detection
    _, rows, info = run(path)
    # Then the rows are identical, and the encoding (and BOM) is recorded
    assert rows == EXPECTED, label
    assert (info["encoding"], info["bom"]) == (encoding, bom)
    assert info["type"] == "csv" and info["detected"] is True


def test_latin1_only_bytes_fall_back_to_latin1(tmp_path: Path) -> None:
    # Given a file with a byte Windows-1252 leaves undefined (0x81)
    path = tmp_path / "feed.csv"
    path.write_bytes(b"SKU,Price,Qty,Name\nA1,1,1,x\x81y\n")
    # When opened, Then it is read as Latin-1 rather than failing
    _, rows, info = run(path)
    assert info["encoding"] == "latin-1"
    assert rows[0][8] == "x\x81y"


def test_cp1252_late_in_the_file_is_never_mojibake(tmp_path: Path) -> None:
    # Given a big UTF-8-looking file whose only non-ASCII byte is near the end (cp1252 é)
    path = tmp_path / "late.csv"
    path.write_bytes(b"SKU,Price,Qty,Name\n" + b"A,1,1,plain\n" * 200_000 + b"Z,1,1,Caf\xe9\n")
    # When opened with detection
    _, rows, info = run(path)
    # Then the whole file is decoded as cp1252 and the last row reads correctly
    assert info["encoding"] == "cp1252"
    assert rows[-1][8] == "Café"
    assert len(rows) == 200_001


def test_character_split_between_pieces_of_the_utf8_check_is_utf8(tmp_path: Path) -> None:
    # Given a UTF-8 file whose é (C3 A9) is cut in two by the end of the first piece of
    # the UTF-8 check, followed by more than a whole piece of ASCII rows
    first = b"SKU,Price,Qty,Name\nA1,1,1,".ljust(UTF8_PIECE - 1, b"x") + b"\xc3"
    path = tmp_path / "feed.csv"
    path.write_bytes(first + b"\xa9\n" + b"B2,2,2,plain\n" * (UTF8_PIECE // 10))
    # When opened with detection
    _, rows, info = run(path)
    # Then it is read as UTF-8 and the character is whole
    assert info["encoding"] == "utf-8"
    assert rows[0][8] == "x" * (len(rows[0][8]) - 1) + "é"
    assert len(rows) == 1 + UTF8_PIECE // 10


def test_bytes_of_a_character_a_whole_ascii_piece_apart_are_not_utf8(tmp_path: Path) -> None:
    # Given a lead byte (C3) ending the first piece of the UTF-8 check, then a whole
    # piece of ASCII (which the check skips), then a continuation byte (A9)
    first = b"SKU,Price,Qty,Name\nA1,1,1,".ljust(UTF8_PIECE - 1, b"x") + b"\xc3"
    middle = b"\nB2,2,2,".ljust(UTF8_PIECE, b"y")
    path = tmp_path / "feed.csv"
    path.write_bytes(first + middle + b"\xa9\n")
    # When opened with detection
    _, rows, info = run(path)
    # Then the two bytes are not taken for one é: the file is Windows-1252
    assert info["encoding"] == "cp1252"
    assert [r[8][-1] for r in rows] == ["Ã", "©"]


def test_explicit_wrong_encoding_is_a_format_error_not_mojibake(tmp_path: Path) -> None:
    # Given a cp1252 file but a profile that insists on UTF-8
    path = tmp_path / "feed.csv"
    path.write_bytes(b"SKU,Price,Qty,Name\n" + b"A,1,1,a\n" * 3000 + b"Z,1,1,Caf\xe9\n")
    feed, _ = open_feed(str(path), "feed.csv", {"encoding": "utf-8"}, MAPPING, work_dir=".")
    # When iterated, Then the undecodable part is a file-level error naming the file
    with pytest.raises(FeedFormatError, match=r"feed\.csv: row \d+ cannot be read"):
        list(feed)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_each_delimiter_is_sniffed(tmp_path: Path, delim: str) -> None:
    # Given a feed using one delimiter, with the other candidates inside quoted cells
    others = "".join(d for d in ",;\t|" if d != delim)
    text = delim.join(["SKU", "Price", "Qty", "Name"]) + "\n"
    text += delim.join(["A1", "1.00", "1", f'"odd {others} name"']) + "\n"
    text += delim.join(["B2", "2.00", "2", "plain"]) + "\n"
    path = tmp_path / "feed.txt"
    path.write_text(text, encoding="utf-8")
    # When opened without a delimiter
    _, rows, info = run(path)
    # Then the delimiter is found and recorded
    assert info["delimiter"] == delim
    assert [r[8] for r in rows] == [f"odd {others} name", "plain"]


def test_semicolon_file_with_decimal_commas_is_not_taken_for_commas() -> None:
    # Given a European export: semicolons, comma decimals and commas in names
    sample = "SKU;Name;Price\nA;Red, large;1,50\nB;Blue, small;2,50\nC;Green;3,00\n"
    # When sniffed, Then the semicolon wins
    assert sniff_delimiter(sample, complete=True) == ";"


def test_delimiter_override_and_alias(tmp_path: Path) -> None:
    # Given a tab file whose cells contain commas in every row
    path = tmp_path / "feed.tsv"
    path.write_text("SKU\tPrice\tQty\tName\nA1\t1\t1\ta,b,c,d,e\n", encoding="utf-8")
    # When the profile says "tab"
    _, rows, info = run(path, {"delimiter": "tab"})
    # Then it is used as given
    assert info["delimiter"] == "\t"
    assert rows[0][8] == "a,b,c,d,e"


def test_quoted_newlines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    # Given quoted cells spanning lines, in a semicolon file
    path = tmp_path / "feed.csv"
    path.write_text('SKU;Price;Qty;Name\nA1;1;1;"one\ntwo"\nB2;x;2;b\n', encoding="utf-8")
    # When opened
    feed, rows, _ = run(path)
    # Then the multi-line cell survives and the next record is row 3
    assert rows == [(2, "A1", None, 100, None, None, None, 1, "one\ntwo", None, None, None, None)]
    assert feed.row_errors[0].row_no == 3


def test_header_not_on_row_one(tmp_path: Path) -> None:
    # Given a supplier preamble of two lines before the header on row 3
    path = tmp_path / "feed.csv"
    path.write_text(
        "Price list 2024\nGenerated by ERP\nSKU,Price,Qty,Name\nA1,1,1,a\n", encoding="utf-8"
    )
    # When the profile sets header_row=3
    _, rows, info = run(path, {"header_row": 3})
    # Then the data row keeps its spreadsheet number (4)
    assert rows == [(4, "A1", None, 100, None, None, None, 1, "a", None, None, None, None)]
    assert info["header_row"] == 3


def test_no_header_columns_by_letter_and_number(tmp_path: Path) -> None:
    # Given a header-less file
    path = tmp_path / "feed.csv"
    path.write_text("A1,9.99,5,First\nB2,1.00,0,Second\n", encoding="utf-8")
    # When mapped by letter and by 1-based number with header_row=0
    feed, rows, _ = run(path, {"header_row": 0}, {"sku": "A", "price": "2", "stock": "c"})
    # Then every line is data, numbered from 1, and columns are named by letter
    assert rows == [
        (1, "A1", None, 999, None, None, None, 5, None, None, None, None, None),
        (2, "B2", None, 100, None, None, None, 0, None, None, None, None, None),
    ]
    assert feed.columns == ["A", "B", "C", "D"]


def test_no_header_letter_beyond_the_file_is_a_missing_column(tmp_path: Path) -> None:
    # Given a 2-column header-less file and a mapping to column E
    path = tmp_path / "feed.csv"
    path.write_text("A1,1\n", encoding="utf-8")
    # When opened, Then the missing column is named with the file's columns
    with pytest.raises(MissingColumnsError) as caught:
        run(path, {"header_row": 0}, {"sku": "A", "price": "E"})
    assert caught.value.missing == ["E"] and caught.value.available == ["A", "B"]


def test_empty_file_and_bom_only_file(tmp_path: Path) -> None:
    # Given a zero-byte file and a file holding only a BOM and a newline
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf\r\n")
    # When opened, Then each is "the file is empty"
    for path in (empty, bom):
        with pytest.raises(FeedFormatError, match=rf"{path.name}: the file is empty"):
            run(path)


def test_header_only_fails_with_no_data_rows(tmp_path: Path) -> None:
    # Given a file with only the header
    path = tmp_path / "feed.csv"
    path.write_text("SKU,Price,Qty,Name\n", encoding="utf-8")
    # When read to the end
    feed, rows, _ = run(path)
    # Then there are no rows and require_rows fails the run
    assert rows == []
    with pytest.raises(NoDataRowsError, match=r"feed\.csv: no data rows after the header"):
        feed.require_rows()


def test_missing_column_fails_before_any_row(tmp_path: Path) -> None:
    # Given a file without the mapped Qty column (and a BOM + padded header)
    path = tmp_path / "feed.csv"
    path.write_bytes("\ufeff SKU ;Price;Name\nA;1;x\n".encode())
    # When opened, Then the error names the column and lists the file's columns
    with pytest.raises(MissingColumnsError, match="'Qty'") as caught:
        run(path)
    assert caught.value.available == ["SKU", "Price", "Name"]


def test_unknown_type_is_refused(tmp_path: Path) -> None:
    # Given a profile with a type feedsync does not know
    path = tmp_path / "feed.csv"
    path.write_text("SKU\nA\n", encoding="utf-8")
    # When opened, Then it says which types exist
    with pytest.raises(FeedFormatError, match="unknown format type 'pdf'"):
        run(path, {"type": "pdf"})


def test_files_are_released_after_iteration(tmp_path: Path) -> None:
    # Given an opened feed
    path = tmp_path / "feed.csv"
    path.write_text("SKU,Price,Qty,Name\nA,1,1,a\n", encoding="utf-8")
    feed, _ = open_feed(str(path), "feed.csv", {}, MAPPING, work_dir=str(tmp_path))
    fh = feed._closers  # the registered cleanup
    assert fh
    # When iterated to the end, Then the cleanup has run (and close() is idempotent)
    list(feed)
    assert feed._closers == []
    feed.close()


def test_a_declared_decimal_comma_reads_prices_stock_and_constants(tmp_path: Path) -> None:
    # Given a semicolon file with decimal commas, declared in the format, and a constant
    # sale price (the profile's own text, written with a dot like every setting)
    path = tmp_path / "preise.csv"
    path.write_text("SKU;Price;Qty;Name\nA1;12,50;1.200;a\nB2;12.50;3;b\nC3;1.234,5;4;c\n", "utf-8")
    feed, info = open_feed(
        str(path), path.name, {"decimal_separator": ","}, MAPPING, work_dir=str(tmp_path)
    )
    feed.use_constants({"sale_price": "9.99"})
    # When read
    with feed:
        rows = list(feed)
    # Then amounts and stock are read in the file's spelling, and "12.50" (which a
    # dot-decimal file would mean) is skipped rather than read as 1250.00
    assert [(r[1], r[3], r[4], r[7]) for r in rows] == [
        ("A1", 1250, 999, 1200),
        ("C3", 123450, 999, 4),
    ]
    assert [(e.row_no, e.column, e.value) for e in feed.row_errors] == [(3, "Price", "12.50")]
    assert info["decimal_separator"] == ","


def test_a_decimal_comma_is_refused_where_cells_hold_numbers(tmp_path: Path) -> None:
    # Given a JSON feed (its numbers carry no separator of their own spelling)
    path = tmp_path / "feed.json"
    path.write_text('[{"SKU": "A1", "Price": 12.5, "Qty": 1, "Name": "x"}]', "utf-8")
    # When it is opened with a decimal comma, Then the profile's setting is refused by name
    with pytest.raises(FeedFormatError, match="decimal comma can only be set for CSV and XML"):
        open_feed(str(path), path.name, {"decimal_separator": ","}, MAPPING, work_dir=".")
    # And an unknown separator is named
    with pytest.raises(FeedFormatError, match="'decimal_separator' must be"):
        open_feed(str(path), path.name, {"decimal_separator": ";"}, MAPPING, work_dir=".")
    # And without it the file reads, recording the dot
    _, rows, info = run(path)
    assert rows[0][3] == 1250 and info["decimal_separator"] == "."


def test_a_decimal_comma_file_keeps_stock_words_as_written(tmp_path: Path) -> None:
    # Given a German file with decimal commas whose stock column holds words with dots
    path = tmp_path / "lager.csv"
    path.write_text("SKU;Price;Qty;Name\nA1;1,50;n.v.;a\nB2;2,00;1.000;b\n", "utf-8")
    feed, _ = open_feed(
        str(path), path.name, {"decimal_separator": ","}, MAPPING, work_dir=str(tmp_path)
    )
    # And stock rules mapping "n.v." (nicht verfuegbar) to 0
    feed.use_rules(compile_rules({"stock_rules": {"text": {"n.v.": 0}}}))
    # When read, Then the word is looked up as written and the number read with its dots
    with feed:
        rows = list(feed)
    assert [(r[1], r[3], r[7]) for r in rows] == [("A1", 150, 0), ("B2", 200, 1000)]
    assert feed.row_errors == []
