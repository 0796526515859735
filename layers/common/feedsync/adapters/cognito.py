"""The Cognito user pool's admin calls: invite, look up, remove, and a ready user (demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from feedsync.core.ports import DirectoryUser
from feedsync.errors import InvalidRequest

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _user(attributes: list[Any], username: str, status: str, enabled: bool) -> DirectoryUser:
    values = {a["Name"]: a.get("Value", "") for a in attributes}
    return DirectoryUser(
        sub=str(values.get("sub") or username),
        email=str(values.get("email", "")),
        status=status,
        enabled=enabled,
        email_verified=values.get("email_verified") == "true",
    )


class CognitoDirectory:
    def __init__(
        self, user_pool_id: str, client: CognitoIdentityProviderClient | None = None
    ) -> None:
        self.user_pool_id = user_pool_id
        self.client: CognitoIdentityProviderClient = client or boto3.client("cognito-idp")

    def invite(self, email: str) -> DirectoryUser | None:
        try:
            created = self.client.admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )["User"]
        except ClientError as exc:
            if _code(exc) == "UsernameExistsException":
                return None
            if _code(exc) == "InvalidParameterException":
                raise InvalidRequest(
                    "email", f"the user pool takes no such address as a user: {email!r}"
                ) from exc
            raise
        return _user(
            created.get("Attributes", []),
            created.get("Username", email),
            created.get("UserStatus", "FORCE_CHANGE_PASSWORD"),
            created.get("Enabled", True),
        )

    def find(self, email_or_sub: str) -> DirectoryUser | None:
        try:
            got = self.client.admin_get_user(UserPoolId=self.user_pool_id, Username=email_or_sub)
        except ClientError as exc:
            if _code(exc) == "UserNotFoundException":
                return None
            raise
        return _user(
            got.get("UserAttributes", []),
            got["Username"],
            got.get("UserStatus", ""),
            got.get("Enabled", True),
        )

    def remove(self, sub: str) -> None:
        try:
            self.client.admin_delete_user(UserPoolId=self.user_pool_id, Username=sub)
        except ClientError as exc:
            if _code(exc) != "UserNotFoundException":
                raise

    def create_confirmed(self, email: str, password: str) -> DirectoryUser:
        existing = self.find(email)
        if existing is None:
            self.client.admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        self.client.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True
        )
        found = self.find(email)
        if found is None:  # just made: only a pool deleted meanwhile
            raise LookupError(f"user {email} vanished from pool {self.user_pool_id}")
        return found
