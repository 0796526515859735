"""XML feeds: record paths, namespaces, attributes, and refused attacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError, NoDataRowsError

MAPPING = {"sku": "@sku", "price": "price", "stock": "stock/qty", "name": "name"}


def run(path: Path, fmt: dict[str, Any] | None = None, mapping: dict[str, str] | None = None):
    return read_all(path, fmt, mapping or MAPPING)


NS_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<c:catalog xmlns:c="urn:cat" xmlns="urn:default">
  <c:header><c:generated>2024-01-01</c:generated></c:header>
  <c:item sku="A1"><price>12.99</price><stock><qty>5</qty></stock><name> Mug </name></c:item>
  <c:item sku="B2"><price>abc</price><stock><qty>1</qty></stock><name>Pen</name></c:item>
  <c:item sku="C3"><price>3</price><stock><qty>0</qty></stock></c:item>
</c:catalog>
"""
EXPECTED = [
    (1, "A1", None, 1299, None, None, None, 5, "Mug", None, None, None, None),
    (3, "C3", None, 300, None, None, None, 0, None, None, None, None, None),
]


@pytest.mark.parametrize(
    "fmt",
    [
        {"record_path": "catalog/item"},
        {"record_path": "item"},
        {"record_path": "{urn:cat}catalog/{urn:cat}item"},
        {"record_path": "x:item", "namespaces": {"x": "urn:cat"}},
    ],
)
def test_namespaced_records_with_attributes_and_nested_children(
    tmp_path: Path, fmt: dict[str, Any]
) -> None:
    # Given a namespaced catalog with attributes and nested elements
    path = tmp_path / "feed.xml"
    path.write_text(NS_DOC, encoding="utf-8")
    # When the record path is given plain, as a suffix, with {uri}, or with a prefix
    feed, rows, info = run(path, fmt)
    # Then every spelling finds the same records; the bad price row is recorded
    assert rows == EXPECTED
    assert feed.row_errors[0][:3] == (2, "price", "abc")
    assert info["type"] == "xml" and info["encoding"] == "utf-8"


def test_record_path_in_another_namespace_matches_nothing(tmp_path: Path) -> None:
    # Given the same catalog, When the path names a different namespace
    path = tmp_path / "feed.xml"
    path.write_text(NS_DOC, encoding="utf-8")
    # Then there are no records, and the error shows the elements seen
    with pytest.raises(NoDataRowsError, match=r"catalog/item"):
        run(path, {"record_path": "{urn:other}item"})


def test_record_path_detected_from_the_first_child(tmp_path: Path) -> None:
    # Given <products><product>... and no record path
    path = tmp_path / "feed.xml"
    path.write_text(
        '<products><product sku="A"><price>1</price><stock><qty>2</qty></stock>'
        "<name>n</name></product></products>",
        encoding="utf-8",
    )
    # When opened, Then product elements are the records and the path is recorded
    _, rows, info = run(path)
    assert rows == [(1, "A", None, 100, None, None, None, 2, "n", None, None, None, None)]
    assert info["record_path"] == "products/product"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<items><item sku="A"><name>&lol9;</name></item></items>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE items [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<items><item sku="A"><name>&xxe;</name></item></items>
"""

EXTERNAL_PARAM = """<?xml version="1.0"?>
<!DOCTYPE items SYSTEM "http://127.0.0.1:9/evil.dtd">
<items><item sku="A"><name>&evil;</name></item></items>
"""


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    # Given an entity-expansion attack
    path = tmp_path / "lol.xml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    # When opened, Then it is refused naming the file and the problem
    with pytest.raises(FeedFormatError, match=r"lol\.xml: the XML declares entities"):
        run(path, mapping={"sku": "@sku"})


def test_external_entity_is_refused(tmp_path: Path) -> None:
    # Given an XXE file reading /etc/passwd
    path = tmp_path / "xxe.xml"
    path.write_text(EXTERNAL, encoding="utf-8")
    # When opened, Then it is refused before anything is read from the system
    with pytest.raises(FeedFormatError, match=r"xxe\.xml: the XML declares entities"):
        run(path, mapping={"sku": "@sku", "name": "name"})


def test_external_dtd_is_not_fetched(tmp_path: Path) -> None:
    # Given a file whose DTD is remote and which uses an entity from it
    path = tmp_path / "dtd.xml"
    path.write_text(EXTERNAL_PARAM, encoding="utf-8")
    # When opened, Then it fails as a format error (the DTD is never loaded)
    with pytest.raises(FeedFormatError, match=r"dtd\.xml: "):
        run(path, mapping={"sku": "@sku", "name": "name"})


def test_malformed_xml_says_where(tmp_path: Path) -> None:
    # Given broken XML
    path = tmp_path / "bad.xml"
    path.write_text("<items><item sku='A'></items>", encoding="utf-8")
    # When opened, Then the line and column are reported
    with pytest.raises(FeedFormatError, match=r"bad\.xml: not well-formed XML .*line 1"):
        run(path, mapping={"sku": "@sku"})


def test_big_document_streams_with_flat_memory(tmp_path: Path) -> None:
    # Given 50,000 records
    path = tmp_path / "big.xml"
    body = "".join(
        f'<item sku="S{i}"><price>1.00</price><stock><qty>{i % 9}</qty></stock></item>'
        for i in range(50_000)
    )
    path.write_text(f"<items>{body}</items>", encoding="utf-8")
    # When iterated
    feed, rows, _ = run(path, mapping={"sku": "@sku", "price": "price", "stock": "stock/qty"})
    # Then every record arrives in order
    assert len(rows) == 50_000 and rows[-1][:2] == (50_000, "S49999")
    assert feed.row_errors == []


def test_a_declared_decimal_comma_reads_xml_amounts(tmp_path: Path) -> None:
    # Given an XML feed whose supplier writes amounts with a decimal comma
    path = tmp_path / "feed.xml"
    path.write_text(
        "<items><item sku='A1'><price>1.299,90</price><stock><qty>2</qty></stock></item>"
        "<item sku='B2'><price>4,5</price><stock><qty>1.000</qty></stock></item></items>",
        "utf-8",
    )
    # When read with the format's decimal separator set to a comma
    mapping = {"sku": "@sku", "price": "price", "stock": "stock/qty"}
    _, rows, info = run(path, {"decimal_separator": ","}, mapping)
    # Then each amount is read in that spelling
    assert [(r[1], r[3], r[7]) for r in rows] == [("A1", 129990, 2), ("B2", 450, 1000)]
    assert info["decimal_separator"] == ","
