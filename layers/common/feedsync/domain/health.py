"""A profile's health light and the reason shown beside it, which always says what to do next.

Red: the store rejects its token, the profile is disabled, or the last run failed (with its
cause) or was held. Yellow: a run is in progress, no run yet, the last run had failed items
or row errors (how many), was cancelled, or the next run is overdue. Green: the last run
succeeded with no failed items and no row errors. Pure, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final, Literal, NamedTuple

Colour = Literal["green", "yellow", "red"]
DEFAULT_GRACE: Final = timedelta(minutes=5)
_ACTIVE: Final = frozenset({"queued", "preparing", "matching", "updating"})


class HealthFacts(NamedTuple):
    """What the light is made of: the profile, its last run and its store."""

    enabled: bool
    disabled_reason: str | None
    running: bool
    last_status: str | None
    last_finished_at: datetime | None
    last_error: str | None
    failed_items: int
    row_errors: int
    next_run_at: datetime | None
    store_rejects_token: bool = False
    store_error: str | None = None
    held_by_plan: bool = False  # disabled because the tenant's plan has no room for it
    # The schedule's first fire after the profile last ran, checked its file or had its
    # schedule set: past it (and the grace) with nothing since, a fire went missing.
    due_at: datetime | None = None


def _at(instant: datetime | None) -> str:
    return f" at {instant.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}" if instant else ""


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def health(
    facts: HealthFacts, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> tuple[Colour, str]:
    """The light and its reason; red causes win (an error stays visible while a run goes)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    when = _at(facts.last_finished_at)
    active = facts.running or facts.last_status in _ACTIVE
    tail = " A new run is in progress." if active else ""
    if facts.store_rejects_token:
        why = f" ({facts.store_error})" if facts.store_error else ""
        return "red", (
            f"The store rejects its credentials{why}: replace them in the store's settings "
            "(PATCH /stores/{id}); runs fail until then."
        )
    if not facts.enabled:
        why = facts.disabled_reason or "disabled by the merchant"
        if facts.held_by_plan:
            nxt = "raise the plan or remove other profiles, and it is enabled by itself"
        else:
            nxt = "enable it to sync again"
        return "red", f"The profile is disabled ({why}): {nxt}."
    if facts.last_status == "failed":
        cause = f": {facts.last_error}" if facts.last_error else ""
        return "red", (
            f"Last run failed{when}{cause}. Fix the cause, then Start again "
            f"(or retry the run's failed changes).{tail}"
        )
    if facts.last_status == "held":
        return "red", (
            f"Last run was held for review{when}: its changes break a safety limit. Review "
            f"them and apply, or change the limits and Start again.{tail}"
        )
    if active:
        return "yellow", "A run is in progress: its status updates as it goes; nothing to do."
    if facts.due_at is not None and now > facts.due_at + grace:
        return "yellow", (
            f"Overdue: a run was due{_at(facts.due_at)} and none ran. Start it, or check the "
            "schedule and the plan."
        )
    nxt = f" Next run{_at(facts.next_run_at)}." if facts.next_run_at else ""
    if facts.last_status is None:
        return "yellow", f"No run yet: Start it to sync now.{nxt}"
    if facts.last_status == "cancelled":
        return "yellow", f"Last run was cancelled{when}: Start again to sync.{nxt}"
    problems = [
        _plural(n, word)
        for n, word in ((facts.failed_items, "failed item"), (facts.row_errors, "row error"))
        if n
    ]
    if problems:
        return "yellow", (
            f"Last run {facts.last_status}{when} with {' and '.join(problems)}: open its log "
            f"(filter failed, row_error) and fix them in the file or the store.{nxt}"
        )
    if facts.last_status == "partially_applied":
        return "yellow", f"Last run{when} left changes pending: review and apply them.{nxt}"
    if facts.last_status == "previewed":
        return "yellow", f"Last run was a preview{when}: apply its changes or Start a run.{nxt}"
    if facts.last_status in ("succeeded", "skipped"):
        return "green", f"Last run {facts.last_status}{when}; nothing to do.{nxt}"
    return "yellow", f"Last run ended {facts.last_status!r}{when}: open it to see why.{nxt}"
