"""End-to-end (issue 18, keys): API keys with roles, revoked at once, the audit trail, and
the operator CLI (`feedsync admin --local tenants ...`) against `feedsync serve`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from e2e_support import Api, Served, demo_store

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def admin(serve: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": serve.info["aws_endpoint"],
        "PYTHONPATH": os.pathsep.join(["layers/common", "local", "."]),
    }
    return subprocess.run(
        [sys.executable, "-m", "feedsync_local.cli", "admin", "--local", "--json", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _audit(owner: Api) -> list[dict[str, Any]]:
    """The whole trail, newest first, read 3 at a time through the cursor."""
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        resp = owner.get("/audit", params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        events += page["events"]
        cursor = page["next"]
        if cursor is None:
            return events


def test_a_viewer_key_reads_cannot_write_and_is_refused_at_once_when_revoked(
    serve: Served, api: Api
) -> None:
    # Given the owner key feedsync serve prints creates a viewer key
    created = api.ok("POST", "/api-keys", {"name": "dashboard screen", "role": "viewer"}, 201)
    assert set(created) == {"id", "name", "role", "key"} and created["role"] == "viewer"
    viewer = Api(serve.api_url, created["key"])
    # When the viewer key reads, Then it may
    assert viewer.get("/profiles").status_code == 200
    # When it writes, Then 403 naming the role it needs
    refused = viewer.post("/stores", {"name": "x"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "forbidden" and refused.json()["needs"] == "editor"
    # and it cannot manage keys
    assert viewer.get("/api-keys").status_code == 403
    # When the owner lists keys, Then the new one is there with no secret and no hash
    listing = api.get("/api-keys")
    assert listing.status_code == 200
    mine = [k for k in listing.json()["api_keys"] if k["id"] == created["id"]]
    assert mine and mine[0]["name"] == "dashboard screen" and mine[0]["created_by"] == "key:default"
    assert mine[0]["last_used_at"] is not None  # its reads above
    assert "key" not in mine[0] and created["key"] not in listing.text
    assert "hash" not in listing.text
    # When the owner revokes it
    assert api.request("DELETE", f"/api-keys/{created['id']}").status_code == 204
    # Then its very next request is refused (no cached authorizer answer)
    assert viewer.get("/profiles").status_code == 401
    # and revoking it again is a 404
    assert api.request("DELETE", f"/api-keys/{created['id']}").status_code == 404
    # and the trail says who created and revoked it, newest first
    events = _audit(api)
    mine_events = [e for e in events if e["target"] == created["id"]]
    assert [(e["action"], e["actor"]) for e in mine_events] == [
        ("api_key.revoked", "key:default"), ("api_key.created", "key:default"),
    ]  # fmt: skip
    stamps = [e["at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)


def test_the_operator_creates_lists_replans_disables_and_enables_tenants(
    serve: Served, api: Api
) -> None:
    # When the operator creates a tenant with an owner invitation on the starter plan
    made = admin(serve, "tenants", "create", "--name", "Corner Shop",
                 "--owner-email", "owner@corner.example", "--plan", "starter")  # fmt: skip
    assert made.returncode == 0, made.stderr
    tenant = json.loads(made.stdout)
    assert tenant["name"] == "Corner Shop" and tenant["status"] == "active"
    assert tenant["owner"]["status"] == "invited" and tenant["owner"]["role"] == "owner"
    # Then the list shows it with its plan, usage and one (invited) user
    listed = admin(serve, "tenants", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {t["id"]: t for t in json.loads(listed.stdout)["tenants"]}
    assert lines[tenant["tenant_id"]]["plan"] == "starter"
    assert (lines[tenant["tenant_id"]]["profiles"], lines[tenant["tenant_id"]]["users"]) == (0, 1)
    assert "tenant-local" in lines  # serve's own tenant
    # When its plan changes, Then the list says so
    assert admin(serve, "tenants", "plan", tenant["tenant_id"], "pro").returncode == 0
    after = {t["id"]: t for t in json.loads(admin(serve, "tenants", "list").stdout)["tenants"]}
    assert after[tenant["tenant_id"]]["plan"] == "pro"
    # When an unknown plan or tenant is named, Then exit code 2 with the reason
    unknown = admin(serve, "tenants", "plan", tenant["tenant_id"], "platinum")
    assert unknown.returncode == 2 and "starter, standard, pro" in unknown.stderr
    missing = admin(serve, "tenants", "disable", "tenant_nope", "--reason", "x")
    assert missing.returncode == 2 and "tenant_nope" in missing.stderr


def test_a_disabled_tenant_reads_but_its_start_is_409_until_enabled(
    serve: Served, api: Api
) -> None:
    # Given a profile of serve's tenant on the demo store
    store = demo_store(api, serve)
    feed = {"type": "url", "url": serve.info["demo"]["feed_url"]}
    profile = api.create_profile(store["store_id"], feed, name="disabled tenant e2e")
    # When the operator disables the tenant
    off = admin(serve, "tenants", "disable", "tenant-local", "--reason", "invoice 7 unpaid")
    assert off.returncode == 0, off.stderr
    try:
        # Then its key still reads, and a Start is 409 tenant_disabled with the reason
        assert api.get(f"/profiles/{profile['profile_id']}").status_code == 200
        refused = api.post(f"/profiles/{profile['profile_id']}/runs", {})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "tenant_disabled"
        assert "invoice 7 unpaid" in refused.json()["message"]
    finally:
        on = admin(serve, "tenants", "enable", "tenant-local")
    assert on.returncode == 0, on.stderr
    # When enabled again, Then the Start runs
    run = api.start(profile["profile_id"])
    assert api.wait_run(run["run_id"], timeout_s=120)["status"] in (
        "succeeded",
        "partially_applied",
    )
    # and the trail holds the operator's two changes
    actions = [(e["action"], e["actor"]) for e in _audit(api)[:20]]
    assert ("tenant.disabled", "operator") in actions and ("tenant.enabled", "operator") in actions


def test_the_operator_lists_a_key_of_the_previous_release_which_then_can_be_revoked(
    serve: Served, api: Api
) -> None:
    # Given a key the previous release stored (only its tenant), unlisted
    secret = f"fsk_before_upgrade_{os.getpid()}"
    dynamo = boto3.client(
        "dynamodb", endpoint_url=serve.info["aws_endpoint"], region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    (table,) = dynamo.list_tables()["TableNames"]
    key_hash = hashlib.sha256(secret.encode()).hexdigest()
    dynamo.put_item(
        TableName=table,
        Item={"PK": {"S": f"KEY#{key_hash}"}, "SK": {"S": "KEY"},
              "tenant_id": {"S": "tenant-local"}, "kind": {"S": "api_key"}},
    )  # fmt: skip
    key_id = f"key_{key_hash[:16]}"
    assert key_id not in [k["id"] for k in api.ok("GET", "/api-keys")["api_keys"]]
    # When the operator migrates the old keys
    migrated = admin(serve, "keys", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    # Then it is named, the owner sees it listed as "default", and revoking it ends it
    assert {"tenant_id": "tenant-local", "id": key_id} in json.loads(migrated.stdout)["listed"]
    listed = {k["id"]: k for k in api.ok("GET", "/api-keys")["api_keys"]}
    assert (listed[key_id]["name"], listed[key_id]["role"]) == ("default", "owner")
    assert api.request("DELETE", f"/api-keys/{key_id}").status_code == 204
    assert Api(serve.api_url, secret).get("/profiles").status_code == 401
