"""The connectors' injectable sleep, for tests: records every wait."""

from __future__ import annotations

import time


class FakeSleep:
    """Records requested waits; sleeps for real only when ``real`` (quota windows, buckets)."""

    def __init__(self, real: bool = False) -> None:
        self.calls: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)
