"""The words runs, stores and profiles are described in (shared by the API bodies,
the stored records and the step hand-offs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

RunStatus = Literal[
    "queued", "preparing", "matching", "updating", "succeeded", "failed",
    "previewed", "partially_applied", "held", "skipped", "cancelled",
]  # fmt: skip
# A run's changes can be applied for a week; what it replaced is kept for a month (revert).
PLAN_KEPT = timedelta(days=7)
BEFORE_IMAGE_KEPT = timedelta(days=30)
ACTIVE_STATUSES: frozenset[str] = frozenset({"queued", "preparing", "matching", "updating"})
# Until a run leaves these, the number of items it will write is not known.
PLANNING: frozenset[str] = ACTIVE_STATUSES - {"updating"}
Trigger = Literal["manual", "upload", "schedule", "chain", "retry", "revert", "reapply"]
# What an execution does: a run from the file, or applying a run's stored changes.
Action = Literal["run", "apply", "retry", "revert", "reapply"]
Mode = Literal["partial", "full"]
MatchBy = Literal["sku", "barcode", "sku_then_barcode"]
ImportMode = Literal["full", "incremental", "by_date"]
StoreStatus = Literal["setting_up", "ready", "import_failed"]
