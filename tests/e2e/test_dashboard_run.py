"""The run page and a profile's history in a real browser: the phases to Ready, the
summary, the log filtered by status and searched by SKU, its CSV download, and history
paged with Previous / Next.

The e2e tenant is shared: each test makes its own profile. Feeds repeat the seeded values
of product 9 (nothing to write) plus rows the file gets wrong, so no other test's
products move.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from browser_support import PHONE, dashboard_page, screenshot, serious_accessibility_violations
from e2e_support import (
    Api,
    Served,
    StoreInfo,
    Supplier,
    csv_text,
    seed_price,
    seed_stock,
    sku,
    upc,
)
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e

PRODUCT = 9  # this file's product of the seeded catalog


def seeded_row(size: str) -> list[str]:
    p = PRODUCT
    return [sku(p, size), upc(p, size), f"{seed_price(p, size):.2f}", str(seed_stock(p, size))]


def feed() -> str:
    """Three rows the store holds, two rows with a bad cell, one SKU the store lacks."""
    return csv_text(
        [
            seeded_row("S"),
            seeded_row("M"),
            seeded_row("L"),
            ["RUNPAGE-BAD-1", "", "twelve", "1"],
            ["RUNPAGE-BAD-2", "", "4.00", "many"],
            ["RUNPAGE-NOPE", "", "5.00", "1"],
        ]
    )


def test_the_run_page_shows_phases_summary_and_a_log_filtered_and_searched(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a finished run with two row errors and an unknown SKU
    url = supplier.put(f"run-page-{uuid.uuid4().hex[:6]}.csv", feed())
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name="Run page")
    run = api.sync(profile["profile_id"])
    assert run["counts"]["row_errors"] == 2 and run["counts"]["not_found"] == 1
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        # When its page is opened
        page.goto(f"/#/runs/{run['run_id']}")

        # Then every phase is done and the last one, Ready, is the current step
        expect(page.get_by_role("heading", name=f"Run {run['run_id']}")).to_be_visible()
        phases = page.get_by_role("list", name="Phases")
        expect(phases.locator("[aria-current=step]")).to_have_text("Ready")
        expect(phases.locator("li.done")).to_have_count(5)
        # And the summary shows the run's own counts
        summary = page.locator("dl.summary")
        expect(summary.locator("div").filter(has_text="Row errors").locator("dd")).to_have_text("2")
        expect(summary.locator("div").filter(has_text="Not found").locator("dd")).to_have_text("1")
        # And the log lists every row of the file
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(6)
        assert serious_accessibility_violations(page) == []
        screenshot(page, "run")

        # When the log is filtered to row errors
        page.get_by_label("Show").select_option("row_error")

        # Then only the two bad rows show, each naming its column and cell
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("RUNPAGE-BAD-1")
        expect(rows.nth(0)).to_contain_text("'Price'")
        expect(rows.nth(1)).to_contain_text("'Qty'")
        screenshot(page, "run-log-row-errors")

        # When a SKU is searched within the filter
        page.get_by_label("Search by SKU").fill("bad-2")

        # Then only that row is left
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("RUNPAGE-BAD-2")
        expect(page.get_by_text("1 row", exact=True)).to_be_visible()

        # When the CSV is downloaded (the filtered log)
        with page.expect_download() as downloading:
            page.get_by_role("button", name="Download CSV").click()
        saved = downloading.value
        text = Path(saved.path()).read_text(encoding="utf-8")
        lines = list(csv.DictReader(io.StringIO(text)))

        # Then the file is the API's log of the two row errors, named after the run
        assert saved.suggested_filename == f"{run['run_id']}.csv"
        assert [line["key"] for line in lines] == ["RUNPAGE-BAD-1", "RUNPAGE-BAD-2"]
        assert {line["status"] for line in lines} == {"row_error"}
        assert watch.foreign_requests == [] and watch.console_errors == []

    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, _w):
        page.goto(f"/#/runs/{run['run_id']}")
        expect(page.locator("table tbody tr")).to_have_count(6)
        assert serious_accessibility_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "run-phone", full_page=False)


def test_history_pages_through_the_runs_with_next_and_previous(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a profile with three runs
    url = supplier.put(f"history-{uuid.uuid4().hex[:6]}.csv", csv_text([seeded_row("S")]))
    name = f"History {uuid.uuid4().hex[:6]}"
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name=name)
    runs = [api.sync(profile["profile_id"])["run_id"] for _ in range(3)]
    newest_first = runs[::-1]
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        # When its history is opened two runs to a page
        page.goto(f"/#/profiles/{profile['profile_id']}/runs?limit=2")
        expect(page.get_by_role("heading", name=f"History of {name}")).to_be_visible()

        # Then the first page holds the two newest runs, each linking to its run page
        links = page.locator("table tbody tr a")
        expect(links).to_have_count(2)
        assert [links.nth(i).get_attribute("href") for i in range(2)] == [
            f"#/runs/{r}" for r in newest_first[:2]
        ]
        pager = page.get_by_role("navigation", name="History pages")
        expect(pager.get_by_role("button", name="Previous")).to_be_disabled()
        assert serious_accessibility_violations(page) == []
        screenshot(page, "history")

        # When Next is pressed, the oldest run shows and there is no further page
        pager.get_by_role("button", name="Next").click()
        expect(links).to_have_count(1)
        assert links.first.get_attribute("href") == f"#/runs/{newest_first[2]}"
        expect(pager.get_by_role("button", name="Next")).to_be_disabled()

        # When Previous is pressed, the first page is back
        pager.get_by_role("button", name="Previous").click()
        expect(links).to_have_count(2)
        assert links.first.get_attribute("href") == f"#/runs/{newest_first[0]}"

        # When a run is opened from the history, its page shows
        links.first.click()
        expect(page.get_by_role("heading", name=f"Run {newest_first[0]}")).to_be_visible()
        assert watch.foreign_requests == [] and watch.console_errors == []


def test_a_running_run_shows_its_phase_and_is_cancelled_from_its_page(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a run waiting for its supplier file (held back by the supplier's server)
    url = supplier.put(f"slow-run-page-{uuid.uuid4().hex[:6]}.csv", feed())
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, name="Run cancel")
    with supplier.holding_slow_files():
        run_id = api.start(profile["profile_id"])["run_id"]
        with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
            # When its page is opened
            page.goto(f"/#/runs/{run_id}")

            # Then Preparing is the current phase, Queued is done, and no percentage shows
            # while the total is unknown
            phases = page.get_by_role("list", name="Phases")
            expect(phases.locator("[aria-current=step]")).to_contain_text("Preparing")
            expect(phases.locator("li.done")).to_have_count(1)
            progress = page.get_by_role("progressbar", name="Run progress")
            expect(progress).to_be_visible()
            assert progress.get_attribute("value") is None
            expect(page.get_by_text("Working out how many items to update")).to_be_visible()
            assert serious_accessibility_violations(page) == []
            screenshot(page, "run-running")

            # When the merchant asks to cancel, and confirms in the dialog
            page.get_by_role("button", name="Cancel run").click()
            dialog = page.get_by_role("dialog", name="Cancel this run?")
            expect(dialog).to_be_visible()
            dialog.get_by_role("button", name="Cancel run").click()

            # Then the page says it is cancelling, and Cancel is gone
            expect(dialog).to_be_hidden()
            expect(page.locator(".status-text")).to_contain_text("cancelling")
            expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
            assert api.ok("GET", f"/runs/{run_id}")["cancel_requested_at"] is not None

            # When the supplier answers, the run stops at its next step: Cancelled
            supplier.slow_released.set()
            expect(page.locator(".status-text")).to_have_text("Status: Cancelled", timeout=60_000)
            expect(phases.locator("[aria-current=step]")).to_have_text("Cancelled")
            assert watch.console_errors == []
    assert api.wait_run(run_id)["status"] == "cancelled"
    api.wait_profile_idle(profile["profile_id"])
