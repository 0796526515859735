"""The pool's signing keys are fetched once per process, and again for a key id not seen
(Cognito rotates keys), but not for every made-up id."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from feedsync.adapters.jwks import HttpSigningKeys


def _jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**json.loads(RSAAlgorithm.to_jwk(key)), "kid": kid, "alg": "RS256", "use": "sig"}


class _Answer:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return self.body


class JwksServer:
    """Answers GETs of the JWKS URL with the keys it holds now; counts the fetches."""

    def __init__(self, *kids: str) -> None:
        self.keys = [_jwk(k) for k in kids]
        self.fetches: list[str] = []

    def get(self, url: str, timeout: float) -> _Answer:
        self.fetches.append(url)
        return _Answer({"keys": list(self.keys)})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


URL = "https://cognito-idp.eu-central-1.amazonaws.com/pool/.well-known/jwks.json"


def _keys(server: JwksServer, clock: Clock) -> HttpSigningKeys:
    return HttpSigningKeys(URL, session=server, refetch_after_s=60, clock=clock)  # type: ignore[arg-type]


def test_the_keys_are_fetched_once_for_every_lookup_after() -> None:
    # Given a pool with two keys
    server, clock = JwksServer("k1", "k2"), Clock()
    keys = _keys(server, clock)
    # When both are looked up many times
    found = [keys.key(kid) for kid in ("k1", "k2", "k1", "k2")]
    # Then each is a public key, and the set was fetched once
    assert all(k is not None for k in found)
    assert server.fetches == [URL]


def test_a_rotated_in_key_is_found_by_fetching_again() -> None:
    # Given keys fetched a while ago, and a key the pool added since
    server, clock = JwksServer("k1"), Clock()
    keys = _keys(server, clock)
    assert keys.key("k1") is not None
    server.keys.append(_jwk("k2"))
    clock.now += 61
    # When a token signed with the new key arrives
    found = keys.key("k2")
    # Then the set is fetched again and the key found
    assert found is not None
    assert len(server.fetches) == 2


def test_made_up_key_ids_do_not_make_every_call_a_fetch() -> None:
    # Given keys just fetched
    server, clock = JwksServer("k1"), Clock()
    keys = _keys(server, clock)
    assert keys.key("k1") is not None
    # When many unknown ids arrive within the refetch window
    missing = [keys.key(f"forged-{n}") for n in range(50)]
    # Then none is found, and no more fetches were made
    assert missing == [None] * 50
    assert len(server.fetches) == 1
    # and after the window one more fetch is allowed
    clock.now += 60
    assert keys.key("forged-x") is None
    assert len(server.fetches) == 2
