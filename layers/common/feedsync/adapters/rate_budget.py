"""A store's request quota shared by every worker that writes to it (``ports.RateBudget``).

BigCommerce counts requests per store in a fixed window (150 per 30 s, shared by
every app), and tells each answer how many requests are left and when the window
resets. Update shards run at once, so one shard's headers say nothing about what
the others are about to send: the budget keeps the window in one shared place and
counts the requests *in flight* (reserved, not yet answered), so N workers never
send more than the window has left, whatever the order their answers come back in.

The window is only learnt from the platform's headers; nothing is assumed:

* ``before_request`` reserves one request when ``left - in_flight > 0``, else sleeps
  until the window's reset (learnt end + a small margin) and tries again. Before
  any header was seen only one request at a time goes out (a probe).
* ``after_response`` takes ``left`` and ``reset`` from the answer. The end of the
  window is estimated as *receive time + reset*, which is never earlier than the
  platform's own end (the platform measured the reset before we received it), so
  waiting until it is safe; the smallest estimate of a window is kept. An answer
  whose window ends well after ours opens a new window; one whose window ended
  well before ours is stale (sent in an older window) and only frees its slot.
* An answer without headers (5xx, timeout, reset connection) counts as spent.

``LocalRateBudget`` keeps that state under a lock (threads of one process);
``DynamoRateBudget`` keeps it in one DynamoDB item with optimistic, conditional
writes (Lambda shards in different processes). Both sleep through an injectable
``sleep`` and read time through an injectable ``clock``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from feedsync.adapters.versioned_item import Numbers, VersionedItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# While a window's size or end is still unknown, how often to look again.
DEFAULT_POLL_S = 0.01
# Added to every learnt window end: clock granularity and (Dynamo) clock skew between hosts.
DEFAULT_MARGIN_S = 0.02
# A reservation never answered (a crashed worker) stops counting after this long idle.
DEFAULT_STALE_S = 120.0


@dataclass
class BudgetState:
    """The shared window, as plain numbers (kept as is in a DynamoDB item)."""

    quota: int | None = None  # requests per window (X-Rate-Limit-Requests-Quota)
    window_s: float | None = None  # window length (X-Rate-Limit-Time-Window-Ms)
    remaining: int | None = None  # requests the platform said are left in this window
    window_end: float | None = None  # clock time this window resets; None: not known yet
    prev_end: float | None = None  # end of the window before it (to spot stale answers)
    in_flight: int = 0  # reserved and not yet answered, across every worker
    updated_at: float = 0.0

    def reserve(self, now: float, poll_s: float, stale_s: float) -> float:
        """Reserve one request: 0.0 when reserved, else how long to wait before asking again."""
        if self.updated_at and now - self.updated_at > stale_s:
            self.in_flight = 0  # nobody has answered for ages: those workers are gone
        if self.window_end is not None and now >= self.window_end:
            # The window has reset: a fresh quota; its end is known from its first answer.
            self.prev_end, self.window_end = self.window_end, None
            self.remaining = self.quota
        if self.remaining is None:  # nothing known yet: one probe at a time
            if self.in_flight == 0:
                return self._take(now)
            return poll_s
        if self.remaining - self.in_flight > 0:
            return self._take(now)
        if self.window_end is None:
            if self.in_flight == 0:
                # Used up by answers without rate headers (5xx, resets, slow answers):
                # nothing in flight will say when the window ends, so probe again.
                self.remaining = None
                return self._take(now)
            return poll_s  # all reserved; the first answer will say when the window ends
        return max(self.window_end - now, poll_s)

    def _take(self, now: float) -> float:
        self.in_flight += 1
        self.updated_at = now
        return 0.0

    def report(
        self,
        now: float,
        margin_s: float,
        left: int | None,
        reset_s: float | None,
        quota: int | None,
        window_s: float | None,
    ) -> None:
        """One reserved request was answered (or failed): free its slot, learn the window."""
        self.in_flight = max(0, self.in_flight - 1)
        self.updated_at = now
        if quota is not None and quota > 0:
            self.quota = quota
        if window_s is not None and window_s > 0:
            self.window_s = window_s
        if left is None or reset_s is None:
            if self.remaining is not None:  # it may have counted: assume it did
                self.remaining = max(0, self.remaining - 1)
            return
        left = max(0, left)
        end = now + max(0.0, reset_s) + margin_s
        half = (self.window_s or 0.0) / 2
        if self.window_end is None:
            if self.prev_end is not None and end < self.prev_end + half:
                return  # an answer from the window that already ended
            self.window_end = end
            self.remaining = left if self.remaining is None else min(self.remaining, left)
        elif end > self.window_end + half:
            # The platform started a new window before we expected it: its numbers rule.
            self.prev_end, self.window_end, self.remaining = self.window_end, end, left
        elif end < self.window_end - half:
            return  # stale: sent in the previous window
        else:
            self.window_end = min(self.window_end, end)
            self.remaining = left if self.remaining is None else min(self.remaining, left)


class _SharedBudget:
    """The waiting and reporting every budget shares; ``_update`` applies one change to
    the shared state atomically (a lock in one process, a conditional write in DynamoDB)."""

    def __init__(
        self,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        margin_s: float,
        poll_s: float,
        stale_s: float,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self.margin_s = margin_s
        self.poll_s = poll_s
        self.stale_s = stale_s

    def _update(self, change: Callable[[BudgetState, float], float]) -> float:
        raise NotImplementedError

    def before_request(self) -> None:
        while True:
            wait = self._update(lambda s, now: s.reserve(now, self.poll_s, self.stale_s))
            if wait <= 0:
                return
            self._sleep(wait)

    def after_response(
        self,
        left: int | None,
        reset_s: float | None,
        quota: int | None = None,
        window_s: float | None = None,
    ) -> None:
        def report(state: BudgetState, now: float) -> float:
            state.report(now, self.margin_s, left, reset_s, quota, window_s)
            return 0.0

        self._update(report)


class LocalRateBudget(_SharedBudget):
    """In-process budget: share one instance between the connectors of all threads."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        margin_s: float = DEFAULT_MARGIN_S,
        poll_s: float = DEFAULT_POLL_S,
        stale_s: float = DEFAULT_STALE_S,
    ) -> None:
        super().__init__(sleep, clock, margin_s, poll_s, stale_s)
        self._lock = threading.Lock()
        self._state = BudgetState()

    @property
    def state(self) -> BudgetState:
        """A copy of the shared window (for tests and logs)."""
        with self._lock:
            return BudgetState(**asdict(self._state))

    def _update(self, change: Callable[[BudgetState, float], float]) -> float:
        with self._lock:
            return change(self._state, self._clock())


_NUMBERS = ("quota", "window_s", "remaining", "window_end", "prev_end", "in_flight", "updated_at")
_INTS = ("quota", "remaining", "in_flight")


class DynamoRateBudget(_SharedBudget):
    """The same budget in one item of the app's table, for workers in different processes.

    Item ``PK=BUDGET#<key>``, ``SK=BUDGET``: the ``BudgetState`` numbers, changed by
    conditional writes on its version (``versioned_item``).
    """

    def __init__(
        self,
        table_name: str,
        key: str,
        client: DynamoDBClient | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        margin_s: float = 0.05,
        poll_s: float = 0.02,
        stale_s: float = DEFAULT_STALE_S,
    ) -> None:
        pk = f"BUDGET#{key}"
        self.item = VersionedItem(
            table_name,
            {"PK": {"S": pk}, "SK": {"S": "BUDGET"}},
            f"store rate budget {pk}",
            client,
            clock=clock,
            sleep=sleep,
        )
        super().__init__(sleep, clock, margin_s, poll_s, stale_s)

    def __repr__(self) -> str:
        return f"DynamoRateBudget({self.item.table!r}, {self.item.key['PK']['S']!r})"

    @property
    def state(self) -> BudgetState:
        return _budget(self.item.load()[0])

    def _update(self, change: Callable[[BudgetState, float], float]) -> float:
        def apply(
            numbers: Numbers | None, now: float
        ) -> tuple[dict[str, float | int] | None, float]:
            state = _budget(numbers)
            before = asdict(state)
            result = change(state, now)
            if numbers is not None and asdict(state) == before:
                return None, result  # only a wait: nothing to write
            return {k: v for k, v in asdict(state).items() if v is not None}, result

        return self.item.update(apply)


def _budget(numbers: Numbers | None) -> BudgetState:
    if numbers is None:
        return BudgetState()
    values: dict[str, Any] = {}
    for name in _NUMBERS:
        number = numbers.get(name)
        if number is not None:
            values[name] = int(number) if name in _INTS else float(number)
    return BudgetState(**values)
