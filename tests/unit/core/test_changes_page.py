"""Reading a run's changes (``GET /runs/{id}/changes``) from the core, over the fakes: pages
and their cursor, the filters, a file rewritten between pages, refusals, the CSV answers."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from typing import Any

import pytest
from fakes import World

from feedsync.core import changes
from feedsync.domain.changes import CHANGES_HEADER, ChangeLine, encode
from feedsync.errors import Gone, InvalidRequest
from feedsync.models import Run

KEY = "runs/t1/run_1/changes.csv"


def _run(world: World, changes_key: str | None = KEY) -> Run:
    run = Run(
        tenant_id=world.tenant, run_id="run_1", profile_id="p1", store_id="s1",
        trigger="manual", mode="partial", status="succeeded", changes_key=changes_key,
        created_at=world.clock(),
    )  # fmt: skip
    world.repo.put_run(run)
    return run


def _write(world: World, lines: list[ChangeLine]) -> None:
    """The changes file as the run's steps write it (``encode``, header first, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CHANGES_HEADER)
    writer.writerows(encode(line) for line in lines)
    world.blobs.put_bytes(KEY, out.getvalue().encode(), "text/csv")


def _lines(n: int, status: str = "pending") -> list[ChangeLine]:
    """``n`` changes over n/2 rows: price and stock; every fifth error spans lines."""
    made = []
    for i in range(n):
        row = 2 + i // 2
        error = 'refused,\nsee "the store"' if i % 5 == 4 else ""
        if i % 2 == 0:
            made.append(ChangeLine(row, f"SKU-{row}", 10 + row, 100 + row, "price", 1000 + i,
                                   1299, status, error))  # fmt: skip
        else:
            made.append(ChangeLine(row, f"SKU-{row}", 10 + row, 100 + row, "stock", i, 5,
                                   status, error))  # fmt: skip
    return made


def _all_pages(
    world: World, run: Run, cursor: str | None = None, **query: Any
) -> list[list[dict[str, Any]]]:
    pages = []
    while True:
        page, cursor = changes.page_changes(world.deps, run, cursor=cursor, **query)
        pages.append(page)
        if cursor is None:
            return pages


def _rows(pages: list[list[dict[str, Any]]]) -> list[tuple[int, str]]:
    return [(c["row"], c["field"]) for page in pages for c in page]


def test_paging_answers_every_change_once_in_file_order(world: World) -> None:
    # Given a run with 25 changes, some with an error spanning lines
    run = _run(world)
    lines = _lines(25)
    _write(world, lines)
    # When they are read 7 at a time, following each page's cursor
    pages = _all_pages(world, run, limit=7)
    # Then four pages answer all 25 once, in the file's order, and the last has no next
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    assert _rows(pages) == [(line.row, line.field) for line in lines]
    # ... each in the API's words (money as text, no error as null)
    first, multi_line = pages[0][0], pages[0][4]
    assert first == {
        "row": 2, "key": "SKU-2", "product_id": 12, "variant_id": 102, "field": "price",
        "store_value": "10.00", "new_value": "12.99", "status": "pending", "error": None,
        "file_key": None,
    }  # fmt: skip
    assert multi_line["error"] == 'refused,\nsee "the store"'


def test_a_page_that_ends_the_file_has_no_next(world: World) -> None:
    # Given exactly two pages' worth of changes
    run = _run(world)
    _write(world, _lines(4))
    # When the first page is read, then its next
    page, cursor = changes.page_changes(world.deps, run, limit=2)
    last, after = changes.page_changes(world.deps, run, limit=2, cursor=cursor)
    # Then the second is the end: no empty third page to ask for
    assert len(page) == 2 and cursor is not None
    assert len(last) == 2 and after is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "pending"}, [(2, "price"), (2, "stock"), (4, "price")]),
        ({"status": "failed"}, [(3, "price")]),
        ({"status": "updated"}, [(3, "stock"), (4, "stock")]),
        ({"field": "stock"}, [(2, "stock"), (3, "stock"), (4, "stock")]),
        ({"q": "sku-3"}, [(3, "price"), (3, "stock")]),
        ({"q": "Ku-4", "status": "pending"}, [(4, "price")]),
        ({"field": "stock", "status": "updated", "q": "4"}, [(4, "stock")]),
        ({"status": "reverted"}, []),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else "",
)
def test_each_filter_answers_only_its_changes(
    world: World, query: dict[str, str], expected: list[tuple[int, str]]
) -> None:
    # Given changes in every state an apply leaves them, one being sent right now
    run = _run(world)
    states = ["pending", "sending", "failed", "updated", "pending", "updated"]
    _write(world, [line._replace(status=s) for line, s in zip(_lines(6), states, strict=True)])
    # When they are read under a filter, one per page (the filter holds across pages)
    pages = _all_pages(world, run, limit=1, **query)
    # Then exactly the matching changes answer; the one being sent counts as pending
    assert _rows(pages) == expected
    assert all(c["status"] != "sending" for page in pages for c in page)


def test_a_file_rewritten_between_pages_goes_on_at_the_next_line(world: World) -> None:
    # Given a first page read from a run's changes
    run = _run(world)
    lines = _lines(20)
    _write(world, lines)
    first, cursor = changes.page_changes(world.deps, run, limit=6)
    # When an apply rewrites the file (statuses and long errors: every offset moves)
    done = [line._replace(status="failed", error="x" * 500) for line in lines[:10]]
    _write(world, done + lines[10:])
    rest = _all_pages(world, run, limit=6, cursor=cursor)
    # Then the next pages start at the seventh change, in its new state, and none is lost
    assert _rows([first, *rest]) == [(line.row, line.field) for line in lines]
    assert rest[0][0]["row"] == lines[6].row and rest[0][0]["status"] == "failed"
    assert rest[0][0]["error"] == "x" * 500


def test_a_file_rewritten_shorter_ends_the_paging(world: World) -> None:
    # Given a cursor past line 6 of a file since rewritten with 4 lines
    run = _run(world)
    _write(world, _lines(20))
    _, cursor = changes.page_changes(world.deps, run, limit=6)
    _write(world, _lines(4))
    # When the next page is read, Then it is empty and the last
    assert changes.page_changes(world.deps, run, cursor=cursor) == ([], None)


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "e30",  # {}
        _cursor({"o": -1, "n": 0, "e": "x"}),
        _cursor({"o": "5", "n": 1, "e": "x"}),
        _cursor({"o": 0, "n": 3, "e": "x"}),
        _cursor([1, 2, 3]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_cursor_is_refused_naming_it(world: World, cursor: str) -> None:
    # Given a run with changes
    run = _run(world)
    _write(world, _lines(4))
    # When a page is asked with a cursor the API never gave
    # Then it is an InvalidRequest (422) on "cursor", saying what to send instead
    with pytest.raises(InvalidRequest, match="not a cursor of this run's changes") as raised:
        changes.page_changes(world.deps, run, cursor=cursor)
    assert raised.value.field == "cursor"


def test_a_cursor_forged_into_the_middle_of_a_line_is_refused(world: World) -> None:
    # Given a real cursor, its offset moved into the middle of a line of the same file
    run = _run(world)
    _write(world, _lines(10))
    _, cursor = changes.page_changes(world.deps, run, limit=2)
    assert cursor is not None
    real = json.loads(base64.urlsafe_b64decode(cursor + "=="))
    for offset in (real["o"] + 3, 4):
        forged = _cursor({**real, "o": offset})
        # When a page is asked from it, Then it is refused, not answered with garbage
        with pytest.raises(InvalidRequest) as raised:
            changes.page_changes(world.deps, run, cursor=forged)
        assert raised.value.field == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"status": "sending"}, "status"),
     ({"field": "sku"}, "field")],
)  # fmt: skip
def test_a_value_out_of_range_is_refused_naming_its_parameter(
    world: World, query: dict[str, Any], field: str
) -> None:
    run = _run(world)
    _write(world, _lines(2))
    with pytest.raises(InvalidRequest) as raised:
        changes.page_changes(world.deps, run, **query)
    assert raised.value.field == field


def test_changes_past_their_retention_are_gone(world: World) -> None:
    # Given a run whose changes file the bucket's lifecycle rule has expired
    run = _run(world)
    # When its changes are read, as a page or as CSV
    # Then the answer is Gone (410) saying the changes are no longer kept
    message = r"run run_1's changes are no longer kept \(run files expire after 90 days\)"
    with pytest.raises(Gone, match=message):
        changes.page_changes(world.deps, run)
    with pytest.raises(Gone, match=message):
        changes.changes_csv(world.deps, run, inline_bytes=1000)


def test_a_run_without_a_changes_file_has_no_changes(world: World) -> None:
    # Given a run from before changes files (or one that failed before matching)
    run = _run(world, changes_key=None)
    # When its changes are read, Then there are none, as a page and as CSV
    assert changes.page_changes(world.deps, run) == ([], None)
    assert changes.changes_csv(world.deps, run, inline_bytes=1000) == (
        ",".join(CHANGES_HEADER).encode() + b"\r\n"
    )


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_the_csv_is_the_filtered_list_in_the_logs_words_formulas_neutralised(
    world: World,
) -> None:
    # Given changes whose text came from the supplier and the store, one a formula
    run = _run(world)
    _write(world, [
        ChangeLine(2, "=HYPERLINK(1)", 1, 11, "price", None, 1299, "updated"),
        ChangeLine(2, "=HYPERLINK(1)", 1, 11, "stock", None, -5, "failed", "-refused"),
        ChangeLine(3, "B", 2, 12, "name", "@old", "new", "sending"),
    ])  # fmt: skip
    # When the whole list is asked as CSV, and the stock changes only
    data = changes.changes_csv(world.deps, run, inline_bytes=10_000)
    stock = changes.changes_csv(world.deps, run, inline_bytes=10_000, field="stock")
    # Then it is answered inline: the JSON's columns, values as the log words them, text that
    # a spreadsheet would run as a formula quoted, numbers left numbers
    assert isinstance(data, bytes) and isinstance(stock, bytes)
    assert _csv(data) == [
        list(CHANGES_HEADER),
        ["2", "'=HYPERLINK(1)", "1", "11", "price", "(empty)", "12.99", "updated", "", ""],
        ["2", "'=HYPERLINK(1)", "1", "11", "stock", "(not known)", "-5", "failed", "'-refused", ""],
        ["3", "B", "2", "12", "name", "'@old", "new", "pending", "", ""],
    ]
    assert _csv(stock) == [_csv(data)[0], _csv(data)[2]]


def test_a_csv_too_big_to_answer_is_spooled_once_and_handed_out_as_a_url(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 400 changes, 200 of them failed, and an inline limit far below their CSV
    run = _run(world)
    uploads: list[str] = []
    upload = world.blobs.upload_file

    def counted(path: str, key: str, content_type: str = "") -> None:
        uploads.append(key)
        upload(path, key, content_type)

    monkeypatch.setattr(world.blobs, "upload_file", counted)
    lines = [line._replace(status="failed" if i % 2 else "updated")
             for i, line in enumerate(_lines(400))]  # fmt: skip
    _write(world, lines)
    # When the failed ones are asked as CSV
    url = changes.changes_csv(world.deps, run, inline_bytes=2_000, status="failed")
    # Then the answer is a download URL of an export under the run, holding every one
    assert isinstance(url, str)
    exports = [k for k in world.blobs.objects if k.startswith("runs/t1/run_1/exports/")]
    assert len(exports) == 1 and url.startswith(f"https://fake-bucket.fake/{exports[0]}?")
    assert re.fullmatch(r"runs/t1/run_1/exports/changes-[0-9a-f]{16}\.csv", exports[0])
    records = world.blobs.csv(exports[0])
    assert records[0] == list(CHANGES_HEADER) and len(records) == 201
    assert {r[7] for r in records[1:]} == {"failed"}
    assert [int(r[0]) for r in records[1:]] == [
        line.row for line in lines if line.status == "failed"
    ]
    # When it is asked again, Then the same export answers, not spooled again
    assert changes.changes_csv(world.deps, run, inline_bytes=2_000, status="failed") == url
    assert uploads == exports
    # ... and another filter has its own
    changes.changes_csv(world.deps, run, inline_bytes=2_000, status="updated")
    assert len([k for k in world.blobs.objects if "/exports/" in k]) == 2
    # When the file is rewritten (an apply moved statuses on), Then a new export is made
    _write(world, [line._replace(status="failed") for line in lines])
    fresh = changes.changes_csv(world.deps, run, inline_bytes=2_000, status="failed")
    assert fresh != url and len(world.blobs.csv(fresh.split("/", 3)[3].split("?")[0])) == 401


def test_a_csv_page_answers_its_changes_and_the_next_cursor(world: World) -> None:
    # Given a run with 5 changes
    run = _run(world)
    _write(world, _lines(5))
    # When they are read as CSV pages of 3
    first, cursor = changes.page_changes_csv(world.deps, run, limit=3)
    second, after = changes.page_changes_csv(world.deps, run, limit=3, cursor=cursor)
    # Then each page is a CSV with its header, and the cursor leads from one to the next
    assert [r[0] + r[4] for r in _csv(first)[1:]] == ["2price", "2stock", "3price"]
    assert [r[0] + r[4] for r in _csv(second)[1:]] == ["3stock", "4price"]
    assert _csv(second)[0] == list(CHANGES_HEADER) and cursor is not None and after is None


def test_a_page_of_long_texts_stops_early_and_goes_on_in_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given descriptions so long that a page of them would pass a Lambda answer's limit
    monkeypatch.setattr(changes, "PAGE_BYTES", 10_000)
    run = _run(world)
    text = "a long description " * 200  # ~3,800 characters each
    _write(world, [ChangeLine(i, f"S{i}", i, i, "description", None, text, "pending")
                   for i in range(2, 12)])  # fmt: skip
    # When they are read 100 at a time
    pages = _all_pages(world, run, limit=100)
    # Then each page stops once it passes the budget, and together they hold all ten
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert [c["row"] for page in pages for c in page] == list(range(2, 12))


def test_a_rare_filter_over_a_huge_run_answers_in_parts_within_the_scan_budget(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run whose only failed change is its last, and a scan budget of 8 changes a page
    monkeypatch.setattr(changes, "SCAN_LINES", 8)
    run = _run(world)
    lines = _lines(20)
    lines[-1] = lines[-1]._replace(status="failed")
    _write(world, lines)
    # When the failed changes are asked for
    pages = _all_pages(world, run, status="failed")
    # Then each page stops after 8 changes read (the first ones empty, each with a next), and
    # the last answers the failed change: a page never reads the whole run
    assert [len(page) for page in pages] == [0, 0, 1]
    assert pages[-1][0]["row"] == lines[-1].row


def test_a_changes_file_written_before_file_keys_is_still_served(world: World) -> None:
    # Given a run's changes file of nine columns, as runs wrote them before file_key
    run = _run(world)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CHANGES_HEADER[:-1])
    writer.writerow(["2", "SKU-2", "1", "11", "price", "1000", "1299", "updated", ""])
    world.blobs.put_bytes(KEY, out.getvalue().encode(), "text/csv")
    # When a page and the CSV are asked for
    found, following = changes.page_changes(world.deps, run)
    data = changes.changes_csv(world.deps, run, inline_bytes=10_000)
    # Then the change is answered, with no file key
    assert following is None
    assert [(c["key"], c["new_value"], c["file_key"]) for c in found] == [("SKU-2", "12.99", None)]
    assert isinstance(data, bytes)
    assert _csv(data)[1] == ["2", "SKU-2", "1", "11", "price", "10.00", "12.99", "updated", "", ""]
