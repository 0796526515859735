"""Run progress counts each shard once, however often a shard is retried."""

from datetime import UTC, datetime

from feedsync.models import Progress, Run


def test_progress_sums_shard_counts() -> None:
    # Given two shards that have applied 100 and 50 of 300 items
    progress = Progress.model_validate({"total": 300, "shards": {"0": 100, "1": 50}})
    # Then done is their sum and percent follows
    assert (progress.done, progress.percent) == (150, 50)


def test_no_work_is_complete() -> None:
    # Given a run with nothing to apply
    # Then it shows 100 %, never a division by zero
    assert Progress(total=0).percent == 100


def test_no_percentage_until_the_plan_is_known() -> None:
    def shown(status: str, total: int, done: int = 0) -> object:
        run = Run(
            tenant_id="t", run_id="r", profile_id="p", store_id="s", trigger="manual",
            mode="partial", status=status, created_at=datetime(2026, 1, 1, tzinfo=UTC),
            progress={"total": total, "done": done},
        )  # fmt: skip
        progress = run.public()["progress"]
        assert isinstance(progress, dict)
        return progress["percent"]

    # Given runs still reading their file or matching (total 0 so far)
    # Then they show no percentage, never 100 %
    assert [shown(s, 0) for s in ("queued", "preparing", "matching")] == [None, None, None]
    # and once updating or ended, the share done
    assert shown("updating", 200, 50) == 25
    assert shown("succeeded", 0) == 100
