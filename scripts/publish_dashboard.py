"""Publish the built dashboard (dashboard/dist) to a deployed stack: `make deploy` runs it
after `sam deploy`.

    .venv/bin/python scripts/publish_dashboard.py [--stack-name feedsync] [--dist dashboard/dist]

Reads the stack's outputs (DashboardBucketName, DashboardDistributionId, DashboardUrl),
uploads every file with its content type (the page revalidated on every load, the assets
cached by CloudFront), deletes what the new build no longer has, and invalidates /assets/*
so the new script and stylesheet show at once. Prints the dashboard's URL.
"""

from __future__ import annotations

import argparse
import mimetypes
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
}
PAGE_CACHE = "no-cache"  # index.html names the assets: always the newest
ASSET_CACHE = "no-cache"  # names are not hashed: a browser asks again (304) after a publish


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def content_type(path: Path) -> str:
    return (
        CONTENT_TYPES.get(path.suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


def publish(dist: Path, bucket: str, s3: Any) -> list[str]:
    """Upload every file of ``dist`` (keys relative to it) and delete the bucket's others;
    returns the keys uploaded."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html is missing: run `make dashboard` first")
    uploaded = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(path),
            CacheControl=PAGE_CACHE if key == "index.html" else ASSET_CACHE,
        )
        uploaded.append(key)
    keep = set(uploaded)
    stale = [
        {"Key": obj["Key"]}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["Key"] not in keep
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[start : start + 1000]})
    return uploaded


def invalidate_assets(cloudfront: Any, distribution_id: str) -> str:
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/assets/*"]},
            "CallerReference": f"publish-{time.time_ns()}",
        },
    )
    return str(answer["Invalidation"]["Id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", default="feedsync")
    parser.add_argument("--dist", type=Path, default=ROOT / "dashboard" / "dist")
    args = parser.parse_args()
    outputs = stack_outputs(boto3.client("cloudformation"), args.stack_name)
    uploaded = publish(args.dist, outputs["DashboardBucketName"], boto3.client("s3"))
    invalidation = invalidate_assets(boto3.client("cloudfront"), outputs["DashboardDistributionId"])
    print(f"published {len(uploaded)} files to s3://{outputs['DashboardBucketName']}/")
    print(f"invalidated /assets/* ({invalidation})")
    print(f"dashboard        {outputs['DashboardUrl']}")


if __name__ == "__main__":
    main()
