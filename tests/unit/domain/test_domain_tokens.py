"""Which Cognito tokens the authorizer takes (feedsync.domain.tokens), judged with a key
pair made here: the rules, not a library's defaults, decide."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from feedsync.domain.tokens import (
    InvalidToken,
    TokenRules,
    issuer_for,
    looks_like_jwt,
    verify,
)

POOL = "eu-central-1_Abc123"
ISSUER = issuer_for("eu-central-1", POOL)
CLIENT = "client-web"
RULES = TokenRules(issuer=ISSUER, client_id=CLIENT)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {"kid-1": KEY.public_key()}


def _claims(use: str = "id", **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "sub-1",
        "token_use": use,
        "iat": now,
        "exp": now + 3600,
    }
    if use == "id":
        claims.update(aud=CLIENT, email="ann@shop.example")
    else:
        claims.update(client_id=CLIENT, scope="aws.cognito.signin.user.admin")
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: Any = KEY, kid: str = "kid-1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def test_an_id_token_of_the_pool_for_the_client_gives_the_user_and_email() -> None:
    # Given an ID token the pool signed for our app client
    token = _token(_claims("id"))
    # When it is verified
    claims = verify(token, RULES, KEYS.get)
    # Then the user's sub and email come out
    assert (claims.sub, claims.token_use, claims.email) == ("sub-1", "id", "ann@shop.example")


def test_an_access_token_for_the_client_gives_the_user_without_email() -> None:
    claims = verify(_token(_claims("access")), RULES, KEYS.get)
    assert (claims.sub, claims.token_use, claims.email) == ("sub-1", "access", None)


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (_token(_claims("id", iss=issuer_for("eu-central-1", "eu-central-1_Other"))), "issuer"),
        (_token(_claims("id", exp=int(time.time()) - 120)), "expired"),
        (_token(_claims("id", exp=None)), "exp"),
        (_token(_claims("id", aud="another-client")), "another app client"),
        (_token(_claims("access", client_id="another-client")), "another app client"),
        (_token(_claims("refresh")), "token_use 'refresh'"),
        (_token(_claims("id", token_use=None)), "token_use"),
        (_token(_claims("id"), key=OTHER_KEY), "Signature verification failed"),
        (_token(_claims("id"), kid="kid-unknown"), "not in the user pool's JWKS"),
        (_token(_claims("id"), key="shared-secret-of-32-bytes-or-more!", alg="HS256"), "RS256"),
    ],
    ids=[
        "another pool",
        "expired",
        "no expiry",
        "id token of another client",
        "access token of another client",
        "refresh token use",
        "no token use",
        "signed by another key",
        "unknown key id",
        "HS256",
    ],
)
def test_a_token_breaking_a_rule_is_refused_saying_which(token: str, why: str) -> None:
    # Given a token that breaks one rule
    # When it is verified, Then it is refused, and the reason names the rule
    with pytest.raises(InvalidToken, match=why):
        verify(token, RULES, KEYS.get)


def test_an_unsigned_token_is_refused() -> None:
    # Given a token with alg "none" (no signature at all)
    token = jwt.encode(_claims("id"), key=None, algorithm="none", headers={"kid": "kid-1"})
    # Then it is refused before any key is looked up
    with pytest.raises(InvalidToken, match="only RS256"):
        verify(token, RULES, KEYS.get)


def test_a_tampered_payload_is_refused() -> None:
    # Given a genuine token whose payload is swapped for another user's
    header, _payload, signature = _token(_claims("id")).split(".")
    _h, forged, _s = _token(_claims("id", sub="sub-admin"), key=OTHER_KEY).split(".")
    # Then the signature no longer matches
    with pytest.raises(InvalidToken):
        verify(f"{header}.{forged}.{signature}", RULES, KEYS.get)


def test_a_jwt_is_told_from_an_api_key_by_its_shape() -> None:
    assert looks_like_jwt(_token(_claims("id")))
    assert not looks_like_jwt("fsk_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4")
    assert not looks_like_jwt("a.b")
    assert not looks_like_jwt("a.b.c.d")
    assert not looks_like_jwt("a.b c.d")
