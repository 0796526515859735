"""The notify function's core: who is told of a run's end, signed, retried, recorded once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fakes import START, World, variant
from notify_fakes import FakeEmailTopic, FakeNotificationLog, ScriptedPoster

from feedsync.core import api, notify_api
from feedsync.core.notify import notify
from feedsync.domain.notifications import WebhookAnswer, verify
from feedsync.errors import Conflict, InvalidRequest, NotificationUnavailable
from feedsync.models import PatchProfile, ProfileSettings
from feedsync.models.notifications import NotificationSettings, RunFinished

HOOK = "https://hooks.example/feedsync"


@pytest.fixture
def wired(world: World) -> World:
    world.deps.email = FakeEmailTopic()
    world.deps.webhooks = ScriptedPoster()
    world.deps.notification_log = FakeNotificationLog()
    return world


def _profile(world: World, *webhooks: dict[str, Any]) -> str:
    """A profile with these webhooks, made through the API (so it has its secret)."""
    world.profile(world.store([variant(7, 71, "A")]))
    patched = api.patch_profile(
        world.deps, "t1", "p1", PatchProfile.model_validate({"webhooks": list(webhooks)})
    )
    secret = patched.public()["webhook_secret"]
    assert isinstance(secret, str)
    return secret


def _event(status: str, **fields: Any) -> RunFinished:
    return RunFinished.model_validate(
        {
            "tenant_id": "t1",
            "profile_id": "p1",
            "store_id": "s1",
            "run_id": "run_1",
            "trigger": "schedule",
            "status": status,
            "created_at": START.isoformat(),
            "finished_at": START.isoformat(),
            **fields,
        }
    )


def _sent(world: World) -> list[tuple[str, bytes, dict[str, str]]]:
    poster = world.deps.webhooks
    assert isinstance(poster, ScriptedPoster)
    return poster.sent


def test_a_failed_run_mails_the_tenant_and_posts_a_signed_webhook(wired: World) -> None:
    # Given a tenant with an alert address and a profile with a webhook
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    secret = _profile(wired, {"url": HOOK})
    # When a failed run is announced
    result = notify(wired.deps, _event("failed", error="feed.csv: no data rows"))
    # Then the alert is published for this tenant, saying why
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    ((tenant, subject, message),) = topic.published
    assert tenant == "t1" and "failed" in subject and "feed.csv: no data rows" in message
    # ... and the webhook got one POST a receiver can verify with the secret it was shown
    ((url, body, headers),) = _sent(wired)
    now = datetime.fromisoformat(START.isoformat()).timestamp()
    assert url == HOOK
    assert verify(secret, headers["Feedsync-Timestamp"], body, headers["Feedsync-Signature"], now)
    payload = json.loads(body)
    assert payload["events"] == ["failed"] and payload["run"]["run_id"] == "run_1"
    assert "tenant_id" not in payload["run"] and payload["id"] == headers["Feedsync-Delivery"]
    assert result.emailed and [d.outcome for d in result.deliveries] == ["delivered"]


def test_a_receiver_answering_500_twice_gets_three_attempts_recorded(wired: World) -> None:
    # Given a receiver that fails twice, then takes it
    _profile(wired, {"url": HOOK})
    wired.deps.webhooks = ScriptedPoster(
        WebhookAnswer(500, "HTTP 500"), WebhookAnswer(503, "HTTP 503"), WebhookAnswer(200)
    )
    # When a held run is announced
    notify(wired.deps, _event("held", held_reasons=[{"rule": "max_price_change_pct"}]))
    # Then it was tried three times, backing off 1 s then 2 s, and the record says so
    assert len(_sent(wired)) == 3
    assert wired.clock.slept == [1.0, 2.0]
    log = wired.deps.notification_log
    assert isinstance(log, FakeNotificationLog)
    ((_tenant, record),) = log.deliveries
    assert record["attempts"] == 3 and record["outcome"] == "delivered"
    assert record["status_code"] == 200 and record["last_error"] is None
    # ... each attempt signed with its own timestamp
    stamps = [h["Feedsync-Timestamp"] for _, _, h in _sent(wired)]
    assert len(set(stamps)) == 3


def test_a_4xx_is_final_and_a_refused_address_is_not_retried(wired: World) -> None:
    _profile(wired, {"url": HOOK}, {"url": "https://other.example/h"})
    wired.deps.webhooks = ScriptedPoster(
        WebhookAnswer(410, "HTTP 410: gone"), WebhookAnswer(None, "private", refused=True)
    )
    # When a failed run is announced
    result = notify(wired.deps, _event("failed"))
    # Then each receiver had one attempt, recorded as failed with the reason
    assert len(_sent(wired)) == 2 and wired.clock.slept == []
    assert [(d.attempts, d.outcome, d.last_error) for d in result.deliveries] == [
        (1, "failed", "HTTP 410: gone"),
        (1, "failed", "private"),
    ]


def test_a_redelivered_event_notifies_nobody_twice(wired: World) -> None:
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    _profile(wired, {"url": HOOK})
    # Given an event already handled
    notify(wired.deps, _event("failed"))
    # When EventBridge delivers it again
    again = notify(wired.deps, _event("failed"))
    # Then no second mail and no second POST
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    assert len(topic.published) == 1 and len(_sent(wired)) == 1
    assert not again.emailed and again.deliveries == []


def test_a_clean_success_mails_nobody_and_posts_only_to_who_asked(wired: World) -> None:
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    _profile(wired, {"url": HOOK}, {"url": "https://all.example/h", "events": ["succeeded"]})
    # When a run succeeds with nothing refused
    result = notify(wired.deps, _event("succeeded", counts={"updated": 4, "failed": 0}))
    # Then no mail, and only the webhook subscribed to "succeeded" is called
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic) and topic.published == []
    assert [url for url, _, _ in _sent(wired)] == ["https://all.example/h"]
    assert result.events == ["succeeded"]


def test_a_success_with_failed_items_mails_and_says_how_to_retry(wired: World) -> None:
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    _profile(wired, {"url": HOOK})
    notify(wired.deps, _event("succeeded", counts={"updated": 4, "failed": 2}))
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    ((_, subject, message),) = topic.published
    assert "refused" in subject and "failed 2" in message and "/retry" in message
    assert len(_sent(wired)) == 1


def test_a_webhook_url_feedsync_would_not_deliver_to_is_refused_at_save(wired: World) -> None:
    from feedsync.adapters.addresses import AddressRules

    wired.profile(wired.store([variant(7, 71, "A")]))
    wired.deps.addresses = AddressRules(allow_private=False)
    for url, why in [
        ("https://127.0.0.1:8443/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("http://hooks.example/h", "https://"),
    ]:
        body = PatchProfile.model_validate({"webhooks": [{"url": url}]})
        with pytest.raises(InvalidRequest) as refused:
            api.patch_profile(wired.deps, "t1", "p1", body)
        assert refused.value.field == "webhooks.0.url" and why in refused.value.message
    assert wired.profile_record().webhooks == []
    # ... and a new profile's too
    body = ProfileSettings.model_validate(
        {
            "name": "n",
            "store_id": "s1",
            "source": {"type": "url", "url": "https://supplier.example/f.csv"},
            "mapping": {"sku": "SKU", "price": "Price"},
            "fields": ["price"],
            "webhooks": [{"url": "https://hooks.example/a"}, {"url": "https://192.168.1.10/h"}],
        }
    )
    with pytest.raises(InvalidRequest) as refused:
        api.create_profile(wired.deps, "t1", body)
    assert refused.value.field == "webhooks.1.url" and "private" in refused.value.message
    assert len(wired.repo.list_profiles("t1")) == 1


def test_the_secret_is_shown_once_and_can_be_replaced(wired: World) -> None:
    # Given a profile that got its first webhook (and so its secret)
    first = _profile(wired, {"url": HOOK})
    # When it is read again, Then the secret is not in it
    shown = api.get_profile(wired.deps, "t1", "p1").public()
    assert "webhook_secret" not in shown and shown["has_webhook_secret"] is True
    assert "webhook_secret_ref" not in shown
    # When the merchant asks for a new one, Then deliveries are signed with it
    second = notify_api.rotate_secret(wired.deps, "t1", "p1")
    assert second != first and second.startswith("whsec_")
    notify(wired.deps, _event("failed"))
    ((_, body, headers),) = _sent(wired)
    stamp, signature, now = headers["Feedsync-Timestamp"], headers["Feedsync-Signature"], START
    assert verify(second, stamp, body, signature, now.timestamp())
    assert not verify(first, stamp, body, signature, now.timestamp())


def test_an_alert_address_is_subscribed_filtered_and_replaced(wired: World) -> None:
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    view = notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="a@example.com"))
    assert (view.email, view.status) == ("a@example.com", "pending_confirmation")
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="b@example.com"))
    assert list(topic.subscriptions.values()) == [(["t1"], "b@example.com")]
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email=None))
    assert topic.subscriptions == {}
    assert notify_api.get_settings(wired.deps, "t1").status == "none"


def test_a_topic_in_trouble_still_lets_the_webhooks_go_and_the_retry_sends_only_the_mail(
    wired: World,
) -> None:
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    _profile(wired, {"url": HOOK})
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    healthy = topic.publish

    def throttled(*_: Any) -> None:
        raise NotificationUnavailable("the notifications topic: Throttled")

    topic.publish = throttled  # type: ignore[method-assign]
    # When the topic throttles, Then the invocation fails (to be retried) after the webhook went
    with pytest.raises(NotificationUnavailable):
        notify(wired.deps, _event("failed"))
    assert len(_sent(wired)) == 1
    # When the event is retried with the topic back, Then only the mail goes
    topic.publish = healthy  # type: ignore[method-assign]
    again = notify(wired.deps, _event("failed"))
    assert again.emailed and len(topic.published) == 1 and len(_sent(wired)) == 1


class Crash(BaseException):
    """The invocation dies where it stands (Lambda's timeout, the process killed)."""


def test_a_second_delivery_of_the_event_during_the_first_sends_nothing_twice(
    wired: World,
) -> None:
    # Given a tenant with an alert address and a profile with a webhook
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="shop@example.com"))
    _profile(wired, {"url": HOOK})
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    publish, seconds = topic.publish, []

    def publish_while_redelivered(*args: Any) -> None:
        # When EventBridge delivers the event again while the first is mailing
        if not seconds:
            with pytest.raises(NotificationUnavailable) as held:
                seconds.append(notify(wired.deps, _event("failed")))
            assert "held by another invocation" in str(held.value)
        publish(*args)

    topic.publish = publish_while_redelivered  # type: ignore[method-assign]
    first = notify(wired.deps, _event("failed"))
    # Then one mail and one POST went, the second invocation sending neither twice
    assert len(topic.published) == 1 and len(_sent(wired)) == 1
    assert first.emailed and first.deliveries == []  # the second one posted the webhook
    # ... and its Lambda retry finds everything sent
    again = notify(wired.deps, _event("failed"))
    assert not again.emailed and again.deliveries == [] and len(_sent(wired)) == 1


def test_a_crashed_delivery_is_taken_over_after_its_lease_with_the_same_delivery_id(
    wired: World,
) -> None:
    # Given a webhook whose first invocation dies right after its POST
    _profile(wired, {"url": HOOK})
    poster = wired.deps.webhooks
    assert isinstance(poster, ScriptedPoster)

    def die() -> None:
        raise Crash

    poster.on_post = die
    with pytest.raises(Crash):
        notify(wired.deps, _event("failed"))
    poster.on_post = None
    # When Lambda retries while the dead claim still holds, Then nothing is posted yet
    wired.clock.advance(60)
    with pytest.raises(NotificationUnavailable):
        notify(wired.deps, _event("failed"))
    assert len(_sent(wired)) == 1
    # When it retries after the lease ran out, Then the POST goes again with the same id
    wired.clock.advance(120)
    result = notify(wired.deps, _event("failed"))
    assert len(_sent(wired)) == 2 and [d.outcome for d in result.deliveries] == ["delivered"]
    ids = [headers["Feedsync-Delivery"] for _, _, headers in _sent(wired)]
    assert ids[0] == ids[1] == result.deliveries[0].delivery_id
    assert json.loads(_sent(wired)[1][1])["id"] == ids[0]


def test_a_failed_record_write_lets_the_retry_post_under_the_same_delivery_id(
    wired: World,
) -> None:
    _profile(wired, {"url": HOOK})
    log = wired.deps.notification_log
    assert isinstance(log, FakeNotificationLog)
    record = log.put_delivery

    def unavailable(*_: Any) -> None:
        raise NotificationUnavailable("DynamoDB: throttled")

    # Given a POST that went but whose record could not be written
    log.put_delivery = unavailable  # type: ignore[method-assign]
    with pytest.raises(NotificationUnavailable):
        notify(wired.deps, _event("failed"))
    # When Lambda retries the event
    log.put_delivery = record  # type: ignore[method-assign]
    notify(wired.deps, _event("failed"))
    # Then the receiver sees the same delivery id twice (and drops the repeat)
    first, second = (headers["Feedsync-Delivery"] for _, _, headers in _sent(wired))
    assert first == second and [d["delivery_id"] for _, d in log.deliveries] == [first]
    # ... and another run's delivery to the same URL has an id of its own
    notify(wired.deps, _event("failed", run_id="run_2"))
    assert _sent(wired)[2][2]["Feedsync-Delivery"] != first


def test_an_address_another_account_receives_alerts_at_is_refused(wired: World) -> None:
    topic = wired.deps.email
    assert isinstance(topic, FakeEmailTopic)
    # Given tenant t1 whose address confirmed its subscription
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="ops@agency.example"))
    topic.confirmed_arns.update(topic.subscriptions)
    # When tenant t2 chooses the same address (typed in another case)
    with pytest.raises(Conflict) as refused:
        notify_api.put_settings(wired.deps, "t2", NotificationSettings(email="Ops@Agency.example"))
    # Then it is refused (joining would skip the mailbox's consent), and t1's alerts stay
    assert refused.value.reason == "address_in_use"
    assert list(topic.subscriptions.values()) == [(["t1"], "ops@agency.example")]
    assert topic.receivers("t2") == [] and notify_api.get_settings(wired.deps, "t2").email is None
    # When t1 moves to another address, Then the old one is unsubscribed
    notify_api.put_settings(wired.deps, "t1", NotificationSettings(email="me@shop.example"))
    assert [e for _, e in topic.subscriptions.values()] == ["me@shop.example"]


def test_webhooks_the_invocation_has_no_time_left_for_are_left_to_the_retry(
    wired: World,
) -> None:
    # Given two webhooks, and an invocation with time for one delivery only
    _profile(wired, {"url": HOOK}, {"url": "https://other.example/h"})
    left = iter([300.0, 40.0])
    # When the run's end is notified
    with pytest.raises(NotificationUnavailable) as late:
        notify(wired.deps, _event("failed"), remaining_s=lambda: next(left))
    # Then the first went and the second was not started (nor claimed)
    assert [url for url, _, _ in _sent(wired)] == [HOOK]
    assert "1 webhook(s) left for the retry" in str(late.value)
    # When Lambda retries with time enough, Then only the second goes
    result = notify(wired.deps, _event("failed"), remaining_s=lambda: 300.0)
    assert [url for url, _, _ in _sent(wired)] == [HOOK, "https://other.example/h"]
    assert [d.url for d in result.deliveries] == ["https://other.example/h"]
