"""The verdict on a probed source: unchanged only when the probe proves it is the last file."""

from __future__ import annotations

from typing import Any

import pytest

from feedsync.domain.source_state import CHANGED, UNCHANGED, UNKNOWN, ProbedSource, verdict

URL = "https://supplier.example/stock.csv"
FTP = "ftp://files.example/out/stock.csv"
LAST_URL = {"url": URL, "etag": '"v1"', "last_modified": "Mon, 02 Mar 2026 08:00:00 GMT"}
LAST_FTP = {"url": FTP, "size": 120, "mtime": 1_700_000_000, "sha256": "aa"}


@pytest.mark.parametrize(
    ("last", "probed", "expected"),
    [
        # a 304 to the conditional GET
        (LAST_URL, ProbedSource(location=URL, not_modified=True), UNCHANGED),
        # a 200 with a new ETag
        (LAST_URL, ProbedSource(location=URL, etag='"v2"'), CHANGED),
        # a 200 with the same ETag (a server that ignores If-None-Match)
        (LAST_URL, ProbedSource(location=URL, etag='"v1"'), UNCHANGED),
        # a 200 with only a Last-Modified: the server says it changed
        (LAST_URL, ProbedSource(location=URL, last_modified="Tue, 03 Mar 2026"), CHANGED),
        # a 200 without ETag or Last-Modified: cannot tell (Fetch's sha256 decides)
        (LAST_URL, ProbedSource(location=URL), UNKNOWN),
        # the profile's URL was edited: another file, whatever its validators
        (LAST_URL, ProbedSource(location=URL + "?v=2", not_modified=True), CHANGED),
        # nothing synced yet
        (None, ProbedSource(location=URL, not_modified=True), UNKNOWN),
        ({}, ProbedSource(location=URL, not_modified=True), UNKNOWN),
        # FTP/SFTP: same size and time, another time, another size
        (LAST_FTP, ProbedSource(location=FTP, size=120, mtime=1_700_000_000.0), UNCHANGED),
        (LAST_FTP, ProbedSource(location=FTP, size=120, mtime=1_700_000_060.0), CHANGED),
        (LAST_FTP, ProbedSource(location=FTP, size=121, mtime=1_700_000_000.0), CHANGED),
        # a time stored as a decimal reads back a float: compared to the millisecond
        (
            {**LAST_FTP, "mtime": 1_700_000_000.25},
            ProbedSource(location=FTP, size=120, mtime=1_700_000_000.2500001),
            UNCHANGED,
        ),
        # a glob whose newest match is another file
        (LAST_FTP, ProbedSource(location=FTP + ".new", size=120, mtime=1e9), CHANGED),
        # a file synced before times were recorded, or a listing without sizes
        ({"url": FTP, "sha256": "aa"}, ProbedSource(location=FTP, size=120, mtime=1e9), UNKNOWN),
        (LAST_FTP, ProbedSource(location=FTP, size=None, mtime=1_700_000_000.0), UNKNOWN),
        # a server without times: the probe's streamed hash against the last sha256
        (LAST_FTP, ProbedSource(location=FTP, size=120, sha256="aa"), UNCHANGED),
        (LAST_FTP, ProbedSource(location=FTP, size=120, sha256="bb"), CHANGED),
        # an upload: its key and object version
        ({"type": "upload", "version": "k#3"}, ProbedSource(version="k#3"), UNCHANGED),
        ({"type": "upload", "version": "k#3"}, ProbedSource(version="k#4"), CHANGED),
        ({"type": "upload"}, ProbedSource(version="k#3"), CHANGED),
    ],
)
def test_a_probe_is_unchanged_only_when_it_proves_the_last_file(
    last: dict[str, Any] | None, probed: ProbedSource, expected: str
) -> None:
    # Given the last synced file and what a probe found, When judged, Then the verdict
    assert verdict(last, probed) == expected


def test_the_reason_names_what_told_it() -> None:
    # Given probes of each kind, Then each unchanged check says how it was told
    assert ProbedSource(location=URL, not_modified=True).why == "not modified (304)"
    assert ProbedSource(location=FTP, size=1, mtime=2.0).why == "same size and modification time"
    assert "sha256" in ProbedSource(location=FTP, size=1, sha256="aa").why
    assert ProbedSource(version="k#1").why == "same uploaded version"
