"""The profile editor in a real browser: a profile made from the preview of a real supplier
file by picking columns, the schedule editor's next run times, and an upload profile's
Update then Start (seed 000); axe and 375 px on the way."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from browser_support import (
    PHONE,
    dashboard_page,
    screenshot,
    serious_accessibility_violations,
)
from e2e_support import NO_LIMITS, ROOT, Api, Sandbox, Served, StoreInfo, Supplier, sku, upc
from playwright.sync_api import Browser, Page, expect


def _source_servers() -> object:
    """The source tests' real servers (tests/unit/sources/conftest.py), for the sshd fixture."""
    where = ROOT / "tests" / "unit" / "sources" / "conftest.py"
    spec = importlib.util.spec_from_file_location("source_servers", where)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_SERVERS = _source_servers()
sshd = _SERVERS.sshd  # type: ignore[attr-defined]  # OpenSSH on loopback (session fixture)

BERLIN = ZoneInfo("Europe/Berlin")
# The sandbox product this file's upload test writes (the other e2e tests own theirs).
UPLOAD_PRODUCT = 9


def _profile_named(api: Api, name: str) -> dict[str, Any]:
    found = [p for p in api.ok("GET", "/profiles")["profiles"] if p["name"] == name]
    assert len(found) == 1, f"{name!r}: {len(found)} profiles"
    return found[0]


def _next_runs(page: Page) -> list[str]:
    times = page.get_by_role("list", name="Next run times").locator("time")
    expect(times).to_have_count(5)
    return [str(t.get_attribute("datetime")) for t in times.all()]


def _no_page_faults(page: Page) -> None:
    assert serious_accessibility_violations(page) == []


def test_a_profile_is_made_from_the_file_preview_by_picking_columns(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, supplier: Supplier
) -> None:
    # Given a supplier file with its own column names, semicolons and a column named in German
    name = f"UI preview {uuid.uuid4().hex[:6]}"
    rows = [
        f"{sku(8, s)};{upc(8, s)};{12 + i}.50;{i + 3};Blau" for i, s in enumerate(("S", "M", "L"))
    ]
    text = "Item Code;EAN;Unit Price;Verfügbar;Farbe\n" + "\n".join(rows) + "\n"
    url = supplier.put(f"ui-{uuid.uuid4().hex[:6]}.csv", text)

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        page.goto("/#/profiles/new")
        expect(page.get_by_role("heading", name="New profile", exact=True)).to_be_visible()

        # When it is saved with no name, the API's refusal shows beside the name, focused
        page.get_by_role("button", name="Create profile").click()
        name_input = page.get_by_label("Profile name")
        expect(name_input).to_be_focused()
        expect(name_input).to_have_attribute("aria-invalid", "true")

        # When the merchant names it (the error goes), picks the store and the file's URL,
        # and previews it
        name_input.fill(name)
        expect(name_input).not_to_have_attribute("aria-invalid", "true")
        page.get_by_label("Store", exact=True).select_option(value=store.store_id)
        page.get_by_label("File address (URL)").fill(url)
        page.get_by_role("button", name="Preview file").click()

        # Then the first rows of the real file show, with what was detected
        table = page.get_by_role("table", name="First 3 rows")
        expect(table).to_be_visible()
        expect(table.get_by_role("columnheader")).to_have_text(
            ["Item Code", "EAN", "Unit Price", "Verfügbar", "Farbe"]
        )
        expect(table.get_by_role("row")).to_have_count(4)
        detected = page.get_by_role("list", name="What feedsync detected")
        expect(detected).to_contain_text("Delimiter: “;”")

        # And the columns named plainly are picked ahead, with their first values beside
        mapping = page.get_by_role("group", name="Columns")
        expect(mapping.get_by_label("SKU", exact=True)).to_have_value("Item Code")
        expect(mapping.get_by_label("Barcode (UPC/EAN)")).to_have_value("EAN")
        expect(mapping.get_by_label("Price", exact=True)).to_have_value("Unit Price")
        expect(mapping.get_by_label("Stock", exact=True)).to_have_value("")
        expect(page.locator("#f-mapping-samples")).to_have_text(", ".join(sku(8, s) for s in "SML"))

        # When the merchant picks the stock column by hand and ticks stock to be written
        mapping.get_by_label("Stock", exact=True).select_option("Verfügbar")
        expect(page.locator("#f-mapping-stock-samples")).to_have_text("3, 4, 5")
        page.get_by_role("group", name="Values written to your store").get_by_label("Stock").check()
        _no_page_faults(page)
        screenshot(page, "editor-preview")

        # And saves it
        page.get_by_role("button", name="Create profile").click()

        # Then the profile exists with the columns picked, and the page says it was saved
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()
        expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
        created = _profile_named(api, name)
        assert created["mapping"] == {
            "sku": "Item Code", "barcode": "EAN", "price": "Unit Price", "stock": "Verfügbar",
        }  # fmt: skip
        assert created["fields"] == ["price", "stock"]
        source = {k: v for k, v in created["source"].items() if v is not None}
        assert source == {"type": "url", "url": url, "has_credentials": False}
        assert watch.foreign_requests == []

        # And editing it previews the file again by itself
        expect(page.get_by_role("table", name="First 3 rows")).to_be_visible()
        _no_page_faults(page)


def test_the_new_profile_page_reads_at_phone_width(chromium: Browser, serve: Served) -> None:
    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, watch):
        # Given the editor of a new profile on a phone
        page.goto("/#/profiles/new")
        expect(page.get_by_role("heading", name="New profile", exact=True)).to_be_visible()

        # Then nothing is wider than the screen, and axe finds nothing serious
        expect(page.get_by_text("It runs only when you click Start")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _no_page_faults(page)
        assert watch.console_errors == []
        screenshot(page, "editor-new-phone")


def test_the_schedule_editor_shows_the_next_five_runs_before_saving(
    chromium: Browser, serve: Served, api: Api
) -> None:
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, watch):
        page.goto("/#/profiles/new")

        # Given an hourly schedule in Berlin with a quiet time from 22:00 to 04:00
        page.get_by_label("Runs", exact=True).select_option("interval")
        page.get_by_label("Every", exact=True).select_option(label="hour")
        page.get_by_label("Time zone").select_option("Europe/Berlin")
        page.get_by_role("button", name="Add a quiet time").click()
        expect(page.get_by_label("From", exact=True)).to_be_focused()
        page.get_by_label("From", exact=True).fill("22:00")
        page.get_by_label("Until", exact=True).fill("04:00")

        # Then the next 5 runs show, none of them inside the quiet time, as the API says
        expect(page.get_by_text("The next 5 runs:")).to_be_visible()
        shown = _next_runs(page)
        schedule = {
            "type": "interval", "every_minutes": 60, "timezone": "Europe/Berlin",
            "blackouts": [{"start": "22:00", "end": "04:00"}],
        }  # fmt: skip
        expected = api.ok("POST", "/schedule-preview", {"schedule": schedule, "count": 5})["next"]
        assert [datetime.fromisoformat(t) for t in shown] == [
            datetime.fromisoformat(t) for t in expected
        ]
        hours = [datetime.fromisoformat(t).astimezone(BERLIN).hour for t in shown]
        assert all(4 <= h < 22 for h in hours), hours
        expect(page.get_by_role("list", name="Next run times")).to_contain_text("Europe/Berlin")
        _no_page_faults(page)
        screenshot(page, "editor-schedule-interval")

        # When it becomes once a day at 06:30
        page.get_by_label("Runs", exact=True).select_option("daily")
        page.get_by_label("At", exact=True).fill("06:30")

        # Then the 5 next runs are 06:30 in Berlin on 5 days in a row
        expect(page.get_by_role("list", name="Next run times")).to_contain_text("06:30")
        local = [datetime.fromisoformat(t).astimezone(BERLIN) for t in _next_runs(page)]
        assert {(t.hour, t.minute) for t in local} == {(6, 30)}
        assert len({t.date() for t in local}) == 5

        # When the time is cleared, the editor says why it cannot show run times
        page.get_by_label("At", exact=True).fill("")
        expect(page.get_by_text("No run times yet")).to_be_visible()
        assert watch.foreign_requests == []


def test_an_upload_profile_is_updated_with_a_new_file_then_started(
    chromium: Browser,
    serve: Served,
    api: Api,
    store: StoreInfo,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    # Given an upload profile
    name = f"UI upload {uuid.uuid4().hex[:6]}"
    profile = api.create_profile(store.store_id, {"type": "upload"}, name=name, limits=NO_LIMITS)
    new_prices = {sku(UPLOAD_PRODUCT, s): f"{70 + i}.25" for i, s in enumerate(("S", "M", "L"))}
    file = tmp_path / "new-prices.csv"
    lines = ["SKU,UPC,Price,Qty"] + [
        f"{key},{upc(UPLOAD_PRODUCT, key[-1])},{price},7" for key, price in new_prices.items()
    ]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with dashboard_page(chromium, serve.api_url, serve.api_key, viewport=PHONE) as (page, watch):
        # When the merchant opens Edit Settings, picks the new file and clicks Update
        page.goto(f"/#/profiles/{profile['profile_id']}/edit")
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()
        page.get_by_label("New file").set_input_files(str(file))
        page.get_by_role("button", name="Update", exact=True).click()

        # Then the file is stored without a run, and the page says to click Start
        expect(page.get_by_text("Stored. Click Start to sync it.")).to_be_visible()
        runs = api.ok("GET", f"/profiles/{profile['profile_id']}/runs")["runs"]
        assert runs == []
        stored = api.ok("GET", f"/profiles/{profile['profile_id']}")
        assert stored["pending_upload"]["file_name"] == "new-prices.csv"
        # And the preview reads the stored file, its columns picked ahead
        expect(page.get_by_role("table", name="First 3 rows of new-prices.csv")).to_be_visible()
        expect(
            page.get_by_role("group", name="Columns").get_by_label("Price", exact=True)
        ).to_have_value("Price")
        _no_page_faults(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "editor-upload-phone")

        # When the merchant clicks Start and confirms
        page.get_by_role("button", name="Start", exact=True).click()
        expect(page.get_by_text("This may take a few minutes")).to_be_visible()
        ok = page.get_by_role("button", name="OK", exact=True)
        expect(ok).to_be_focused()  # the keyboard goes on from the question
        page.keyboard.press("Enter")

        # Then the run page opens, and the run synced the new file's prices into the store
        page.wait_for_url("**/#/runs/*")
        run_id = page.url.rsplit("/", 1)[1]
        run = api.wait_run(run_id)
        assert run["status"] == "succeeded", run
        assert run["counts"]["rows"] == 3
        assert run["counts"]["updated"] == 3
        variants = sandbox.variants()
        assert {k: f"{variants[k]['price']:.2f}" for k in new_prices} == new_prices
        # And the page talked to nothing but feedsync and the upload URL it was given
        assert [u for u in watch.foreign_requests if "/uploads/" not in u] == []


def test_an_sftp_servers_key_is_shown_pinned_and_kept_with_the_password(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, sshd: Any
) -> None:
    name = f"UI sftp {uuid.uuid4().hex[:6]}"
    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        # Given a new profile reading a file over SFTP, with no host key typed
        page.goto("/#/profiles/new")
        page.get_by_label("Profile name").fill(name)
        page.get_by_label("Store", exact=True).select_option(value=store.store_id)
        page.get_by_label("SFTP").check()
        page.get_by_label("Server", exact=True).fill("127.0.0.1")
        page.get_by_label("Port").fill(str(sshd.port))
        page.get_by_label("File path").fill(f"{sshd.root}/out/stock_*.csv")
        page.get_by_label("User name").fill(sshd.user)
        page.get_by_label("Password", exact=True).fill(sshd.password)

        # When the merchant previews the file
        page.get_by_role("button", name="Preview file").click()

        # Then nothing is read yet: the key the server presented is shown to be pinned
        notice = page.locator(".host-key")
        expect(notice).to_contain_text("The server presented the key SHA256:")
        presented = notice.locator("code").inner_text()
        assert presented in sshd.fingerprints.values()
        expect(page.get_by_text("The server's key is not pinned yet")).to_be_visible()
        assert serious_accessibility_violations(page) == []

        # When the key is pinned and the file previewed again
        page.get_by_role("button", name="Pin this key").click()
        expect(page.get_by_label("Server's host key (SHA256 fingerprint)")).to_have_value(presented)
        page.get_by_role("button", name="Preview again").click()

        # Then the newest matching file is read, and its columns are picked ahead
        table = page.get_by_role("table", name="First 1 rows of stock_2024-03.csv")
        expect(table).to_contain_text("A-1")
        expect(page.get_by_role("group", name="Columns").get_by_label("Stock")).to_have_value("Qty")
        screenshot(page, "editor-sftp")

        # When it is saved
        page.get_by_role("button", name="Create profile").click()
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()

        # Then the pinned key and the password are kept, and the password is not shown back
        source = _profile_named(api, name)["source"]
        assert source["host_key_fingerprint"] == presented
        assert source["has_credentials"] is True
        password = page.get_by_label("Password", exact=True)
        expect(password).to_have_value("")
        expect(password).to_have_accessible_description("Leave empty to keep the saved one.")

        # And the editor previews with the stored password
        expect(page.get_by_role("table", name="First 1 rows of stock_2024-03.csv")).to_be_visible()


def test_a_new_upload_profile_is_saved_first_then_its_file_stored(
    chromium: Browser, serve: Served, api: Api, store: StoreInfo, tmp_path: Path
) -> None:
    # Given a file on the merchant's computer
    name = f"UI new upload {uuid.uuid4().hex[:6]}"
    file = tmp_path / "first.csv"
    file.write_text("SKU,UPC,Price,Qty\nNOT-IN-STORE,,1.00,1\n", encoding="utf-8")

    with dashboard_page(chromium, serve.api_url, serve.api_key) as (page, _watch):
        # When a new profile reads uploads, with its columns typed and the file picked
        page.goto("/#/profiles/new")
        page.get_by_label("Profile name").fill(name)
        page.get_by_label("Store", exact=True).select_option(value=store.store_id)
        page.get_by_label("File upload").check()
        page.get_by_label("File to upload").set_input_files(str(file))
        columns = page.get_by_role("group", name="Columns")
        columns.get_by_label("SKU", exact=True).fill("SKU")
        columns.get_by_label("Price", exact=True).fill("Price")
        columns.get_by_label("Stock", exact=True).fill("Qty")
        page.get_by_role("button", name="Create profile").click()

        # Then the profile is saved, then its file stored without a run, as the page says
        expect(page.get_by_role("heading", name=f"Edit settings: {name}")).to_be_visible()
        expect(
            page.get_by_role("status").filter(has_text="Stored. Click Start to sync it.")
        ).to_have_count(1)
        created = _profile_named(api, name)
        assert created["pending_upload"]["file_name"] == "first.csv"
        assert api.ok("GET", f"/profiles/{created['profile_id']}/runs")["runs"] == []

        # And the stored file is what the preview reads
        expect(page.get_by_role("table", name="First 1 rows of first.csv")).to_contain_text(
            "NOT-IN-STORE"
        )
