"""A ranged read resumes an object where a reader stopped: the S3 adapter on moto and the
in-memory fake answer alike, so core code paged over the fake is paged the same on S3."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from fakes import FakeBlobStore
from moto import mock_aws

from feedsync.adapters.s3 import S3BlobStore
from feedsync.core.ports import BlobStore
from feedsync.errors import NotFound


@pytest.fixture(params=["s3", "fake"])
def blobs(request: pytest.FixtureRequest) -> Iterator[BlobStore]:
    if request.param == "fake":
        yield FakeBlobStore()
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="files")
        yield S3BlobStore("files", client)


def test_a_ranged_read_gives_the_bytes_from_its_start_and_the_objects_etag(
    blobs: BlobStore,
) -> None:
    # Given an object
    blobs.put_bytes("runs/t/r/changes.csv", b"header\nline 1\nline 2\n", "text/csv")
    _, whole_etag = blobs.open_read_tagged("runs/t/r/changes.csv")
    # When it is read from byte 7, and from the start
    tail, tail_etag = blobs.open_read_range("runs/t/r/changes.csv", 7)
    whole, start_etag = blobs.open_read_range("runs/t/r/changes.csv")
    # Then the first read is the rest of the object, the second all of it, each with the
    # ETag of the whole object (the one a reader compares to know it is the same version)
    assert tail.read() == b"line 1\nline 2\n"
    assert whole.read() == b"header\nline 1\nline 2\n"
    assert tail_etag == start_etag == whole_etag


def test_a_ranged_read_past_the_end_is_empty_and_tells_the_new_version(
    blobs: BlobStore,
) -> None:
    # Given a reader that stopped at byte 21 of an object since rewritten shorter
    blobs.put_bytes("k", b"header\nline 1\nline 2\n")
    _, old_etag = blobs.open_read_range("k", 21)
    blobs.put_bytes("k", b"header\n")
    # When it resumes at byte 21, and at the new end
    past, past_etag = blobs.open_read_range("k", 21)
    at_end, end_etag = blobs.open_read_range("k", 7)
    # Then both are empty, with the new version's ETag (not the one the reader held)
    assert past.read() == b"" and at_end.read() == b""
    assert past_etag == end_etag != old_etag


def test_a_ranged_read_of_a_missing_object_is_not_found(blobs: BlobStore) -> None:
    # Given no object at the key (a run file the bucket's lifecycle expired)
    # When it is read from any byte
    # Then the answer is NotFound, as every other read of the port says
    for start in (0, 10):
        with pytest.raises(NotFound):
            blobs.open_read_range("runs/t/r/changes.csv", start)
