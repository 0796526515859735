"""runlog: the lines merchants read in the downloadable per-row log."""

from __future__ import annotations

from feedsync.domain.feed import RowError
from feedsync.domain.runlog import LOG_HEADER, format_changes, outcome_log_row, row_error_log_row


def test_format_changes_uses_money_and_empty_spellings() -> None:
    # Given a price change, a stock change, and a previously empty sale price
    changes = (("price", 1299, 1349), ("stock", 4, 7), ("sale_price", None, 999))
    # When formatted
    text = format_changes(changes)
    # Then money reads as 12.99, stock as a count, and None as (empty)
    assert text == "price: 12.99 -> 13.49; stock: 4 -> 7; sale_price: (empty) -> 9.99"


def test_outcome_log_row_matches_header() -> None:
    # Given a changed outcome
    out = (5, "A1", "changed", 10, 20, (("price", 100, 150),), "")
    # When turned into a log row
    line = outcome_log_row(out)
    # Then it lines up with LOG_HEADER as text
    assert dict(zip(LOG_HEADER, line, strict=True)) == {
        "row": "5", "key": "A1", "product_id": "10", "variant_id": "20",
        "status": "changed", "changes": "price: 1.00 -> 1.50", "error": "", "file_key": "",
    }  # fmt: skip


def test_not_matched_outcome_has_blank_ids() -> None:
    # Given a row error without a key, When logged, Then ids and key are blank
    line = outcome_log_row((3, None, "row_error", None, None, (), "no SKU"))
    assert line == ("3", "", "", "", "row_error", "", "no SKU", "")


def test_row_error_log_row_names_column_and_value() -> None:
    # Given a parse error for a bad price cell on the row of SKU A-7
    err = RowError(7, "Price", "abc", "expected a price such as 12.99", "A-7")
    # When logged
    line = row_error_log_row(err)
    # Then the line names the row's SKU, and the error the column, the cell and what was
    # expected
    assert line == (
        "7", "A-7", "", "", "row_error", "",
        "column 'Price': 'abc' — expected a price such as 12.99", "",
    )  # fmt: skip


def test_supplier_text_cannot_become_a_spreadsheet_formula() -> None:
    # Given a key that a spreadsheet would run as a formula
    line = outcome_log_row((2, "=HYPERLINK(1)", "not_found", None, None, (), ""))
    # When logged, Then it is neutralised with a leading quote
    assert line[1] == "'=HYPERLINK(1)"


def test_a_products_visibility_reads_in_words_held_back_included() -> None:
    # Given a product hidden, and one the store holds in a state of the merchant's own
    # (None: a draft or archived product; e.g. a revert found it so and did not send)
    # Then the log says so in words
    assert format_changes([("visible", True, False)]) == "visible: shown -> hidden"
    assert format_changes([("visible", None, True)]) == (
        "visible: held back by the merchant (or not known) -> shown"
    )


def test_a_reshaped_key_is_logged_with_the_files_key_beside_it() -> None:
    # Given a row matched on the store's key ACME-12345, made from the file's 12345
    out = (4, "ACME-12345", "changed", 10, 20, (("stock", 1, 5),), "")
    # When logged with the file's key
    line = dict(zip(LOG_HEADER, outcome_log_row(out, "12345"), strict=True))
    # Then the log shows both keys
    assert (line["key"], line["file_key"]) == ("ACME-12345", "12345")
