"""API keys, the audit trail and tenants' records in the table (moto): what the authorizer,
GET /api-keys, GET /audit and the operator CLI read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from feedsync.adapters.accounts import DynamoAccounts
from feedsync.adapters.members import DynamoMembers
from feedsync.errors import InvalidRequest
from feedsync.models.accounts import ApiKeyRecord

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _key(n: int, tenant: str = "t1") -> ApiKeyRecord:
    return ApiKeyRecord(
        tenant_id=tenant, key_id=f"key_{n}", key_hash=f"{n:064x}", name=f"script {n}",
        role="viewer", created_at=T0 + timedelta(minutes=n), created_by="owner@example.com",
    )  # fmt: skip


def _raw_items(table: tuple[str, Any]) -> list[dict[str, Any]]:
    return table[1].scan(TableName=table[0])["Items"]


def test_a_key_is_found_by_its_hash_listed_by_its_tenant_and_gone_once_revoked(
    table: tuple[str, Any],
) -> None:
    # Given two keys of t1 and one of t2
    accounts = DynamoAccounts(*table)
    for record in (_key(1), _key(2), _key(3, tenant="t2")):
        accounts.put_api_key(record)
    # When one is used, Then the lookup finds it with its tenant and role
    found = accounts.api_key(f"{1:064x}")
    assert found is not None and (found.tenant_id, found.role) == ("t1", "viewer")
    accounts.touch_api_key(f"{1:064x}", T0 + timedelta(hours=1))
    # Then t1's list holds its two keys, with the use, and never t2's
    listed = {k.key_id: k for k in accounts.list_api_keys("t1")}
    assert set(listed) == {"key_1", "key_2"}
    assert listed["key_1"].last_used_at == T0 + timedelta(hours=1)
    assert listed["key_2"].last_used_at is None
    # When t2 tries to revoke t1's key, Then nothing happens
    assert accounts.delete_api_key("t2", "key_1") is None
    assert accounts.api_key(f"{1:064x}") is not None
    # When t1 revokes it, Then its hash no longer finds it and the list lost it
    assert accounts.delete_api_key("t1", "key_1") is not None
    assert accounts.api_key(f"{1:064x}") is None
    assert [k.key_id for k in accounts.list_api_keys("t1")] == ["key_2"]
    # and touching a revoked key brings nothing back
    accounts.touch_api_key(f"{1:064x}", T0)
    assert accounts.api_key(f"{1:064x}") is None


def test_no_secret_is_stored(table: tuple[str, Any]) -> None:
    # Given a key stored by its hash
    accounts = DynamoAccounts(*table)
    accounts.put_api_key(_key(7))
    # Then no item holds anything but the hash, and the lookup item holds no hash at all
    items = _raw_items(table)
    lookup = next(i for i in items if i["PK"]["S"].startswith("KEY#"))
    assert "key_hash" not in lookup and "key" not in lookup
    assert all("secret" not in json.dumps(i) for i in items)


def test_the_audit_pages_newest_first_with_an_opaque_cursor(table: tuple[str, Any]) -> None:
    # Given 7 events of t1 (and one of t2)
    accounts = DynamoAccounts(*table)
    for n in range(7):
        at = (T0 + timedelta(seconds=n)).isoformat(timespec="microseconds")
        event = {"at": at, "id": f"{n:08x}", "actor": "a", "actor_kind": "user",
                 "action": "run.started", "target": f"run_{n}", "detail": ""}  # fmt: skip
        accounts.put_audit("t1", event, expires_at=2_000_000_000)
    accounts.put_audit("t2", {**event, "target": "other"}, expires_at=2_000_000_000)
    # When read 3 at a time
    seen: list[str] = []
    cursor: str | None = None
    while True:
        events, cursor = accounts.audit_page("t1", 3, cursor)
        seen += [e["target"] for e in events]
        if cursor is None:
            break
        assert "AUDIT" not in cursor and "t1" not in cursor  # opaque
    # Then every event of t1 comes once, newest first
    assert seen == [f"run_{n}" for n in reversed(range(7))]
    # and each event expires (TTL)
    assert all("expires_at" in i for i in _raw_items(table) if i["SK"]["S"].startswith("AUDIT#"))


def test_a_cursor_not_given_by_the_api_is_refused_naming_it(table: tuple[str, Any]) -> None:
    accounts = DynamoAccounts(*table)
    with pytest.raises(InvalidRequest) as refused:
        accounts.audit_page("t1", 3, "not-a-cursor")
    assert refused.value.field == "cursor"


def test_a_sign_in_session_is_claimed_once(table: tuple[str, Any]) -> None:
    accounts = DynamoAccounts(*table)
    assert accounts.claim_sign_in("t1", "jti-1", 2_000_000_000) is True
    assert accounts.claim_sign_in("t1", "jti-1", 2_000_000_000) is False
    assert accounts.claim_sign_in("t1", "jti-2", 2_000_000_000) is True


def test_tenants_are_listed_without_a_scan_and_disabled_with_a_reason(
    table: tuple[str, Any],
) -> None:
    # Given two tenants
    accounts = DynamoAccounts(*table)
    members = DynamoMembers(*table)  # (the tenant item's writer: sign-up and the operator)
    for n in (1, 2):
        members.create_tenant(f"t{n}", f"Shop {n}", T0.isoformat(), "operator")
    # When one is disabled
    assert accounts.set_tenant_status("t2", "disabled", "unpaid invoice") is True
    # Then both are listed (from the index), the second disabled with the reason
    listed = {t.tenant_id: t for t in accounts.list_tenants()}
    assert set(listed) == {"t1", "t2"}
    assert (listed["t2"].status, listed["t2"].disabled_reason) == ("disabled", "unpaid invoice")
    # and a tenant that does not exist is not created by a status change
    assert accounts.set_tenant_status("t9", "disabled", "x") is False
    assert accounts.get_tenant("t9") is None


def test_runs_since_a_run_id_are_counted(table: tuple[str, Any]) -> None:
    # Given run items whose ids sort by time
    name, client = table
    for run_id in ("run_001", "run_005", "run_009"):
        client.put_item(
            TableName=name, Item={"PK": {"S": "TENANT#t1"}, "SK": {"S": f"RUN#{run_id}"}}
        )
    client.put_item(TableName=name, Item={"PK": {"S": "TENANT#t1"}, "SK": {"S": "STORE#s"}})
    # Then those from run_005 on are counted
    assert DynamoAccounts(*table).count_runs_since("t1", "run_005") == 2


def test_a_key_of_the_previous_release_is_listed_from_its_first_use_and_revocable(
    table: tuple[str, Any],
) -> None:
    # Given a key the previous release wrote: only its tenant and kind, no listing item
    name, client = table
    accounts = DynamoAccounts(name, client=client)
    old_hash = f"{42:064x}"
    client.put_item(
        TableName=name,
        Item={"PK": {"S": f"KEY#{old_hash}"}, "SK": {"S": "KEY"},
              "tenant_id": {"S": "t1"}, "kind": {"S": "api_key"}},
    )  # fmt: skip
    assert accounts.list_api_keys("t1") == []
    # When it is used
    used = accounts.api_key(old_hash)
    # Then it is the owner key "default", and from now on t1's list shows it
    assert used is not None and (used.name, used.role) == ("default", "owner")
    assert [(k.key_id, k.name, k.role) for k in accounts.list_api_keys("t1")] == [
        (f"key_{old_hash[:16]}", "default", "owner")
    ]
    # and a second use lists it no second time
    assert accounts.api_key(old_hash) == used
    assert len(accounts.list_api_keys("t1")) == 1
    # When t1's owner revokes it by its listed id, Then it no longer works
    assert accounts.delete_api_key("t1", f"key_{old_hash[:16]}") is not None
    assert accounts.api_key(old_hash) is None
    assert accounts.list_api_keys("t1") == []


def test_the_operator_migration_lists_every_old_key_once(table: tuple[str, Any]) -> None:
    # Given two old keys of t1 and t2, and one key of this release
    name, client = table
    accounts = DynamoAccounts(name, client=client)
    for n, tenant in ((51, "t1"), (52, "t2")):
        client.put_item(
            TableName=name,
            Item={"PK": {"S": f"KEY#{n:064x}"}, "SK": {"S": "KEY"},
                  "tenant_id": {"S": tenant}, "kind": {"S": "api_key"}},
        )  # fmt: skip
    accounts.put_api_key(_key(3))
    # When the operator's scan finds the old ones and lists each
    old = accounts.legacy_keys()
    assert sorted(k.tenant_id for k in old) == ["t1", "t2"]
    assert [accounts.list_legacy_key(k) for k in old] == [True, True]
    # Then each tenant's list shows its old key, none is left to migrate, and a rerun does nothing
    assert {k.name for k in accounts.list_api_keys("t1")} == {"default", "script 3"}
    assert [k.name for k in accounts.list_api_keys("t2")] == ["default"]
    assert accounts.legacy_keys() == []
    assert accounts.list_legacy_key(old[0]) is False
