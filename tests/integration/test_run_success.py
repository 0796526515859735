"""A URL-source run end to end: the real ASL on moto, the real handlers, the sandbox store."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests
from integration_harness import PHASES, Harness, simple_product

from feedsync.core import api
from feedsync.core.catalog_store import apply_to_catalog, load_catalog
from feedsync.domain.fields import VARIANT_POS
from feedsync.domain.runlog import LOG_HEADER

STORE = [
    simple_product("Tee A", "SKU-A", "10.00", 5),  # price and stock change
    simple_product("Tee B", "SKU-B", "9.99", 3),  # unchanged
    simple_product("Tee C", "SKU-C", "20.00", 0),  # stock changes
    simple_product("Tee D", "SKU-D", "5.00", 1),  # price changes by one cent
    simple_product("Tee E", "SKU-E", "3.00", 2),  # its row is unreadable: untouched
]
FEED = (
    "SKU,Price,Qty\r\n"
    "SKU-A,12.50,7\r\n"  # row 2
    "SKU-B,9.99,3\r\n"  # row 3
    "SKU-C,20.00,15\r\n"  # row 4
    "SKU-D,4.99,1\r\n"  # row 5
    "NOPE-1,1.00,1\r\n"  # row 6: not in the store
    "SKU-B,8.00,1\r\n"  # row 7: same variant as row 3
    "SKU-E,call for price,9\r\n"  # row 8: bad price cell
)
EXPECTED_COUNTS = {
    "rows": 7,
    "matched": 4,
    "not_found": 1,
    "duplicates": 1,
    "changed": 3,
    "unchanged": 1,
    "row_errors": 1,
    "updated": 3,
    "failed": 0,
    "gone": 0,
    "stale": 0,  # of the changes: none found the store moved on
    "pending": 0,  # none left to apply
    "conflicts": 0,  # feedsync had written nothing before: no hand edit to keep
    "missing": 0,  # missing: ignore (the default)
}
# sku -> (price cents, stock) after the run
EXPECTED_STORE = {
    "SKU-A": (1250, 7),
    "SKU-B": (999, 3),
    "SKU-C": (2000, 15),
    "SKU-D": (499, 1),
    "SKU-E": (300, 2),
}


def test_url_run_succeeds_end_to_end(h: Harness) -> None:
    # Given a store with five variants and a supplier file served over HTTP
    shop = h.shop(STORE)
    profile = h.url_profile(shop, FEED)
    assert profile.status == "ready" and profile.last_run is None

    # When a manual run starts and we watch its record
    run = h.start(shop.tenant, profile.profile_id)
    assert run.status == "queued" and run.trigger == "manual" and run.mode == "partial"
    observed: list[str] = [run.status]
    final = h.wait_run(shop.tenant, run.run_id, observed)

    # Then it went queued -> preparing -> matching -> updating -> succeeded, in order
    assert observed[0] == "queued" and observed[-1] == "succeeded", observed
    assert [PHASES.index(s) for s in observed] == sorted(PHASES.index(s) for s in observed)

    # ... with the counts of the known feed
    assert final.error is None
    assert final.counts == EXPECTED_COUNTS
    assert final.progress.done == final.progress.total == 3
    assert final.started_at and final.finished_at and final.finished_at >= final.started_at
    assert final.source["type"] == "url" and final.source["file"] == "feed.csv"
    assert final.source["size"] == len(FEED.encode())

    # ... and the Step Functions execution (named after the run) succeeded
    execution = h.execution(run.run_id)
    assert execution["status"] == "SUCCEEDED"
    assert execution["name"] == run.run_id
    # ... (the writes themselves, recorded in-process, once the execution has ended)
    assert h.spy.of(run.run_id) == ["preparing", "matching", "updating", "succeeded"]

    # ... the store holds exactly the new values (cents), nothing else moved
    assert h.store_values(shop) == EXPECTED_STORE

    # ... the per-row log in S3 has one line per feed row, in file order
    assert final.log_key
    raw = h.deps.blobs.get_bytes(final.log_key).decode()
    lines = list(csv.reader(io.StringIO(raw)))
    assert tuple(lines[0]) == LOG_HEADER
    assert LOG_HEADER == (
        "row", "key", "product_id", "variant_id", "status", "changes", "error", "file_key",
    )  # fmt: skip
    rows = {int(r[0]): dict(zip(LOG_HEADER, r, strict=True)) for r in lines[1:]}
    assert [int(r[0]) for r in lines[1:]] == [2, 3, 4, 5, 6, 7, 8]

    def ids(sku: str) -> tuple[str, str]:
        v = shop.seeded_variant(sku)
        return str(v["product_id"]), str(v["id"])

    a, b, c, d = rows[2], rows[3], rows[4], rows[5]
    assert (a["key"], a["status"], a["error"]) == ("SKU-A", "updated", "")
    assert (a["product_id"], a["variant_id"]) == ids("SKU-A")
    assert a["changes"] == "price: 10.00 -> 12.50; stock: 5 -> 7"
    assert (b["status"], b["changes"], (b["product_id"], b["variant_id"])) == (
        "unchanged",
        "",
        ids("SKU-B"),
    )
    assert (c["status"], c["changes"]) == ("updated", "stock: 0 -> 15")
    assert (d["status"], d["changes"]) == ("updated", "price: 5.00 -> 4.99")
    assert rows[6]["status"] == "not_found" and "NOPE-1" in rows[6]["error"]
    assert (rows[6]["product_id"], rows[6]["variant_id"]) == ("", "")
    assert rows[7]["status"] == "duplicate" and rows[7]["error"] == "same item as row 3"
    assert rows[8]["status"] == "row_error"
    assert "column 'Price'" in rows[8]["error"] and "call for price" in rows[8]["error"]

    # ... the profile is ready again, remembers the run and when it last synced
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.status == "ready" and prof.current_run_id is None
    assert prof.last_run is not None
    assert prof.last_run.run_id == run.run_id and prof.last_run.status == "succeeded"
    assert prof.last_run.counts == EXPECTED_COUNTS and prof.last_run.error is None
    assert prof.last_sync_at == final.finished_at

    # ... and the catalog index in S3 carries the written values
    index = load_catalog(h.deps, h.deps.repo.get_store(shop.tenant, shop.store.store_id))
    by_sku = {v[2]: (v[4], v[8]) for v in index.variants}
    assert by_sku == EXPECTED_STORE

    # When the same file runs again (partial mode)
    writes_before = len(h.puts_to(shop))
    again = h.run_to_end(shop.tenant, profile.profile_id)

    # Then nothing is changed: the index already knew the new values
    assert again.status == "succeeded", again.error
    assert again.counts["changed"] == 0 and again.counts["updated"] == 0
    assert again.counts["unchanged"] == 4 and again.counts["matched"] == 4
    assert len(h.puts_to(shop)) == writes_before
    assert h.store_values(shop) == EXPECTED_STORE
    assert h.execution(again.run_id)["status"] == "SUCCEEDED"
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.last_run is not None and prof.last_run.run_id == again.run_id


def test_full_mode_rewrites_every_mapped_value(h: Harness) -> None:
    # Given a store already in step with the feed
    shop = h.shop([simple_product("Cap", "CAP-1", "7.00", 4)])
    profile = h.url_profile(shop, "SKU,Price,Qty\nCAP-1,7.00,4\n")

    # When a partial run and then a full run happen
    partial = h.run_to_end(shop.tenant, profile.profile_id)
    full = h.run_to_end(shop.tenant, profile.profile_id, mode="full")

    # Then partial writes nothing and full writes the one variant with both fields
    assert partial.status == "succeeded" and partial.counts["updated"] == 0
    assert full.status == "succeeded" and full.mode == "full"
    assert full.counts["changed"] == 1 and full.counts["updated"] == 1
    log = h.deps.blobs.get_bytes(full.log_key).decode().splitlines()
    assert log[1].endswith(",updated,price: 7.00 -> 7.00; stock: 4 -> 4,,")


def test_a_log_too_big_for_a_lambda_response_is_a_download_url(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a finished run and a tiny inline limit (so its log counts as "too big")
    shop = h.shop(STORE)
    profile = h.url_profile(shop, FEED)
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "succeeded", run.error
    monkeypatch.setattr(api, "INLINE_LOG_BYTES", 10)
    # When the log is asked for
    got = api.run_log(h.deps, shop.tenant, run.run_id)
    # Then it is a presigned URL that serves the same CSV the run wrote
    assert isinstance(got, str) and got.startswith("http")
    download = requests.get(got, timeout=10)
    assert download.status_code == 200
    assert download.content == h.deps.blobs.get_bytes(run.log_key or "")


def test_two_runs_patching_one_store_index_keep_both_changes(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store's index, and two finalizes (e.g. two profiles) patching it at once:
    # the second reads the index, then the first writes its change before the second writes
    shop = h.shop(STORE)
    store = h.deps.repo.get_store(shop.tenant, shop.store.store_id)
    assert store is not None
    vid_a, vid_b = (v[1] for v in load_catalog(h.deps, store).variants[:2])
    real_read = h.deps.blobs.open_read_tagged
    raced: list[bool] = []

    def read_then_race(key: str) -> Any:
        got = real_read(key)
        if not raced:
            raced.append(True)
            apply_to_catalog(h.deps, store, {vid_a: {"price": [None, 4242]}})
        return got

    monkeypatch.setattr(h.deps.blobs, "open_read_tagged", read_then_race)
    # When the second one writes its own change
    apply_to_catalog(h.deps, store, {vid_b: {"stock": [None, 77]}})
    # Then neither change is lost
    after = {v[1]: v for v in load_catalog(h.deps, store).variants}
    assert after[vid_a][VARIANT_POS["price"]] == 4242
    assert after[vid_b][VARIANT_POS["stock"]] == 77
