"""Powertools' REST resolver state, per thread: concurrent local API requests stay apart.

On Lambda every execution environment serves one request at a time, so Powertools keeps
the request being served on its router *class* (``BaseRouter.current_event`` and
``lambda_context``, assigned to the class and read from it by every resolver and
``Router`` of the process). The local stack runs all API instances in one process, where
that class attribute is shared: two requests served at once read each other's event (a
Start answered for another tenant). Serving the API one request at a time kept them apart
but queued every request behind the slowest (100 concurrent Starts: most waited minutes).

``per_thread_router_state`` makes those two attributes per thread instead: the local API
server serves each connection on a thread of its own, so each request reads only its own
event. What a request's handler reads through ``app.current_event`` or a ``Router`` is
then the request it serves, as on Lambda. Local only: nothing here ships to Lambda.
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

PER_THREAD = ("current_event", "lambda_context")


class PerThread:
    """A class attribute whose value is the calling thread's own."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._local = threading.local()

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        try:
            return self._local.value
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, obj: object, value: Any) -> None:
        self._local.value = value


def per_thread_router_state() -> None:
    """Make ``BaseRouter``'s request attributes per thread (once per process).

    Reads through an instance or a subclass find the descriptor in ``BaseRouter``'s own
    namespace; Powertools' assignments to the class itself (``BaseRouter.current_event =
    ...``) go through the type's ``__setattr__``, which a data descriptor on the
    metaclass intercepts, hence a metaclass of its own for ``BaseRouter``.
    """
    if all(isinstance(BaseRouter.__dict__.get(name), PerThread) for name in PER_THREAD):
        return
    descriptors = {name: PerThread(name) for name in PER_THREAD}
    for name, descriptor in descriptors.items():
        setattr(BaseRouter, name, descriptor)  # before the metaclass: into the namespace
    meta = type("PerThreadRouterMeta", (type(BaseRouter),), dict(descriptors))
    BaseRouter.__class__ = meta  # type: ignore[method-assign]
