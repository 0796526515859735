"""One seller's Selling Partner API: the access token (bought with the refresh token,
cached until a minute before it expires, bought again when Amazon says it expired), and
every exchange sent through the shared ``HttpTransport``, one per operation, each paced
by its operation's usage plan in the seller's token buckets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from feedsync.adapters.addresses import lookup
from feedsync.adapters.token_buckets import LocalTokenBuckets
from feedsync.core.ports import TokenBuckets
from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.amazon.endpoints import RATES
from feedsync.platforms.amazon.pacing import TokenBucketPacer
from feedsync.platforms.amazon.responses import (
    EXPIRED,
    Classify,
    ClassifyDocument,
    ClassifyToken,
)
from feedsync.platforms.transport import HttpTransport, NoPacing, Reply

# A token is bought again this long before Amazon would refuse it.
_TOKEN_MARGIN_S: Final = 60.0


class SellerClient:
    """Sends the SP-API operations of one seller, with a valid access token."""

    def __init__(
        self,
        api_url: str,
        token_url: str,
        app: tuple[str, str],
        refresh_token: str,
        where: str,
        *,
        session: requests.Session | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        allow_private: bool,
        buckets: TokenBuckets | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self.where = where
        self._app = app
        self._refresh_token = refresh_token
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._allow_private = allow_private
        self._timeout = timeout
        self._max_retries = max_retries
        # The seller's usage plans: shared by every shard when given, else this client's.
        self._buckets = buckets if buckets is not None else LocalTokenBuckets(clock=clock)
        self._transports: dict[str, HttpTransport] = {}
        self._token: str | None = None
        self._token_until = 0.0
        self._endpoint_checked = allow_private
        self.tokens_bought = 0

    def transport(self, operation: str) -> HttpTransport:
        """The operation's transport: paced by its plan in the seller's buckets, one session."""
        found = self._transports.get(operation)
        if found is None:
            plan = RATES.get(operation)
            pacer = (
                TokenBucketPacer(operation, plan[0], plan[1], self._buckets, sleep=self._sleep)
                if plan is not None
                else NoPacing()
            )
            found = self._transports[operation] = HttpTransport(
                self.where,
                session=self._session,
                pacer=pacer,
                sleep=self._sleep,
                timeout=self._timeout,
                max_retries=self._max_retries,
                allow_private=self._allow_private,
            )
        return found

    @property
    def requests_sent(self) -> int:
        return sum(t.requests_sent for t in self._transports.values())

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def now(self) -> float:
        """The connector's monotonic clock, in seconds."""
        return self._clock()

    # -- the access token ------------------------------------------------------------------
    def access_token(self) -> str:
        if self._token is None or self._clock() >= self._token_until:
            self._check_endpoint()
            self._buy_token()
        assert self._token is not None
        return self._token

    def _check_endpoint(self) -> None:
        """Before the first token: the SP-API endpoint must be one feedsync may reach (the
        transport's rule, which would refuse it at the first call anyway): no token is bought
        for a store that cannot be reached."""
        if self._endpoint_checked:
            return
        parts = urlsplit(self.api_url)
        host = parts.hostname or ""
        try:
            found = lookup(host, parts.port or 443)
        except (OSError, UnicodeError):
            return  # the transport names the failed look-up at the first call
        refused = self.transport("endpoint").refused(host, found)
        if refused is not None:
            raise StoreRequestError(
                f"{self.where}: {refused}; feedsync connects only to public addresses"
            )
        self._endpoint_checked = True

    def _buy_token(self) -> None:
        client_id, client_secret = self._app
        form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self._refresh_token),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ]
        started = self._clock()
        reply = self.transport("token").send(
            "POST",
            self.token_url,
            ClassifyToken(self.where),
            what="POST token (Login with Amazon)",
            data=form,
            headers={"Accept": "application/json"},
        )
        body = reply.body
        self._token = str(body["access_token"])
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token_until = started + max(lifetime - _TOKEN_MARGIN_S, 0.0)
        self.tokens_bought += 1

    # -- operations ------------------------------------------------------------------------
    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        gone_on_404: bool = False,
    ) -> Reply:
        """One operation; a token Amazon says expired is bought again and the call resent."""
        classify = Classify(self.where, operation, gone_on_404)
        for attempt in range(2):
            reply = self.transport(operation).send(
                method,
                f"{self.api_url}{path}",
                classify,
                what=f"{operation} ({method} {path})",
                params=params,
                json_body=json_body,
                headers={
                    "x-amz-access-token": self.access_token(),
                    "Accept": "application/json",
                    "User-Agent": "feedsync/1 (Language=Python)",
                },
            )
            if not (reply.kind == "refused" and reply.outcome.what == EXPIRED):
                return reply
            if attempt == 0:
                self._token = None  # bought again on the next try
        raise StoreAuthError(
            f"{self.where}: Amazon refused a fresh access token as expired ({operation}); "
            "check the clock of the machine and authorize the app again"
        )

    def upload(self, url: str, body: bytes, content_type: str) -> None:
        """A feed document's content to its presigned URL (no access token: S3's)."""
        self.transport("upload").send(
            "PUT",
            url,
            ClassifyDocument(self.where, "feed document upload"),
            what="PUT feed document",
            data=body,
            headers={"Content-Type": content_type},
        )

    def download(self, url: str, what: str) -> bytes:
        reply = self.transport("download").send(
            "GET", url, ClassifyDocument(self.where, what), what=f"GET {what}"
        )
        return reply.response.content
