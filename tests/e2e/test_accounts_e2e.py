"""Accounts through `feedsync serve`: the demo user signs in with Cognito (moto), a new
user makes a workspace of their own, roles hold over HTTP, and one workspace's token never
reaches another's data (404, as for an id that does not exist)."""

from __future__ import annotations

import secrets
from typing import Any

import boto3
import pytest
import requests
from e2e_support import Api, Served, StoreInfo

pytestmark = pytest.mark.e2e
PASSWORD = "Correct-horse-42"


class Cognito:
    """The browser's side of sign-in: Cognito's JSON API where /auth/config says it is."""

    def __init__(self, serve: Served) -> None:
        self.config = requests.get(f"{serve.api_url}/auth/config", timeout=30).json()
        self.idp = boto3.client(
            "cognito-idp",
            endpoint_url=self.config["cognito_endpoint"],
            region_name=self.config["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def sign_in(self, email: str, password: str = PASSWORD) -> str:
        answer = self.idp.initiate_auth(
            ClientId=self.config["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    def sign_up(self, email: str) -> str:
        client = self.config["client_id"]
        self.idp.sign_up(
            ClientId=client,
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        self.idp.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode="123456")
        return self.sign_in(email)

    def accept_invitation(self, email: str) -> str:
        """What the invited person does with the mailed temporary password (set here, as
        moto mails nothing): choose their own, then sign in."""
        self.idp.admin_set_user_password(
            UserPoolId=self.config["user_pool_id"], Username=email, Password=PASSWORD,
            Permanent=True,
        )  # fmt: skip
        return self.sign_in(email)


@pytest.fixture(scope="module")
def cognito(serve: Served) -> Cognito:
    return Cognito(serve)


def _email(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}@shop.example"


def test_the_auth_config_is_public_and_names_the_pool(serve: Served, cognito: Cognito) -> None:
    # Given no credentials at all
    # When the sign-in page asks where to sign in
    config = cognito.config
    # Then it is told the pool, the app client and the endpoint (moto's, locally)
    assert config["user_pool_id"].startswith(f"{config['region']}_")
    assert config["client_id"]
    assert config["cognito_endpoint"].startswith("http://127.0.0.1:")


def test_the_demo_user_signs_in_and_sees_what_the_api_key_sees(
    serve: Served, cognito: Cognito, api: Api, store: StoreInfo
) -> None:
    # Given the demo user feedsync serve printed
    demo = serve.info["demo_user"]
    # When they sign in with email and password
    user = Api(serve.api_url, cognito.sign_in(demo["email"], demo["password"]))
    # Then they are the demo workspace's owner, and see its stores as the API key does
    me = user.ok("GET", "/me")
    assert (me["email"], me["actor_kind"], me["role"]) == (demo["email"], "user", "owner")
    assert me["tenant_id"] == api.ok("GET", "/me")["tenant_id"]
    assert api.ok("GET", "/me")["actor"] == "key:default"
    store_id = store.created["store_id"]
    assert user.ok("GET", f"/stores/{store_id}")["store_id"] == store_id


def test_a_token_of_one_workspace_never_reaches_another_workspaces_data(
    serve: Served, cognito: Cognito, api: Api, store: StoreInfo
) -> None:
    # Given a new user who signed up and made a workspace with a store of its own
    email = _email("bea")
    bea = Api(serve.api_url, cognito.sign_up(email))
    before = bea.get("/stores")
    assert (before.status_code, before.json()["error"]) == (403, "no_tenant")
    made = bea.ok("POST", "/tenants", {"name": "Bea's shop"}, status=201)
    assert made["role"] == "owner"
    own = bea.ok(
        "POST", "/stores",
        {"name": "Bea's store", "platform": "bigcommerce", "api_url": serve.sandbox_url,
         "credentials": {"access_token": serve.sandbox_token}},
        status=201,
    )  # fmt: skip
    demo = serve.info["demo_user"]
    owner = Api(serve.api_url, cognito.sign_in(demo["email"], demo["password"]))
    theirs = store.created["store_id"]
    # When each reaches for the other's store by its id
    reaches: list[requests.Response] = [
        bea.get(f"/stores/{theirs}"),
        bea.patch(f"/stores/{theirs}", {"name": "mine now"}),
        bea.request("DELETE", f"/stores/{theirs}"),
        owner.get(f"/stores/{own['store_id']}"),
        owner.request("DELETE", f"/stores/{own['store_id']}"),
    ]
    # Then every one is the 404 of an id that does not exist, and nothing moved
    assert [r.status_code for r in reaches] == [404] * len(reaches)
    assert [s["store_id"] for s in bea.ok("GET", "/stores")["stores"]] == [own["store_id"]]
    assert api.ok("GET", f"/stores/{theirs}")["name"] == store.created["name"]
    # and neither sees the other's users
    assert [u["email"] for u in bea.ok("GET", "/users")["users"]] == [email]
    assert email not in [u["email"] for u in owner.ok("GET", "/users")["users"]]


def test_an_invited_viewer_reads_but_cannot_write_and_is_out_when_removed(
    serve: Served, cognito: Cognito, api: Api, store: StoreInfo
) -> None:
    # Given the demo workspace's owner key inviting a viewer, who accepts
    email = _email("vic")
    invited = api.ok("POST", "/users", {"email": email, "role": "viewer"}, status=201)
    assert (invited["status"], invited["role"]) == ("invited", "viewer")
    viewer = Api(serve.api_url, cognito.accept_invitation(email))
    # When the viewer reads, writes, and manages users
    read = viewer.get(f"/stores/{store.created['store_id']}")
    write = viewer.patch(f"/stores/{store.created['store_id']}", {"name": "renamed"})
    manage = viewer.get("/users")
    # Then reads pass, a write needs an editor, the users page an owner
    assert read.status_code == 200
    assert (write.status_code, write.json()["needs"]) == (403, "editor")
    assert write.json()["message"] == "this needs the editor role; this user is a viewer"
    assert (manage.status_code, manage.json()["needs"]) == (403, "owner")
    listed = {u["email"]: u for u in api.ok("GET", "/users")["users"]}
    assert listed[email]["status"] == "active"  # signed in since the invitation
    # When the owner removes the viewer
    gone = api.request("DELETE", f"/users/{invited['id']}")
    # Then the viewer's very next call is refused
    assert gone.status_code == 204
    after: Any = viewer.get(f"/stores/{store.created['store_id']}")
    assert (after.status_code, after.json()["error"]) == (403, "no_tenant")


def test_a_forged_or_foreign_token_is_api_gateways_401(serve: Served, cognito: Cognito) -> None:
    # Given the demo user's genuine token, and a second app client of the same pool
    demo = serve.info["demo_user"]
    genuine = cognito.sign_in(demo["email"], demo["password"])
    other = cognito.idp.create_user_pool_client(
        UserPoolId=cognito.config["user_pool_id"],
        ClientName="not-the-dashboard",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    foreign = cognito.idp.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": demo["email"], "PASSWORD": demo["password"]},
    )["AuthenticationResult"]["IdToken"]
    head, body, signature = genuine.split(".")
    # When each is presented
    answers = [
        requests.get(f"{serve.api_url}/me", headers={"Authorization": f"Bearer {t}"}, timeout=30)
        for t in (foreign, f"{head}.{body}x.{signature}", f"{head}.{body}.{signature[:-4]}AAAA")
    ]
    # Then API Gateway answers 401 for every one
    assert [(a.status_code, a.json()) for a in answers] == [(401, {"message": "Unauthorized"})] * 3
