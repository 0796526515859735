"""The API's side of notifications: a profile's webhooks (checked URLs, the signing
secret), its delivery records, and the tenant's alert address."""

from __future__ import annotations

import secrets as _secrets
from typing import Any
from urllib.parse import urlsplit

from feedsync.core.deps import Deps
from feedsync.errors import InvalidRequest, NotFound
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
    confirmed = deps.email.confirmed(current["subscription_arn"])
    status: Any = {None: "unsubscribed", True: "confirmed", False: "pending_confirmation"}
    return NotificationSettingsView(email=current["email"], status=status[confirmed])


def put_settings(
    deps: Deps, tenant_id: str, body: NotificationSettings
) -> NotificationSettingsView:
    """Subscribe the address to the alert topic, filtered to this tenant's runs (AWS mails
    it a confirmation link); the address it replaces is unsubscribed; null removes it."""
    log = _log(deps)
    if deps.email is None:
        raise InvalidRequest("email", "this deployment has no notifications topic")
    current = log.get_email(tenant_id)
    unchanged = current is not None and current["email"] == body.email
    if unchanged and deps.email.confirmed(current["subscription_arn"]) is not None:
        return get_settings(deps, tenant_id)
    if body.email is not None:
        arn = deps.email.subscribe(tenant_id, body.email)
        log.put_email(tenant_id, body.email, arn)
    else:
        log.delete_email(tenant_id)
    if current is not None and not unchanged:
        deps.email.unsubscribe(current["subscription_arn"])
    return get_settings(deps, tenant_id)


def forget_profile(deps: Deps, profile: Profile) -> None:
    """A deleted profile's signing secret goes with it."""
    if profile.webhook_secret_ref:
        deps.secrets.delete(profile.webhook_secret_ref)


def _log(deps: Deps) -> Any:
    if deps.notification_log is None:
        raise InvalidRequest("webhooks", "this deployment keeps no notification records")
    return deps.notification_log
