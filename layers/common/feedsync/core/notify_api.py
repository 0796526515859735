"""The API's side of notifications: a profile's webhooks (checked URLs, the signing
secret), its delivery records, and the tenant's alert address (shared: tenants choosing
the same address share its one subscription)."""

from __future__ import annotations

import secrets as _secrets
from typing import Any
from urllib.parse import urlsplit

from feedsync.core.deps import Deps
from feedsync.errors import Conflict, InvalidRequest, NotFound, NotificationUnavailable
from feedsync.models import Profile
from feedsync.models.notifications import (
    NotificationSettings,
    NotificationSettingsView,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryList,
)

DELIVERIES_PAGE_MAX = 100


def check_webhooks(deps: Deps, webhooks: list[Webhook]) -> None:
    """Refuse a receiver feedsync would not deliver to: plain http (outside the local
    stack), a host at a private address (the rule store and supplier URLs follow), or the
    same URL twice."""
    seen: set[str] = set()
    for i, hook in enumerate(webhooks):
        field = f"webhooks.{i}.url"
        if urlsplit(hook.url).scheme != "https" and not deps.allow_http_webhooks:
            raise InvalidRequest(field, "must be an https:// URL")
        refused = deps.addresses.refusal(hook.url)
        if refused is not None:
            raise InvalidRequest(field, f"{refused}; feedsync delivers only to public addresses")
        if hook.url in seen:
            raise InvalidRequest(field, "is listed twice")
        seen.add(hook.url)


def ensure_secret(deps: Deps, profile: Profile) -> Profile:
    """A profile with webhooks gets its signing secret the first time; the answer that
    created it shows it (once: it is never shown again, only replaced)."""
    if not profile.webhooks or profile.webhook_secret_ref:
        return profile
    secret, ref = _new_secret(deps, profile.tenant_id, profile.profile_id)
    profile = profile.model_copy(update={"webhook_secret_ref": ref})
    profile._new_webhook_secret = secret
    return profile


def rotate_secret(deps: Deps, tenant_id: str, profile_id: str) -> str:
    """``POST /profiles/{id}/webhook-secret``: a new secret replaces the old one at once."""
    if deps.repo.get_profile(tenant_id, profile_id) is None:
        raise NotFound(f"profile {profile_id} not found")
    secret, _ref = _new_secret(deps, tenant_id, profile_id)
    return secret


def _new_secret(deps: Deps, tenant_id: str, profile_id: str) -> tuple[str, str]:
    secret = f"whsec_{_secrets.token_urlsafe(32)}"
    name = f"{deps.secret_prefix}/{tenant_id}/{profile_id}/webhook"
    ref = deps.secrets.put(name, {"secret": secret})
    deps.repo.update_profile(tenant_id, profile_id, webhook_secret_ref=ref)
    return secret, ref


def list_deliveries(
    deps: Deps, tenant_id: str, profile_id: str, limit: int = 50, cursor: str | None = None
) -> WebhookDeliveryList:
    """The profile's webhook deliveries, newest first, a page at a time."""
    if deps.repo.get_profile(tenant_id, profile_id) is None:
        raise NotFound(f"profile {profile_id} not found")
    log = _log(deps)
    items, next_cursor = log.list_deliveries(tenant_id, profile_id, limit, cursor)
    deliveries = [WebhookDelivery.model_validate(item) for item in items]
    return WebhookDeliveryList(deliveries=deliveries, next_cursor=next_cursor)


def get_settings(deps: Deps, tenant_id: str) -> NotificationSettingsView:
    current = _log(deps).get_email(tenant_id)
    if current is None or deps.email is None:
        return NotificationSettingsView(email=None, status="none")
    address = _log(deps).get_address(subscribed_address(current["email"]))
    confirmed = deps.email.confirmed(address["subscription_arn"]) if address else None
    status: Any = {None: "unsubscribed", True: "confirmed", False: "pending_confirmation"}
    return NotificationSettingsView(email=current["email"], status=status[confirmed])


def put_settings(
    deps: Deps, tenant_id: str, body: NotificationSettings
) -> NotificationSettingsView:
    """Send the tenant's alerts to this address (AWS mails it a confirmation link unless
    it is subscribed already); the address it replaces stops getting them; null: none."""
    log = _log(deps)
    if deps.email is None:
        raise InvalidRequest("email", "this deployment has no notifications topic")
    current = log.get_email(tenant_id)
    old = subscribed_address(current["email"]) if current else None
    new = subscribed_address(body.email) if body.email is not None else None
    if new is not None and body.email is not None:
        _join(deps, new, tenant_id)
        log.put_email(tenant_id, body.email)
    else:
        log.delete_email(tenant_id)
    if old is not None and old != new:
        _leave(deps, old, tenant_id)
    return get_settings(deps, tenant_id)


def subscribed_address(email: str) -> str:
    """The form an address is subscribed and shared under (one per mailbox, whatever case
    each tenant typed it in)."""
    return email.strip().lower()


# Tries at a conditional write of an address's record before giving up (other tenants
# changing the same address at the same moment).
_ADDRESS_TRIES = 5


def _join(deps: Deps, address: str, tenant_id: str) -> None:
    """Add the tenant to the address's subscription: one per address (SNS keeps one per
    topic and address), its filter policy listing every tenant that chose it."""
    log, topic = _log(deps), deps.email
    assert topic is not None
    for _ in range(_ADDRESS_TRIES):
        record = log.get_address(address)
        if record is not None and set(record["tenants"]) - {tenant_id}:
            # Joining another account's confirmed address would skip the mailbox's own
            # consent (SNS confirms an address once): each account confirms its own.
            raise Conflict(
                "address_in_use",
                "this address already receives another account's alerts: choose an address "
                "of your own",
            )
        tenants = sorted({*(record["tenants"] if record else []), tenant_id})
        arn = record["subscription_arn"] if record else None
        live = arn is not None and topic.confirmed(arn) is not None
        if record is not None and tenant_id in record["tenants"] and live:
            return
        version = record["version"] if record else None
        if live and arn is not None:
            if not log.save_address(address, tenants, arn, version):
                continue
            topic.set_tenants(arn, tenants)
        else:
            # None yet, or the address left through a mail's link: subscribe it (again).
            arn = topic.subscribe(address, tenants)
            if not log.save_address(address, tenants, arn, version):
                continue
        _settle(deps, address, (version or 0) + 1)
        return
    raise NotificationUnavailable(f"the alert address {address} is being changed; try again")


def _leave(deps: Deps, address: str, tenant_id: str) -> None:
    """Take the tenant off the address's filter; the last one out unsubscribes it."""
    log, topic = _log(deps), deps.email
    assert topic is not None
    for _ in range(_ADDRESS_TRIES):
        record = log.get_address(address)
        if record is None or tenant_id not in record["tenants"]:
            return
        tenants = [t for t in record["tenants"] if t != tenant_id]
        arn = record["subscription_arn"]
        if not tenants:
            # Unsubscribe first: a failure leaves the record, and a retry finds it again
            # (the other order could leave a subscription nobody's record names).
            topic.unsubscribe(arn)
            if log.delete_address(address, record["version"]):
                return
            continue
        if not log.save_address(address, tenants, arn, record["version"]):
            continue
        if topic.confirmed(arn) is not None:
            topic.set_tenants(arn, tenants)
        _settle(deps, address, record["version"] + 1)
        return
    raise NotificationUnavailable(f"the alert address {address} is being changed; try again")


def _settle(deps: Deps, address: str, written: int) -> None:
    """Another tenant changed the record after ours and may have set the filter before
    us: set it again from the newest record (the filter follows the record)."""
    record, topic = _log(deps).get_address(address), deps.email
    if record is None or record["version"] == written or topic is None:
        return
    if topic.confirmed(record["subscription_arn"]) is not None:
        topic.set_tenants(record["subscription_arn"], record["tenants"])


def forget_profile(deps: Deps, profile: Profile) -> None:
    """A deleted profile's signing secret goes with it."""
    if profile.webhook_secret_ref:
        deps.secrets.delete(profile.webhook_secret_ref)


def _log(deps: Deps) -> Any:
    if deps.notification_log is None:
        raise InvalidRequest("webhooks", "this deployment keeps no notification records")
    return deps.notification_log
