"""A profile's run history pages through DynamoDB's index (it stopped at 50 runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feedsync.adapters.dynamo import DynamoRepository
from feedsync.models import Run


def _history(repo: DynamoRepository, count: int, profile_id: str = "p1") -> None:
    prefix = "run" if profile_id == "p1" else f"{profile_id}_run"  # run ids: one tenant's
    for n in range(count):
        repo.put_run(
            Run(
                tenant_id="t1", run_id=f"{prefix}_{n:03d}", profile_id=profile_id, store_id="s1",
                trigger="manual", mode="partial", status="succeeded",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip


def test_the_history_pages_through_every_run_newest_first(table: tuple[str, Any]) -> None:
    # Given a profile with 120 runs (and another profile's runs beside them)
    repo = DynamoRepository(table[0], table[1])
    _history(repo, 120)
    _history(repo, 5, profile_id="p2")
    # When the history is read 50 at a time, each page from the one before's cursor
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        runs, after = repo.runs_page("t1", "p1", 50, after)
        seen += [r.run_id for r in runs]
        pages += 1
        if after is None:
            break
    # Then every run of the profile comes once, newest first, and nothing of the other
    assert seen == [f"run_{n:03d}" for n in reversed(range(120))]
    assert pages == 3


def test_a_short_history_has_no_next_page(table: tuple[str, Any]) -> None:
    # Given 3 runs
    repo = DynamoRepository(table[0], table[1])
    _history(repo, 3)
    # When one page of 50 is read, Then it holds them all and says there is no more
    runs, after = repo.runs_page("t1", "p1", 50, None)
    assert [r.run_id for r in runs] == ["run_002", "run_001", "run_000"] and after is None
