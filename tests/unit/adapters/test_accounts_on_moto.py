"""Sign-in and the users of a workspace, over the real adapters on moto (in-process): the
pool's tokens verified against its JWKS, memberships in the app's table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from feedsync.adapters.accounts import DynamoAccounts
from feedsync.adapters.cognito import CognitoDirectory
from feedsync.adapters.dynamo import DynamoRepository
from feedsync.adapters.jwks import HttpSigningKeys
from feedsync.adapters.members import DynamoMembers
from feedsync.core import accounts as core_accounts
from feedsync.core import audit
from feedsync.core.api_keys import hash_key as hash_api_key
from feedsync.core.deps import Deps
from feedsync.core.identity import Accounts, authenticate
from feedsync.domain.tokens import TokenRules, issuer_for
from feedsync.errors import Conflict, InvalidRequest, NotFound
from feedsync.models.accounts import Principal
from feedsync_local.template import load_template

REPO = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
PASSWORD = "Correct-horse-42"


@dataclass
class World:
    """The core's dependencies this needs: the table (tenant settings, API keys)."""

    deps: Deps
    repo: DynamoRepository


@dataclass
class Pool:
    accounts: Accounts
    world: World
    idp: Any
    client_id: str

    def sign_in(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        answer = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return dict(answer["AuthenticationResult"])

    def sign_up(self, email: str) -> dict[str, str]:
        self.idp.sign_up(
            ClientId=self.client_id,
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        self.idp.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode="1")
        # (Cognito marks the address verified by the confirmation, the pool auto-verifying
        # email; moto does not)
        self.idp.admin_update_user_attributes(
            UserPoolId=self.accounts.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )
        return self.sign_in(email)

    def caller(self, token: str) -> Principal:
        found = authenticate(self.world.deps, self.accounts, token)
        assert found is not None
        return found


@pytest.fixture
def pool(table: tuple[str, Any]) -> Iterator[Pool]:
    # Given the template's user pool and client, and the app's table (moto, in-process)
    name, dynamo = table
    resources = load_template(REPO / "template.yaml")["Resources"]
    props = resources["UserPool"]["Properties"]
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(
        PoolName="users",
        UsernameAttributes=props["UsernameAttributes"],
        AutoVerifiedAttributes=props["AutoVerifiedAttributes"],
    )["UserPool"]["Id"]
    client_props = resources["UserPoolClient"]["Properties"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=False,
        ExplicitAuthFlows=client_props["ExplicitAuthFlows"],
    )["UserPoolClient"]["ClientId"]
    issuer = issuer_for(REGION, pool_id)
    accounts = Accounts(
        members=DynamoMembers(name, client=dynamo),
        directory=CognitoDirectory(pool_id, client=idp),
        signing_keys=HttpSigningKeys(f"{issuer}/.well-known/jwks.json"),
        rules=TokenRules(issuer=issuer, client_id=client_id),
        region=REGION,
        user_pool_id=pool_id,
        cognito_endpoint=f"https://cognito-idp.{REGION}.amazonaws.com/",
    )
    repo = DynamoRepository(name, client=dynamo)
    unused: Any = None  # nothing here reaches S3, Step Functions or a store
    deps = Deps(
        repo=repo,
        blobs=unused,
        secrets=unused,
        executions=unused,
        invoker=unused,
        fetcher=unused,
        connectors=unused,
        catalog_import_function="catalog-import",
        addresses=unused,
        account_records=DynamoAccounts(name, client=dynamo),
    )
    yield Pool(accounts, World(deps, repo), idp, client_id)


def _owner(pool: Pool, tenant: str = "t-a", email: str = "owner@a.example") -> Principal:
    core_accounts.add_ready_user(pool.world.deps, pool.accounts, tenant, email, PASSWORD)
    return pool.caller(pool.sign_in(email)["IdToken"])


def test_an_owner_signs_in_with_either_token_and_is_known_by_email(pool: Pool) -> None:
    # Given the owner of workspace t-a, signed in
    core_accounts.add_ready_user(pool.world.deps, pool.accounts, "t-a", "Ann@A.example", PASSWORD)
    tokens = pool.sign_in("ann@a.example")
    # When the ID token and the access token are each presented
    by_id, by_access = pool.caller(tokens["IdToken"]), pool.caller(tokens["AccessToken"])
    # Then both are the same user, owner of t-a, named by email
    assert by_id == by_access
    assert (by_id.tenant_id, by_id.role, by_id.actor, by_id.actor_kind) == (
        "t-a", "owner", "ann@a.example", "user",
    )  # fmt: skip


def test_a_token_of_another_pool_client_or_a_tampered_one_is_not_a_caller(pool: Pool) -> None:
    # Given a signed-in owner and a second app client of the same pool
    _owner(pool)
    other = pool.idp.create_user_pool_client(
        UserPoolId=pool.accounts.user_pool_id,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    foreign = pool.idp.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "owner@a.example", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    genuine = pool.sign_in("owner@a.example")["IdToken"]
    head, _body, sig = genuine.split(".")
    _h, forged_body, _s = foreign.split(".")
    # Then neither the other client's token nor a spliced one proves anyone
    assert authenticate(pool.world.deps, pool.accounts, foreign) is None
    assert authenticate(pool.world.deps, pool.accounts, f"{head}.{forged_body}.{sig}") is None


def test_api_keys_carry_their_role_and_old_keys_are_the_default_owner_key(pool: Pool) -> None:
    # Given a key stored before keys had roles, and one stored with a role and a name
    deps = pool.world.deps
    pool.world.repo._put(f"KEY#{hash_api_key('fsk_old')}", "KEY", {"tenant_id": "t-a"})
    pool.world.repo._put(
        f"KEY#{hash_api_key('fsk_ci')}",
        "KEY",
        {"tenant_id": "t-a", "role": "viewer", "name": "ci", "key_id": "key_9"},
    )  # the item the keys routes write (POST /api-keys)
    # When each is presented
    old, ci = (
        authenticate(deps, pool.accounts, "fsk_old"),
        authenticate(deps, pool.accounts, "fsk_ci"),
    )
    # Then the old one is the owner key "default", the new one a viewer named by its name
    assert old is not None and (old.role, old.actor, old.actor_kind) == (
        "owner",
        "key:default",
        "key",
    )
    assert ci == Principal("t-a", "viewer", "key:ci", "key", "key_9")
    assert authenticate(deps, pool.accounts, "fsk_unknown") is None
    assert authenticate(deps, pool.accounts, "") is None


def test_sign_up_then_a_workspace_makes_the_user_its_owner_once(pool: Pool) -> None:
    # Given a user who signed up and belongs to no workspace
    tokens = pool.sign_up("bob@b.example")
    bob = pool.caller(tokens["IdToken"])
    assert (bob.tenant_id, bob.role) == ("", "")
    me = core_accounts.me(pool.world.deps, pool.accounts, bob)
    assert (me.email, me.tenant_id, me.role) == ("bob@b.example", None, None)
    # When the user creates a workspace
    made = core_accounts.create_tenant(pool.world.deps, pool.accounts, bob, "Bob's shop")
    # Then the user's next call is as its owner, on the default plan
    bob = pool.caller(tokens["AccessToken"])
    assert (bob.tenant_id, bob.role, bob.actor) == (made.tenant_id, "owner", "bob@b.example")
    me = core_accounts.me(pool.world.deps, pool.accounts, bob)
    assert (me.tenant_name, me.role, me.plan) == (
        "Bob's shop",
        "owner",
        pool.world.deps.default_plan,
    )
    # and a second workspace is refused
    with pytest.raises(Conflict) as refused:
        core_accounts.create_tenant(pool.world.deps, pool.accounts, bob, "Another")
    assert refused.value.reason == "already_member"


def test_an_invitation_adds_a_user_who_cannot_belong_to_two_workspaces(pool: Pool) -> None:
    # Given owners of two workspaces
    _owner(pool, "t-a", "owner@a.example")
    _owner(pool, "t-b", "owner@b.example")
    deps = pool.world.deps
    # When t-a's owner invites an editor
    invited = core_accounts.invite_user(deps, pool.accounts, "t-a", "Eve@A.example", "editor")
    # Then the user is in the pool (Cognito mails the password) and listed as invited
    assert (invited.email, invited.role, invited.status) == ("eve@a.example", "editor", "invited")
    assert pool.accounts.directory.find("eve@a.example") is not None
    listed = core_accounts.list_users(pool.accounts, "t-a").users
    assert [(u.email, u.status) for u in listed] == [
        ("owner@a.example", "active"), ("eve@a.example", "invited"),
    ]  # fmt: skip
    # and t-b's owner cannot invite the same person, nor t-a's owner twice
    with pytest.raises(Conflict) as elsewhere:
        core_accounts.invite_user(deps, pool.accounts, "t-b", "eve@a.example", "viewer")
    assert elsewhere.value.reason == "member_elsewhere"
    with pytest.raises(Conflict) as again:
        core_accounts.invite_user(deps, pool.accounts, "t-a", "eve@a.example", "viewer")
    assert again.value.reason == "already_member"
    # and t-b never sees t-a's users
    assert [u.email for u in core_accounts.list_users(pool.accounts, "t-b").users] == [
        "owner@b.example"
    ]


def test_the_last_owner_can_be_neither_demoted_nor_removed(pool: Pool) -> None:
    # Given a workspace with one owner and one viewer who has signed in
    owner = _owner(pool)
    viewer = core_accounts.add_ready_user(
        pool.world.deps, pool.accounts, "t-a", "vic@a.example", PASSWORD, "viewer"
    )
    # When the owner is demoted or removed, Then both are refused as last_owner
    for attempt in (
        lambda: core_accounts.change_role(pool.accounts, "t-a", owner.actor_id, "editor"),
        lambda: core_accounts.remove_user(pool.accounts, "t-a", owner.actor_id),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.reason == "last_owner"
    # When the viewer is made owner, Then the first owner may step down
    core_accounts.change_role(pool.accounts, "t-a", viewer.id, "owner")
    changed = core_accounts.change_role(pool.accounts, "t-a", owner.actor_id, "editor")
    assert changed.role == "editor"


def test_a_removed_user_is_refused_at_the_next_call_and_leaves_the_pool(pool: Pool) -> None:
    # Given an owner and an editor who has signed in
    _owner(pool)
    core_accounts.add_ready_user(
        pool.world.deps, pool.accounts, "t-a", "ed@a.example", PASSWORD, "editor"
    )
    token = pool.sign_in("ed@a.example")["IdToken"]
    ed = pool.caller(token)
    # When the owner removes the editor
    core_accounts.remove_user(pool.accounts, "t-a", ed.actor_id)
    # Then the same token now proves a user of no workspace, and the pool has no such user
    after = pool.caller(token)
    assert (after.tenant_id, after.role) == ("", "")
    assert pool.accounts.directory.find("ed@a.example") is None
    # and another workspace's owner cannot touch t-a's users: not found
    with pytest.raises(NotFound):
        core_accounts.remove_user(pool.accounts, "t-b", ed.actor_id)


def test_a_sign_in_is_in_the_audit_once_however_many_requests_its_tokens_make(
    pool: Pool,
) -> None:
    # Given an owner signed in twice (two sign-in sessions)
    core_accounts.add_ready_user(pool.world.deps, pool.accounts, "t-s", "sam@s.example", PASSWORD)
    first, second = pool.sign_in("sam@s.example"), pool.sign_in("sam@s.example")
    # When the first session's ID and access tokens make 10 requests each, the second's 3
    for _ in range(10):
        pool.caller(first["IdToken"])
        pool.caller(first["AccessToken"])
    for _ in range(3):
        pool.caller(second["AccessToken"])
    # Then the trail holds two sign-ins by the owner, no more
    trail = audit.page(pool.world.deps, "t-s").events
    assert [(e.action, e.actor) for e in trail] == [("sign_in", "sam@s.example")] * 2


def test_an_address_the_pool_refuses_is_a_422_naming_the_email(pool: Pool) -> None:
    # Given an address the form's pattern lets through but the pool does not take
    # When an owner invites it
    with pytest.raises(InvalidRequest) as refused:
        core_accounts.invite_user(pool.world.deps, pool.accounts, "t-a", "zoë@a.example", "viewer")
    # Then the refusal names the field and the address, and no membership was written
    assert refused.value.field == "email"
    assert "'zoë@a.example'" in refused.value.message
    assert core_accounts.list_users(pool.accounts, "t-a").users == []


def test_an_owner_invited_but_never_signed_in_does_not_let_the_last_owner_step_down(
    pool: Pool,
) -> None:
    # Given the sole owner, who invites a mistyped address as a second owner
    owner = _owner(pool)
    typo = core_accounts.invite_user(
        pool.world.deps, pool.accounts, "t-a", "typo@a.exmple", "owner"
    )
    assert typo.status == "invited"
    # When the first owner demotes or removes themself
    for attempt in (
        lambda: core_accounts.change_role(pool.accounts, "t-a", owner.actor_id, "editor"),
        lambda: core_accounts.remove_user(pool.accounts, "t-a", owner.actor_id),
    ):
        # Then both are refused: no owner who can sign in would be left
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.reason == "last_owner"
    assert pool.caller(pool.sign_in("owner@a.example")["IdToken"]).role == "owner"


def test_two_owners_demoting_each_other_at_once_leave_one_owner(pool: Pool) -> None:
    # Given two active owners, A and B
    a = _owner(pool, "t-a", "a@a.example")
    core_accounts.add_ready_user(pool.world.deps, pool.accounts, "t-a", "b@a.example", PASSWORD)
    b = pool.caller(pool.sign_in("b@a.example")["IdToken"])

    class ReadThenRaced(DynamoMembers):
        """The members as A's demotion reads them (B an owner); B steps down right after
        that read, before A's write."""

        raced = False

        def list_members(self, tenant_id: str) -> list[dict[str, Any]]:
            seen = super().list_members(tenant_id)
            if not ReadThenRaced.raced:
                ReadThenRaced.raced = True
                core_accounts.change_role(pool.accounts, "t-a", b.actor_id, "editor")
            return seen

    plain = pool.accounts.members
    assert isinstance(plain, DynamoMembers)
    racing = replace(pool.accounts, members=ReadThenRaced(plain.table, client=plain.client))
    # When A steps down on a read that still shows B an owner, while B steps down meanwhile
    with pytest.raises(Conflict) as refused:
        core_accounts.change_role(racing, "t-a", a.actor_id, "editor")
    # Then only B's demotion passed: A is still the owner, and the workspace has one
    assert refused.value.reason == "last_owner"
    roles = {u.email: u.role for u in core_accounts.list_users(pool.accounts, "t-a").users}
    assert roles == {"a@a.example": "owner", "b@a.example": "editor"}


def test_only_a_pool_user_who_verified_the_address_is_adopted_by_an_invitation(
    pool: Pool,
) -> None:
    # Given an owner; a user who signed up and confirmed (no workspace); one who signed up
    # and never confirmed; and one who set their address to the CFO's without verifying it
    _owner(pool)
    deps, idp, pool_id = pool.world.deps, pool.idp, pool.accounts.user_pool_id
    pool.sign_up("dan@d.example")
    idp.sign_up(ClientId=pool.client_id, Username="una@u.example", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "una@u.example"}])  # fmt: skip
    pool.sign_up("mallory@m.example")
    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username="mallory@m.example",
        UserAttributes=[{"Name": "email", "Value": "cfo@victim.example"},
                        {"Name": "email_verified", "Value": "false"}],
    )  # fmt: skip
    # When the owner invites the unconfirmed one and the CFO's address
    for email in ("una@u.example", "cfo@victim.example"):
        # Then each is 409 unverified_email naming the address, and nobody joined
        with pytest.raises(Conflict) as refused:
            core_accounts.invite_user(deps, pool.accounts, "t-a", email, "owner")
        assert refused.value.reason == "unverified_email" and email in refused.value.message
    assert [u.email for u in core_accounts.list_users(pool.accounts, "t-a").users] == [
        "owner@a.example"
    ]
    # When the owner invites the confirmed, verified user, Then they join at once, active
    joined = core_accounts.invite_user(deps, pool.accounts, "t-a", "dan@d.example", "viewer")
    assert (joined.email, joined.role, joined.status) == ("dan@d.example", "viewer", "active")
