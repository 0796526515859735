"""Load, scaled down (``bench/bench_load.py`` has the full figures): many profiles fire on
one minute once each and free their locks; concurrent Starts over HTTP all finish."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from integration_harness import Harness, Shop, simple_product

from feedsync.models import Plan, Run, TenantSettings
from feedsync_local.scheduler_tick import SchedulerTick, moto_schedules

SCHEDULED = 25
MANUAL = 10
MINUTE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _shop(h: Harness, items: int) -> Shop:
    skus = [*range(items), FILLER]
    shop = h.shop([simple_product(f"Item {i}", f"LD-{i:03d}", "10.00", 3) for i in skus])
    plan = Plan(max_profiles=items)
    h.deps.repo.put_tenant_settings(TenantSettings(tenant_id=shop.tenant, plan=plan))
    return shop


FILLER = 999  # an item every feed lists at the store's price: no profile changes it


def _feed(item: int) -> str:
    """The profile's own item at a new price (a store write), the shared filler unchanged."""
    return f"SKU,Price,Qty\nLD-{item:03d},11.50,3\nLD-{FILLER:03d},10.00,3\n"


def _final_runs(h: Harness, tenant: str, profile_ids: list[str]) -> dict[str, list[Run]]:
    """Each profile's runs once its first run ended (every run awaited to the end)."""
    out: dict[str, list[Run]] = {}
    for pid in profile_ids:
        for run in h.deps.repo.list_runs(tenant, pid):
            h.wait_run(tenant, run.run_id)
        out[pid] = h.deps.repo.list_runs(tenant, pid)
    return out


def _locks_held(h: Harness, tenant: str, profile_ids: list[str]) -> list[str]:
    held = []
    for pid in profile_ids:
        profile = h.deps.repo.get_profile(tenant, pid)
        if profile is None or profile.current_run_id is not None:
            held.append(pid)
    return held


def test_profiles_scheduled_on_one_minute_each_run_once_and_free_their_locks(
    h: Harness,
) -> None:
    # Given 25 profiles of one store, all daily at 09:00 UTC, and the scheduler's clock
    shop = _shop(h, SCHEDULED)
    daily = {"type": "daily", "at": "09:00", "timezone": "UTC"}
    profiles = [h.url_profile(shop, _feed(i), schedule=daily) for i in range(SCHEDULED)]
    ids = [p.profile_id for p in profiles]
    group = h.stack.env["SCHEDULE_GROUP"]
    listing = moto_schedules(h.stack.client("scheduler"), group)
    mine = lambda: [s for s in listing() if s["Name"] in ids]  # noqa: E731
    clock = [MINUTE - timedelta(seconds=3)]
    tick = SchedulerTick(mine, h.stack.invoke_arn, clock=lambda: clock[0])
    tick.tick()
    # When the clock passes 09:00 and ticks on through the minute
    for _ in range(4):
        clock[0] += timedelta(seconds=5)
        tick.tick()
    # Then every profile has exactly one run, for 09:00, and it succeeded
    runs = _final_runs(h, shop.tenant, ids)
    assert {pid: len(r) for pid, r in runs.items()} == dict.fromkeys(ids, 1)
    assert {r[0].scheduled_time for r in runs.values()} == {MINUTE}
    failed = {r[0].run_id: r[0].error for r in runs.values() if r[0].status != "succeeded"}
    assert failed == {}
    assert all(r[0].trigger == "schedule" for r in runs.values())
    # And every lock is free, and no fire needed a second delivery
    assert _locks_held(h, shop.tenant, ids) == []
    assert tick.failed_attempts == 0 and tick.lost == []
    # And every profile's price reached the store
    values = h.store_values(shop)
    assert [i for i in range(SCHEDULED) if values[f"LD-{i:03d}"][0] != 1150] == []


def test_concurrent_manual_starts_over_http_across_profiles_all_finish(h: Harness) -> None:
    # Given 10 profiles of one store and the tenant's API key
    shop = _shop(h, MANUAL)
    ids = [h.url_profile(shop, _feed(i)).profile_id for i in range(MANUAL)]
    key = h.env.new_tenant(shop.tenant)
    assert h.env.api is not None
    url = h.env.api.url
    gate = threading.Barrier(MANUAL)
    answers: dict[str, tuple[int, dict[str, Any]]] = {}

    def start(pid: str) -> None:
        with requests.Session() as http:
            gate.wait()
            answer = http.post(
                f"{url}/profiles/{pid}/runs",
                headers={"Authorization": f"Bearer {key}"},
                timeout=120,
            )
            answers[pid] = (answer.status_code, answer.json())

    # When one Start per profile is sent at the same moment, from 10 threads
    threads = [threading.Thread(target=start, args=(pid,)) for pid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Then all are accepted
    assert {pid: status for pid, (status, _) in answers.items()} == dict.fromkeys(ids, 202)
    # And each made one run, which succeeded, and every lock is free
    runs = _final_runs(h, shop.tenant, ids)
    assert {pid: [r.run_id for r in got] for pid, got in runs.items()} == {
        pid: [body["run_id"]] for pid, (_, body) in answers.items()
    }
    failed = {r[0].run_id: r[0].error for r in runs.values() if r[0].status != "succeeded"}
    assert failed == {}
    assert _locks_held(h, shop.tenant, ids) == []
    values = h.store_values(shop)
    assert [i for i in range(MANUAL) if values[f"LD-{i:03d}"][0] != 1150] == []


def test_the_local_aws_endpoint_queues_a_burst_of_connections(h: Harness) -> None:
    # Given the local stack's AWS endpoint (moto), which every handler and every
    # execution's Lambda task calls; under load its accept loop waits for the GIL
    server = h.stack._server._server  # moto's thread -> the WSGI server it runs
    # When the queue it asks listen() for is read (the kernel may cap it further at
    # net.core.somaxconn; that is the machine's setting, not the stack's)
    asked = server.request_queue_size
    # Then it is thousands, not werkzeug's 128 (a burst of 500 runs overflowed that, and a
    # Lambda task failed with "Connection was closed before we received a valid response")
    assert asked >= 1024
    assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
