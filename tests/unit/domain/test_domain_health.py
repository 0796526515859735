"""Health tells the truth: every case issue 11 lists, each reason saying what to do next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from feedsync.domain.health import HealthFacts, health

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)


def _facts(**changed: Any) -> HealthFacts:
    base = HealthFacts(
        enabled=True, disabled_reason=None, running=False, last_status="succeeded",
        last_finished_at=NOW - timedelta(hours=1), last_error=None, failed_items=0,
        row_errors=0, next_run_at=LATER,
    )  # fmt: skip
    return base._replace(**changed)


@pytest.mark.parametrize(
    ("facts", "colour", "says", "next_step"),
    [
        (_facts(), "green", "Last run succeeded at 2026-05-01 11:00 UTC", "nothing to do"),
        (_facts(last_status="skipped"), "green", "Last run skipped", "nothing to do"),
        (_facts(running=True), "yellow", "A run is in progress", "nothing to do"),
        (_facts(last_status="matching"), "yellow", "A run is in progress", "nothing to do"),
        (
            _facts(last_status=None, last_finished_at=None), "yellow", "No run yet",
            "Start it",
        ),
        (
            _facts(failed_items=3), "yellow", "with 3 failed items", "open its log",
        ),
        (
            _facts(row_errors=1), "yellow", "with 1 row error", "fix them in the file",
        ),
        (
            _facts(failed_items=2, row_errors=5), "yellow",
            "with 2 failed items and 5 row errors", "open its log",
        ),
        (
            _facts(last_status="failed", last_error="the file has no column 'SKU'"), "red",
            "Last run failed at 2026-05-01 11:00 UTC: the file has no column 'SKU'",
            "Fix the cause, then Start again",
        ),
        (
            _facts(last_status="failed", last_error="x", running=True), "red",
            "Last run failed", "A new run is in progress",
        ),
        (_facts(last_status="held"), "red", "held for review", "Review them and apply"),
        (
            _facts(enabled=False, disabled_reason="paused for the holidays"), "red",
            "disabled (paused for the holidays)", "enable it",
        ),
        (
            _facts(enabled=False, disabled_reason="plan: 3 profiles allowed",
                   held_by_plan=True), "red",
            "disabled (plan: 3 profiles allowed)", "raise the plan",
        ),
        (
            _facts(store_rejects_token=True, store_error="401: token revoked"), "red",
            "The store rejects its credentials (401: token revoked)", "replace them",
        ),
        (
            _facts(due_at=NOW - timedelta(minutes=6)), "yellow", "Overdue",
            "Start it, or check the schedule",
        ),
        (_facts(last_status="cancelled"), "yellow", "cancelled", "Start again"),
        (_facts(last_status="previewed"), "yellow", "a preview", "apply its changes"),
        (
            _facts(last_status="partially_applied"), "yellow", "left changes pending",
            "review and apply",
        ),
    ],
)  # fmt: skip
def test_each_case_has_its_colour_and_a_reason_saying_what_to_do(
    facts: HealthFacts, colour: str, says: str, next_step: str
) -> None:
    # Given a profile's facts, When its health is read
    got_colour, reason = health(facts, NOW)
    # Then the colour is the issue's, and the reason says what happened and what to do next
    assert got_colour == colour
    assert says in reason
    assert next_step in reason


def test_the_store_rejecting_its_token_wins_over_a_good_last_run() -> None:
    # Given a profile whose last run succeeded, but whose store now rejects its token
    facts = _facts(store_rejects_token=True)
    # When its health is read, Then it is red for the token
    assert health(facts, NOW)[0] == "red"
    assert "credentials" in health(facts, NOW)[1]


def test_a_naive_now_is_refused() -> None:
    # Given a time without a zone, When health is asked, Then it is refused
    with pytest.raises(ValueError, match="timezone-aware"):
        health(_facts(), datetime(2026, 5, 1, 12, 0))
