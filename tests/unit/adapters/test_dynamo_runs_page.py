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


def test_many_runs_are_read_in_batches_of_a_hundred(table: tuple[str, Any]) -> None:
    # Given 250 runs, and a client that counts its BatchGetItem requests
    repo = DynamoRepository(table[0], table[1])
    _history(repo, 250)
    requests: list[int] = []
    batch_get = repo.client.batch_get_item

    def counted(**kwargs: Any) -> Any:
        requests.append(len(kwargs["RequestItems"][table[0]]["Keys"]))
        return batch_get(**kwargs)

    repo.client.batch_get_item = counted  # type: ignore[method-assign]
    # When all of them and an id that has no run are asked for
    wanted = [f"run_{n:03d}" for n in range(250)] + ["run_none"]
    found = repo.get_runs("t1", wanted)
    # Then every run comes back by its id, the unknown one is absent, in 3 requests
    assert sorted(found) == [f"run_{n:03d}" for n in range(250)]
    assert found["run_007"].status == "succeeded"
    assert requests == [100, 100, 51]


def test_no_runs_asked_is_no_request(table: tuple[str, Any]) -> None:
    # Given a repository, When no run ids are asked for, Then nothing is read
    repo = DynamoRepository(table[0], table[1])
    assert repo.get_runs("t1", []) == {}


def test_the_cancel_read_sees_a_cancel_request_and_reads_one_attribute(
    table: tuple[str, Any],
) -> None:
    # Given a run, and the client's GetItem requests counted
    repo = DynamoRepository(table[0], table[1])
    _history(repo, 1)
    asked: list[dict[str, Any]] = []
    get_item = repo.client.get_item

    def counted(**kwargs: Any) -> Any:
        asked.append(kwargs)
        return get_item(**kwargs)

    repo.client.get_item = counted  # type: ignore[method-assign]
    # When the update step asks before and after a cancel is requested
    before = repo.cancel_requested("t1", "run_000")
    repo.update_run("t1", "run_000", cancel_requested_at=datetime(2026, 1, 1, tzinfo=UTC))
    after = repo.cancel_requested("t1", "run_000")
    # Then it sees the request, each time with one read of that attribute only, and a
    # run it does not find has none
    assert (before, after) == (False, True)
    assert [a["ProjectionExpression"] for a in asked] == ["cancel_requested_at"] * 2
    assert repo.cancel_requested("t1", "run_nope") is False
