"""What the state machine's states hand each other: ids, S3 keys and counts only (the
256 KB payload limit); each step's input and output."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from feedsync.models.limits import IDEMPOTENCY_KEY_MAX
from feedsync.models.vocabulary import Action, ImportMode, Mode, RunStatus, Trigger


class RunRef(BaseModel):
    """What every state carries: ids only (the 256 KB payload limit)."""

    tenant_id: str
    run_id: str
    profile_id: str
    store_id: str
    # Which apply of the run this execution is (0: the run itself); its plan and results
    # files are its own (core/keys.py).
    round: int = 0


class StartCommand(BaseModel):
    tenant_id: str
    profile_id: str
    trigger: Trigger
    mode: Mode | None = None
    # The schedule's fire time (EventBridge Scheduler's <aws.scheduler.scheduled-time>).
    scheduled_time: datetime | None = None
    # Same key, same run: S3 redeliveries, scheduler retries, double-clicked Starts.
    idempotency_key: str | None = Field(default=None, max_length=IDEMPOTENCY_KEY_MAX)
    preview: bool = False
    # retry / revert: the run whose changes the new run re-applies or takes back.
    parent_run_id: str | None = None
    # reapply: the keys of the open conflicts to write the feed's values for (None: all).
    keys: list[str] | None = None


class FetchOutput(BaseModel):
    key: str
    file_name: str
    size: int
    etag: str | None = None


class ParseOutput(BaseModel):
    rows_key: str
    rows: int
    row_errors: int
    row_errors_key: str


class MatchOutput(BaseModel):
    manifest_bucket: str
    manifest_key: str
    shards: int
    items: int
    # Parallel shard workers; derived from the store's quota (the Map reads it).
    concurrency: int = Field(ge=1)
    # A preview, or a run over its safety limits: the state machine ends here
    # (MarkForReview), nothing is sent.
    preview: bool = False
    held: bool = False


class FetchInput(BaseModel):
    run: RunRef


class ParseInput(BaseModel):
    run: RunRef
    fetch: FetchOutput


class MatchInput(BaseModel):
    run: RunRef
    fetch: FetchOutput
    parse: ParseOutput


class SelectInput(BaseModel):
    """An apply, retry or revert: the stored changes to send instead of a file."""

    run: RunRef
    action: Action


class ShardRef(BaseModel):
    index: int
    key: str
    items: int


class UpdateInput(BaseModel):
    run: RunRef
    shard: ShardRef


class UpdateOutput(BaseModel):
    shard: int
    updated: int
    failed: int
    gone: int = 0  # result lines whose item the store no longer has (not counted failed)


class StepError(BaseModel):
    """Step Functions' Catch output: ``{"Error": name, "Cause": json-or-text}``."""

    model_config = ConfigDict(populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class FinalizeInput(BaseModel):
    run: RunRef
    error: StepError | None = None
    # MarkForReview: a preview computed its changes, or a run was held; nothing was sent.
    previewed: bool = False


class FinalizeOutput(BaseModel):
    run_id: str
    status: RunStatus
    counts: dict[str, int]
    error: str | None = None


class CatalogImportInput(BaseModel):
    tenant_id: str
    store_id: str
    mode: ImportMode = "full"
    since: datetime | None = None
    until: datetime | None = None


class UploadedObject(BaseModel):
    """An S3 ObjectCreated record under uploads/{tenant}/{profile}/..."""

    bucket: str
    key: str
    size: int = 0
    # The object version (or, unversioned, its ETag + event sequencer): one upload, one run.
    version_id: str
    # S3's own version id (versioned bucket): the run reads this upload, not a later PUT.
    s3_version: str | None = None


class PendingUpload(BaseModel):
    """A file uploaded with ``"start": false``: the profile's file, not synced yet (a Start
    syncs it)."""

    key: str
    version: str | None = Field(description="the S3 version a Start reads")
    size: int
    file_name: str
    uploaded_at: datetime


class ExecutionStatusChange(BaseModel):
    """EventBridge's "Step Functions Execution Status Change" detail (the fields we read)."""

    name: str
    status: str
    input: str | None = None

    def run_ref(self) -> RunRef | None:
        try:
            return RunRef.model_validate(json.loads(self.input or "")["run"])
        except (ValueError, KeyError, TypeError):
            return None


class StatusOnly(BaseModel):
    status: str
    detail: str | None = None
