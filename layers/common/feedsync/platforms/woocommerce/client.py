"""One shop's REST API: where it is, its key pair, and every exchange with it sent
through the shared ``HttpTransport`` and judged by ``responses.Classify``.

The reader and the writer share one client, so retries, waits and the request count
are one connector's.
"""

from __future__ import annotations

from typing import Any, Final

from feedsync.platforms.transport import HttpTransport, Reply
from feedsync.platforms.woocommerce.endpoints import API_PREFIX
from feedsync.platforms.woocommerce.responses import READ, Classify, Expect

_HEADERS: Final = {"Accept": "application/json"}


class ShopClient:
    """Sends GETs and POSTs to ``{site}/wp-json/wc/v3`` with the key pair as Basic auth."""

    def __init__(self, site_url: str, auth: tuple[str, str], transport: HttpTransport) -> None:
        self.site_url = site_url
        self.api_url = f"{site_url}{API_PREFIX}"
        self.transport = transport
        self._auth = auth

    @property
    def shop(self) -> str:
        """The shop as messages name it."""
        return self.transport.where

    def where(self, method: str, path: str) -> str:
        return f"{self.shop}: {method} {path}"

    def get(self, path: str, params: dict[str, Any], expect: Expect = READ) -> Reply:
        return self._send("GET", path, expect, params=params)

    def post(self, path: str, body: Any, expect: Expect = READ) -> Reply:
        return self._send("POST", path, expect, json_body=body)

    def _send(
        self,
        method: str,
        path: str,
        expect: Expect,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Reply:
        classify = Classify(self.shop, self.api_url, method, path, expect)
        return self.transport.send(
            method,
            f"{self.api_url}{path}",
            classify,
            what=f"{method} {path}",
            params=params,
            json_body=json_body,
            headers=_HEADERS,
            auth=self._auth,
        )
