"""JSON and JSON Lines feeds.

* ``json``: an array of objects, or an object holding one at ``record_path`` (dot path,
  ``"data.items"``; a number picks a list element: ``"pages.0.items"``). Without a
  record path, an object with exactly one array-of-objects value uses that array.
  The document is parsed whole (stdlib ``json``), so it is capped at
  ``MAX_JSON_BYTES`` (256 MiB); bigger feeds should be JSON Lines, which streams.
  The header is the union of keys over **all** records (they are in memory anyway).
* ``jsonl``: one object per line, streamed; blank lines are skipped. The header is the
  union of keys over the **first 1,000 records** (``HEADER_SAMPLE``); a key first
  seen later is ignored.

Nested objects are flattened to dot keys (``{"price": {"amount": 5}}`` ->
``"price.amount"``); arrays become their JSON text. Values become text as the
merchant wrote them: 12 -> "12", 12.5 -> "12.5", 1.23456789012e11 -> "123456789012",
true -> "TRUE", null -> "". Row numbers: the record's 1-based position in the array;
the line number in JSON Lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import chain, islice
from typing import Any, Final

from feedsync.domain.feed import Record, unreadable
from feedsync.errors import FeedFormatError, NoDataRowsError, name_list
from feedsync.formats.table import Table, union_header
from feedsync.formats.values import value_text

MAX_JSON_BYTES: Final = 256 * 1024**2
HEADER_SAMPLE: Final = 1000


def flatten(
    obj: dict[str, Any], prefix: str = "", out: dict[str, str] | None = None
) -> dict[str, str]:
    out = {} if out is None else out
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flatten(value, f"{name}.", out)
        elif isinstance(value, list):
            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value_text(value)
    return out


def _navigate(doc: Any, record_path: str | None, file_name: str) -> tuple[list[Any], str]:
    if record_path:
        node = doc
        walked: list[str] = []
        for part in record_path.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                here = ".".join(walked) or "the top level"
                keys = name_list(node) if isinstance(node, dict) else ""
                raise FeedFormatError(
                    f"{file_name}: record path {record_path!r} not found: no {part!r} at "
                    f"{here}" + (f" (keys there: {keys})" if keys else "")
                )
            walked.append(part)
        if not isinstance(node, list):
            raise FeedFormatError(
                f"{file_name}: record path {record_path!r} is not an array of records"
            )
        return node, record_path
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, dict):
        arrays = [k for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(arrays) == 1:
            return doc[arrays[0]], arrays[0]
        raise FeedFormatError(
            f"{file_name}: the JSON is an object; set the format's 'record_path' to the array "
            f"of records (its keys: {name_list(doc)})"
        )
    raise FeedFormatError(f"{file_name}: the JSON holds no array of records")


def read_json(path: str, file_name: str, *, codec: str, record_path: str | None) -> Table:
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise FeedFormatError(
            f"{file_name}: {size:,} bytes is too big for a JSON document (the limit is "
            f"{MAX_JSON_BYTES:,}); send JSON Lines (one object per line) instead"
        )
    try:
        with open(path, encoding=codec) as fh:
            text = fh.read()
    except UnicodeError as exc:
        raise unreadable(file_name, "the text", exc) from exc
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise FeedFormatError(
            f"{file_name}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from exc
    del text
    items, used_path = _navigate(doc, record_path, file_name)
    where = f"at {used_path!r}" if used_path else "in the array"
    if not items:
        raise NoDataRowsError(f"{file_name}: no records {where}")
    seen: dict[str, None] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise FeedFormatError(
                f"{file_name}: record {n} {where} is not an object (got {type(item).__name__})"
            )
        for key in flatten(item):
            seen.setdefault(key)
    header = list(seen)

    def records() -> Iterator[Record]:
        for n, item in enumerate(items, start=1):
            flat = flatten(item)
            yield n, [flat.get(k, "") for k in header]

    return Table(header, records(), {"record_path": used_path or None})


def read_jsonl(path: str, file_name: str, *, codec: str, stack: ExitStack) -> Table:
    fh = stack.enter_context(open(path, encoding=codec, newline=None))  # noqa: SIM115

    def parsed() -> Iterator[tuple[int, dict[str, str]]]:
        for line_no, line in enumerate(fh, start=1):
            text = line.strip().lstrip("\ufeff")
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FeedFormatError(
                    f"{file_name}: line {line_no} is not valid JSON ({exc.msg})"
                ) from exc
            if not isinstance(obj, dict):
                raise FeedFormatError(f"{file_name}: line {line_no} is not a JSON object")
            yield line_no, flatten(obj)

    stream = parsed()
    try:
        first = list(islice(stream, HEADER_SAMPLE))
    except UnicodeError as exc:
        raise unreadable(file_name, "the text", exc) from exc
    if not first:
        raise NoDataRowsError(f"{file_name}: no records (JSON Lines with no objects)")
    header = union_header([flat for _, flat in first])

    def records() -> Iterator[Record]:
        for line_no, flat in chain(first, stream):
            yield line_no, [flat.get(k, "") for k in header]

    return Table(header, records(), {})
