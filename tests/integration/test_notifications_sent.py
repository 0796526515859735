"""Notifications on the local stack: a run that fails and one that is held each put their
event on the stack's bus, mail the tenant through the topic (filtered on its id) and POST a
signed webhook to a loopback receiver that checks the signature (issue 11)."""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from integration_harness import Harness, simple_product

from feedsync.core import notify_api
from feedsync.models.notifications import NotificationSettings

SKUS = [f"NTF-{i}" for i in range(4)]
STORE = [simple_product(sku, sku, "10.00", 5) for sku in SKUS]


class Receiver:
    """A merchant's webhook endpoint on loopback: checks each POST as the README says
    (HMAC-SHA256 of "<timestamp>.<body>", at most 5 minutes old) and answers from a script."""

    def __init__(self) -> None:
        self.secret = ""
        self.script: list[int] = []
        self.received: list[dict[str, Any]] = []  # each: body, headers, valid, answered
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers.get("Feedsync-Timestamp", "0")
                mac = hmac.new(receiver.secret.encode(), f"{stamp}.".encode() + body, "sha256")
                valid = (
                    hmac.compare_digest(
                        "v1=" + mac.hexdigest(), self.headers.get("Feedsync-Signature", "")
                    )
                    and abs(time.time() - int(stamp)) <= 300
                )
                status = receiver.script.pop(0) if receiver.script else 200
                status = status if valid else 400
                receiver.received.append(
                    {"body": json.loads(body), "valid": valid, "answered": status}
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/feedsync"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _queue(h: Harness) -> tuple[str, str]:
    sqs = h.stack.client("sqs")
    url = sqs.create_queue(QueueName=f"watch-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _bus_watch(h: Harness, tenant: str) -> str:
    """An SQS queue receiving the bus's feedsync events for this tenant (a rule of its own)."""
    url, arn = _queue(h)
    events = h.stack.client("events")
    bus, rule = h.stack.env["EVENT_BUS_NAME"], f"watch-{tenant}"
    pattern = {"source": ["feedsync"], "detail": {"tenant_id": [tenant]}}
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _topic_watch(h: Harness, tenant: str) -> str:
    """An SQS queue subscribed to the alert topic with the filter policy a tenant's mail has."""
    url, arn = _queue(h)
    h.stack.client("sns").subscribe(
        TopicArn=h.stack.env["NOTIFICATIONS_TOPIC_ARN"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"tenant_id": [tenant]})},
    )
    return url


def _messages(h: Harness, url: str, wanted: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    sqs = h.stack.client("sqs")
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < wanted and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            got.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.05)
    return got


def _deliveries(h: Harness, tenant: str, profile_id: str, wanted: int) -> list[Any]:
    deadline = time.monotonic() + 30
    while True:
        page = notify_api.list_deliveries(h.deps, tenant, profile_id)
        if len(page.deliveries) >= wanted or time.monotonic() > deadline:
            return page.deliveries
        time.sleep(0.05)


def _subscribed_shop(h: Harness, email: str) -> Any:
    shop = h.shop(STORE)
    view = notify_api.put_settings(h.deps, shop.tenant, NotificationSettings(email=email))
    assert view.email == email and view.status != "none"
    return shop


def test_a_failed_run_is_on_the_bus_mailed_to_its_tenant_and_posted_signed(
    h: Harness, receiver: Receiver
) -> None:
    # Given a tenant with an alert address, another tenant's filtered subscription, and a
    # profile whose webhook is a loopback receiver
    shop = _subscribed_shop(h, "failed@merchant.example")
    other = _topic_watch(h, "someone-else")
    bus, topic = _bus_watch(h, shop.tenant), _topic_watch(h, shop.tenant)
    profile = h.url_profile(shop, "SKU,Price,Qty\n", webhooks=[{"url": receiver.url}])
    receiver.secret = str(profile.public()["webhook_secret"])
    # When a run reads a file without data rows
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "failed"
    # Then one Run Finished event on the bus says so
    (event,) = _messages(h, bus, 1)
    assert event["detail-type"] == "Run Finished" and event["source"] == "feedsync"
    assert event["detail"]["run_id"] == run.run_id and event["detail"]["status"] == "failed"
    assert event["detail"]["error"] == run.error
    # ... the alert was published with the tenant's id, so only its subscription has it
    (mail,) = _messages(h, topic, 1)
    assert mail["MessageAttributes"]["tenant_id"]["Value"] == shop.tenant
    assert "failed" in mail["Subject"] and run.run_id in mail["Message"]
    assert _messages(h, other, 1, timeout_s=0.5) == []
    # ... and the receiver got one POST whose signature it verified
    (delivery,) = _deliveries(h, shop.tenant, profile.profile_id, 1)
    assert [(r["valid"], r["answered"]) for r in receiver.received] == [(True, 200)]
    assert receiver.received[0]["body"]["run"]["run_id"] == run.run_id
    assert (delivery.outcome, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)


def test_a_held_run_notifies_and_a_receiver_failing_twice_gets_three_attempts(
    h: Harness, receiver: Receiver
) -> None:
    # Given a profile with the safety limits on, a webhook that answers 500 twice, then 200
    shop = _subscribed_shop(h, "held@merchant.example")
    bus, topic = _bus_watch(h, shop.tenant), _topic_watch(h, shop.tenant)
    feed = "SKU,Price,Qty\n" + "".join(f"{sku},1000,5\n" for sku in SKUS)  # prices in cents
    profile = h.url_profile(shop, feed, limits={}, webhooks=[{"url": receiver.url}])
    receiver.secret = str(profile.public()["webhook_secret"])
    receiver.script = [500, 500, 200]
    # When the file is held by the price rule
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "held", (run.status, run.error)
    # Then the event carries why, the alert says it, and the webhook took three attempts
    (event,) = _messages(h, bus, 1)
    assert event["detail"]["status"] == "held"
    assert event["detail"]["held_reasons"][0]["rule"] == "max_price_change_pct"
    (mail,) = _messages(h, topic, 1)
    assert "held" in mail["Subject"] and "max_price_change_pct" in mail["Message"]
    (delivery,) = _deliveries(h, shop.tenant, profile.profile_id, 1)
    assert [(r["valid"], r["answered"]) for r in receiver.received] == [
        (True, 500), (True, 500), (True, 200)
    ]  # fmt: skip
    assert (delivery.outcome, delivery.attempts, delivery.status_code) == ("delivered", 3, 200)
    assert {r["body"]["id"] for r in receiver.received} == {delivery.delivery_id}


def test_a_clean_success_is_on_the_bus_but_mails_nobody(h: Harness, receiver: Receiver) -> None:
    shop = _subscribed_shop(h, "clean@merchant.example")
    bus, topic = _bus_watch(h, shop.tenant), _topic_watch(h, shop.tenant)
    feed = "SKU,Price,Qty\n" + "".join(f"{sku},10.00,6\n" for sku in SKUS)
    profile = h.url_profile(shop, feed, webhooks=[{"url": receiver.url}])
    run = h.run_to_end(shop.tenant, profile.profile_id)
    assert run.status == "succeeded", run.error
    (event,) = _messages(h, bus, 1)
    assert event["detail"]["status"] == "succeeded" and event["detail"]["counts"]["updated"] == 4
    # Then neither the topic nor the webhook (default events: failures only) was used
    assert _messages(h, topic, 1, timeout_s=1) == [] and receiver.received == []
