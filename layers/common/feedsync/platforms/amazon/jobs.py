"""Waiting for Amazon's asynchronous work (a report, a feed): status polls with backoff.

The first look comes after what the job should take, then each wait is half the time
waited so far (between ``min_s`` and ``cap_s``): a job twice as slow as guessed costs
two more looks, ten times as slow about six. Past ``patience_s`` the store counts as
unavailable (the shard's retry sends the feed again, harmless: its values are absolute).
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
    patience_s: float = 780.0
    min_s: float = 5.0


def wait_for(
    look: Callable[[], JSON],
    *,
    polling: Polling,
    first_s: float,
    sleep: Callable[[float], None],
    what: str,
) -> JSON:
    """Look until the job's ``processingStatus`` is final; the last answer."""
    waited = 0.0
    wait = max(first_s, 0.0)
    while True:
        sleep(wait)
        waited += wait
        job = look()
        if str(job.get("processingStatus")) in FINISHED:
            return job
        if waited >= polling.patience_s:
            raise StoreUnavailable(
                f"{what} was still {job.get('processingStatus')} after {waited:.0f} s; "
                "Amazon is slow to process it (a retry of the run sends it again)"
            )
        wait = min(polling.cap_s, max(waited * (polling.growth - 1.0), polling.min_s))
