"""Fetch (preparing, part 1): bring the supplier file into the run's folder."""

from __future__ import annotations

import tempfile

from feedsync.core import keys, schedules
from feedsync.core.deps import Deps
from feedsync.core.source_check import (
    location,
    saw_file,
    settings_stamp,
    synced_under_other_settings,
    upload_version,
    url_auth,
)
from feedsync.core.steps.common import profile_of, run_of, unless_cancelled
from feedsync.errors import SourceError, SourceUnchanged
from feedsync.models import FetchInput, FetchOutput, Profile, RunRef


def fetch(deps: Deps, step: FetchInput) -> FetchOutput:
    ref = step.run
    unless_cancelled(run_of(deps, ref))  # cancelled while queued: fetch nothing
    deps.repo.update_run(ref.tenant_id, ref.run_id, status="preparing", started_at=deps.clock())
    profile = profile_of(deps, ref)
    source = profile.source
    if source.type == "upload":
        if not profile.upload_key:
            raise SourceError("no file has been uploaded for this profile")
        # That upload's version: a presigned URL takes PUTs for an hour, and a later (say,
        # empty) PUT to it must not replace the file the profile keeps.
        version = profile.upload_version
        head = deps.blobs.head(profile.upload_key, version)
        if head is None:
            raise SourceError(f"the uploaded file {profile.upload_key} is gone")
        file_name = profile.upload_key.rsplit("/", 1)[-1]
        key = keys.source_key(ref.tenant_id, ref.run_id, file_name)
        deps.blobs.copy(profile.upload_key, key, version)
        pending = profile.pending_upload
        if pending is not None and (pending.key, pending.version) == (profile.upload_key, version):
            # That file is synced now (not at Start: a file stored between Start and this
            # read is the one copied). Conditional: one stored since stays pending.
            deps.repo.clear_pending_upload(
                ref.tenant_id, profile.profile_id, pending.key, pending.version
            )
        out = FetchOutput(key=key, file_name=file_name, size=int(head["size"]), etag=head["etag"])
        meta: dict[str, str | int | float | None] = {
            "type": "upload",
            "file": file_name,
            "size": out.size,
            "version": upload_version(profile),
        }
    else:
        # An automatic schedule's fire costs almost nothing when the file is the same.
        last = profile.last_source if _checks_for_changes(deps, profile, ref) else None
        secret = deps.secrets.get(source.secret_ref) if source.secret_ref else {}
        with tempfile.TemporaryDirectory(dir=deps.work_dir) as tmp:
            if source.type == "url":
                auth = url_auth(source, secret)
                got = deps.fetcher.fetch_url(str(source.url), tmp, last, auth)
                where = location(source)
            else:
                if deps.remote is None:
                    raise SourceError(f"{source.type} sources are not configured here")
                got = deps.remote.fetch(source, secret, tmp)
                where = location(source, getattr(got, "remote_path", None))
            if last and last.get("sha256") == got.sha256:
                raise SourceUnchanged(f"{where}: same file as the last run (sha256)")
            key = keys.source_key(ref.tenant_id, ref.run_id, got.file_name)
            deps.blobs.upload_file(got.path, key)
        out = FetchOutput(key=key, file_name=got.file_name, size=got.size, etag=got.etag)
        meta = {
            "type": source.type,
            "url": where,
            "file": got.file_name,
            "size": got.size,
            "etag": got.etag,
            "last_modified": got.last_modified,
            "sha256": got.sha256,
        }
        if source.type != "url":  # a file server's size and time: what its probe compares
            meta["mtime"] = getattr(got, "mtime", None)
    meta["settings_stamp"] = settings_stamp(profile)  # the settings this file is synced with
    deps.repo.update_run(ref.tenant_id, ref.run_id, source=meta)
    saw_file(deps, profile, meta)
    return out


def _checks_for_changes(deps: Deps, profile: Profile, ref: RunRef) -> bool:
    """Only an automatic schedule's fire skips a file it has seen (a Start always runs)."""
    run = run_of(deps, ref)
    if run.trigger != "schedule" or not profile.last_source:
        return False
    if synced_under_other_settings(profile):
        return False
    settings = schedules.tenant_settings(deps, ref.tenant_id)
    return bool(schedules.effective(profile, settings)["type"] == "automatic")
