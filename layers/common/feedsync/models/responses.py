"""What the REST API answers, as models: ``/openapi.json`` documents every body from these.

The handlers build their answers from the stored records (``Store.public()`` and the like);
these models only describe them, so the document says what is really sent (Schemathesis
checks every answer against them in ``make test``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from feedsync.models import (
    ImportMode,
    Mode,
    PendingUpload,
    Plan,
    Platform,
    RunStatus,
    StoreOptions,
    StoreStatus,
    Trigger,
)
from feedsync.models.notifications import Webhook


# ------------------------------------------------------------------------ errors
class ErrorBody(BaseModel):
    """Every refusal the API itself sends (400, 404, 409, 413, 415): ``error`` is the
    machine-readable cause, ``message`` says what and where, ``field`` names the part of the
    request at fault when there is one."""

    error: str = Field(examples=["not_found", "already_running", "too_large"])
    message: str
    field: str | None = None


class FieldProblem(BaseModel):
    field: str = Field(examples=["schedule.at"])
    message: str


class ValidationErrorBody(BaseModel):
    """A request the models refused (422): the first problem in ``field``/``message``, every
    problem in ``detail`` when the body or a header failed validation."""

    error: Literal["invalid_request"]
    field: str
    message: str
    detail: list[FieldProblem] | None = None


class ForbiddenBody(BaseModel):
    """A caller whose role is below what the operation needs (``forbidden``, ``needs`` the
    role it needs), or a signed-in user in no tenant yet (``no_tenant``)."""

    error: Literal["forbidden", "no_tenant"]
    message: str
    needs: str | None = Field(default=None, examples=["editor"])


class UnauthorizedBody(BaseModel):
    """API Gateway's own answer when the authorizer refuses the key (missing, unknown)."""

    message: Literal["Unauthorized"]


# ---------------------------------------------------------------------- successes
class StoreView(BaseModel):
    store_id: str
    name: str
    platform: Platform
    api_url: str
    options: StoreOptions
    status: StoreStatus
    variant_count: int
    catalog_key: str | None
    imported_at: datetime | None
    import_mode: ImportMode | None
    error: str | None
    error_code: str | None = Field(
        default=None,
        description="the last import's failure by name; `store_auth_error`: the store rejects "
        "its credentials (replace them with PATCH /stores/{id})",
    )
    created_at: datetime
    cannot_create: str | None = Field(
        description="why profiles of this store cannot create products (create mode), in the "
        "words the API refuses it with; null: they can"
    )


class StoreList(BaseModel):
    stores: list[StoreView]


class RunProgress(BaseModel):
    done: int
    total: int
    percent: int | None = Field(
        ge=0, le=100, description="null while queued, preparing or matching: the total is not known"
    )


class RunView(BaseModel):
    run_id: str
    profile_id: str
    store_id: str
    trigger: Trigger
    mode: Mode
    status: RunStatus
    progress: RunProgress
    counts: dict[str, int]
    change_counts: dict[str, dict[str, int]] = Field(
        description="the run's changes per `status` and per `field` (GET /runs/{id}/changes), "
        'e.g. {"status": {"pending": 3, "updated": 5}, "field": {"price": 6, "stock": 2}}; '
        "empty for a run from before changes were kept"
    )
    error: str | None
    source: dict[str, Any]
    reason: str | None
    scheduled_time: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None
    preview: bool = Field(description="a preview: its changes wait for POST /runs/{id}/apply")
    parent_run_id: str | None = Field(description="the run a retry or revert started from")
    plan_expires_at: datetime = Field(
        description="until when its pending changes can be applied, its failed ones retried"
    )
    before_image_expires_at: datetime = Field(
        description="until when what it replaced in the store is kept (POST /runs/{id}/revert)"
    )
    held_reasons: list[HeldReason] = Field(
        description="the safety limits its changes break: a run (not a preview) is then held"
    )


class HeldReason(BaseModel):
    rule: Literal[
        "max_changed_share",
        "max_price_change_pct",
        "max_zero_stock_share",
        "min_rows_share",
        "max_created",
    ]
    limit: float
    measured: float = Field(description="a share (0-1), or the largest price move in percent")
    examples: list[str] = Field(description="up to 10 keys of items the rule counted")


# A change's status as shown, and the fields a change can be about (domain/changes.py's
# STATUSES, domain/changes.py's CHANGE_FIELDS: a test keeps them equal).
ChangeStatus = Literal["pending", "updated", "failed", "stale", "skipped", "reverted"]
ChangeField = Literal[
    "price", "sale_price", "retail_price", "cost_price", "stock", "name", "description",
    "brand", "weight", "image_url", "create",
]  # fmt: skip


class Change(BaseModel):
    """One field of one feed row the run writes or would write."""

    row: int = Field(description="the feed's row number")
    key: str = Field(description="the SKU or barcode the row was matched on (the store's)")
    product_id: int
    variant_id: int
    field: ChangeField
    store_value: str | int | float | None = Field(
        description='what the store held (money as text: "12.99")'
    )
    new_value: str | int | float | None = Field(description="what the run writes")
    status: ChangeStatus
    error: str | None = Field(description="why it failed or was not written")
    file_key: str | None = Field(
        default=None,
        description="the SKU as the file wrote it, when the profile's key_transform made "
        "`key` from it; null otherwise",
    )


class ChangeList(BaseModel):
    changes: list[Change]
    next: str | None = Field(
        description="pass as `cursor` for the next page; null after the last change"
    )


class RunLogLine(BaseModel):
    """One feed row of a run, as its log says what became of it."""

    row: int | None = Field(description="the row in the file (1 is the first data row)")
    key: str | None = Field(description="the SKU or barcode, as the store knows it")
    product_id: int | None
    variant_id: int | None
    status: str | None = Field(description="e.g. `updated`, `unchanged`, `failed`, `row_error`")
    changes: str | None = Field(description="old -> new per field, `; ` between fields")
    error: str | None
    file_key: str | None = Field(description="the key as the file wrote it (null in older logs)")


class RunLogPage(BaseModel):
    lines: list[RunLogLine]
    next: str | None = Field(
        description="pass as `cursor` for the next page; null after the last line"
    )


class OpenConflict(BaseModel):
    """A value changed in the store since feedsync wrote it, kept because the store wins."""

    row: int = Field(description="the feed row that wanted to change it (in the run_id's file)")
    key: str
    product_id: int
    variant_id: int
    field: ChangeField
    store_value: str | int | float | None = Field(description="what the store holds (kept)")
    feed_value: str | int | float | None = Field(description="what the feed says")
    last_written: str | int | float | None = Field(description="what feedsync last wrote")
    run_id: str = Field(description="the run that last found it")
    since: datetime = Field(description="when a run first found it")


class ConflictList(BaseModel):
    conflicts: list[OpenConflict]
    next: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class ConflictsDismissed(BaseModel):
    dismissed: int = Field(description="conflicts left to the store until the feed changes")


class RunList(BaseModel):
    runs: list[RunView]
    next: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class RunStarted(BaseModel):
    run_id: str
    status: RunStatus


class CancelAccepted(BaseModel):
    run_id: str
    status: Literal["cancelling"] = Field(
        description="the run stops at its next step or batch; GET /runs/{id} then says cancelled"
    )


class Health(BaseModel):
    status: Literal["green", "yellow", "red"]
    reason: str


class StartBlocked(BaseModel):
    reason: str
    message: str


class ProfileView(BaseModel):
    """A profile as ``POST /profiles`` took it (credentials replaced by ``has_credentials``),
    with its state, next and last run and health. The settings' own schemas are those of
    ``ProfileSettings``."""

    profile_id: str
    name: str
    store_id: str
    source: dict[str, Any]
    format: dict[str, Any]
    mapping: dict[str, str]
    fields: list[str]
    mode: Mode
    enabled: bool
    schedule: dict[str, Any]
    status: Literal["ready", "running"]
    current_run_id: str | None
    disabled_reason: str | None
    created_at: datetime
    next_run_at: datetime | None
    last_run_at: datetime | None
    health: Health
    can_start: bool = Field(description="Start would be taken now")
    start_blocked: StartBlocked | None = Field(
        description="why Start is refused now (null when it can start): `already_running`, "
        "`profile_disabled` (the plan's or the merchant's reason), `store_setting_up`, "
        "`store_not_ready`, `store_missing`, `no_file`"
    )
    last_checked_at: datetime | None = Field(
        default=None,
        description="when an automatic schedule last found the supplier file unchanged (no run)",
    )
    checks: int = Field(
        default=0, description="how many times it found the file unchanged since it last changed"
    )
    last_changed_at: datetime | None = Field(
        default=None, description="when a run last read a supplier file other than the last one"
    )
    store_name: str | None = Field(description="null when the store no longer exists")
    platform: Platform | None
    source_summary: str = Field(
        examples=["SFTP feeds.acme.com/stock.csv", "URL https://acme.example/stock.csv", "Upload"],
        description="where the file comes from, never a secret (a URL without user or query)",
    )
    schedule_text: str = Field(
        examples=["every hour except 22:00-04:00, Europe/Berlin", "daily at 06:00, UTC"],
        description="the schedule that applies, in words",
    )
    live: LiveRun | None = Field(description="the run in progress; null when none")
    pending_upload: PendingUpload | None = Field(
        default=None,
        description='a file uploaded with `"start": false`, not synced yet: Start syncs it',
    )
    last_run: LastRun | None = Field(description="the last finished run; null before the first")
    estimate: Estimate
    webhooks: list[Webhook] = Field(default_factory=list)
    has_webhook_secret: bool = False
    webhook_secret: str | None = Field(
        default=None, description="only in the answer that created it (POST or PATCH adding "
        "the first webhook): keep it, it is not shown again (POST .../webhook-secret replaces it)"
    )  # fmt: skip


class LiveRun(BaseModel):
    """The run in progress, as a tile shows it."""

    run_id: str
    status: RunStatus
    phase_label: Literal["Queued", "Preparing", "Matching", "Updating", "Finalizing"] = Field(
        description="`Finalizing`: every item sent, the log and the index being written"
    )
    percent: int | None = Field(ge=0, le=100, description="null until the total is known")


class LastRun(BaseModel):
    run_id: str
    status: RunStatus
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None = None


class Estimate(BaseModel):
    """How long a Start may take, for its confirmation."""

    seconds: int | None = Field(description="null when there is nothing to go on")
    basis: str = Field(
        examples=["the last run took 2 min 40 s for 1,204 changes"],
        description="what the estimate is made from: the last finished run's duration and "
        "changes; for a first run the store's variants at the platform's batch size and quota",
    )
    text: str = Field(examples=["about 3 minutes: the last run took 2 min 40 s for 1,204 changes"])


class ProfileList(BaseModel):
    profiles: list[ProfileView]


class UploadUrl(BaseModel):
    upload_url: str
    method: Literal["PUT"]
    key: str
    expires_in: int = Field(description="seconds the URL stays valid")
    headers: dict[str, str] = Field(
        description="headers the PUT must send as they are (signed into the URL); empty today"
    )
    start: bool = Field(description="whether the upload starts a run (else it is stored)")


class SchedulePreview(BaseModel):
    type: str = Field(description="the schedule that applies (``default`` resolved)")
    timezone: str | None = Field(description="the zone its times are read in; null if untimed")
    next: list[datetime] = Field(
        description="the next run times, black-outs skipped (empty: manual, after, or no free time)"
    )


class PlanUsage(BaseModel):
    profiles: int
    profiles_enabled: int
    held_by_plan: int = Field(description="profiles disabled because they are over the plan")


class PlanView(BaseModel):
    plan: Plan
    usage: PlanUsage
