"""Benchmark ``GET /runs/{id}/changes`` over a run of 1,000,000 changes.

    .venv/bin/python bench/bench_changes.py [--lines 1000000] [--limit 1000]

Starts the local stack (moto's S3 and DynamoDB, from template.yaml) in this process,
writes a changes file of ``--lines`` lines with ``domain/changes.encode`` (prices, stock
and names over half as many feed rows, statuses mixed; the last 10 keys alone contain
``TAIL``) to its S3 and the run's record to its table. The API function then runs in a
child process of its own, as a Lambda execution environment would (so its peak RSS is the
API's, not moto's copy of the file), and is called with API Gateway proxy events as the
local stack's apiserver builds them:

- every page at ``limit=1000`` from the first to the last, following ``next`` (pages/s,
  total seconds; every change answered once, in order);
- one filtered page over the whole file (``q=tail``: only the last lines match);
- the whole file as CSV (``format=csv``: over 5 MiB, so spooled to S3 and a 302).

Target: the API process's peak RSS stays under 256 MB (PASS/FAIL printed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for part in ("layers/common", "local", ".", "functions/api"):
    sys.path.insert(0, str(ROOT / part))

RSS_TARGET_MB = 256
TENANT = "tenant-bench"
RUN_ID = "run_bench"
TAIL = 10


def rss_mb() -> float:
    """This process's peak RSS. On Linux VmHWM, of this program's memory alone: ru_maxrss
    keeps the parent's peak across fork and exec (here the stack's, with moto's S3)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            hwm = next(line for line in status if line.startswith("VmHWM:"))
        return int(hwm.split()[1]) / 1024
    except (OSError, StopIteration):
        # ru_maxrss is KiB on Linux, bytes on macOS.
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


# ------------------------------------------------------------------ the stack's side
def write_changes(path: Path, lines: int) -> None:
    from feedsync.domain.changes import CHANGES_HEADER, ChangeLine, encode

    statuses = ("pending", "updated", "updated", "failed", "stale", "skipped")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CHANGES_HEADER)
        for i in range(lines):
            row = 2 + i // 2
            key = f"TAIL-{row:07d}" if i >= lines - TAIL else f"SKU-{row:07d}"
            status = statuses[i % len(statuses)]
            error = "the store refused the value: 422 Unprocessable" if status == "failed" else ""
            if i % 10 == 9:
                line = ChangeLine(row, key, row, 10 * row, "name", f"Wool jumper {row}",
                                  f"Wool blend jumper, size {row % 7}", status, error)  # fmt: skip
            elif i % 2:
                line = ChangeLine(row, key, row, 10 * row, "stock", i % 40, 5, status, error)
            else:
                line = ChangeLine(row, key, row, 10 * row, "price", 1200 + i % 300, 1350,
                                  status, error)  # fmt: skip
            writer.writerow(encode(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--api-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.api_child:
        api_child(args.lines, args.limit)
        return

    from feedsync.core import keys
    from feedsync.models import Run
    from feedsync.wiring import deps
    from feedsync_local.stack import LocalStack

    with LocalStack(), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "changes.csv"
        t = time.perf_counter()
        write_changes(path, args.lines)
        size = path.stat().st_size
        d = deps()
        key = keys.changes_key(TENANT, RUN_ID)
        d.blobs.upload_file(str(path), key, "text/csv")
        run = Run(
            tenant_id=TENANT, run_id=RUN_ID, profile_id="p1", store_id="s1", trigger="manual",
            mode="partial", status="succeeded", changes_key=key, created_at=d.clock(),
        )  # fmt: skip
        d.repo.put_run(run)
        print(f"changes benchmark: {args.lines:,} changes, {size / 1e6:.0f} MB, written to "
              f"moto S3 in {time.perf_counter() - t:.1f} s")  # fmt: skip
        paths = ["layers/common", "local", ".", "functions/api"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        cmd = [sys.executable, __file__, "--api-child", "--lines", str(args.lines),
               "--limit", str(args.limit)]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"the API process failed:\n{done.stderr[-4000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    report(figures, args.lines, args.limit)


def report(f: dict[str, Any], lines: int, limit: int) -> None:
    peak = f["peak_rss_mb"]
    verdict = "PASS" if peak < RSS_TARGET_MB else "FAIL"
    print(f"  paging, limit={limit:<5}      {f['pages']:,} pages in {f['paging_s']:.1f} s = "
          f"{f['pages'] / f['paging_s']:.1f} pages/s ({lines / f['paging_s']:,.0f} changes/s); "
          f"slowest page {f['slowest_page_ms']:.0f} ms; every change once, in order")  # fmt: skip
    per_page = 1000 * f["paging_cpu_s"] / f["pages"]
    print(f"    the API process's CPU  {f['paging_cpu_s']:.1f} s = {per_page:.1f} ms a page "
          "(the rest is moto: it reads the whole object for each ranged GET and sends all "
          "that follows; S3 does not)")  # fmt: skip
    print(f"  filtered page (q=tail)   {f['filtered_s']:.2f} s over the whole file, "
          f"{f['filtered_found']} changes, next: {f['filtered_next']}")  # fmt: skip
    print(f"  whole CSV (format=csv)   {f['csv_s']:.1f} s, answered {f['csv_status']} "
          f"(spooled to S3: {f['csv_mb']:.0f} MB)")  # fmt: skip
    print(f"  API process RSS          {f['base_rss_mb']:.0f} MB after import, peak "
          f"{peak:.0f} MB (target < {RSS_TARGET_MB} MB: {verdict})")  # fmt: skip


# ------------------------------------------------------------ the API function's side
def _event(query: dict[str, str]) -> dict[str, Any]:
    """A proxy event as ``feedsync_local.apiserver`` builds it for an authorized GET."""
    path = f"/runs/{RUN_ID}/changes"
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": "GET",
        "headers": {"Accept": "*/*"}, "multiValueHeaders": {"Accept": ["*/*"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}", "httpMethod": "GET", "path": f"/v1{path}",
            "stage": "v1", "requestId": "bench", "accountId": "123456789012", "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {
                "tenant_id": TENANT,
                "role": "owner",
                "actor": "key:default",
                "actor_kind": "key",
                "actor_id": "key-1",
                "principalId": "key-1",
            },
        },
        "body": None, "isBase64Encoded": False,
    }  # fmt: skip


def api_child(lines: int, limit: int) -> None:
    from types import SimpleNamespace

    from functions.api import app

    # What Powertools reads of the Lambda context (not feedsync_local's: it imports moto).
    context = SimpleNamespace(
        function_name="ApiFunction", memory_limit_in_mb=256, aws_request_id="bench",
        invoked_function_arn="arn:aws:lambda:local:0:function:ApiFunction",
    )  # fmt: skip
    base = rss_mb()

    def get(query: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = app.lambda_handler(_event(query), context)  # type: ignore[arg-type]
        return result

    pages, seen, last_row, slowest = 0, 0, 0, 0.0
    cursor: str | None = None
    t, cpu = time.perf_counter(), time.process_time()
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        result = get(query)
        slowest = max(slowest, time.perf_counter() - started)
        assert result["statusCode"] == 200, result
        body = json.loads(result["body"])
        rows = [c["row"] for c in body["changes"]]
        assert rows == sorted(rows) and (not rows or rows[0] >= last_row), "out of order"
        last_row = rows[-1] if rows else last_row
        seen, pages, cursor = seen + len(rows), pages + 1, body["next"]
        if cursor is None:
            break
    paging_s, paging_cpu_s = time.perf_counter() - t, time.process_time() - cpu
    assert seen == lines, f"answered {seen:,} of {lines:,} changes"

    t = time.perf_counter()
    filtered = json.loads(get({"q": "tail", "limit": str(limit)})["body"])
    filtered_s = time.perf_counter() - t
    assert len(filtered["changes"]) == min(TAIL, lines), filtered

    t = time.perf_counter()
    whole = get({"format": "csv"})
    csv_s = time.perf_counter() - t
    from urllib.parse import unquote, urlsplit

    from feedsync.wiring import deps

    blobs = deps().blobs
    headers = whole.get("multiValueHeaders") or {}
    location = (headers.get("Location") or [""])[0]
    # moto's presigned URLs are path-style: /<bucket>/<key>
    export = unquote(urlsplit(location).path).removeprefix(f"/{blobs.bucket}/")
    exported = blobs.head(export) if location else None
    figures = {
        "pages": pages, "paging_s": paging_s, "slowest_page_ms": slowest * 1000,
        "paging_cpu_s": paging_cpu_s,
        "filtered_s": filtered_s, "filtered_found": len(filtered["changes"]),
        "filtered_next": filtered["next"], "csv_s": csv_s, "csv_status": whole["statusCode"],
        "csv_mb": exported["size"] / 1e6 if exported else 0.0,
        "base_rss_mb": base, "peak_rss_mb": rss_mb(),
    }  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
