"""Is the supplier's file the one last synced? A probe's answer against the last file.

An ``automatic`` schedule probes its source before any run exists (core/source_check.py):
only ``UNCHANGED`` stops the fire there. ``CHANGED`` and ``UNKNOWN`` both start the run,
whose Fetch still compares the file's sha256 (the safety net); they are told apart for the
record and the tests.

The last file is the profile's ``last_source``, as Fetch recorded it on the run:
``url`` (where it was read: the URL, or ``ftp://host/path`` with a glob's match),
``etag``, ``last_modified``, ``size``, ``mtime`` (Unix seconds), ``sha256``, and an
upload's ``version`` (``key#s3 version``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

UNCHANGED: Final = "unchanged"
CHANGED: Final = "changed"
UNKNOWN: Final = "unknown"
Verdict = Literal["unchanged", "changed", "unknown"]

# Times compared to the millisecond: a number stored in DynamoDB comes back a decimal.
_MTIME_DIGITS = 3


@dataclass(frozen=True)
class ProbedSource:
    """What a probe learnt without downloading the file (except ``sha256``: see below).

    ``location`` is where the file is, named as Fetch names it (a file server's probe
    gives the file's ``remote_path``, a glob's newest match, and the core names it).
    ``not_modified``: the server answered a conditional GET with 304. ``sha256`` is set
    only where a file server gives no reliable time, so the probe hashed the file streamed.
    """

    location: str = ""
    remote_path: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    size: int | None = None
    mtime: float | None = None
    sha256: str | None = None
    version: str | None = None

    @property
    def why(self) -> str:
        """What told it apart, for the check's record (e.g. ``not modified (304)``)."""
        if self.not_modified:
            return "not modified (304)"
        if self.version is not None:
            return "same uploaded version"
        if self.sha256 is not None:
            return "same sha256 (the server gives no modification time)"
        if self.mtime is not None:
            return "same size and modification time"
        return "same ETag"


def verdict(last: Mapping[str, Any] | None, probed: ProbedSource) -> Verdict:
    """``probed`` against the last synced file: unchanged, changed, or cannot tell."""
    if not last:
        return UNKNOWN  # nothing synced yet: the run decides
    if probed.version is not None:  # an upload: its key and object version name the file
        return UNCHANGED if last.get("version") == probed.version else CHANGED
    if last.get("url") != probed.location:
        return CHANGED  # another file (the source was edited, or a glob has a newer match)
    if probed.not_modified:
        return UNCHANGED
    if probed.sha256 is not None:
        return UNCHANGED if last.get("sha256") == probed.sha256 else CHANGED
    if probed.mtime is not None:
        return _by_size_and_time(last, probed.size, probed.mtime)
    return _by_validators(last, probed.etag, probed.last_modified)


def _by_size_and_time(last: Mapping[str, Any], size: int | None, mtime: float) -> Verdict:
    before = last.get("mtime")
    if before is None or size is None or last.get("size") is None:
        return UNKNOWN  # a file synced before times were recorded, or no size given
    same_time = round(float(before), _MTIME_DIGITS) == round(mtime, _MTIME_DIGITS)
    return UNCHANGED if same_time and int(last["size"]) == size else CHANGED


def _by_validators(last: Mapping[str, Any], etag: str | None, modified: str | None) -> Verdict:
    """A 200 to a conditional GET: changed by what it says, unless its ETag is the last one
    (a server that ignores If-None-Match); no validators at all: cannot tell."""
    if etag is None and modified is None:
        return UNKNOWN
    if etag is not None and last.get("etag") is not None:
        return UNCHANGED if etag == last["etag"] else CHANGED
    return CHANGED
