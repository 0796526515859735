"""Write the corpus of awkward supplier files (issue 3) into ``tests/corpus/``.

The files committed next to this script were made by it, byte for byte; what each one
must produce is in ``expected.json`` and ``tests/integration/test_corpus.py`` puts every
one through a whole run. To (re)write them, from the repository root::

    .venv/bin/python tests/corpus/build_corpus.py            # rewrite tests/corpus/*
    .venv/bin/python tests/corpus/build_corpus.py --check    # compare, write nothing

Every file is deterministic: gzip headers carry no time, zip entries a fixed date, and
the workbook's document properties and zip dates are pinned after openpyxl saves it.
``--check`` (also run by the test, so a changed builder or a hand-edited file shows)
compares bytes, and for the gzip/zip/xlsx files the content inside, since another zlib
may compress the same content to other bytes.

The SKUs and barcodes used here are the catalog in ``expected.json``:
CORP-001 (4006381333931), CORP-002 (012345678905), CORP-003 (5901234123457),
CORP-004 (96385074) and CAFÉ-Ü (a non-ASCII SKU: decoded wrongly, it matches nothing).
Keep every file under 100 KB.
"""

from __future__ import annotations

import codecs
import gzip
import io
import random
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_CORPUS = frozenset({"build_corpus.py", "expected.json", ".gitattributes"})
MAX_BYTES = 100_000
ZIP_DATE = (2024, 3, 1, 0, 0, 0)


# ----------------------------------------------------------------------------- helpers
def _lines(*rows: str, end: str = "\n") -> str:
    return "".join(row + end for row in rows)


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


# ------------------------------------------------------------------------- text files
def utf8_csv() -> bytes:
    return _lines("SKU,Price,Qty", "CORP-001,11.00,6", "CAFÉ-Ü,7.50,2").encode("utf-8")


def utf8_bom_padded_header_csv() -> bytes:
    # Excel's "CSV UTF-8" adds the BOM; the header names carry stray spaces.
    text = _lines(" SKU , Price ,  Qty  ", "CORP-002,21.00,4", "CAFÉ-Ü,8.00,3", end="\r\n")
    return codecs.BOM_UTF8 + text.encode("utf-8")


def utf16le_bom_tab_txt() -> bytes:
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated, CRLF, and a cell
    # holding a tab and quotes written quoted.
    text = _lines(
        "SKU\tName\tPrice\tQty",
        'CORP-003\t"Bowl\t""deep"""\t31.50\t9',
        "CAFÉ-Ü\tCafé crème\t6.00\t4",
        end="\r\n",
    )
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def utf16be_bom_csv() -> bytes:
    text = _lines(
        "SKU,Name,Price,Qty",
        "CORP-004,Cup \u2013 small,4.10,11",  # an en dash
        "CAFÉ-Ü,Ünïcødé,6.50,5",
    )
    return codecs.BOM_UTF16_BE + text.encode("utf-16-be")


def utf16le_no_bom_cyrillic_csv() -> bytes:
    # UTF-16 LE without a BOM, mostly Cyrillic: only a quarter of the characters are
    # ASCII (with a NUL byte beside them), so it is found by where its NULs are, not by
    # how many (read as Latin-1 the column names were garbage).
    text = _lines(
        "Артикул;Наименование товара;Цена;Остаток",
        "CORP-001;Кружка керамическая синяя большая в подарочной упаковке;14.00;3",
        "CORP-004;Чашка фарфоровая с блюдцем белая набор из шести штук;4.60;12",  # noqa: RUF001
        "CAFÉ-Ü;Кофе молотый «Арабика» в вакуумной упаковке обжарка средняя;8.20;0",
        end="\r\n",
    )
    return text.encode("utf-16-le")


def cp1252_semicolon_csv() -> bytes:
    # A European export: Windows-1252 (€ is byte 0x80, the dash 0x96, curly quotes
    # 0x93/0x94), semicolons, CRLF. A price with a decimal comma (row 4) is refused
    # by the money parser with a hint, not guessed: the profile does not say the file
    # uses decimal commas (decimal_comma.csv does).
    text = _lines(
        "SKU;Name;Price;Qty",
        "CORP-001;Crème brûlée \u2013 “extra”;12.50 €;7",
        "CAFÉ-Ü;Café;€ 9.25;6",
        "CORP-002;Assiette, grande;3,50;2",
        end="\r\n",
    )
    return text.encode("cp1252")


def decimal_comma_csv() -> bytes:
    # A German export the profile declares as decimal_separator ",": 12,50 and
    # 1.234,50 are amounts, 1.200 is a thousand and two hundred items, and 3.50 (a
    # dot where the file uses commas) is refused rather than read as 350.
    text = _lines(
        "Artikelnummer;Bezeichnung;Preis;Bestand",
        "CORP-001;Becher, rot;12,50;1.200",
        "CORP-002;Teller;1.234,50 €;3",
        "CORP-003;Schale;3.50;4",
        "CORP-004;Tasse;4;7,0",
        end="\r\n",
    )
    return text.encode("utf-8")


def latin1_only_csv() -> bytes:
    # Byte 0x81 is undefined in Windows-1252, so only Latin-1 decodes every byte.
    text = _lines("SKU,Price,Qty,Note", "CAFÉ-Ü,5.55,8,ctrl\x81byte", "CORP-003,32.00,1,Größe")
    return text.encode("latin-1")


def tab_tsv() -> bytes:
    text = _lines(
        "SKU\tName\tPrice\tQty",
        "CORP-001\tMug, blue; large\t10.50\t12",
        "CORP-002\tPlate, white\t19.00\t0",
    )
    return text.encode("utf-8")


def pipe_txt() -> bytes:
    text = _lines(
        "SKU|Name|Price|Qty",
        "CORP-003|Bowl, 2; set|29.90|3",
        "CORP-004|Cup, tall|5.00|20",
    )
    return text.encode("utf-8")


def semicolon_csv() -> bytes:
    text = _lines(
        "SKU;Name;Price;Qty",
        "CORP-001;Mug, red;10.00;5",  # what the store already holds: unchanged
        "CORP-004;Cup, wide;4.40;13",
    )
    return text.encode("utf-8")


def quoted_newlines_csv() -> bytes:
    # Rows 2 and 3 span three lines each; the bad price is on line 8 but in
    # spreadsheet row 4, which is what the run log must say.
    text = _lines(
        "SKU,Name,Price,Qty",
        'CORP-001,"Mug',
        "with a",
        'long name",12.00,1',
        'CORP-002,"Plate, ""big""',
        "second line",
        'third line",22.00,2',
        "CORP-003,Bowl,n/a,4",
        "CORP-004,Cup,4.80,6",
    )
    return text.encode("utf-8")


def preamble_header_row3_csv() -> bytes:
    text = _lines(
        "Acme Ltd price list",
        "Valid from 2024-03-01",
        "SKU,Price,Qty",
        "CORP-001,13.00,7",
        "CORP-004,call us,1",
    )
    return text.encode("utf-8")


def no_header_csv() -> bytes:
    # Columns: A = SKU, B = name, C = price, D = stock; no header line.
    text = _lines("CORP-003,Bowl,31.00,9", "CORP-004,Cup,4.25,lots", "CORP-002,Plate,20.00,3")
    return text.encode("utf-8")


def missing_column_csv() -> bytes:
    text = _lines("SKU,Price,Quantity", "CORP-001,99.00,99")
    return codecs.BOM_UTF8 + text.encode("utf-8")


def unclosed_quote_csv() -> bytes:
    # Row 3 opens a quote it never closes: read leniently, rows 4 and 5 would vanish
    # into one cell of row 3 and the run would succeed. The file must fail instead.
    text = _lines(
        "SKU,Price,Qty",
        "CORP-001,11.00,6",
        'CORP-002,"21.00,4',
        "CORP-003,31.00,9",
        "CORP-004,4.10,11",
    )
    return text.encode("utf-8")


def stray_quote_csv() -> bytes:
    # Row 3 opens a quote that a stray quote on line 6 closes: read leniently, rows 4 and
    # 5 (whole records, with the header's three commas) would be text in row 3's name
    # and the run would succeed without them. The file must fail, naming row 3.
    text = _lines(
        "SKU,Name,Price,Qty",
        "CORP-001,Mug,11.00,6",
        'CORP-002,"Plate,21.00,4',
        "CORP-003,Bowl,31.00,9",
        "CORP-004,Cup,4.10,11",
        'CORP-009,Jug",5.00,2',
        "CORP-010,Tray,6.00,1",
    )
    return text.encode("utf-8")


def login_page_csv() -> bytes:
    # The supplier's server answered the file's URL with its sign-in page (a 200, HTML):
    # read as XML it used to fail as "mapped columns not found; the columns are 'title'".
    text = _lines(
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head><title>Sign in - Acme supplier portal</title></head>",
        '<body><form method="post" action="/login">',
        '<input name="user"><input name="password" type="password">',
        "</form></body>",
        "</html>",
    )
    return codecs.BOM_UTF8 + b"\r\n" + text.encode("utf-8")


def header_only_csv() -> bytes:
    return b"SKU,Price,Qty\r\n"


def empty_csv() -> bytes:
    return b""


def bom_only_csv() -> bytes:
    return codecs.BOM_UTF8


def duplicate_skus_csv() -> bytes:
    text = _lines(
        "SKU,Price,Qty",
        "CORP-001,12.00,7",
        "CORP-002,21.00,4",
        "CORP-001,99.00,99",  # the same variant again: the first row wins
        "NOPE-9,1.00,1",  # not in the store
        "NOPE-9,2.00,2",  # the same unknown SKU again
    )
    return text.encode("utf-8")


def row_problems_csv() -> bytes:
    # Matched by barcode with GTIN validation on; every bad row names its column,
    # and the good rows still sync.
    text = _lines(
        "SKU,EAN,Price,Qty",
        "CORP-001,4006381333931,15.00,8",
        "CORP-002,012345678905,abc,4",  # not a price
        "CORP-003,5901234123457,33.00,-2",  # negative stock
        "CORP-001,4.00638E+12,4.50,1",  # a barcode Excel turned into a number
        "CORP-003,5901234123458,9.00,1",  # wrong GTIN-13 check digit
        ",96385074,4.40,12",  # no SKU: the EAN-8 finds CORP-004
    )
    return text.encode("utf-8")


def gtin_spellings_csv() -> bytes:
    # Matched by barcode: each code spelled with another number of digits than the store
    # holds it; they compare as GTIN-14, so only a wrong check digit is refused.
    text = _lines(
        "UPC,Qty",
        "12345678905,11",  # CORP-002's UPC-A, its leading zero dropped
        "04006381333931,15",  # CORP-001's EAN-13 as a GTIN-14
        "0096385074,4",  # CORP-004's EAN-8 with two zeros in front
        "5901234123450,1",  # CORP-003's EAN-13 with a wrong check digit
        "0012345678905,2",  # CORP-002 again, as an EAN-13: the same item as row 2
    )
    return text.encode("utf-8")


# ------------------------------------------------------------------------ other formats
def numeric_barcodes_xlsx() -> bytes:
    # Barcodes stored as numbers, as Excel does when a GTIN column is pasted: the one
    # with a leading zero keeps it only through its "000000000000" number format.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Stock"
    sheet.append(["EAN", "Description", "Price", "Qty"])
    sheet.append([12345678905, "Plate", 23.5, 6])
    sheet["A2"].number_format = "000000000000"
    sheet.append([4006381333931, "Mug", 10.99, 14])
    # Row 4 stays empty; row 5 has a price the merchant has not set yet.
    sheet["A5"], sheet["B5"], sheet["C5"], sheet["D5"] = 5901234123457, "Bowl", "TBC", 2
    raw = io.BytesIO()
    book.save(raw)
    return _pin_workbook(raw.getvalue())


def upc_numbers_xlsx() -> bytes:
    # UPCs pasted into Excel as plain numbers (no number format): the leading zero is gone
    # and the cell holds 11 digits, which still match the store's 12-digit UPC-A.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["UPC", "Qty"])
    sheet.append([12345678905, 9])
    sheet.append([12345678900, 1])  # the same UPC with a wrong check digit
    raw = io.BytesIO()
    book.save(raw)
    return _pin_workbook(raw.getvalue())


def _pin_workbook(data: bytes) -> bytes:
    """The same workbook with fixed document dates and zip dates (openpyxl stamps now)."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            body = zf.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2024-03-01T00:00:00Z",
                    body,
                )
            entries.append((info.filename, body))
    return _zip(entries)


def namespaced_xml() -> bytes:
    # Records are feed:product (prefix f in the profile); an ad:product from another
    # namespace sits among them and must not be read (it would set CORP-004 to 0.01).
    text = """<?xml version="1.0" encoding="UTF-8"?>
<feed:catalog xmlns:feed="urn:acme:feed" xmlns="urn:acme:default"
              xmlns:inv="urn:acme:inventory" xmlns:ad="urn:acme:ads">
  <feed:meta><feed:generated>2024-03-01</feed:generated></feed:meta>
  <feed:product sku="CORP-003" gtin="5901234123457">
    <price currency="EUR">34.00</price>
    <inv:stock warehouse="A"><inv:qty>11</inv:qty></inv:stock>
  </feed:product>
  <ad:product sku="CORP-004">
    <price>0.01</price>
    <inv:stock><inv:qty>999</inv:qty></inv:stock>
  </ad:product>
  <feed:product sku="CORP-002">
    <price currency="EUR">see site</price>
    <inv:stock><inv:qty>1</inv:qty></inv:stock>
  </feed:product>
  <feed:product sku="CAFÉ-Ü">
    <price currency="EUR">7.77</price>
    <inv:stock><inv:qty>0</inv:qty></inv:stock>
  </feed:product>
</feed:catalog>
"""
    return text.encode("utf-8")


def billion_laughs_xml() -> bytes:
    # Entity expansion: ten levels of ten would be 10^9 "lol"s in one cell.
    decls = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        decls.append(f'<!ENTITY lol{level} "' + f"&lol{level - 1};" * 10 + '">')
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE products [\n  '
        + "\n  ".join(decls)
        + '\n]>\n<products><product sku="CORP-001"><price>1.00</price>'
        "<name>&lol9;</name></product></products>\n"
    )
    return text.encode("utf-8")


def external_entity_xml() -> bytes:
    # XXE: an entity whose text would be read from the server's own file system.
    text = (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE products [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<products><product sku="CORP-001"><price>1.00</price><name>&xxe;</name>'
        "</product></products>\n"
    )
    return text.encode("utf-8")


def record_path_json() -> bytes:
    # Two arrays of objects at the top, so the record path is needed; prices nested.
    text = """{
  "meta": {"supplier": "Acme", "generated": "2024-03-01"},
  "warnings": [{"code": "W1", "text": "prices in EUR"}],
  "data": {
    "items": [
      {"code": "CORP-002", "pricing": {"amount": 24.0, "currency": "EUR"}, "stock": 5},
      {"code": "CORP-003", "pricing": {"amount": 35.5, "currency": "EUR"}, "stock": -1},
      {"code": "CAFÉ-Ü", "pricing": {"amount": "6.10", "currency": "EUR"}, "stock": "7"}
    ]
  }
}
"""
    return text.encode("utf-8")


def lines_jsonl() -> bytes:
    # One object per line; the blank line 2 keeps its number, so the bad record is line 4.
    text = _lines(
        '{"sku": "CORP-001", "price": 10.25, "qty": 3}',
        "",
        '{"sku": "CORP-004", "price": "4.05", "qty": 15}',
        '{"sku": "CORP-002", "price": "twenty", "qty": 1}',
    )
    return text.encode("utf-8")


def stock_csv_gz() -> bytes:
    text = _lines("SKU;Price;Qty", "CORP-002;18.00;9", "CORP-003;30.00;2")
    return _gzip(text.encode("utf-8"))


def one_line_csv_gz() -> bytes:
    # 5 MiB of records joined by the delimiter on one line (a file whose line ends were
    # lost), gzipped: refused by the 4 MiB line limit before it is read (read whole,
    # 300 MB of such a line took 2 GB). A seeded SKU every 40 records keeps the
    # compression ratio under the bomb guard's 200 and the file under 100 KB.
    rnd = random.Random(14)
    block = "CORP-001,11.00,6," * 40
    parts = [f"{block}X-{rnd.randrange(10**8):08d},1.00,1," for _ in range(5 * 2**20 // 700)]
    return _gzip(("SKU,Price,Qty\n" + "".join(parts) + "\n").encode("utf-8"))


def bundle_zip() -> bytes:
    # Several entries; the profile's pattern "*_2024.csv" picks the current stock file.
    old = _lines("SKU,Price,Qty", "CORP-001,1.00,1", "CORP-004,1.00,1").encode()
    new = _lines("SKU,Price,Qty", "CORP-001,10.75,4", "CORP-004,4.20,8").encode()
    return _zip(
        [
            ("README.txt", b"Stock files by year.\n"),
            ("archive/stock_2023.csv", old),
            ("stock_2024.csv", new),
            ("prices_2024.xml", b"<prices/>\n"),
        ]
    )


def zip_bomb_zip() -> bytes:
    # 40 MiB of one byte behind a CSV header: about 40 KB compressed (~1000:1).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compresslevel=9) as zf:
        info = zipfile.ZipInfo("feed.csv", date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(b"SKU,Price,Qty\n")
            block = b"A" * (1 << 20)
            for _ in range(40):
                out.write(block)
    return buf.getvalue()


# --------------------------------------------------------------------------- the list
FILES: dict[str, Callable[[], bytes]] = {
    "utf8.csv": utf8_csv,
    "utf8_bom_padded_header.csv": utf8_bom_padded_header_csv,
    "utf16le_bom_tab.txt": utf16le_bom_tab_txt,
    "utf16be_bom.csv": utf16be_bom_csv,
    "cp1252_semicolon.csv": cp1252_semicolon_csv,
    "decimal_comma.csv": decimal_comma_csv,
    "latin1_only.csv": latin1_only_csv,
    "tab.tsv": tab_tsv,
    "pipe.txt": pipe_txt,
    "semicolon.csv": semicolon_csv,
    "quoted_newlines.csv": quoted_newlines_csv,
    "preamble_header_row3.csv": preamble_header_row3_csv,
    "no_header.csv": no_header_csv,
    "numeric_barcodes.xlsx": numeric_barcodes_xlsx,
    "upc_numbers.xlsx": upc_numbers_xlsx,
    "namespaced.xml": namespaced_xml,
    "billion_laughs.xml": billion_laughs_xml,
    "external_entity.xml": external_entity_xml,
    "record_path.json": record_path_json,
    "lines.jsonl": lines_jsonl,
    "stock.csv.gz": stock_csv_gz,
    "bundle.zip": bundle_zip,
    "zip_bomb.zip": zip_bomb_zip,
    "empty.csv": empty_csv,
    "bom_only.csv": bom_only_csv,
    "header_only.csv": header_only_csv,
    "missing_column.csv": missing_column_csv,
    "duplicate_skus.csv": duplicate_skus_csv,
    "row_problems.csv": row_problems_csv,
    "gtin_spellings.csv": gtin_spellings_csv,
    "unclosed_quote.csv": unclosed_quote_csv,
    "stray_quote.csv": stray_quote_csv,
    "one_line.csv.gz": one_line_csv_gz,
    "login_page.csv": login_page_csv,
    "utf16le_no_bom_cyrillic.csv": utf16le_no_bom_cyrillic_csv,
}


def build() -> dict[str, bytes]:
    """Every corpus file's bytes, by file name."""
    out = {name: make() for name, make in FILES.items()}
    for name, data in out.items():
        assert len(data) < MAX_BYTES, f"{name} is {len(data):,} bytes"
    return out


def differences(folder: Path = HERE) -> list[str]:
    """File names whose bytes in ``folder`` differ from what ``build()`` makes (or are
    missing), and corpus files there that the builder does not make."""
    built = build()
    wrong = [n for n, data in built.items() if not _same(_read(folder / n), data)]
    extra = [
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.name not in built and p.name not in NOT_CORPUS
    ]
    return sorted(wrong + extra)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _same(committed: bytes | None, built: bytes) -> bool:
    """Equal bytes; for archives equal content, since another zlib may compress the
    same input to other (equally valid) bytes."""
    if committed is None or committed == built:
        return committed == built
    if committed[:2] == built[:2] == b"\x1f\x8b":
        return gzip.decompress(committed) == gzip.decompress(built)
    if committed[:4] == built[:4] == b"PK\x03\x04":
        return _entries(committed) == _entries(built)
    return False


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        diff = differences()
        for name in diff:
            print(f"differs: {name}")
        return 1 if diff else 0
    if argv[1:]:
        print(__doc__)
        return 2
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        print(f"{len(data):>7,}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
