"""The cost model: what feedsync's runs cost on AWS, counted on the local stack and priced.

    .venv/bin/python bench/cost_model.py [--sizes 10k,1M] [--platforms bigcommerce,shopify]
                                         [--write] [--state FILE [--from-state]]

On the local stack with ``feedsync_local.metering`` switched on, for each size (10k: a
10,000-row file with 1,000 changes; 1M: 1,000,000 rows with 100,000 changes) and each
platform's double: the store's setup through the API (its catalog import; over 10,000 rows
its reads of the store seeded in process, ``cost_seeding``, and not measured), a real run of
an ``automatic`` profile fired by the scheduler, then the unchanged-file check (the next
fire, the file the same). Printed per scenario: the counts (state transitions of the
parent and the Distributed Map's children, Lambda invocations and GB-seconds, DynamoDB read
and write units, S3 requests by class and bytes, Secrets Manager calls, Scheduler
invocations, events put, SNS publishes, API requests, log bytes), the dollars by service
at ``docs/aws_prices.toml``, each function's memory (measured and proposed), and the fleet
(10,000 tenants x 10 profiles, checks every 15 minutes, 2 real runs a day). ``--write``
replaces the generated section of ``docs/COSTS.md`` with the tables; ``--from-state`` runs
nothing and prices the measurements kept in ``--state`` again (after a price or a memory
change).
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "local", ROOT / "layers" / "common"):
    sys.path.insert(0, str(_path))

from bench.cost_memory import Alone, alone_of  # noqa: E402
from bench.cost_pricing import (  # noqa: E402
    SERVICES,
    Fleet,
    FleetCost,
    MemoryNeed,
    Pricing,
    architecture,
    average,
    billed_gb_seconds,
    dominant,
    extrapolate,
    fleet_cost,
    function_memory,
    load_prices,
    peak_mb,
    retention_days,
    template,
    total,
)
from bench.cost_scenarios import (  # noqa: E402
    MEMORY_PASSES,
    PLATFORMS,
    REPEAT,
    CostBench,
    Measured,
    handler_baseline_mb,
)
from feedsync_local.environment import LocalEnvironment  # noqa: E402
from feedsync_local.metering import Meter  # noqa: E402

SIZES = {"10k": (10_000, 1_000), "1M": (1_000_000, 100_000)}
# What a traced run of a file over 10,000 rows traces: the functions whose peak grows with
# the file. The doubles run in this process, so tracing an update shard traces the store's
# side of 100,000 changes too (an hour); a shard's batches are bounded, 10,000 rows size it.
# The notify function is traced too, alone (its event arrives while finalize still runs).
TRACED = frozenset(
    {"FetchFunction", "ParseFunction", "MatchFunction", "SelectFunction", "FinalizeFunction",
     "NotifyFunction"}
)  # fmt: skip
ALONE = frozenset({"NotifyFunction"})
COSTS_MD = ROOT / "docs" / "COSTS.md"
BEGIN = "<!-- BEGIN GENERATED: make cost (bench/cost_model.py --write) -->"
END = "<!-- END GENERATED -->"


def usd(value: float) -> str:
    if value == 0:
        return "0"
    if value < 0.0001:
        return f"{value:.7f}"
    return f"{value:.4f}" if value < 1 else f"{value:,.2f}"


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    return [_row(head), _row("---" for _ in head), *(_row(r) for r in rows)]


class Report:
    def __init__(
        self,
        measured: list[Measured],
        traced: list[Measured],
        pricing: Pricing,
        baselines: dict[str, float],
        max_rows: int,
        alone: list[Alone] | None = None,
    ) -> None:
        # by size, then platform; each platform's scenarios in the order they ran
        self.measured = sorted(measured, key=lambda m: (m.rows, m.platform))
        self.pricing, self.baselines = pricing, baselines
        self.traced = traced  # the memory pass (its durations are tracing's, not billed)
        self.max_rows = max_rows
        self.runs = [m for m in self.measured if m.scenario != "store setup"]
        self.alone = alone or []  # bench/cost_memory.py: steps measured alone

    # ----------------------------------------------------------------- the counts
    def counts_table(self) -> list[str]:
        head = ["scenario", "platform", "run", "transitions (parent + child)",
                "Lambda invocations", "GB-s", "DynamoDB RRU / WRU", "S3 PUT-class / GET-class",
                "S3 MB written", "Secrets calls", "Scheduler", "events put", "SNS",
                "API requests", "log KB", "wall s"]  # fmt: skip
        rows = []
        for m in self.measured:
            u = m.usage
            rows.append([
                m.scenario, m.platform, m.status,
                f"{u.transitions_parent} + {u.transitions_child}", len(u.invocations),
                f"{billed_gb_seconds(u, self.pricing.memory_mb):,.1f}",
                f"{u.dynamodb_read_units:,.1f} / {u.dynamodb_write_units:,.0f}",
                f"{u.s3_requests['A']:,} / {u.s3_requests['B']:,}",
                f"{sum(u.s3_bytes_put.values()) / 1e6:,.2f}", u.secrets_calls,
                u.scheduler_invocations, u.events_entries, u.sns_publishes, u.api_requests,
                f"{u.log_bytes / 1024:,.1f}", f"{m.seconds:,.1f}",
            ])  # fmt: skip
        return _table(head, rows)

    def dollars_table(self) -> list[str]:
        head = ["scenario", "platform", *SERVICES, "total"]
        rows = []
        for m in self.measured:
            costs = self.pricing.by_service(m.usage)
            rows.append([m.scenario, m.platform, *(usd(costs[s]) for s in SERVICES),
                         f"**{usd(total(costs))}**"])  # fmt: skip
        return _table(head, rows)

    # ------------------------------------------------------------------ memory
    def memory(self) -> list[MemoryNeed]:
        needs = []
        by_size: dict[int, list[Measured]] = {}
        for m in self.traced:
            by_size.setdefault(m.rows, []).append(m)
        sizes = sorted(by_size)
        for function in sorted(self.pricing.memory_mb):
            peaks = {n: peak_mb((m.usage for m in by_size[n]), function) for n in sizes}
            measured = {n: p for n, p in peaks.items() if p[0] > 0 or p[1]}
            if not measured:
                continue
            largest = max(measured)
            # An exact peak (the invocation ran alone) wins over an upper bound of any size.
            exact = [p for p in measured.values() if not p[1]]
            peak, overlapped = max(exact or measured.values())
            scaled = largest
            if len(measured) > 1:
                small = min(measured)
                grown = extrapolate(
                    (small, measured[small][0]), (largest, measured[largest][0]), self.max_rows
                )
                if grown > peak:
                    peak, scaled = grown, self.max_rows
            needs.append(MemoryNeed(function, self.baselines.get(function, 0.0), peak,
                                    overlapped, scaled))  # fmt: skip
        return [self._with_alone(need) for need in needs]

    def _with_alone(self, need: MemoryNeed) -> MemoryNeed:
        """The need with the function's largest peak measured alone, when that is larger."""
        mine = [a for a in self.alone if a.function == need.function]
        if not mine:
            return need
        top = max(mine, key=lambda a: a.peak_mb)
        if top.peak_mb <= need.peak_mb:
            return need
        return MemoryNeed(need.function, need.baseline_mb, top.peak_mb, False, top.rows,
                          top.label)  # fmt: skip

    def alone_table(self) -> list[str]:
        head = ["function", "case", "rows", "file MB", "peak MB (traced)",
                "peak RSS MB (untraced, imports included)", "seconds (untraced)"]  # fmt: skip
        rows = [[a.function, a.case, f"{a.rows:,}", f"{a.file_mb:,.0f}" if a.file_mb else "",
                 f"{a.peak_mb:,.0f}", f"{a.rss_peak_mb:,.0f}", f"{a.seconds:,.1f}"]
                for a in self.alone]  # fmt: skip
        return _table(head, rows)

    def memory_table(self) -> list[str]:
        head = ["function", "invocations", "longest s", "baseline MB (imported)",
                "peak MB (traced)", "need MB", "configured MB", "proposed MB"]  # fmt: skip
        rows = []
        for need in self.memory():
            seconds = [i.seconds for m in self.measured for i in m.usage.invocations
                       if i.function == need.function] or [0.0]  # fmt: skip
            note = f" (file of {need.scaled_to_rows:,} rows"
            if need.source:
                note = f" ({need.source})"
            else:
                if need.scaled_to_rows == self.max_rows:
                    note += ", extended from the sizes measured"
                note += ", upper bound)" if need.peak_overlapped else ")"
            rows.append([need.function, len(seconds), f"{max(seconds):,.2f}",
                         f"{need.baseline_mb:,.0f}", f"{need.peak_mb:,.0f}{note}",
                         f"{need.need_mb:,.0f}", self.pricing.memory_mb[need.function],
                         need.proposed_mb])  # fmt: skip
        return _table(head, rows)

    # ------------------------------------------------------------------- the fleet
    def _real_runs(self) -> tuple[list[Measured], bool]:
        """The 10,000-row runs the fleet prices, and whether they are repeat runs: a
        profile's real runs are (each after another run), where every platform has one
        measured; else each store's first run."""
        sized = [m for m in self.runs if m.rows == SIZES["10k"][0]]
        repeats = [m for m in sized if m.scenario == REPEAT]
        if repeats and {m.platform for m in repeats} == {m.platform for m in sized}:
            return repeats, True
        return [m for m in sized if "changes" in m.scenario and m.scenario != REPEAT], False

    def fleet(self) -> tuple[Fleet, FleetCost, int] | None:
        real, _repeats = self._real_runs()
        checks = [m for m in self.runs if m.rows == SIZES["10k"][0] and "unchanged" in m.scenario]
        if not real or not checks:
            return None
        setups = [m for m in self.measured if m.scenario == "store setup"]
        secrets = max(m.usage.calls[("secretsmanager", "CreateSecret")] for m in setups)
        fleet = Fleet(secrets_per_tenant=secrets)
        cost = fleet_cost(
            fleet,
            average(self.pricing.by_service(m.usage) for m in checks),
            average(self.pricing.by_service(m.usage) for m in real),
            self.pricing.prices,
        )
        return fleet, cost, len(real)

    def fleet_lines(self) -> list[str]:
        got = self.fleet()
        if got is None:
            return ["(the fleet needs the 10k scenario and its unchanged check)"]
        fleet, cost, platforms = got
        kind = "scenario (a store's first run)"
        if self._real_runs()[1]:
            kind = "repeat run (the next file's, after a run)"
        service, share = dominant(cost.per_tenant_month)
        runs = fleet.profiles_per_tenant * 30
        lines = [
            f"{fleet.tenants:,} tenants x {fleet.profiles_per_tenant} profiles, a check every "
            f"15 minutes ({fleet.checks_per_day} a day): {fleet.real_runs_per_day} real runs "
            f"(the 10,000-row / 1,000-change {kind}) and "
            f"{fleet.unchanged_per_day} unchanged "
            f"checks per profile a day, 30 days; an equal mix of the {platforms} platforms "
            f"measured (the mean of their figures); {fleet.secrets_per_tenant} secret per "
            "tenant held all month (the store's token: the setup's CreateSecret calls).",
            "",
            f"- per profile a day: {fleet.unchanged_per_day} x unchanged + "
            f"{fleet.real_runs_per_day} x real = ${cost.per_profile_day:.4f}",
            f"- per tenant a month: {runs} profile-days x that + secrets = "
            f"**${cost.tenant_month:,.2f}**",
            f"- the fleet a month: {fleet.tenants:,} x that = "
            f"**${cost.tenant_month * fleet.tenants:,.0f}**",
            f"- the unchanged checks are {cost.unchanged_share:.0%} of it; {service} dominates "
            f"({share:.0%})",
            "",
            *_table(
                ["service", "per tenant a month", "fleet a month"],
                (
                    [
                        s,
                        usd(cost.per_tenant_month[s]),
                        usd(cost.per_tenant_month[s] * fleet.tenants),
                    ]
                    for s in SERVICES
                ),
            ),
        ]
        return lines

    def resizing_lines(self) -> list[str]:
        """What the proposed memory saves on the real runs measured (same durations)."""
        proposed = {n.function: n.proposed_mb for n in self.memory()}
        memory = {**self.pricing.memory_mb, **proposed}
        lines = []
        for m in self.runs:
            before = billed_gb_seconds(m.usage, self.pricing.memory_mb)
            after = billed_gb_seconds(m.usage, memory)
            lines.append([m.scenario, m.platform, f"{before:,.1f}", f"{after:,.1f}"])
        return _table(["scenario", "platform", "GB-s as configured", "GB-s as proposed"], lines)

    def markdown(self, pending: Iterable[str] = ()) -> str:
        p = self.pricing
        left = list(pending)
        return "\n".join([
            f"Measured {time.strftime('%Y-%m-%d')} by `make cost`; prices "
            f"{p.prices['region']} as of {p.prices['as_of']} (`docs/aws_prices.toml`); "
            f"Lambda {p.arch}, memory as `template.yaml` configures it."
            + (f" **Not measured in this run**: {', '.join(left)}." if left else ""),
            "", "### Counts per scenario", "", *self.counts_table(),
            "", "### Dollars per scenario, by service", "", *self.dollars_table(),
            "", "### Lambda memory per function", "", *self.memory_table(),
            *(["", "Measured alone (`bench/cost_memory.py`: each case in a fresh process, the "
               "handler imported first):", "", *self.alone_table()] if self.alone else []),
            "", "GB-seconds of the runs measured, with the memory configured and proposed "
            "(the same durations):", "", *self.resizing_lines(),
            "", "### The fleet", "", *self.fleet_lines(), "",
        ])  # fmt: skip


def size_of(text: str) -> tuple[int, int]:
    """ "10k", "1M" or "ROWS:CHANGES"."""
    if text in SIZES:
        return SIZES[text]
    rows, changes = text.split(":")
    if not 0 < int(changes) <= int(rows):
        raise ValueError(text)
    return int(rows), int(changes)


def write_docs(section: str, path: Path = COSTS_MD) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path}: no generated section ({BEGIN} ... {END})")
    path.write_text(pattern.sub(lambda _m: f"{BEGIN}\n{section}\n{END}", text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10k,1M", help=f"of {', '.join(SIZES)}, or ROWS:CHANGES (a trial)"
    )
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    parser.add_argument("--write", action="store_true", help="rewrite docs/COSTS.md's tables")
    parser.add_argument(
        "--state",
        type=Path,
        help="a file keeping the measurements: read first, saved after each step (so runs "
        "of a size or a platform each add to the same tables)",
    )
    parser.add_argument(
        "--add-state",
        type=Path,
        action="append",
        default=[],
        help="another state file: its measurements of a size and platform --state lacks are "
        "added (e.g. the 10,000-row steps measured on another day)",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the memory pass (the traced run of the next file): counts and dollars only",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="also a preview of the next file and its apply (the select step's scenario)",
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="also the next file's scheduled run (a repeat run: the fleet prices those)",
    )
    parser.add_argument(
        "--memory",
        default=",".join(MEMORY_PASSES),
        help="the memory pass's runs: run (the next file's scheduled run), apply (a preview's "
        "apply, traced; the preview not)",
    )
    parser.add_argument(
        "--from-state",
        action="store_true",
        help="run nothing: print (and with --write, write) the tables of --state's measurements "
        "priced as docs/aws_prices.toml and template.yaml are now",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    try:
        sizes = [size_of(s.strip()) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        sizes = []
    passes = tuple(m for m in args.memory.split(",") if m)
    if not sizes or set(platforms) - set(PLATFORMS) or set(passes) - set(MEMORY_PASSES):
        parser.error(f"sizes are {', '.join(SIZES)} or ROWS:CHANGES; platforms "
                     f"{', '.join(PLATFORMS)}; memory passes "
                     f"{', '.join(MEMORY_PASSES)}")  # fmt: skip
    from feedsync.models import Plan

    tmpl = template()
    pricing = Pricing(load_prices(), function_memory(tmpl), architecture(tmpl),
                      retention_days(tmpl))  # fmt: skip
    print("cost model: scenarios on the local stack, metered, priced at docs/aws_prices.toml")
    measured: list[Measured] = []
    traced: list[Measured] = []
    kept: dict[str, float] = {}  # the handlers' baselines measured with the state's runs
    alone: list[dict[str, object]] = []  # bench/cost_memory.py's, kept as dicts
    if args.state and args.state.exists():
        measured, traced, *rest = pickle.loads(args.state.read_bytes())  # our own file
        kept = rest[0] if rest else {}
        alone = rest[1] if len(rest) > 1 else []
        print(f"  {len(measured)} scenarios read from {args.state}")
    for extra in args.add_state:
        more, more_traced, *rest = pickle.loads(extra.read_bytes())  # our own files
        have = {(m.rows, m.platform) for m in measured}
        measured += [m for m in more if (m.rows, m.platform) not in have]
        have = {(m.rows, m.platform) for m in traced}
        traced += [m for m in more_traced if (m.rows, m.platform) not in have]
        kept = {**(rest[0] if rest else {}), **kept}
        print(f"  {len(more)} scenarios in {extra}, those of other sizes or platforms added")
    if args.from_state:
        if not measured:
            parser.error("--from-state needs a --state file with measurements")
        report = Report(measured, traced, pricing, kept, Plan().max_rows, alone_of(alone))
        if args.write:
            write_docs(report.markdown())
            print(f"    wrote {COSTS_MD.relative_to(ROOT)}")
        print(report.markdown())
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = LocalEnvironment(files_dir=Path(tmp), run_scheduler=False)
        env.start()
        baselines = {
            logical: handler_baseline_mb(fn.code_dir, dict(os.environ))
            for logical, fn in env.stack.functions.items()
        }
        meter = Meter().attach(env.stack)
        bench = CostBench(env, meter, Path(tmp))
        steps = [(rows, changes, p) for rows, changes in sizes for p in platforms]
        for n, (rows, changes, platform) in enumerate(steps, 1):
            started = time.perf_counter()
            # The next file's run traced for memory: every function up to 10,000 rows (and a
            # second store's setup), over that the functions whose peak grows with the file.
            tracer = (
                None
                if args.no_memory
                else Meter(
                    memory=True,
                    traced=None if rows <= SIZES["10k"][0] else TRACED,
                    alone=ALONE,
                )
            )

            def keep(
                counted: list[Measured],
                memory: list[Measured],
                same: tuple[int, str] = (rows, platform),
            ) -> None:
                """The step's measurements in place of earlier ones of the same size and
                platform (the memory pass's, of the same scenario); saved to --state at once."""
                nonlocal measured, traced
                measured = [m for m in measured if (m.rows, m.platform) != same] + counted
                new = {(m.rows, m.platform, m.scenario) for m in memory}
                traced = [m for m in traced if (m.rows, m.platform, m.scenario) not in new]
                traced += memory
                if args.state:
                    args.state.write_bytes(pickle.dumps((measured, traced, baselines, alone)))

            def publish(pending: list[str]) -> Report:
                """The tables so far; with --write in docs/COSTS.md (a long run that is
                stopped keeps what it measured)."""
                report = Report(
                    measured, traced, pricing, baselines, Plan().max_rows, alone_of(alone)
                )
                if args.write:
                    write_docs(report.markdown(pending))
                    print(f"    wrote {COSTS_MD.relative_to(ROOT)}")
                return report

            def counted_first(
                counted: list[Measured], step: int = n, platform: str = platform
            ) -> None:
                """The counts saved and written before the (long) memory pass."""
                keep(counted, [])
                memory_left = [] if args.no_memory else [f"the memory pass on {platform}"]
                publish(memory_left + [f"{r:,} rows on {p}" for r, _c, p in steps[step:]])

            # Over 10,000 rows the store's import reads the double in process (cost_seeding):
            # the doubles' HTTP paging is quadratic at 1,000,000 items.
            counted, memory = bench.platform(
                platform, rows, changes, traced=tracer, seeded=rows > SIZES["10k"][0],
                counted=counted_first, apply=args.apply, memory=passes, repeat=args.repeat,
            )  # fmt: skip
            keep(counted, memory)
            print(f"    ({platform} {rows:,} rows: {time.perf_counter() - started:.0f} s)")
            report = publish([f"{r:,} rows on {p}" for r, _c, p in steps[n:]])
        meter.detach()
    print(report.markdown())
    sys.stdout.flush()
    os._exit(0)  # the stack's worker threads are not waited for


if __name__ == "__main__":
    main()
