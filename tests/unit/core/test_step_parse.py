"""The parse step over fakes: rows and row errors out; a bad file changes nothing."""

from __future__ import annotations

import pytest
from fakes import World, variant

from feedsync.core import keys
from feedsync.core.steps.parse import parse
from feedsync.errors import MissingColumnsError, NoDataRowsError, PlanLimitExceeded
from feedsync.models import FetchOutput, ParseInput, Plan, RunRef, TenantSettings


def _fetched(world: World, ref: RunRef, data: bytes, name: str = "stock.csv") -> FetchOutput:
    key = keys.source_key(ref.tenant_id, ref.run_id, name)
    world.blobs.put_bytes(key, data)
    return FetchOutput(key=key, file_name=name, size=len(data))


def _run_keys(world: World, ref: RunRef) -> set[str]:
    prefix = keys.run_prefix(ref.tenant_id, ref.run_id)
    return {k.removeprefix(prefix) for k in world.blobs.objects if k.startswith(prefix)}


def test_good_rows_go_on_and_bad_ones_are_counted_row_errors(world: World) -> None:
    # Given a file of three rows, the second with a price that is not a number
    profile = world.profile(world.store([variant(1, 1, "A-1")]))
    ref = world.run(profile)
    data = b"SKU,Price,Qty\nA-1,12.50,3\nB-2,twelve,4\nC-3,7,\n"
    # When it is parsed
    out = parse(world.deps, ParseInput(run=ref, fetch=_fetched(world, ref, data)))
    # Then two canonical rows (money in cents, file row numbers) and one row error
    assert (out.rows, out.row_errors) == (3, 1)
    rows = world.blobs.csv(out.rows_key)
    assert [(r[0], r[1], r[3], r[7]) for r in rows[1:]] == [
        ("2", "A-1", "1250", "3"),
        ("4", "C-3", "700", ""),
    ]
    errors = world.blobs.csv(out.row_errors_key)
    assert len(errors) == 2 and errors[1][0] == "3" and errors[1][4] == "row_error"
    # and the run holds the counts and how the file was read
    run = world.run_record(ref)
    assert run.counts == {"rows": 3, "row_errors": 1}
    assert run.source["format"]["delimiter"] == ","


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"SKU,Price,Qty\n", NoDataRowsError),
        (b"Code,Price,Qty\nA-1,1.00,2\n", MissingColumnsError),
    ],
    ids=["header only", "mapped column missing"],
)
def test_a_file_level_error_records_nothing(world: World, data: bytes, error: type) -> None:
    # Given a file that cannot be read as the profile says
    profile = world.profile(world.store([variant(1, 1, "A-1")]))
    ref = world.run(profile)
    before = world.run_record(ref)
    # When it is parsed, Then the named error stops the run
    with pytest.raises(error):
        parse(world.deps, ParseInput(run=ref, fetch=_fetched(world, ref, data)))
    # and nothing was written for match: no rows, no row errors, no counts
    assert _run_keys(world, ref) == {"source/stock.csv"}
    assert world.run_record(ref) == before


def test_a_file_over_the_plan_holds_the_profile_and_records_nothing(world: World) -> None:
    # Given a tenant whose plan allows 2 rows per file, and a file of 3 rows
    world.repo.put_tenant_settings(TenantSettings(tenant_id="t1", plan=Plan(max_rows=2)))
    profile = world.profile(world.store([variant(1, 1, "A-1")]))
    ref = world.run(profile)
    data = b"SKU,Price,Qty\nA-1,1,1\nA-2,1,1\nA-3,1,1\n"
    # When it is parsed
    with pytest.raises(PlanLimitExceeded, match="3 rows; the plan allows 2"):
        parse(world.deps, ParseInput(run=ref, fetch=_fetched(world, ref, data)))
    # Then no rows were handed on and the profile is disabled by the plan, saying why
    assert _run_keys(world, ref) == {"source/stock.csv"}
    held = world.profile_record()
    assert held.rows_over_plan == 3 and held.enabled is False
    assert (held.disabled_reason or "").startswith("plan: ")
