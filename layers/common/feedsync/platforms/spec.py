"""What a store platform tells the rest of feedsync about itself.

Every platform folder exports one ``PlatformSpec``; the API, the models, the
planner and the composition root ask it instead of testing the platform's name.
Importing a spec is cheap: the connector (and ``requests``) loads only when the
factory is called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from feedsync.domain.capabilities import Capabilities

if TYPE_CHECKING:
    import requests

    from feedsync.core.ports import RateBudget, StoreConnector, TokenBuckets


@dataclass(frozen=True)
class ConnectorSetup:
    """What the composition root hands a platform's connector factory."""

    api_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, Any]
    # Where private and plain-http addresses are allowed (the local stack).
    allow_private: bool = False
    # The store's shared request window, for platforms whose quota is one.
    budget: Callable[[], RateBudget] | None = None
    # Token buckets shared by every worker of one account, under the scope the platform
    # names (its usage plans' owner, e.g. a seller), for quotas that are buckets.
    buckets: Callable[[str], TokenBuckets] | None = None
    # Tests and benchmarks: the HTTP session, and a fake sleep and monotonic clock.
    session: requests.Session | None = None
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] | None = None

    def injected(self) -> dict[str, Any]:
        """The test seams that were given, as connector keyword arguments."""
        seams = {"session": self.session, "sleep": self.sleep, "clock": self.clock}
        return {name: value for name, value in seams.items() if value is not None}


@dataclass(frozen=True)
class PlatformSpec:
    """One store platform, as the rest of the code may know it.

    ``options``: the store options (``StoreOptions`` fields) the platform reads;
    ``check_location`` raises ValueError with what the platform expects (None: the
    platform has no stock locations); ``location_key`` reduces a location id to the
    form two ids of one location share.
    """

    name: str
    label: str
    credential_fields: tuple[str, ...]
    store_url: re.Pattern[str]
    store_url_hint: str
    capabilities: Callable[[Mapping[str, Any]], Capabilities]
    connector: Callable[[ConnectorSetup], StoreConnector]
    options: frozenset[str] = frozenset()
    # Of ``options``, those a store of the platform must give.
    required_options: frozenset[str] = frozenset()
    check_location: Callable[[str], None] | None = None
    location_key: Callable[[str], str] = str

    def validate_location(self, location_id: str) -> None:
        if self.check_location is None:
            raise ValueError(f"{self.label} has no stock locations")
        self.check_location(location_id)
