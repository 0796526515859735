"""Which outcomes notify, the webhook signature as a receiver checks it, the retry policy."""

from __future__ import annotations

import hashlib
import hmac
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from feedsync.domain.notifications import RetryPolicy, outcome_events, sign, verify

SECRET = "whsec_test"
BODY = b'{"id":"dlv_1","events":["failed"]}'


def receiver_accepts(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    """A receiver written from the README alone (not with feedsync's code)."""
    if abs(now - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + expected.hexdigest(), signature)


def test_a_receiver_accepts_the_signature_of_a_fresh_delivery() -> None:
    # Given a delivery signed now
    now = int(time.time())
    signature = sign(SECRET, now, BODY)
    # Then the README's check and feedsync's own verify both accept it
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert receiver_accepts(SECRET, str(now), BODY, signature, now + 2)
    assert verify(SECRET, str(now), BODY, signature, now + 2)


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_is_refused() -> None:
    # Given a signed delivery
    sent = int(time.time())
    signature = sign(SECRET, sent, BODY)
    # Then a changed byte, another secret, a replay 6 minutes later and a moved timestamp fail
    assert not verify(SECRET, str(sent), BODY.replace(b"failed", b"succeeded"), signature, sent)
    assert not verify("whsec_other", str(sent), BODY, signature, sent)
    assert not verify(SECRET, str(sent), BODY, signature, sent + 6 * 60)
    assert not verify(SECRET, str(sent + 1), BODY, signature, sent)
    assert not verify(SECRET, "not-a-number", BODY, signature, sent)
    assert not receiver_accepts(SECRET, str(sent), BODY + b" ", signature, sent)


@pytest.mark.parametrize(
    ("status", "counts", "events"),
    [
        ("failed", {}, {"failed"}),
        ("held", {"changed": 9}, {"held"}),
        ("succeeded", {"updated": 5}, {"succeeded"}),
        ("succeeded", {"updated": 5, "failed": 1}, {"succeeded", "failed_items"}),
        ("partially_applied", {"failed": 2}, {"succeeded", "failed_items"}),
        ("cancelled", {"failed": 2}, set()),
        ("skipped", {}, set()),
        ("previewed", {"changed": 3}, set()),
    ],
)
def test_which_outcomes_notify(status: str, counts: dict[str, int], events: set[str]) -> None:
    # Given a run's final status and counts, Then these are its notification events
    assert outcome_events(status, counts) == events


@pytest.mark.parametrize("code", [None, 500, 502, 503, 504, 408, 429])
def test_no_answer_server_errors_timeouts_and_throttles_are_retried(code: int | None) -> None:
    assert RetryPolicy().next_delay(1, code, elapsed_s=0, retry_after_s=None) == 1.0


@pytest.mark.parametrize("code", [200, 301, 400, 401, 403, 404, 410, 422])
def test_other_answers_are_final(code: int) -> None:
    assert RetryPolicy().next_delay(1, code, elapsed_s=0, retry_after_s=None) is None


def test_backoff_doubles_and_stops_after_the_last_attempt_or_the_time_budget() -> None:
    policy = RetryPolicy(attempts=4, base_delay_s=1, max_delay_s=30, budget_s=60, timeout_s=10)
    # Given failures with no answer, Then waits double: 1, 2, 4 s, and the 4th attempt is last
    assert [policy.next_delay(n, None, 0, None) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert policy.next_delay(4, None, 0, None) is None
    # ... a Retry-After is honoured up to the cap
    assert policy.next_delay(1, 429, 0, 12.0) == 12.0
    assert policy.next_delay(1, 429, 0, 999.0) == 30.0
    # ... and no attempt starts that could end past the budget (49 s spent + 2 s + 10 s > 60)
    assert policy.next_delay(2, 503, 49.0, None) is None


def test_the_readmes_receiver_example_accepts_a_delivery_and_refuses_a_tampered_one() -> None:
    # Given the verification code the README gives receivers (its Notifications section)
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Notifications", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(code), namespace)  # the README's own code, run as a receiver would
    verified = namespace["verified"]
    # When feedsync signs a delivery now
    stamp = int(time.time())
    headers = {"Feedsync-Timestamp": str(stamp), "Feedsync-Signature": sign(SECRET, stamp, BODY)}
    # Then the example accepts it, and refuses a changed body or an old timestamp
    assert verified(SECRET, headers, BODY)
    assert not verified(SECRET, headers, BODY + b" ")
    old = stamp - 301
    stale = {"Feedsync-Timestamp": str(old), "Feedsync-Signature": sign(SECRET, old, BODY)}
    assert not verified(SECRET, stale, BODY)
