"""Named domain errors.

The class name is the Lambda ``errorType`` that Step Functions sees, so the
state machine's Retry/Catch match on these names. Transient errors are the only
ones retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

# Caps on what a message quotes back (a 100,000-column header, a 1 MB cell): lists show
# their first LIST_LIMIT names and "and N more", a name its first NAME_LIMIT characters,
# and any message is cut at MESSAGE_LIMIT characters saying how many more there were.
LIST_LIMIT: Final = 20
NAME_LIMIT: Final = 100
MESSAGE_LIMIT: Final = 4000


def shorten(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` quoted (repr), its first ``limit`` characters and how many more if longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text) - limit:,} more characters)"


def name_list(names: Iterable[str], limit: int = LIST_LIMIT, *, empty: str = "(none)") -> str:
    """``'a', 'b', 'c' and 7 more``: the first ``limit`` names quoted, then the count left."""
    items = list(names)
    shown = ", ".join(shorten(str(n)) for n in items[:limit])
    more = len(items) - limit
    if more > 0:
        return f"{shown} and {more:,} more"
    return shown or empty


class FeedsyncError(Exception):
    """Base of every error a merchant may read: the message must say what and where."""

    code = "error"

    def __init__(self, message: str) -> None:
        if len(message) > MESSAGE_LIMIT:
            extra = len(message) - MESSAGE_LIMIT
            message = f"{message[:MESSAGE_LIMIT]}... ({extra:,} more characters)"
        super().__init__(message)
        self.message = message


# -- transient: Retry in the ASL -------------------------------------------------
class TransientError(FeedsyncError):
    code = "transient"


class SourceUnavailable(TransientError):
    """The supplier's server answered 5xx or timed out."""

    code = "source_unavailable"


class StoreUnavailable(TransientError):
    """The store answered 5xx / timed out / kept rate-limiting past our patience."""

    code = "store_unavailable"


# -- permanent: Catch -> MarkFailed ---------------------------------------------
class SourceError(FeedsyncError):
    """The file could not be fetched (not found, refused, auth)."""

    code = "source_error"


class FeedFormatError(FeedsyncError):
    """File-level problem: nothing in the store is changed."""

    code = "feed_format_error"


class MissingColumnsError(FeedFormatError):
    code = "missing_columns"

    def __init__(
        self, file_name: str, missing: list[str], available: list[str], named_by: str = "mapped"
    ) -> None:
        self.file_name = file_name
        self.missing = missing
        self.available = available
        what = "mapped column(s)" if named_by == "mapped" else f"column(s) of {named_by}"
        super().__init__(
            f"{file_name}: {what} {name_list(missing)} not found in the "
            f"header; the file's columns are: {name_list(available)}"
        )


class NoDataRowsError(FeedFormatError):
    code = "no_data_rows"


class StoreAuthError(FeedsyncError):
    """The store rejected the credentials (401/403)."""

    code = "store_auth_error"


class StoreRequestError(FeedsyncError):
    """The store rejected a request we cannot split further (4xx other than 422/429)."""

    code = "store_request_error"


class PlanLimitExceeded(FeedsyncError):
    """The file is bigger than the tenant's plan allows: nothing is changed."""

    code = "plan_limit"


class SourceUnchanged(FeedsyncError):
    """An ``automatic`` schedule's source is the same file as last time: skip the run."""

    code = "source_unchanged"


class ShardsIncomplete(FeedsyncError):
    """Finalize found update shards without results: the run cannot be called a success."""

    code = "shards_incomplete"


class RunCancelled(FeedsyncError):
    """The run was cancelled (POST /runs/{id}/cancel): a step stops at its start, and the
    ASL's Catch sends the run to MarkCancelled (nothing more is written)."""

    code = "run_cancelled"


class NotFound(FeedsyncError):
    code = "not_found"


class Gone(FeedsyncError):
    """It existed and was removed for good (a run log past its retention): an API 410."""

    code = "gone"


class Conflict(FeedsyncError):
    """A start guard refused: ``reason`` is the machine-readable cause."""

    code = "conflict"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidRequest(FeedsyncError):
    code = "invalid_request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# -- source failures a merchant fixes in the profile (all SourceError: Catch -> MarkFailed) --
class SourceAuthError(SourceError):
    """The supplier's server refused the credentials."""

    code = "source_auth_error"


class SourceNotFound(SourceError):
    """No file at the path (or nothing matched the glob)."""

    code = "source_not_found"


class SourceTooLarge(SourceError):
    """The file is over the size limit: nothing past the limit is downloaded."""

    code = "source_too_large"


class SourceHostKeyMismatch(SourceError):
    """The SFTP server's host key is not the pinned one: the connection is refused."""

    code = "source_host_key_mismatch"


class NotificationError(FeedsyncError):
    """EventBridge or SNS refused a notification (no such bus or topic, no permission,
    an address it does not take): trying again will not help."""

    code = "notification_error"


class NotificationUnavailable(TransientError):
    """EventBridge or SNS could not take a notification now (throttled, internal error)."""

    code = "notification_unavailable"


# -- access: API 403s ------------------------------------------------------------------
class Forbidden(FeedsyncError):
    """The caller's role is below what the operation needs: ``needs`` names that role."""

    code = "forbidden"

    def __init__(self, needs: str, role: str = "", actor_kind: str = "user") -> None:
        who = "key" if actor_kind == "key" else "user"
        super().__init__(f"this needs the {needs} role; this {who} is a {role or 'non-member'}")
        self.needs = needs


class NoTenant(FeedsyncError):
    """A signed-in user who belongs to no tenant yet: only ``GET /me`` and ``POST /tenants``."""

    code = "no_tenant"

    def __init__(self) -> None:
        super().__init__(
            "you belong to no workspace yet: create one with POST /tenants, "
            "or ask an owner to invite you"
        )
