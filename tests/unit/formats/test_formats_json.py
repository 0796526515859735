"""JSON documents and JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError, MissingColumnsError, NoDataRowsError

MAPPING = {"sku": "sku", "barcode": "ean", "price": "price.amount", "stock": "qty"}


def run(path: Path, fmt: dict[str, Any] | None = None, mapping: dict[str, str] | None = None):
    return read_all(path, fmt, mapping or MAPPING)


RECORDS = [
    {"sku": "A1", "ean": 123456789012.0, "price": {"amount": 12.5}, "qty": 3},
    {"sku": "B2", "price": {"amount": 2}, "qty": 0, "tags": ["x", "y"]},
]
EXPECTED = [
    (1, "A1", "123456789012", 1250, None, None, None, 3, None, None, None, None, None),
    (2, "B2", None, 200, None, None, None, 0, None, None, None, None, None),
]


def test_array_of_objects_with_nested_keys(tmp_path: Path) -> None:
    # Given a JSON array with a nested price object and a float barcode
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(RECORDS), encoding="utf-8")
    # When opened
    feed, rows, info = run(path)
    # Then nested values are reached by dot keys and the header is the union of keys
    assert rows == EXPECTED
    assert feed.columns == ["sku", "ean", "price.amount", "qty", "tags"]
    assert info["type"] == "json"


def test_object_with_record_path(tmp_path: Path) -> None:
    # Given records under data.items
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"meta": {"n": 2}, "data": {"items": RECORDS}}), encoding="utf-8")
    # When opened with record_path
    _, rows, info = run(path, {"record_path": "data.items"})
    # Then the records there are read
    assert rows == EXPECTED
    assert info["record_path"] == "data.items"


def test_object_with_one_array_is_found_without_a_path(tmp_path: Path) -> None:
    # Given {"products": [...]} and no record_path
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"count": 2, "products": RECORDS}), encoding="utf-8")
    # When opened, Then that array is used and recorded
    _, rows, info = run(path)
    assert rows == EXPECTED and info["record_path"] == "products"


def test_wrong_record_path_names_the_keys(tmp_path: Path) -> None:
    # Given a record path that does not exist
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"data": {"rows": RECORDS}}), encoding="utf-8")
    # When opened, Then the error shows where it stopped and the keys there
    with pytest.raises(FeedFormatError, match=r"no 'items' at data \(keys there: 'rows'\)"):
        run(path, {"record_path": "data.items"})


def test_json_lines_stream(tmp_path: Path) -> None:
    # Given JSON Lines with a blank line in the middle
    path = tmp_path / "feed.jsonl"
    lines = [json.dumps(RECORDS[0]), "", json.dumps(RECORDS[1])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When opened
    _, rows, info = run(path)
    # Then row numbers are line numbers
    assert [(r[0], r[1]) for r in rows] == [(1, "A1"), (3, "B2")]
    assert info["type"] == "jsonl"


def test_json_lines_detected_by_content_under_a_json_name(tmp_path: Path) -> None:
    # Given JSON Lines saved as .json
    path = tmp_path / "feed.json"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS), encoding="utf-8")
    # When opened, Then it is read as JSON Lines
    _, rows, info = run(path)
    assert info["type"] == "jsonl" and len(rows) == 2


def test_invalid_json_says_where(tmp_path: Path) -> None:
    # Given broken JSON
    path = tmp_path / "feed.json"
    path.write_text('[{"sku": "A1",}]', encoding="utf-8")
    # When opened, Then line and column are given
    with pytest.raises(FeedFormatError, match=r"feed\.json: not valid JSON at line 1, column"):
        run(path)


def test_empty_array_has_no_data_rows(tmp_path: Path) -> None:
    # Given an empty array, When opened, Then it is "no records"
    path = tmp_path / "feed.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(NoDataRowsError, match="no records"):
        run(path)


def test_missing_key_is_a_missing_column(tmp_path: Path) -> None:
    # Given records without the mapped "qty" key
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([{"sku": "A", "price": {"amount": 1}}]), encoding="utf-8")
    # When opened, Then it fails naming the key and listing the keys found
    with pytest.raises(MissingColumnsError) as caught:
        run(path)
    assert caught.value.missing == ["ean", "qty"]
    assert caught.value.available == ["sku", "price.amount"]
