"""Feed file formats: a local file -> ``(header, records)`` -> ``RecordFeed``.

Entry point::

    feed, info = open_feed(path, file_name, fmt, mapping, work_dir=tmp)
    with feed:
        for row in feed: ...
    feed.require_rows()

``fmt`` (the profile's ``format``; every key optional):

======================  ================================================================
``type``                ``csv`` | ``xlsx`` | ``json`` | ``jsonl`` | ``xml``; missing or
                        ``"auto"`` = detect (``feedsync.formats.detect``). ``.gz`` and
                        ``.zip`` wrappers are always detected and unwrapped.
``delimiter``           csv: one character, or ``tab``/``comma``/``semicolon``/``pipe``;
                        missing = sniffed among ``, ; \\t |``.
``encoding``            csv/json/jsonl: a Python codec name; missing/``auto`` = detected
                        (BOM, UTF-8, else cp1252, else Latin-1; see ``formats.text``).
``header_row``          csv/xlsx: 1-based row holding the header (rows above it are
                        skipped); ``0`` = no header, map columns as ``"C"`` or ``"3"``.
                        Default 1.
``sheet``               xlsx: sheet name, or 0-based index (int or digit string);
                        default the first sheet.
``record_path``         json: dot path to the records array (``"data.items"``);
                        xml: slash path of the record element (``"catalog/item"``).
``namespaces``          xml: ``{"prefix": "uri"}`` for ``prefix:name`` path segments.
``entry``               zip: glob choosing the entry (``"*.csv"``); first match wins.
``max_uncompressed_bytes``  gz/zip bomb guard, default 2 GiB.
``max_ratio``           gz/zip bomb guard: max expansion ratio past 16 MiB, default 200.
``decimal_separator``   csv/xml: ``","`` reads amounts written ``1.234,50`` (a dot then
                        only separates thousands); default ``"."``.
======================  ================================================================

Unknown keys are ignored. ``info`` (for the run record) always has the keys
``type, detected, compression ("gzip" | "zip" | "zip+gzip" | None), entry, encoding,
bom, delimiter, header_row, sheet, record_path, decimal_separator``; the ones that do
not apply are None. An xlsx adds ``reader``: ``"stream"`` (``formats.xlsx_stream``),
``"openpyxl"`` (the fallback), or ``"stream+openpyxl"`` (fell back part-way).
"""

from feedsync.formats.detect import detect
from feedsync.formats.opener import FMT_KEYS, open_feed

__all__ = ["FMT_KEYS", "detect", "open_feed"]
