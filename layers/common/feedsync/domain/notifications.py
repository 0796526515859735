"""Which run outcomes notify, webhook signatures and the delivery retry policy (pure).

A receiver verifies a delivery with ``verify``'s rule: HMAC-SHA256 of
``"<Feedsync-Timestamp>.<body>"`` under the profile's secret, compared in constant time,
and refuses a timestamp more than ``TOLERANCE_S`` away from its clock (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# What a webhook can subscribe to; a run's outcome is one or more of them.
WEBHOOK_EVENTS = ("failed", "failed_items", "held", "succeeded")
# The outcomes worth a mail: something needs the merchant (a success does not).
EMAIL_EVENTS = frozenset({"failed", "failed_items", "held"})
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300
# A channel (the mail, one webhook) of one run outcome: claimed by the invocation that
# sends it, sent once it went, or busy while another invocation's claim holds.
Claim = Literal["claimed", "sent", "busy"]


def outcome_events(status: str, counts: Mapping[str, int]) -> frozenset[str]:
    """The notification events of a finished run (empty: nobody is told).

    A success with items the store refused is both ``succeeded`` and ``failed_items``.
    Cancelled, skipped and previewed runs are the merchant's own doing or nothing at all:
    they are on the event bus, but notify nobody.
    """
    if status == "failed":
        return frozenset({"failed"})
    if status == "held":
        return frozenset({"held"})
    if status in ("succeeded", "partially_applied"):
        if counts.get("failed", 0) > 0:
            return frozenset({"succeeded", "failed_items"})
        return frozenset({"succeeded"})
    return frozenset()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Feedsync-Signature`` header value for one delivery."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    tolerance_s: int = TOLERANCE_S,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature.strip())


@dataclass(frozen=True)
class WebhookAnswer:
    """One attempt's answer: ``status_code`` None when none came (timeout, connection
    error); ``refused`` when the address is not allowed (nothing was sent, nor will be)."""

    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None
    refused: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """A few attempts inside one invocation, backing off, within a bounded total time.

    Retried: no answer (timeout, connection refused or reset), 5xx, 408 and 429; any
    other answer is final (a 4xx says the receiver will not take it, whatever we do).
    """

    attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    # The whole delivery, attempts and waits, stays within this (the function's timeout
    # covers every webhook of a run, one after the other).
    budget_s: float = 60.0
    # One attempt, connect to the last byte read (not per read: a trickling receiver).
    timeout_s: float = 10.0

    def retryable(self, status_code: int | None) -> bool:
        return status_code is None or status_code >= 500 or status_code in (408, 429)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after attempt ``attempt`` (1-based) failed."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        if retry_after_s is not None:
            return min(self.max_delay_s, max(backoff, retry_after_s))
        return backoff

    def next_delay(
        self, attempt: int, status_code: int | None, elapsed_s: float, retry_after_s: float | None
    ) -> float | None:
        """How long to wait before the next attempt, or None: stop here."""
        if attempt >= self.attempts or not self.retryable(status_code):
            return None
        wait = self.delay(attempt, retry_after_s)
        if elapsed_s + wait + self.timeout_s > self.budget_s:
            return None
        return wait
