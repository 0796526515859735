"""A source and format tried before saving a profile: the file's first records and how it
was read (POST /file-preview). No run, no execution; nothing is kept but a temporary file.

The file comes through the fetchers the Fetch step uses (the same address rules and
errors), configured for the API: at most ``PREVIEW_MAX_BYTES``, ``PREVIEW_CONNECT_S`` to
connect, ``PREVIEW_READ_S`` per read and ``PREVIEW_TOTAL_S`` for the whole download, so a
preview answers within API Gateway's 29 s or fails saying why. An SFTP server's host key is
reported; one the source does not pin is never logged in to (no password or key is sent to
an unconfirmed server), and stored credentials go only to the host key they were saved for.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from feedsync.core.api import endpoint, get_profile, same_pin
from feedsync.core.deps import Deps
from feedsync.core.source_check import url_auth
from feedsync.errors import (
    FeedFormatError,
    InvalidRequest,
    SourceError,
    SourceHostKeyMismatch,
    TransientError,
)
from feedsync.formats import open_feed
from feedsync.models import Profile
from feedsync.models.file_preview import FilePreviewBody

PREVIEW_MAX_BYTES: Final = 50 * 1024 * 1024
PREVIEW_CONNECT_S: Final = 5.0
PREVIEW_READ_S: Final = 10.0
# The whole download's wall clock: a server trickling a byte inside each read timeout is
# stopped here with a clear 422, not by API Gateway's bare 504 at 29 s.
PREVIEW_TOTAL_S: Final = 20.0
# An answer stays far below Lambda's 6 MB: the first columns, each cell's first characters.
PREVIEW_COLUMNS_MAX: Final = 500
PREVIEW_CELL_MAX: Final = 500
# How the readers' info keys are shown as "detected" (``type`` is the format).
_DETECTED: Final = (
    "encoding", "delimiter", "header_row", "sheet", "sheets", "compression", "entry",
    "record_path", "decimal_separator", "bom",
)  # fmt: skip


def preview(deps: Deps, tenant_id: str, body: FilePreviewBody) -> dict[str, Any]:
    profile = get_profile(deps, tenant_id, body.profile_id) if body.profile_id else None
    source = body.source
    fmt = body.format.reader_options() if body.format else {}
    host_key = None
    with tempfile.TemporaryDirectory(dir=deps.work_dir) as tmp:
        if source.type == "upload":
            path, file_name = _uploaded(deps, profile, tmp)
        else:
            secret = _secret(deps, source, profile)
            if source.type == "sftp":
                presented = _presented_key(deps, source)
                if not source.host_key_fingerprint:
                    return _unconfirmed(presented, _NOT_PINNED.format(source=source, key=presented))
                try:
                    path, file_name = _fetched(deps, source, secret, tmp)
                except SourceHostKeyMismatch as exc:  # nothing was sent to the server
                    return _unconfirmed(presented, exc.message)
                # A server with several keys presents one first; the pin matched one of them.
                host_key = {"fingerprint": _normal(source.host_key_fingerprint), "pinned": True}
            else:
                path, file_name = _fetched(deps, source, secret, tmp)
        size = Path(path).stat().st_size
        try:
            feed, info = open_feed(path, file_name, fmt, {}, work_dir=tmp)
            with feed:
                rows = [_shown(r) for r in feed.first_records(body.rows)]
                columns = _shown(list(feed.columns))
        except FeedFormatError as exc:
            raise InvalidRequest("format", exc.message) from exc
    detected = {"format": info.get("type"), **{k: info.get(k) for k in _DETECTED}}
    return {
        "file_name": file_name,
        "size": size,
        "detected": detected,
        "columns": columns,
        "rows": rows,
        "host_key": host_key,
        "message": None,
    }


def _shown(cells: list[str]) -> list[str]:
    return [
        cell if len(cell) <= PREVIEW_CELL_MAX else cell[:PREVIEW_CELL_MAX] + "…"
        for cell in cells[:PREVIEW_COLUMNS_MAX]
    ]


def _secret(deps: Deps, source: Any, profile: Profile | None) -> dict[str, str]:
    """The credentials sent in the body, else the profile's stored ones for the same server
    and user (never a ``secret_ref`` from the request: it could name anyone's secret)."""
    if source.credentials is not None:
        return dict(source.credentials.model_dump(exclude_none=True))
    stored = getattr(profile.source, "secret_ref", None) if profile else None
    if not stored or profile is None or endpoint(profile.source) != endpoint(source):
        return {}
    if (
        source.type == "sftp"
        and source.host_key_fingerprint
        and not same_pin(profile.source, source)
    ):
        # The stored password goes only to the host key it was entered for.
        entered_for = getattr(profile.source, "host_key_fingerprint", None)
        raise InvalidRequest(
            "source.host_key_fingerprint",
            f"sftp://{source.host}:{source.port}: the stored credentials were saved for host "
            f"key {entered_for}, not this one; enter the password "
            "(or key) again to use another key",
        )
    return deps.secrets.get(stored)


def _fetched(deps: Deps, source: Any, secret: dict[str, str], tmp: str) -> tuple[str, str]:
    try:
        if source.type == "url":
            fetcher = deps.preview_fetcher or deps.fetcher
            got = fetcher.fetch_url(str(source.url), tmp, None, url_auth(source, secret))
        else:
            remote = deps.preview_remote or deps.remote
            if remote is None:
                raise SourceError(f"{source.type} sources are not configured here")
            got = remote.fetch(source, secret, tmp)
    except SourceHostKeyMismatch:
        raise  # the caller answers the key the server presented
    except TransientError as exc:
        raise InvalidRequest("source", f"{exc.message} (try the preview again)") from exc
    except SourceError as exc:
        raise InvalidRequest("source", exc.message) from exc
    return got.path, got.file_name


_NOT_PINNED: Final = (
    "sftp://{source.host}:{source.port}: no host key is pinned; the server presented {key}. "
    "Confirm it with the supplier, then preview with it as host_key_fingerprint (nothing "
    "was sent to the server)."
)


def _presented_key(deps: Deps, source: Any) -> str:
    remote = deps.preview_remote or deps.remote
    if remote is None:
        raise InvalidRequest("source", "sftp sources are not configured here")
    try:
        return remote.host_key(source)
    except TransientError as exc:
        raise InvalidRequest("source", f"{exc.message} (try the preview again)") from exc
    except SourceError as exc:
        raise InvalidRequest("source", exc.message) from exc


def _normal(fingerprint: str) -> str:
    return fingerprint.rstrip("=")


def _unconfirmed(presented: str, why: str) -> dict[str, Any]:
    """No file: the server's key is not the pinned one (or none is pinned) yet."""
    return {
        "file_name": None, "size": None, "detected": None, "columns": [], "rows": [],
        "host_key": {"fingerprint": presented, "pinned": False}, "message": why,
    }  # fmt: skip


def _uploaded(deps: Deps, profile: Profile | None, tmp: str) -> tuple[str, str]:
    """The profile's latest upload (a pending one first), at most PREVIEW_MAX_BYTES of it."""
    if profile is None:
        raise InvalidRequest("profile_id", "an upload source previews a profile's uploaded file")
    key = profile.pending_upload.key if profile.pending_upload else profile.upload_key
    if not key:
        raise InvalidRequest("profile_id", "no file has been uploaded for this profile yet")
    file_name = key.rsplit("/", 1)[-1]
    path = str(Path(tmp) / file_name)
    with closing(deps.blobs.open_read(key)) as raw, open(path, "wb") as out:
        shutil.copyfileobj(_capped(raw, PREVIEW_MAX_BYTES), out)
    return path, file_name


class _capped:
    """A reader that stops after ``limit`` bytes (the first records are all a preview needs;
    a cut archive then fails to open, saying so)."""

    def __init__(self, raw: Any, limit: int) -> None:
        self.raw, self.left = raw, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        want = self.left if size < 0 else min(size, self.left)
        data: bytes = self.raw.read(want)
        self.left -= len(data)
        return data
