"""Pydantic models for API bodies, stored records and step hand-offs.

Nothing here is used per feed row: rows are plain tuples (see domain/fields.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from feedsync.domain.feed import parse_image_url, parse_weight
from feedsync.domain.fields import CANONICAL_FIELDS, MONEY_FIELDS, WRITABLE_FIELDS
from feedsync.domain.money import parse_money, parse_stock
from feedsync.models.create import CreateSettings
from feedsync.models.keys import KeyTransformSettings, check_key_transform
from feedsync.models.limits import (
    ENTRIES_MAX,
    HOST_MAX,
    NAME_MAX,
    PEM_MAX,
    TEXT_MAX,
    Name,
    Text,
)
from feedsync.models.notifications import Webhooks
from feedsync.models.review import (
    ApplyBody as ApplyBody,
)
from feedsync.models.review import (
    ConflictPolicies as ConflictPolicies,
)
from feedsync.models.review import KnownBad
from feedsync.models.review import (
    RetryBody as RetryBody,
)
from feedsync.models.review import (
    SafetyLimits as SafetyLimits,
)
from feedsync.models.rules import (
    PRICE_RULES as PRICE_RULES,
)
from feedsync.models.rules import (
    STOCK_RULES as STOCK_RULES,
)
from feedsync.models.rules import (
    Count as Count,
)
from feedsync.models.rules import (
    Money as Money,
)
from feedsync.models.rules import (
    PriceRules as PriceRules,
)
from feedsync.models.rules import (
    PriceTier as PriceTier,
)
from feedsync.models.rules import (
    Rules as Rules,
)
from feedsync.models.rules import (
    StockRules as StockRules,
)
from feedsync.models.rules import (
    validate_price_rules as validate_price_rules,
)
from feedsync.models.rules import (
    validate_rules as validate_rules,
)
from feedsync.models.rules import (
    validate_stock_rules as validate_stock_rules,
)
from feedsync.models.schedules import (
    AfterSchedule as AfterSchedule,
)
from feedsync.models.schedules import (
    AutomaticSchedule as AutomaticSchedule,
)
from feedsync.models.schedules import (
    Blackout as Blackout,
)
from feedsync.models.schedules import (
    CronSchedule as CronSchedule,
)
from feedsync.models.schedules import (
    DailySchedule as DailySchedule,
)
from feedsync.models.schedules import (
    DefaultSchedule as DefaultSchedule,
)
from feedsync.models.schedules import (
    IntervalSchedule as IntervalSchedule,
)
from feedsync.models.schedules import (
    ManualSchedule as ManualSchedule,
)
from feedsync.models.schedules import (
    RateSchedule as RateSchedule,
)
from feedsync.models.schedules import (
    Schedule as Schedule,
)
from feedsync.models.schedules import (
    TenantSchedule as TenantSchedule,
)
from feedsync.models.schedules import (
    TimedSchedule as TimedSchedule,
)
from feedsync.models.schedules import (
    parse_schedule as parse_schedule,
)
from feedsync.models.steps import CatalogImportInput as CatalogImportInput
from feedsync.models.steps import ExecutionStatusChange as ExecutionStatusChange
from feedsync.models.steps import FetchInput as FetchInput
from feedsync.models.steps import FetchOutput as FetchOutput
from feedsync.models.steps import FinalizeInput as FinalizeInput
from feedsync.models.steps import FinalizeOutput as FinalizeOutput
from feedsync.models.steps import MatchInput as MatchInput
from feedsync.models.steps import MatchOutput as MatchOutput
from feedsync.models.steps import ParseInput as ParseInput
from feedsync.models.steps import ParseOutput as ParseOutput
from feedsync.models.steps import PendingUpload as PendingUpload
from feedsync.models.steps import RunRef as RunRef
from feedsync.models.steps import SelectInput as SelectInput
from feedsync.models.steps import ShardRef as ShardRef
from feedsync.models.steps import StartCommand as StartCommand
from feedsync.models.steps import StatusOnly as StatusOnly
from feedsync.models.steps import StepError as StepError
from feedsync.models.steps import UpdateInput as UpdateInput
from feedsync.models.steps import UpdateOutput as UpdateOutput
from feedsync.models.steps import UploadedObject as UploadedObject
from feedsync.models.stores import StoreCredentials as StoreCredentials
from feedsync.models.stores import StoreOptions as StoreOptions
from feedsync.models.validation import (
    _T as _T,
)
from feedsync.models.validation import (
    UNION_TAGS as UNION_TAGS,
)
from feedsync.models.validation import (
    InvalidValue as InvalidValue,
)
from feedsync.models.validation import (
    describe_error as describe_error,
)
from feedsync.models.validation import (
    validated as validated,
)
from feedsync.models.vocabulary import ACTIVE_STATUSES as ACTIVE_STATUSES
from feedsync.models.vocabulary import BEFORE_IMAGE_KEPT as BEFORE_IMAGE_KEPT
from feedsync.models.vocabulary import PLAN_KEPT as PLAN_KEPT
from feedsync.models.vocabulary import PLANNING as PLANNING
from feedsync.models.vocabulary import Action as Action
from feedsync.models.vocabulary import ImportMode as ImportMode
from feedsync.models.vocabulary import MatchBy as MatchBy
from feedsync.models.vocabulary import Mode as Mode
from feedsync.models.vocabulary import RunStatus as RunStatus
from feedsync.models.vocabulary import StoreStatus as StoreStatus
from feedsync.models.vocabulary import Trigger as Trigger
from feedsync.platforms.registry import PLATFORM_NAMES, PLATFORMS
from feedsync.platforms.registry import platform as platform_spec


def _known_platform(name: str) -> str:
    platform_spec(name)  # ValueError naming the supported ones
    return name


# A registered store platform (``platforms/registry.py``).
Platform = Annotated[
    str,
    AfterValidator(_known_platform),
    WithJsonSchema({"type": "string", "enum": list(PLATFORM_NAMES)}),
]


# How a constant's value is checked (money by parse_money; text as it is).
_CONSTANT_CHECKS = {"stock": parse_stock, "weight": parse_weight, "image_url": parse_image_url}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- API bodies
class CreateStore(Strict):
    name: str = Field(min_length=1, max_length=200)
    platform: Platform
    api_url: HttpUrl = Field(
        description="; ".join(f"{s.label}: {s.store_url_hint}" for s in PLATFORMS.values())
    )
    credentials: StoreCredentials
    options: StoreOptions = Field(default_factory=StoreOptions)

    @model_validator(mode="after")
    def _credentials_for_platform(self) -> CreateStore:
        given = {k for k, v in self.credentials.model_dump().items() if v}
        spec = platform_spec(self.platform)
        needed = spec.credential_fields
        missing = [k for k in needed if k not in given]
        if missing:
            raise ValueError(f"{self.platform} needs credentials {', '.join(needed)}")
        extra = sorted(given - set(needed))
        if extra:
            raise ValueError(f"{self.platform} takes no credentials {', '.join(extra)}")
        # A location is the platform's to judge (check_location says what it expects).
        for option in sorted(self.options.model_fields_set - spec.options - {"location_id"}):
            if getattr(self.options, option) != StoreOptions.model_fields[option].default:
                takers = [s.label for s in PLATFORMS.values() if option in s.options]
                raise ValueError(f"options.{option} is a {' / '.join(takers)} setting")
        if unset := [o for o in sorted(spec.required_options) if getattr(self.options, o) is None]:
            raise ValueError(f"{self.platform} needs options {', '.join(unset)}")
        if self.options.location_id is not None:
            check_location(self.platform, self.options.location_id)
        return self


def check_location(platform: str, location_id: str) -> None:
    """A stock location the platform can address (ValueError with what it expects)."""
    platform_spec(platform).validate_location(location_id)


class ImportCatalogBody(Strict):
    """``full`` re-reads the whole catalog; ``incremental`` what changed since the last
    import; ``by_date`` what was modified between ``since`` and ``until``."""

    mode: ImportMode = "incremental"
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _range(self) -> ImportCatalogBody:
        if self.mode == "by_date" and self.since is None:
            raise ValueError("by_date needs since (and optionally until)")
        if self.mode != "by_date" and (self.since or self.until):
            raise ValueError("since/until only go with mode by_date")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class SourceCredentials(Strict):
    """Write-only: stored in Secrets Manager on save; profiles keep only ``secret_ref``."""

    password: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    private_key: str | None = Field(
        default=None, min_length=1, max_length=PEM_MAX, description="PEM text"
    )
    token: str | None = Field(
        default=None, min_length=1, max_length=TEXT_MAX, description="bearer/header/query value"
    )


class UrlAuth(Strict):
    type: Literal["basic", "bearer", "header", "query"]
    username: Name | None = Field(default=None, description="basic auth user")
    name: Name | None = Field(default=None, description="header name or query parameter")

    @model_validator(mode="after")
    def _complete(self) -> UrlAuth:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs username (the password goes in credentials)")
        if self.type in ("header", "query") and not self.name:
            raise ValueError(f"{self.type} auth needs name (the value goes in credentials)")
        return self


class UrlSource(Strict):
    type: Literal["url"]
    url: HttpUrl
    auth: UrlAuth | None = None
    credentials: SourceCredentials | None = None
    secret_ref: Text | None = None


class FtpSource(Strict):
    type: Literal["ftp", "ftps"]
    host: str = Field(min_length=1, max_length=HOST_MAX)
    port: int | None = Field(default=None, ge=1, le=65535)
    path: str = Field(
        min_length=1, max_length=TEXT_MAX, description="a file or a glob; the newest match is taken"
    )
    username: Name = "anonymous"
    tls: Literal["explicit", "implicit"] = "explicit"
    credentials: SourceCredentials | None = None
    secret_ref: Text | None = None


class SftpSource(Strict):
    type: Literal["sftp"]
    host: str = Field(min_length=1, max_length=HOST_MAX)
    port: int = Field(default=22, ge=1, le=65535)
    path: str = Field(
        min_length=1, max_length=TEXT_MAX, description="a file or a glob; the newest match is taken"
    )
    username: str = Field(min_length=1, max_length=NAME_MAX)
    host_key_fingerprint: str = Field(
        pattern=r"^SHA256:[A-Za-z0-9+/]{43}=?$",
        description="the server's host key as `ssh-keygen -lf` prints it",
    )
    credentials: SourceCredentials | None = None
    secret_ref: Text | None = None


class UploadSource(Strict):
    type: Literal["upload"]


Source = Annotated[UrlSource | FtpSource | SftpSource | UploadSource, Field(discriminator="type")]
UNION_TAGS["source"] = frozenset(
    tag
    for model in get_args(get_args(Source)[0])
    for tag in get_args(model.model_fields["type"].annotation)
)


class FeedFormat(Strict):
    """How to read the file; every key optional (detected when left out)."""

    type: Literal["auto", "csv", "xlsx", "xls", "json", "jsonl", "xml"] = "auto"
    delimiter: Name | None = Field(default=None, description="one character, or tab/comma/...")
    encoding: Name | None = Field(default=None, description="a codec name; auto-detected")
    header_row: int | None = Field(default=None, ge=0, description="1-based; 0 = no header")
    sheet: Name | int | None = Field(
        default=None, description="xlsx/xls sheet name or 0-based index"
    )
    record_path: Text | None = Field(default=None, description="json: a.b; xml: catalog/item")
    namespaces: dict[Name, Text] | None = Field(default=None, max_length=ENTRIES_MAX)
    entry: Text | None = Field(default=None, description="zip entry pattern, e.g. *.csv")
    max_uncompressed_bytes: int | None = Field(default=None, ge=1)
    decimal_separator: Literal[".", ","] | None = Field(
        default=None, description='csv/xml: "," for amounts written 1.234,50'
    )

    def reader_options(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ProfileSettings(Strict):
    """The merchant-editable part of a profile (POST body; PATCH takes any subset)."""

    name: str = Field(min_length=1, max_length=200)
    store_id: str = Field(min_length=1, max_length=NAME_MAX)
    source: Source
    format: FeedFormat = Field(default_factory=FeedFormat)
    mapping: dict[Name, Text] = Field(max_length=ENTRIES_MAX)
    # Values for fields the file lacks, the same on every row (e.g. {"brand": "Acme"}).
    constants: dict[Name, Text] = Field(default_factory=dict, max_length=ENTRIES_MAX)
    match_by: MatchBy = Field(default="sku", validate_default=True)
    key_transform: KeyTransformSettings | None = Field(
        default=None,
        description="The store's SKU made from the file's (a prefix and/or suffix, or a "
        "template of columns), before matching; null: the file's SKU as it is.",
    )
    fields: list[Name] = Field(
        default_factory=lambda: ["price", "stock"],
        min_length=1,
        max_length=ENTRIES_MAX,
        validate_default=True,
    )
    mode: Mode = "partial"
    # Where stock is written on multi-location stores (else the store's default).
    location_id: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool = True
    schedule: Schedule = Field(
        default_factory=lambda: ManualSchedule(type="manual"),
        description="When the profile runs by itself.",
    )
    rules: Rules = Field(
        default_factory=Rules,
        description="Price rules, stock rules, identifier handling.",
    )
    missing: Literal["ignore", "zero_stock", "disable"] = Field(
        default="ignore",
        description="Items this profile wrote before that today's file no longer lists: leave "
        "them (ignore), stock to 0 (zero_stock), hide the product till listed again (disable).",
    )
    known_bad: KnownBad = "isolate"
    conflicts: ConflictPolicies = Field(
        default_factory=dict,
        description="Per field, store_wins or feed_wins for a value changed in the store since "
        "feedsync wrote it (default: store_wins for prices and content; stock follows the feed).",
    )
    limits: SafetyLimits = Field(
        default_factory=SafetyLimits,
        description="Safety limits: a run over one is held for review (share rules from the "
        "profile's second successful run).",
    )
    webhooks: Webhooks = Field(default_factory=list)
    create: CreateSettings = Field(
        default_factory=CreateSettings,
        description="Create mode: the supplier's items the store lacks become new items.",
    )

    @field_validator("constants")
    @classmethod
    def _constant_values(cls, constants: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        mapping = info.data.get("mapping") or {}
        for field, value in constants.items():
            if field not in CANONICAL_FIELDS:
                raise ValueError(f"{field}: unknown field; allowed: {list(CANONICAL_FIELDS)}")
            if field in mapping:
                raise ValueError(f"{field}: is mapped to a column already")
            try:
                (parse_money if field in MONEY_FIELDS else _CONSTANT_CHECKS.get(field, str))(value)
            except ValueError as exc:
                raise ValueError(f"{field}: {exc}") from None
        return constants

    @field_validator("mapping")
    @classmethod
    def _known_fields(cls, mapping: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(mapping) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {list(CANONICAL_FIELDS)}")
        empty = sorted(k for k, v in mapping.items() if not v.strip())
        if empty:
            raise ValueError(f"column name for {empty} is empty")
        return mapping

    @field_validator("match_by")
    @classmethod
    def _match_key_mapped(cls, match_by: str, info: ValidationInfo) -> str:
        mapping = info.data.get("mapping") or {}
        keys = {"sku": ("sku",), "barcode": ("barcode",), "sku_then_barcode": ("sku", "barcode")}
        if not any(k in mapping for k in keys[match_by]):
            raise ValueError(f"matching by {match_by} needs a column mapped to {keys[match_by]}")
        return match_by

    @field_validator("key_transform")
    @classmethod
    def _reshapes_skus(
        cls, key_transform: KeyTransformSettings | None, info: ValidationInfo
    ) -> KeyTransformSettings | None:
        return check_key_transform(
            key_transform, info.data.get("match_by"), info.data.get("mapping") or {}
        )

    @field_validator("fields")
    @classmethod
    def _writable_and_mapped(cls, fields: list[str], info: ValidationInfo) -> list[str]:
        bad = sorted(set(fields) - set(WRITABLE_FIELDS))
        if bad:
            raise ValueError(f"field(s) {bad} cannot be written; writable: {list(WRITABLE_FIELDS)}")
        supplied = {**(info.data.get("mapping") or {}), **(info.data.get("constants") or {})}
        unmapped = [f for f in fields if f not in supplied]
        if unmapped:
            raise ValueError(f"field(s) {unmapped} have no column in mapping (or constant)")
        return list(dict.fromkeys(fields))


class Plan(BaseModel):
    """A tenant's plan limits."""

    max_profiles: int = Field(default=50, ge=1)
    min_interval_minutes: int = Field(default=15, ge=1)
    max_rows: int = Field(default=2_000_000, ge=1)


class TenantSettings(BaseModel):
    """Per-tenant settings: the global (``default``) schedule, timezone and plan."""

    tenant_id: str
    schedule: TenantSchedule = Field(
        default_factory=lambda: IntervalSchedule(type="interval", every_minutes=1440)
    )
    plan: Plan = Field(default_factory=Plan)


class PatchProfile(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    store_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_MAX,
        description="Move the profile to another store of the tenant: checked as on create; "
        "refused while it runs; what it wrote, its conflicts and refused items (the old "
        "store's items) are forgotten.",
    )
    source: Source | None = None
    format: FeedFormat | None = None
    rules: Rules | None = None
    constants: dict[Name, Text] | None = Field(default=None, max_length=ENTRIES_MAX)
    mapping: dict[Name, Text] | None = Field(default=None, max_length=ENTRIES_MAX)
    match_by: MatchBy | None = None
    key_transform: KeyTransformSettings | None = None
    fields: list[Name] | None = Field(default=None, max_length=ENTRIES_MAX)
    mode: Mode | None = None
    location_id: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    schedule: Schedule | None = None
    limits: SafetyLimits | None = Field(
        default=None,
        description="Merged into the profile's limits: the rules named change (null switches "
        "one off), the others keep their values.",
    )
    conflicts: ConflictPolicies | None = Field(
        default=None,
        description="Merged into the profile's policies: the fields named change, the others "
        "keep theirs.",
    )
    missing: Literal["ignore", "zero_stock", "disable"] | None = None
    webhooks: Webhooks | None = None
    known_bad: KnownBad | None = None
    create: CreateSettings | None = None


class SchedulePreviewBody(Strict):
    """A schedule to try before saving it: its next run times."""

    schedule: Schedule
    count: int = Field(default=5, ge=1, le=20, description="how many run times")


class StartRunBody(Strict):
    mode: Mode | None = None
    # Fetch, parse and match against the store as it is now, write nothing: the run ends
    # "previewed" with its changes kept for review and ``POST /runs/{id}/apply``.
    preview: bool = False


# ------------------------------------------------------------------ stored records
class ImportProgress(BaseModel):
    """A catalog import under way: set when it is asked for, counted as it reads, cleared
    when it ends (so a page can show a count, and tell a finished re-import from a slow one)."""

    mode: ImportMode
    started_at: datetime
    read: int = 0  # variants read so far


class Store(BaseModel):
    tenant_id: str
    store_id: str
    name: str
    platform: Platform
    api_url: str
    secret_ref: str
    options: StoreOptions = Field(default_factory=StoreOptions)
    status: StoreStatus = "setting_up"
    variant_count: int = 0
    catalog_key: str | None = None
    # When the last import started (the next incremental one reads from here) and how.
    imported_at: datetime | None = None
    import_mode: ImportMode | None = None
    error: str | None = None
    # The last import's failure as a name (``store_auth_error``: the store rejects its token).
    error_code: str | None = None
    importing: ImportProgress | None = None
    created_at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude={"tenant_id", "secret_ref"})


class RunSummary(BaseModel):
    run_id: str
    status: RunStatus
    finished_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None


class Profile(ProfileSettings):
    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    profile_id: str
    status: Literal["ready", "running"] = "ready"
    current_run_id: str | None = None
    current_run_since: datetime | None = None  # when the lock was taken
    disabled_reason: str | None = None
    upload_key: str | None = None
    upload_version: str | None = None  # the S3 version of upload_key that was uploaded
    uploaded_at: datetime | None = None
    pending_upload: PendingUpload | None = None  # stored with "start": false, not synced yet
    last_run: RunSummary | None = None
    last_sync_at: datetime | None = None
    # The last successfully synced file, as Fetch recorded it on the run (url, etag,
    # last_modified, size, mtime, sha256; an upload's version): what an ``automatic``
    # schedule's probe compares against (domain/source_state.py).
    last_source: dict[str, Any] | None = None
    # The automatic schedule's probes: the last that found the file unchanged, how many did
    # since the file last changed, and when a run last read a file other than the last one.
    last_checked_at: datetime | None = None
    checks: int = 0
    last_changed_at: datetime | None = None
    # When the schedule (or enabled) was last set: a fire before it was never due.
    schedule_since: datetime | None = None
    # Rows in the last file when that was more than the plan allows (see core/plans.py).
    rows_over_plan: int | None = None
    # Rows of the last successful run that read a file (the min_rows_share limit).
    last_file_rows: int | None = None
    webhook_secret_ref: str | None = None  # the webhooks' signing secret (Secrets Manager)
    created_at: datetime
    _new_webhook_secret: str | None = PrivateAttr(default=None)  # answered once, never kept

    def public(self) -> dict[str, object]:
        body = self.model_dump(mode="json", exclude={"tenant_id", "webhook_secret_ref"})
        body["has_webhook_secret"] = bool(self.webhook_secret_ref)
        if self._new_webhook_secret:
            body["webhook_secret"] = self._new_webhook_secret
        source = body["source"]
        if isinstance(source, dict):
            source.pop("credentials", None)
            source["has_credentials"] = bool(source.pop("secret_ref", None))
        return body


class Progress(BaseModel):
    """Items applied / items to apply. ``shards`` holds each shard's applied count.

    Shards write absolute counts, so a retried shard cannot count its batches twice.
    """

    done: int = 0
    total: int = 0
    shards: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sum_shards(self) -> Progress:
        if self.shards:
            self.done = max(self.done, sum(self.shards.values()))
        return self

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, self.done * 100 // self.total)


COUNT_NAMES: tuple[str, ...] = (
    "rows", "matched", "not_found", "duplicates", "changed", "unchanged", "updated", "failed",
    "gone", "row_errors", "stale", "pending", "conflicts", "missing", "invalid", "created",
)  # fmt: skip


class Run(BaseModel):
    tenant_id: str
    run_id: str
    profile_id: str
    store_id: str
    trigger: Trigger
    mode: Mode
    status: RunStatus = "queued"
    progress: Progress = Field(default_factory=Progress)
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    source: dict[str, Any] = Field(default_factory=dict)
    log_key: str | None = None
    # The run's changes (plan and before-image, domain/changes.py) and their tallies.
    changes_key: str | None = None
    change_counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    # Preview, apply, retry, revert (issue 12).
    preview: bool = False
    parent_run_id: str | None = None
    # Applies of this run so far: each is an execution of its own (``execution_name``).
    round: int = 0
    # The safety limits the run's changes break (each: rule, limit, measured, examples):
    # a run that is not a preview is then held.
    held_reasons: list[dict[str, Any]] = Field(default_factory=list)
    # Set by an update shard that failed for good (child executions lose the reason).
    shard_error: str | None = None
    # Why a run was skipped (black-out, already running, source unchanged) or cancelled.
    reason: str | None = None
    # POST /runs/{id}/cancel: the steps stop at their next boundary (between batches).
    cancel_requested_at: datetime | None = None
    scheduled_time: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def execution_name(self) -> str:
        """The Step Functions execution of the run's latest start or apply."""
        return self.run_id if self.round == 0 else f"{self.run_id}-apply-{self.round}"

    @property
    def plan_expires_at(self) -> datetime:
        """Until when its pending changes can be applied (or its failed ones retried)."""
        return self.created_at + PLAN_KEPT

    @property
    def before_image_expires_at(self) -> datetime:
        """Until when what it replaced in the store is kept, so the run can be reverted."""
        return self.created_at + BEFORE_IMAGE_KEPT

    def public(self) -> dict[str, object]:
        body = self.model_dump(
            mode="json", exclude={"tenant_id", "log_key", "shard_error", "changes_key", "round"}
        )
        body["plan_expires_at"] = self.plan_expires_at.isoformat()
        body["before_image_expires_at"] = self.before_image_expires_at.isoformat()
        progress = self.progress
        body["progress"] = {
            "done": progress.done,
            "total": progress.total,
            # Before the plan exists the total is not known: no percentage (a bar at 100 %
            # while the file is still read would be a lie).
            "percent": None if self.status in PLANNING else progress.percent,
        }
        body["counts"] = {name: self.counts.get(name, 0) for name in COUNT_NAMES}
        return body


def utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
