"""The notification adapters: webhook HTTP (address rule, pinning, no redirects, no answer)
and the EventBridge, SNS and DynamoDB ones on moto (error codes, paging)."""

from __future__ import annotations

import json
import socket
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from feedsync.adapters.notifications import (
    DynamoNotificationLog,
    EventBridgeRunEvents,
    SnsEmailTopic,
)
from feedsync.adapters.webhook_http import RequestsWebhookPoster
from feedsync.core import notify_api
from feedsync.errors import Conflict, InvalidRequest, NotificationError, NotificationUnavailable
from feedsync.models.notifications import NotificationSettings


class Endpoint:
    def __init__(
        self, status: int = 204, delay_s: float = 0, headers: dict[str, str] | None = None
    ):
        self.hits: list[tuple[str, dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.hits.append((self.path, dict(self.headers), body))
                threading.Event().wait(delay_s)
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.close()


def test_a_loopback_receiver_is_refused_without_a_request_outside_the_local_stack(
    endpoint: Endpoint,
) -> None:
    answer = RequestsWebhookPoster(allow_private=False).post(endpoint.url, b"{}", {}, 2)
    assert answer.refused and answer.status_code is None
    assert "loopback" in (answer.error or "") and endpoint.hits == []


def test_a_post_carries_the_body_and_headers(endpoint: Endpoint) -> None:
    headers = {"Feedsync-Signature": "v1=ab", "Content-Type": "application/json"}
    answer = RequestsWebhookPoster(allow_private=True).post(endpoint.url, b'{"a":1}', headers, 2)
    assert (answer.status_code, answer.error, answer.refused) == (204, None, False)
    ((path, sent, body),) = endpoint.hits
    assert path == "/hook" and body == b'{"a":1}' and sent["Feedsync-Signature"] == "v1=ab"


def test_no_answer_in_time_and_a_closed_port_are_answers_without_a_status() -> None:
    slow = Endpoint(delay_s=1.5)
    try:
        answer = RequestsWebhookPoster(allow_private=True).post(slow.url, b"{}", {}, 0.3)
    finally:
        slow.close()
    assert answer.status_code is None and "no answer within" in (answer.error or "")
    closed = slow.url  # its server is gone
    answer = RequestsWebhookPoster(allow_private=True).post(closed, b"{}", {}, 1)
    assert answer.status_code is None and "could not connect" in (answer.error or "")


class Trickler:
    """A loopback receiver that takes the request, then answers ``head`` at once and
    ``tail`` in ``chunk``-byte pieces every ``pause_s`` (it notes whether it got it all out)."""

    def __init__(self, head: bytes, tail: bytes, chunk: int, pause_s: float) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        self.finished: bool | None = None
        self.thread = threading.Thread(
            target=self._serve, args=(head, tail, chunk, pause_s), daemon=True
        )
        self.thread.start()

    def _serve(self, head: bytes, tail: bytes, chunk: int, pause_s: float) -> None:
        conn, _ = self.server.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            try:
                conn.sendall(head)
                for start in range(0, len(tail), chunk):
                    conn.sendall(tail[start : start + chunk])
                    time.sleep(pause_s)
                self.finished = True
            except OSError:  # the client hung up
                self.finished = False

    def close(self) -> None:
        self.thread.join(30)
        self.server.close()


def test_a_receiver_trickling_its_headers_is_cut_at_the_attempts_deadline() -> None:
    # Given a receiver sending its answer's headers a byte every 50 ms (10 s in all), each
    # byte well inside requests' per-read timeout
    slow = Trickler(b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 192 + b"\r\n\r\n", 1, 0.05)
    try:
        # When a delivery's attempt has 0.5 s
        answer = RequestsWebhookPoster(allow_private=True).post(slow.url, b"{}", {}, 0.5)
    finally:
        slow.close()
    # Then it ends with no answer, having hung up on the receiver before it was done
    assert answer.status_code is None and answer.error == "no answer within 0.5 s"
    assert slow.finished is False


def test_a_refusal_with_an_endless_body_is_read_a_few_kb_only() -> None:
    # Given a receiver answering 500 with 64 MB of text
    big = Trickler(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 67108864\r\n\r\n",
        b"overloaded " * (67108864 // 11) + b"x" * (67108864 % 11),
        65536,
        0,
    )
    try:
        answer = RequestsWebhookPoster(allow_private=True).post(big.url, b"{}", {}, 5)
    finally:
        big.close()
    # Then the answer is the status and the start of the text; the rest was never read
    assert answer.status_code == 500 and (answer.error or "").startswith("HTTP 500: overloaded")
    assert big.finished is False


def test_a_redirect_is_not_followed_and_retry_after_is_read() -> None:
    moved = Endpoint(status=302, headers={"Location": "http://169.254.169.254/"})
    busy = Endpoint(status=429, headers={"Retry-After": "7"})
    try:
        poster = RequestsWebhookPoster(allow_private=True)
        answer = poster.post(moved.url, b"{}", {}, 2)
        assert answer.status_code == 302 and "not followed" in (answer.error or "")
        assert poster.post(busy.url, b"{}", {}, 2).retry_after_s == 7.0
    finally:
        moved.close()
        busy.close()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_an_event_goes_on_the_named_bus_and_a_missing_bus_is_a_named_error(aws: None) -> None:
    events = boto3.client("events", region_name="us-east-1")
    events.create_event_bus(Name="stack-events")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="r", EventBusName="stack-events", EventPattern='{"source":["feedsync"]}')
    events.put_targets(
        Rule="r", EventBusName="stack-events", Targets=[{"Id": "q", "Arn": arn["QueueArn"]}]
    )
    EventBridgeRunEvents("stack-events", events).put("Run Finished", {"run_id": "r1"})
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"run_id": "r1"}


def test_client_error_codes_are_translated() -> None:
    class Refusing:
        def __init__(self, code: str) -> None:
            self.code = code

        def __getattr__(self, name: str) -> Any:
            def call(**_: Any) -> None:
                raise ClientError({"Error": {"Code": self.code, "Message": "m"}}, name)

            return call

    with pytest.raises(NotificationUnavailable):
        EventBridgeRunEvents("b", Refusing("ThrottlingException")).put("Run Finished", {})
    with pytest.raises(NotificationError):
        EventBridgeRunEvents("b", Refusing("ResourceNotFoundException")).put("Run Finished", {})
    with pytest.raises(NotificationUnavailable):
        SnsEmailTopic("arn:t", Refusing("Throttled")).publish("t1", "s", "m")
    with pytest.raises(InvalidRequest):
        SnsEmailTopic("arn:t", Refusing("InvalidParameter")).subscribe("not-an-address", ["t1"])
    assert SnsEmailTopic("arn:t", Refusing("NotFound")).confirmed("arn:sub") is None


def test_a_second_account_cannot_take_over_an_address_on_moto(aws: None) -> None:
    # Given the API's path over SNS and the table on moto
    sns = boto3.client("sns", region_name="us-east-1")
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _table(ddb)
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    deps = SimpleNamespace(
        email=SnsEmailTopic(topic_arn, sns), notification_log=DynamoNotificationLog("t", ddb)
    )
    put = notify_api.put_settings

    def filters() -> dict[str, list[str]]:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        found = {}
        for sub in subscriptions:
            attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
            policy = json.loads(attrs["Attributes"]["FilterPolicy"])
            assert attrs["Attributes"]["FilterPolicyScope"] == "MessageAttributes"
            found[sub["Endpoint"]] = policy["tenant_id"]
        return found

    # When tenant A chooses an address, and B the same one
    put(deps, "tA", NotificationSettings(email="ops@agency.example"))  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        put(deps, "tB", NotificationSettings(email="ops@agency.example"))  # type: ignore[arg-type]
    # Then the subscription stays A's alone (B's alerts never reach A's mailbox)
    assert filters() == {"ops@agency.example": ["tA"]}
    assert notify_api.get_settings(deps, "tA").email == "ops@agency.example"  # type: ignore[arg-type]
    # When A leaves too, Then the address is unsubscribed and its record gone
    put(deps, "tA", NotificationSettings(email=None))  # type: ignore[arg-type]
    assert filters() == {}
    assert deps.notification_log.get_address("ops@agency.example") is None


def test_deliveries_are_listed_newest_first_a_page_at_a_time(aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _table(ddb)
    log = DynamoNotificationLog("t", ddb)
    for n in range(5):
        log.put_delivery("t1", {"profile_id": "p1", "delivery_id": f"dlv_{n}", "attempts": n})
    log.put_delivery("t1", {"profile_id": "p2", "delivery_id": "dlv_9", "attempts": 1})
    first, cursor = log.list_deliveries("t1", "p1", 2, None)
    assert [d["delivery_id"] for d in first] == ["dlv_4", "dlv_3"] and cursor
    second, cursor = log.list_deliveries("t1", "p1", 2, cursor)
    third, last = log.list_deliveries("t1", "p1", 2, cursor)
    assert [d["delivery_id"] for d in second + third] == ["dlv_2", "dlv_1", "dlv_0"]
    assert last is None and "PK" not in third[0] and "expires_at" not in third[0]
    with pytest.raises(InvalidRequest):
        log.list_deliveries("t1", "p2", 2, cursor)  # another profile's cursor


def _table(ddb: Any) -> None:
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                   {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                              {"AttributeName": "SK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip


def test_a_channel_is_claimed_once_until_sent_and_a_dead_claim_after_its_lease(
    aws: None,
) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _table(ddb)
    log = DynamoNotificationLog("t", ddb)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    # Given one invocation's claim on a channel
    assert log.claim("t1", "run_1#0#failed#email", now, 100) == "claimed"
    # Then a concurrent one finds it busy (another tenant's same key is its own)
    assert log.claim("t1", "run_1#0#failed#email", now, 100) == "busy"
    assert log.claim("t2", "run_1#0#failed#email", now, 100) == "claimed"
    # ... and once its lease ran out (the holder died), the next one takes it over
    later = now + timedelta(seconds=101)
    assert log.claim("t1", "run_1#0#failed#email", later, 100) == "claimed"
    # When it is marked sent, Then nobody claims it again, lease or not
    log.mark_done("t1", "run_1#0#failed#email")
    assert log.claim("t1", "run_1#0#failed#email", later + timedelta(days=1), 100) == "sent"
    # A released claim is free at once; a sent mark is not released
    assert log.claim("t1", "k2", now, 100) == "claimed"
    log.release("t1", "k2")
    assert log.claim("t1", "k2", now, 100) == "claimed"
    log.release("t1", "run_1#0#failed#email")
    assert log.claim("t1", "run_1#0#failed#email", later, 100) == "sent"
    # A mark written before claims existed (no state) counts as sent
    ddb.put_item(TableName="t", Item={"PK": {"S": "TENANT#t1"}, "SK": {"S": "NOTIFIED#old"}})
    assert log.claim("t1", "old", now, 100) == "sent"


def test_the_bus_and_topic_clients_give_up_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the clients as the start path and the API build them
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for client in (EventBridgeRunEvents("b").client, SnsEmailTopic("arn:t").client):
        config = client.meta.config
        # Then a call waits 5 s at most for each connect and read, and is tried twice at most
        assert config.connect_timeout <= 5 and config.read_timeout <= 5
        assert config.retries["total_max_attempts"] == 2


def test_a_profile_name_with_line_breaks_still_gets_its_alert_mailed() -> None:
    class Recording:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def publish(self, **call: Any) -> None:
            self.calls.append(call)

    # Given a subject naming a profile with a line break, a tab and a long tail
    client = Recording()
    name = "Summer\r\nsale\tfeed\u2028" + "x" * 120
    # When the alert is published
    SnsEmailTopic("arn:t", client).publish("t1", f"feedsync: {name} failed", "text")
    # Then SNS gets a subject of one line, no control characters, under 100 characters
    ((call,),) = [client.calls]
    subject = call["Subject"]
    assert subject.startswith("feedsync: Summer sale feed xxx") and len(subject) == 99
    assert not any(unicodedata.category(c).startswith(("C", "Zl", "Zp")) for c in subject)
    assert call["Message"] == "text"
