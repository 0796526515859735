"""The cost model's scenarios, driven on the local stack with the meter on.

Each platform's store is a double seeded with the file's items (``bench_review``'s seeding,
one store); the tenant creates the store and an ``automatic`` profile (every 15 minutes,
the supplier file on a loopback web server) through the local API Gateway, as a merchant
would; then EventBridge Scheduler's part (``SchedulerTick`` on a virtual clock) fires the
profile's schedule: the first fire finds a new file and syncs its changes, the second finds
the same file. With ``apply``, then a merchant's review: a manual Start of the next file as
a preview (``{"preview": true}``, it writes nothing) and ``POST /runs/{id}/apply`` of all its
changes (the select step, then the update). Each scenario is metered on its own and waited
for until the product is quiet: the run final, its execution ended and every asynchronous
invocation (the run's events, notifications) done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_review import PLATFORMS, SEED_PRICE, SEED_STOCK, TWINS, Twin
from bench.cost_seeding import RecordingStack, full_read, seeded_reads
from feedsync_local.environment import LocalEnvironment
from feedsync_local.metering import Meter, Usage
from feedsync_local.scheduler_tick import SchedulerTick

ROOT = Path(__file__).resolve().parent.parent
FINAL = {"succeeded", "failed", "previewed", "partially_applied", "held", "skipped", "cancelled"}
EVERY_15 = {"type": "automatic", "every_minutes": 15}
# The memory pass's runs: the next file's scheduled run (fetch, parse, match, update,
# finalize) and an apply of a preview (select, update, finalize).
MEMORY_PASSES = ("run", "apply")
PREVIEW, APPLY = "preview of the next file", "apply of the preview"
# The next file's scheduled run: what a profile's runs are after its first (its catalog
# refresh reads back the products the run before wrote).
REPEAT = "repeat run: the next file"
__all__ = ["PLATFORMS", "CostBench", "Measured", "handler_baseline_mb"]


@dataclass
class Measured:
    """One scenario on one platform: what the product used, and how the run ended."""

    scenario: str
    platform: str
    rows: int
    changes: int
    status: str  # the run's, or "no run" when the start path started none
    counts: dict[str, int]
    seconds: float  # wall time on this machine, start to quiet
    usage: Usage = field(repr=False)
    execution: str | None = None  # the run's Step Functions execution ARN


def feed_lines(skus: list[str], changes: int, edition: int = 0) -> list[str]:
    """The supplier file: every item at the store's values except ``changes`` rows spread
    evenly, each a new price (even ones) or a new stock level (odd ones); each ``edition``
    gives those rows other values (the next file, as many changes). The profile keeps the
    default safety limits, which these changes stay within."""
    every = max(1, len(skus) // changes) if changes else 0
    lines = ["SKU,Price,Qty\n"]
    changed = 0
    for i, sku in enumerate(skus):
        if every and i % every == 0 and changed < changes:
            k = i + edition
            if changed % 2 == 0:
                # 11.00 to 14.99: within the default safety limits (a move under 50%)
                lines.append(f"{sku},{11 + k % 4}.{k % 100:02d},{SEED_STOCK}\n")
            else:
                lines.append(f"{sku},{SEED_PRICE},{SEED_STOCK + 1 + k % 40}\n")
            changed += 1
        else:
            lines.append(f"{sku},{SEED_PRICE},{SEED_STOCK}\n")
    return lines


def _rewrite(path: Path, lines: list[str]) -> None:
    """The supplier's next file, with a newer Last-Modified: the next fire fetches it."""
    with path.open("w", encoding="utf-8") as out:
        out.writelines(lines)
    stamp = time.time() + 60
    os.utime(path, (stamp, stamp))


class Fires:
    """EventBridge Scheduler for one profile, on a clock moved 15 minutes per fire."""

    def __init__(self, env: LocalEnvironment, meter: Meter, schedule_name: str) -> None:
        group = env.stack.env["SCHEDULE_GROUP"]
        client = env.stack.client("scheduler")
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.answers: list[Any] = []

        def read() -> list[dict[str, Any]]:
            return [dict(client.get_schedule(GroupName=group, Name=schedule_name))]

        def invoke(arn: str, event: dict[str, Any]) -> None:
            self.answers.append(env.stack.invoke_arn(arn, event))

        self.tick = SchedulerTick(read, invoke, clock=lambda: self.now)
        self.tick.meter = meter
        self.tick.tick()  # the first tick only sets the window

    def fire(self) -> Any:
        """The next fire: the start function's answer."""
        self.now += timedelta(minutes=15)
        self.answers.clear()
        fired = self.tick.tick()
        if len(fired) != 1 or len(self.answers) != 1:
            raise RuntimeError(f"expected one fire, got {fired} ({self.tick.lost} lost)")
        return self.answers[0]


class CostBench:
    """Scenarios on one local environment, metered one at a time."""

    def __init__(self, env: LocalEnvironment, meter: Meter, files_dir: Path) -> None:
        self.env, self.meter, self.files_dir = env, meter, files_dir

    # ------------------------------------------------------------------ the merchant
    def _api(self, key: str, method: str, path: str, body: Any = None) -> Any:
        """A request through the local API Gateway (authorizer, then the API function)."""
        assert self.env.api is not None
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        payload = json.dumps(body).encode() if body is not None else b""
        status, _headers, answer = self.env.api.handle(method, path, headers, payload)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
        return json.loads(answer)

    def _setup(self, key: str, tenant: str, twin: Twin, url: str) -> tuple[str, Usage, float]:
        """POST /stores (its catalog import), then POST /profiles: the profile id."""
        from feedsync.wiring import deps

        started = time.perf_counter()
        store = self._api(key, "POST", "/stores", {
            "name": f"cost {twin.platform}", "platform": twin.platform,
            "api_url": twin.api_url, "credentials": twin.credentials,
        })  # fmt: skip
        deadline = time.monotonic() + 3600
        while (got := deps().repo.get_store(tenant, store["store_id"])) is None or (
            got.status == "setting_up"
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{twin.platform}: the catalog import did not finish")
            time.sleep(0.2)
        if got.status != "ready":
            raise RuntimeError(f"{twin.platform}: the store is {got.status}: {got.error}")
        profile = self._api(key, "POST", "/profiles", {
            "name": f"cost {twin.platform}", "store_id": store["store_id"],
            "source": {"type": "url", "url": url},
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
            "fields": ["price", "stock"], "schedule": EVERY_15,
        })  # fmt: skip
        self._quiet(time.monotonic() + 600)
        return str(profile["profile_id"]), self.meter.reset(), time.perf_counter() - started

    # -------------------------------------------------------------------- the runs
    def _quiet(self, deadline: float) -> None:
        """Until no invocation runs and no asynchronous one is pending."""
        while any(t.is_alive() for t in self.env.stack._threads) or self.meter.running():
            if time.monotonic() > deadline:
                raise TimeoutError("the local stack did not settle")
            time.sleep(0.05)

    def _until_done(
        self, tenant: str, answer: Any, timeout_s: float
    ) -> tuple[str, dict[str, int], str | None]:
        """Wait for the run the start path answered with (if any) and for quiet: its
        status, counts and execution ARN."""
        from feedsync.wiring import deps

        deadline = time.monotonic() + timeout_s
        runs = (answer or {}).get("runs") or []
        if not runs:
            self._quiet(deadline)
            return "no run", {}, None
        run_id = runs[0]["run_id"]
        while (run := deps().repo.get_run(tenant, run_id)) is None or run.status not in FINAL:
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} did not end")
            time.sleep(0.1)
        sfn = self.env.stack.client("stepfunctions")
        arn = self.env.stack.state_machine_arn.replace(":stateMachine:", ":execution:")
        execution = f"{arn}:{run.execution_name}" if run.execution_name else None
        if execution:
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    raise TimeoutError(f"execution {run.execution_name} did not end")
                time.sleep(0.05)
        self._quiet(deadline)
        return run.status, dict(run.counts), execution

    def platform(
        self,
        platform: str,
        rows: int,
        changes: int,
        log: Callable[[str], None] = print,
        traced: Meter | None = None,
        seeded: bool = False,
        counted: Callable[[list[Measured]], None] | None = None,
        apply: bool = False,
        memory: tuple[str, ...] = MEMORY_PASSES,
        repeat: bool = False,
    ) -> tuple[list[Measured], list[Measured]]:
        """Setup, a real run of ``rows`` rows with ``changes`` changes, an unchanged check;
        with ``repeat`` the next file's scheduled run (``REPEAT``); with ``apply`` a preview
        of the next file and its apply. With ``traced`` (a memory
        meter), the ``memory`` passes under it (their durations are tracing's): the next
        file's scheduled run, and (the preview untraced) an apply. ``seeded``: the store's
        import reads the double in process (``cost_seeding``) and the setup is not measured;
        ``counted`` is given the counted scenarios before the (long) memory pass."""
        from feedsync.models import Plan, TenantSettings
        from feedsync.wiring import deps

        tenant = f"cost-{uuid.uuid4().hex[:10]}"
        key = self.env.new_tenant(tenant)
        deps().repo.put_tenant_settings(TenantSettings(tenant_id=tenant, plan=Plan()))
        measured: list[Measured] = []
        with RecordingStack() as doubles:
            t0 = time.perf_counter()
            (twin,) = TWINS[platform](self.env, doubles, rows, copies=1)
            skus = sorted(twin.values())
            name = f"cost-{platform}-{uuid.uuid4().hex[:8]}.csv"
            path = self.files_dir / name
            with path.open("w", encoding="utf-8") as out:
                out.writelines(feed_lines(skus, changes))
            assert self.env.files is not None
            log(f"  {platform}: {rows:,} items seeded in {time.perf_counter() - t0:.0f} s")
            self.meter.reset()  # seeding the double is not the product's
            read = full_read(platform, self.env, doubles, twin.api_url) if seeded else None
            with seeded_reads(tenant, read):
                profile_id, usage, secs = self._setup(
                    key, tenant, twin, f"{self.env.files.url}/{name}"
                )
            if seeded:  # a one-off per store, its reads not the product's: not in the tables
                how = "seeded in process" if read else "imported over HTTP"
                log(f"    store setup ({how}, not measured): {secs:.0f} s")
            else:
                measured.append(Measured("store setup", platform, rows, 0, "ready", {}, secs,
                                         usage))  # fmt: skip
            fires = Fires(self.env, self.meter, profile_id)
            for scenario in (f"{rows:,} rows, {changes:,} changes", "unchanged-file check"):
                t = time.perf_counter()
                status, counts, execution = self._until_done(tenant, fires.fire(), 3600)
                usage = self.meter.reset()
                secs = time.perf_counter() - t
                measured.append(Measured(scenario, platform, rows, changes, status, counts,
                                         secs, usage, execution))  # fmt: skip
                log(f"    {scenario}: {status} {counts.get('updated', 0):,} updated, {secs:.1f} s")
            edition = 0

            def next_file() -> None:
                nonlocal edition
                edition += 1
                _rewrite(path, feed_lines(skus, changes, edition))

            def counted_run(scenario: str, start: Callable[[], Any], ends: str) -> Measured:
                """A run the API started, metered on its own: it must end ``ends``."""
                t = time.perf_counter()
                status, counts, execution = self._until_done(tenant, start(), 3600)
                got = Measured(scenario, platform, rows, changes, status, counts,
                               time.perf_counter() - t, self.meter.reset(), execution)  # fmt: skip
                log(f"    {scenario}: {status} {counts.get('updated', 0):,} updated, "
                    f"{got.seconds:.1f} s")  # fmt: skip
                if status != ends:
                    raise RuntimeError(f"{platform}: {scenario} ended {status}, not {ends}")
                return got

            previews: list[str] = []  # the preview's run, for its apply

            def preview() -> Any:
                answer = self._api(key, "POST", f"/profiles/{profile_id}/runs", {"preview": True})
                previews.append(answer["run_id"])
                return {"runs": [answer]}

            def apply_it() -> Any:
                answer = self._api(key, "POST", f"/runs/{previews[-1]}/apply", {})
                return {"runs": [answer]}

            if repeat:
                next_file()
                measured.append(counted_run(REPEAT, fires.fire, "succeeded"))
            if apply:
                next_file()
                measured.append(counted_run(PREVIEW, preview, "previewed"))
                measured.append(counted_run(APPLY, apply_it, "succeeded"))
            if counted is not None:
                counted(measured)
            if traced is None:
                return measured, []
            traces: list[Measured] = []
            if "run" in memory:
                next_file()
                traces += self._traced(traced, "traced run", tenant, platform, fires.fire, rows,
                                       changes, log, fires, (key, twin, path))  # fmt: skip
            if "apply" in memory:
                next_file()
                counted_run(PREVIEW, preview, "previewed")  # untraced; its counts not kept
                traces += self._traced(traced, "traced apply", tenant, platform, apply_it, rows,
                                       changes, log, fires)  # fmt: skip
        return measured, traces

    def _traced(
        self, traced: Meter, scenario: str, tenant: str, platform: str,
        start: Callable[[], Any], rows: int, changes: int, log: Callable[[str], None],
        fires: Fires,
        setup: tuple[str, Twin, Path] | None = None,
    ) -> list[Measured]:  # fmt: skip
        """A run ``start`` begins, under the memory meter; with ``setup`` (key, twin, file),
        when the meter traces every function, a second store's setup first (its catalog
        import; skipped for large catalogs)."""
        counting, self.meter = self.meter, traced
        counting.detach()
        traced.attach(self.env.stack)
        fires.tick.meter = traced
        out: list[Measured] = []
        try:
            if setup is not None and traced.traced is None:
                key, twin, path = setup
                assert self.env.files is not None
                url = f"{self.env.files.url}/{path.name}"
                _profile, usage, secs = self._setup(key, tenant, twin, url)
                out.append(Measured("traced setup", twin.platform, rows, 0, "ready", {}, secs,
                                    usage))  # fmt: skip
            t = time.perf_counter()
            status, counts, execution = self._until_done(tenant, start(), 7200)
            secs = time.perf_counter() - t
            out.append(Measured(scenario, platform, rows, changes, status,
                                counts, secs, traced.reset(), execution))  # fmt: skip
            log(f"    {scenario} (memory): {status}, {secs:.1f} s")
        finally:
            traced.detach()
            self.meter = fires.tick.meter = counting
            counting.attach(self.env.stack)
        return out


def handler_baseline_mb(code_dir: Path, env: dict[str, str]) -> float:
    """Peak RSS of a fresh Python process that imported the handler module (what a
    Lambda environment holds before its first event), in MB."""
    script = (
        "import importlib.util, re\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(code_dir / 'app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
    )
    # The function's own folder first, as Lambda's task root (the API's `routes` package).
    path = f"{code_dir}:{ROOT / 'layers' / 'common'}:{ROOT / 'local'}:{ROOT}"
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # VmHWM is in kB
