"""Benchmark the source side: fetch a big supplier file over HTTP, then parse it.

    .venv/bin/python bench/bench_sources.py [--rows N] [--xlsx-rows M]

Generates a seeded CSV (1,000,000 rows, about 100 MB) and XLSX (100,000 rows, numeric
barcodes and prices) under bench/data/ (reused when present) and serves bench/data on
loopback from a real nginx when /usr/sbin/nginx exists, else from Python's
ThreadingHTTPServer. Each step runs in its own child process, so its peak RSS is its
own (interpreter and imports included; the baseline is printed): a bare ``csv.reader``
pass over the local CSV (the floor), the HTTP fetch with ``HttpSourceFetcher``, the
parse (``open_feed`` + every row) of the downloaded file, and fetch + parse in one
process; then the same for the XLSX, with a bare openpyxl read as its reference.
Targets: peak RSS <= 512 MB per step, CSV parse <= 2.0x the csv.reader floor.

The ratio is measured in pairs: floor, then parse, each in a fresh child, ``--pairs``
times; the figure is the median of the pairs' ratios. On a shared VM the speed of the
whole machine drifts by 30% within a minute, so a floor and a parse measured minutes
apart (or each at its luckiest) compare two different machines; a pair runs back to
back on one. Where valgrind is installed, the same ratio is also counted in CPU
instructions on the first 100,000 rows (callgrind; start-up and imports are taken
out by counting a one-row file too): a figure no neighbour on the host can move.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

DATA = Path(__file__).resolve().parent / "data"
SEED = 20240601
NGINX = "/usr/sbin/nginx"
MAPPING = {"sku": "SKU", "barcode": "UPC", "price": "Price", "stock": "Qty"}
HEADER = ["SKU", "UPC", "Description", "Price", "Qty", "Brand"]
RSS_TARGET_MB = 512
RATIO_TARGET = 2.0

BRANDS = (
    "Acme Outdoor", "Northwind", "Bluebird Co", "Fjordline", "Harbor & Hale", "Kestrel",
    "Lumen Works", "Maple Street", "Oakridge", "Pinecrest", "Quayside", "Redwood Supply",
    "Summit Gear", "Tidewater", "Umber & Ash", "Vantage", "Westfield", "Yellowstone Trading",
)  # fmt: skip
ADJECTIVES = (
    "Classic", "Lightweight", "Premium", "Everyday", "Waterproof", "Insulated", "Slim-fit",
    "Relaxed", "Organic", "Recycled", "Heavy-duty", "Packable", "Stretch", "Vintage",
)  # fmt: skip
MATERIALS = (
    "cotton", "merino wool", "nylon", "polyester", "canvas", "leather", "linen", "fleece",
    "bamboo", "denim", "ripstop", "stainless steel",
)  # fmt: skip
NOUNS = (
    "crew-neck T-shirt", "hooded jacket", "trail shorts", "rain shell", "daypack 20L",
    "beanie", "hiking socks (2-pack)", "insulated bottle 750ml", "chino trousers",
    "zip fleece", "tote bag", "quarter-zip pullover", "running tights", "belt",
)  # fmt: skip
COLOURS = ("Red", "Blue", "Green", "Black", "White", "Navy", "Olive", "Charcoal", "Sand")
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "One Size")


# -- data ----------------------------------------------------------------------------------


def _items(rows: int, seed: int) -> Iterator[tuple[str, int, str, int, int | str, str]]:
    """(sku, upc, description, price in cents, qty, brand); ~0.1% of qty cells unreadable."""
    rng = random.Random(seed)
    choice, randrange, rand = rng.choice, rng.randrange, rng.random
    for i in range(rows):
        b = randrange(len(BRANDS))
        size = choice(SIZES)
        sku = f"{BRANDS[b][:3].upper()}-{i:07d}-{size.replace(' ', '')}"
        upc = randrange(10**10, 10**12)  # GTIN-12; those below 10**11 have a leading zero
        desc = f"{choice(ADJECTIVES)} {choice(MATERIALS)} {choice(NOUNS)}, {choice(COLOURS)}"
        desc += f", size {size}"
        qty: int | str = randrange(0, 500) if rand() >= 0.001 else "n/a"
        yield sku, upc, desc, randrange(99, 49_999), qty, BRANDS[b]


def write_csv(path: Path, rows: int, seed: int) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for sku, upc, desc, cents, qty, brand in _items(rows, seed):
            w.writerow([sku, f"{upc:012d}", desc, f"{cents // 100}.{cents % 100:02d}", qty, brand])
    tmp.replace(path)


def write_xlsx(path: Path, rows: int, seed: int) -> None:
    """openpyxl write-only: numeric barcodes (GTIN format, leading zeros kept), float prices."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Products")
    ws.append(HEADER)
    for sku, upc, desc, cents, qty, brand in _items(rows, seed):
        code = WriteOnlyCell(ws, value=upc)
        code.number_format = "000000000000"
        ws.append([sku, code, desc, cents / 100, qty, brand])
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.replace(path)


def warm(path: Path) -> None:
    """Read a file once so no measured step pays for a cold page cache."""
    with path.open("rb") as fh:
        while fh.read(1 << 20):
            pass


# -- the HTTP server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise SystemExit(f"nginx exited with {proc.returncode}: {out}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the HTTP server did not listen on port {port}")


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, str]]:
    """(base URL, server name) for ``root`` on loopback, until the block ends."""
    port = free_port()
    if os.path.exists(NGINX):
        base = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        # As root, nginx's workers would drop to "nobody", who may not read bench/data.
        user = "user root;" if os.geteuid() == 0 else ""
        temps = "\n".join(
            f"  {k}_temp_path {base}/{k};"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = base / "nginx.conf"
        conf.write_text(
            f"""{user}
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  sendfile on;
  default_type application/octet-stream;
{temps}
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
"""
        )
        proc = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", str(base), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, proc)
            version = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
            yield f"http://127.0.0.1:{port}", version.strip().replace("nginx version: ", "")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(base, ignore_errors=True)
    else:

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(Quiet, directory=str(root))
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}", "Python ThreadingHTTPServer"
        finally:
            server.shutdown()
            server.server_close()


# -- the measured steps (each in a child process) -----------------------------------------


def rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one step; imports happen before the clock starts (a warm Lambda has them)."""
    step = spec["step"]
    if step in ("fetch", "fetch+parse"):
        from feedsync.adapters.http_source import HttpSourceFetcher
    if step in ("parse", "fetch+parse"):
        from feedsync.errors import FeedFormatError
        from feedsync.formats import open_feed
    if step == "xlsx floor":
        import openpyxl
    base_rss = rss_mb()
    out: dict[str, Any] = {}
    dest = tempfile.mkdtemp(dir=spec["dest"]) if "dest" in spec else ""
    t = time.perf_counter()

    if step == "csv floor":
        n = 0
        with open(spec["path"], encoding="utf-8-sig", newline="") as fh:
            for _ in csv.reader(fh):
                n += 1
        out["rows"] = n - 1
    elif step == "xlsx floor":
        wb = openpyxl.load_workbook(spec["path"], read_only=True)
        n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        out["rows"] = n - 1
    if step in ("fetch", "fetch+parse"):
        got = HttpSourceFetcher(allow_private=True).fetch_url(spec["url"], dest)
        out.update(size=got.size, path=got.path, file_name=got.file_name)
        out["t_fetch"] = time.perf_counter() - t
    if step in ("parse", "fetch+parse"):
        path = out.get("path", spec.get("path"))
        name = out.get("file_name", spec.get("file_name"))
        try:
            feed, info = open_feed(path, name, {}, MAPPING, work_dir=dest)
        except FeedFormatError as exc:
            # The fetcher saves to ".../download" (the pipeline to ".../source"), and
            # openpyxl refuses a path without an .xlsx suffix. Measure on a suffixed hard
            # link, and say so in the report, until the reader opens the file itself.
            if "does not support" not in str(exc):
                raise
            alias = os.path.join(dest, "download.xlsx")
            os.link(path, alias)
            out["suffix_workaround"] = str(exc)
            feed, info = open_feed(alias, name, {}, MAPPING, work_dir=dest)
        n = 0
        with feed:
            for _ in feed:
                n += 1
        out.update(rows=n, rows_read=feed.rows_read, errors=len(feed.row_errors))
        out["type"] = info["type"]

    out.update(wall=time.perf_counter() - t, rss=rss_mb(), base_rss=base_rss)
    if step != "fetch" and dest:  # a fetch's download is kept for the parse step
        shutil.rmtree(dest)
    return out


def run_child(spec: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    proc = subprocess.run(
        [*prefix, sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(f"step {spec['step']!r} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    result["stderr"] = proc.stderr
    return result


def measure(repeat: int = 1, **spec: Any) -> dict[str, Any]:
    """The step in a fresh child ``repeat`` times: the fastest run, the highest peak RSS."""
    runs = [run_child(spec) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall"])
    return {**best, "rss": max(r["rss"] for r in runs), "runs": runs}


def measure_pairs(
    pairs: int, floor_spec: dict[str, Any], parse_spec: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[float]]:
    """Floor then parse, back to back, ``pairs`` times: (floor, parse, each pair's ratio).

    The floor and parse results carry the median wall time and the highest peak RSS."""
    floors: list[dict[str, Any]] = []
    parses: list[dict[str, Any]] = []
    for _ in range(pairs):
        floors.append(run_child(floor_spec))
        parses.append(run_child(parse_spec))
    ratios = [p["wall"] / f["wall"] for f, p in zip(floors, parses, strict=True)]

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        middle = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        return {**middle, "rss": max(r["rss"] for r in runs), "runs": runs}

    return summary(floors), summary(parses), ratios


def instructions(spec: dict[str, Any]) -> int:
    """CPU instructions the child executes, start-up included (valgrind's callgrind)."""
    out = run_child(spec, ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"))
    for text in out["stderr"].splitlines():
        if "Collected :" in text:
            return int(text.rsplit(":", 1)[1])
    raise SystemExit(f"callgrind printed no instruction count:\n{out['stderr']}")


def instruction_ratio(path: Path, work: Path, rows: int = 100_000) -> tuple[int, float] | None:
    """parse / floor in instructions over the first ``rows`` rows; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    lines: list[bytes] = []
    with path.open("rb") as fh:
        for _ in range(rows + 1):
            if not (text := fh.readline()):
                break
            lines.append(text)
    counted: dict[str, int] = {}
    for label, keep in (("n", lines), ("1", lines[:2])):
        sample = work / f"sample_{label}.csv"
        sample.write_bytes(b"".join(keep))
        counted["floor" + label] = instructions({"step": "csv floor", "path": str(sample)})
        counted["parse" + label] = instructions(
            {"step": "parse", "path": str(sample), "file_name": "s.csv", "dest": str(work)}
        )
    floor = counted["floorn"] - counted["floor1"]
    parse = counted["parsen"] - counted["parse1"]
    return len(lines) - 1, parse / floor


# -- report --------------------------------------------------------------------------------


def line(label: str, r: dict[str, Any], rows: int, note: str = "") -> None:
    rate = f"{rows / r['wall']:>12,.0f}" if rows else f"{'':>12}"
    print(f"  {label:<22}{r['wall']:>7.2f}s {rate}  {r['rss']:>6.0f} MB  {note}".rstrip())


def bench_file(kind: str, path: Path, url: str, work: Path, repeat: int) -> dict[str, float]:
    """``repeat`` runs per step; for CSV, ``repeat`` floor/parse pairs (see the docstring)."""
    size_mb = path.stat().st_size / 1e6
    dest = work / kind
    dest.mkdir()
    fetch = measure(repeat, step="fetch", url=url, dest=str(dest))
    for run in fetch["runs"][1:]:  # keep one download for the parse runs
        shutil.rmtree(os.path.dirname(run["path"]))
    download = fetch["runs"][0]["path"]
    floor_spec = {"step": f"{kind} floor", "path": str(path)}
    parse_spec = {
        "step": "parse", "path": download, "file_name": fetch["file_name"], "dest": str(dest)
    }  # fmt: skip
    if kind == "csv":
        floor, parse, ratios = measure_pairs(repeat, floor_spec, parse_spec)
        ratio = statistics.median(ratios)
        counted = instruction_ratio(path, dest)
    else:
        floor, parse = measure(repeat, **floor_spec), measure(repeat, **parse_spec)
        ratio, ratios, counted = parse["wall"] / floor["wall"], [], None
    both = measure(repeat, step="fetch+parse", url=url, dest=str(dest))
    shutil.rmtree(dest)
    assert fetch["size"] == path.stat().st_size, "the download is not the file served"

    rows = parse["rows_read"]
    print(f"{kind.upper()}  {path.name}: {size_mb:.1f} MB, {rows:,} rows")
    print(
        f"  detected type {parse['type']}: {parse['rows']:,} rows parsed, "
        f"{parse['errors']:,} row errors"
    )
    if parse.get("suffix_workaround"):
        print("  NOTE: open_feed on the fetched file (no .xlsx suffix) failed:")
        print(f"    {parse['suffix_workaround']}")
        print("    measured on a hard link named download.xlsx instead")
    if kind == "csv":
        best = f"floor and parse: median of {repeat} pairs; others best of {repeat}"
    else:
        best = f"best of {repeat}" if repeat > 1 else "one run"
    print(f"  {'step':<22}{'wall':>8} {'rows/s':>12}  {'peak RSS':>9}  ({best})")
    floor_name = "csv.reader floor" if kind == "csv" else "openpyxl floor"
    line(floor_name, floor, floor["rows"], "(values only)" if kind == "xlsx" else "")
    line("fetch (HTTP)", fetch, 0, f"{size_mb / fetch['wall']:,.0f} MB/s")
    line("parse (open_feed)", parse, rows)
    line("fetch + parse", both, rows, f"(fetch {both['t_fetch']:.2f}s)")
    peak = max(r["rss"] for r in (floor, fetch, parse, both))
    ok_rss = "ok" if peak <= RSS_TARGET_MB else "OVER"
    print(f"  parse / floor          {ratio:.2f}x", end="")
    if kind == "csv":
        print(f"  (target <= {RATIO_TARGET}: {'ok' if ratio <= RATIO_TARGET else 'OVER'})")
        print(f"    each pair            {', '.join(f'{r:.2f}' for r in ratios)}")
        if counted is None:
            print("  in instructions        (valgrind not installed)")
        else:
            rows_counted, by_instructions = counted
            print(
                f"  in instructions        {by_instructions:.2f}x  "
                f"(callgrind, first {rows_counted:,} rows)"
            )
    else:
        print("  (reference only)")
    print(f"  fetch+parse / floor    {both['wall'] / floor['wall']:.2f}x")
    print(f"  peak RSS, worst step   {peak:.0f} MB  (target <= {RSS_TARGET_MB}: {ok_rss})")
    base = max(r["base_rss"] for r in (fetch, parse, both))
    print(f"  RSS after imports      {base:.0f} MB  (included in the peaks)")
    print()
    return {"ratio": ratio, "peak": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="CSV rows")
    ap.add_argument("--xlsx-rows", type=int, default=100_000, help="XLSX rows")
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="CSV floor/parse pairs, and runs per other step, best time kept (default 5)",
    )
    ap.add_argument("--xlsx-repeat", type=int, default=1, help="XLSX runs per step (default 1)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    started = time.perf_counter()
    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"sources_{args.rows}_{SEED}.csv"
    xlsx_path = DATA / f"sources_{args.xlsx_rows}_{SEED}.xlsx"
    for path, write, n in (
        (csv_path, write_csv, args.rows),
        (xlsx_path, write_xlsx, args.xlsx_rows),
    ):
        if not path.exists():
            t = time.perf_counter()
            write(path, n, SEED)
            print(f"generated {path.name} in {time.perf_counter() - t:.1f}s")
        warm(path)

    work = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    try:
        with serve(DATA) as (base_url, server):
            print(f"server                  {server} on {base_url}")
            print()
            bench_file("csv", csv_path, f"{base_url}/{csv_path.name}", work, args.repeat)
            bench_file("xlsx", xlsx_path, f"{base_url}/{xlsx_path.name}", work, args.xlsx_repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"total                   {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
