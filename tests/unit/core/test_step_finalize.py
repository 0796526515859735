"""Finalize, MarkFailed and MarkSkipped over fakes: counts, log, index, lock."""

from __future__ import annotations

import io
import json

import pytest
from fakes import NO_LIMITS, World, row, variant

from feedsync.core import keys
from feedsync.core.ports import ItemResult
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.update import update
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import Row
from feedsync.errors import ShardsIncomplete
from feedsync.models import (
    FinalizeInput,
    MatchInput,
    MatchOutput,
    RunRef,
    ShardRef,
    StepError,
    UpdateInput,
)

CATALOG = [variant(7, 71, "A"), variant(7, 72, "B"), variant(8, 81, "C"), variant(9, 91, "D")]
ROW_ERROR_LINE = "3,,,,row_error,,price: not a number\n"


def _matched(world: World, ref: RunRef, rows: list[Row]) -> MatchOutput:
    """Match as the state machine would after parse (one row error, on row 3)."""
    parsed = world.parsed(ref, rows, row_errors=1)
    world.blobs.put_bytes(
        parsed.row_errors_key,
        world.blobs.get_bytes(parsed.row_errors_key) + ROW_ERROR_LINE.encode(),
    )
    return match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))


def _update_all(world: World, ref: RunRef, out: MatchOutput, shards: int | None = None) -> None:
    manifest = json.loads(world.blobs.get_bytes(out.manifest_key))
    for entry in manifest[:shards]:
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))


@pytest.fixture
def ref(world: World) -> RunRef:
    return world.run(world.profile(world.store(CATALOG), limits=NO_LIMITS))


@pytest.fixture
def split_ref(world: World) -> RunRef:
    """A store writing stock by inventory adjustments: serial, so always its own last shard."""
    store = world.store(CATALOG, options={"inventory": "adjustments"})
    return world.run(world.profile(store, limits=NO_LIMITS))


def test_a_finished_run_is_counted_logged_indexed_and_unlocked(world: World, ref: RunRef) -> None:
    # Given a run whose update wrote row 2, was refused row 4 and found row 5's variant gone
    world.deps.shard_batches = 1
    out = _matched(
        world,
        ref,
        [row(2, "A", price=1500), row(4, "C", price=1700), row(5, "B", stock=0), row(6, "D")],
    )
    connector = world.connectors["s1"]
    connector.gone_variants.add(72)
    connector.script.append(
        lambda op, items: [
            ItemResult(False, "refused") if i.row == 4 else connector.answer(i) for i in items
        ]
    )
    _update_all(world, ref, out)
    # When finalized
    result = finalize(world.deps, FinalizeInput(run=ref))
    # Then the counts join match's with the store's answers
    assert result.status == "succeeded"
    assert {k: result.counts[k] for k in ("rows", "changed", "updated", "failed", "gone")} == {
        "rows": 4,
        "changed": 3,
        "updated": 1,
        "failed": 1,
        "gone": 1,
    }
    # and the log has every row in file order, the row error included
    log = world.blobs.csv(keys.log_key("t1", "run_1"))
    assert [(r[0], r[4]) for r in log[1:]] == [
        ("2", "updated"),
        ("3", "row_error"),
        ("4", "failed"),
        ("5", "gone"),
        ("6", "unchanged"),
    ]
    # and the index has what reached the store, without the gone variant
    index = world.index()
    assert index.by_sku["A"][4] == 1500 and index.by_sku["C"][4] == 1000
    assert "B" not in index.by_sku
    assert world.repo.get_store("t1", "s1").variant_count == 3  # type: ignore[union-attr]
    # and the run is closed, the lock released, the profile remembers the sync
    run = world.run_record(ref)
    assert run.status == "succeeded" and run.log_key == keys.log_key("t1", "run_1")
    assert run.progress.done == run.progress.total == 3
    profile = world.profile_record()
    assert profile.current_run_id is None and profile.status == "ready"
    assert profile.last_run is not None and profile.last_run.counts == result.counts
    assert profile.last_sync_at == world.clock()


def test_a_shard_without_all_its_results_is_shards_incomplete(
    world: World, split_ref: RunRef
) -> None:
    # Given a price shard and a stock shard, of which only the first was applied
    out = _matched(world, split_ref, [row(2, "A", price=1), row(4, "C", stock=1)])
    assert out.shards == 2
    _update_all(world, split_ref, out, shards=1)
    # When finalized, Then ShardsIncomplete (the ASL sends it to MarkFailed)
    with pytest.raises(ShardsIncomplete, match="1 of 2 update shards did not complete"):
        finalize(world.deps, FinalizeInput(run=split_ref))
    # and the run is still open, its lock held, the index untouched
    assert world.run_record(split_ref).status == "updating"
    assert world.profile_record().current_run_id == "run_1"
    assert world.index().by_sku["A"][4] == 1000


def test_mark_failed_keeps_what_reached_the_store_and_releases_the_lock(
    world: World, split_ref: RunRef
) -> None:
    # Given row 4's price sent in the first shard, and the stock shard dead with a reason
    out = _matched(world, split_ref, [row(2, "A", price=1200), row(4, "C", price=1300, stock=1)])
    _update_all(world, split_ref, out, shards=1)
    world.repo.update_run("t1", "run_1", shard_error="updating the store failed: 503")
    # When the Map's failure reaches MarkFailed
    error = StepError.model_validate({"Error": "States.ExceedToleratedFailureThreshold"})
    result = finalize(world.deps, FinalizeInput(run=split_ref, error=error))
    # Then the run failed with the shard's own reason, not the Map's
    assert (result.status, result.error) == ("failed", "updating the store failed: 503")
    run = world.run_record(split_ref)
    assert run.status == "failed" and run.error == "updating the store failed: 503"
    assert (run.counts["updated"], run.counts["failed"]) == (1, 1)
    # and the log and index tell exactly what was written: row 4 only partly
    log = {r[0]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert log["2"][4] == "updated"
    assert log["4"][4] == "failed" and "partly applied: inventory was not sent" in log["4"][6]
    index = world.index()
    assert index.by_sku["A"][4] == 1200
    assert (index.by_sku["C"][4], index.by_sku["C"][8]) == (1300, 5)
    profile = world.profile_record()
    assert profile.current_run_id is None and profile.last_sync_at is None
    # When the failure is delivered again, Then nothing changes
    again = finalize(world.deps, FinalizeInput(run=split_ref, error=error))
    assert (again.status, again.error) == ("failed", "updating the store failed: 503")
    assert world.repo.statuses("run_1").count("failed") == 1


def test_a_failure_before_any_plan_names_the_lambda_error(world: World, ref: RunRef) -> None:
    # Given a parse failure as Step Functions reports a Lambda error
    cause = json.dumps({"errorType": "NoDataRowsError", "errorMessage": "feed.csv: no data rows"})
    error = StepError.model_validate({"Error": "NoDataRowsError", "Cause": cause})
    # When MarkFailed runs, Then the reason is the error's message and the lock is free
    result = finalize(world.deps, FinalizeInput(run=ref, error=error))
    assert result.error == "feed.csv: no data rows"
    assert world.blobs.head(keys.log_key("t1", "run_1")) is None
    assert world.profile_record().current_run_id is None


def test_mark_skipped_closes_an_unchanged_source_as_skipped(world: World, ref: RunRef) -> None:
    # Given Fetch found the same file (SourceUnchanged caught by the ASL)
    cause = json.dumps({"errorMessage": "https://x/feed.csv: 304 Not Modified"})
    error = StepError.model_validate({"Error": "SourceUnchanged", "Cause": cause})
    # When MarkSkipped runs
    result = finalize(world.deps, FinalizeInput(run=ref, error=error))
    # Then the run is skipped with why, the lock released, and no sync recorded
    run = world.run_record(ref)
    assert result.status == run.status == "skipped"
    assert run.reason == "source unchanged: https://x/feed.csv: 304 Not Modified"
    profile = world.profile_record()
    assert profile.current_run_id is None and profile.last_sync_at is None
    assert profile.last_run is not None and profile.last_run.status == "skipped"


def test_a_concurrent_index_writer_keeps_its_change(world: World, ref: RunRef) -> None:
    # Given a run that wrote A's price, and a catalog import that rewrites the index
    # (D's stock) between finalize's read and its conditional write
    out = _matched(world, ref, [row(2, "A", price=1500)])
    _update_all(world, ref, out)
    store = world.repo.get_store("t1", "s1")
    assert store is not None

    def import_meanwhile() -> None:
        def stock_of_d(index: CatalogIndex) -> CatalogIndex:
            changed = [(*v[:8], 42, *v[9:]) if v[2] == "D" else v for v in index.variants]
            return CatalogIndex.from_variants(changed)  # type: ignore[arg-type]

        buf = io.StringIO()
        stock_of_d(world.index()).dump(buf)
        world.blobs.put_bytes(store.catalog_key or "", buf.getvalue().encode())

    world.blobs.between_read_and_write.append(import_meanwhile)
    # When finalized
    finalize(world.deps, FinalizeInput(run=ref))
    # Then both changes are in the index: the conditional write retried on the newer one
    index = world.index()
    assert index.by_sku["A"][4] == 1500 and index.by_sku["D"][8] == 42


def test_a_run_with_updates_starts_the_profiles_that_follow_it_once(
    world: World, ref: RunRef
) -> None:
    # Given profile p2 scheduled to run after p1
    store = world.repo.get_store("t1", "s1")
    assert store is not None
    world.profile(store, profile_id="p2", schedule={"type": "after", "profile_id": "p1"})
    out = _matched(world, ref, [row(2, "A", price=1500)])
    _update_all(world, ref, out)
    # When p1's run is finalized, twice (a retried Lambda)
    finalize(world.deps, FinalizeInput(run=ref))
    finalize(world.deps, FinalizeInput(run=ref))
    # Then one chained run of p2 was started
    chained = world.repo.list_runs("t1", "p2")
    assert [(r.trigger, r.status) for r in chained] == [("chain", "queued")]
    assert list(world.executions.started) == [chained[0].run_id]
