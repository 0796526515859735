"""Fast ``.xlsx`` sheet reader: zipfile + expat (C), rows streamed in small batches.

Why: openpyxl's read-only mode builds an element tree and a cell object per cell, about
10,000 rows/s; a 1M-row supplier workbook takes minutes. This reader keeps no tree: the
sheet is decompressed and parsed in 64 KiB chunks and each cell becomes its text at once.

What it reproduces is openpyxl 3.1 read-only + ``data_only`` as ``xlsx.py`` uses it, rule
for rule, so both paths give the same cells: parts found through ``[Content_Types].xml``
and the workbook's relationships, the sheet's ``<dimension>`` ignored (both paths read every
row the sheet holds: exporters write stale ones), empty rows for skipped row numbers, rows numbered
at or below one already given dropped, the last cell of a row fixing its width, shared
strings as ``<t>`` + rich-text runs without phonetic runs (``x005F_`` removed), cached
formula values. The value rules that are openpyxl's own (``is_date_format``,
``from_excel``, ``from_ISO8601``, the built-in number formats) are called, not re-typed.

Anything this reader does not understand (Strict OOXML namespaces, a missing part, an
odd structure) raises ``Unsupported`` and the caller falls back to openpyxl. A DOCTYPE
in any part is refused (an .xlsx never has one): expat then never sees an entity
declaration, and external entities are never resolved.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any, Final, NamedTuple, cast
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS, XLSM, XLSX, XLTM, XLTX

from feedsync.errors import FeedFormatError
from feedsync.formats.values import float_text, value_text

MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_REL: Final = REL_NS + "/worksheet"
_CHUNK: Final = 1 << 16
_BUILTIN_MAX: Final = 164  # custom number formats start here
_DIGITS: Final = "0123456789"
_GAP_ROWS: Final = 1024  # longer runs of empty rows are handed out lazily

# expat reports namespaced names as "uri local"
_C, _V, _IS, _T, _R = (f"{MAIN} {n}" for n in ("c", "v", "is", "t", "r"))
_ROW, _SHEET_DATA, _DIMENSION = f"{MAIN} row", f"{MAIN} sheetData", f"{MAIN} dimension"
_WORKSHEET, _SI = f"{MAIN} worksheet", f"{MAIN} si"
_REL_ID: Final = f"{REL_NS} id"


class Unsupported(Exception):
    """Something this reader does not handle: the caller reads the workbook with openpyxl."""


class SheetError(ValueError):
    """The sheet itself is broken (bad XML, a value that cannot be read)."""


class _Unshown(str):
    """A number whose style is missing: openpyxl fails on it only if the cell is kept."""


class Style(NamedTuple):
    date: int  # 0 = a number, 1 = a date format, 2 = a duration ([h]:mm:ss)
    pad: int  # width for an all-zeros format ("000000000000"), else 0


class SheetRef(NamedTuple):
    name: str
    path: str | None  # None for a chart sheet


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _parser(file_name: str, part: str) -> Any:
    """An expat parser that refuses a DOCTYPE with declarations or an external DTD (so no
    entity can ever be declared or fetched); a bare ``<!DOCTYPE worksheet>``, which some
    writers emit and openpyxl reads, is let through."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_: object) -> None:
        raise FeedFormatError(
            f"{file_name}: {part} inside the workbook declares a DOCTYPE with entities or "
            "an external DTD; refused (an .xlsx never needs one)"
        )

    def doctype(_name: str, system_id: str | None, public_id: str | None, subset: int) -> None:
        if system_id or public_id or subset:
            refuse()

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    return parser


def _feed(parser: Any, src: IO[bytes]) -> None:
    while data := src.read(_CHUNK):
        parser.Parse(data, False)
    parser.Parse(b"", True)


class _El:
    __slots__ = ("attrs", "kids", "name")

    def __init__(self, name: str, attrs: dict[str, str]) -> None:
        self.name = name
        self.attrs = attrs
        self.kids: list[_El] = []

    def last(self, local: str) -> _El | None:
        """openpyxl keeps the last of a repeated single child (matched by local name)."""
        found = None
        for kid in self.kids:
            if _local(kid.name) == local:
                found = kid
        return found


def _tree(zf: zipfile.ZipFile, part: str, file_name: str) -> _El:
    """A small part (content types, workbook, relationships, styles) as elements, no text."""
    parser = _parser(file_name, part)
    stack: list[_El] = []
    root: list[_El] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        el = _El(name, attrs)
        (stack[-1].kids if stack else root).append(el)
        stack.append(el)

    def end(_: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with zf.open(part) as src:
            _feed(parser, src)
    except (KeyError, expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise Unsupported(f"{part}: {exc}") from exc
    return root[0]


def _shared_strings(zf: zipfile.ZipFile, part: str, file_name: str) -> list[str]:
    """Every <si> as openpyxl's ``read_string_table`` has it: ``Text.content`` (the last
    <t>, then each run's <t>; children matched by local name, <rPh> phonetic runs left
    out; an element's text is what precedes its first child, as ElementTree's ``.text``)
    with "x005F_" removed. Depths: sst 1, si 2, t/r 3, r/t 4."""
    parser = _parser(file_name, part)
    strings: list[str] = []
    depth = cap_depth = 0
    capturing = in_run = False
    cap = ""
    plain: str | None = None
    runs: list[str] | None = None
    run_t: str | None = None

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, capturing, cap, cap_depth, in_run, plain, runs, run_t
        depth += 1
        capturing = False
        if depth == 2:
            if name == _SI:
                plain = runs = None
        elif name == _SI:
            raise Unsupported(f"{part}: <si> at depth {depth}")
        elif depth == 3 or (depth == 4 and in_run):
            if name == _T or (name != _R and _local(name) == "t"):
                capturing = True
                cap = ""
                cap_depth = depth
            elif depth == 3 and (name == _R or _local(name) == "r"):
                in_run = True
                run_t = None
        elif depth == 1 and name != f"{MAIN} sst":
            raise Unsupported(f"{part}: root {name!r}")

    def chars(data: str) -> None:
        nonlocal cap
        if capturing:
            cap += data

    def end(name: str) -> None:
        nonlocal depth, capturing, cap_depth, in_run, plain, runs, run_t
        if cap_depth == depth:  # </t>, the last one wins
            if depth == 3:
                plain = cap
            else:
                run_t = cap
            cap_depth = 0
            capturing = False
        elif depth == 3 and in_run:  # </r>
            in_run = False
            if run_t is not None:  # a run without <t> adds nothing
                if runs is None:
                    runs = [run_t]
                else:
                    runs.append(run_t)
        elif depth == 2 and name == _SI:
            text = plain or ""
            if runs:
                text += "".join(runs)
            strings.append(text.replace("x005F_", "") if "x005F_" in text else text)
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        with zf.open(part) as src:
            _feed(parser, src)
    except (KeyError, expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise Unsupported(f"{part}: {exc}") from exc
    return strings


def _bool_attr(value: str | None) -> bool:
    """openpyxl's Bool descriptor: 'false', 'f', '0' and '' are false, any other text true."""
    return value is not None and value not in ("false", "f", "0") and bool(value)


def _styles(zf: zipfile.ZipFile, names: set[str], file_name: str) -> list[Style]:
    default = [Style(0, 0)]  # openpyxl's own default: one General style, no dates
    if "xl/styles.xml" not in names:
        return default
    root = _tree(zf, "xl/styles.xml", file_name)
    if root.name != f"{MAIN} styleSheet":
        raise Unsupported(f"xl/styles.xml: root {root.name!r}")
    custom: dict[int, str] = {}
    numfmts = root.last("numFmts")
    try:
        for el in numfmts.kids if numfmts is not None else []:
            if _local(el.name) == "numFmt":
                custom[int(el.attrs["numFmtId"])] = el.attrs["formatCode"]
        xfs = root.last("cellXfs")
        ids = [
            int(el.attrs.get("numFmtId", 0))
            for el in (xfs.kids if xfs is not None else [])
            if _local(el.name) == "xf"
        ]
    except (KeyError, ValueError) as exc:
        raise Unsupported(f"xl/styles.xml: {exc}") from exc
    styles: list[Style] = []
    for fmt_id in ids:
        if fmt_id in custom:
            code: str | None = custom[fmt_id]
            shown = code
        elif fmt_id >= _BUILTIN_MAX:
            raise Unsupported(f"xl/styles.xml: number format {fmt_id} is not defined")
        else:
            code = BUILTIN_FORMATS.get(fmt_id)
            shown = BUILTIN_FORMATS.get(fmt_id, "General")
        # openpyxl converts a number only when its format is a date; a duration format
        # (is_timedelta_format) then gives a timedelta instead of a datetime
        date = (2 if is_timedelta_format(code) else 1) if is_date_format(code) else 0
        pad = len(shown) if shown and len(shown) > 1 and shown.strip("0") == "" else 0
        styles.append(Style(date, pad))
    return styles or default


def _rels(zf: zipfile.ZipFile, part: str, file_name: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, target as a zip member name), resolved as openpyxl resolves them."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", f"{base}.rels")
    root = _tree(zf, rels_part, file_name)
    parent = posixpath.split(posixpath.dirname(rels_part))[0]
    out: dict[str, tuple[str, str]] = {}
    for el in root.kids:
        if _local(el.name) != "Relationship":
            continue
        try:
            rel_id, rel_type, target = el.attrs["Id"], el.attrs["Type"], el.attrs["Target"]
        except KeyError as exc:
            raise Unsupported(f"{rels_part}: a relationship without {exc}") from exc
        if el.attrs.get("TargetMode") == "External":
            target = ""  # never a sheet
        elif target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(parent, target))
        out[rel_id] = (rel_type, target)
    return out


class Book:
    """An opened workbook: its sheets, shared strings and number styles."""

    def __init__(
        self,
        zf: zipfile.ZipFile,
        file_name: str,
        sheets: list[SheetRef],
        shared: list[str],
        styles: list[Style],
        epoch: dt.datetime,
    ) -> None:
        self.zf = zf
        self.file_name = file_name
        self.sheets = sheets
        self.shared = shared
        self.styles = styles
        self.epoch = epoch

    def close(self) -> None:
        self.zf.close()

    def rows(
        self, path: str, fallback: Callable[[int], Iterator[list[str]]]
    ) -> Iterator[list[str]]:
        """The sheet's rows as cell texts, one per sheet row from row 1 (as openpyxl's
        ``iter_rows``). On ``Unsupported`` mid-sheet, ``fallback(rows_given)`` continues."""
        given = 0
        batches = _sheet_batches(self, path)
        try:
            for batch in batches:
                given += len(batch)
                yield from batch
        except Unsupported:
            batches.close()
            yield from fallback(given)


def open_book(path: str, file_name: str) -> Book:
    """Open the workbook, or raise Unsupported (FeedFormatError for a DOCTYPE)."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise Unsupported(str(exc)) from exc
    try:
        return _load(zf, file_name)
    except (Unsupported, FeedFormatError):
        zf.close()
        raise
    except Exception as exc:  # anything else unexpected in the small parts: openpyxl decides
        zf.close()
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        zf.close()
        raise


def _load(zf: zipfile.ZipFile, file_name: str) -> Book:
    names = set(zf.namelist())
    types = _tree(zf, "[Content_Types].xml", file_name)
    overrides = [
        (el.attrs.get("ContentType"), el.attrs.get("PartName", ""))
        for el in types.kids
        if _local(el.name) == "Override"
    ]
    defaults = {el.attrs.get("ContentType") for el in types.kids if _local(el.name) == "Default"}
    workbook_part = next(
        (p[1:] for ct in (XLTM, XLTX, XLSM, XLSX) for t, p in overrides if t == ct), None
    )
    if workbook_part is None:
        if not defaults & {XLTM, XLTX, XLSM, XLSX}:
            raise Unsupported("no workbook part")
        workbook_part = "xl/workbook.xml"
    wb = _tree(zf, workbook_part, file_name)
    if wb.name != f"{MAIN} workbook":
        raise Unsupported(f"workbook root {wb.name!r}")  # e.g. Strict OOXML
    props = wb.last("workbookPr")
    epoch = MAC_EPOCH if props and _bool_attr(props.attrs.get("date1904")) else WINDOWS_EPOCH
    rels = _rels(zf, workbook_part, file_name)
    sheets: list[SheetRef] = []
    sheets_el = wb.last("sheets")
    for el in sheets_el.kids if sheets_el is not None else []:
        name, rel_id = el.attrs.get("name"), el.attrs.get(_REL_ID)
        state = el.attrs.get("state")
        if _local(el.name) != "sheet" or not name or not rel_id or rel_id not in rels:
            raise Unsupported(f"sheet entry {el.attrs!r}")
        if state not in (None, "visible", "hidden", "veryHidden", "none"):
            raise Unsupported(f"sheet state {state!r}")
        if "sheetId" in el.attrs and not el.attrs["sheetId"].strip().lstrip("+-").isdigit():
            raise Unsupported(f"sheetId {el.attrs['sheetId']!r}")
        rel_type, target = rels[rel_id]
        if target not in names:
            raise Unsupported(f"sheet part {target!r} is missing")
        if "chartsheet" in rel_type:
            # openpyxl validates and de-duplicates chart sheet titles; keep to the plain case
            taken = {s.name.lower() for s in sheets}
            if any(c in name for c in "\\*?:/[]") or name.lower() in taken:
                raise Unsupported(f"chart sheet title {name!r}")
            sheets.append(SheetRef(name, None))
        elif rel_type == WORKSHEET_REL:
            sheets.append(SheetRef(name, target))
        else:
            raise Unsupported(f"sheet type {rel_type!r}")
    styles = _styles(zf, names, file_name)
    shared: list[str] = []
    strings_part = next((p[1:] for t, p in overrides if t == SHARED_STRINGS), None)
    if strings_part is not None:
        shared = _shared_strings(zf, strings_part, file_name)
    return Book(zf, file_name, sheets, shared, styles, epoch)


def _sheet_batches(book: Book, path: str) -> Generator[list[list[str]], None, None]:
    """Parse the sheet in chunks; after each chunk hand out the rows it completed.

    The handlers are closures over local state (faster than attributes) and dispatch
    on element depth: worksheet 1, sheetData 2, row 3, c 4, v/is 5, is/t and is/r 6,
    is/r/t 7. openpyxl takes any <row> and every child of a row as a cell, so any such
    element found elsewhere is Unsupported rather than guessed at.
    """
    shared, styles, epoch = book.shared, book.styles, book.epoch
    n_styles = len(styles)
    style_cache: dict[str | None, Style | None] = {}
    pads: dict[str | None, int] = {}  # s -> zero-pad width (0: none) for non-date styles
    col_cache: dict[str, int] = {}
    parser = _parser(book.file_name, path)

    out: list[list[str] | int] = []  # rows, or a count of empty rows for a long gap
    gaps = False
    data_open = data_done = False
    depth = 0
    counter = 1  # the next row number to hand out
    row_idx = 0  # the current row's number
    row_open = False
    cells: list[str] = []
    col = last_col = 0
    ctype = "n"
    cstyle: str | None = None
    raw: str | None = None  # the cell's <v> text, None when absent or empty
    v_seen = is_seen = in_is = in_run = False
    inline = ""  # the cell's <is> text
    is_plain: str | None = None  # <is><t>
    runs: list[str] | None = None  # <is><r><t>...
    run_t: str | None = None
    cap = ""  # text of the element being captured (ElementTree's .text)
    cap_depth = 0  # its depth; 0 = none
    capturing = False
    unshown = False  # the row holds an _Unshown

    def style_of(s: str | None) -> Style | None:
        """openpyxl: s="" is no style; s out of range fails only where a format is read."""
        if s in style_cache:
            return style_cache[s]
        found: Style | None
        if not s:
            found = Style(0, 0)
        else:
            idx = int(s)  # ValueError: the row cannot be read, as in openpyxl
            found = styles[idx] if -n_styles <= idx < n_styles else None
            if found is not None and idx < 0:
                found = Style(0, found.pad)  # openpyxl's date index holds only idx >= 0
        style_cache[s] = found
        if found is not None and not found.date:
            pads[s] = found.pad
        return found

    def number(value: str, s: str | None) -> str:
        nonlocal unshown
        num: int | float
        if "." in value or "E" in value or "e" in value:
            num = float(value)
            integral = num.is_integer()
        else:
            num = int(value)
            integral = True
        style = style_of(s)
        if style is not None and style.date:
            try:
                when = from_excel(num, epoch, timedelta=style.date == 2)
            except (OverflowError, ValueError):
                return "#VALUE!"  # openpyxl's reading of a date serial out of range
            return value_text(when)
        if integral:
            if style is None:
                unshown = True
                return _Unshown(f"cell style {s!r} is not in the workbook's styles")
            digits = str(int(num))
            return digits.zfill(style.pad) if style.pad and num >= 0 else digits
        return float_text(num)

    def other(t: str, value: str) -> str:
        if t == "b":
            return "TRUE" if int(value) else "FALSE"
        if t == "d":
            return value_text(from_ISO8601(value))
        return value  # "str", "e" (the error text) and any other type: the text as stored

    def column_of(ref: str) -> int:
        letters = ref.rstrip(_DIGITS)
        found = int(coordinate_to_tuple(ref)[1])  # raises as openpyxl does on a bad ref
        if letters.isupper() and len(letters) < len(ref):
            col_cache[letters] = found
        return found

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, capturing, cap, cap_depth, col, ctype, cstyle, raw, v_seen, is_seen
        nonlocal in_is, in_run, is_plain, runs, run_t, row_open, row_idx, cells, last_col
        nonlocal counter, data_open, gaps
        depth += 1
        capturing = False
        if depth == 4:
            if row_open:  # <c>
                if name != _C:
                    raise Unsupported(f"<{name}> inside a row")
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip(_DIGITS)
                    found = col_cache.get(letters)
                    col = found if found and len(letters) < len(ref) else column_of(ref)
                else:
                    col += 1
                ctype = attrs.get("t", "n")
                cstyle = attrs.get("s")
                if cstyle not in style_cache:
                    style_of(cstyle)  # openpyxl reads s on every cell: s="x" fails the row
                raw = None
                v_seen = is_seen = False
            elif name in (_ROW, _DIMENSION):
                raise Unsupported(f"<{name}> outside sheetData")
        elif depth == 5:
            if name == _V:
                if row_open and not v_seen:
                    v_seen = capturing = True
                    cap = ""
                    cap_depth = 5
            elif name == _IS:
                if row_open and not is_seen:
                    is_seen = in_is = True
                    is_plain = runs = None
            elif name in (_ROW, _DIMENSION):
                raise Unsupported(f"<{name}> at depth 5")
        elif depth == 6:
            if in_is:  # openpyxl matches <is> children by local name
                if name == _T or (name != _R and _local(name) == "t"):
                    capturing = True
                    cap = ""
                    cap_depth = 6
                elif name == _R or _local(name) == "r":
                    in_run = True
                    run_t = None
            elif name == _ROW or (name == _DIMENSION and not data_done):
                raise Unsupported(f"<{name}> at depth 6")
        elif depth == 3:
            if name == _ROW:
                if not data_open:
                    raise Unsupported("<row> outside sheetData")
                if "r" in attrs:
                    r = attrs["r"]
                    try:
                        row_idx = int(r)
                    except ValueError:
                        as_float = float(r)
                        if not as_float.is_integer():
                            raise ValueError(f"{r} is not a valid row number") from None
                        row_idx = int(as_float)
                else:
                    row_idx += 1
                row_open = True
                cells = []
                col = last_col = 0
                if row_idx - counter > _GAP_ROWS:
                    out.append(row_idx - counter)  # handed out lazily (row 1,048,576 happens)
                    gaps = True
                    counter = row_idx
                while counter < row_idx:
                    out.append([])
                    counter += 1
            elif name == _DIMENSION and not data_done:
                raise Unsupported("<dimension> not under <worksheet>")
        elif depth == 7 and in_run:
            if name == _T or _local(name) == "t":
                capturing = True
                cap = ""
                cap_depth = 7
        elif depth == 2:
            if name == _SHEET_DATA:
                data_open = True
            elif name == _DIMENSION:
                # Not a bound: a stale <dimension> smaller than the data would lose rows
                # (the openpyxl path resets it too).
                return
            elif name == _ROW:
                raise Unsupported("<row> outside sheetData")
        elif depth == 1:
            if name != _WORKSHEET:
                raise Unsupported(f"sheet root {name!r}")  # e.g. Strict OOXML
        elif name == _ROW or (name == _DIMENSION and not data_done):
            raise Unsupported(f"<{name}> at depth {depth}")

    def chars(data: str) -> None:
        nonlocal cap
        if capturing:
            cap += data

    def end(name: str) -> None:
        nonlocal depth, capturing, cap_depth, raw, in_is, in_run, inline, is_plain, run_t, runs
        nonlocal row_open, counter, last_col, data_open, data_done, unshown
        if depth == 4:
            if row_open:  # </c>: the cell's text, as xlsx._cell_text has it
                t = ctype
                if t == "n":
                    pad = pads.get(cstyle, -1)
                    if raw is None:
                        value = ""
                    elif pad < 0:  # a date, or a style not met yet
                        value = number(raw, cstyle)
                    elif "." in raw or "E" in raw or "e" in raw:  # number() inlined
                        num = float(raw)
                        if num.is_integer():
                            value = str(int(num))
                            if pad and num >= 0:
                                value = value.zfill(pad)
                        else:
                            value = repr(num)
                            if "e" in value or "n" in value:  # 1e-05, nan, inf
                                value = float_text(num)
                    else:
                        whole = int(raw)
                        value = str(whole)
                        if pad and whole >= 0:
                            value = value.zfill(pad)
                elif t == "inlineStr":
                    value = inline if is_seen else ""
                elif raw is None:
                    value = ""
                elif t == "s":
                    try:
                        value = shared[int(raw)]
                    except IndexError:
                        raise SheetError(
                            f"shared string {raw} is not in the workbook's {len(shared)} strings"
                        ) from None
                else:
                    value = other(t, raw)
                n = len(cells)
                if col == n + 1:
                    cells.append(value)
                elif col > n:
                    cells.extend([""] * (col - 1 - n))
                    cells.append(value)
                else:
                    cells[col - 1] = value
                last_col = col
        elif depth == 5:
            if cap_depth == 5:  # </v>
                raw = cap or None
                cap_depth = 0
                capturing = False
            elif in_is and name == _IS:
                in_is = False
                inline = is_plain or ""
                if runs:
                    inline += "".join(runs)
        elif depth == 6:
            if cap_depth == 6:  # </t>, the last one wins
                is_plain = cap
                cap_depth = 0
                capturing = False
            elif in_run:  # </r>
                in_run = False
                if run_t is not None:
                    if runs is None:
                        runs = [run_t]
                    else:
                        runs.append(run_t)
        elif depth == 3:
            if row_open:  # </row>
                row_open = False
                width = last_col
                n = len(cells)
                if n < width:
                    cells.extend([""] * (width - n))
                elif n > width:
                    del cells[width:]
                if unshown:
                    unshown = False
                    for value in cells if row_idx >= counter else ():
                        if type(value) is _Unshown:
                            raise SheetError(str(value))
                if row_idx >= counter:
                    out.append(cells)
                    counter += 1
        elif depth == 7:
            if cap_depth == 7:  # </r></t>
                run_t = cap
                cap_depth = 0
                capturing = False
        elif depth == 2 and name == _SHEET_DATA:
            data_open = False
            data_done = True
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars

    try:
        src = book.zf.open(path)
    except (KeyError, zipfile.BadZipFile, NotImplementedError, OSError) as exc:
        raise Unsupported(f"{path}: {exc}") from exc
    with src:
        parse = parser.Parse
        failure: Exception | None = None
        while True:
            try:
                data = src.read(_CHUNK)
                parse(data, not data)
            except (Unsupported, FeedFormatError, SheetError) as exc:
                failure = exc
            except expat.ExpatError as exc:
                failure = SheetError(f"XML error: {exc}")
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                failure = SheetError(f"the compressed sheet is damaged: {exc}")
            except (ValueError, IndexError, OverflowError, TypeError) as exc:
                failure = SheetError(str(exc))
            if out:
                batch, out = out, []
                if gaps:
                    gaps = False
                    yield from _expand(batch)
                else:
                    yield cast(list[list[str]], batch)
            if failure is not None:
                raise failure
            if not data:
                break


def _expand(batch: list[list[str] | int]) -> Iterator[list[list[str]]]:
    """A batch with counts of empty rows, as batches of at most _GAP_ROWS rows."""
    rows: list[list[str]] = []
    for item in batch:
        if isinstance(item, int):
            for _ in range(item):
                rows.append([])
                if len(rows) >= _GAP_ROWS:
                    yield rows
                    rows = []
        else:
            rows.append(item)
    if rows:
        yield rows
