"""The cost model's arithmetic: measured usage x the dated price table -> dollars.

Pure (no local stack): ``bench/cost_model.py`` measures, this prices. Every figure here is
either a count from ``feedsync_local.metering`` or a price from ``docs/aws_prices.toml``;
the only settings are the fleet's shape (tenants, profiles, fires a day), the memory rule
and how long each S3 prefix keeps a run's files, which ``template.yaml`` states.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedsync_local.metering import Usage
from feedsync_local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
PRICES_FILE = ROOT / "docs" / "aws_prices.toml"
GIB = 1024**3
MB = 1024 * 1024
SERVICES = (
    "Step Functions",
    "Lambda",
    "DynamoDB",
    "S3 requests",
    "S3 storage",
    "Secrets Manager",
    "API Gateway",
    "Scheduler",
    "EventBridge",
    "SNS",
    "CloudWatch Logs",
)
# The memory rule: the measured need (an imported handler's RSS plus the invocation's
# traced peak) times HEADROOM, rounded up to STEP_MB, never under FLOOR_MB (Python, boto3
# and Powertools import; below it a cold start is CPU-starved).
HEADROOM = 1.5
STEP_MB = 64
FLOOR_MB = 256
DAYS_A_MONTH = 30


# --------------------------------------------------------------------------- the inputs
def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def price(prices: Mapping[str, Any], service: str, item: str) -> float:
    return float(prices[service][item]["usd"])


def template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return load_template(path)


def function_memory(template: Mapping[str, Any]) -> dict[str, int]:
    """Each function's configured MemorySize (its own, else the Globals')."""
    default = int(template["Globals"]["Function"]["MemorySize"])
    return {
        logical: int(res.get("Properties", {}).get("MemorySize", default))
        for logical, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def architecture(template: Mapping[str, Any]) -> str:
    return str(template["Globals"]["Function"].get("Architectures", ["x86_64"])[0])


def retention_days(template: Mapping[str, Any]) -> dict[str, int | None]:
    """How long the files bucket keeps an object a run writes, per key prefix: the
    lifecycle's expiry, else its noncurrent expiry (the object is replaced by the next
    run's), else None (kept until deleted)."""
    bucket = next(
        res
        for res in template["Resources"].values()
        if res["Type"] == "AWS::S3::Bucket" and "LifecycleConfiguration" in res["Properties"]
    )
    out: dict[str, int | None] = {}
    for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]:
        prefix = str(rule.get("Prefix", "")).rstrip("/")
        days = rule.get("ExpirationInDays") or rule.get("NoncurrentVersionExpiration", {}).get(
            "NoncurrentDays"
        )
        out[prefix] = int(days) if days else None
    return out


# ------------------------------------------------------------------------ pricing a run
def billed_gb_seconds(usage: Usage, memory_mb: Mapping[str, int]) -> float:
    """Duration rounded up to the millisecond, times the function's configured memory."""
    return sum(
        math.ceil(inv.seconds * 1000) / 1000 * memory_mb[inv.function] / 1024
        for inv in usage.invocations
    )


@dataclass(frozen=True)
class Pricing:
    prices: Mapping[str, Any]
    memory_mb: Mapping[str, int]
    arch: str
    retention: Mapping[str, int | None]
    # An object under a prefix no lifecycle rule expires is priced as kept this long.
    unexpired_days: int = 365

    def storage_days(self, prefix: str) -> int:
        days = self.retention.get(prefix)
        return self.unexpired_days if days is None else days

    def by_service(self, usage: Usage) -> dict[str, float]:
        p = self.prices
        arch = "arm64" if self.arch == "arm64" else "x86_64"
        stored_gb_months = sum(
            size / GIB * self.storage_days(prefix) / DAYS_A_MONTH
            for prefix, size in usage.s3_bytes_put.items()
        )
        return {
            "Step Functions": usage.transitions * price(p, "step_functions", "state_transition"),
            "Lambda": len(usage.invocations) * price(p, "lambda", "request")
            + billed_gb_seconds(usage, self.memory_mb) * price(p, "lambda", f"gb_second_{arch}"),
            "DynamoDB": usage.dynamodb_read_units * price(p, "dynamodb", "read_request_unit")
            + usage.dynamodb_write_units * price(p, "dynamodb", "write_request_unit"),
            "S3 requests": usage.s3_requests["A"] * price(p, "s3", "class_a_request")
            + usage.s3_requests["B"] * price(p, "s3", "class_b_request"),
            "S3 storage": stored_gb_months * price(p, "s3", "gb_month"),
            "Secrets Manager": usage.secrets_calls * price(p, "secrets_manager", "api_call"),
            "API Gateway": usage.api_requests * price(p, "api_gateway", "rest_request"),
            "Scheduler": usage.scheduler_invocations * price(p, "scheduler", "invocation"),
            "EventBridge": usage.events_entries * price(p, "eventbridge", "custom_event"),
            "SNS": usage.sns_publishes * price(p, "sns", "publish"),
            "CloudWatch Logs": usage.log_bytes / GIB * price(p, "cloudwatch_logs", "ingested_gb"),
        }


def total(costs: Mapping[str, float]) -> float:
    return sum(costs.values())


# ------------------------------------------------------------------- right-sizing memory
@dataclass(frozen=True)
class MemoryNeed:
    """One function's measured memory: the imported handler's RSS and its peaks."""

    function: str
    baseline_mb: float  # RSS of a Python process that imported the handler
    peak_mb: float  # the largest traced peak of one invocation (alone when one ran alone)
    peak_overlapped: bool  # every measured invocation overlapped others: an upper bound
    scaled_to_rows: int | None = None  # the file size the peak stands for
    source: str = ""  # where a peak measured alone comes from (bench/cost_memory.py)

    @property
    def need_mb(self) -> float:
        return self.baseline_mb + self.peak_mb

    @property
    def proposed_mb(self) -> int:
        wanted = self.need_mb * HEADROOM
        return max(FLOOR_MB, math.ceil(wanted / STEP_MB) * STEP_MB)


def peak_mb(usage_list: Iterable[Usage], function: str) -> tuple[float, bool]:
    """The largest peak of ``function``'s invocations: of those that ran alone when there
    are any (exact), else of all (an upper bound: others' allocations are in it)."""
    invs = [
        inv
        for usage in usage_list
        for inv in usage.invocations
        if inv.function == function and inv.peak_bytes is not None
    ]
    alone = [inv.peak_bytes or 0 for inv in invs if not inv.overlapped]
    if alone:
        return max(alone) / MB, False
    return (max(inv.peak_bytes or 0 for inv in invs) / MB if invs else 0.0), bool(invs)


def extrapolate(small: tuple[int, float], large: tuple[int, float], rows: int) -> float:
    """A peak that grows with the file, read off the line through two measured sizes."""
    (n1, m1), (n2, m2) = small, large
    slope = max(0.0, (m2 - m1) / (n2 - n1)) if n2 != n1 else 0.0
    return m2 + slope * (rows - n2)


# ------------------------------------------------------------------------------ the fleet
@dataclass(frozen=True)
class Fleet:
    tenants: int = 10_000
    profiles_per_tenant: int = 10
    checks_per_day: int = 96  # every 15 minutes
    real_runs_per_day: int = 2
    secrets_per_tenant: int = 1  # measured: creating a store writes its token's secret

    @property
    def unchanged_per_day(self) -> int:
        return self.checks_per_day - self.real_runs_per_day


@dataclass(frozen=True)
class FleetCost:
    per_tenant_month: dict[str, float]  # by service
    per_profile_day: float
    unchanged_share: float  # of the per-tenant figure, what the unchanged checks cost

    @property
    def tenant_month(self) -> float:
        return total(self.per_tenant_month)


def fleet_cost(
    fleet: Fleet,
    unchanged: Mapping[str, float],
    real: Mapping[str, float],
    prices: Mapping[str, Any],
) -> FleetCost:
    """Per tenant per month: each profile's unchanged checks and real runs a day, 30 days,
    plus the tenant's secrets held for the month."""
    runs = fleet.profiles_per_tenant * DAYS_A_MONTH
    per_service = {
        service: runs
        * (fleet.unchanged_per_day * unchanged.get(service, 0.0)
           + fleet.real_runs_per_day * real.get(service, 0.0))
        for service in SERVICES
    }  # fmt: skip
    per_service["Secrets Manager"] += fleet.secrets_per_tenant * price(
        prices, "secrets_manager", "secret_month"
    )
    checks = runs * fleet.unchanged_per_day * total(unchanged)
    per_day = fleet.unchanged_per_day * total(unchanged) + fleet.real_runs_per_day * total(real)
    return FleetCost(per_service, per_day, checks / total(per_service))


def average(costs: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The mean per service (an equal platform mix)."""
    listed = list(costs)
    return {s: sum(c.get(s, 0.0) for c in listed) / len(listed) for s in SERVICES}


def dominant(costs: Mapping[str, float]) -> tuple[str, float]:
    """The service that costs most and its share of the total."""
    service = max(costs, key=lambda s: costs[s])
    return service, costs[service] / total(costs)
