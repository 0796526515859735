"""Every exchange with one shop, over the shared HTTP transport.

Two transports share the session: the Admin API's (the token, paced by the cost bucket)
and the one for staged uploads and bulk result files (other hosts: no token, no bucket).
Retries, backoff, throttle patience and timeouts are the transport's; what an answer
means is ``responses``'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import requests

from feedsync.platforms.shopify.bucket import CostBucket
from feedsync.platforms.shopify.responses import graphql_classifier, transfer_classifier
from feedsync.platforms.transport import HttpTransport, NoPacing

JSON = dict[str, Any]


class AdminClient:
    """Sends GraphQL documents to ``{shop_url}/admin/api/{api_version}/graphql.json``."""

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        *,
        api_version: str,
        session: requests.Session,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        timeout: float,
        max_retries: int,
        max_throttle_waits: int,
        backoff_base_s: float,
        backoff_cap_s: float,
        allow_private: bool,
    ) -> None:
        self.where = f"Shopify store {shop_url}"
        self.endpoint = f"{shop_url}/admin/api/{api_version}/graphql.json"
        self._headers = {
            "X-Shopify-Access-Token": access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.bucket = CostBucket(sleep, clock)
        patience: dict[str, Any] = {
            "session": session,
            "sleep": sleep,
            "timeout": timeout,
            "max_retries": max_retries,
            "max_throttle_waits": max_throttle_waits,
            "backoff_base_s": backoff_base_s,
            "backoff_cap_s": backoff_cap_s,
            "allow_private": allow_private,
        }
        self.api = HttpTransport(self.where, pacer=self.bucket, **patience)
        self.files = HttpTransport(self.where, pacer=NoPacing(), **patience)

    def graphql(
        self,
        query: str,
        variables: JSON,
        operation: str,
        estimate: int,
        *,
        resend_unanswered: bool = True,
    ) -> JSON:
        """Send one document (``estimate``: its cost in points until Shopify says); its
        ``data``. Anything but an answer with data raises a named error.
        ``resend_unanswered=False``: a document that got no answer raises ``StoreUnavailable``
        instead of going again (a create, which Shopify would carry out twice)."""
        body = {"query": query, "variables": variables, "operationName": operation}
        bucket = self.bucket
        bucket.sending(operation)
        reply = self.api.send(
            "POST",
            self.endpoint,
            graphql_classifier(
                self.where, operation, lambda cost: bucket.throttle_wait(cost, estimate)
            ),
            what=operation,
            json_body=body,
            headers=self._headers,
            cost=estimate,
            resend_unanswered=resend_unanswered,
        )
        return dict(reply.body["data"])

    def transfer(
        self,
        method: str,
        url: str,
        *,
        form: Sequence[tuple[str, str]] | None = None,
        files: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        """A staged upload (``form`` fields and ``files``) or a result file download."""
        reply = self.files.send(
            method,
            url,
            transfer_classifier(self.where, method),
            what=f"{method} of a bulk file",
            data=form,
            files=files,
            stream=stream,
        )
        return reply.response
