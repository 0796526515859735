"""Benchmark a large file upload through the whole run on the local stack.

    .venv/bin/python bench/bench_upload.py [--rows 3000000]

Starts the local stack in-process (moto executing the real state machine, the
handlers, the sandbox store), creates a store of 20,000 variants and an upload
profile on a plan that takes the file, generates a supplier CSV of ``--rows`` rows
(3,000,000 rows is about 410 MB; 20,000 of them match the store, every 50th of
those with a new price),
PUTs it to the presigned S3 URL the API hands out, and waits for the run that
the upload starts. Prints the upload and run times, the phases' timestamps, the
run's counts and the process's peak RSS (one process holds moto's in-memory S3
with every copy of the file, so this is far above what one Lambda needs).
Target: the run succeeds and the counts add up.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "common"))

from feedsync.core import api  # noqa: E402
from feedsync.models import CreateStore, Plan, ProfileSettings, TenantSettings  # noqa: E402
from feedsync_local.environment import LocalEnvironment  # noqa: E402

STORE_VARIANTS = 20_000


def make_csv(path: Path, rows: int) -> int:
    rng = random.Random(3)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("SKU,UPC,Description,Price,Qty,Brand\n")
        for i in range(rows):
            known = i % 5 == 0 and i // 5 < STORE_VARIANTS
            sku = f"UP-{i // 5:07d}" if known else f"ZZ-{i:08d}"
            price = "12.00" if not known or (i // 5) % 50 else "13.50"
            out.write(
                f'{sku},{100_000_000_000 + i:012d},"Wool blend jumper, size {i % 7}, a '
                f'description long enough to look like a real supplier file",{price},'
                f"{rng.randrange(0, 40) if not known else 5},Acme Knitwear\n"
            )
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "big_feed.csv"
        t = time.perf_counter()
        size = make_csv(feed, args.rows)
        print(f"upload benchmark: {args.rows:,} rows, {size / 1e6:.0f} MB generated in "
              f"{time.perf_counter() - t:.1f} s")  # fmt: skip
        with LocalEnvironment(run_scheduler=False, quota=(10**6, 30.0)) as env:
            from feedsync.wiring import deps

            d = deps()
            store_hash, token = env.sandbox.create_store()
            env.sandbox.seed(
                store_hash,
                [
                    {"name": f"Jumper {i}", "type": "physical", "weight": 1,
                     "sku": f"UP-{i:07d}", "price": 12.0, "inventory_level": 5}
                    for i in range(STORE_VARIANTS)
                ],
            )  # fmt: skip
            tenant = env.tenant_id
            # A plan that takes the file (the default plan stops at 2,000,000 rows).
            d.repo.put_tenant_settings(
                TenantSettings(tenant_id=tenant, plan=Plan(max_rows=max(args.rows, 2_000_000)))
            )
            store = api.create_store(
                d,
                tenant,
                CreateStore.model_validate(
                    {"name": "Big", "platform": "bigcommerce",
                     "api_url": env.sandbox.api_url(store_hash),
                     "credentials": {"access_token": token}}
                ),
            )  # fmt: skip
            while (got := d.repo.get_store(tenant, store.store_id)) and got.status == "setting_up":
                time.sleep(0.05)
            assert got is not None and got.status == "ready", got
            profile = api.create_profile(
                d,
                tenant,
                ProfileSettings.model_validate(
                    {"name": "big upload", "store_id": store.store_id,
                     "source": {"type": "upload"},
                     "mapping": {"sku": "SKU", "barcode": "UPC", "price": "Price",
                                 "stock": "Qty"}}
                ),
            )  # fmt: skip
            grant = api.upload_url(d, tenant, profile.profile_id, feed.name)
            t = time.perf_counter()
            with feed.open("rb") as body:
                answer = requests.put(
                    grant["upload_url"],
                    data=body,
                    headers={"Content-Length": str(size)},
                    timeout=600,
                )
            upload_s = time.perf_counter() - t
            assert answer.status_code == 200, answer.text[:300]
            print(f"  upload (presigned PUT)  {upload_s:.1f} s  ({size / 1e6 / upload_s:.0f} MB/s)")
            t = time.perf_counter()
            while not (runs := d.repo.list_runs(tenant, profile.profile_id)):
                time.sleep(0.05)
            run_id = runs[0].run_id
            while (run := d.repo.get_run(tenant, run_id)) and run.status not in (
                "succeeded", "failed", "skipped",
            ):  # fmt: skip
                time.sleep(0.2)
            assert run is not None
            print(f"  run {run.run_id}: {run.status} in {time.perf_counter() - t:.1f} s"
                  + (f" ({run.error})" if run.error else ""))  # fmt: skip
            if run.started_at and run.finished_at:
                print(f"  started -> finished     "
                      f"{(run.finished_at - run.started_at).total_seconds():.1f} s")  # fmt: skip
            print(f"  counts                  {run.counts}")
            print(f"  source                  {run.source.get('file')} {run.source.get('size'):,} "
                  "bytes")  # fmt: skip
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  peak RSS (whole stack)  {peak:.0f} MB  (moto's in-memory S3 included)")
            ok = run.status == "succeeded" and run.counts.get("rows") == args.rows
            print(f"  result                  {'ok' if ok else 'NOT OK'}")
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
