"""The streaming .xlsx reader: the openpyxl path's cells, cell for cell, and the fallback."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from feedsync.domain.feed import Record
from feedsync.errors import FeedFormatError
from feedsync.formats import open_feed, xlsx
from feedsync.formats.xlsx_stream import Unsupported

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

Read = tuple[list[str] | None, list[Record], dict[str, Any]]


# -- reading -----------------------------------------------------------------------------


def read(path: Path, *, sheet: object = None, header_row: int = 1) -> Read:
    with ExitStack() as stack:
        table = xlsx.read_xlsx(
            str(path), path.name, sheet=sheet, header_row=header_row, stack=stack
        )
        return table.header, list(table.records), table.info


def read_openpyxl(path: Path, *, sheet: object = None, header_row: int = 1) -> Read:
    """The reference: the same call with the streaming reader switched off."""

    def unsupported(*_: object) -> Any:
        raise Unsupported("switched off by the test")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx, "open_book", unsupported)
        return read(path, sheet=sheet, header_row=header_row)


def same_as_openpyxl(path: Path, *, sheet: object = None, header_row: int = 1) -> Read:
    """Read both ways, check the stream ran and matched; return the stream's result."""
    got = read(path, sheet=sheet, header_row=header_row)
    want = read_openpyxl(path, sheet=sheet, header_row=header_row)
    assert got[2]["reader"] == "stream"
    assert want[2]["reader"] == "openpyxl"
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert {k: v for k, v in got[2].items() if k != "reader"} == {
        k: v for k, v in want[2].items() if k != "reader"
    }
    return got


@contextmanager
def openpyxl_loads() -> Iterator[list[object]]:
    """Count the workbooks openpyxl opens (proves which reader ran)."""
    calls: list[object] = []
    real = openpyxl.load_workbook

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx.openpyxl, "load_workbook", spy)
        yield calls


# -- building workbooks ------------------------------------------------------------------


def with_openpyxl(
    path: Path,
    sheets: dict[str, list[list[Any]]],
    formats: dict[str, dict[str, str]] | None = None,
    *,
    epoch: dt.datetime | None = None,
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch is not None:
        wb.epoch = epoch
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for coord, number_format in (formats or {}).get(title, {}).items():
            ws[coord].number_format = number_format
    wb.save(path)
    return path


def by_hand(
    path: Path,
    sheets: dict[str, str],
    *,
    shared: str | None = None,
    styles: str | None = None,
    workbook_pr: str = "",
    main: str = MAIN,
    rel: str = REL,
    absolute: bool = True,
    extra_sheets: str = "",
    prolog: dict[str, str] | None = None,
    root_attrs: str = "",
) -> Path:
    """A workbook written part by part (sheet XML is the inside of <worksheet>)."""
    prolog = prolog or {}
    types = [
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>',
    ]
    rels = ['<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    book = [f'<workbook xmlns="{main}" xmlns:r="{rel}">{workbook_pr}<sheets>']
    parts: dict[str, str] = {}
    for i, (name, xml) in enumerate(sheets.items(), 1):
        part = f"xl/worksheets/sheet{i}.xml"
        target = f"/{part}" if absolute else f"worksheets/sheet{i}.xml"
        rels.append(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="{target}"/>')
        book.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        parts[part] = f'<worksheet xmlns="{main}" xmlns:r="{rel}"{root_attrs}>{xml}</worksheet>'
    if shared is not None:
        types.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/>')
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{main}">{shared}</sst>'
    if styles is not None:
        parts["xl/styles.xml"] = f'<styleSheet xmlns="{main}">{styles}</styleSheet>'
    parts["[Content_Types].xml"] = "".join([*types, "</Types>"])
    parts["xl/_rels/workbook.xml.rels"] = "".join([*rels, "</Relationships>"])
    parts["xl/workbook.xml"] = "".join([*book, extra_sheets, "</sheets></workbook>"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, xml in parts.items():
            zf.writestr(name, prolog.get(name, "") + xml)
    return path


def rewrite(path: Path, part: str, edit: Callable[[str], str]) -> Path:
    """Edit one part of a saved workbook in place."""
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, edit(data.decode()).encode() if name == part else data)
    return path


def row_xml(*cells: str, r: int | None = None) -> str:
    return (
        f'<row r="{r}">' + "".join(cells) + "</row>" if r else "<row>" + "".join(cells) + "</row>"
    )


# -- equivalence with openpyxl -----------------------------------------------------------

HEADER = ["SKU", "Int", "Float", "Big", "Padded", "Pct", "Money", "When", "Time", "Span"]
FORMATS = {
    "E": "000000000000",
    "F": "0.00%",
    "G": '"$"#,##0.00',
    "H": "dd/mm/yyyy hh:mm",
    "I": "h:mm:ss",
    "J": "[h]:mm:ss",
}


def _formats(rows: int) -> dict[str, str]:
    return {f"{col}{r}": fmt for col, fmt in FORMATS.items() for r in range(2, rows + 2)}


VALUES: list[list[Any]] = [
    [
        *("A-1", 42, 12.5, 4006381333931, 12345678905, 0.25, 1234.5),
        *(dt.datetime(2024, 3, 1, 10, 30), dt.time(10, 30, 15), dt.timedelta(hours=26, minutes=3)),
    ],
    [
        *("A-2", -7, 123456789012.0, 10**20, -5, 1.0, -0.5),
        *(dt.datetime(2024, 3, 1), dt.time(0, 0), dt.timedelta(0)),
    ],
    [
        *("A-3", 0, 0.1 + 0.2, 2**53 + 1, 0, 1 / 3, 1e-7),
        *(dt.datetime(1900, 1, 1, 12), dt.time(23, 59, 59), dt.timedelta(days=400, seconds=1)),
    ],
    ["A-4", None, 1e16, None, 7.0, None, 1e21, None, None, None],
    [],
    ["A-6", True, False, "#N/A", "#DIV/0!", "  spaced  ", "x005F_kept", "Ünïcødé €", "=1+1", ""],
    ["A-7"],
]


def test_numbers_dates_and_text_written_by_openpyxl_read_the_same(tmp_path: Path) -> None:
    # Given numbers (ints, floats, a 10**20 int, integral floats), an all-zeros format on
    # positive and negative numbers, percent and currency formats, datetimes in a custom
    # format, times, durations ([h]:mm:ss), booleans, error values, text, gaps and a blank row
    path = with_openpyxl(
        tmp_path / "values.xlsx", {"Values": [HEADER, *VALUES]}, {"Values": _formats(7)}
    )
    # When read by the stream and by openpyxl
    header, records, info = same_as_openpyxl(path)
    # Then the cells are the same, as the merchant sees them
    assert header == HEADER and info["sheet"] == "Values"
    first, second, third = records[0][1], records[1][1], records[2][1]
    assert first == [
        *("A-1", "42", "12.5", "4006381333931", "012345678905", "0.25", "1234.5"),
        *("2024-03-01 10:30:00", "10:30:15", "1 day, 2:03:00"),
    ]
    assert second[1:] == [
        *("-7", "123456789012", "100000000000000000000", "-5", "1", "-0.5"),
        *("2024-03-01", "00:00:00", "0:00:00"),
    ]
    assert third[5:7] == ["0.3333333333333333", "0.0000001"]
    assert records[3][1][2:7] == ["10000000000000000", "", "000000000007", "", "1" + "0" * 21]
    assert [r[0] for r in records] == [2, 3, 4, 5, 6, 7, 8]
    assert records[4][1] == [""] * 10  # the blank row: counted, all empty
    assert records[5][1][:5] == ["A-6", "TRUE", "FALSE", "#N/A", "#DIV/0!"]


@pytest.mark.parametrize("header_row", [0, 1, 3])
def test_header_rows_read_the_same(tmp_path: Path, header_row: int) -> None:
    # Given the values sheet, When read with the header on another row (or none)
    path = with_openpyxl(
        tmp_path / "values.xlsx", {"Values": [HEADER, *VALUES]}, {"Values": _formats(7)}
    )
    # Then both readers agree on header, row numbers and padding
    header, records, _ = same_as_openpyxl(path, header_row=header_row)
    if header_row == 1:
        assert header == HEADER
    elif header_row == 3:
        assert header is not None and header[:3] == ["A-2", "-7", "123456789012"]
    assert records[0][0] == header_row + 1


def test_several_sheets_by_name_and_position_read_the_same(tmp_path: Path) -> None:
    # Given three sheets
    sheets = {
        "Notes": [["Supplier X"], [], ["updated", dt.date(2024, 6, 1)]],
        "Stock": [["SKU", "Qty"], ["S1", 2], ["S2", 3.5]],
        "Empty": [],
    }
    path = with_openpyxl(tmp_path / "multi.xlsx", sheets)
    # When each is read by name and by position, Then both readers agree
    for index, name in enumerate(sheets):
        if name == "Empty":
            with pytest.raises(FeedFormatError, match="sheet 'Empty' is empty"):
                read(path, sheet=name)
            continue
        by_name = same_as_openpyxl(path, sheet=name)
        assert same_as_openpyxl(path, sheet=str(index)) == by_name
    assert same_as_openpyxl(path, sheet="Stock")[1] == [(2, ["S1", "2"]), (3, ["S2", "3.5"])]


def test_a_1904_workbook_reads_the_same_dates(tmp_path: Path) -> None:
    # Given a workbook on the 1904 date system
    path = with_openpyxl(
        tmp_path / "mac.xlsx",
        {"S": [["SKU", "Since"], ["A", dt.datetime(2024, 3, 1)], ["B", dt.date(1904, 1, 2)]]},
        epoch=CALENDAR_MAC_1904,
    )
    with zipfile.ZipFile(path) as zf:
        assert b'date1904="1"' in zf.read("xl/workbook.xml")
    # When read, Then the dates are the same on both paths
    _, records, _ = same_as_openpyxl(path)
    assert records == [(2, ["A", "2024-03-01"]), (3, ["B", "1904-01-02"])]


def test_cached_formula_values_and_inline_rich_text_read_the_same(tmp_path: Path) -> None:
    # Given formulas saved by openpyxl, with the cached values Excel would have written
    # put into the XML, and an inline rich-text cell
    rich = CellRichText(["Soft ", TextBlock(InlineFont(b=True), "cotton"), " tee"])
    path = with_openpyxl(
        tmp_path / "formulas.xlsx",
        {"S": [["SKU", "Twice", "Label", "Rich"], ["A", "=2*21", '=A2&"-x"', rich]]},
    )
    rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<f>2*21</f><v />", "<f>2*21</f><v>42</v>").replace(
            '<c r="C2"><f>A2&amp;"-x"</f><v />', '<c r="C2" t="str"><f>A2&amp;"-x"</f><v>A-x</v>'
        ),
    )
    # When read, Then the cached values are the cells (not the formulas)
    _, records, _ = same_as_openpyxl(path)
    assert records == [(2, ["A", "42", "A-x", "Soft cotton tee"])]


STYLES = (
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="000000"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="&quot;Day &quot;0;[Red]-0"/></numFmts>'
    '<fonts count="1"><font/></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
    '<cellXfs count="8"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
    '<xf numFmtId="165"/><xf numFmtId="46"/><xf numFmtId="10"/><xf numFmtId="166"/>'
    '<xf numFmtId="49"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
)
SHARED = (
    "<si><t>SKU</t></si>"
    "<si><t>Name</t></si>"
    "<si><r><t>Rich </t></r><r><rPr><b/></rPr><t>text</t></r></si>"
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh><phoneticPr fontId="1"/></si>'
    '<si><t xml:space="preserve">  pad  </t></si>'
    "<si><t>under_x005F_score</t></si>"
    "<si/>"
    "<si><t>first</t><r><t>+run</t></r></si>"
)


def test_shared_strings_styles_and_cell_types_written_by_hand_read_the_same(
    tmp_path: Path,
) -> None:
    # Given shared strings (rich text runs, phonetic runs, x005F_ escapes, an empty one),
    # custom and built-in number formats, and every cell type Excel writes
    cells = [
        '<c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c>',
        '<c r="C2" t="s"><v>4</v></c><c r="D2" t="s"><v>5</v></c><c r="E2" t="s"><v>6</v></c>',
        '<c r="F2" t="s"><v>7</v></c>',
        '<c r="A3" s="1"><v>45352</v></c><c r="B3" s="2"><v>42</v></c>',
        '<c r="C3" s="3"><v>45352.4375</v></c><c r="D3" s="4"><v>1.5</v></c>',
        '<c r="E3" s="5"><v>0.125</v></c><c r="F3" s="6"><v>3</v></c>',
        '<c r="A4" t="b"><v>1</v></c><c r="B4" t="b"><v>0</v></c><c r="C4" t="e"><v>#REF!</v></c>',
        '<c r="D4" t="str"><f>A1</f><v>cached</v></c>'
        '<c r="E4" t="d"><v>2024-03-01T10:30:00</v></c>',
        '<c r="F4" t="inlineStr"><is><t>inline</t></is></c>',
        '<c r="A5"><v>1E-3</v></c><c r="B5"><v>1.5E+20</v></c><c r="C5" s="1"><v>0.5</v></c>',
        '<c r="D5" s="7"><v>0012</v></c><c r="E5"><f>NOW()</f></c><c r="F5" t="s"><v></v></c>',
    ]
    sheet = (
        "<sheetData>"
        + row_xml('<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>', r=1)
        + row_xml(*cells[0:3], r=2)
        + row_xml(*cells[3:6], r=3)
        + row_xml(*cells[6:9], r=4)
        + row_xml(*cells[9:11], r=5)
        + "</sheetData>"
    )
    path = by_hand(tmp_path / "types.xlsx", {"S": sheet}, shared=SHARED, styles=STYLES)
    # When read with the header on row 1 and with no header
    header, records, _ = same_as_openpyxl(path)
    same_as_openpyxl(path, header_row=0)
    # Then both readers agree, and the texts are as Excel shows them
    assert header == ["SKU", "Name"]
    assert records[0][1] == ["Rich text", "漢字", "  pad  ", "under_score", "", "first+run"]
    assert records[1][1] == [
        "2024-03-01",
        "000042",
        "2024-03-01 10:30:00",
        "1 day, 12:00:00",
        "0.125",
        "3",
    ]
    assert records[2][1] == ["TRUE", "FALSE", "#REF!", "cached", "2024-03-01 10:30:00", "inline"]
    assert records[3][1] == ["0.001", "150000000000000000000", "12:00:00", "12", "", ""]


def test_a_minimal_workbook_without_cell_references_reads_the_same(tmp_path: Path) -> None:
    # Given a hand-written workbook: no r attributes on rows or cells, inline strings, no
    # styles part, no shared strings, relationship targets absolute ("/xl/worksheets/…")
    inline = '<c t="inlineStr"><is><t>{}</t></is></c>'
    sheet = (
        "<sheetData>"
        + row_xml(*(inline.format(h) for h in ("SKU", "Qty", "Price")))
        + row_xml(inline.format("A1"), "<c><v>5</v></c>", "<c><v>2.50</v></c>")
        + "<row/>"
        + row_xml(inline.format("B2"), "<c/>", "<c><v>3</v></c>")
        + row_xml(inline.format("C3"))
        + "</sheetData>"
    )
    path = by_hand(tmp_path / "minimal.xlsx", {"Feed": sheet})
    # When read, Then both readers give the same rows, numbered by position
    header, records, info = same_as_openpyxl(path)
    assert header == ["SKU", "Qty", "Price"]
    assert records == [
        (2, ["A1", "5", "2.5"]),
        (3, ["", "", ""]),
        (4, ["B2", "", "3"]),
        (5, ["C3", "", ""]),
    ]
    assert info == {"sheet": "Feed", "sheets": ["Feed"], "reader": "stream"}
    # And relative targets ("worksheets/sheet1.xml") read the same
    relative = by_hand(tmp_path / "relative.xlsx", {"Feed": sheet}, absolute=False)
    assert same_as_openpyxl(relative)[1] == records


def test_row_gaps_order_and_the_dimension_are_kept_as_openpyxl_keeps_them(
    tmp_path: Path,
) -> None:
    # Given rows that skip numbers (one gap longer than a batch), a row numbered below
    # one already read, and cells out of order inside a row
    v = '<c r="{}"><v>{}</v></c>'
    sheet = (
        "<sheetData>"
        + row_xml(v.format("A1", 1), v.format("B1", 2), r=1)
        + row_xml(v.format("A3", 3), r=3)
        + row_xml(v.format("A2", 99), r=2)
        + row_xml(v.format("C5", 5), v.format("A5", 4), r=5)
        + row_xml(v.format("B3000", 6), r=3000)
        + "</sheetData>"
    )
    path = by_hand(tmp_path / "gaps.xlsx", {"S": sheet})
    # When read, Then both readers agree: the late row 2 is dropped, a row's width is its
    # last cell's column, and every skipped row is an empty record
    _, records, _ = same_as_openpyxl(path)
    assert len(records) == 2999 and records[-1] == (3000, ["", "6"])
    assert records[1] == (3, ["3", ""]) and records[3] == (5, ["4", ""])
    # Given the same rows under a stale <dimension> smaller than the data (seen in the
    # wild), When read, Then neither reader trusts it: no row or column is lost
    bounded = by_hand(tmp_path / "bounded.xlsx", {"S": '<dimension ref="A1:B3"/>' + sheet})
    assert same_as_openpyxl(bounded)[1] == records


MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"


@pytest.mark.filterwarnings("ignore:Unknown extension")
def test_a_sheet_shaped_as_excel_saves_it_reads_the_same(tmp_path: Path) -> None:
    # Given the parts around the data that Excel writes: markup-compatibility prefixes on
    # the root and the rows, a frozen pane, column widths, conditional formatting, an
    # extension list with its own namespace, and AlternateContent in the workbook
    root = f' xmlns:mc="{MC}" mc:Ignorable="x14ac" xmlns:x14ac="{X14AC}"'
    row = '<row r="{}" spans="1:4" x14ac:dyDescent="0.25">{}</row>'
    sheet = (
        '<sheetPr><tabColor rgb="FF00B050"/></sheetPr><dimension ref="A1:D3"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/>'
        '<cols><col min="1" max="1" width="12.7" customWidth="1"/></cols><sheetData>'
        + row.format(1, "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCD")))
        + row.format(
            2,
            '<c r="A2" t="s"><v>4</v></c><c r="B2" s="2"><v>4006381333931</v></c>'
            '<c r="C2"><v>19.989999999999998</v></c><c r="D2" s="1"><v>45352</v></c>',
        )
        + row.format(3, '<c r="A3" t="s"><v>5</v></c><c r="C3"><f>C2*2</f><v>39.98</v></c>')
        + '</sheetData><conditionalFormatting sqref="C2:C3"><cfRule type="cellIs" '
        'dxfId="0" priority="1" operator="lessThan"><formula>0</formula></cfRule>'
        '</conditionalFormatting><pageMargins left="0.7" right="0.7" top="0.75" '
        'bottom="0.75" header="0.3" footer="0.3"/><extLst><ext uri="{78C0D931}" '
        f'xmlns:x14="{X14}"><x14:conditionalFormattings/></ext></extLst>'
    )
    shared = "".join(f"<si><t>{t}</t></si>" for t in ("SKU", "EAN", "Price", "Since", "A", "B"))
    styles = STYLES.replace('<xf numFmtId="164"/>', '<xf numFmtId="1"/>')
    alternate = (
        f'<mc:AlternateContent xmlns:mc="{MC}"><mc:Choice Requires="x15">'
        '<x15ac:absPath xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"'
        ' url="C:\\feeds\\"/></mc:Choice></mc:AlternateContent>'
    )
    path = by_hand(
        tmp_path / "excel.xlsx",
        {"Price list": sheet},
        shared=shared,
        styles=styles,
        root_attrs=root,
        workbook_pr=f'<workbookPr defaultThemeVersion="166925"/>{alternate}',
    )
    # When read, Then both readers give the rows as Excel shows them
    header, records, info = same_as_openpyxl(path)
    assert header == ["SKU", "EAN", "Price", "Since"] and info["sheet"] == "Price list"
    assert records == [
        (2, ["A", "4006381333931", "19.99", "2024-03-01"]),  # 17 digits as Excel stores
        (3, ["B", "", "39.98", ""]),
    ]


# -- safety -------------------------------------------------------------------------------


def _sheet(rows: int = 2) -> str:
    cells = "".join(row_xml('<c t="inlineStr"><is><t>A</t></is></c>') for _ in range(rows))
    return f"<sheetData>{cells}</sheetData>"


@pytest.mark.parametrize(
    ("part", "doctype"),
    [
        ("xl/sharedStrings.xml", '<!DOCTYPE sst [<!ENTITY boom "BOOM">]>'),
        ("xl/worksheets/sheet1.xml", "<!DOCTYPE worksheet [<!ELEMENT worksheet ANY>]>"),
        ("xl/workbook.xml", '<!DOCTYPE workbook [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]>'),
        ("xl/worksheets/sheet1.xml", '<!DOCTYPE w SYSTEM "file:///etc/passwd">'),
    ],
)
def test_a_doctype_in_any_part_is_refused_naming_the_file(
    tmp_path: Path, part: str, doctype: str
) -> None:
    # Given a workbook with a DOCTYPE (entity declarations, an external DTD) in one part
    path = by_hand(
        tmp_path / "evil.xlsx",
        {"S": _sheet()},
        shared="<si><t>SKU</t></si>",
        prolog={part: doctype},
    )
    # When read, Then it is refused with the file and the part named
    with pytest.raises(FeedFormatError, match=rf"evil\.xlsx: {part}.*DOCTYPE"):
        read(path)


def test_a_bare_doctype_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    # Given a sheet with a bare DOCTYPE (no declarations, no external DTD), as some
    # writers emit
    path = by_hand(
        tmp_path / "bare.xlsx",
        {"S": _sheet(3)},
        prolog={"xl/worksheets/sheet1.xml": "<!DOCTYPE worksheet>"},
    )
    # When read, Then the stream reads it, with the cells openpyxl gives
    _, records, info = same_as_openpyxl(path)
    assert records == [(2, ["A"]), (3, ["A"])] and info["reader"] == "stream"


@pytest.mark.filterwarnings("ignore:File contains an invalid specification")
def test_a_strict_open_xml_workbook_falls_back_to_openpyxl(tmp_path: Path) -> None:
    # Given a workbook saved as Strict Open XML (purl.oclc.org namespaces)
    path = by_hand(tmp_path / "strict.xlsx", {"S": _sheet()}, main=STRICT_MAIN, rel=STRICT_REL)
    # When read, Then openpyxl takes it (and, seeing no worksheet, says so clearly)
    with openpyxl_loads() as calls, pytest.raises(FeedFormatError, match="Strict Open XML"):
        read(path)
    assert len(calls) == 1


def test_an_unknown_workbook_structure_falls_back_to_openpyxl(tmp_path: Path) -> None:
    # Given a workbook listing a sheet whose part is missing (openpyxl skips such a sheet)
    path = by_hand(
        tmp_path / "odd.xlsx",
        {"S": _sheet()},
        extra_sheets='<sheet name="Gone" sheetId="9" r:id="rId9"/>',
    )
    rewrite(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            "</Relationships>",
            f'<Relationship Id="rId9" Type="{REL}/worksheet" Target="missing.xml"/>'
            "</Relationships>",
        ),
    )
    # When read, Then openpyxl reads it, as it did before
    with openpyxl_loads() as calls:
        header, records, info = read(path)
    assert len(calls) == 1 and info["reader"] == "openpyxl"
    assert (header, records, info["sheets"]) == (["A"], [(2, ["A"])], ["S"])


def test_something_unexpected_mid_sheet_hands_over_to_openpyxl_at_that_row(
    tmp_path: Path,
) -> None:
    # Given a sheet whose fourth row holds an element openpyxl takes for a cell
    rows = [
        row_xml(f'<c><v>{n}</v></c><c t="inlineStr"><is><t>x{n}</t></is></c>') for n in range(6)
    ]
    rows[3] = rows[3].replace("</row>", "<extLst/></row>")
    path = by_hand(tmp_path / "mid.xlsx", {"S": "<sheetData>" + "".join(rows) + "</sheetData>"})
    # When read
    header, records, info = read(path)
    # Then the rows before it came from the stream and the rest from openpyxl, as openpyxl
    # alone reads them (the extra element is an extra empty cell there)
    assert info["reader"] == "stream+openpyxl"
    assert (header, records) == read_openpyxl(path)[:2]
    assert records[2] == (4, ["3", "x3", ""])
    # And what the run records, once the feed is read, says so too
    feed, run_info = open_feed(str(path), path.name, {}, {"sku": "0"}, work_dir=str(tmp_path))
    assert run_info["reader"] == "stream"  # nothing read yet
    with feed:
        list(feed)
    assert run_info["reader"] == "stream+openpyxl"


def test_a_chart_sheet_is_refused_by_name_and_skipped_by_position(tmp_path: Path) -> None:
    # Given a chart sheet before a data sheet
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    for row in (["SKU", "Qty"], ["A", 1], ["B", 2]):
        data.append(row)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    wb.create_chartsheet("Chart", 0).add_chart(chart)
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    # When the sheet is chosen by name, by position and by default
    for reader in (read, read_openpyxl):
        with pytest.raises(FeedFormatError, match="sheet 'Chart' is a chart, not a table"):
            reader(path, sheet="Chart")
        # Then a position counts worksheets only, as openpyxl has always done
        with pytest.raises(FeedFormatError, match=r"no sheet 1; .*'Chart', 'Data'"):
            reader(path, sheet=1)
    assert same_as_openpyxl(path)[1] == same_as_openpyxl(path, sheet=0)[1]
    assert same_as_openpyxl(path)[2]["sheets"] == ["Chart", "Data"]


# -- broken files --------------------------------------------------------------------------


def test_bad_xml_in_the_sheet_names_the_file_and_the_row(tmp_path: Path) -> None:
    # Given a sheet whose third row is not well-formed
    rows = [row_xml(f"<c><v>{n}</v></c>") for n in range(5)]
    rows[2] = "<row><c><v>2</v></c></rowx>"
    path = by_hand(tmp_path / "broken.xlsx", {"S": "<sheetData>" + "".join(rows) + "</sheetData>"})
    # When read, Then the rows before it are data and the error names the file and row 3
    with ExitStack() as stack:
        table = xlsx.read_xlsx(str(path), path.name, sheet=None, header_row=1, stack=stack)
        got = []
        with pytest.raises(FeedFormatError, match=r"broken\.xlsx: row 3 of the sheet .*XML"):
            for record in table.records:
                got.append(record)
    assert got == [(2, ["1"])]


def test_the_sheet_is_streamed_not_read_whole(tmp_path: Path) -> None:
    # Given 30,000 rows and broken XML after the last one
    body = "".join(
        row_xml(f'<c><v>{n}</v></c><c t="inlineStr"><is><t>r{n}</t></is></c>')
        for n in range(30_000)
    )
    path = by_hand(tmp_path / "long.xlsx", {"S": f"<sheetData>{body}</sheetData><oops>"})
    # When the header and the first records are read
    with ExitStack() as stack:
        table = xlsx.read_xlsx(str(path), path.name, sheet=None, header_row=1, stack=stack)
        records = table.records
        first = [next(records) for _ in range(3)]
        # Then they come before the end of the sheet has been parsed
        assert table.header == ["0", "r0"] and first[0] == (2, ["1", "r1"])
        # And the break at the end is reported where it is
        with pytest.raises(FeedFormatError, match=r"long\.xlsx: row 30001 of the sheet"):
            for _ in records:
                pass


def test_a_missing_shared_string_and_a_damaged_zip_are_format_errors(tmp_path: Path) -> None:
    # Given a cell pointing past the shared strings, and a truncated workbook
    sheet = (
        "<sheetData>"
        + row_xml('<c t="s"><v>0</v></c>')
        + row_xml('<c t="s"><v>5</v></c>')
        + "</sheetData>"
    )
    path = by_hand(tmp_path / "sst.xlsx", {"S": sheet}, shared="<si><t>SKU</t></si>")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(path.read_bytes()[:200])
    # When read, Then each is a FeedFormatError naming the file (and the row)
    with pytest.raises(FeedFormatError, match=r"sst\.xlsx: row 2 of the sheet .*shared string 5"):
        read(path)
    with pytest.raises(FeedFormatError, match=r"damaged\.xlsx: cannot be opened as an Excel"):
        read(damaged)
