"""Load on the local stack: 1,000 profiles fire on one minute; 100 manual Starts at once.

    .venv/bin/python bench/bench_load.py [--scheduled 1000] [--manual 100] [--stores 20]

Starts the whole local stack in-process (moto executing the real state machine, the
handlers, the BigCommerce sandbox, a supplier web server, the REST API stand-in and the
local EventBridge Scheduler tick) and checks two things:

(a) ``--scheduled`` profiles, spread over ``--stores`` tenants (one sandbox store each),
    following their tenant's schedule, which ``PUT /settings/schedule`` (the core call)
    then sets to daily at the same minute T. The local scheduler fires T; when every
    run has ended: exactly one run per profile (none lost, none duplicated), every run
    succeeded, every profile's lock released. Prints the time from T to the last run
    recorded and to the last run finished, runs/minute, store requests.
(b) ``--manual`` other profiles, one Start each over HTTP (``POST /profiles/{id}/runs``)
    from as many threads at once: every answer 202, every run succeeds, every lock
    released. Prints the Start latency p50/p95/max and the time until all finished.

Each profile's supplier file is a few rows, one of them a new price for the profile's
own item, so every run writes to the store (checked). Exits 1 if an invariant fails.
On a 2-CPU machine every run shares one process (37 to 60 runs a minute, by what else
the machine runs), so the default takes 30 to 40 minutes; ``--scheduled 300`` checks the
same invariants in about 8, ``--scheduled 0`` only (b) in about 3. The local API serves
concurrent requests at once, each on its own thread (``feedsync_local.router_state``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.core import api  # noqa: E402
from feedsync.core.deps import Deps  # noqa: E402
from feedsync.models import (  # noqa: E402
    CreateStore,
    Plan,
    ProfileSettings,
    Run,
    TenantSettings,
)
from feedsync_local.environment import LocalEnvironment  # noqa: E402

FINAL = {"succeeded", "failed", "previewed", "held", "skipped", "cancelled"}
ROWS_PER_FILE = 8
LIMITS = """\
What this can tell about AWS: the product's own invariants under concurrency -- the
start path's idempotency and lock (DynamoDB conditional writes, served by moto), one
run per scheduled fire, every lock released, every run closed. What it cannot: moto
runs every execution's ASL and every Lambda invocation as threads of this one process
on this machine's CPUs (one GIL), so the times are this process's throughput, not
Lambda's concurrency, Step Functions' start rate or DynamoDB's latency; EventBridge
Scheduler's own delivery (retries, its at-least-once duplicates) is played by the
local tick, and the store quota is raised so the sandbox does not throttle."""


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def __call__(self, ok: bool, what: str) -> None:
        print(f"  {'ok    ' if ok else 'FAILED'}  {what}")
        if not ok:
            self.failed.append(what)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def make_shops(
    env: LocalEnvironment, d: Deps, tenants: int, per_store: int
) -> list[dict[str, Any]]:
    """One tenant per store, each store seeded with ``per_store`` items; wait until ready."""
    shops = []
    for t in range(tenants):
        tenant = f"t-load-{t}"
        key = env.new_tenant(tenant)
        d.repo.put_tenant_settings(TenantSettings(tenant_id=tenant, plan=Plan(max_profiles=10_000)))
        store_hash, token = env.sandbox.create_store()
        env.sandbox.seed(
            store_hash,
            [
                {"name": f"Item {i}", "type": "physical", "weight": 1,
                 "sku": f"L{t}-{i:05d}", "price": 10.0, "inventory_level": 3}
                for i in range(per_store)
            ],
        )  # fmt: skip
        store = api.create_store(
            d,
            tenant,
            CreateStore.model_validate(
                {"name": f"load {t}", "platform": "bigcommerce",
                 "api_url": env.sandbox.api_url(store_hash),
                 "credentials": {"access_token": token}}
            ),
        )  # fmt: skip
        shops.append(
            {"tenant": tenant, "key": key, "store_id": store.store_id, "t": t, "hash": store_hash}
        )
    for shop in shops:
        deadline = time.monotonic() + 120
        while (got := d.repo.get_store(shop["tenant"], shop["store_id"])) and (
            got.status == "setting_up"
        ):
            assert time.monotonic() < deadline, "catalog import did not finish"
            time.sleep(0.1)
        assert got is not None and got.status == "ready", got
    return shops


def feed(shop: dict[str, Any], item: int, per_store: int) -> str:
    """A small supplier file: the profile's own item at a new price (a store write), then
    filler items every file lists at the store's price (no profile changes them)."""
    t = shop["t"]
    lines = ["SKU,Price,Qty", f"L{t}-{item:05d},11.50,3"]
    lines += [f"L{t}-{per_store - k:05d},10.00,3" for k in range(1, ROWS_PER_FILE)]
    return "\n".join(lines) + "\n"


def make_profile(
    d: Deps,
    files: Path,
    base_url: str,
    shop: dict[str, Any],
    item: int,
    per_store: int,
    schedule: dict[str, Any],
) -> str:
    name = f"{shop['t']}-{item:05d}.csv"
    (files / name).write_text(feed(shop, item, per_store), encoding="utf-8")
    profile = api.create_profile(
        d,
        shop["tenant"],
        ProfileSettings.model_validate(
            {"name": f"load {name}", "store_id": shop["store_id"],
             "source": {"type": "url", "url": f"{base_url}/{name}"},
             "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
             "schedule": schedule}
        ),
    )  # fmt: skip
    return profile.profile_id


def wait_all_final(
    d: Deps, profiles: list[tuple[str, str]], timeout_s: float, every_s: float = 5.0
) -> dict[tuple[str, str], list[Run]]:
    """Poll until each profile has a run and all its runs are final (or the timeout passes)."""
    runs: dict[tuple[str, str], list[Run]] = {}
    pending = list(profiles)
    deadline = time.monotonic() + timeout_s
    last_print = time.monotonic()
    while pending and time.monotonic() < deadline:
        still = []
        for key in pending:
            got = d.repo.list_runs(*key)
            runs[key] = got
            if not got or any(r.status not in FINAL for r in got):
                still.append(key)
        pending = still
        if pending:
            if time.monotonic() - last_print > 15:
                print(f"    ... {len(profiles) - len(pending)}/{len(profiles)} done")
                last_print = time.monotonic()
            time.sleep(every_s)  # each sweep reads every pending profile: keep it light
    return runs


def lock_holders(d: Deps, profiles: list[tuple[str, str]]) -> list[str]:
    held = []
    for tenant, pid in profiles:
        profile = d.repo.get_profile(tenant, pid)
        if profile is None or profile.current_run_id:
            held.append(pid)
    return held


def prices_written(env: LocalEnvironment, shops: list[dict[str, Any]], skus: set[str]) -> int:
    """How many of ``skus`` the sandbox stores now hold at the new price."""
    return sum(
        1
        for shop in shops
        for v in env.sandbox.variants(shop["hash"])
        if v["sku"] in skus and round(float(v["price"]) * 100) == 1150
    )


def store_requests(env: LocalEnvironment) -> int:
    return sum(env.sandbox.request_counts.values())


def scheduled_part(
    env: LocalEnvironment, d: Deps, shops: list[dict[str, Any]], args: Any, files: Path,
    base_url: str, per_store: int, check: Callable[[bool, str], None],
) -> None:  # fmt: skip
    n = args.scheduled
    print(f"\n(a) {n:,} profiles following their tenant's schedule, all on one minute")
    # Created on the tenant's schedule (the default), parked at a time far from now; then
    # the merchant's PUT /settings/schedule moves every tenant to one minute just ahead.
    parked = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    for shop in shops:
        api.put_schedule_settings(
            d, shop["tenant"], {"type": "daily", "at": parked, "timezone": "UTC"}
        )
    t = time.perf_counter()
    profiles: list[tuple[str, str]] = []
    skus: set[str] = set()
    for j in range(n):
        shop = shops[j % len(shops)]
        item = args.manual + j // len(shops)
        pid = make_profile(d, files, base_url, shop, item, per_store, {"type": "default"})
        profiles.append((shop["tenant"], pid))
        skus.add(f"L{shop['t']}-{item:05d}")
        if j + 1 in (100, n):
            print(f"  {j + 1:,} profiles (and their EventBridge schedules) created in "
                  f"{fmt_s(time.perf_counter() - t)}")  # fmt: skip
    minute = (datetime.now(UTC) + timedelta(seconds=90)).replace(second=0, microsecond=0)
    minute += timedelta(minutes=1)
    t = time.perf_counter()
    for shop in shops:
        api.put_schedule_settings(
            d, shop["tenant"], {"type": "daily", "at": f"{minute:%H:%M}", "timezone": "UTC"}
        )
    print(f"  {len(shops)} tenants' schedules set to daily {minute:%H:%M} UTC "
          f"({n:,} EventBridge schedules updated) in {fmt_s(time.perf_counter() - t)}")  # fmt: skip
    if datetime.now(UTC) >= minute - timedelta(seconds=5):
        check(False, f"set-up finished after {minute:%H:%M}: the minute was missed, re-run")
        return
    requests_before = store_requests(env)
    print(f"  waiting {fmt_s((minute - datetime.now(UTC)).total_seconds())} for the minute")
    time.sleep(max(0.0, (minute - datetime.now(UTC)).total_seconds()))
    runs = wait_all_final(d, profiles, timeout_s=args.timeout)
    # A duplicate or late fire would come from a later tick: let a few pass, then recount.
    assert env.tick is not None
    settle = time.monotonic() + 3 * env.tick.interval_s
    while time.monotonic() < settle:
        time.sleep(0.5)
    runs = {key: d.repo.list_runs(*key) for key in profiles}
    per_profile = Counter(len(r) for r in runs.values())
    every = [r for rs in runs.values() for r in rs]
    statuses = Counter(r.status for r in every)
    lost = sum(1 for r in runs.values() if not r)
    duplicated = sum(1 for r in runs.values() if len(r) > 1)
    print(f"  runs per profile        {dict(sorted(per_profile.items()))}  "
          f"(lost {lost}, duplicated {duplicated})")  # fmt: skip
    print(f"  runs by status          {dict(statuses)}")
    print(f"  scheduler deliveries    {env.tick.failed_attempts} failed attempts (retried), "
          f"{len(env.tick.lost)} lost")  # fmt: skip
    check(not env.tick.lost, "every fire delivered to the start function")
    wrong_time = [r.run_id for r in every if r.scheduled_time != minute]
    check(lost == 0 and duplicated == 0, "every profile fired exactly once")
    check(not wrong_time, "every run carries the scheduled minute as its scheduled_time")
    check(statuses == Counter({"succeeded": n}), "every run succeeded")
    failed = [r for r in every if r.status != "succeeded"]
    for r in failed[:5]:
        print(f"    {r.run_id} {r.status}: {r.reason or r.error}")
    held = lock_holders(d, profiles)
    check(not held, f"every profile's lock released ({len(held)} held)")
    written = prices_written(env, shops, skus)
    check(written == n, f"every profile's new price is in the store ({written:,} of {n:,})")
    if every:
        created = max(r.created_at for r in every)
        finished = max(r.finished_at or created for r in every)
        first = min(r.created_at for r in every)
        span = (finished - minute).total_seconds()
        print(f"  minute -> first run     {fmt_s((first - minute).total_seconds())}")
        print(f"  minute -> last run      {fmt_s((created - minute).total_seconds())}  (recorded)")
        print(f"  minute -> all finished  {fmt_s(span)}")
        print(f"  runs/minute             {len(every) / max(span, 1e-9) * 60:.0f}")
        print(f"  store requests          {store_requests(env) - requests_before:,}")


def manual_part(
    env: LocalEnvironment, d: Deps, shops: list[dict[str, Any]], profiles: list[tuple[str, str]],
    keys: dict[str, str], args: Any, check: Callable[[bool, str], None],
) -> None:  # fmt: skip
    n = len(profiles)
    print(f"\n(b) {n} manual Starts at once (POST /profiles/{{id}}/runs, {n} threads)")
    assert env.api is not None
    url = env.api.url
    answers: dict[str, tuple[int, float, str]] = {}
    gate = threading.Barrier(n)
    requests_before = store_requests(env)

    def start(tenant: str, pid: str) -> None:
        with requests.Session() as http:
            headers = {"Authorization": f"Bearer {keys[tenant]}"}
            gate.wait()
            t = time.perf_counter()
            try:
                answer = http.post(f"{url}/profiles/{pid}/runs", headers=headers, timeout=300)
                body = answer.json() if answer.status_code < 300 else {}
                answers[pid] = (answer.status_code, time.perf_counter() - t,
                                str(body.get("run_id") or answer.text[:200]))  # fmt: skip
            except requests.RequestException as exc:
                answers[pid] = (0, time.perf_counter() - t, str(exc))

    threads = [threading.Thread(target=start, args=key) for key in profiles]
    t0 = datetime.now(UTC)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [pid for pid, (status, _, _) in answers.items() if status == 202]
    codes = Counter(status for status, _, _ in answers.values())
    check(len(accepted) == n, f"every Start answered 202 ({dict(codes)})")
    for pid, (status, _, text) in list(answers.items())[:5]:
        if status != 202:
            print(f"    {pid}: {status} {text}")
    latencies = sorted(lat for _, lat, _ in answers.values())
    runs = wait_all_final(d, profiles, timeout_s=args.timeout, every_s=1.0)
    every = [r for rs in runs.values() for r in rs]
    statuses = Counter(r.status for r in every)
    print(f"  runs by status          {dict(statuses)}")
    check(statuses == Counter({"succeeded": n}) and all(len(r) == 1 for r in runs.values()),
          "every Start made one run and it succeeded")  # fmt: skip
    for r in [r for r in every if r.status != "succeeded"][:5]:
        print(f"    {r.run_id} {r.status}: {r.reason or r.error}")
    held = lock_holders(d, profiles)
    check(not held, f"every profile's lock released ({len(held)} held)")
    skus = {f"L{j % len(shops)}-{j:05d}" for j in range(n)}
    written = prices_written(env, shops, skus)
    check(written == n, f"every profile's new price is in the store ({written} of {n})")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
        print(f"  start latency           p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")  # fmt: skip
    if every:
        done = max(r.finished_at or datetime.now(UTC) for r in every) - t0
        print(f"  Starts sent -> all finished  {fmt_s(done.total_seconds())}")
    print(f"  store requests          {store_requests(env) - requests_before:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduled", type=int, default=1000)
    parser.add_argument("--manual", type=int, default=100)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for runs")
    args = parser.parse_args()
    check = Checks()
    per_store = args.manual + -(-args.scheduled // args.stores) + ROWS_PER_FILE
    print(f"load benchmark: {args.scheduled:,} scheduled profiles, {args.manual} manual Starts, "
          f"{args.stores} stores of {per_store:,} items, {ROWS_PER_FILE}-row files")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp)
        with LocalEnvironment(files_dir=files, quota=(10**6, 30.0)) as env:
            from feedsync.wiring import deps

            # 2,200 runs' INFO lines would bury the figures (handlers read it at import).
            os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

            d = deps()
            assert env.files is not None
            t = time.perf_counter()
            shops = make_shops(env, d, args.stores, per_store)
            print(f"  {args.stores} stores imported in {fmt_s(time.perf_counter() - t)}")
            manual: list[tuple[str, str]] = []
            for j in range(args.manual):
                shop = shops[j % len(shops)]
                pid = make_profile(d, files, env.files.url, shop, j, per_store, {"type": "manual"})
                manual.append((shop["tenant"], pid))
            keys = {s["tenant"]: s["key"] for s in shops}
            if args.scheduled:
                scheduled_part(env, d, shops, args, files, env.files.url, per_store, check)
            if args.manual:
                manual_part(env, d, shops, manual, keys, args, check)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"\n  peak RSS (whole stack)  {peak:.0f} MB")
    print("\n" + LIMITS)
    print(f"\nresult: {'ok' if not check.failed else 'NOT OK: ' + '; '.join(check.failed)}")
    sys.stdout.flush()
    os._exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
