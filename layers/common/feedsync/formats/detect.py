"""Format detection: magic bytes first, then the text's first character, then the name.

=========  ==============================================================
gzip       1F 8B
bzip2      ``BZh`` and a block size digit
xlsx       a zip (``PK\\x03\\x04``) holding ``xl/workbook.xml``
zip        any other zip
xls        OLE2 (D0 CF 11 E0 ...): an old Excel workbook (read with python-calamine)
xml        text starting with ``<``
json       text starting with ``[``, or ``{`` that is not JSON Lines
jsonl      ``{...}`` on the first line and another ``{`` line after it, or a
           ``.jsonl`` / ``.ndjson`` name with ``{`` content
csv        any other text (the file name is not trusted over the content:
           suppliers often send CSV named ``.xls``)
=========  ==============================================================

A text starting (after a BOM, blanks and an XML declaration) with ``<!DOCTYPE html`` or
``<html`` is a web page - a login or error page served in place of the file - and fails
as such (FeedFormatError) whatever type the profile names, before any reader sees it.
"""

from __future__ import annotations

import json
import re
import zipfile
from typing import Final

from feedsync.errors import FeedFormatError
from feedsync.formats.text import bom_encoding, read_sample

FORMATS: Final = ("csv", "xlsx", "xls", "json", "jsonl", "xml")
CONTAINERS: Final = ("gzip", "bzip2", "zip")
# Compressions feedsync does not unpack: named, rather than read as text full of junk.
_UNREAD: Final = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\x28\xb5\x2f\xfd", "Zstandard"),
)
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML: Final = re.compile(r"(?:<\?xml[^>]*\?>\s*)?<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)


def detect(path: str, file_name: str) -> dict[str, str]:
    """``{"type": <gzip|bzip2|zip|xlsx|xls|json|jsonl|xml|csv>, "by": <magic|content>}``."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\x1f\x8b"):
        return {"type": "gzip", "by": "magic"}
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0":
        return {"type": "bzip2", "by": "magic"}
    for magic, name in _UNREAD:
        if head.startswith(magic):
            raise FeedFormatError(
                f"{file_name}: the file is compressed with {name}, which feedsync does not "
                "unpack; ask the supplier for the file as it is, or as gzip, bzip2 or zip"
            )
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return {"type": "zip", "by": "magic"}
        is_xlsx = "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names)
        return {"type": "xlsx" if is_xlsx else "zip", "by": "magic"}
    if head.startswith(_OLE):
        return {"type": "xls", "by": "magic"}
    return {"type": _text_kind(path, file_name), "by": "content"}


def _text_kind(path: str, file_name: str) -> str:
    with open(path, "rb") as fh:
        enc = bom_encoding(fh.read(4096))
    # The first characters are ASCII in every format told apart here, so UTF-8 with
    # replacement is enough for sniffing; the real encoding is chosen by the reader.
    sample, _ = read_sample(path, enc.codec if enc else "utf-8")
    text = sample.lstrip("\ufeff \t\r\n")
    lower = file_name.lower()
    if text.startswith("<"):
        if _HTML.match(text):
            raise FeedFormatError(
                f"{file_name}: this is an HTML web page, not a feed file - probably a login or "
                "error page served in place of the file; check the source's URL and credentials"
            )
        return "xml"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        if lower.endswith((".jsonl", ".ndjson")):
            return "jsonl"
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) >= 2 and lines[1].lstrip().startswith("{"):
            try:
                first = json.loads(lines[0])
            except ValueError:
                return "json"
            if isinstance(first, dict):
                return "jsonl"
        return "json"
    return "csv"
