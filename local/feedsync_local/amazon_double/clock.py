"""Virtual time for the Amazon double and the connector it serves: feeds and reports take
minutes at Amazon, so tests and the bench let time pass only when the connector sleeps."""

from __future__ import annotations

import threading


class VirtualClock:
    """Now, and a ``sleep`` that moves it (thread-safe; every sleep is kept)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    @property
    def slept(self) -> float:
        return sum(max(0.0, s) for s in self.sleeps)
