"""``GET /runs/{id}/log?format=json``: the log a page at a time for the dashboard's table,
filtered by status and searched by SKU on the server (a big log never goes whole to a
browser), with the cursor each page gives out."""

from __future__ import annotations

import csv
import io

import pytest
from fakes import World

from feedsync.core import api
from feedsync.domain.runlog import LOG_HEADER
from feedsync.errors import Gone, InvalidRequest
from feedsync.models import Run

LOG_KEY = "runs/t1/run_1/log.csv"


def _run_with_log(
    world: World, lines: list[tuple[str, ...]], header: tuple[str, ...] = LOG_HEADER
) -> None:
    world.repo.put_run(
        Run(
            tenant_id=world.tenant, run_id="run_1", profile_id="p1", store_id="s1",
            trigger="manual", mode="partial", status="succeeded", log_key=LOG_KEY,
            created_at=world.clock(),
        )
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    world.blobs.put_bytes(LOG_KEY, out.getvalue().encode(), "text/csv")


def _line(n: int, status: str, key: str | None = None) -> tuple[str, ...]:
    sku = key or f"SKU-{n:04d}"
    changes = "price: 10.00 -> 12.50" if status == "updated" else ""
    error = "price: expected a number, got 'abc'" if status == "row_error" else ""
    return (str(n), sku, "7", str(100 + n), status, changes, error, sku.lower())


def _every_page(world: World, **filters: object) -> list[list[dict[str, object]]]:
    pages, cursor = [], None
    while True:
        found, cursor = api.run_log_page(
            world.deps,
            world.tenant,
            "run_1",
            cursor=cursor,
            **filters,  # type: ignore[arg-type]
        )
        pages.append(found)
        if cursor is None:
            return pages


def test_the_log_pages_through_every_line_once_in_order(world: World) -> None:
    # Given a run whose log holds 250 lines
    lines = [_line(n, "updated" if n % 3 else "unchanged") for n in range(1, 251)]
    _run_with_log(world, lines)
    # When it is read 100 lines at a time with the cursors it gives out
    pages = _every_page(world, limit=100)
    # Then three pages hold every line once, in the file's order, with numbers as numbers
    assert [len(p) for p in pages] == [100, 100, 50]
    rows = [line["row"] for page in pages for line in page]
    assert rows == list(range(1, 251))
    first = pages[0][0]
    assert first == {
        "row": 1, "key": "SKU-0001", "product_id": 7, "variant_id": 101, "status": "updated",
        "changes": "price: 10.00 -> 12.50", "error": "", "file_key": "sku-0001",
    }  # fmt: skip


def test_a_status_and_a_sku_search_are_applied_on_the_server(world: World) -> None:
    # Given a log with updated rows, row errors and one SKU that differs in case in the file
    lines = [_line(n, "row_error" if n % 10 == 0 else "updated") for n in range(1, 101)]
    lines.append(("101", "ACME-77", "8", "201", "failed", "", "refused", "Z9-77"))
    _run_with_log(world, lines)
    # When the merchant shows the row errors only
    errors = [line for page in _every_page(world, status="row_error") for line in page]
    # Then exactly those ten lines come back
    assert [line["row"] for line in errors] == list(range(10, 101, 10))
    # When they search by a part of a SKU, in another case, as the store knows it
    found = [line for page in _every_page(world, q="sku-004") for line in page]
    assert [line["key"] for line in found] == [f"SKU-{n:04d}" for n in range(40, 50)]
    # And by the key as the file wrote it (before the profile's prefix)
    assert [line["key"] for page in _every_page(world, q="z9") for line in page] == ["ACME-77"]


def test_a_log_from_before_the_file_key_column_still_pages(world: World) -> None:
    # Given a log written before the file_key column was added
    _run_with_log(world, [_line(n, "updated")[:7] for n in range(1, 4)], header=LOG_HEADER[:7])
    # When a page is asked for
    found, following = api.run_log_page(world.deps, world.tenant, "run_1")
    # Then its lines read with a null file key
    assert [line["file_key"] for line in found] == [None, None, None] and following is None


def test_a_forged_cursor_or_a_limit_out_of_range_is_refused_by_name(world: World) -> None:
    # Given a run with a log
    _run_with_log(world, [_line(n, "updated") for n in range(1, 4)])
    # When a cursor it never gave out, or a limit over 1000, is sent
    # Then each is refused naming the parameter
    with pytest.raises(InvalidRequest) as bad_cursor:
        api.run_log_page(world.deps, world.tenant, "run_1", cursor="not-a-cursor")
    assert bad_cursor.value.field == "cursor"
    with pytest.raises(InvalidRequest) as bad_limit:
        api.run_log_page(world.deps, world.tenant, "run_1", limit=1001)
    assert bad_limit.value.field == "limit"


def test_an_expired_log_is_gone(world: World) -> None:
    # Given a run whose log the bucket's lifecycle has removed
    _run_with_log(world, [_line(1, "updated")])
    world.blobs.delete(LOG_KEY)
    # When a page is asked for
    # Then the answer is Gone (410), saying run files expire
    with pytest.raises(Gone, match="no longer kept"):
        api.run_log_page(world.deps, world.tenant, "run_1")
