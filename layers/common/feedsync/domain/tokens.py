"""Which Cognito tokens the authorizer takes: RS256, signed by a key of the pool's JWKS,
issued by the pool, not expired, an ID token for our app client (``aud``) or an access
token for it (``client_id``). Pure: the signing key is handed in by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jwt

# Three base64url parts: a JWT. An API key (``secrets.token_urlsafe``) has no dots.
_JWT_SHAPE: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# Seconds of clock difference tolerated on exp/iat between Cognito and the Lambda.
LEEWAY_S: Final = 30


class InvalidToken(Exception):
    """The token is not one we take; the message says which rule it broke (logged only)."""


@dataclass(frozen=True)
class TokenRules:
    issuer: str  # https://cognito-idp.<region>.amazonaws.com/<pool id>
    client_id: str


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    token_use: str
    email: str | None  # ID tokens carry it; access tokens do not
    # The sign-in the token comes from: ``origin_jti`` (shared by the ID and access tokens of
    # one sign-in and their refreshes), else ``<sub>:<auth_time>`` (the audit's sign_in).
    sign_in: str = ""


def cognito_endpoint(region: str) -> str:
    """Cognito's public endpoint in ``region`` (its JSON API, and its tokens' issuer's base)."""
    return f"https://cognito-idp.{region}.amazonaws.com/"


def issuer_for(region: str, user_pool_id: str) -> str:
    return f"{cognito_endpoint(region)}{user_pool_id}"


def looks_like_jwt(credential: str) -> bool:
    return bool(_JWT_SHAPE.match(credential))


def verify(
    token: str,
    rules: TokenRules,
    signing_key: Callable[[str], Any | None],
) -> TokenClaims:
    """The token's claims, or InvalidToken. ``signing_key(kid)`` gives the public key of
    that id from the pool's JWKS (None: unknown)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"not a JWT: {exc}") from exc
    if header.get("alg") != "RS256":
        raise InvalidToken(f"alg {header.get('alg')!r}: only RS256 is taken")
    kid = header.get("kid")
    key = signing_key(str(kid)) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"kid {kid!r} is not in the user pool's JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=rules.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    use = claims.get("token_use")
    if use == "id":
        audience = claims.get("aud")
        if audience != rules.client_id and not (
            isinstance(audience, list) and rules.client_id in audience
        ):
            raise InvalidToken("an ID token for another app client")
    elif use == "access":
        if claims.get("client_id") != rules.client_id:
            raise InvalidToken("an access token for another app client")
    else:
        raise InvalidToken(f"token_use {use!r}: only id and access tokens are taken")
    email = claims.get("email") if use == "id" else None
    sign_in = claims.get("origin_jti") or f"{claims['sub']}:{claims.get('auth_time', '')}"
    return TokenClaims(
        sub=str(claims["sub"]), token_use=str(use), email=email, sign_in=str(sign_in)
    )
