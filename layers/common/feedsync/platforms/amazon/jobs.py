"""Waiting for Amazon's asynchronous work (a report, a feed): status polls with backoff.

The first look comes after what the job should take, then each wait is half the time
waited so far (between ``min_s`` and ``cap_s``): a job twice as slow as guessed costs
two more looks, ten times as slow about six. ``patience_s`` counts from ``started`` (the
batch's start: one feed per update shard, so about the shard's) on the connector's
clock, and no wait goes past it: the last look is at the patience, and a job still
unfinished then makes the store unavailable, well inside the update function's 900 s
(the shard's retry sends a new feed, harmless: its values are absolute).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from feedsync.errors import StoreUnavailable

JSON = dict[str, Any]
FINISHED = frozenset({"DONE", "FATAL", "CANCELLED"})


@dataclass
class Polling:
    first_s: float = 10.0
    growth: float = 1.5
    cap_s: float = 300.0
    # The update function's 900 s less a margin for what follows the last look (the
    # processing report, the shard's results) and what came before the batch.
    patience_s: float = 780.0
    min_s: float = 5.0


def wait_for(
    look: Callable[[], JSON],
    *,
    polling: Polling,
    first_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    what: str,
    started: float | None = None,
) -> JSON:
    """Look until the job's ``processingStatus`` is final; the last answer. Patience runs
    out ``polling.patience_s`` after ``started`` (default: now), never in a sleep."""
    deadline = (clock() if started is None else started) + polling.patience_s
    waited = 0.0
    wait = max(first_s, 0.0)
    while True:
        wait = max(min(wait, deadline - clock()), 0.0)
        sleep(wait)
        waited += wait
        job = look()
        if str(job.get("processingStatus")) in FINISHED:
            return job
        if clock() >= deadline:
            raise StoreUnavailable(
                f"{what} was still {job.get('processingStatus')} after {waited:.0f} s; "
                "Amazon is slow to process it (a retry of the run sends a new feed with the "
                "same absolute values)"
            )
        wait = min(polling.cap_s, max(waited * (polling.growth - 1.0), polling.min_s))
