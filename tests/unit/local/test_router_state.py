"""Concurrent local API requests each read their own event through Powertools' resolver.

The API function's instances share one process locally; Powertools keeps the request on
its router class. These tests serve requests at once through two resolver instances that
include one shared ``Router`` (as every imported instance of ``functions/api/app.py``
includes the same ``routes`` modules) and check each answer is its own request's.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from feedsync_local.router_state import PER_THREAD, PerThread, per_thread_router_state


def _event(tenant: str) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": f"/tenants/{tenant}",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": f"tenants/{tenant}"},
        "stageVariables": None,
        "requestContext": {"stage": "v1", "path": f"/v1/tenants/{tenant}"},
        "body": None,
        "isBase64Encoded": False,
    }


def _two_instances(together: threading.Barrier) -> list[APIGatewayRestResolver]:
    """Two resolvers (two imports of the API's app.py) including one shared router whose
    route reads the event, waits until both requests are inside, then reads it again."""
    router = APIGatewayRouter()

    @router.get("/tenants/<tenant>")
    def tenant_route(tenant: str) -> dict[str, str]:
        before = router.current_event.path
        together.wait(timeout=5)
        return {"param": tenant, "before": before, "after": router.current_event.path}

    instances = []
    for _ in range(2):
        app = APIGatewayRestResolver()
        app.include_router(router)
        instances.append(app)
    return instances


def _serve_at_once(instances: list[APIGatewayRestResolver]) -> dict[str, dict[str, str]]:
    answers: dict[str, dict[str, str]] = {}

    def serve(app: APIGatewayRestResolver, tenant: str) -> None:
        answer = app.resolve(_event(tenant), None)  # type: ignore[arg-type]
        answers[tenant] = json.loads(answer["body"])

    threads = [
        threading.Thread(target=serve, args=(app, tenant))
        for app, tenant in zip(instances, ("tenant-a", "tenant-b"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_requests_served_at_once_each_read_their_own_event() -> None:
    # Given the local stack's per-thread router state
    per_thread_router_state()
    together = threading.Barrier(2)
    # When two requests for two tenants are inside the shared router at the same moment
    answers = _serve_at_once(_two_instances(together))
    # Then each request read its own path before and after the other one arrived
    assert answers == {
        "tenant-a": {
            "param": "tenant-a",
            "before": "/tenants/tenant-a",
            "after": "/tenants/tenant-a",
        },
        "tenant-b": {
            "param": "tenant-b",
            "before": "/tenants/tenant-b",
            "after": "/tenants/tenant-b",
        },
    }


def test_the_state_is_made_per_thread_once() -> None:
    # Given the per-thread state applied
    per_thread_router_state()
    first = {name: BaseRouter.__dict__[name] for name in PER_THREAD}
    # When it is applied again (every local stack of the process applies it)
    per_thread_router_state()
    # Then the same descriptors stay in place (the values already set are kept)
    assert all(isinstance(d, PerThread) for d in first.values())
    assert {name: BaseRouter.__dict__[name] for name in PER_THREAD} == first


def test_a_thread_that_served_nothing_has_no_event() -> None:
    # Given the per-thread state, and a request's event set on this thread
    per_thread_router_state()
    BaseRouter.current_event = "this thread's"  # type: ignore[assignment]
    seen: list[str] = []

    def look() -> None:
        seen.append(str(getattr(BaseRouter, "current_event", "none")))

    # When another thread reads it
    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    # Then it sees none: no request leaks into a thread that did not serve it
    assert seen == ["none"]
    assert BaseRouter.current_event == "this thread's"
