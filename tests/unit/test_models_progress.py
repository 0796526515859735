"""Run progress counts each shard once, however often a shard is retried."""

from feedsync.models import Progress


def test_progress_sums_shard_counts() -> None:
    # Given two shards that have applied 100 and 50 of 300 items
    progress = Progress.model_validate({"total": 300, "shards": {"0": 100, "1": 50}})
    # Then done is their sum and percent follows
    assert (progress.done, progress.percent) == (150, 50)


def test_no_work_is_complete() -> None:
    # Given a run with nothing to apply
    # Then it shows 100 %, never a division by zero
    assert Progress(total=0).percent == 100
