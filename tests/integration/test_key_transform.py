"""Issue 17, keys the merchant reshaped: a store that prefixes every SKU (``ACME-<code>``)
and a supplier file listing the bare codes, through the real state machine on the local
stack (BigCommerce double)."""

from __future__ import annotations

import csv
import io

from integration_harness import Harness, Shop, simple_product

from feedsync.core import api
from feedsync.domain.runlog import LOG_HEADER
from feedsync.models import Run

CODES = ("10001", "10002", "10003", "10004")
# The supplier's file: the bare codes, a new price for one and new stock for all
FEED = "SKU,Price,Qty\n10001,12.50,7\n10002,20.00,8\n10003,30.00,9\n10004,40.00,10\n"


def _shop(h: Harness) -> Shop:
    """A store whose every SKU is the supplier's code under the merchant's prefix."""
    return h.shop(
        [
            simple_product(f"Item {code}", f"ACME-{code}", f"{n}0.00", 1)
            for n, code in enumerate(CODES, start=1)
        ]
    )


def _log(h: Harness, run: Run) -> dict[int, dict[str, str]]:
    assert run.log_key, "a finished run has a log"
    lines = list(csv.reader(io.StringIO(h.deps.blobs.get_bytes(run.log_key).decode("utf-8"))))
    assert tuple(lines[0]) == LOG_HEADER
    return {int(r[0]): dict(zip(LOG_HEADER, r, strict=True)) for r in lines[1:]}


def test_a_prefix_matches_a_store_that_prefixes_every_sku(h: Harness) -> None:
    # Given a store holding ACME-10001..ACME-10004, and a file listing 10001..10004
    shop = _shop(h)
    profile = h.url_profile(shop, FEED, key_transform={"prefix": "ACME-"})
    # When the profile runs with key_transform {"prefix": "ACME-"}
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then every row matched its prefixed item, and the store holds the file's values
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 4 and run.counts["not_found"] == 0, run.counts
    assert h.store_values(shop) == {
        "ACME-10001": (1250, 7),
        "ACME-10002": (2000, 8),
        "ACME-10003": (3000, 9),
        "ACME-10004": (4000, 10),
    }
    # ... the log shows the store's key and the file's beside it
    log = _log(h, run)
    assert [(log[n]["key"], log[n]["file_key"], log[n]["status"]) for n in (2, 5)] == [
        ("ACME-10001", "10001", "updated"),
        ("ACME-10004", "10004", "updated"),
    ]
    # ... and so do the run's changes
    changes, _ = api.run_changes(h.deps, shop.tenant, run.run_id)
    first = changes[0]
    assert (first["key"], first["file_key"], first["field"], first["status"]) == (
        "ACME-10001",
        "10001",
        "price",
        "updated",
    )
    assert {c["file_key"] for c in changes} == set(CODES)


def test_without_the_prefix_no_row_is_found(h: Harness) -> None:
    # Given the same store and file, and a profile without a key transform
    shop = _shop(h)
    profile = h.url_profile(shop, FEED)
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then no row matches, nothing is written, and the log has no file keys
    assert run.status == "succeeded", run.error
    assert run.counts["not_found"] == 4 and run.counts["matched"] == 0, run.counts
    assert h.puts_to(shop) == []
    log = _log(h, run)
    assert [(line["key"], line["file_key"], line["status"]) for line in log.values()] == [
        (code, "", "not_found") for code in CODES
    ]


def test_a_template_keys_rows_by_two_columns_and_refuses_a_row_missing_one(h: Harness) -> None:
    # Given the same store, and a file with the prefix in a column of its own, one row
    # without it
    shop = _shop(h)
    feed = "Maker,SKU,Price,Qty\nACME,10001,12.50,7\n,10002,20.00,8\nACME,10003,30.00,9\n"
    profile = h.url_profile(shop, feed, key_transform={"template": "{Maker}-{SKU}"})
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the rows with both columns matched and were written; the other is a row error
    # naming its row, the empty column and the file's key
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 2 and run.counts["row_errors"] == 1, run.counts
    values = h.store_values(shop)
    assert (values["ACME-10001"], values["ACME-10002"], values["ACME-10003"]) == (
        (1250, 7),
        (2000, 1),
        (3000, 9),
    )
    log = _log(h, run)
    assert (log[3]["status"], log[3]["key"]) == ("row_error", "10002")
    assert log[3]["error"] == (
        "column 'Maker': empty, and key_transform's template {Maker}-{SKU} needs it for the SKU"
    )
    assert (log[4]["key"], log[4]["file_key"]) == ("ACME-10003", "10003")
