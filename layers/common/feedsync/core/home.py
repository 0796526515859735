"""The profiles as the API shows them: everything a home-page tile shows, for the whole
list in a constant number of reads (the tenant's settings, its stores, one batch read of
the running and last runs; the profiles themselves are the caller's one query).

Each view adds to the stored profile: next and last run, health, whether Start is taken
(``can_start``/``start_blocked``), the store's name and platform, the source and the
schedule in words, the current run's live phase and the estimate Start's confirmation shows.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from feedsync.core import schedules
from feedsync.core.deps import Deps
from feedsync.core.plans import PLAN_PREFIX
from feedsync.core.start import blocked
from feedsync.domain.capabilities import Quota
from feedsync.domain.health import HealthFacts, health
from feedsync.domain.schedule_words import schedule_text
from feedsync.models import Profile, Run, Store, TenantSettings
from feedsync.platforms.registry import capabilities_for

PHASE_LABELS: Final = {
    "queued": "Queued",
    "preparing": "Preparing",
    "matching": "Matching",
    "updating": "Updating",
}
# Fetch, parse, match and finalize of a first run, before any write: a rough allowance.
FIRST_RUN_OVERHEAD_S: Final = 30
TOKEN_REJECTED: Final = "store_auth_error"


def profile_views(deps: Deps, tenant_id: str, profiles: list[Profile]) -> list[dict[str, Any]]:
    if not profiles:
        return []
    settings = schedules.tenant_settings(deps, tenant_id)
    stores = {s.store_id: s for s in deps.repo.list_stores(tenant_id)}
    wanted = {p.current_run_id for p in profiles if p.current_run_id}
    wanted |= {p.last_run.run_id for p in profiles if p.last_run}
    runs = deps.repo.get_runs(tenant_id, wanted) if wanted else {}
    names = {p.profile_id: p.name for p in profiles}
    specs = [p.schedule.spec() for p in profiles]
    leaders = {s["profile_id"] for s in specs if s["type"] == "after"}
    if leaders - set(names):  # a single view naming the profile it follows
        names |= {p.profile_id: p.name for p in deps.repo.list_profiles(tenant_id)}
    return [_view(deps, p, settings, stores.get(p.store_id), runs, names) for p in profiles]


def _view(
    deps: Deps,
    profile: Profile,
    settings: TenantSettings,
    store: Store | None,
    runs: dict[str, Run],
    names: dict[str, str],
) -> dict[str, Any]:
    body = schedules.view(deps, profile, settings)
    schedule = schedules.effective(profile, settings)
    last = profile.last_run
    upcoming = body["next_run_at"]
    counts = last.counts if last else {}
    facts = HealthFacts(
        enabled=profile.enabled,
        disabled_reason=profile.disabled_reason,
        running=profile.status == "running" or bool(profile.current_run_id),
        last_status=last.status if last else None,
        last_finished_at=last.finished_at if last else None,
        last_error=last.error if last else None,
        failed_items=counts.get("failed", 0),
        row_errors=counts.get("row_errors", 0),
        next_run_at=datetime.fromisoformat(upcoming) if upcoming else None,
        store_rejects_token=bool(store and store.error_code == TOKEN_REJECTED),
        store_error=store.error if store else None,
        held_by_plan=(profile.disabled_reason or "").startswith(PLAN_PREFIX),
        due_at=schedules.first_due(profile, schedule),
    )
    colour, reason = health(facts, deps.clock())
    body["health"] = {"status": colour, "reason": reason}
    why = start_blocked(profile, store)
    body["can_start"] = why is None
    body["start_blocked"] = why
    body["store_name"] = store.name if store else None
    body["platform"] = store.platform if store else None
    body["source_summary"] = source_summary(profile.source)
    body["schedule_text"] = schedule_text(schedule, names)
    body["live"] = _live(profile, runs)
    body["estimate"] = estimate(runs.get(last.run_id) if last else None, store)
    return body


def start_blocked(profile: Profile, store: Store | None) -> dict[str, str] | None:
    if profile.current_run_id:
        message = f"run {profile.current_run_id} is in progress: Start when it ends"
        return {"reason": "already_running", "message": message}
    refused = blocked(profile, store)
    return None if refused is None else {"reason": refused.reason, "message": refused.message}


def source_summary(source: Any) -> str:
    """Where the file comes from, never a secret: ``SFTP feeds.acme.com/stock.csv``; a URL
    without its user, password or query (a query often carries a token)."""
    if source.type == "upload":
        return "Upload"
    if source.type == "url":
        parts = urlsplit(str(source.url))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        query = "?…" if parts.query else ""
        return f"URL {parts.scheme}://{host}{port}{parts.path}{query}"
    default_port = 22 if source.type == "sftp" else 21
    port = f":{source.port}" if source.port and source.port != default_port else ""
    path = source.path if source.path.startswith("/") else f"/{source.path}"
    return f"{source.type.upper()} {source.host}{port}{path}"


def _live(profile: Profile, runs: dict[str, Run]) -> dict[str, Any] | None:
    """The current run's phase and progress (None when no run holds the lock)."""
    if not profile.current_run_id:
        return None
    run = runs.get(profile.current_run_id)
    if run is None:  # the lock is taken a moment before the run record exists
        return {"run_id": profile.current_run_id, "status": "queued", "phase_label": "Queued",
                "percent": None}  # fmt: skip
    progress: Any = run.public()["progress"]
    label = PHASE_LABELS.get(run.status, run.status.replace("_", " ").capitalize())
    if run.status == "updating" and progress["total"] and progress["done"] >= progress["total"]:
        label = "Finalizing"  # every item sent: the log and the index are being written
    return {"run_id": run.run_id, "status": run.status, "phase_label": label,
            "percent": progress["percent"]}  # fmt: skip


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _about(seconds: int) -> str:
    if seconds < 90:
        return "under 2 minutes" if seconds >= 60 else "about a minute or less"
    return f"about {math.ceil(seconds / 60)} minutes"


def estimate(last: Run | None, store: Store | None) -> dict[str, Any]:
    """How long Start will take, for its confirmation: the last finished run's duration for
    its changes; for a first run, the store's variants at the platform's batch size and
    quota; ``seconds`` null when there is nothing to go on (``basis`` says so)."""
    if last is not None and last.finished_at is not None and last.started_at is not None:
        # (a run that never started, e.g. skipped, says nothing about how long one takes)
        took = max((last.finished_at - last.started_at).total_seconds(), 1.0)
        changes = last.counts.get("changed", last.counts.get("updated", 0))
        seconds = math.ceil(took)
        basis = f"the last run took {_duration(took)} for {changes:,} changes"
        return {"seconds": seconds, "basis": basis, "text": f"{_about(seconds)}: {basis}"}
    if store is None or not store.variant_count:
        basis = "nothing to go on yet: no run has finished and the store's catalog is not read"
        return {"seconds": None, "basis": basis, "text": basis}
    caps = capabilities_for(store.platform, store.options.model_dump())
    per_second = _requests_per_second(caps.quota)
    if per_second is None or not caps.ops:
        basis = (
            f"nothing to go on yet: no run has finished and {caps.platform}'s quota gives no "
            "request rate"
        )
        return {"seconds": None, "basis": basis, "text": basis}
    batch = max(caps.ops[0].max_batch, 1)
    requests = math.ceil(store.variant_count / batch)
    seconds = FIRST_RUN_OVERHEAD_S + math.ceil(requests / per_second)
    basis = (
        f"a first run: up to {store.variant_count:,} variants in {requests:,} requests of "
        f"{batch} at {per_second:g} requests/s (the store's quota), plus about "
        f"{FIRST_RUN_OVERHEAD_S} s to read the file and the catalog"
    )
    return {"seconds": seconds, "basis": basis, "text": f"{_about(seconds)}: {basis}"}


def _requests_per_second(quota: Quota) -> float | None:
    if quota.model == "request_window" and quota.requests and quota.window_s:
        return round(quota.requests / quota.window_s, 2)
    return None  # a cost bucket or per-operation token buckets: no request rate to read
