"""What an answer from Shopify means: the platform's half of the shared transport.

The Admin API (GraphQL):

* 401/403: the token is wrong or lacks scopes -> fatal ``StoreAuthError``;
* 408, 429, 5xx -> ``retry`` (after ``Retry-After`` when the shop says one, else backoff);
* any other status but 200 -> fatal ``StoreRequestError``;
* 200 that is not a JSON object -> ``retry``;
* 200 with ``errors`` (by ``extensions.code``): ``THROTTLED`` -> ``throttle`` for as long as
  the cost bucket's arithmetic says; ``INTERNAL_SERVER_ERROR``, ``SERVICE_UNAVAILABLE``,
  ``TIMEOUT`` -> ``retry``; ``ACCESS_DENIED`` -> fatal ``StoreAuthError``; anything else
  (a 200 without ``data`` too) -> fatal ``StoreRequestError``;
* 200 with ``data`` and no ``errors`` -> ``ok``: ``userErrors`` inside ``data`` are the
  writer's business.

Every answer that is a JSON object travels as the outcome's body, so the cost bucket
learns from it (a throttled or refused one too).

Staged uploads and bulk result downloads (not the Admin API: no token, no bucket): 2xx
``ok``, 429 and 5xx ``retry`` after a backoff, any other status fatal ``StoreRequestError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import requests

from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.transport import Classify, Outcome, retry_after_s

JSON = dict[str, Any]

# GraphQL error codes worth another try: the shop's trouble, not the request's.
TRANSIENT_CODES: Final = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})


def graphql_classifier(
    where: str, operation: str, throttle_wait: Callable[[JSON], float]
) -> Classify:
    """Reads the answers to one document (``operation``, for messages). ``where`` names
    the shop ("Shopify store https://..."); ``throttle_wait`` turns a THROTTLED answer's
    ``extensions.cost`` into the wait before it is sent again."""

    def classify(response: requests.Response) -> Outcome:
        status = response.status_code
        if status in (401, 403):
            return Outcome.fatal(
                StoreAuthError(
                    f"{where} rejected the access token (HTTP {status}: {_text(response)}); "
                    "reinstall the app or check its scopes"
                )
            )
        if status in (408, 429) or status >= 500:
            return Outcome.retry(f"HTTP {status}", retry_after_s(response))
        if status != 200:
            return Outcome.fatal(
                StoreRequestError(
                    f"{where}: {operation} was rejected with HTTP {status}: {_text(response)}"
                )
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return Outcome.retry("an answer that is not a JSON object")
        errors = answer.get("errors") or []
        if not errors and isinstance(answer.get("data"), dict):
            return Outcome.ok(answer)
        codes = {
            str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)
        }
        if "THROTTLED" in codes:
            cost = (answer.get("extensions") or {}).get("cost") or {}
            return Outcome.throttle("THROTTLED", throttle_wait(cost), body=answer)
        text = errors_text(errors) or "no data in the answer"
        if codes & TRANSIENT_CODES:
            return Outcome.retry(text, body=answer)
        if "ACCESS_DENIED" in codes:
            error: StoreRequestError | StoreAuthError = StoreAuthError(
                f"{where}: {operation} was denied: {text}; check the app's scopes"
            )
        else:
            error = StoreRequestError(f"{where}: {operation} failed: {text}")
        return Outcome.fatal(error, body=answer)

    return classify


def transfer_classifier(where: str, method: str) -> Classify:
    """Reads the answers of the staged-upload target or the bulk result's file server."""

    def classify(response: requests.Response) -> Outcome:
        status = response.status_code
        if status < 300:
            return Outcome.ok()
        if status == 429 or status >= 500:
            return Outcome.retry(f"HTTP {status}")
        return Outcome.fatal(
            StoreRequestError(
                f"{where}: {method} of a bulk file was refused "
                f"(HTTP {status}: {response.text[:200]})"
            )
        )

    return classify


def user_error_text(error: JSON) -> str:
    """A mutation's userError as a merchant reads it: ``price: must be >= 0 (INVALID)``."""
    message = str(error.get("message") or "invalid")
    path = error.get("field") or []
    tail = [str(p) for p in path if not str(p).isdigit() and p not in ("variants", "input")]
    code = error.get("code")
    where = ".".join(tail)
    text = f"{where}: {message}" if where else message
    return f"{text} ({code})" if code else text


def errors_text(errors: list[Any]) -> str:
    texts = []
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            message = str(error.get("message") or "")
            texts.append(f"{message} ({code})" if code else message)
    return "; ".join(t for t in texts if t)


def _text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or "no details"
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return errors_text(errors) or json.dumps(errors)[:300]
    return json.dumps(body)[:300]
