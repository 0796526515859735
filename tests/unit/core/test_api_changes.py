"""``GET /runs/{id}/changes`` through the API function, as API Gateway calls it, over the fakes:
pages and filters from the query string, CSV inline, paged and spooled, every refusal."""

from __future__ import annotations

import csv
import io
from typing import Any, get_args

import pytest
from fakes import World

from feedsync.core import api
from feedsync.domain.changes import CHANGE_FIELDS, CHANGES_HEADER, STATUSES, ChangeLine, encode
from feedsync.models import Run
from feedsync.models.responses import Change, ChangeField, ChangeList, ChangeStatus
from tests.unit.api_support import call, respond

KEY = "runs/tenant-1/run_1/changes.csv"


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    """The fakes, as the tenant the API test requests come from."""
    made = World(str(tmp_path))
    made.tenant = "tenant-1"
    monkeypatch.setattr("routes.common.deps", lambda: made.deps)
    return made


def _run(world: World, tenant: str = "tenant-1", lines: int = 30) -> list[ChangeLine]:
    """A finished run of ``tenant`` with ``lines`` changes: prices pending, stock updated."""
    key = f"runs/{tenant}/run_1/changes.csv"
    made = [
        ChangeLine(2 + i, f"SKU-{i:03d}", 10 + i, 100 + i, field, 1000 + i, 1299 + i, status)
        for i in range(lines)
        for field, status in [("price", "pending"), ("stock", "updated")][i % 2 : i % 2 + 1]
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CHANGES_HEADER)
    writer.writerows(encode(line) for line in made)
    world.blobs.put_bytes(key, out.getvalue().encode(), "text/csv")
    counts = {"status": {"pending": 15, "updated": 15}, "field": {"price": 15, "stock": 15}}
    run = Run(
        tenant_id=tenant, run_id="run_1", profile_id="p1", store_id="s1", trigger="manual",
        mode="partial", status="succeeded", changes_key=key, change_counts=counts,
        created_at=world.clock(),
    )  # fmt: skip
    world.repo.put_run(run)
    return made


def test_a_client_pages_through_every_change_with_the_next_cursor(world: World) -> None:
    # Given a run with 30 changes
    lines = _run(world)
    # When a client reads 8 at a time, passing each answer's next back as cursor
    seen: list[dict[str, Any]] = []
    query: dict[str, str] = {"limit": "8"}
    pages = 0
    while True:
        status, body = call("GET", "/runs/run_1/changes", query=query)
        assert status == 200
        ChangeList.model_validate(body)  # the documented body, exactly
        seen += body["changes"]
        pages += 1
        if body["next"] is None:
            break
        query = {"limit": "8", "cursor": body["next"]}
    # Then four pages hold every change once, in the file's order, in the API's words
    assert pages == 4
    assert [(c["row"], c["field"]) for c in seen] == [(line.row, line.field) for line in lines]
    assert seen[0] == {
        "row": 2, "key": "SKU-000", "product_id": 10, "variant_id": 100, "field": "price",
        "store_value": "10.00", "new_value": "12.99", "status": "pending", "error": None,
        "file_key": None,
    }  # fmt: skip
    # and without a limit, a page is 100 changes: all 30 here
    status, body = call("GET", "/runs/run_1/changes")
    assert status == 200 and len(body["changes"]) == 30 and body["next"] is None


def test_the_filters_come_from_the_query_string(world: World) -> None:
    # Given a run with pending prices and updated stock
    _run(world)
    # When the client filters by status, field and key
    _, pending = call("GET", "/runs/run_1/changes", query={"status": "pending"})
    _, stock = call("GET", "/runs/run_1/changes", query={"field": "stock", "q": "sku-02"})
    # Then each answers only its changes
    assert {c["status"] for c in pending["changes"]} == {"pending"}
    assert len(pending["changes"]) == 15
    assert [c["key"] for c in stock["changes"]] == [f"SKU-0{n}" for n in range(21, 30, 2)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "sending"}, "status"),
        ({"field": "sku"}, "field"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"format": "xml"}, "format"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ],
    ids=lambda v: str(v),
)
def test_a_refused_parameter_is_a_422_naming_it(
    world: World, query: dict[str, str], field: str
) -> None:
    # Given a run with changes
    _run(world)
    # When a parameter is out of its range, Then the answer is a 422 naming that parameter
    status, body = call("GET", "/runs/run_1/changes", query=query)
    assert status == 422, body
    assert body["error"] == "invalid_request" and body["field"] == field, body


def test_another_tenants_or_an_unknown_run_is_404(world: World) -> None:
    # Given a run of another tenant
    _run(world, tenant="tenant-2")
    # When tenant-1 (the API key's) asks for its changes, or a run nobody has
    for path in ("/runs/run_1/changes", "/runs/run_9/changes"):
        status, body = call("GET", path)
        # Then both are 404, nothing of the other tenant's changes shown
        assert status == 404 and body["error"] == "not_found"


def test_expired_changes_are_410(world: World) -> None:
    # Given a run whose changes file the bucket's lifecycle rule has expired
    _run(world)
    world.blobs.delete(KEY)
    # When its changes are asked for, as JSON or CSV
    for query in ({}, {"format": "csv"}):
        status, body = call("GET", "/runs/run_1/changes", query=query)
        # Then the answer is 410, saying so
        assert status == 410 and body["error"] == "gone"
        assert "changes are no longer kept" in body["message"]


def _header(result: dict[str, Any], name: str) -> str | None:
    values = result.get("multiValueHeaders", {}).get(name) or [result.get("headers", {}).get(name)]
    return values[0]


def test_format_csv_answers_the_whole_filtered_list_inline(world: World) -> None:
    # Given a run with changes
    _run(world)
    # When the updated ones are asked as CSV
    result = respond("GET", "/runs/run_1/changes", query={"format": "csv", "status": "updated"})
    # Then the answer is the CSV itself, as a download, every updated change in it
    assert result["statusCode"] == 200
    assert _header(result, "Content-Type") == "text/csv"
    assert _header(result, "Content-Disposition") == 'attachment; filename="run_1-changes.csv"'
    records = list(csv.reader(io.StringIO(result["body"])))
    assert records[0] == list(CHANGES_HEADER) and len(records) == 16
    assert records[1] == ["3", "SKU-001", "11", "101", "stock", "1001", "1300", "updated", "", ""]


def test_a_csv_over_the_inline_limit_is_a_302_to_its_download(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given changes whose CSV is over what a Lambda may answer (the limit made small here)
    _run(world)
    monkeypatch.setattr(api, "INLINE_LOG_BYTES", 500)
    # When the whole list is asked as CSV
    result = respond("GET", "/runs/run_1/changes", query={"format": "csv"})
    # Then the answer is a redirect to a presigned URL of the spooled export
    assert result["statusCode"] == 302 and not result["body"]
    location = _header(result, "Location")
    assert location is not None and "/runs/tenant-1/run_1/exports/changes-" in location
    export = location.split("fake-bucket.fake/")[1].split("?")[0]
    assert len(world.blobs.csv(export)) == 31


def test_a_csv_page_carries_its_next_cursor_in_a_header(world: World) -> None:
    # Given a run with 30 changes
    lines = _run(world)
    # When they are read as CSV pages of 20, following X-Next-Cursor
    first = respond("GET", "/runs/run_1/changes", query={"format": "csv", "limit": "20"})
    cursor = _header(first, "X-Next-Cursor")
    assert cursor is not None
    second = respond("GET", "/runs/run_1/changes", query={"format": "csv", "cursor": cursor})
    # Then the two pages hold all 30, and the last has no cursor
    rows = [r for page in (first, second) for r in list(csv.reader(io.StringIO(page["body"])))[1:]]
    assert [int(r[0]) for r in rows] == [line.row for line in lines]
    assert _header(second, "X-Next-Cursor") is None


def test_the_run_shows_its_change_counts_but_not_where_its_files_are(world: World) -> None:
    # Given a run with changes
    _run(world)
    # When the run is read
    status, body = call("GET", "/runs/run_1")
    # Then it counts its changes per status and field; the S3 key stays inside
    assert status == 200
    assert body["change_counts"] == {
        "status": {"pending": 15, "updated": 15},
        "field": {"price": 15, "stock": 15},
    }
    assert "changes_key" not in body


def test_the_route_documents_its_parameters_and_its_change() -> None:
    # Given the document
    status, doc = call("GET", "/openapi.json")
    assert status == 200
    op = doc["paths"]["/runs/{run_id}/changes"]["get"]
    # Then every query parameter is documented, the change has exactly its fields, and the
    # statuses and fields offered are those the changes file holds
    assert {p["name"] for p in op["parameters"] if p["in"] == "query"} == {
        "status", "field", "q", "limit", "cursor", "format",
    }  # fmt: skip
    assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert set(doc["components"]["schemas"]["Change"]["properties"]) == set(CHANGES_HEADER)
    assert set(Change.model_fields) == set(CHANGES_HEADER)
    assert get_args(ChangeStatus) == STATUSES
    assert get_args(ChangeField) == CHANGE_FIELDS
    assert "change_counts" in doc["components"]["schemas"]["RunView"]["properties"]
