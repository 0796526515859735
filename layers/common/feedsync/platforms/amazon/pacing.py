"""Amazon's usage plans: a token bucket per operation (``rate`` per second, ``burst``).

Each operation has its own transport and pacer, so a burst of status polls never spends
the feed creations' tokens. The pacer starts from the spec's plan and follows the rate
Amazon reports in ``x-amzn-RateLimit-Limit`` (a seller's plan may be higher); after a
429 the bucket is empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from feedsync.platforms.amazon.responses import rate_limit
from feedsync.platforms.transport import Outcome


class TokenBucketPacer:
    """Waits before a request until the operation's bucket holds a token."""

    paces_throttles = False
    # Waited beyond the token's time: Amazon's clock and ours never agree to the microsecond.
    margin_s = 0.05

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._sleep = sleep
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now

    def before_request(self, cost: float) -> None:
        self._refill()
        if self._tokens < 1.0:
            self._sleep((1.0 - self._tokens) / self.rate + self.margin_s)
            self._refill()
            self._tokens = max(self._tokens, 1.0)  # a fake sleep moves no clock
        self._tokens -= 1.0

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        if response is None:
            return
        rate = rate_limit(response)
        if rate is not None:
            self.rate = rate
        if response.status_code == 429:
            self._refill()
            self._tokens = 0.0

    def waited(self, seconds: float) -> None:
        return None
