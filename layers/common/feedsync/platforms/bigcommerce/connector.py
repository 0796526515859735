"""BigCommerce v3 connector (``ports.StoreConnector``) at the platform's own limits.

The class only composes the parts, each in its own module:

* ``reader``: the catalog read (products with their variants, brands);
* ``writer``: write batches, 422 isolation (the refusals' count), 413 halving, image resend;
* ``gone``: the deletion look-up of an item refused for good;
* ``create``: create mode's products and variants, their deletion (a revert) and the
  look-up of what an earlier attempt made (``ports.Creator``);
* ``endpoints``: paths, write payloads, money and weight conversions;
* ``responses``: what each answer means (the shared transport's ``Outcome``), rate
  headers, the platform's error words;
* ``client``: the store's address and token over the shared ``HttpTransport``.

Rate limits: with a ``RateBudget`` (shared by every worker writing to the store) each
request first reserves its slot of the shared window and reports the answer's
``X-Rate-Limit-*`` headers back. Without one, the connector waits on its own for the
reset when an answer says the window is used up. A 429 waits the advertised reset time,
or backs off exponentially (with jitter) when it has no headers (platform load). 5xx
answers, timeouts and connection resets are retried with backoff, then raise
``StoreUnavailable``; 401/403 raise ``StoreAuthError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Generic, Literal, TypeVar

import requests

from feedsync.core.ports import Created, ItemResult, PlanItem, RateBudget
from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.fields import Variant
from feedsync.platforms.bigcommerce import reader
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.create import ProductCreator
from feedsync.platforms.bigcommerce.endpoints import from_cents, to_cents, to_query_time
from feedsync.platforms.bigcommerce.gone import GoneCheck
from feedsync.platforms.bigcommerce.responses import window_headers
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce_capabilities
from feedsync.platforms.bigcommerce.writer import BatchWriter
from feedsync.platforms.transport import HttpTransport, RequestWindowPacer

__all__ = ["BigCommerceConnector", "from_cents", "to_cents", "to_query_time"]

T = TypeVar("T")


class _OnTransport(Generic[T]):
    """A retry setting the connector exposes but its transport applies.

    The class keeps the default; setting it on a connector (as tests do with
    ``backoff_base_s``) reaches the transport that does the waiting.
    """

    def __init__(self, default: T) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, connector: BigCommerceConnector | None, owner: type | None = None) -> T:
        if connector is None:
            return self.default
        value: T = getattr(connector.transport, self.name)
        return value

    def __set__(self, connector: BigCommerceConnector, value: T) -> None:
        setattr(connector.transport, self.name, value)


class BigCommerceConnector:
    """One store, addressed by its v3 API URL (``https://api.bigcommerce.com/stores/H/v3``)."""

    page_limit = 250
    brands_page_limit = 250
    # consecutive 429s carrying a reset time before giving up
    max_throttle_waits = _OnTransport(20)
    backoff_base_s = _OnTransport(0.5)
    backoff_cap_s = _OnTransport(30.0)
    timeout = _OnTransport(30.0)
    max_retries = _OnTransport(5)

    def __init__(
        self,
        api_url: str,
        access_token: str,
        *,
        inventory: Literal["variants", "adjustments"] = "variants",
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
        allow_private: bool = False,
    ) -> None:
        """``allow_private``: the store may be at a private address (the local stack)."""
        self.api_url = api_url.rstrip("/")
        self.capabilities = bigcommerce_capabilities(inventory)
        cls = type(self)
        self.transport = HttpTransport(
            f"BigCommerce store {self.api_url}",
            session=session,
            # The store's request window: shared through the budget, or this worker's own.
            pacer=RequestWindowPacer(window_headers, budget, sleep),
            sleep=sleep,
            timeout=timeout,
            max_retries=max_retries,
            max_throttle_waits=cls.max_throttle_waits,
            backoff_base_s=cls.backoff_base_s,
            backoff_cap_s=cls.backoff_cap_s,
            allow_private=allow_private,
        )
        self._api = StoreApi(self.api_url, access_token, self.transport)
        self._writer = BatchWriter(self._api, self.capabilities, GoneCheck(self._api, clock))
        self._creator = ProductCreator(self._api)

    @property
    def default_location(self) -> str | None:
        return None  # stock locations are given, never looked up

    def __repr__(self) -> str:  # never shows the token
        return f"BigCommerceConnector({self.api_url!r})"

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product modified in the range (all without one).

        Money in cents; ``modified`` is the product's ``date_modified`` as the
        platform writes it. Both range ends are inclusive, at whole seconds.
        """
        return reader.iter_variants(
            self._api,
            modified_since,
            modified_until,
            page_limit=self.page_limit,
            brands_page_limit=self.brands_page_limit,
        )

    def apply(
        self,
        op: str,
        items: list[PlanItem],
        *,
        batch_key: str,
        location: str | None = None,
        carried: int = 0,
        defer: bool = False,
        more: Callable[[int], list[PlanItem]] | None = None,
    ) -> list[ItemResult]:
        """Write one batch of ``op``; one ``(ok, platform message)`` per item, in order.

        ``carried`` / ``defer`` / ``more``: a pile found good in and out, and the
        caller's next items to fill requests with (``ports.PileCarrier``; create and
        delete carry none). More items than the operation takes, or a field
        it cannot write, is a caller bug (ValueError, nothing sent). Items the platform
        refuses are reported, never raised; a store-wide failure raises a named error.
        """
        if op == CREATE_OP:
            if len(items) > self.capabilities.op(op).max_batch:
                raise ValueError(f"{op} takes one product per request, got {len(items)}")
            return self._creator.create(items)
        if op == DELETE_OP:
            return self._creator.delete(items)
        return self._writer.apply(
            op,
            items,
            batch_key=batch_key,
            location=location,
            carried=carried,
            defer=defer,
            more=more,
        )

    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        """What the store already has of these create items (``ports.Creator``)."""
        return self._creator.find_created(items)
