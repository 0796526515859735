"""The one platform-specific part of the conformance suite: a harness per platform.

A harness starts the platform's double on loopback, seeds the suite's catalog, builds the
connector through the registry (public surface only), and knows how to make the double
misbehave and how to read back what it holds and what it received. The suite itself never
names a platform.

Where a platform genuinely behaves otherwise than the suite's default expectation, the
harness declares it (``product_gone_scope``, ``keyed_ops``) with the reason, and the
suite checks the declared behaviour instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Self

from conformance_kit import (
    CATALOG,
    BudgetFactory,
    Catalog,
    ProductSpec,
    RecordingSession,
    SeededProduct,
    VirtualClock,
)

from feedsync.core.ports import StoreConnector
from feedsync.domain.capabilities import Capabilities
from feedsync.domain.writes import GoneScope, PlanItem
from feedsync.platforms.registry import platform
from feedsync.platforms.spec import ConnectorSetup

# What a harness makes the double refuse an item with (where the platform lets it choose).
REFUSAL = "Refused by the conformance suite"


class Harness(ABC):
    """One platform's double, seeded and observed; use as a context manager."""

    platform: ClassVar[str]
    # Store options worth a run each: together their connectors have every write operation.
    option_sets: ClassVar[tuple[Mapping[str, Any], ...]] = ({},)
    # Operations whose requests carry the batch key (an idempotency or reference key).
    keyed_ops: ClassVar[frozenset[str]] = frozenset()
    # How an item of a deleted product comes back, where not as the whole product gone.
    product_gone_scope: ClassVar[Mapping[str, GoneScope]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self.clock = VirtualClock()
        self.session = RecordingSession()
        self._catalog: Catalog | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.session.close()

    # -- the connector, as the composition root builds it --------------------------------------
    @abstractmethod
    def address(self) -> tuple[str, dict[str, str]]:
        """The store's API URL and credentials, as a merchant enters them."""

    @property
    def capabilities(self) -> Capabilities:
        return platform(self.platform).capabilities(self.options)

    def connector(self, budget: BudgetFactory | None = None) -> StoreConnector:
        api_url, credentials = self.address()
        setup = ConnectorSetup(
            api_url=api_url,
            credentials=credentials,
            options=self.options,
            allow_private=True,
            budget=budget,
            session=self.session,
            sleep=self.clock.sleep,
            clock=self.clock,  # dropped by the platforms that take none yet
        )
        return platform(self.platform).connector(setup)

    @property
    def default_location(self) -> str | None:
        """What the connector should remember as the platform's own stock location."""
        return None

    # -- catalog -------------------------------------------------------------------------------
    def seed_catalog(self) -> Catalog:
        self._catalog = Catalog(tuple(self.seed(CATALOG)))
        return self._catalog

    @property
    def catalog(self) -> Catalog:
        assert self._catalog is not None, "seed_catalog() first"
        return self._catalog

    @abstractmethod
    def seed(self, products: tuple[ProductSpec, ...]) -> list[SeededProduct]:
        """Create the products in the double; one ``SeededProduct`` each, in order."""

    @abstractmethod
    def state(self, product_id: int, variant_id: int) -> dict[str, Any]:
        """What the double holds for a variant, by canonical field (money in cents, the
        product's name/description/brand with it); fields the platform lacks are absent."""

    @abstractmethod
    def set_modified(self, product_id: int, when: datetime) -> None:
        """The product (and whatever of it a range read looks at) was last modified then."""

    # -- faults --------------------------------------------------------------------------------
    @abstractmethod
    def refuse(self, op: str, item: PlanItem) -> str:
        """Make the double refuse this item in later writes of ``op``; the platform's
        message the item's result must carry."""

    @abstractmethod
    def delete_variant(self, product_id: int, variant_id: int) -> None: ...

    @abstractmethod
    def delete_product(self, product_id: int) -> None: ...

    @abstractmethod
    def throttle(self, wait_s: float, count: int = 1) -> None:
        """The next requests get 429 with the platform's headers saying: come back in ``wait_s``."""

    @abstractmethod
    def throttle_bare(self, count: int = 1) -> None:
        """The next requests get 429 with no rate or Retry-After header (platform load)."""

    @abstractmethod
    def unavailable(self, count: int = 1, retry_after: float | None = None) -> None:
        """The next requests get 503, with ``Retry-After`` when given."""

    def set_request_window(self, requests: int, window_s: float) -> None:
        raise NotImplementedError(f"{self.platform} has no request window")

    def set_cost_bucket(self, points: float, restore_per_s: float, available: float) -> None:
        raise NotImplementedError(f"{self.platform} has no cost bucket")

    # -- what the double received --------------------------------------------------------------
    @abstractmethod
    def statuses(self) -> list[int]:
        """The HTTP status of every API request the double answered, in order."""

    @abstractmethod
    def rate_limited(self) -> int:
        """How many answers were the platform's rate limit (429, or its in-band throttle)."""

    @abstractmethod
    def batch_keys(self) -> list[str]:
        """The batch keys the write requests carried, one per keyed request."""

    def reset_log(self) -> None:
        """Forget the requests so far (the double's log, the session's and the waits)."""
        self.session.sent.clear()
        self.clock.clear()
