"""The cost model's arithmetic (``bench/cost_pricing.py``): counts x the dated prices."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.cost_pricing import (
    SERVICES,
    Fleet,
    MemoryNeed,
    Pricing,
    extrapolate,
    fleet_cost,
    function_memory,
    load_prices,
    retention_days,
    template,
    total,
)
from feedsync_local.metering import Invocation, Usage

PRICES = load_prices()


def test_the_price_table_is_dated_and_every_price_names_its_unit_and_page() -> None:
    # Given docs/aws_prices.toml, then it says its region and date, and every price its
    # unit, its source page and whether it was read on AWS's own page
    assert PRICES["region"] == "us-east-1" and PRICES["as_of"]
    items = [item for key, service in PRICES.items() if isinstance(service, dict)
             for item in service.values()]  # fmt: skip
    assert len(items) >= 17
    for item in items:
        assert item["usd"] > 0 and item["unit"] and item["source"].startswith("https://")
        assert item["confirmed"] in ("aws", "third-party")


def test_a_runs_counts_are_priced_per_service() -> None:
    # Given a run's counts: 8 transitions, two invocations (1.0004 s at 1,024 MB: billed
    # 1.001 s; 0.5 s at 2,048 MB), 10 RRU, 4 WRU, 3 PUT- and 5 GET-class requests, 1 GiB
    # written under runs/ (kept 90 days), one event, one publish, one scheduled invocation
    usage = Usage(transitions_parent=6, transitions_child=2,
                  invocations=[Invocation("A", 1.0004, None, False, 0),
                               Invocation("B", 0.5, None, False, 0)],
                  dynamodb_read_units=10, dynamodb_write_units=4,
                  s3_requests=Counter({"A": 3, "B": 5}), s3_bytes_put=Counter({"runs": 1024**3}),
                  events_entries=1, sns_publishes=1, scheduler_invocations=1,
                  log_bytes=1024**3)  # fmt: skip
    pricing = Pricing(PRICES, {"A": 1024, "B": 2048}, "arm64", {"runs": 90})
    # When it is priced
    costs = pricing.by_service(usage)
    # Then each service is its count times its price
    p = {s: {k: v["usd"] for k, v in items.items()} for s, items in PRICES.items()
         if isinstance(items, dict)}  # fmt: skip
    assert costs["Step Functions"] == pytest.approx(8 * p["step_functions"]["state_transition"])
    assert costs["Lambda"] == pytest.approx(
        2 * p["lambda"]["request"] + (1.001 * 1 + 0.5 * 2) * p["lambda"]["gb_second_arm64"]
    )
    assert costs["DynamoDB"] == pytest.approx(
        10 * p["dynamodb"]["read_request_unit"] + 4 * p["dynamodb"]["write_request_unit"]
    )
    assert costs["S3 requests"] == pytest.approx(
        3 * p["s3"]["class_a_request"] + 5 * p["s3"]["class_b_request"]
    )
    assert costs["S3 storage"] == pytest.approx(3 * p["s3"]["gb_month"])
    assert costs["CloudWatch Logs"] == pytest.approx(p["cloudwatch_logs"]["ingested_gb"])
    assert costs["API Gateway"] == costs["Secrets Manager"] == 0
    assert set(costs) == set(SERVICES)


def test_the_fleet_is_its_checks_and_real_runs_for_a_month_plus_its_secrets() -> None:
    # Given a check costing $0.0001 (Step Functions) and a real run $0.01 (Lambda)
    unchanged = {"Step Functions": 0.0001}
    real = {"Lambda": 0.01}
    # When 10 profiles check 96 times a day, 2 of them real runs, for 30 days
    cost = fleet_cost(Fleet(), unchanged, real, PRICES)
    # Then a tenant pays 300 profile-days x (94 checks + 2 runs) plus one secret-month
    assert cost.per_tenant_month["Step Functions"] == pytest.approx(300 * 94 * 0.0001)
    assert cost.per_tenant_month["Lambda"] == pytest.approx(300 * 2 * 0.01)
    secret = PRICES["secrets_manager"]["secret_month"]["usd"]
    assert cost.per_tenant_month["Secrets Manager"] == pytest.approx(secret)
    assert cost.tenant_month == pytest.approx(2.82 + 6 + secret)
    assert cost.unchanged_share == pytest.approx(2.82 / cost.tenant_month)
    assert total(cost.per_tenant_month) == cost.tenant_month


def test_memory_is_proposed_from_the_measured_need_with_headroom() -> None:
    # Then the need times 1.5, rounded up to 64 MB, never under 256 MB
    assert MemoryNeed("F", 80, 20, False).proposed_mb == 256
    assert MemoryNeed("F", 100, 300, False).proposed_mb == 640  # 600 -> 640
    # And a peak that grows with the file is read off the line through two sizes
    assert extrapolate((10_000, 20.0), (1_000_000, 515.0), 2_000_000) == pytest.approx(1015.0)
    assert extrapolate((10_000, 30.0), (1_000_000, 25.0), 2_000_000) == 25.0


def test_memory_and_retention_are_read_from_the_template() -> None:
    # Given template.yaml, then every function has a memory size and the run files expire
    memory = function_memory(template())
    assert {"ParseFunction", "MatchFunction", "UpdateFunction"} <= set(memory)
    assert all(128 <= mb <= 10_240 for mb in memory.values())
    assert retention_days(template())["runs"] == 90


def test_the_generated_section_is_replaced_and_the_prose_kept(tmp_path: Path) -> None:
    from bench.cost_model import BEGIN, END, size_of, write_docs

    # Given a page with prose around the generated section
    page = tmp_path / "COSTS.md"
    page.write_text(f"# Costs\nprose\n{BEGIN}\nold tables\n{END}\nafter\n", encoding="utf-8")
    # When the model writes new tables
    write_docs("new tables", page)
    # Then only the section between the markers changed
    assert page.read_text(encoding="utf-8") == (
        f"# Costs\nprose\n{BEGIN}\nnew tables\n{END}\nafter\n"
    )
    # And a page without the markers is refused, not overwritten
    bare = tmp_path / "bare.md"
    bare.write_text("# nothing generated here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no generated section"):
        write_docs("tables", bare)
    # And sizes are named or given as rows:changes
    assert size_of("10k") == (10_000, 1_000) and size_of("1M") == (1_000_000, 100_000)
    assert size_of("200:20") == (200, 20)
    with pytest.raises(ValueError):
        size_of("20:200")


def _traced(function: str, peak_mb: float, rows: int) -> object:
    from bench.cost_scenarios import Measured

    usage = Usage()
    usage.invocations.append(Invocation(function, 1.0, int(peak_mb * 1024 * 1024), False, 0))
    return Measured("traced run", "woocommerce", rows, rows // 10, "succeeded", {}, 1.0, usage)


def test_a_step_measured_alone_sets_the_need_when_its_peak_is_the_larger() -> None:
    from bench.cost_memory import Alone
    from bench.cost_model import Report

    # Given traced runs of parse and match at 10,000 and 1,000,000 rows (CSV)
    traced = [
        _traced("ParseFunction", 10, 10_000),
        _traced("ParseFunction", 60, 1_000_000),
        _traced("MatchFunction", 20, 10_000),
        _traced("MatchFunction", 700, 1_000_000),
    ]
    # And parse measured alone on a JSON file whose peak is larger than the CSV line's
    alone = [Alone("ParseFunction", "JSON", 2_000_000, 95.0, 900.0, 1_100.0, 30.0),
             Alone("ParseFunction", "CSV", 2_000_000, 30.0, 50.0, 140.0, 10.0)]  # fmt: skip
    pricing = Pricing(PRICES, {"ParseFunction": 1769, "MatchFunction": 1769}, "arm64", {})
    baselines = {"ParseFunction": 82.0, "MatchFunction": 83.0}
    report = Report([], traced, pricing, baselines, 2_000_000, alone)  # type: ignore[arg-type]
    # When the memory each needs is read
    needs = {n.function: n for n in report.memory()}
    # Then parse's is the JSON file's, named as measured alone, and the rule sizes it
    parse = needs["ParseFunction"]
    assert (parse.peak_mb, parse.source) == (900.0, "JSON file of 2,000,000 rows, measured alone")
    assert parse.proposed_mb == 1536  # (82 + 900) x 1.5 = 1,473, rounded up to 64 MB
    # And match, with nothing measured alone, keeps its line through the two sizes
    match = needs["MatchFunction"]
    assert match.source == "" and match.scaled_to_rows == 2_000_000
    assert match.peak_mb == pytest.approx(700 + 680 / 990_000 * 1_000_000)
    # And the memory table says where each peak comes from
    table = "\n".join(report.memory_table())
    assert "900 (JSON file of 2,000,000 rows, measured alone)" in table
    assert "(file of 2,000,000 rows, extended from the sizes measured)" in table


def _counted(scenario: str, platform: str, lambda_s: float) -> object:
    from bench.cost_scenarios import Measured

    usage = Usage()
    usage.invocations.append(Invocation("MatchFunction", lambda_s, None, False, 0))
    return Measured(scenario, platform, 10_000, 1_000, "succeeded", {}, lambda_s, usage)


def test_the_fleet_prices_repeat_runs_where_every_platform_has_one() -> None:
    from bench.cost_model import Report
    from bench.cost_scenarios import REPEAT

    # Given two platforms' first runs (1 s of Lambda), unchanged checks and setups, and
    # their repeat runs (100 s: the refresh reads back what the run before wrote)
    measured = [
        m
        for p in ("shopify", "woocommerce")
        for m in (
            _counted("store setup", p, 0.0),
            _counted("10,000 rows, 1,000 changes", p, 1.0),
            _counted("unchanged-file check", p, 0.01),
            _counted(REPEAT, p, 100.0),
        )
    ]
    pricing = Pricing(PRICES, {"MatchFunction": 1024}, "arm64", {})
    # When the fleet is priced with and without the repeat runs
    with_repeat = Report(measured, [], pricing, {}, 2_000_000).fleet()  # type: ignore[arg-type]
    first_only = [m for m in measured if m.scenario != REPEAT]  # type: ignore[attr-defined]
    without = Report(first_only, [], pricing, {}, 2_000_000).fleet()  # type: ignore[arg-type]
    # Then the fleet's real runs are the repeat runs when every platform has them
    assert with_repeat is not None and without is not None
    assert with_repeat[1].tenant_month > without[1].tenant_month
    assert "repeat run" in "\n".join(Report(measured, [], pricing, {}, 2_000_000).fleet_lines())  # type: ignore[arg-type]
    # and the first runs when one platform lacks them
    mixed = [m for m in measured if not (m.scenario == REPEAT and m.platform == "shopify")]  # type: ignore[attr-defined]
    partial = Report(mixed, [], pricing, {}, 2_000_000).fleet()  # type: ignore[arg-type]
    assert partial is not None and partial[1].tenant_month == without[1].tenant_month
