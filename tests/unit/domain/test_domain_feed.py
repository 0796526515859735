"""CsvFeed: header handling, row numbers, and rows skipped with a reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from feedsync.domain.feed import CsvFeed, RecordFeed, RowError
from feedsync.errors import FeedFormatError, MissingColumnsError, NoDataRowsError

MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty"}


def lines(text: str) -> io.StringIO:
    """What the caller hands over: a text file opened with newline=""."""
    return io.StringIO(text, newline="")


def test_reads_rows_as_tuples_with_unmapped_fields_none() -> None:
    # Given a small feed
    feed = CsvFeed(
        lines("SKU,Price,Qty,Other\n A1 ,12.99,7,x\nB2,3,0,y\n"), MAPPING, file_name="f.csv"
    )
    # When it is iterated
    rows = list(feed)
    # Then each row is (row_no, sku, barcode, price, sale, retail, cost, stock, name)
    assert rows == [
        (2, "A1", None, 1299, None, None, None, 7, None, None, None, None, None),
        (3, "B2", None, 300, None, None, None, 0, None, None, None, None, None),
    ]
    assert feed.rows_read == 2
    assert feed.row_errors == []
    feed.require_rows()  # does not raise


def test_header_with_bom_and_whitespace_is_matched() -> None:
    # Given a header with a stray BOM (file opened without utf-8-sig) and padded names
    text = "\ufeffSKU , Price ,\tQty\nA1,1.00,2\n"
    # When the feed is opened with mapping names that are also padded
    feed = CsvFeed(lines(text), {"sku": "SKU", "price": " Price", "stock": "Qty"}, file_name="f")
    # Then the columns are found and the cleaned names are exposed
    assert feed.columns == ["SKU", "Price", "Qty"]
    assert list(feed) == [(2, "A1", None, 100, None, None, None, 2, None, None, None, None, None)]


def test_utf8_sig_file_from_disk(tmp_path: Path) -> None:
    # Given a file saved by Excel as "CSV UTF-8" (with a BOM)
    path = tmp_path / "feed.csv"
    path.write_bytes("SKU,Price,Qty\r\nÄ1,1.50,3\r\n".encode("utf-8-sig"))
    # When opened the way callers do
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(CsvFeed(fh, MAPPING, file_name="feed.csv"))
    # Then the header matches and non-ASCII text survives
    assert rows == [(2, "Ä1", None, 150, None, None, None, 3, None, None, None, None, None)]


def test_missing_column_names_it_and_lists_available() -> None:
    # Given a mapping naming a column the file does not have
    text = "SKU,Cost,Qty\nA1,1,2\n"
    # When the feed is opened
    with pytest.raises(MissingColumnsError) as caught:
        CsvFeed(lines(text), MAPPING, file_name="supplier.csv")
    # Then the error names the file, the missing column and the available ones
    err = caught.value
    assert err.missing == ["Price"]
    assert err.available == ["SKU", "Cost", "Qty"]
    assert "supplier.csv" in err.message
    assert "'Price'" in err.message
    assert "'SKU', 'Cost', 'Qty'" in err.message


def test_empty_file_is_a_format_error() -> None:
    # Given an empty file, When opened, Then it is refused as having no header row
    with pytest.raises(FeedFormatError, match=r"f\.csv: the file is empty \(no header row\)"):
        CsvFeed(lines(""), MAPPING, file_name="f.csv")


def test_unknown_canonical_field_is_named() -> None:
    # Given a mapping with a field feedsync does not know
    # When the feed is opened
    with pytest.raises(FeedFormatError, match="'colour'"):
        CsvFeed(lines("SKU\nA\n"), {"sku": "SKU", "colour": "Colour"}, file_name="f")
    # Then the error names the unknown field (checked by match)


def test_header_only_then_require_rows_raises() -> None:
    # Given a file with only a header (and a trailing blank line)
    feed = CsvFeed(lines("SKU,Price,Qty\n\n"), MAPPING, file_name="f.csv")
    # When it is iterated
    assert list(feed) == []
    # Then require_rows reports that there were no data rows
    assert feed.rows_read == 0
    with pytest.raises(NoDataRowsError, match=r"f\.csv: no data rows after the header"):
        feed.require_rows()


def test_bad_price_row_is_skipped_and_recorded() -> None:
    # Given a feed whose second data row has a bad price
    text = "SKU,Price,Qty\nA1,1.00,1\nB2,abc,2\nC3,3.00,3\n"
    feed = CsvFeed(lines(text), MAPPING, file_name="f")
    # When it is iterated
    rows = list(feed)
    # Then that row is not yielded, the others are, and the error says where and why
    assert [r[1] for r in rows] == ["A1", "C3"]
    assert feed.row_errors == [RowError(3, "Price", "abc", "expected a price such as 12.99", "B2")]
    assert feed.rows_read == 3


def test_bad_stock_row_and_whitespace_only_cell() -> None:
    # Given one row with negative stock and one whose price cell is only spaces
    text = "SKU,Price,Qty\nA1,1.00,-1\nB2,  ,4\n"
    feed = CsvFeed(lines(text), MAPPING, file_name="f")
    # When iterated
    rows = list(feed)
    # Then the negative stock is an error and the blank-ish price is simply empty
    assert feed.row_errors == [RowError(2, "Qty", "-1", "stock cannot be negative", "A1")]
    assert rows == [(3, "B2", None, None, None, None, None, 4, None, None, None, None, None)]


def test_quoted_newlines_count_records_not_lines() -> None:
    # Given a record whose quoted name spans three physical lines
    text = 'SKU,Name,Price\nA1,"line one\nline two\nline three",1.00\nB2,plain,bad\n'
    feed = CsvFeed(lines(text), {"sku": "SKU", "name": "Name", "price": "Price"}, file_name="f")
    # When iterated
    rows = list(feed)
    # Then the multi-line record is row 2 and the next record is row 3 (spreadsheet rows)
    assert rows == [
        (
            2,
            "A1",
            None,
            100,
            None,
            None,
            None,
            None,
            "line one\nline two\nline three",
            None,
            None,
            None,
            None,
        )
    ]
    assert feed.row_errors[0].row_no == 3


def test_short_row_missing_a_mapped_column() -> None:
    # Given a row too short to hold the mapped Qty column, and a long row
    text = "SKU,Price,Qty\nA1,1.00\nB2,2.00,3,extra\n"
    feed = CsvFeed(lines(text), MAPPING, file_name="f")
    # When iterated
    rows = list(feed)
    # Then the short row is an error naming the cell counts; the long row still parses
    assert feed.row_errors == [RowError(2, "Qty", "", "row has 2 cells, expected 3", "A1")]
    assert rows == [(3, "B2", None, 200, None, None, None, 3, None, None, None, None, None)]
    assert feed.rows_read == 2


@pytest.mark.parametrize(
    ("mapping", "constants", "column"),
    [
        # several mapped columns, the last one past the record's end
        ({"sku": "SKU", "barcode": "UPC", "stock": "Qty"}, {}, "Qty"),
        # a single mapped column past the record's end
        ({"stock": "Qty"}, {}, "Qty"),
        # the first mapped column already past the end
        ({"stock": "Qty", "name": "Name"}, {}, "Qty"),
        # with constants (read after the cells): never taken for the missing cells
        ({"sku": "SKU", "stock": "Qty"}, {"price": "9.50", "name": "Mug"}, "Qty"),
    ],
)  # fmt: skip
def test_short_blank_and_bad_records_for_each_way_of_reading_cells(
    mapping: dict[str, str], constants: dict[str, str], column: str
) -> None:
    # Given short records (one with cells, an empty line, one of spaces only) among
    # good rows and a row with a bad stock cell
    text = "SKU,UPC,Qty,Name\nA1,1,2,x\nB2,5\n\n  ,\t\nC3,3,n/a,y\nD4,4,4,z\n"
    feed = CsvFeed(lines(text), mapping, file_name="f.csv")
    feed.use_constants(constants)
    # When read
    rows = list(feed)
    # Then the short record is reported by column, the blank ones are skipped, the bad
    # stock is reported, and the other rows parse
    assert [r[0] for r in rows] == [2, 7]
    named = "sku" in mapping  # a skipped row is named by its SKU where the file has one
    assert [r[7] for r in rows] == [2, 4]
    assert feed.row_errors == [
        RowError(3, column, "", "row has 2 cells, expected 4", "B2" if named else ""),
        RowError(
            6, "Qty", "n/a", "expected a whole number of items such as 7", "C3" if named else ""
        ),
    ]
    assert feed.rows_read == 4


def test_blank_lines_advance_row_numbers_but_are_not_rows() -> None:
    # Given blank lines inside and at the end of the data, and an all-empty-cells row
    text = "SKU,Price,Qty\nA1,1,1\n\n,,\nB2,2,2\n\n"
    feed = CsvFeed(lines(text), MAPPING, file_name="f")
    # When iterated
    rows = list(feed)
    # Then B2 keeps its spreadsheet row number and blanks are not counted or reported
    assert [(r[0], r[1]) for r in rows] == [(2, "A1"), (5, "B2")]
    assert feed.rows_read == 2
    assert feed.row_errors == []


def test_repeated_values_parse_the_same_each_time() -> None:
    # Given many rows repeating the same price and stock spellings, including zero
    text = "SKU,Price,Qty\n" + "".join(f"S{i},0.00,0\nT{i},9.90,12\n" for i in range(3))
    # When iterated
    rows = list(CsvFeed(lines(text), MAPPING, file_name="f"))
    # Then each repeat yields the same value (the memo must not change results)
    assert [(r[3], r[7]) for r in rows] == [(0, 0), (990, 12)] * 3


def test_duplicate_mapped_header_is_refused() -> None:
    # Given a header with the mapped column twice
    # When opened, Then it is a format error naming the column
    with pytest.raises(FeedFormatError, match="'Price' appears more than once"):
        CsvFeed(lines("SKU,Price,Price,Qty\n"), MAPPING, file_name="f")


def test_undecodable_bytes_become_a_format_error(tmp_path: Path) -> None:
    # Given a Latin-1 file read as UTF-8
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"SKU,Price,Qty\n" + b"A1,1.00,1\n" * 2000 + b"Caf\xe9,1.00,1\n")
    # When iterated
    with path.open(encoding="utf-8-sig", newline="") as fh:
        feed = CsvFeed(fh, MAPPING, file_name="latin1.csv")
        with pytest.raises(FeedFormatError, match=r"latin1\.csv: row"):
            list(feed)
    # Then the merchant gets a file-level error instead of a crash (checked above)


# -- RecordFeed and the CsvFeed options ----------------------------------------------


def test_record_feed_takes_any_records_with_their_row_numbers() -> None:
    # Given records from a non-CSV reader (row numbers chosen by the reader)
    records = [(10, ["A1", "1.00", "1"]), (12, ["B2", "x", "2"]), (13, ["", "", ""])]
    feed = RecordFeed(["SKU", "Price", "Qty"], iter(records), MAPPING, file_name="f.json")
    # When iterated
    rows = list(feed)
    # Then rows keep those numbers, the bad cell is recorded, the blank record is skipped
    assert rows == [(10, "A1", None, 100, None, None, None, 1, None, None, None, None, None)]
    assert feed.row_errors == [RowError(12, "Price", "x", "expected a price such as 12.99", "B2")]
    assert feed.rows_read == 2


def test_record_feed_without_header_maps_letters_and_numbers() -> None:
    # Given header-less records
    feed = RecordFeed(
        None,
        [(1, ["A1", "7", "2.50"]), (2, ["B2", "-1", "1"])],
        {"sku": "a", "stock": "2", "price": "C"},
        file_name="f",
        header_required=False,
    )
    # When iterated
    rows = list(feed)
    # Then columns are letters, and errors name the letter column
    assert feed.columns == ["A", "B", "C"]
    assert rows == [(1, "A1", None, 250, None, None, None, 7, None, None, None, None, None)]
    assert feed.row_errors == [RowError(2, "B", "-1", "stock cannot be negative", "B2")]


def test_record_feed_without_header_refuses_column_names() -> None:
    # Given no header, When a mapping uses a column name, Then it asks for a letter or number
    with pytest.raises(FeedFormatError, match=r"letter \(C\) or a number \(3\); got 'SKU'"):
        RecordFeed(None, [], {"sku": "SKU"}, file_name="f", header_required=False)


def test_record_feed_without_header_and_no_rows() -> None:
    # Given no header and no records, When iterated, Then require_rows says "no data rows"
    feed = RecordFeed(None, [], {"sku": "A"}, file_name="f", header_required=False)
    assert list(feed) == []
    with pytest.raises(NoDataRowsError, match=r"^f: no data rows$"):
        feed.require_rows()


def test_record_feed_close_runs_registered_cleanup_once() -> None:
    # Given a feed with a registered cleanup
    closed: list[str] = []
    feed = RecordFeed(["SKU"], [(2, ["A"])], {"sku": "SKU"}, file_name="f")
    feed.on_close(lambda: closed.append("x"))
    # When iterated to the end and closed again
    assert len(list(feed)) == 1
    feed.close()
    # Then the cleanup ran once
    assert closed == ["x"]


def test_csv_feed_semicolon_delimiter_and_header_on_row_three() -> None:
    # Given a preamble and a semicolon header on row 3
    text = "Supplier;list\n\nSKU;Price;Qty\nA1;1,00 is bad;1\nB2;2.00;2\n"
    # When read with delimiter=";" and header_row=3
    feed = CsvFeed(lines(text), MAPPING, file_name="f", delimiter=";", header_row=3)
    rows = list(feed)
    # Then spreadsheet row numbers continue from the header's row
    assert rows == [(5, "B2", None, 200, None, None, None, 2, None, None, None, None, None)]
    assert feed.row_errors[0].row_no == 4


def test_csv_feed_header_row_past_the_end_and_blank_header() -> None:
    # Given a file shorter than header_row, and one whose header row is blank
    with pytest.raises(FeedFormatError, match="fewer than 5 rows; expected the header on row 5"):
        CsvFeed(lines("a\nb\n"), MAPPING, file_name="f", header_row=5)
    with pytest.raises(FeedFormatError, match="row 2 is empty; expected a header row"):
        CsvFeed(lines("title\n,,\nSKU\n"), MAPPING, file_name="f", header_row=2)


def test_csv_feed_without_header() -> None:
    # Given a header-less CSV, When read with header_row=0 and letter mapping
    feed = CsvFeed(
        lines("A1,3.00,4\n"), {"sku": "A", "price": "B", "stock": "C"}, file_name="f", header_row=0
    )
    # Then the first line is data row 1
    assert list(feed) == [(1, "A1", None, 300, None, None, None, 4, None, None, None, None, None)]
    assert not feed.has_header


@pytest.mark.parametrize(
    ("mapping", "constants", "expected"),
    [
        # one mapped field
        ({"sku": "SKU"}, {}, (2, "A", None, None, None, None, None, None, None, None,
                              None, None, None)),
        # a constant and a mapped column at the far end of the record
        ({"sku": "SKU", "stock": "Qty"}, {"price": "9.50"},
         (2, "A", None, 950, None, None, None, 7, None, None, None, None, None)),
        # every kind of field
        ({"sku": "SKU", "barcode": "UPC", "price": "Price", "stock": "Qty", "name": "Name",
          "weight": "Kg"}, {"brand": "Acme"},
         (2, "A", "0012", 1250, None, None, None, 7, "Mug", None, "Acme", "0.25", None)),
    ],
)  # fmt: skip
def test_the_row_loop_built_for_each_mapping_reads_the_same_rows(
    mapping: dict[str, str], constants: dict[str, str], expected: tuple[object, ...]
) -> None:
    # Given a file and a mapping (each mapping gets its own generated row loop)
    text = "SKU,UPC,Price,Name,Kg,Qty\nA , 0012,12.50, Mug ,0.25,7\n,,,,,\nB,,oops,,,1\n"
    feed = CsvFeed(io.StringIO(text, newline=""), mapping, file_name="f.csv")
    feed.use_constants(constants)
    # When read
    rows = list(feed)
    # Then the first row parses, the blank line is skipped, a bad price is reported
    assert rows[0] == expected
    bad_price = "price" in mapping
    assert len(rows) == (1 if bad_price else 2) and feed.rows_read == 2
    assert [e.row_no for e in feed.row_errors] == ([4] if bad_price else [])


MONEY_HINT = "expected a price such as 12.99"


@pytest.mark.parametrize(
    ("cell", "cents", "error"),
    [
        # the 12.99 shape the row loop reads without calling parse_money
        ("12.99", 1299, None),
        ("0.05", 5, None),
        (".99", 99, None),
        ("007.50", 750, None),
        # other spellings parse_money accepts
        ("12.5", 1250, None),
        ("12", 1200, None),
        ("12.", 1200, None),
        (" 12.99 ", 1299, None),
        ("1,234.56", 123456, None),
        ("12.990", 1299, None),
        ("+1.00", 100, None),
        ("$12.99", 1299, None),
        # near misses of the 12.99 shape: the same errors as before
        ("1.2.34", None, MONEY_HINT),
        ("1_2.34", None, MONEY_HINT),
        ("1 2.34", None, MONEY_HINT),
        ("\u0661\u0662.\u0663\u0664", None, MONEY_HINT),  # Arabic-Indic digits
        ("12.9x", None, MONEY_HINT),
        ("12.999", None, f"{MONEY_HINT} (at most 2 decimal places)"),
        ("-1.00", None, "a price cannot be negative"),
        (
            "12,99",
            None,
            f"{MONEY_HINT} (a decimal comma: if the file writes amounts as 12,50, "
            'set format.decimal_separator: "," in the profile)',
        ),
    ],
)
def test_price_cells_read_exactly_as_parse_money_reads_them(
    cell: str, cents: int | None, error: str | None
) -> None:
    # Given a price cell in the common 12.99 shape, another accepted spelling, or a near miss
    text = f'SKU,Price,Qty\nA1,"{cell}",1\n'
    feed = CsvFeed(lines(text), MAPPING, file_name="f.csv")
    # When read
    rows = list(feed)
    # Then the price is parse_money's, or the row is skipped with parse_money's message
    if error is None:
        assert rows == [(2, "A1", None, cents, None, None, None, 1, None, None, None, None, None)]
        assert feed.row_errors == []
    else:
        assert rows == []
        assert feed.row_errors == [RowError(2, "Price", cell, error, "A1")]
    assert feed.rows_read == 1


def test_several_money_fields_in_one_row_each_keep_their_value() -> None:
    # Given a row with a price, a sale price and a cost in the 12.99 shape, and one not
    text = "SKU,Price,Sale,Cost\nA1,12.99,9.50,4.1\nB2,1.00,bad,0.99\n"
    mapping = {"sku": "SKU", "price": "Price", "sale_price": "Sale", "cost_price": "Cost"}
    feed = CsvFeed(lines(text), mapping, file_name="f.csv")
    # When read
    rows = list(feed)
    # Then each field has its own value, and the bad sale price is reported on its row
    assert rows == [(2, "A1", None, 1299, 950, None, 410, None, None, None, None, None, None)]
    assert feed.row_errors == [RowError(3, "Sale", "bad", MONEY_HINT, "B2")]
    assert feed.rows_read == 2


@pytest.mark.parametrize(
    ("cell", "weight", "error"),
    [
        ("0.25", "0.25", None),
        (" 1 ", "1", None),
        ("0,5", "0.5", None),  # a decimal comma
        (".75", ".75", None),
        ("1e3", None, "a plain number, no unit"),  # WooCommerce would keep "1e3" as text
        ("1_000", None, "a plain number, no unit"),
        ("2 kg", None, "a plain number, no unit"),
        ("inf", None, "a plain number, no unit"),
        ("-1", None, "weight must be a number >= 0"),
        ("\u0661\u0662", None, "a plain number, no unit"),  # not ASCII digits
    ],
)
def test_a_weight_is_a_plain_number(cell: str, weight: str | None, error: str | None) -> None:
    # Given a feed with a weight column
    text = f'SKU,Kg\nA,"{cell}"\n'
    feed = CsvFeed(lines(text), {"sku": "SKU", "weight": "Kg"}, file_name="f.csv")
    # When read
    rows = list(feed)
    # Then a plain number is the weight (with a dot), anything else skips the row with why
    if error is None:
        assert rows[0][11] == weight and not feed.row_errors
    else:
        assert rows == [] and feed.row_errors[0].column == "Kg"
        assert error in feed.row_errors[0].message and feed.row_errors[0].value == cell


@pytest.mark.parametrize(
    ("cell", "ok"),
    [
        ("https://supplier.example/img/a.jpg", True),
        (" http://cdn.example/b.png ", True),
        ("ftp://files.example/a.jpg", False),
        ("/img/a.jpg", False),
        ("www.example.com/a.jpg", False),
        ("https:///a.jpg", False),
        ("https://exa mple.com/a.jpg", False),
        ("javascript:alert(1)", False),
        ("http://[::1/a.jpg", False),
    ],
)
def test_an_image_url_must_be_one_the_store_can_download(cell: str, ok: bool) -> None:
    # Given a feed with an image column
    feed = CsvFeed(lines(f'SKU,Img\nA,"{cell}"\n'), {"sku": "SKU", "image_url": "Img"},
                   file_name="f.csv")  # fmt: skip
    # When read
    rows = list(feed)
    # Then an absolute http(s) URL is kept (trimmed); anything else skips the row with why
    if ok:
        assert rows[0][12] == cell.strip() and not feed.row_errors
    else:
        assert rows == [] and "http:// or https://" in feed.row_errors[0].message
