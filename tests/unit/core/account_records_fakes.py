"""The account records port in memory, with DynamoAccounts' conditions (keys, audit, tenants)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from feedsync.errors import InvalidRequest
from feedsync.models.accounts import ApiKeyRecord, TenantRecord


class FakeAccountRecords:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKeyRecord] = {}  # hash -> record
        self.audit: dict[str, list[dict[str, Any]]] = {}  # tenant -> events, oldest first
        self.sign_ins: set[tuple[str, str]] = set()
        self.tenants: dict[str, TenantRecord] = {}
        self.touches = 0
        self.runs: dict[str, list[str]] = {}

    def put_api_key(self, record: ApiKeyRecord) -> None:
        assert record.key_hash not in self.keys  # attribute_not_exists(PK)
        self.keys[record.key_hash] = record

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        return self.keys.get(key_hash)

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyRecord]:
        return [k for k in self.keys.values() if k.tenant_id == tenant_id]

    def delete_api_key(self, tenant_id: str, key_id: str) -> ApiKeyRecord | None:
        for key_hash, key in list(self.keys.items()):
            if key.tenant_id == tenant_id and key.key_id == key_id:
                return self.keys.pop(key_hash)
        return None

    def touch_api_key(self, key_hash: str, at: datetime) -> None:
        self.touches += 1
        if key_hash in self.keys:
            self.keys[key_hash] = self.keys[key_hash].model_copy(update={"last_used_at": at})

    def put_audit(self, tenant_id: str, event: dict[str, Any], expires_at: int) -> None:
        self.audit.setdefault(tenant_id, []).append({**event, "expires_at": expires_at})
        self.audit[tenant_id].sort(key=lambda e: (e["at"], e["id"]))

    def audit_page(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        newest_first = list(reversed(self.audit.get(tenant_id, [])))
        start = 0
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            except ValueError:
                raise InvalidRequest("cursor", "not a cursor this API gave") from None
        page = newest_first[start : start + limit]
        more = start + limit < len(newest_first)
        following = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return page, following if more else None

    def claim_sign_in(self, tenant_id: str, session: str, expires_at: int) -> bool:
        if (tenant_id, session) in self.sign_ins:
            return False
        self.sign_ins.add((tenant_id, session))
        return True

    def put_tenant(self, record: TenantRecord) -> None:
        self.tenants[record.tenant_id] = record

    def get_tenant(self, tenant_id: str) -> TenantRecord | None:
        return self.tenants.get(tenant_id)

    def list_tenants(self) -> list[TenantRecord]:
        return list(self.tenants.values())

    def set_tenant_status(self, tenant_id: str, status: str, reason: str | None) -> bool:
        if tenant_id not in self.tenants:
            return False
        update = {"status": status, "disabled_reason": reason}
        self.tenants[tenant_id] = self.tenants[tenant_id].model_copy(update=update)
        return True

    def count_runs_since(self, tenant_id: str, first_run_id: str) -> int:
        return sum(1 for r in self.runs.get(tenant_id, []) if r >= first_run_id)
