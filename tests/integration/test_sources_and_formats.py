"""Issue 3 through the real state machine: FTP source, JSON and XLSX files, rules, constants."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_harness import Harness, simple_product
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from feedsync.core import api
from feedsync.errors import NotFound

STORE = [
    simple_product("Lamp", "LAMP-1", "20.00", 5),
    simple_product("Desk", "DESK-1", "100.00", 2),
]


@pytest.fixture(scope="module")
def ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A real FTP server (pyftpdlib) on loopback with user 'supplier'."""
    root = tmp_path_factory.mktemp("ftp")
    (root / "out").mkdir()
    auth = DummyAuthorizer()
    auth.add_user("supplier", "s3cret-pass", str(root), perm="elr")

    class Handler(FTPHandler):
        authorizer = auth

    server = FTPServer(("127.0.0.1", 0), Handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield root, int(server.address[1])
    server.close_all()


def test_an_ftp_glob_source_takes_the_newest_file(h: Harness, ftp_root: tuple[Path, int]) -> None:
    # Given an FTP folder with an old and a new stock file matching stock_*.csv
    root, port = ftp_root
    old = root / "out" / "stock_20261122.csv"
    new = root / "out" / "stock_20261123.csv"
    old.write_text("SKU,Price,Qty\nLAMP-1,1.00,1\n", encoding="utf-8")
    new.write_text("SKU,Price,Qty\nLAMP-1,22.00,6\n", encoding="utf-8")
    import os

    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_800_000_000, 1_800_000_000))
    shop = h.shop(STORE)
    source = {
        "type": "ftp",
        "host": "127.0.0.1",
        "port": port,
        "path": "/out/stock_*.csv",
        "username": "supplier",
        "credentials": {"password": "s3cret-pass"},
    }
    profile = h.profile(shop, source)
    # Then the password is not in the profile
    assert "s3cret-pass" not in profile.model_dump_json()
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the newest file was synced, and the run records which file it took
    assert run.status == "succeeded", run.error
    assert h.store_values(shop)["LAMP-1"] == (2200, 6)
    assert run.source["file"] == "stock_20261123.csv"
    # When the profile is deleted, Then its stored password is deleted with it
    stored = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert stored is not None and stored.source.secret_ref  # type: ignore[union-attr]
    secret_ref = stored.source.secret_ref  # type: ignore[union-attr]
    assert h.deps.secrets.get(secret_ref)["password"] == "s3cret-pass"
    api.delete_profile(h.deps, shop.tenant, profile.profile_id)
    with pytest.raises(NotFound):
        h.deps.secrets.get(secret_ref)


def test_a_json_feed_with_price_rules_constants_and_case_insensitive_skus(h: Harness) -> None:
    # Given a JSON feed (object with a record path) whose SKUs differ in case from the store,
    # a 25 % markup rounded to .99, and a constant stock for the file that has none
    shop = h.shop(STORE)
    feed = {
        "data": {
            "items": [{"code": "lamp-1", "cost": "16.00"}, {"code": "Desk-1", "cost": "80.00"}]
        }
    }
    url = h.feed_url(json.dumps(feed), name="catalog.json")
    profile = h.profile(
        shop,
        {"type": "url", "url": url},
        format={"type": "json", "record_path": "data.items"},
        mapping={"sku": "code", "price": "cost"},
        constants={"stock": "3"},
        rules={
            "price_rules": {"markup_percent": "25", "round": "0.99"},
            "sku_case_insensitive": True,
        },
    )
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then both items matched and got cost x 1.25 rounded up to .99, and stock 3
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 2 and run.counts["not_found"] == 0
    assert h.store_values(shop)["LAMP-1"] == (2099, 3)  # 16.00 * 1.25 = 20.00 -> 20.99
    assert h.store_values(shop)["DESK-1"] == (10099, 3)  # 80.00 * 1.25 = 100.00 -> 100.99
    assert run.source["format"]["type"] == "json"


def test_an_xlsx_feed_with_numeric_barcodes_matched_by_barcode(h: Harness) -> None:
    # Given an Excel file whose barcode column holds numbers (Excel would show 4.0E+12)
    from openpyxl import Workbook

    products = [
        {**simple_product("Cup", "CUP-1", "4.00", 1), "upc": "4006381333931"},
    ]
    shop = h.shop(products)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["EAN", "Price", "Qty"])
    sheet.append([4006381333931, 4.5, 12])
    path = h.files_dir / "cups.xlsx"
    book.save(path)
    url = h.feed_url(path.read_bytes(), name="cups.xlsx")
    profile = h.profile(
        shop,
        {"type": "url", "url": url},
        mapping={"barcode": "EAN", "price": "Price", "stock": "Qty"},
        match_by="barcode",
    )
    # When it runs
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the barcode matched as the digits (never 4.00638E+12) and the values were written
    assert run.status == "succeeded", run.error
    assert run.counts["matched"] == 1, run.counts
    assert h.store_values(shop)["CUP-1"] == (450, 12)
