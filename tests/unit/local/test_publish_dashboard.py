"""scripts/publish_dashboard.py puts a build into the dashboard's bucket as CloudFront must
serve it: each file with its content type, the page never cached stale, old files gone."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from scripts.publish_dashboard import ASSET_CACHE, PAGE_CACHE, publish


def build(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>feedsync</title>", encoding="utf-8")
    (root / "assets" / "app.js").write_text("console.log(1)", encoding="utf-8")
    (root / "assets" / "styles.css").write_text("body{}", encoding="utf-8")
    return root


def test_a_build_is_uploaded_with_its_types_and_the_old_files_removed(tmp_path: Path) -> None:
    with mock_aws():
        # Given the dashboard's bucket holding a file from an older build
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="dash")
        s3.put_object(Bucket="dash", Key="assets/old.js", Body=b"old")

        # When a new build is published
        uploaded = publish(build(tmp_path / "dist"), "dash", s3)

        # Then the bucket holds exactly the build, each file typed for the browser
        assert uploaded == ["assets/app.js", "assets/styles.css", "index.html"]
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="dash")["Contents"]]
        assert sorted(listed) == uploaded
        page = s3.head_object(Bucket="dash", Key="index.html")
        assert page["ContentType"] == "text/html; charset=utf-8"
        assert page["CacheControl"] == PAGE_CACHE
        script = s3.head_object(Bucket="dash", Key="assets/app.js")
        assert script["ContentType"] == "text/javascript; charset=utf-8"
        assert script["CacheControl"] == ASSET_CACHE
        assert s3.head_object(Bucket="dash", Key="assets/styles.css")["ContentType"].startswith(
            "text/css"
        )


def test_a_missing_build_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    with mock_aws():
        # Given a bucket with a published page and no build on disk
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="dash")
        s3.put_object(Bucket="dash", Key="index.html", Body=b"page")

        # When publishing is asked, it stops with the command to build, and keeps the page
        with pytest.raises(SystemExit, match="make dashboard"):
            publish(tmp_path / "nothing", "dash", s3)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="dash")["Contents"]] == ["index.html"]
