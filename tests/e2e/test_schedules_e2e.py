"""Schedules over HTTP on `feedsync serve`: set them, see them, watch one fire."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from e2e_support import Api, StoreInfo, Supplier, csv_text

pytestmark = pytest.mark.e2e


def test_tenant_schedule_settings_round_trip_and_are_validated(api: Api) -> None:
    # When the tenant's global schedule is set to daily at 00:30 New York time
    body = {"type": "daily", "at": "0:30", "timezone": "America/New_York"}
    saved = api.ok("PUT", "/settings/schedule", body)
    # Then it is stored normalised and read back
    assert saved == {"type": "daily", "at": "00:30", "timezone": "America/New_York"}
    assert api.ok("GET", "/settings/schedule") == saved
    # And an invalid one is refused naming the field
    bad = api.request("PUT", "/settings/schedule", json={"type": "daily", "at": "25:00"})
    assert bad.status_code == 422 and bad.json()["field"] == "at"
    # And the OpenAPI document describes every schedule shape and the settings path
    spec = api.get("/openapi.json").json()
    assert "/settings/schedule" in spec["paths"]
    schemas = spec["components"]["schemas"]
    shapes = schemas["ProfileSettings"]["properties"]["schedule"]["oneOf"]
    models = [schemas[shape["$ref"].rsplit("/", 1)[1]] for shape in shapes]
    kinds = {model["properties"]["type"]["const"] for model in models}
    assert kinds == {"interval", "automatic", "daily", "cron", "after", "default", "manual"}


def test_a_one_minute_schedule_fires_by_itself(
    api: Api, supplier: Supplier, store: StoreInfo
) -> None:
    # Given a profile every minute, anchored so its next fire is a few seconds away
    # (an item the store does not have: this test changes nothing other tests look at)
    url = supplier.put("every_minute.csv", csv_text([["SCHED-0001", "", "5.00", "1"]]))
    anchor = datetime.now(UTC) - timedelta(seconds=52)
    schedule = {
        "type": "interval",
        "every_minutes": 1,
        "anchor": anchor.isoformat(),
        "blackouts": [],
    }
    profile = api.create_profile(store.store_id, {"type": "url", "url": url}, schedule=schedule)
    pid = profile["profile_id"]
    # Then the profile shows its next run and health
    assert profile["next_run_at"] is not None
    assert profile["health"]["status"] in ("green", "yellow")
    # When we wait, then a scheduled run appears and succeeds without anyone pressing Start
    deadline = time.monotonic() + 45
    runs: list[dict[str, object]] = []
    while not runs:
        assert time.monotonic() < deadline, "the schedule did not fire"
        time.sleep(0.5)
        runs = api.ok("GET", f"/profiles/{pid}/runs")["runs"]
    run = api.wait_run(str(runs[-1]["run_id"]))
    assert run["trigger"] == "schedule" and run["status"] == "succeeded"
    assert run["scheduled_time"] is not None
    # And switching it to manual stops it (its EventBridge schedule is removed)
    api.ok("PATCH", f"/profiles/{pid}", {"schedule": {"type": "manual"}})
    assert api.ok("GET", f"/profiles/{pid}")["next_run_at"] is None
