"""The user pool's signing keys, fetched from its JWKS URL and kept for the process.

An unknown ``kid`` fetches the set again (Cognito rotates keys), at most once per
``refetch_after_s`` so a stream of made-up ids cannot make every call a fetch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError


class HttpSigningKeys:
    def __init__(
        self,
        url: str,
        session: requests.Session | None = None,
        refetch_after_s: float = 60.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.session = session or requests.Session()
        self.refetch_after_s = refetch_after_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any | None:
        """The public key with this id, or None when the pool has none by that id."""
        with self._lock:
            found = self._keys.get(kid)
            stale = self._fetched_at is None or (
                self.clock() - self._fetched_at >= self.refetch_after_s
            )
            if found is None and stale:
                self._keys = self._fetch()
                self._fetched_at = self.clock()
                found = self._keys.get(kid)
        return found.key if found is not None else None

    def _fetch(self) -> dict[str, PyJWK]:
        answer = self.session.get(self.url, timeout=self.timeout_s)
        answer.raise_for_status()
        try:
            keys = PyJWKSet.from_dict(answer.json())
        except PyJWKSetError:
            return {}
        return {str(k.key_id): k for k in keys.keys if k.key_id}
