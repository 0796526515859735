"""The start path's guards and the per-profile lock, against DynamoDB on moto."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from integration_harness import Harness, simple_product

from feedsync.core import api
from feedsync.errors import Conflict
from feedsync.models import Run, Store

THREADS = 50


def test_fifty_simultaneous_starts_make_exactly_one_run(h: Harness) -> None:
    # Given a ready profile
    shop = h.shop([simple_product("Sock", "SOCK-1", "2.00", 10)])
    profile = h.url_profile(shop, "SKU,Price,Qty\nSOCK-1,2.50,10\n")
    barrier = threading.Barrier(THREADS)
    runs: list[Run] = []
    conflicts: list[Conflict] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        try:
            run = api.start(h.deps, shop.tenant, profile.profile_id, "manual", None)
        except Conflict as exc:
            with lock:
                conflicts.append(exc)
        except BaseException as exc:
            with lock:
                other.append(exc)
        else:
            with lock:
                runs.append(run)

    # When 50 threads call start for it at once
    threads = [threading.Thread(target=start) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # Then exactly one run was created and 49 were refused as already running
    assert not other, other
    assert len(runs) == 1, [r.run_id for r in runs]
    assert len(conflicts) == THREADS - 1
    assert {c.reason for c in conflicts} == {"already_running"}
    assert [r.run_id for r in h.deps.repo.list_runs(shop.tenant, profile.profile_id)] == [
        runs[0].run_id
    ]
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.current_run_id in (runs[0].run_id, None)  # None only if it already ended

    # ... and that one run goes through to the end and frees the profile
    final = h.wait_run(shop.tenant, runs[0].run_id)
    assert final.status == "succeeded", final.error
    assert h.execution(final.run_id)["status"] == "SUCCEEDED"
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.current_run_id is None and prof.status == "ready"


def test_start_while_running_is_refused_then_accepted_after(h: Harness) -> None:
    # Given a run in progress (held in Fetch by a slow fault)
    shop = h.shop([simple_product("Hat", "HAT-1", "8.00", 1)])
    profile = h.url_profile(shop, "SKU,Price,Qty\nHAT-1,8.50,1\n")
    release = threading.Event()
    h.stack.faults["FetchFunction"] = lambda event: release.wait(20) and None
    first = h.start(shop.tenant, profile.profile_id)

    # When another start comes in
    with pytest.raises(Conflict) as refused:
        h.start(shop.tenant, profile.profile_id)
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)

    # Then it is refused, and the profile shows the running run
    assert refused.value.reason == "already_running"
    assert prof.status == "running" and prof.current_run_id == first.run_id

    # When the first run finishes, a new start is accepted
    release.set()
    assert h.wait_run(shop.tenant, first.run_id).status == "succeeded"
    h.execution(first.run_id)
    second = h.run_to_end(shop.tenant, profile.profile_id)
    assert second.status == "succeeded"


def test_store_still_setting_up_refuses_start(h: Harness) -> None:
    # Given a store whose catalog import has not run yet
    tenant = h.tenant()
    store = Store(
        tenant_id=tenant,
        store_id=h.deps.ids("store"),
        name="not yet",
        platform="bigcommerce",
        api_url="http://127.0.0.1:9/stores/x/v3",
        secret_ref="unused",
        status="setting_up",
        created_at=datetime.now(UTC),
    )
    h.deps.repo.put_store(store)
    url = h.feed_url("SKU,Price,Qty\nX,1.00,1\n")
    profile = h.profile_for(tenant, store.store_id, {"type": "url", "url": url})

    # When a run is started
    with pytest.raises(Conflict) as refused:
        h.start(tenant, profile.profile_id)

    # Then it is refused as store_setting_up; no run, no lock
    assert refused.value.reason == "store_setting_up"
    assert h.deps.repo.list_runs(tenant, profile.profile_id) == []
    prof = h.deps.repo.get_profile(tenant, profile.profile_id)
    assert prof.current_run_id is None and prof.status == "ready"


def test_disabled_profile_refuses_start(h: Harness) -> None:
    # Given a disabled profile on a ready store
    shop = h.shop([simple_product("Bag", "BAG-1", "30.00", 2)])
    profile = h.url_profile(shop, "SKU,Price,Qty\nBAG-1,31.00,2\n", enabled=False)

    # When a run is started
    with pytest.raises(Conflict) as refused:
        h.start(shop.tenant, profile.profile_id)

    # Then it is refused as profile_disabled; no run, no lock, the store untouched
    assert refused.value.reason == "profile_disabled"
    assert "disabled" in refused.value.message
    assert h.deps.repo.list_runs(shop.tenant, profile.profile_id) == []
    prof = h.deps.repo.get_profile(shop.tenant, profile.profile_id)
    assert prof.current_run_id is None and prof.status == "ready"
    assert h.puts_to(shop) == []
