"""Issue 14: barcodes compare as GTIN-14, through the real state machine on the local
stack. The store (BigCommerce double) holds one UPC-A as 12 digits and one GTIN as 14;
feeds spell them as a spreadsheet (numbers, zero dropped) and suppliers do."""

from __future__ import annotations

import csv
import io
from typing import Any

from integration_harness import Harness, Shop, simple_product

from feedsync.core.catalog_store import load_catalog
from feedsync.domain.runlog import LOG_HEADER
from feedsync.models import Run

STORE = [
    {**simple_product("Kettle", "KETTLE-1", "30.00", 1), "upc": "084500001002"},
    {**simple_product("Toaster", "TOAST-1", "40.00", 2), "gtin": "00012345678905"},
]


def _log(h: Harness, run: Run) -> dict[int, dict[str, str]]:
    assert run.log_key, "a finished run has a log"
    lines = list(csv.reader(io.StringIO(h.deps.blobs.get_bytes(run.log_key).decode("utf-8"))))
    assert tuple(lines[0]) == LOG_HEADER
    return {int(r[0]): dict(zip(LOG_HEADER, r, strict=True)) for r in lines[1:]}


def _run(h: Harness, shop: Shop, name: str, data: bytes, column: str, **rules: Any) -> Run:
    url = h.feed_url(data, name=name)
    profile = h.profile(
        shop,
        {"type": "url", "url": url},
        mapping={"barcode": column, "stock": "Qty"},
        match_by="barcode",
        fields=["stock"],
        **({"rules": rules} if rules else {}),
    )
    return h.run_to_end(shop.tenant, profile.profile_id)


def test_the_imported_index_holds_the_store_codes_as_gtin_14_keys(h: Harness) -> None:
    # Given a store holding a UPC-A as 12 digits and a GTIN as 14
    # When its catalog is imported (no run yet)
    shop = h.shop(STORE)
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None
    index = load_catalog(h.deps, store)
    # Then the saved index finds both by their GTIN-14
    assert sorted(index.by_barcode) == ["00012345678905", "00084500001002"]


def test_an_xlsx_with_11_digit_upc_numbers_matches_12_and_14_digit_store_codes(
    h: Harness,
) -> None:
    # Given a store holding a UPC-A as 12 digits and a GTIN as 14, and an Excel sheet whose
    # barcode cells are numbers (the leading zeros gone: 11 digits), plus one whose check
    # digit is wrong
    from openpyxl import Workbook

    shop = h.shop(STORE)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["UPC", "Qty"])
    sheet.append([84500001002, 7])
    sheet.append([12345678905, 8])
    sheet.append([84500001005, 9])
    raw = io.BytesIO()
    book.save(raw)
    # When it runs, matched by barcode
    run = _run(h, shop, "stock.xlsx", raw.getvalue(), "UPC")
    # Then both store items got their stock, whatever the number of digits on either side
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 2 and run.counts["row_errors"] == 1, run.counts
    assert h.store_values(shop) == {"KETTLE-1": (3000, 7), "TOAST-1": (4000, 8)}
    # ... the log names each matched item by its GTIN-14
    log = _log(h, run)
    assert (log[2]["status"], log[2]["key"]) == ("updated", "00084500001002")
    assert (log[3]["status"], log[3]["key"]) == ("updated", "00012345678905")
    # ... and the bad code is a row error naming row, column and the code as the file had it
    assert log[4]["status"] == "row_error"
    assert log[4]["error"].startswith("column 'UPC': ")
    assert "barcode '84500001005' fails the GTIN-12 check digit" in log[4]["error"]
    assert "(read as 084500001005, expected 2)" in log[4]["error"]


def test_a_csv_with_12_13_and_14_digit_spellings_matches_the_same_items(h: Harness) -> None:
    # Given the same store, and a CSV spelling the UPC-A with 13 and then 12 digits, the
    # 14-digit GTIN with 12, and a 13-digit code whose padded check digit is wrong
    shop = h.shop(STORE)
    text = "EAN,Qty\n0084500001002,4\n012345678905,5\n084500001002,6\n0012345678900,1\n"
    # When it runs, matched by barcode
    run = _run(h, shop, "stock.csv", text.encode(), "EAN")
    # Then the first spelling of each item wrote it; the second spelling of the UPC-A is
    # the same item (a duplicate, never a second write)
    assert run.status == "succeeded", run.error
    assert h.store_values(shop) == {"KETTLE-1": (3000, 4), "TOAST-1": (4000, 5)}
    log = _log(h, run)
    assert [log[n]["status"] for n in (2, 3, 4, 5)] == [
        "updated", "updated", "duplicate", "row_error",
    ]  # fmt: skip
    assert (log[4]["variant_id"], log[4]["error"]) == (log[2]["variant_id"], "same item as row 2")
    assert log[5]["error"] == (
        "column 'EAN': '0012345678900' — "
        "barcode '0012345678900' fails the GTIN-13 check digit (expected 5)"
    )


def test_internal_codes_match_as_written_with_validation_off(h: Harness) -> None:
    # Given a store whose items carry internal codes, and validate_barcodes off
    shop = h.shop(
        [
            {**simple_product("Bolt", "BOLT-1", "1.00", 1), "upc": "INT-0042"},
            {**simple_product("Nut", "NUT-1", "0.50", 1), "upc": "0042"},
            {**simple_product("Kettle", "KETTLE-1", "30.00", 1), "upc": "084500001002"},
        ]
    )
    text = "Code,Qty\nINT-0042,10\n0042,20\n84500001002,30\n"
    # When a file with the same internal codes (and a GTIN that lost its zero) runs
    run = _run(h, shop, "codes.csv", text.encode(), "Code", validate_barcodes=False)
    # Then every row found its own item
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 3 and run.counts["row_errors"] == 0, run.counts
    assert h.store_values(shop) == {
        "BOLT-1": (100, 10), "NUT-1": (50, 20), "KETTLE-1": (3000, 30),
    }  # fmt: skip
