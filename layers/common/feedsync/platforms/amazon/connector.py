"""Amazon Selling Partner API connector: a seller's listings in one marketplace.

The connector only composes the parts:

* ``endpoints``: paths, marketplaces and currencies, feed messages, report rows, ids;
* ``responses``: what each answer means to the shared transport (``Classify``);
* ``pacing``: the usage plan of each operation as a token bucket, the seller's (shared by
  every shard when the composition root gives ``buckets``);
* ``client``: the access token and one transport per operation;
* ``reader``: the listings report (whole) and the listings search (by update time);
* ``writer``: one JSON_LISTINGS_FEED per batch and its processing report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

import requests

from feedsync.core.ports import TokenBuckets
from feedsync.domain.fields import Variant
from feedsync.domain.writes import ItemResult, PlanItem
from feedsync.errors import StoreRequestError
from feedsync.platforms.amazon.client import SellerClient
from feedsync.platforms.amazon.endpoints import CURRENCIES, LWA_TOKEN_URL
from feedsync.platforms.amazon.jobs import Polling
from feedsync.platforms.amazon.reader import CatalogReader
from feedsync.platforms.amazon.spec import capabilities as amazon_capabilities
from feedsync.platforms.amazon.writer import FeedWriter


class AmazonConnector:
    """One seller (``seller_id``) in one marketplace (``marketplace_id``)."""

    capabilities = amazon_capabilities()
    # Feed processing: the first status look after this plus per message, then backoff.
    polling = Polling()
    feed_s_per_message = 0.01

    def __init__(
        self,
        api_url: str,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        seller_id: str,
        marketplace_id: str,
        token_url: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        allow_private: bool = False,
        buckets: TokenBuckets | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
    ) -> None:
        if not seller_id or not marketplace_id:
            raise StoreRequestError("an Amazon store needs options seller_id and marketplace_id")
        currency = CURRENCIES.get(marketplace_id)
        if currency is None:
            raise StoreRequestError(
                f"Amazon marketplace {marketplace_id!r} is not one feedsync knows "
                f"(known: {', '.join(sorted(CURRENCIES))})"
            )
        token_url = token_url or LWA_TOKEN_URL
        if token_url != LWA_TOKEN_URL and not allow_private:
            raise StoreRequestError(
                f"Amazon's access tokens come from {LWA_TOKEN_URL}; token_url "
                f"{token_url!r} is allowed only where private URLs are (the local stack)"
            )
        if not api_url.startswith("https://") and not allow_private:
            raise StoreRequestError(f"the SP-API endpoint {api_url!r} must be https")
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.currency = currency
        self.api_url = api_url.rstrip("/")
        self._client = SellerClient(
            self.api_url,
            token_url,
            (client_id, client_secret),
            refresh_token,
            f"Amazon seller {seller_id} in marketplace {marketplace_id}",
            session=session,
            sleep=sleep,
            clock=clock,
            allow_private=allow_private,
            buckets=buckets,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._reader = CatalogReader(self._client, seller_id, marketplace_id, self.polling)
        self._writer = FeedWriter(
            self._client,
            self.capabilities,
            seller_id,
            marketplace_id,
            currency,
            self.polling,
            self.feed_s_per_message,
        )

    @property
    def default_location(self) -> str | None:
        return None  # one merchant-fulfilled quantity per listing

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent

    @property
    def feeds_sent(self) -> int:
        return self._writer.feeds_sent

    @property
    def report_fallbacks(self) -> int:
        return self._reader.report_fallbacks

    def __repr__(self) -> str:  # never shows the credentials
        return f"AmazonConnector({self.api_url!r}, seller {self.seller_id!r})"

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        return self._reader.iter_variants(modified_since, modified_until)

    def apply(
        self,
        op: str,
        items: list[PlanItem],
        *,
        batch_key: str,
        location: str | None = None,
    ) -> list[ItemResult]:
        """One feed for the batch; ``(ok, message)`` per item, in order."""
        return self._writer.apply(op, items)
