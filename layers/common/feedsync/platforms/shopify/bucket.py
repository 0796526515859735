"""Shopify's cost bucket, as a pacer of the shared HTTP transport.

The Admin API meters query points, not requests: every answer's ``extensions.cost``
says what the bucket holds (``throttleStatus``: currently and maximum available, restore
rate) and what the document cost (``requestedQueryCost``, ``actualQueryCost``). A
document whose cost (what it was last charged, else the caller's estimate) exceeds what
is left now waits just long enough first, so a THROTTLED answer is the exception; when
one comes anyway it waits for the refill the same arithmetic gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from feedsync.platforms.transport import Outcome

JSON = dict[str, Any]


class CostBucket:
    """Waits for the points a document will cost; learns the bucket from each answer.

    Answers reach it as the body of the platform's ``Outcome`` (the parsed JSON).
    ``points_spent`` sums the actual query costs, ``throttled`` counts THROTTLED answers.
    """

    # Nobody else holds requests back after a throttle: the transport waits its wait.
    paces_throttles = False

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self._sleep = sleep
        self._clock = clock
        # As last reported: available, maximum, restore rate per second, when seen.
        self._state: tuple[float, float, float, float] | None = None
        self._waited_s = 0.0  # slept since then (a fake sleep does not move a clock)
        self._charged: dict[str, int] = {}  # what each document was last charged
        self._document = ""
        self.points_spent = 0
        self.throttled = 0

    def sending(self, document: str) -> None:
        """Name the document about to go out: the transport hands a pacer a cost only, and
        what Shopify last charged for this document (even on an earlier try of the same
        request) counts for more than the estimate."""
        self._document = document

    def cost_of(self, document: str, estimate: float) -> float:
        return self._charged.get(document, estimate)

    def available_now(self) -> float | None:
        if self._state is None:
            return None
        available, maximum, rate, seen_at = self._state
        elapsed = max(self._clock() - seen_at, self._waited_s)
        return min(maximum, available + rate * elapsed)

    def throttle_wait(self, cost: JSON, estimate: float) -> float:
        """How long a THROTTLED answer (its ``extensions.cost``) asks to wait."""
        status = cost.get("throttleStatus") or {}
        needed = cost.get("requestedQueryCost") or self.cost_of(self._document, estimate)
        try:
            missing = float(needed) - float(status["currentlyAvailable"])
            rate = float(status["restoreRate"]) or 1.0
        except (KeyError, TypeError, ValueError):
            return 1.0
        # A throttled answer may come with room to spare (another client spent it first):
        # wait at least one restore tick.
        return max(missing / rate, 1.0 / rate)

    # -- Pacer -------------------------------------------------------------------------------
    def before_request(self, cost: float) -> None:
        needed = self.cost_of(self._document, cost)
        available = self.available_now()
        if self._state is None or available is None or needed <= available:
            return
        rate = self._state[2] or 1.0
        wait = (needed - available) / rate
        self._sleep(wait)
        self._waited_s += wait

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        if outcome.kind == "throttle":
            self.throttled += 1
        answer = outcome.body
        if not isinstance(answer, dict):
            return
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self._state = (
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
                self._clock(),
            )
            self._waited_s = 0.0
        except (KeyError, TypeError, ValueError):
            pass
        if isinstance(cost.get("requestedQueryCost"), int | float):
            self._charged[self._document] = int(cost["requestedQueryCost"])
        if isinstance(cost.get("actualQueryCost"), int | float):
            self.points_spent += int(cost["actualQueryCost"])

    def waited(self, seconds: float) -> None:
        self._waited_s += seconds
