"""End-to-end: the merchant CLI (`feedsync run|runs|log|profiles ...`) against `feedsync serve`,
as a script would call it: its exit codes and its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Api, Served, demo_store

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def feedsync(serve: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FEEDSYNC_API_URL": serve.api_url,
        "FEEDSYNC_API_KEY": serve.api_key,
        "PYTHONPATH": os.pathsep.join(["layers/common", "local", "."]),
    }
    return subprocess.run(
        [sys.executable, "-m", "feedsync_local.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _profile(serve: Served, tmp_path: Path, store_id: str, url: str) -> str:
    settings = tmp_path / "profile.yaml"
    settings.write_text(
        "name: CLI profile\n"
        f"store_id: {store_id}\n"
        f'source: {{type: url, url: "{url}"}}\n'
        "format: {type: csv}\n"
        "mapping: {sku: SKU, barcode: UPC, price: Price, stock: Qty}\n"
        "fields: [price, stock]\n"
        "limits: {max_changed_share: null, max_zero_stock_share: null}\n",
        encoding="utf-8",
    )
    made = feedsync(serve, "--json", "profiles", "create", str(settings))
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["profile_id"])


def test_run_wait_exits_0_on_success_and_the_log_filters(
    api: Api, serve: Served, tmp_path: Path
) -> None:
    # Given a profile made from a YAML file for the demo store and its supplier file
    store = demo_store(api, serve)
    profile_id = _profile(serve, tmp_path, store["store_id"], serve.info["demo"]["feed_url"])
    # When a script runs it and waits
    done = feedsync(serve, "--json", "run", profile_id, "--wait")
    # Then the exit code is 0 and the JSON is the finished run
    assert done.returncode == 0, done.stdout + done.stderr
    run: dict[str, Any] = json.loads(done.stdout)
    assert run["status"] == "succeeded" and run["counts"]["failed"] == 0
    # and the history and the log (only its updated lines) name it
    history = json.loads(feedsync(serve, "--json", "runs", profile_id).stdout)
    assert history["runs"][0]["run_id"] == run["run_id"]
    lines = json.loads(
        feedsync(serve, "--json", "log", run["run_id"], "--status", "row_error").stdout
    )
    assert len(lines) == run["counts"]["row_errors"] > 0
    assert {line["status"] for line in lines} == {"row_error"}


def test_run_wait_exits_1_on_a_failed_run_and_2_when_it_cannot_start(
    api: Api, serve: Served, tmp_path: Path
) -> None:
    # Given a profile whose supplier file is not there
    store = demo_store(api, serve)
    missing = serve.info["demo"]["feed_url"].rsplit("/", 1)[0] + "/no_such_file.csv"
    profile_id = _profile(serve, tmp_path, store["store_id"], missing)
    # When it is run and waited for, Then the exit code is 1 and the reason is printed
    failed = feedsync(serve, "run", profile_id, "--wait")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "failed" in failed.stdout and "reason:" in failed.stdout
    # and a profile that does not exist cannot start: exit code 2, with the API's words
    refused = feedsync(serve, "run", "prof_nope", "--wait")
    assert refused.returncode == 2
    assert "404" in refused.stderr and "prof_nope" in refused.stderr


def test_upload_wait_follows_the_sync_the_upload_starts(
    api: Api, serve: Served, tmp_path: Path
) -> None:
    # Given an upload profile on the demo store and a supplier file on disk
    store = demo_store(api, serve)
    profile = api.create_profile(store["store_id"], {"type": "upload"}, name="CLI upload")
    feed = tmp_path / "stock.csv"
    feed.write_text("SKU,UPC,Price,Qty\nACME-00001-S,,12.34,7\n", encoding="utf-8")
    # When the file is uploaded and the sync it starts is waited for
    done = feedsync(
        serve, "--json", "upload", profile["profile_id"], str(feed), "--start", "--wait"
    )
    # Then the exit code is 0 and the run is the upload's, on that file
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads(done.stdout)
    assert run["trigger"] == "upload" and run["status"] == "succeeded"
    assert run["source"]["file"] == "stock.csv" and run["counts"]["matched"] == 1


def test_upload_without_start_stores_the_file_and_run_syncs_it(
    api: Api, serve: Served, tmp_path: Path
) -> None:
    # Given an upload profile on the demo store and a supplier file on disk
    store = demo_store(api, serve)
    profile = api.create_profile(store["store_id"], {"type": "upload"}, name="CLI update")
    profile_id = profile["profile_id"]
    feed = tmp_path / "stock.csv"
    feed.write_text("SKU,UPC,Price,Qty\nACME-00001-S,,12.34,7\n", encoding="utf-8")
    # When the file is uploaded without --start (the dashboard's Update)
    stored = feedsync(serve, "upload", profile_id, str(feed))
    # Then it exits 0 saying it was stored, and the profile holds it without a run
    assert stored.returncode == 0, stored.stdout + stored.stderr
    assert "stored" in stored.stdout
    shown = feedsync(serve, "--json", "profiles", "show", profile_id)
    for _ in range(100):  # the S3 notification records it a moment after the PUT
        if json.loads(shown.stdout).get("pending_upload"):
            break
        shown = feedsync(serve, "--json", "profiles", "show", profile_id)
    view = json.loads(shown.stdout)
    assert view["pending_upload"]["file_name"] == "stock.csv"
    assert view["can_start"] is True
    runs = feedsync(serve, "--json", "runs", profile_id)
    assert json.loads(runs.stdout)["runs"] == []
    # When the profile is then run, Then the stored file is synced
    done = feedsync(serve, "--json", "run", profile_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["source"]["size"] == feed.stat().st_size
    # And --wait without --start is a usage error (exit 2)
    refused = feedsync(serve, "upload", profile_id, str(feed), "--wait")
    assert refused.returncode == 2 and "--start" in refused.stderr
