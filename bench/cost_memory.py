"""The memory of the steps whose peak grows with the file, each measured alone.

    .venv/bin/python bench/cost_memory.py [--rows 200000,2000000] [--formats csv,xlsx,json,...]
                                          [--catalog 200000,2000000] [--state FILE]

The cost model's traced runs go through the whole local stack, where tracing one step
slows the doubles and moto beside it, and they read CSV only. This measures what the
parse step does with a supplier file of each format it reads (``open_feed`` with the
default rules, ``write_rows`` to local disk, as ``core/steps/parse.py`` does before the
upload) and what the catalog import holds (``CatalogIndex.from_store`` over the variants
as a full read yields them, then ``dump``, as ``save_catalog`` writes it), each case in a
fresh Python process: once under ``tracemalloc`` (the peak of Python allocations above the
imports, as the model's memory table counts it) and once untraced (the process's peak
RSS, ``VmHWM``: what Lambda reports as "Max Memory Used", imports included, and the
seconds on this machine). The files are made first, by this process, untraced.

With ``--state`` (the cost model's state file) the results are kept there, and
``cost_model.py`` takes them into its memory table: a function's peak is the larger of
its traced runs' and of these.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
FORMATS = ("csv", "jsonl", "json", "xml", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, the header one of them
MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty"}
READ_AS = {  # the profile's format settings for each file
    "csv": {"type": "csv"},
    "jsonl": {"type": "jsonl"},
    "json": {"type": "json", "record_path": "products"},
    "xml": {"type": "xml", "record_path": "catalog/item"},
    "xlsx": {"type": "xlsx"},
}


@dataclass(frozen=True)
class Alone:
    """One case measured alone: what the model's memory table takes."""

    function: str  # the Lambda function whose step it is
    case: str  # "CSV", "XLSX", ..., "catalog index"
    rows: int
    file_mb: float
    peak_mb: float  # traced Python allocations above the imports
    rss_peak_mb: float  # untraced process's VmHWM, imports included
    seconds: float  # untraced, on this machine

    @property
    def label(self) -> str:
        if self.function == "CatalogImportFunction":
            return f"catalog of {self.rows:,} variants, measured alone"
        return f"{self.case} file of {self.rows:,} rows, measured alone"


# --------------------------------------------------------------------- the supplier files
def _values(rows: int) -> Iterator[tuple[str, str, int]]:
    """The cost scenario's rows: SKU, a price, a stock level."""
    for i in range(rows):
        yield f"RV-{i:07d}", f"{11 + i % 4}.{i % 100:02d}", 25 + i % 40


def write_file(fmt: str, rows: int, path: Path, name_chars: int = 0) -> None:
    """A supplier file of ``rows`` rows in ``fmt`` (JSON: with a ``Name`` of ``name_chars``
    characters when that is not 0, to fill the format's cap)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            out.write("SKU,Price,Qty\n")
            out.writelines(f"{s},{p},{q}\n" for s, p, q in _values(rows))
        elif fmt == "jsonl":
            out.writelines(
                f'{{"SKU": "{s}", "Price": {p}, "Qty": {q}}}\n' for s, p, q in _values(rows)
            )
        elif fmt == "json":
            out.write('{"products": [\n')
            name = f', "Name": "{"n" * name_chars}"' if name_chars else ""
            out.write(
                ",\n".join(
                    f'{{"SKU": "{s}", "Price": {p}, "Qty": {q}{name}}}' for s, p, q in _values(rows)
                )
            )
            out.write("\n]}\n")
        elif fmt == "xml":
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n<catalog>\n')
            out.writelines(
                f"<item><SKU>{s}</SKU><Price>{p}</Price><Qty>{q}</Qty></item>\n"
                for s, p, q in _values(rows)
            )
            out.write("</catalog>\n")
    if fmt == "xlsx":  # as a spreadsheet program writes it: shared strings, numbers as numbers
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Products")
        sheet.append(["SKU", "Price", "Qty"])
        for s, p, q in _values(rows):
            sheet.append([s, float(p), q])
        book.save(path)


# ---------------------------------------------------------------------------- the cases
def _parse_case(fmt: str, path: Path, work: Path) -> Callable[[], int]:
    """The parse step's reading and writing of one file (without the S3 transfers)."""
    from dataclasses import replace

    from feedsync.core.rowfile import write_rows
    from feedsync.domain.rules import compile_rules
    from feedsync.formats import open_feed
    from feedsync.models.rules import Rules

    def run() -> int:
        feed, _info = open_feed(str(path), path.name, READ_AS[fmt], MAPPING, work_dir=str(work))
        with feed:
            feed.use_constants({})
            feed.use_key_transform(None)
            rules = compile_rules(Rules().spec())
            feed.use_rules(replace(rules, validate_barcodes=False, match_barcodes=False))
            with (work / "rows.csv").open("w", encoding="utf-8", newline="") as out:
                write_rows(out, feed)
            feed.require_rows()
        return feed.rows_read

    return run


def _catalog_case(rows: int, work: Path) -> Callable[[], int]:
    """The catalog import's index: every variant a full read yields (four per product, as
    the Shopify double seeds them), then the index file."""
    from feedsync.domain.catalog import CatalogIndex

    def variants() -> Iterator[Any]:
        for i in range(rows):
            pid = i // 4 + 1
            yield (pid, 10_000_000 + i, f"RV-{i:07d}", None, 1999, None, None, None, 25,
                   f"Item {pid}", "2026-12-01T00:00:00Z", str(40_000_000 + i), None, None,
                   None, None, True)  # fmt: skip

    def run() -> int:
        index = CatalogIndex.from_store(variants())
        with (work / "index.csv").open("w", encoding="utf-8", newline="") as out:
            index.dump(out)
        return len(index)

    return run


def _status_mb(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"{field}:\s+(\d+)", text)
    return int(found.group(1)) / 1024 if found else 0.0


def child(case: str, path: str, traced: bool) -> dict[str, float]:
    """One case in this (fresh) process, its function's handler imported first (as a
    Lambda environment holds it): its peaks and seconds."""
    import importlib.util

    kind, _, arg = case.partition(":")
    app = ROOT / "functions" / ("catalog_import" if kind == "catalog" else "parse") / "app.py"
    spec = importlib.util.spec_from_file_location("app", app)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    work = Path(tempfile.mkdtemp(dir=Path(path).parent))
    run = _catalog_case(int(arg), work) if kind == "catalog" else _parse_case(arg, Path(path), work)
    imported = _status_mb("VmRSS")
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - base if traced else 0
    return {"peak_mb": peak / MB, "imported_mb": imported, "rss_peak_mb": _status_mb("VmHWM"),
            "seconds": seconds, "rows": rows}  # fmt: skip


def _in_child(case: str, path: Path, traced: bool) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT / 'local'}:{ROOT}"}
    argv = [sys.executable, __file__, "--child", case, "--path", str(path)]
    out = subprocess.run(argv + (["--traced"] if traced else []), env=env, check=True,
                         capture_output=True, text=True, timeout=3600)  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(function: str, case: str, label: str, rows: int, path: Path) -> Alone:
    traced = _in_child(case, path, traced=True)
    plain = _in_child(case, path, traced=False)
    if traced["rows"] != rows or plain["rows"] != rows:  # a file misread measures nothing
        raise RuntimeError(f"{case}: {rows:,} rows made, {plain['rows']:,} read")
    size = path.stat().st_size / MB if path.exists() else 0.0
    return Alone(function, label, rows, size, traced["peak_mb"], plain["rss_peak_mb"],
                 plain["seconds"])  # fmt: skip


def keep_in_state(state: Path, alone: list[Alone]) -> None:
    """The cost model's state with these results (as dicts: ``alone_of`` reads them back)
    in place of earlier ones of the same case and size."""
    measured, traced, *rest = pickle.loads(state.read_bytes()) if state.exists() else ([], [])
    baselines = rest[0] if rest else {}
    new = {(a.case, a.rows) for a in alone}
    kept = [a for a in (rest[1] if len(rest) > 1 else []) if (a["case"], a["rows"]) not in new]
    state.write_bytes(
        pickle.dumps((measured, traced, baselines, kept + [asdict(a) for a in alone]))
    )


def alone_of(kept: list[dict[str, Any]]) -> list[Alone]:
    return [Alone(**a) for a in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200000,2000000", help="supplier files' rows")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--catalog", default="200000,2000000", help="catalogs' variants")
    parser.add_argument(
        "--json-cap",
        action="store_true",
        help="also a JSON file of the largest --rows filling the format's cap (256 MiB)",
    )
    parser.add_argument("--state", type=Path, help="the cost model's state file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.traced)))
        return
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    formats = [f for f in args.formats.split(",") if f]
    if set(formats) - set(FORMATS):
        parser.error(f"formats are {', '.join(FORMATS)}")
    sizes = [int(n) for n in args.rows.split(",") if n]
    catalogs = [int(n) for n in args.catalog.split(",") if n]
    results: list[Alone] = []
    head = f"  {'case':<34} {'file MB':>8} {'peak MB':>8} {'RSS MB':>7} {'s':>6}"
    print("steps measured alone (traced peak above the imports; untraced peak RSS, seconds)")
    print(head)

    def kept(got: Alone) -> None:
        """One case's result: printed, and saved to --state at once (a long run that is
        stopped keeps what it measured)."""
        results.append(got)
        size = f"{got.file_mb:>8,.0f}" if got.file_mb else f"{'':>8}"
        print(f"  {got.label:<34} {size} {got.peak_mb:>8,.0f} {got.rss_peak_mb:>7,.0f} "
              f"{got.seconds:>6,.1f}")  # fmt: skip
        if args.state:
            keep_in_state(args.state, results)

    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            for rows in sorted({min(n, XLSX_MAX_ROWS) if fmt == "xlsx" else n for n in sizes}):
                path = Path(tmp) / f"feed-{rows}.{fmt}"
                write_file(fmt, rows, path)
                got = measure("ParseFunction", f"parse:{fmt}", fmt.upper(), rows, path)
                path.unlink()
                kept(got)
        if args.json_cap and "json" in formats:
            from feedsync.formats.structured import MAX_JSON_BYTES

            rows = max(sizes)
            record = len('{"SKU": "RV-0000000", "Price": 11.00, "Qty": 25, "Name": ""},\n')
            path = Path(tmp) / f"feed-{rows}-cap.json"
            write_file("json", rows, path, name_chars=int(MAX_JSON_BYTES * 0.98) // rows - record)
            got = measure("ParseFunction", "parse:json", "JSON (256 MiB)", rows, path)
            path.unlink()
            kept(got)
        for rows in catalogs:
            kept(measure("CatalogImportFunction", f"catalog:{rows}", "catalog index", rows,
                         Path(tmp) / "none"))  # fmt: skip
    print(json.dumps([asdict(a) for a in results]))


if __name__ == "__main__":
    main()
