"""How WooCommerce's answers are read: the ``classify`` the shared transport asks about
every response, and the parsing of WordPress's bodies and error objects.

The transport retries and gives up (``StoreUnavailable``); here is only the judgement:

* 408, 429 and 5xx: ``retry``, after the ``Retry-After`` wait when the shop sends one
  (the transport caps it), else after its jittered backoff;
* 401 and 403: ``fatal`` ``StoreAuthError``, naming where the key is managed;
* 404 for the REST API itself (WordPress's ``rest_no_route`` code, or a page that is
  no JSON object): ``fatal`` ``StoreRequestError`` naming plain permalinks, unless the
  caller asked for a route older shops lack (``Expect.optional_route``): then ``gone``;
* 2xx: ``ok`` with the parsed body;
* a status the caller handles itself: ``refused`` (a batch's 400, 404 and 413:
  ``Expect.refusals``) or ``gone`` (a 404 naming a product deleted meanwhile:
  ``Expect.resource_gone``);
* anything else: ``fatal`` ``StoreRequestError`` with WordPress's message.

Per-item errors inside a 200 batch answer are the writer's business, not this module's.
Every decision is taken on the status and WordPress's ``code`` field, never on text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import requests

from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.transport import Outcome, retry_after_s

JSON = dict[str, Any]

# WordPress's error code for a REST route the site does not have.
NO_ROUTE: Final = "rest_no_route"


class Expect(NamedTuple):
    """What a caller handles itself besides a 2xx answer."""

    # Statuses answered back as ``refused`` (a batch: the request was refused whole).
    refusals: frozenset[int] = frozenset()
    # A 404 naming a resource (not a route) answered back as ``gone``.
    resource_gone: bool = False
    # WordPress's ``rest_no_route`` answered back as ``gone``: a route older shops lack.
    optional_route: bool = False


READ: Final = Expect()


@dataclass(frozen=True, slots=True)
class Classify:
    """The transport's ``classify`` for one request to one shop."""

    where: str  # "WooCommerce shop https://..."
    api_url: str
    method: str
    path: str
    expect: Expect = READ

    def __call__(self, response: requests.Response) -> Outcome:
        status = response.status_code
        if status in (408, 429) or status >= 500:
            what = f"HTTP {status} {error_text(response)}".rstrip()
            return Outcome.retry(what, retry_after_s(response))
        if status in (401, 403):
            return Outcome.fatal(
                StoreAuthError(
                    f"{self.where} refused the REST API key (HTTP {status}: "
                    f"{error_text(response)}); check under WooCommerce > Settings > "
                    "Advanced > REST API that the key exists, has Read/Write permissions "
                    "(Read is enough to import the catalog) and belongs to a user who may "
                    "edit products"
                )
            )
        if status < 300:
            return Outcome.ok(parse_body(response))
        body = parse_body(response)
        if status == 404 and (not isinstance(body, dict) or body.get("code") == NO_ROUTE):
            # The API itself is missing (no such route, or WordPress's HTML page).
            if self.expect.optional_route and isinstance(body, dict):
                return Outcome.gone(f"{self.method} {self.path}: no such route", body)
            return Outcome.fatal(
                StoreRequestError(
                    f"WooCommerce REST API not found at {self.api_url} ({self.method} "
                    f"{self.path} answered 404) — are pretty permalinks on (Settings > "
                    "Permalinks, anything but 'Plain') and is WooCommerce active?"
                )
            )
        if status in self.expect.refusals:
            return Outcome.refused(f"HTTP {status}", body)
        if status == 404 and self.expect.resource_gone:
            return Outcome.gone(f"HTTP {status}", body)
        return Outcome.fatal(
            StoreRequestError(
                f"{self.where}: {self.method} {self.path} was rejected with HTTP {status}: "
                f"{error_text(response, body)}"
            )
        )


def parse_body(response: requests.Response) -> Any:
    """The JSON of an answer; None when there is none."""
    try:
        return response.json()
    except ValueError:
        # WordPress sites often print PHP notices before the JSON: skip to the JSON.
        text = response.text
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        if not starts:
            return None
        try:
            return json.loads(text[min(starts) :])
        except ValueError:
            return None


_UNSET: Final = object()


def error_text(response: requests.Response, body: Any = _UNSET) -> str:
    """WordPress's error of a refused request as one line (``body``: already parsed)."""
    if body is _UNSET:
        body = parse_body(response)
    if isinstance(body, dict) and (body.get("message") or body.get("code")):
        return item_error_text(body)
    raw = response.text.strip()
    return raw[:300] if raw else f"HTTP {response.status_code} without details"


def item_error_text(error: Any) -> str:
    """WordPress's ``{"code", "message", "data": {"params": {...}}}`` as one line."""
    if not isinstance(error, dict):
        return str(error)
    message = str(error.get("message") or "").strip() or "rejected"
    data = error.get("data")
    params = data.get("params") if isinstance(data, dict) else None
    if isinstance(params, dict) and params:
        message += " (" + "; ".join(str(v) for v in params.values()) + ")"
    code = error.get("code")
    return f"{message} [{code}]" if code else message


def json_list(body: Any, status: int, where: str) -> list[JSON]:
    """A list answer's objects; a body that is no JSON list is an error worth naming."""
    if not isinstance(body, list):
        raise StoreRequestError(
            f"{where} answered HTTP {status} without a JSON list (a security "
            "or caching plugin in front of the REST API?)"
        )
    return [row for row in body if isinstance(row, dict)]


def json_dict(body: Any, status: int, where: str) -> JSON:
    """An object answer; a body that is no JSON object is an error worth naming."""
    if not isinstance(body, dict):
        raise StoreRequestError(
            f"{where} answered HTTP {status} without a JSON object (a security "
            "or caching plugin in front of the REST API?)"
        )
    return body


def int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None
