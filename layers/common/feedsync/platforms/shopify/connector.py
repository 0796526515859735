"""Shopify Admin GraphQL connector: read variants, write prices, costs, stock and content.

The class composes the parts, one concern each:

* ``reader``: catalog reads (a bulk query for a full read, pages for a range);
* ``writer``: the write operations, userErrors per item, items gone from the shop;
* ``creator``: create mode's new products and variants, their lookup by SKU, their
  deletion on revert;
* ``bulk``: staged uploads, bulk mutations run, polled and downloaded;
* ``shop``: the primary location and the weight unit, looked up once;
* ``client``: every exchange, over the shared HTTP transport (``platforms.transport``):
  ``responses`` says what an answer means, ``bucket`` keeps the cost bucket;
* ``queries``: the GraphQL documents; ``values``: money and weights.

Throttling is cost based: every answer's ``extensions.cost`` says what the bucket holds and
how fast it refills; a request whose (last seen or estimated) cost exceeds what is left
waits just long enough first, and a THROTTLED answer (HTTP 200) waits for the refill and is
sent again. 5xx, 408, 429, timeouts and connection resets back off exponentially with
jitter, then raise ``StoreUnavailable``; 401/403 raise ``StoreAuthError``; other GraphQL
errors ``StoreRequestError``. ``points_spent`` sums the actual query costs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import requests

from feedsync.core.ports import Created, ItemResult, PlanItem
from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.fields import Variant
from feedsync.platforms.shopify.bulk import BulkOperations
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.creator import ProductCreator
from feedsync.platforms.shopify.queries import API_VERSION
from feedsync.platforms.shopify.reader import CatalogReader
from feedsync.platforms.shopify.shop import ShopFacts
from feedsync.platforms.shopify.spec import capabilities as shopify_capabilities
from feedsync.platforms.shopify.writer import CatalogWriter

JSON = dict[str, Any]


class ShopifyConnector:
    """One shop (``https://{shop}.myshopify.com``), authenticated by an Admin API token."""

    # Read page sizes: a variant costs 8 (itself, image, inventoryItem, unitCost, measurement,
    # weight, inventoryLevel, quantities), so shop + products(19) x variants(6) asks
    # 1 + 2 + 19 x (1 + 2 + 6 x 8) = 972 points, under the 1,000 single-query limit; longer
    # products are completed 124 variants at a time (3 + 124 x 8 = 995).
    page_products = 19
    page_variants = 6
    variant_page = 124
    variant_cost = 8
    spool_bytes = 16 * 1024 * 1024  # a bulk result larger than this is spooled to disk
    max_bulk_lines_variants = 250
    max_bulk_file_bytes = 20 * 1024 * 1024  # Shopify's limit for a bulk mutation's JSONL
    max_throttle_waits = 30
    backoff_base_s = 0.5
    backoff_cap_s = 30.0
    bulk_timeout_s = 840.0  # under a Lambda's 15 minutes
    stock_reason = "correction"

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        *,
        api_version: str = API_VERSION,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        bulk_poll_s: float = 10.0,
        location: str | None = None,
        bulk_reads: bool = True,
        clock: Callable[[], float] = time.monotonic,
        allow_private: bool = False,
    ) -> None:
        """``location``: the stock location reads report (numeric id or Location GID; None:
        the primary location). ``bulk_reads``: full reads through a bulk query. ``clock``:
        seconds, monotonic (tests pass a fake one with ``sleep``). ``allow_private``: the
        shop and its file hosts may be at private addresses (the local stack)."""
        self.capabilities = shopify_capabilities()
        self.shop_url = shop_url.rstrip("/")
        self.bulk_poll_s = bulk_poll_s
        self.location = location
        self.bulk_reads = bulk_reads
        self.client = AdminClient(
            self.shop_url,
            access_token,
            api_version=api_version,
            session=session if session is not None else requests.Session(),
            sleep=sleep,
            clock=clock,
            timeout=timeout,
            max_retries=max_retries,
            max_throttle_waits=self.max_throttle_waits,
            backoff_base_s=self.backoff_base_s,
            backoff_cap_s=self.backoff_cap_s,
            allow_private=allow_private,
        )
        self.shop = ShopFacts(self.client)
        self.bulk = BulkOperations(self.client, self, sleep, clock)
        self.reader = CatalogReader(self.client, self.shop, self.bulk, self)
        self.writer = CatalogWriter(self.client, self.shop, self.bulk, self)
        self.creator = ProductCreator(self.client, self.shop)

    def __repr__(self) -> str:  # never shows the token
        return f"ShopifyConnector({self.shop_url!r})"

    # -- what the bench and the run log read ------------------------------------------------
    @property
    def requests_sent(self) -> int:
        """Admin API requests (staged uploads and result downloads not counted)."""
        return self.client.api.requests_sent

    @property
    def points_spent(self) -> int:
        return self.client.bucket.points_spent

    @property
    def throttled(self) -> int:
        return self.client.bucket.throttled

    @property
    def last_read(self) -> str:
        """Which path the last read took: bulk, pages, or pages (why not bulk)."""
        return self.reader.last_read

    @property
    def default_location(self) -> str | None:
        """The primary location looked up for reads or writes (None until one was)."""
        return None if self.location else self.shop.primary_location

    # -- the port ---------------------------------------------------------------------------
    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product updated in the range (money in cents, stock at the
        read location); without a range through a bulk query when one can run."""
        return self.reader.iter_variants(
            modified_since, modified_until, location=self.location, bulk_reads=self.bulk_reads
        )

    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """One batch of one operation; ``(ok, message)`` per item, in order."""
        limit = self.capabilities.op(op).max_batch
        if len(items) > limit:
            raise ValueError(f"{op} takes at most {limit} items, got {len(items)}")
        if not items:
            return []
        if op == CREATE_OP:
            return self.creator.create(items, location or self.location)
        if op == DELETE_OP:
            return self.creator.delete(items)
        return self.writer.apply(op, items, batch_key, location)

    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        """Per create item, what the shop already has of it, by SKU (``Creator``)."""
        return self.creator.find_created(items)

    def weight_unit(self) -> str:
        """The shop's ``weightUnit`` (feed weights are in it), looked up once."""
        return self.shop.weight_unit()
