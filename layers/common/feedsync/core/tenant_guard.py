"""Whether a tenant may run: one read of its record on the start path (core/tenants.py
disables and enables it)."""

from __future__ import annotations

from feedsync.core.deps import Deps
from feedsync.errors import Conflict


def refusal(deps: Deps, tenant_id: str) -> Conflict | None:
    """409 ``tenant_disabled`` with the operator's reason when the tenant may not run."""
    if deps.account_records is None:
        return None  # (a world without account records: every tenant runs)
    found = deps.account_records.get_tenant(tenant_id)
    if found is None or found.status == "active":
        return None
    why = found.disabled_reason or "disabled by the operator"
    return Conflict("tenant_disabled", f"the tenant is disabled: {why}")
