"""Text files: encoding detection and delimiter sniffing.

Encoding decision (recorded on the run as ``info["encoding"]``):

1. A BOM decides: UTF-8 BOM -> ``utf-8``; FF FE / FE FF -> ``utf-16-le`` / ``utf-16-be``
   (``info["bom"] = True``). Bytes that then fail to decode are a FeedFormatError.
2. No BOM, but NUL bytes in the first 4 KB nearly all in odd (even) positions -> UTF-16
   LE (BE) without a BOM. Text in a one-byte encoding or UTF-8 holds no NUL at all,
   while UTF-16 puts one beside every ASCII character (delimiters, line ends, digits),
   so even a file of mostly Cyrillic or CJK text shows the pattern; a NUL on the other
   side (U+xx00, e.g. a rare CJK character) is allowed at one in five, and NULs on
   fewer than 2% of one side's bytes are stray bytes, not UTF-16.
3. Otherwise the **whole file** is checked as UTF-8 in 64 KB pieces with an incremental
   decoder (a streaming pre-pass in constant memory; pure-ASCII pieces are not decoded,
   so it costs about one read of the file, ~0.02 s per 100 MB). Only if every byte is
   valid UTF-8 is the file read as UTF-8; else it is read as Windows-1252, or
   Latin-1 when it holds one of the five bytes cp1252 leaves undefined. Deciding on
   the whole file (not a 1 MB sniff) means a cp1252 file whose first accented
   character is on row 900,000 is still read as cp1252 - never silent mojibake, and no
   restart after rows have been yielded.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from typing import Final, NamedTuple

from feedsync.errors import FeedFormatError

CHUNK: Final = 1 << 20
# The UTF-8 check reads into one reused buffer this big: small enough that decoding a
# piece allocates no fresh (page-faulting) memory, big enough to keep the reads few.
UTF8_PIECE: Final = 1 << 16
SAMPLE_BYTES: Final = 64 * 1024
DELIMITERS: Final = (",", ";", "\t", "|")
_SNIFF_RECORDS: Final = 50
_MIN_NULS: Final = 2
_NUL_SIDE_RATIO: Final = 5
_CP1252_UNDEFINED: Final = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D])
# One line of a text file, in bytes: 4 MiB holds a header of 100,000 columns (~1 MB)
# more than three times; read, such a line takes about 100 MB at worst (1.4 million
# two-letter cells) where the parse function has 1,769 MB. Beyond it a "line" is a file
# without line ends, which read whole took twice its size or more.
MAX_LINE_BYTES: Final = 4 * 2**20
_DELIMITER_ALIASES: Final = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
}


class TextEncoding(NamedTuple):
    codec: str  # what to open the file with (drops the BOM)
    name: str  # what the run records
    bom: bool


def detect_encoding(path: str) -> TextEncoding:
    """Pick the encoding for a text file (see the module docstring)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    found = bom_encoding(head)
    if found is not None:
        return found
    if _all_utf8(path):
        return TextEncoding("utf-8", "utf-8", False)
    if _no_bytes_in(path, _CP1252_UNDEFINED):
        return TextEncoding("cp1252", "cp1252", False)
    return TextEncoding("latin-1", "latin-1", False)


def bom_encoding(head: bytes) -> TextEncoding | None:
    """What the first bytes alone prove: a BOM, or UTF-16 by its NUL bytes; else None."""
    if head.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8-sig", "utf-8", True)
    if head.startswith(codecs.BOM_UTF16_LE):
        return TextEncoding("utf-16", "utf-16-le", True)
    if head.startswith(codecs.BOM_UTF16_BE):
        return TextEncoding("utf-16", "utf-16-be", True)
    return _utf16_by_nul_bytes(head)


def _utf16_by_nul_bytes(head: bytes) -> TextEncoding | None:
    even, odd = head[0::2].count(0), head[1::2].count(0)
    least = max(_MIN_NULS, len(head) // 100)  # 2% of one side: not a stray NUL or two
    if odd >= least and even * _NUL_SIDE_RATIO <= odd:
        return TextEncoding("utf-16-le", "utf-16-le", False)
    if even >= least and odd * _NUL_SIDE_RATIO <= even:
        return TextEncoding("utf-16-be", "utf-16-be", False)
    return None


def explicit_encoding(name: str, file_name: str, head: bytes = b"") -> TextEncoding:
    """An encoding named in the profile; a UTF-8/16 BOM is still dropped.

    ``utf-16`` on a file without a BOM (``head``: its first bytes) is read as LE or BE
    by its NUL bytes (LE, Windows' choice, when they do not tell): Python's ``utf-16``
    codec refuses a stream without a BOM."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError as exc:
        raise FeedFormatError(f"{file_name}: unknown encoding {name!r} in the format") from exc
    if canonical in ("utf-8", "utf-8-sig"):
        return TextEncoding("utf-8-sig", "utf-8", False)
    if canonical == "utf-16":
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return TextEncoding("utf-16", "utf-16", False)
        return _utf16_by_nul_bytes(head) or TextEncoding("utf-16-le", "utf-16-le", False)
    return TextEncoding(canonical, canonical, False)


def _all_utf8(path: str) -> bool:
    """Whether every byte of the file is valid UTF-8.

    A pure-ASCII piece is valid UTF-8 whatever surrounds it, so it is skipped without
    decoding - unless the previous piece ended inside a multi-byte sequence (the
    decoder holds its first bytes), which the piece must then complete.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    buf = bytearray(UTF8_PIECE)
    try:
        with open(path, "rb", buffering=0) as fh:
            while size := fh.readinto(buf):
                piece = buf if size == len(buf) else buf[:size]
                if piece.isascii() and not decoder.getstate()[0]:
                    continue
                decoder.decode(piece)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _no_bytes_in(path: str, forbidden: bytes) -> bool:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if len(chunk.translate(None, forbidden)) != len(chunk):
                return False
    return True


def read_sample(path: str, codec: str, size: int = SAMPLE_BYTES) -> tuple[str, bool]:
    """The first ``size`` bytes decoded (bad bytes replaced) and whether that was all."""
    with open(path, "rb") as fh:
        raw = fh.read(size + 1)
    complete = len(raw) <= size
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(raw[:size], final=complete), complete


def normalise_delimiter(value: str, file_name: str) -> str:
    delim = _DELIMITER_ALIASES.get(value.lower(), value) if len(value) > 1 else value
    if len(delim) != 1:
        raise FeedFormatError(f"{file_name}: the delimiter must be one character, got {value!r}")
    return delim


def sniff_delimiter(sample: str, complete: bool) -> str:
    """The candidate (, ; tab |) that splits the first records most consistently.

    For each candidate the first 50 non-blank records of the sample are parsed with
    ``csv`` (so quoted delimiters and newlines are respected); the score is the share
    of records having the most common cell count (which must be >= 2), then that cell
    count, then the order above. A title line before the header only lowers the
    share a little. No candidate splitting anything -> ",".
    """
    if not complete:
        cut = sample.rfind("\n")
        if cut > 0:
            sample = sample[:cut]
    best: tuple[float, int, int] = (0.0, 0, 0)
    choice = ","
    for rank, delim in enumerate(DELIMITERS):
        counts: list[int] = []
        try:
            for rec in csv.reader(io.StringIO(sample, newline=""), delimiter=delim):
                if any(c.strip() for c in rec):
                    counts.append(len(rec))
                    if len(counts) >= _SNIFF_RECORDS:
                        break
        except csv.Error:
            pass
        if not counts:
            continue
        width, freq = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (freq / len(counts), width, -rank)
        if score > best:
            best, choice = score, delim
    return choice


def check_line_lengths(
    path: str, codec: str, file_name: str, *, limit: int = MAX_LINE_BYTES
) -> None:
    """Refuse a text file with a line over ``limit`` bytes, before it is read as text.

    A pre-pass over the bytes in 1 MB pieces (a few C ``find`` calls each, about 1% of
    parsing): reading lines as text cannot be bounded at C speed (a wrapper around the
    file makes ``io`` check every line through Python), and a line read whole takes
    twice its size or more. Every line is measured exactly: one that ends in a piece is
    ``run`` bytes of earlier pieces plus its start in this one; one wholly inside a
    piece is shorter than the piece, which is never longer than the limit.
    """
    nl, cr = _line_ends(codec, path)
    piece = min(CHUNK, limit)
    buf = bytearray(piece)
    run = done = 0
    with open(path, "rb", buffering=0) as fh:
        while size := fh.readinto(buf):
            data = buf if size == piece else buf[:size]
            # Each search stops at the first (or after the last) "\n": only a file of
            # "\r" line ends is searched through for "\r".
            first_nl, last_nl = data.find(nl), data.rfind(nl)
            first_cr = data.find(cr, 0, first_nl if first_nl >= 0 else size)
            last_cr = data.rfind(cr, last_nl + len(nl) if last_nl >= 0 else 0)
            if last_nl < 0 and last_cr < 0:  # the current line goes on through this piece
                run += size
                ends_at = done + size
            else:
                first = first_nl if first_cr < 0 else first_cr
                run += first
                ends_at = done + first
            if run > limit:
                line = _line_number(path, ends_at - run, nl, cr)
                raise FeedFormatError(
                    f"{file_name}: line {line:,} is longer than {limit // 2**20} MiB "
                    f"({limit:,} bytes), the limit on one line: the file's records are "
                    "probably not separated by line breaks (all on one line, or split by "
                    "another character), or it is not a text file; send one record per line"
                )
            if last_nl >= 0 or last_cr >= 0:
                run = size - (last_cr + len(cr) if last_cr >= 0 else last_nl + len(nl))
            done += size


def _line_number(path: str, offset: int, nl: bytes, cr: bytes) -> int:
    """The 1-based line (ended by "\n", "\r\n" or "\r") that starts at byte ``offset``."""
    ends, after_cr = 0, False
    with open(path, "rb") as fh:
        while offset > 0 and (data := fh.read(min(CHUNK, offset))):
            offset -= len(data)
            ends += data.count(nl) + data.count(cr) - data.count(cr + nl)
            if after_cr and data.startswith(nl):  # a "\r\n" split between two reads
                ends -= 1
            after_cr = data.endswith(cr)
    return ends + 1


def _line_ends(codec: str, path: str) -> tuple[bytes, bytes]:
    """ "\n" and "\r" as the file's bytes (UTF-16 with a BOM: by the BOM's byte order)."""
    name = codecs.lookup(codec).name
    if name == "utf-8-sig":
        name = "utf-8"
    elif name in ("utf-16", "utf-32"):
        with open(path, "rb") as fh:
            head = fh.read(4)
        big = head.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE))
        name += "-be" if big else "-le"
    return "\n".encode(name), "\r".encode(name)
