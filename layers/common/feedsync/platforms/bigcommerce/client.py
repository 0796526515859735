"""One store's v3 API: its address and token, every exchange through the shared transport.

The reader, the writer and the deletion look-up send their requests here, so the token
travels in one place and every answer is read by ``responses.Classifier``.
"""

from __future__ import annotations

from typing import Any

from feedsync.errors import StoreUnavailable
from feedsync.platforms.bigcommerce.endpoints import JSON, Write
from feedsync.platforms.bigcommerce.responses import Classifier
from feedsync.platforms.transport import HttpTransport, Reply


class StoreApi:
    """``api_url``: ``https://api.bigcommerce.com/stores/H/v3`` (no trailing slash)."""

    def __init__(self, api_url: str, access_token: str, transport: HttpTransport) -> None:
        self.api_url = api_url
        self.where = transport.where
        self.transport = transport
        self._headers = {"X-Auth-Token": access_token, "Accept": "application/json"}

    def __repr__(self) -> str:  # never shows the token
        return f"StoreApi({self.api_url!r})"

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, gone: tuple[int, ...] = ()
    ) -> Reply:
        """A read; ``gone``: statuses that mean the resource does not exist."""
        what = f"GET {path}"
        return self._send("GET", path, Classifier(self.where, what, gone=gone), params=params)

    def get_json(self, path: str, params: dict[str, Any]) -> JSON:
        """A read whose answer must be a JSON object (a page of a list)."""
        response = self.get(path, params).response
        try:
            body = response.json()
        except ValueError:
            raise StoreUnavailable(
                f"{self.where}: GET {path} answered HTTP {response.status_code} "
                "with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise StoreUnavailable(f"{self.where}: GET {path} answered an unexpected body")
        return body

    def put(self, write: Write, body: Any) -> Reply:
        """A write: ``ok``, or ``refused`` (a batch rejection, a 207) for the writer to act on."""
        classify = Classifier(
            self.where,
            f"PUT {write.path}",
            refused=write.split,
            retry=write.retry,
            multi_status=write.multi_status,
        )
        return self._send("PUT", write.path, classify, json_body=body)

    def send(
        self,
        method: str,
        path: str,
        *,
        refused: tuple[int, ...] = (),
        gone: tuple[int, ...] = (),
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Reply:
        """Any request (create mode's POST and DELETE): ``refused`` and ``gone`` are the
        statuses that mean so for it; the answer's outcome says which came."""
        classify = Classifier(self.where, f"{method} {path}", refused=refused, gone=gone)
        return self._send(method, path, classify, params=params, json_body=json_body)

    def _send(
        self,
        method: str,
        path: str,
        classify: Classifier,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> Reply:
        return self.transport.send(
            method,
            f"{self.api_url}{path}",
            classify,
            what=classify.what,
            params=params,
            json_body=json_body,
            headers=self._headers,
        )
