"""API keys and the audit trail (core/api_keys.py, core/audit.py) over in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from account_records_fakes import FakeAccountRecords
from fakes import World

from feedsync.core import api_keys, audit
from feedsync.errors import InvalidRequest, NotFound


@dataclass(frozen=True)
class Who:
    tenant_id: str = "t1"
    actor: str = "owner@example.com"
    actor_kind: str = "user"


@pytest.fixture
def accounts(world: World) -> FakeAccountRecords:
    fake = FakeAccountRecords()
    world.deps.account_records = fake
    return fake


def test_a_created_key_is_shown_once_and_authenticates_with_its_role(
    world: World, accounts: FakeAccountRecords
) -> None:
    # When an owner creates a viewer key
    created = api_keys.create_key(world.deps, Who(), "nightly export", "viewer")
    # Then the secret is answered once and only its hash is kept
    assert created.key.startswith("fsk_") and len(created.key) > 40
    assert all(created.key not in k.model_dump_json() for k in accounts.keys.values())
    # and it authenticates as the tenant's viewer key
    key = api_keys.authenticate(world.deps, created.key)
    assert key is not None and (key.tenant_id, key.role, key.name) == (
        "t1",
        "viewer",
        "nightly export",
    )
    # and the list shows it without its secret or hash
    listed = api_keys.list_keys(world.deps, "t1")
    assert [(k.id, k.name, k.role, k.created_by) for k in listed] == [
        (created.id, "nightly export", "viewer", "owner@example.com")
    ]
    dumped = listed[0].model_dump_json()
    assert created.key not in dumped and api_keys.hash_key(created.key) not in dumped
    # and the audit says who created it
    (event,) = audit.page(world.deps, "t1").events
    assert (event.action, event.actor, event.target) == (
        "api_key.created", "owner@example.com", created.id,
    )  # fmt: skip


def test_last_used_is_written_at_most_once_a_minute(
    world: World, accounts: FakeAccountRecords
) -> None:
    # Given a key
    created = api_keys.create_key(world.deps, Who(), "script", "editor")
    # When a script uses it 50 times within a minute
    for _ in range(50):
        api_keys.authenticate(world.deps, created.key)
        world.clock.advance(1)
    # Then its last use was written once, and again once the minute has passed
    assert accounts.touches == 1
    world.clock.advance(20)
    api_keys.authenticate(world.deps, created.key)
    assert accounts.touches == 2
    assert api_keys.list_keys(world.deps, "t1")[0].last_used_at == world.clock()


def test_a_revoked_key_is_refused_and_another_tenant_cannot_revoke_it(
    world: World, accounts: FakeAccountRecords
) -> None:
    created = api_keys.create_key(world.deps, Who(), "script", "editor")
    # When another tenant's owner tries to revoke it, Then it is not found (404), still valid
    with pytest.raises(NotFound):
        api_keys.revoke_key(world.deps, Who(tenant_id="t2"), created.id)
    assert api_keys.authenticate(world.deps, created.key) is not None
    # When its tenant revokes it (a minute on), Then it authenticates no more; the audit says so
    world.clock.advance(60)
    api_keys.revoke_key(world.deps, Who(), created.id)
    assert api_keys.authenticate(world.deps, created.key) is None
    assert [e.action for e in audit.page(world.deps, "t1").events] == [
        "api_key.revoked", "api_key.created",
    ]  # fmt: skip


def test_the_audit_pages_newest_first(world: World, accounts: FakeAccountRecords) -> None:
    # Given 5 events a second apart
    for n in range(5):
        audit.record(world.deps, Who(), "run.started", f"run_{n}", "p1")
        world.clock.advance(1)
    # When read two at a time, Then newest first, each once, with a cursor until the end
    first = audit.page(world.deps, "t1", limit=2)
    second = audit.page(world.deps, "t1", limit=2, cursor=first.next)
    third = audit.page(world.deps, "t1", limit=2, cursor=second.next)
    targets = [e.target for p in (first, second, third) for e in p.events]
    assert targets == ["run_4", "run_3", "run_2", "run_1", "run_0"]
    assert third.next is None
    # and each event is kept for the retention (its TTL)
    kept = accounts.audit["t1"][0]["expires_at"] - int(world.clock().timestamp())
    assert kept >= int(audit.RETENTION.total_seconds()) - 10


def test_a_limit_out_of_bounds_and_an_unknown_action_are_refused(
    world: World, accounts: FakeAccountRecords
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        audit.page(world.deps, "t1", limit=0)
    assert refused.value.field == "limit"
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(world.deps, Who(), "run.exploded", "run_1")


def test_a_sign_in_is_recorded_once_however_many_requests_follow(
    world: World, accounts: FakeAccountRecords
) -> None:
    # When 20 requests come with the tokens of one sign-in, then 3 of a second sign-in
    recorded = [audit.sign_in(world.deps, Who(), "origin-jti-1") for _ in range(20)]
    recorded += [audit.sign_in(world.deps, Who(), "origin-jti-2") for _ in range(3)]
    # Then two sign-ins are in the trail, each the first request of its session
    assert recorded.count(True) == 2 and recorded[0] and recorded[20]
    events = audit.page(world.deps, "t1").events
    assert [(e.action, e.actor) for e in events] == [("sign_in", "owner@example.com")] * 2


def test_a_trail_that_cannot_be_written_does_not_fail_the_action(
    world: World, accounts: FakeAccountRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table that refuses the audit write
    def refuse(*_args: object) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(accounts, "put_audit", refuse)
    # When a key is created, Then the key is made all the same
    created = api_keys.create_key(world.deps, Who(), "script", "viewer")
    assert api_keys.authenticate(world.deps, created.key) is not None
