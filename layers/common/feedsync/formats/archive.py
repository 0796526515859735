"""``.gz``, ``.bz2`` and ``.zip`` feeds: stream the inner file to a temp file, with a bomb guard.

Decompression is streamed in 1 MB chunks to a temp file in ``work_dir`` (never into
memory). It stops with FeedFormatError when the output exceeds
``max_uncompressed_bytes`` (default 2 GiB) or, once past ``RATIO_FLOOR`` (16 MiB, so
small legitimately repetitive files are fine), when it is more than ``max_ratio``
(default 200) times the compressed size.

Zip entry choice: directories, ``__MACOSX/`` and dot-files are ignored. With an
``entry`` glob (case-insensitive, matched against the full name and the base name),
the **first matching entry in archive order** is used. Without one, the only entry
with a feed extension (.csv .txt .tsv .xlsx .json .jsonl .ndjson .xml) is used, or
the only entry at all; anything ambiguous is a FeedFormatError listing the entries.
"""

from __future__ import annotations

import bz2
import fnmatch
import gzip
import os
import posixpath
import tempfile
import zipfile
import zlib
from typing import Final, NamedTuple, Protocol

from feedsync.errors import FeedFormatError, name_list

DEFAULT_MAX_UNCOMPRESSED: Final = 2 * 1024**3
DEFAULT_MAX_RATIO: Final = 200
RATIO_FLOOR: Final = 16 * 1024**2
_CHUNK: Final = 1 << 20
FEED_EXTENSIONS: Final = (".csv", ".txt", ".tsv", ".xlsx", ".json", ".jsonl", ".ndjson", ".xml")


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Limits(NamedTuple):
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED
    max_ratio: float = DEFAULT_MAX_RATIO


class Extracted(NamedTuple):
    path: str  # temp file in work_dir; the caller deletes it
    name: str  # the inner file's name (for extension hints and messages)
    size: int


def _copy_limited(
    src: _Readable, compressed: int, work_dir: str, suffix: str, limits: Limits, what: str
) -> tuple[str, int]:
    fd, out_path = tempfile.mkstemp(dir=work_dir, prefix="feed-", suffix=suffix)
    written = 0
    ratio_cap = max(RATIO_FLOOR, compressed * limits.max_ratio)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limits.max_uncompressed_bytes:
                    raise FeedFormatError(
                        f"{what}: decompresses to more than {limits.max_uncompressed_bytes:,} "
                        "bytes; refused (possible decompression bomb)"
                    )
                if written > ratio_cap:
                    raise FeedFormatError(
                        f"{what}: decompresses to more than {limits.max_ratio:g} times its "
                        f"compressed size ({compressed:,} bytes); refused (possible "
                        "decompression bomb)"
                    )
                out.write(chunk)
    except BaseException:
        os.unlink(out_path)
        raise
    return out_path, written


def extract_gzip(path: str, file_name: str, work_dir: str, limits: Limits) -> Extracted:
    inner = file_name[:-3] if file_name.lower().endswith(".gz") else file_name
    if inner.lower().endswith(".tgz"):
        inner = inner[:-4] + ".tar"
    try:
        with gzip.open(path, "rb") as src:
            out, size = _copy_limited(
                src, os.path.getsize(path), work_dir, _suffix(inner), limits, file_name
            )
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FeedFormatError(f"{file_name}: the gzip data is damaged ({exc})") from exc
    return Extracted(out, inner, size)


def extract_bzip2(path: str, file_name: str, work_dir: str, limits: Limits) -> Extracted:
    inner = file_name[:-4] if file_name.lower().endswith(".bz2") else file_name
    if inner.lower().endswith(".tbz2"):
        inner = inner[:-5] + ".tar"
    try:
        with bz2.open(path, "rb") as src:
            out, size = _copy_limited(
                src, os.path.getsize(path), work_dir, _suffix(inner), limits, file_name
            )
    except (OSError, EOFError, ValueError) as exc:  # bz2 reports bad data as OSError
        raise FeedFormatError(f"{file_name}: the bzip2 data is damaged ({exc})") from exc
    return Extracted(out, inner, size)


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name)
    return name.startswith("__MACOSX/") or base.startswith(".") or not base


def choose_entry(infos: list[zipfile.ZipInfo], pattern: str | None, file_name: str) -> str:
    entries = [i.filename for i in infos if not i.is_dir() and not _is_junk(i.filename)]
    if pattern:
        pat = pattern.lower()
        for name in entries:
            low = name.lower()
            if fnmatch.fnmatchcase(low, pat) or fnmatch.fnmatchcase(posixpath.basename(low), pat):
                return name
        raise FeedFormatError(
            f"{file_name}: no entry in the zip matches {pattern!r}; the entries are: "
            f"{name_list(entries)}"
        )
    feeds = [n for n in entries if n.lower().endswith(FEED_EXTENSIONS)]
    if len(feeds) == 1:
        return feeds[0]
    if not feeds and len(entries) == 1:
        return entries[0]
    if not entries:
        raise FeedFormatError(f"{file_name}: the zip archive has no files in it")
    raise FeedFormatError(
        f"{file_name}: the zip holds several files ({name_list(entries)}); set the format's "
        "'entry' pattern (e.g. '*.csv') to choose one"
    )


def extract_zip(
    path: str, file_name: str, work_dir: str, pattern: str | None, limits: Limits
) -> Extracted:
    try:
        with zipfile.ZipFile(path) as zf:
            name = choose_entry(zf.infolist(), pattern, file_name)
            info = zf.getinfo(name)
            what = f"{file_name} ({name})"
            if info.flag_bits & 0x1:
                raise FeedFormatError(f"{what}: the entry is password-protected")
            if info.file_size > limits.max_uncompressed_bytes:
                raise FeedFormatError(
                    f"{what}: declares {info.file_size:,} bytes uncompressed, more than the "
                    f"limit of {limits.max_uncompressed_bytes:,}; refused"
                )
            with zf.open(info) as src:
                out, size = _copy_limited(
                    src, max(info.compress_size, 1), work_dir, _suffix(name), limits, what
                )
    except zipfile.BadZipFile as exc:
        raise FeedFormatError(f"{file_name}: the zip archive is damaged ({exc})") from exc
    except (NotImplementedError, zlib.error, EOFError) as exc:
        raise FeedFormatError(f"{file_name}: the zip entry cannot be read ({exc})") from exc
    return Extracted(out, posixpath.basename(name), size)


def _suffix(name: str) -> str:
    ext = os.path.splitext(name)[1]
    return ext if ext.isascii() and len(ext) <= 8 else ""
