"""Issue 14: an HTML page served instead of the file fails as an HTML page, naming the file."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest
from formats_support import read_all

from feedsync.errors import FeedFormatError

MAPPING = {"sku": "SKU", "price": "Price"}
LOGIN = "<title>Sign in</title>\n<form><input name=user></form>\n</body></html>\n"


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (f"<!DOCTYPE html>\n<html><head>{LOGIN}".encode(), None),
        (codecs.BOM_UTF8 + f"\r\n  <!doctype HTML>\n<html>{LOGIN}".encode(), None),
        (f"<html lang='en'><head>{LOGIN}".encode(), {"type": "csv"}),
        (f"<HTML>{LOGIN}".encode(), {"type": "xml"}),
        (
            f'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">'
            f"<html>{LOGIN}".encode(),
            None,
        ),
        (codecs.BOM_UTF16_LE + f"<!DOCTYPE html><html>{LOGIN}".encode("utf-16-le"), None),
    ],
)
def test_an_html_page_fails_as_a_web_page(
    tmp_path: Path, data: bytes, fmt: dict[str, Any] | None
) -> None:
    # Given a web page where the supplier's stock file should be (detected or typed)
    path = tmp_path / "stock.csv"
    path.write_bytes(data)
    # When it is read
    with pytest.raises(FeedFormatError) as err:
        read_all(path, fmt, MAPPING)
    # Then it is named as an HTML page, probably a login or error page, with the file
    msg = str(err.value)
    assert msg.startswith("stock.csv: this is an HTML web page, not a feed file")
    assert "login or error page" in msg


def test_xml_whose_root_starts_with_html_is_still_xml(tmp_path: Path) -> None:
    # Given an XML feed whose root element merely starts with "html"
    path = tmp_path / "feed.xml"
    path.write_text("<htmlfeed><item><SKU>A-1</SKU><Price>1.00</Price></item></htmlfeed>\n")
    # When it is read, Then it is read as XML
    _, rows, info = read_all(path, None, MAPPING)
    assert info["type"] == "xml" and [(r[1], r[3]) for r in rows] == [("A-1", 100)]
