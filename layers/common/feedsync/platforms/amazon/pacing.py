"""Amazon's usage plans: a token bucket per operation (``rate`` per second, ``burst``).

Each operation has its own transport and pacer, so a burst of status polls never spends
the feed creations' tokens. The buckets are the seller's (``ports.TokenBuckets``): every
connector of one seller, in any shard or process, spends the same tokens when the
composition root shares them (DynamoDB); otherwise the connector keeps its own. A bucket
starts from the spec's plan and follows the rate Amazon reports in
``x-amzn-RateLimit-Limit`` (a seller's plan may be higher); after a 429 it is empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from feedsync.core.ports import TokenBuckets
from feedsync.platforms.amazon.responses import rate_limit
from feedsync.platforms.transport import Outcome


class TokenBucketPacer:
    """Waits before a request until the operation's bucket holds a token for it."""

    paces_throttles = False
    # Waited beyond the token's time: Amazon's clock and ours never agree to the microsecond.
    margin_s = 0.05

    def __init__(
        self,
        operation: str,
        rate: float,
        burst: int,
        buckets: TokenBuckets,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.operation = operation
        self.rate = rate
        self.burst = burst
        self._buckets = buckets
        self._sleep = sleep

    def before_request(self, cost: float) -> None:
        wait = self._buckets.reserve(self.operation, self.rate, self.burst)
        if wait > 0:
            self._sleep(wait + self.margin_s)

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        if response is None:
            return
        rate = rate_limit(response)
        learnt = rate is not None and rate != self.rate
        throttled = response.status_code == 429
        if rate is not None:
            self.rate = rate
        if learnt or throttled:  # else nothing new: no write to the shared bucket
            self._buckets.report(self.operation, rate=rate, throttled=throttled)

    def waited(self, seconds: float) -> None:
        return None
