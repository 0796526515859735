"""The cost model's meter: DynamoDB's size rules, S3's request classes, and what is
counted against an invocation (and what is not)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from feedsync_local.metering import (
    Meter,
    item_size,
    read_units,
    s3_request_class,
    value_size,
    write_units,
)


def test_item_sizes_follow_dynamodbs_rules() -> None:
    # Given attribute values of each kind, then each is sized as DynamoDB documents it:
    # strings in UTF-8 bytes, numbers one byte per two significant digits plus one
    assert value_size({"S": "héllo"}) == 6
    assert value_size({"N": "123.45"}) == 4 and value_size({"N": "1000"}) == 2
    assert value_size({"BOOL": True}) == 1 and value_size({"NULL": True}) == 1
    assert value_size({"B": b"\x00" * 7}) == 7
    # And a map or list: 3 bytes, plus each element and one byte per element
    assert value_size({"L": [{"S": "ab"}, {"N": "7"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    # And an item is its attribute names plus their values; no item is 0
    assert item_size({"PK": {"S": "TENANT#t"}, "n": {"N": "5"}}) == 2 + 8 + 1 + 2
    assert item_size(None) == 0


def test_request_units_round_up_per_kb_written_and_4_kb_read() -> None:
    # Then a write is one unit per started KB, at least one; a read one per started 4 KB
    # strongly consistent, half that eventually consistent, at least one (or a half)
    assert [write_units(n) for n in (0, 1024, 1025)] == [1, 1, 2]
    assert [read_units(n, True) for n in (0, 4096, 4097)] == [1, 1, 2]
    assert [read_units(n, False) for n in (0, 8192, 8193)] == [0.5, 1.0, 1.5]


def test_s3_requests_are_classed_as_aws_bills_them() -> None:
    assert {op: s3_request_class(op) for op in (
        "PutObject", "CopyObject", "ListObjectsV2", "UploadPart", "CreateMultipartUpload",
        "GetObject", "HeadObject", "DeleteObject",
    )} == {
        "PutObject": "A", "CopyObject": "A", "ListObjectsV2": "A", "UploadPart": "A",
        "CreateMultipartUpload": "A", "GetObject": "B", "HeadObject": "B", "DeleteObject": None,
    }  # fmt: skip


class _Stack:
    functions: dict[str, Any] = {}
    meter: Any = None


@pytest.fixture
def meter() -> Any:
    meter = Meter(memory=False).attach(_Stack())
    try:
        yield meter
    finally:
        meter.detach()


def _stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s", endpoint_url="http://127.0.0.1:9")  # fmt: skip
    return client, Stubber(client)


def test_calls_inside_an_invocation_are_counted_by_kind_and_others_are_not(meter: Meter) -> None:
    # Given stubbed S3, SNS and EventBridge clients
    s3, s3_stub = _stubbed("s3")
    sns, sns_stub = _stubbed("sns")
    events, events_stub = _stubbed("events")
    s3_stub.add_response("put_object", {})
    s3_stub.add_response("get_object", {"ContentLength": 42})
    s3_stub.add_response("put_object", {})
    sns_stub.add_response("publish", {"MessageId": "m"})
    events_stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": []})
    entry = {"Source": "feedsync", "DetailType": "Run Finished", "Detail": "{}"}
    with s3_stub, sns_stub, events_stub:
        # When a handler uploads, downloads, publishes and puts three events
        with meter.invocation("FinalizeFunction"):
            s3.put_object(Bucket="b", Key="runs/t/r/log.csv", Body=b"x" * 10)
            s3.get_object(Bucket="b", Key="runs/t/r/log.csv")
            sns.publish(TopicArn="arn:aws:sns:us-east-1:1:t", Message="m")
            events.put_events(Entries=[entry, entry, entry])
        # And a bench, outside any invocation, uploads too
        s3.put_object(Bucket="b", Key="runs/bench.csv", Body=b"y" * 99)
    # Then only the handler's calls are counted, each as AWS bills it
    usage = meter.reset()
    assert usage.s3_requests == {"A": 1, "B": 1}
    assert usage.s3_bytes_put == {"runs": 10} and usage.s3_bytes_got == 42
    assert (usage.sns_publishes, usage.events_entries) == (1, 3)
    assert [(i.function, i.overlapped) for i in usage.invocations] == [("FinalizeFunction", False)]
    # And reset started the count again
    assert meter.reset().invocations == []


def test_invocations_that_ran_at_once_are_marked_overlapped(meter: Meter) -> None:
    # Given two invocations on two threads that are running at the same time
    inside, release = threading.Barrier(2), threading.Event()

    def invoke(name: str) -> None:
        with meter.invocation(name):
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=invoke, args=(n,)) for n in ("UpdateFunction", "Other")]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    # And then one on its own
    with meter.invocation("FinalizeFunction"):
        pass
    # Then the two are each marked overlapped (their peaks are an upper bound), the third not
    flags = {i.function: i.overlapped for i in meter.reset().invocations}
    assert flags == {"UpdateFunction": True, "Other": True, "FinalizeFunction": False}


def test_a_function_traced_alone_waits_for_the_running_invocation_and_is_exact() -> None:
    # Given a memory meter that traces NotifyFunction alone, and finalize running
    meter = Meter(memory=True, alone=frozenset({"NotifyFunction"})).attach(_Stack())
    try:
        finalizing, release, order = threading.Event(), threading.Event(), []

        def finalize() -> None:
            with meter.invocation("FinalizeFunction"):
                finalizing.set()
                keep = bytearray(4 * 1024 * 1024)  # finalize's own allocation
                release.wait()
                order.append("finalize ends")
                del keep

        def notify() -> None:
            with meter.invocation("NotifyFunction"):
                order.append("notify starts")

        first = threading.Thread(target=finalize)
        first.start()
        finalizing.wait()
        # When notify's event arrives while finalize runs
        second = threading.Thread(target=notify)
        second.start()
        second.join(0.2)
        # Then notify has not started yet, and starts once finalize ended
        assert second.is_alive() and order == []
        release.set()
        first.join()
        second.join()
        assert order == ["finalize ends", "notify starts"]
        # And neither is overlapped: notify's peak holds none of finalize's 4 MB
        invocations = {i.function: i for i in meter.reset().invocations}
        assert not invocations["NotifyFunction"].overlapped
        assert not invocations["FinalizeFunction"].overlapped
        assert (invocations["NotifyFunction"].peak_bytes or 0) < 1024 * 1024
        assert (invocations["FinalizeFunction"].peak_bytes or 0) >= 4 * 1024 * 1024
    finally:
        meter.detach()
