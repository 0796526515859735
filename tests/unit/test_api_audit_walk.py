"""Every write the API takes leaves an event in the tenant's audit trail (issue 18).

The writes come from the role table (``routes/access.py``), so a new write route fails here
until a request for it is added below and it records something."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from routes.access import ROUTE_ROLES

from feedsync.core import audit
from tests.unit.api_support import call
from tests.unit.core.account_records_fakes import FakeAccountRecords
from tests.unit.core.fakes import World
from tests.unit.core.notify_fakes import FakeEmailTopic, FakeNotificationLog

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]
# POSTs that change nothing (they answer a preview): no event is due.
READS_BY_POST = {("POST", "/schedule-preview"), ("POST", "/file-preview")}
# Writes on users and workspaces need the user pool: their events are proven over moto
# (tests/unit/adapters/test_accounts_on_moto.py) and end to end (test_keys_audit_admin_e2e).
NEEDS_THE_POOL = {
    ("POST", "/tenants"),
    ("POST", "/users"),
    ("PATCH", "/users/{user_id}"),
    ("DELETE", "/users/{user_id}"),
}
# One request per write route that succeeds on the world below, and the event it leaves.
WALK: dict[tuple[str, str], tuple[str, Any, str]] = {
    ("PUT", "/settings/schedule"): ("/settings/schedule", {"type": "manual"}, "settings.changed"),
    ("PUT", "/settings/notifications"): (
        "/settings/notifications",
        {"email": "ops@shop.example"},
        "settings.changed",
    ),
    ("POST", "/stores"): (
        "/stores",
        {
            "name": "New",
            "platform": "bigcommerce",
            "api_url": "https://api.bigcommerce.com/stores/abc123/v3",
            "credentials": {"access_token": "t"},
        },
        "store.created",
    ),
    ("PATCH", "/stores/{store_id}"): ("/stores/s1", {"name": "Acme"}, "store.changed"),
    ("POST", "/stores/{store_id}/import"): ("/stores/s1/import", {}, "store.changed"),
    ("DELETE", "/stores/{store_id}"): ("/stores/s2", None, "store.deleted"),
    ("POST", "/profiles"): (
        "/profiles",
        {
            "name": "New",
            "store_id": "s1",
            "source": {"type": "upload"},
            "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
        },
        "profile.created",
    ),
    ("PATCH", "/profiles/{profile_id}"): ("/profiles/p1", {"name": "Renamed"}, "profile.changed"),
    ("DELETE", "/profiles/{profile_id}"): ("/profiles/p3", None, "profile.deleted"),
    ("POST", "/profiles/{profile_id}/upload-url"): (
        "/profiles/p2/upload-url",
        {"start": True},
        "run.started",
    ),
    ("POST", "/profiles/{profile_id}/conflicts/reapply"): (
        "/profiles/p1/conflicts/reapply",
        {},
        "run.started",
    ),
    ("POST", "/profiles/{profile_id}/conflicts/dismiss"): (
        "/profiles/p1/conflicts/dismiss",
        {},
        "conflicts.dismissed",
    ),
    ("POST", "/profiles/{profile_id}/webhook-secret"): (
        "/profiles/p1/webhook-secret",
        None,
        "webhook_secret.rotated",
    ),
    ("POST", "/profiles/{profile_id}/runs"): ("/profiles/p1/runs", {}, "run.started"),
    ("POST", "/runs/{run_id}/cancel"): ("/runs/run_9/cancel", None, "run.cancelled"),
    ("POST", "/runs/{run_id}/apply"): ("/runs/run_9/apply", {}, "run.applied"),
    ("POST", "/runs/{run_id}/retry"): ("/runs/run_9/retry", {"only": "failed"}, "run.retried"),
    ("POST", "/runs/{run_id}/revert"): ("/runs/run_9/revert", None, "run.reverted"),
    ("POST", "/api-keys"): ("/api-keys", {"name": "ci", "role": "viewer"}, "api_key.created"),
    ("DELETE", "/api-keys/{key_id}"): ("/api-keys/{created_key}", None, "api_key.revoked"),
}
# Writes whose precondition (a previewed, failed or finished run; open conflicts) takes a whole
# pipeline to reach: the core's answer is given, so what is proven is the route's record of it
# (the core itself: tests/unit/core/test_review.py, test_conflicts.py).
GIVEN_BY_THE_CORE = {
    ("POST", "/runs/{run_id}/apply"): "apply_run",
    ("POST", "/runs/{run_id}/retry"): "retry_run",
    ("POST", "/runs/{run_id}/revert"): "revert_run",
    ("POST", "/profiles/{profile_id}/conflicts/reapply"): "reapply_conflicts",
    ("POST", "/profiles/{profile_id}/conflicts/dismiss"): "dismiss_conflicts",
}
WRITES = sorted(
    op for op, needs in ROUTE_ROLES.items()
    if op[0] != "GET" and needs != "public" and op not in READS_BY_POST
)  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """tenant-1 with two stores, an upload profile, a URL profile and one to delete."""
    made = World(str(tmp_path))
    made.tenant = "tenant-1"
    made.deps.account_records = FakeAccountRecords()
    made.deps.notification_log = FakeNotificationLog()
    made.deps.email = FakeEmailTopic()
    monkeypatch.setattr("routes.common.deps", lambda: made.deps)
    store = made.store(CATALOG)
    made.store(CATALOG, store_id="s2")
    made.profile(store)
    made.profile(store, profile_id="p2", source={"type": "upload"})
    made.profile(store, profile_id="p3")
    return made


def test_every_write_route_is_walked_or_proven_elsewhere() -> None:
    # Given the role table's writes, Then each has a request here or is a pool write
    assert set(WRITES) - set(WALK) - NEEDS_THE_POOL == set(), "add a request to WALK"
    assert set(WALK) | NEEDS_THE_POOL <= set(WRITES)


@pytest.mark.parametrize("operation", sorted(WALK), ids=" ".join)
def test_a_write_leaves_an_audit_event_by_the_caller(
    world: World, operation: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the world, and for the key route a key to revoke
    method, _ = operation
    path, body, action = WALK[operation]
    if "{created_key}" in path:
        made = call("POST", "/api-keys", json.dumps({"name": "old", "role": "viewer"}))
        path = path.replace("{created_key}", made[1]["id"])
    if operation == ("POST", "/runs/{run_id}/cancel"):
        world.run(world.profile_record("p1"), run_id="run_9")
    if operation in GIVEN_BY_THE_CORE:
        made_run = world.run_record(world.run(world.profile_record("p1"), run_id="run_10"))
        answer_of_core: Any = 2 if "dismiss" in path else made_run
        monkeypatch.setattr(
            f"routes.review.review.{GIVEN_BY_THE_CORE[operation]}",
            lambda *_args, **_kw: answer_of_core,
        )
    before = _trail(world)
    # When the owner key makes the write
    status, answer = call(method, path, None if body is None else json.dumps(body))
    # Then it succeeded, and the one new event names the action and the caller
    assert status < 300, answer
    assert _trail(world) - before == Counter({(action, "key:default"): 1})
    assert sum(_trail(world).values()) == sum(before.values()) + 1


def _trail(world: World) -> Counter[tuple[str, str]]:
    """The events as (action, actor), counted (the fake clock stands still: no order)."""
    return Counter((e.action, e.actor) for e in audit.page(world.deps, "tenant-1", 100).events)
