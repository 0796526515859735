"""``open_feed``: a local file + the profile's format -> a RecordFeed and what was found."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import Any, Final

from feedsync.domain.feed import CsvFeed, RecordFeed, check_mapping_fields
from feedsync.errors import FeedFormatError
from feedsync.formats.archive import (
    DEFAULT_MAX_RATIO,
    DEFAULT_MAX_UNCOMPRESSED,
    Limits,
    extract_bzip2,
    extract_gzip,
    extract_zip,
)
from feedsync.formats.detect import FORMATS, detect
from feedsync.formats.structured import read_json, read_jsonl
from feedsync.formats.table import Table
from feedsync.formats.text import (
    TextEncoding,
    check_line_lengths,
    detect_encoding,
    explicit_encoding,
    normalise_delimiter,
    read_sample,
    sniff_delimiter,
)
from feedsync.formats.xls import read_xls
from feedsync.formats.xlsx import read_xlsx
from feedsync.formats.xml import read_xml

FMT_KEYS: Final = (
    "type",
    "delimiter",
    "encoding",
    "header_row",
    "sheet",
    "record_path",
    "namespaces",
    "entry",
    "max_uncompressed_bytes",
    "max_ratio",
    "decimal_separator",
)
# Where a decimal comma can be honoured: every cell is text the supplier wrote. Excel and
# JSON numbers reach us as numbers (written with a dot whatever the supplier's locale).
_DECIMAL_COMMA_TYPES: Final = ("csv", "xml")
_MAX_NESTING: Final = 2  # e.g. a .csv.gz inside a .zip
# A workbook's sheet names shown for picking one (the run record keeps them too).
MAX_SHEETS_SHOWN: Final = 100


def _int(fmt: Mapping[str, Any], key: str, default: int, file_name: str) -> int:
    value = fmt.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or isinstance(value, bool):
        raise FeedFormatError(f"{file_name}: format {key!r} must be a whole number >= 0")
    return number


def _encoding(fmt: Mapping[str, Any], path: str, file_name: str) -> TextEncoding:
    name = fmt.get("encoding")
    if name and str(name).lower() != "auto":
        with open(path, "rb") as fh:
            head = fh.read(4096)
        return explicit_encoding(str(name), file_name, head)
    return detect_encoding(path)


def _is_blank_text(path: str, codec: str) -> bool:
    sample, complete = read_sample(path, codec)
    return complete and not sample.strip("\ufeff \t\r\n\x00")


def open_feed(
    path: str,
    file_name: str,
    fmt: Mapping[str, Any],
    mapping: Mapping[str, str],
    *,
    work_dir: str,
) -> tuple[RecordFeed, dict[str, Any]]:
    """Open the feed at ``path`` (a local file) for ``RecordFeed`` iteration.

    See ``feedsync.formats`` for the ``fmt`` keys and the ``info`` dict. File-level
    problems raise FeedFormatError (MissingColumnsError, NoDataRowsError) naming
    ``file_name``. The feed holds open files and temp files until it is iterated to
    the end or closed (``with feed:``); on error everything is released here.
    """
    check_mapping_fields(mapping, file_name)
    decimal_comma = _decimal_comma(fmt, file_name)
    stack = ExitStack()
    try:
        feed, info = _open(path, file_name, fmt, mapping, work_dir, stack)
        if decimal_comma:
            if info["type"] not in _DECIMAL_COMMA_TYPES:
                raise FeedFormatError(
                    f"{file_name}: a decimal comma can only be set for CSV and XML files, "
                    f"whose cells are all text; a {info['type']} file can hold real numbers "
                    "too, which a decimal comma would misread"
                )
            feed.use_decimal_comma()
        info["decimal_separator"] = "," if decimal_comma else "."
    except BaseException:
        stack.close()
        raise
    feed.on_close(stack.close)
    return feed, info


def _decimal_comma(fmt: Mapping[str, Any], file_name: str) -> bool:
    value = fmt.get("decimal_separator")
    if value in (None, "", ".", "dot"):
        return False
    if value in (",", "comma"):
        return True
    raise FeedFormatError(
        f'{file_name}: format \'decimal_separator\' must be "." or ",", got {value!r}'
    )


def _open(
    path: str,
    file_name: str,
    fmt: Mapping[str, Any],
    mapping: Mapping[str, str],
    work_dir: str,
    stack: ExitStack,
) -> tuple[RecordFeed, dict[str, Any]]:
    want = str(fmt.get("type") or "").lower() or None
    if want == "auto":
        want = None
    if want is not None and want not in FORMATS:
        raise FeedFormatError(
            f"{file_name}: unknown format type {want!r}; use one of {', '.join(FORMATS)} "
            "(or leave it out to detect)"
        )
    limits = Limits(
        _int(fmt, "max_uncompressed_bytes", DEFAULT_MAX_UNCOMPRESSED, file_name),
        float(fmt.get("max_ratio") or DEFAULT_MAX_RATIO),
    )
    info: dict[str, Any] = {
        "type": None,
        "detected": want is None,
        "compression": None,
        "entry": None,
        "encoding": None,
        "bom": None,
        "delimiter": None,
        "header_row": None,
        "sheet": None,
        "sheets": None,
        "record_path": None,
    }
    if os.path.getsize(path) == 0:
        raise FeedFormatError(f"{file_name}: the file is empty")

    cur_path, cur_name = path, file_name
    layers: list[str] = []
    for _ in range(_MAX_NESTING + 1):
        kind = detect(cur_path, cur_name)["type"]
        if kind == "gzip":
            got = extract_gzip(cur_path, cur_name, work_dir, limits)
        elif kind == "bzip2":
            got = extract_bzip2(cur_path, cur_name, work_dir, limits)
        elif kind == "zip" and want != "xlsx":
            got = extract_zip(cur_path, cur_name, work_dir, fmt.get("entry"), limits)
            info["entry"] = got.name
        else:
            break
        stack.callback(os.unlink, got.path)
        layers.append(kind)
        if len(layers) > _MAX_NESTING:
            raise FeedFormatError(f"{file_name}: archives nested too deeply")
        if got.size == 0:
            raise FeedFormatError(f"{file_name}: the file is empty ({got.name} inside)")
        cur_path, cur_name = got.path, got.name
    info["compression"] = "+".join(layers) or None

    if kind == "xls" and want in (None, "xlsx"):
        want = "xls"  # an old workbook, whatever its name says
    kind = want or kind
    if kind == "zip":
        kind = "xlsx"  # the user said xlsx (a zip is unwrapped otherwise)
    info["type"] = kind
    header_row = _int(fmt, "header_row", 1, file_name)

    if kind == "xls":
        info["header_row"] = header_row
        table = read_xls(cur_path, file_name, sheet=fmt.get("sheet"), header_row=header_row)
        info.update(sheet=table.info["sheet"], sheets=table.info["sheets"][:MAX_SHEETS_SHOWN])
        return _feed(table, mapping, file_name, header_row), info

    if kind == "xlsx":
        info["header_row"] = header_row
        table = read_xlsx(
            cur_path, file_name, sheet=fmt.get("sheet"), header_row=header_row, stack=stack
        )
        info.update(
            sheet=table.info["sheet"],
            sheets=table.info["sheets"][:MAX_SHEETS_SHOWN],
            reader=table.info["reader"],
        )
        # The reader may fall back to openpyxl part-way through the sheet: say so once read.
        stack.callback(lambda: info.update(reader=table.info["reader"]))
        return _feed(table, mapping, file_name, header_row), info

    if kind == "xml":
        table = read_xml(
            cur_path,
            file_name,
            record_path=fmt.get("record_path") or None,
            namespaces=fmt.get("namespaces") or None,
            stack=stack,
        )
        info.update(table.info)
        return _feed(table, mapping, file_name, 0), info

    enc = _encoding(fmt, cur_path, file_name)
    info.update(encoding=enc.name, bom=enc.bom)
    if _is_blank_text(cur_path, enc.codec):
        raise FeedFormatError(f"{file_name}: the file is empty")

    if kind != "json":  # a JSON document is read whole, under its own size limit
        check_line_lengths(cur_path, enc.codec, file_name)
    if kind == "json":
        table = read_json(
            cur_path, file_name, codec=enc.codec, record_path=fmt.get("record_path") or None
        )
        info.update(table.info)
        return _feed(table, mapping, file_name, 0), info
    if kind == "jsonl":
        table = read_jsonl(cur_path, file_name, codec=enc.codec, stack=stack)
        return _feed(table, mapping, file_name, 0), info

    # csv
    if fmt.get("delimiter"):
        delimiter = normalise_delimiter(str(fmt["delimiter"]), file_name)
    else:
        sample, complete = read_sample(cur_path, enc.codec)
        delimiter = sniff_delimiter(sample, complete)
    info.update(delimiter=delimiter, header_row=header_row)

    def text() -> Iterable[str]:
        return stack.enter_context(open(cur_path, encoding=enc.codec, newline=""))

    feed = CsvFeed(
        text(),
        mapping,
        file_name=file_name,
        delimiter=delimiter,
        header_row=header_row,
        reread=text,
    )
    return feed, info


def _feed(table: Table, mapping: Mapping[str, str], file_name: str, header_row: int) -> RecordFeed:
    return RecordFeed(
        table.header,
        table.records,
        mapping,
        file_name=file_name,
        header_required=header_row > 0,
        header_row=header_row,
    )
