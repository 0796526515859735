"""The local stack runs each concurrent invocation of a function in an instance of its own,
as Lambda does: a handler's module globals never carry one request into another."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from feedsync_local.stack import LocalFunction

# A handler that keeps its request in a module global, as Powertools' resolver keeps the
# current event, and waits for a second request before answering from that global.
HANDLER = """
LAST = {}

def lambda_handler(event, context):
    LAST["event"] = event["name"]
    event["together"].wait(timeout=5)
    return LAST["event"]
"""


def _function(tmp_path: Path) -> LocalFunction:
    (tmp_path / "app.py").write_text(HANDLER)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    return LocalFunction("Probe", "probe", arn, tmp_path)


def test_concurrent_invocations_each_see_only_their_own_request(tmp_path: Path) -> None:
    # Given a function whose handler keeps the request in a module global
    function = _function(tmp_path)
    together = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def invoke(name: str) -> None:
        answers[name] = function.call({"name": name, "together": together})

    # When two requests are in it at the same moment
    threads = [threading.Thread(target=invoke, args=(n,)) for n in ("tenant-a", "tenant-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each got its own answer, from an instance of its own
    assert answers == {"tenant-a": "tenant-a", "tenant-b": "tenant-b"}
    assert function.instances == 2


def test_an_idle_instance_is_reused(tmp_path: Path) -> None:
    # Given a function invoked once and done
    function = _function(tmp_path)
    released = threading.Barrier(1)
    function.call({"name": "first", "together": released})
    # When it is invoked again, Then the warm instance answers (no new import)
    assert function.call({"name": "second", "together": released}) == "second"
    assert function.instances == 1
