"""Tell the merchant how a run ended: a mail through the tenant's subscription and a
signed POST to each of the profile's webhooks that asked for the outcome.

Called for each delivery of a ``Run Finished`` event (``functions/notify``; EventBridge
delivers at least once). Each channel is claimed with a conditional write before it is
sent and marked sent after, so concurrent or retried invocations send only what had not
gone yet; a webhook's delivery id comes from its channel, so a POST repeated after a crash
carries the same ``Feedsync-Delivery`` and the receiver can drop it. Each webhook delivery
is recorded with every attempt it took.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from feedsync.core.deps import Deps
from feedsync.domain.notifications import EMAIL_EVENTS, RetryPolicy, outcome_events, sign
from feedsync.errors import NotificationUnavailable
from feedsync.models import Profile
from feedsync.models.notifications import NotifyResult, RunFinished, WebhookDelivery

log = logging.getLogger(__name__)
POLICY = RetryPolicy()
USER_AGENT = "feedsync-webhooks/1"

_TITLES = {
    "failed": "failed",
    "held": "was held by a safety limit",
    "failed_items": "finished with items the store refused",
}


def notify(
    deps: Deps,
    event: RunFinished,
    policy: RetryPolicy = POLICY,
    remaining_s: Callable[[], float] | None = None,
) -> NotifyResult:
    """``remaining_s``: the invocation's time left (Lambda's context); a webhook that
    might not finish in it is left unclaimed for Lambda's retry, as are those after it."""
    events = outcome_events(event.status, event.counts)
    result = NotifyResult(run_id=event.run_id, status=event.status, events=sorted(events))
    if not events or deps.notification_log is None:
        return result
    profile = deps.repo.get_profile(event.tenant_id, event.profile_id)
    # One key per execution's outcome: a later apply of the same run notifies again.
    sent_key = f"{event.run_id}#{event.round}#{event.status}"
    error: Exception | None = None
    busy = late = 0
    if events & EMAIL_EVENTS:
        try:
            emailed = _email(deps, event, events, profile, f"{sent_key}#email")
            result.emailed = emailed is True
            busy += emailed is None
        except Exception as exc:  # the webhooks still go; the invocation then fails
            error = exc
    if profile is not None and profile.webhooks and not profile.webhook_secret_ref:
        # the API creates the secret with the first webhook: a record written around it
        log.warning("profile %s has webhooks but no signing secret: none sent", profile.profile_id)
    elif profile is not None and profile.webhooks and profile.webhook_secret_ref:
        secret: str | None = None
        for hook in profile.webhooks:
            if not events & set(hook.events):
                continue
            if late or (remaining_s is not None and remaining_s() < _needed(policy)):
                late += 1
                continue
            key = f"{sent_key}#webhook#{hashlib.sha256(hook.url.encode()).hexdigest()[:20]}"
            claim = deps.notification_log.claim(event.tenant_id, key, deps.clock(), _lease(policy))
            if claim != "claimed":
                busy += claim == "busy"
                continue
            try:
                if secret is None:
                    secret = deps.secrets.get(profile.webhook_secret_ref)["secret"]
                dlv = channel_delivery_id(event, key)
                delivery = deliver(deps, event, events, profile, hook.url, secret, dlv, policy)
                deps.notification_log.put_delivery(
                    event.tenant_id, delivery.model_dump(mode="json")
                )
            except Exception:
                deps.notification_log.release(event.tenant_id, key)
                raise
            deps.notification_log.mark_done(event.tenant_id, key)
            result.deliveries.append(delivery)
    if error is not None:
        # Lambda retries the event (then its failure queue keeps it); what went is marked.
        raise error
    if late:
        raise NotificationUnavailable(
            f"run {event.run_id}: {late} webhook(s) left for the retry (too little time left)"
        )
    if busy:
        # Another invocation of the same event holds them; should it have crashed, the
        # retry takes them over once its lease ran out (and sends under the same ids).
        raise NotificationUnavailable(
            f"run {event.run_id}: {busy} notification(s) held by another invocation"
        )
    return result


def _needed(policy: RetryPolicy) -> float:
    """The time one webhook may take: its retry budget (each attempt's deadline inside
    it), with room for its secret, record and mark."""
    return policy.budget_s + 10.0


def _lease(policy: RetryPolicy) -> float:
    """How long a claim holds: longer than one channel can take to go (a webhook's whole
    retry budget plus its last attempt), shorter than Lambda's second retry (~3 minutes)."""
    return policy.budget_s + policy.timeout_s + 30.0


def channel_delivery_id(event: RunFinished, key: str) -> str:
    """The same for every attempt, retry and redelivery of one webhook's delivery (so a
    receiver drops a repeat), ordered by the run's end (newest first in the list)."""
    ended = event.finished_at or event.created_at
    digest = hashlib.sha256(f"{event.tenant_id}#{key}".encode()).hexdigest()[:16]
    return f"dlv_{int(ended.timestamp() * 1000):013x}{digest}"


def _email(
    deps: Deps, event: RunFinished, events: frozenset[str], profile: Profile | None, key: str
) -> bool | None:
    """Publish the alert when the tenant has an address (False: nothing to publish or it
    went already; None: another invocation holds it)."""
    assert deps.notification_log is not None
    if deps.email is None or deps.notification_log.get_email(event.tenant_id) is None:
        return False
    claim = deps.notification_log.claim(event.tenant_id, key, deps.clock(), _lease(POLICY))
    if claim != "claimed":
        return None if claim == "busy" else False
    subject, text = email_message(event, events, profile.name if profile else event.profile_id)
    try:
        deps.email.publish(event.tenant_id, subject, text)
    except Exception:
        deps.notification_log.release(event.tenant_id, key)
        raise
    deps.notification_log.mark_done(event.tenant_id, key)
    return True


def email_message(event: RunFinished, events: frozenset[str], name: str) -> tuple[str, str]:
    """The mail: what happened, the figures, and what to do next."""
    kind = next(k for k in ("failed", "held", "failed_items") if k in events)
    subject = f"feedsync: {name} {_TITLES[kind]}"
    counts = event.counts
    figures = ", ".join(
        f"{label} {counts[k]:,}"
        for k, label in (("rows", "rows"), ("updated", "updated"), ("failed", "failed"),
                         ("not_found", "not found"), ("row_errors", "row errors"))
        if k in counts
    )  # fmt: skip
    lines = [
        f'Run {event.run_id} of profile "{name}" ({event.profile_id}) {_TITLES[kind]}.',
        f"Trigger: {event.trigger}. Ended: {event.finished_at or 'now'}.",
    ]
    if figures:
        lines.append(f"Figures: {figures}.")
    if kind == "failed":
        lines.append(f"Reason: {event.error or event.reason or 'not recorded'}")
        lines.append(
            "Fix the cause, then start the profile again; what did reach the store is in "
            f"GET /runs/{event.run_id}/log."
        )
    elif kind == "held":
        for reason in event.held_reasons:
            examples = ", ".join(str(e) for e in reason.get("examples", [])[:5])
            lines.append(
                f"- {reason.get('rule')}: measured {reason.get('measured')}, limit "
                f"{reason.get('limit')}" + (f" (e.g. {examples})" if examples else "")
            )
        lines.append(
            f"Nothing was written. Review it with GET /runs/{event.run_id}/changes and apply it "
            f"on purpose with POST /runs/{event.run_id}/apply, or fix the file."
        )
    else:
        lines.append(
            f"The refused items and why are in GET /runs/{event.run_id}/log?status=failed; "
            f'POST /runs/{event.run_id}/retry with {{"only": "failed"}} sends them again.'
        )
    return subject, "\n".join(lines) + "\n"


def webhook_body(event: RunFinished, events: frozenset[str], name: str, delivery_id: str) -> bytes:
    """What a receiver gets: the delivery's id (to drop a repeat), the outcome's events and
    the run as the bus carried it (without the tenant id: the receiver knows whose it is)."""
    run = event.model_dump(mode="json", exclude={"tenant_id"})
    body: dict[str, Any] = {
        "id": delivery_id,
        "type": "run.finished",
        "events": sorted(events),
        "profile": {"profile_id": event.profile_id, "name": name},
        "run": run,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def deliver(
    deps: Deps,
    event: RunFinished,
    events: frozenset[str],
    profile: Profile,
    url: str,
    secret: str,
    delivery_id: str,
    policy: RetryPolicy = POLICY,
) -> WebhookDelivery:
    """POST the event to ``url``, retrying as ``policy`` says; every attempt is signed
    with its own timestamp (a receiver's 5-minute window holds for a late retry too)."""
    assert deps.webhooks is not None
    body = webhook_body(event, events, profile.name, delivery_id)
    started = deps.clock()
    attempts = 0
    status_code: int | None = None
    error: str | None = None
    while True:
        attempts += 1
        timestamp = int(deps.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Feedsync-Delivery": delivery_id,
            "Feedsync-Timestamp": str(timestamp),
            "Feedsync-Signature": sign(secret, timestamp, body),
        }
        answer = deps.webhooks.post(url, body, headers, policy.timeout_s)
        status_code, error = answer.status_code, answer.error
        if answer.refused or (status_code is not None and 200 <= status_code < 300):
            break
        elapsed = (deps.clock() - started).total_seconds()
        wait = policy.next_delay(attempts, status_code, elapsed, answer.retry_after_s)
        if wait is None:
            break
        deps.sleep(wait)
    delivered = status_code is not None and 200 <= status_code < 300
    if not delivered:
        log.warning("webhook %s for run %s not delivered: %s", url, event.run_id, error)
    return WebhookDelivery(
        delivery_id=delivery_id,
        profile_id=profile.profile_id,
        run_id=event.run_id,
        event=event.status,
        url=url,
        outcome="delivered" if delivered else "failed",
        status_code=status_code,
        attempts=attempts,
        last_error=None if delivered else error,
        at=deps.clock(),
    )
