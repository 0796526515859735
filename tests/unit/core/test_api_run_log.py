"""``GET /runs/{id}/log``'s answers from the core: the log, a download URL, 404 or 410; the
profile's run history, paged."""

from __future__ import annotations

import pytest
from fakes import World

from feedsync.core import api
from feedsync.errors import Gone, InvalidRequest, NotFound
from feedsync.models import Run


def _run(world: World, log_key: str | None) -> Run:
    run = Run(
        tenant_id=world.tenant, run_id="run_1", profile_id="p1", store_id="s1",
        trigger="manual", mode="partial", status="succeeded", log_key=log_key,
        created_at=world.clock(),
    )  # fmt: skip
    world.repo.put_run(run)
    return run


def test_a_kept_log_is_answered_inline(world: World) -> None:
    # Given a finished run whose log is in the bucket
    _run(world, "runs/t1/run_1/log.csv")
    world.blobs.put_bytes("runs/t1/run_1/log.csv", b"row,sku,outcome\n", "text/csv")
    # When its log is asked for
    # Then the CSV itself is the answer
    assert api.run_log(world.deps, world.tenant, "run_1") == b"row,sku,outcome\n"


def test_a_log_past_its_retention_is_gone_not_missing(world: World) -> None:
    # Given a finished run whose log the bucket's lifecycle rule has expired
    _run(world, "runs/t1/run_1/log.csv")
    # When its log is asked for
    # Then the answer is Gone (410) saying the log is no longer kept, without the bucket's name
    with pytest.raises(Gone) as raised:
        api.run_log(world.deps, world.tenant, "run_1")
    assert raised.value.message == (
        "run run_1's log is no longer kept (run files expire after 90 days)"
    )


def test_a_run_without_a_log_yet_is_not_found(world: World) -> None:
    # Given a run still in progress (no log written yet)
    _run(world, None)
    # When its log is asked for
    # Then the answer is NotFound (404) naming the run's status
    with pytest.raises(NotFound, match=r"run run_1 has no log yet \(status: succeeded\)"):
        api.run_log(world.deps, world.tenant, "run_1")


def test_the_history_pages_with_the_cursor_it_gives_out(world: World) -> None:
    # Given a profile with 5 runs
    profile = world.profile(world.store([]), profile_id="p1")
    for n in range(5):
        world.repo.put_run(
            Run(
                tenant_id=world.tenant, run_id=f"run_{n}", profile_id=profile.profile_id,
                store_id="s1", trigger="manual", mode="partial", status="succeeded",
                created_at=world.clock(),
            )
        )  # fmt: skip
    # When it is read two at a time
    first = api.list_runs(world.deps, world.tenant, "p1", limit=2)
    second = api.list_runs(world.deps, world.tenant, "p1", limit=2, cursor=first["next"])
    last = api.list_runs(world.deps, world.tenant, "p1", limit=2, cursor=second["next"])
    # Then the pages follow each other newest first, and the last says there is no more
    pages = [[r["run_id"] for r in p["runs"]] for p in (first, second, last)]
    assert pages == [["run_4", "run_3"], ["run_2", "run_1"], ["run_0"]]
    assert last["next"] is None
    # and a cursor it never gave out is refused by name
    with pytest.raises(InvalidRequest, match="cursor"):
        api.list_runs(world.deps, world.tenant, "p1", cursor="../../x y")


def test_the_log_of_one_status_holds_its_lines_only(world: World) -> None:
    # Given a finished run whose log holds updated, failed and row-error lines
    _run(world, "runs/t1/run_1/log.csv")
    log = (
        "row,key,product_id,variant_id,status,changes,error\n"
        "2,A,1,11,updated,price: 1.00 -> 2.00,\n"
        '3,B,2,12,failed,"stock: 1 -> 2","price: must be positive, said the store"\n'
        "4,C,,,row_error,,column 'Price': 'x'\n"
    )
    world.blobs.put_bytes("runs/t1/run_1/log.csv", log.encode(), "text/csv")
    # When its failed lines are asked for
    body = api.run_log(world.deps, world.tenant, "run_1", "failed")
    # Then the answer is the header and the failed line, quoted as in the log
    assert isinstance(body, bytes)
    assert body.decode().splitlines() == [
        "row,key,product_id,variant_id,status,changes,error",
        '3,B,2,12,failed,stock: 1 -> 2,"price: must be positive, said the store"',
    ]


def test_a_big_log_of_one_status_is_handed_out_as_a_download(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run whose log is over the inline limit
    _run(world, "runs/t1/run_1/log.csv")
    head = "row,key,product_id,variant_id,status,changes,error\n"
    lines = "".join(f"{n},K{n},1,{n},{'failed' if n % 2 else 'updated'},,\n" for n in range(2, 50))
    world.blobs.put_bytes("runs/t1/run_1/log.csv", (head + lines).encode(), "text/csv")
    monkeypatch.setattr(api, "INLINE_LOG_BYTES", 200)
    # When its failed lines are asked for
    url = api.run_log(world.deps, world.tenant, "run_1", "failed")
    # Then the answer is a download of an export holding exactly those lines
    assert isinstance(url, str) and "exports/log-failed.csv" in url
    exported = world.blobs.text("runs/t1/run_1/exports/log-failed.csv").splitlines()
    assert exported[0] == head.strip()
    assert [line.split(",")[0] for line in exported[1:]] == [str(n) for n in range(3, 50, 2)]


def test_the_lines_of_one_status_keep_the_logs_own_columns(world: World) -> None:
    # Given a log with the file's key beside the store's (a key_transform's run)
    _run(world, "runs/t1/run_1/log.csv")
    log = (
        "row,key,product_id,variant_id,status,changes,error,file_key\n"
        "2,ACME-1,1,11,updated,price: 1.00 -> 2.00,,1\n"
        "3,ACME-2,,,not_found,,no variant in the store has SKU 'ACME-2',2\n"
    )
    world.blobs.put_bytes("runs/t1/run_1/log.csv", log.encode(), "text/csv")
    # When its not_found lines are asked for
    body = api.run_log(world.deps, world.tenant, "run_1", "not_found")
    # Then the header and the line keep the file_key column
    assert isinstance(body, bytes)
    assert body.decode().splitlines() == [
        "row,key,product_id,variant_id,status,changes,error,file_key",
        "3,ACME-2,,,not_found,,no variant in the store has SKU 'ACME-2',2",
    ]
