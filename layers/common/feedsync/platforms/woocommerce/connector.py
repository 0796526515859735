"""WooCommerce REST API v3 connector: read products and variations, write batches.

Base URL ``{site}/wp-json/wc/v3``; the consumer key/secret go as HTTP Basic auth, which
WooCommerce accepts over HTTPS only (over plain HTTP it wants OAuth 1.0a signatures, and
Basic auth would send the secret in clear), so plain ``http://`` is refused unless
``allow_http`` (the loopback double).

The connector only composes the parts, each in its own module:

* ``endpoints``: paths, query parameters, and how values are spelled (money, weights,
  GMT bounds, update objects);
* ``responses``: what each answer means to the shared transport (``Classify``) and how
  WordPress's bodies and errors are read;
* ``client``: the shop's API over one ``HttpTransport`` (retries with jittered backoff,
  ``Retry-After`` honoured up to ``retry_after_cap_s``, then ``StoreUnavailable``);
* ``reader``: the catalog, whole or by modification range (the store-wide
  ``/variations`` refresh and its fallback for older shops);
* ``writer``: batch posts, per-item errors, the image resend, the filtered-description
  warning;
* ``creator``: create mode's new products and variations, their lookup by SKU and their
  deletion on revert.

WooCommerce has no request quota of its own (the shop's server is the limit), so the
transport paces nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

import requests

from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.fields import Variant
from feedsync.domain.writes import Created, ItemResult, PlanItem
from feedsync.platforms.transport import HttpTransport, NoPacing
from feedsync.platforms.woocommerce.client import ShopClient
from feedsync.platforms.woocommerce.creator import ProductCreator
from feedsync.platforms.woocommerce.endpoints import site_url as normalised_site_url
from feedsync.platforms.woocommerce.reader import CatalogReader
from feedsync.platforms.woocommerce.spec import capabilities as woocommerce_capabilities
from feedsync.platforms.woocommerce.writer import BatchWriter


class WooCommerceConnector:
    """One shop, addressed by its site URL (``https://shop.example``)."""

    capabilities = woocommerce_capabilities()
    page_size = 100
    # The transport's waits, handed to it when the connector is built.
    backoff_base_s = 0.5
    backoff_cap_s = 30.0
    retry_after_cap_s = 120.0
    check_unchanged_parents = True

    def __init__(
        self,
        site_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
        allow_private: bool = False,
    ) -> None:
        """``allow_http``: a plain-http site; ``allow_private``: a site at a private address
        (both: the local stack's loopback double)."""
        site = normalised_site_url(site_url, allow_http=allow_http)
        del clock  # the seam every connector shares; WooCommerce has no quota window to time
        self._transport = HttpTransport(
            f"WooCommerce shop {site}",
            session=session,
            pacer=NoPacing(),
            sleep=sleep,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base_s=self.backoff_base_s,
            backoff_cap_s=self.backoff_cap_s,
            retry_after_cap_s=self.retry_after_cap_s,
            allow_private=allow_private,
        )
        self._client = ShopClient(site, (consumer_key, consumer_secret), self._transport)
        self._reader = CatalogReader(self._client, self)
        self._writer = BatchWriter(self._client, self.capabilities)
        self._creator = ProductCreator(self._client)
        self.site_url = site
        self.api_url = self._client.api_url

    @property
    def store_wide_variations(self) -> bool | None:
        """Whether the shop lists variations across products (``GET /variations``,
        WooCommerce 10.3+); None until a range import asked."""
        return self._reader.store_wide_variations

    @store_wide_variations.setter
    def store_wide_variations(self, known: bool | None) -> None:
        self._reader.store_wide_variations = known

    @property
    def default_location(self) -> str | None:
        return None  # stock locations are given, never looked up

    def __repr__(self) -> str:  # never shows the key or secret
        return f"WooCommerceConnector({self.site_url!r})"

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all without a range)."""
        return self._reader.iter_variants(modified_since, modified_until)

    def apply(
        self,
        op: str,
        items: list[PlanItem],
        *,
        batch_key: str,
        location: str | None = None,
    ) -> list[ItemResult]:
        """One batch of one operation; ``(ok, message)`` per item, in order."""
        if op == CREATE_OP:
            return self._creator.create(items)
        if op == DELETE_OP:
            return self._creator.delete(items)
        return self._writer.apply(op, items)

    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        """Per create item, what the shop already has of it, by SKU (``Creator``)."""
        return self._creator.find_created(items)
