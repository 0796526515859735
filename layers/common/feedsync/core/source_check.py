"""An ``automatic`` schedule's fire checks its source before any run exists.

When the supplier's file is the one last synced, the fire costs the profile read, one
probe (a conditional GET, one FTP/SFTP stat or listing, nothing for an upload) and one
profile write (``checks`` + 1, ``last_checked_at``): no idempotency claim, lock, run
record, execution or event. Everything else goes on to the start path as before: a
changed file, a probe that cannot tell (a server without validators: Fetch's sha256
decides) or that failed (the run fails with the cause, so the history shows a broken
source), and every fire a guard stops (disabled, black-out, already running: a
``skipped`` run says why).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace

from feedsync.core import schedules
from feedsync.core.deps import Deps
from feedsync.domain.source_state import UNCHANGED, ProbedSource, verdict
from feedsync.errors import SourceError, SourceUnchanged
from feedsync.models import (
    FtpSource,
    Profile,
    SftpSource,
    StartCommand,
    TenantSettings,
    UrlSource,
)

# Settings that change what a run writes (which file, how it is read, matched and ruled,
# where and what it writes). The last synced file counts as synced only under the settings
# it was synced with: a PATCH changing one clears ``last_source`` (core/api.py), and the run
# records their stamp with the file (``settings_stamp``), so a file a run synced while they
# were being changed does not stop the next fire either. Name, schedule, enabled, limits
# and webhooks change nothing written.
RESYNC_ON_CHANGE = frozenset(
    {
        "store_id", "source", "format", "mapping", "constants", "match_by", "key_transform",
        "fields", "mode", "location_id", "rules", "missing", "known_bad", "conflicts", "create",
    }
)  # fmt: skip


def settings_stamp(profile: Profile) -> str:
    """The profile's ``RESYNC_ON_CHANGE`` settings, fingerprinted for the run's source."""
    values = profile.model_dump(mode="json", include=set(RESYNC_ON_CHANGE))
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def synced_under_other_settings(profile: Profile) -> bool:
    """The last file was synced with settings since changed (a file recorded before stamps
    were kept counts as synced with these)."""
    stamp = (profile.last_source or {}).get("settings_stamp")
    return stamp is not None and stamp != settings_stamp(profile)


def stop_if_unchanged(deps: Deps, cmd: StartCommand, profile: Profile) -> None:
    """Record the check and raise ``SourceUnchanged`` when this scheduled fire would find
    the last synced file; return (start the run) otherwise."""
    if not _may_skip(deps, cmd, profile):
        return
    try:
        probed = probe(deps, profile)
    except Exception:  # a probe that fails is no "unchanged": the run fails with the cause
        return
    if verdict(profile.last_source, probed) != UNCHANGED:
        return
    deps.repo.record_source_check(cmd.tenant_id, profile.profile_id, deps.clock())
    raise SourceUnchanged(f"{probed.location}: {probed.why}; checked, no run started")


def _may_skip(deps: Deps, cmd: StartCommand, profile: Profile) -> bool:
    """A scheduled fire of an enabled, idle, automatic profile that has synced a file, and
    outside a black-out; the tenant's settings are read only when the schedule needs them
    (``default`` follows the tenant's; a black-out without a timezone takes the tenant's)."""
    if cmd.trigger != "schedule" or not profile.enabled or profile.current_run_id:
        return False  # a guard or the lock decides, and records why
    if not profile.last_source or synced_under_other_settings(profile):
        return False
    own = profile.schedule.spec()
    if own.get("type") not in ("automatic", "default"):
        return False
    if own.get("type") == "automatic" and not own.get("blackouts"):
        return True
    if own.get("type") == "automatic" and own.get("timezone"):
        settings = TenantSettings(tenant_id=cmd.tenant_id)  # nothing of the tenant's applies
    else:
        settings = schedules.tenant_settings(deps, cmd.tenant_id)
    if schedules.effective(profile, settings)["type"] != "automatic":
        return False
    at = cmd.scheduled_time or deps.clock()
    return schedules.blackout_reason(profile, settings, at) is None


def probe(deps: Deps, profile: Profile) -> ProbedSource:
    """The profile's source as it is now, next to its last synced file."""
    source = profile.source
    last = profile.last_source or {}
    if source.type == "upload":
        # The uploaded object's version: a new upload is a new version (no request).
        return ProbedSource(location="upload", version=upload_version(profile))
    secret = deps.secrets.get(source.secret_ref) if source.secret_ref else {}
    if isinstance(source, UrlSource):
        where = location(source)
        # Validators of another address's file say nothing of this one.
        conditional = last if last.get("url") == where else None
        return deps.fetcher.probe_url(where, conditional, url_auth(source, secret))
    if deps.remote is None:
        raise SourceError(f"{source.type} sources are not configured here")
    probed = deps.remote.probe(source, secret)
    return replace(probed, location=location(source, probed.remote_path))


def location(source: UrlSource | FtpSource | SftpSource, remote_path: str | None = None) -> str:
    """Where the file is read, as the run's ``source.url`` names it: the URL, or
    ``<type>://<host><path>`` with the file a glob took."""
    if isinstance(source, UrlSource):
        return str(source.url)
    return f"{source.type}://{source.host}{remote_path or source.path}"


def upload_version(profile: Profile) -> str | None:
    """The profile's uploaded file: its key and S3 version (None: nothing uploaded)."""
    if not profile.upload_key:
        return None
    return f"{profile.upload_key}#{profile.upload_version or ''}"


def url_auth(source: UrlSource, secret: dict[str, str]) -> dict[str, str] | None:
    """The fetcher's auth: the profile's kind and names plus the secret value."""
    if source.auth is None:
        return None
    auth: dict[str, str] = {"type": source.auth.type}
    if source.auth.username:
        auth["username"] = source.auth.username
    if source.auth.name:
        auth["name"] = source.auth.name
    value = secret.get("password") or secret.get("token")
    if not value:
        raise SourceError(f"{source.url}: {source.auth.type} auth has no secret stored")
    auth["password" if source.auth.type == "basic" else "token"] = value
    return auth


def saw_file(deps: Deps, profile: Profile, fetched: Mapping[str, object]) -> None:
    """A run read a file other than the last synced one: it changed now (the count of
    unchanged checks starts again)."""
    last = profile.last_source or {}
    same = fetched.get("version") or fetched.get("sha256")
    if same is not None and same == (last.get("version") or last.get("sha256")):
        return
    with contextlib.suppress(Exception):  # a record for the merchant, never the run's failure
        deps.repo.update_profile(
            profile.tenant_id, profile.profile_id, last_changed_at=deps.clock(), checks=0
        )
