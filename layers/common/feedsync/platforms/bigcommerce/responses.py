"""How BigCommerce's answers read: one ``Outcome`` per response, its rate headers, its words.

The shared transport retries and waits; this module only says what each answer means:

* 2xx: ``ok``; a product batch's 207 (some products written, the others listed as
  failed) is ``refused``: the writer reports the products missing from its ``data``;
* a status that rejects a write batch because of some item (413, 422; 404, 409 for
  products) is ``refused``: the writer isolates the refused items;
* a status the caller expects for a missing resource (the deletion look-up's 404) is
  ``gone``;
* 429 with ``X-Rate-Limit-Time-Reset-Ms`` is a ``throttle`` for that long (the store's
  window is used up); without it (platform load) a ``retry`` with backoff;
* 5xx, 408 and the operation's "not now" statuses (409 for an adjustment while another
  is processed) are a ``retry`` with the transport's backoff;
* 401/403 are ``fatal`` with ``StoreAuthError``; any other status ``fatal`` with
  ``StoreRequestError`` carrying the platform's error title and details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.transport import Outcome, WindowHeaders, retry_after_s

JSON = dict[str, Any]

_TOO_MANY = "HTTP 429 Too Many Requests"


@dataclass(frozen=True, slots=True)
class Classifier:
    """The reading of one logical request's answers (``what``: e.g. "PUT /catalog/variants").

    ``where`` names the store in messages; ``refused``, ``gone`` and ``retry`` are the
    statuses that mean so for this request; ``multi_status``: a 207 lists what was written.
    """

    where: str
    what: str
    refused: tuple[int, ...] = ()
    gone: tuple[int, ...] = ()
    retry: tuple[int, ...] = ()
    multi_status: bool = False

    def __call__(self, response: requests.Response) -> Outcome:
        status = response.status_code
        if status == 429:
            reset_ms = _header_number(response.headers, "X-Rate-Limit-Time-Reset-Ms")
            if reset_ms is None:  # platform load, not the store's quota
                return Outcome.retry(_TOO_MANY, retry_after_s(response))
            return Outcome.throttle(_TOO_MANY, reset_ms / 1000)
        if status >= 500 or status == 408 or status in self.retry:
            # BigCommerce documents no Retry-After, but what answers for it (a CDN, a
            # proxy in maintenance) may send one: the wait it asks for is the better guess.
            what = f"HTTP {status} {error_title(response)}".rstrip()
            return Outcome.retry(what, retry_after_s(response))
        if status < 300:
            if status == 207 and self.multi_status:
                return Outcome.refused(f"HTTP {status}", body_of(response))
            return Outcome.ok()
        if status in self.refused:
            return Outcome.refused(f"HTTP {status}", body_of(response))
        if status in self.gone:
            return Outcome.gone(f"HTTP {status}")
        if status in (401, 403):
            return Outcome.fatal(
                StoreAuthError(
                    f"{self.where} rejected the access token "
                    f"(HTTP {status}: {error_title(response) or 'unauthorized'}); "
                    "check the store's API account and its scopes"
                )
            )
        return Outcome.fatal(rejected(self.where, self.what, response))


def rejected(where: str, what: str, response: requests.Response) -> StoreRequestError:
    """The named error for a request the store refused as a whole."""
    return StoreRequestError(
        f"{where}: {what} was rejected with HTTP {response.status_code}: {error_text(response)}"
    )


def window_headers(response: requests.Response) -> WindowHeaders:
    """The ``X-Rate-Limit-*`` headers in seconds (the platform gives milliseconds)."""
    h = response.headers
    reset_ms = _header_number(h, "X-Rate-Limit-Time-Reset-Ms")
    window_ms = _header_number(h, "X-Rate-Limit-Time-Window-Ms")
    return WindowHeaders(
        left=_header_number(h, "X-Rate-Limit-Requests-Left"),
        reset_s=None if reset_ms is None else reset_ms / 1000,
        quota=_header_number(h, "X-Rate-Limit-Requests-Quota"),
        window_s=None if window_ms is None else window_ms / 1000,
    )


def _header_number(headers: Any, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def body_of(response: requests.Response) -> JSON:
    """The answer's JSON object ({} when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_title(response: requests.Response) -> str:
    title = body_of(response).get("title")
    return title if isinstance(title, str) else ""


def rejections(body: JSON) -> list[Any]:
    """The entries of a batch rejection (one per refused item on BigCommerce)."""
    entries = body.get("batch_errors")
    return entries if isinstance(entries, list) else []


# Keys of a refusal's ``errors`` that stand for the item itself rather than one of its
# values: the platform refuses an unknown (deleted) id on them.
_IDENTITY_KEYS = frozenset({"id", "product_id", "variant_id", "sku"})


def names_values_only(entries: list[Any]) -> bool:
    """Do these refusal entries (``batch_errors``, or a plain error as one entry) each name
    only values of an item (``errors`` keys like ``price``, none like ``id``)?

    Then the store has the item: it read its values to refuse them, so no deletion
    look-up is needed. Decided on the keys the spec's ``errors`` object carries, never on
    words; an entry without them (or naming an identity key) might mean a deleted item.
    """
    if not entries:
        return False
    for entry in entries:
        details = entry.get("errors") if isinstance(entry, dict) else None
        if not isinstance(details, dict) or not details:
            return False
        if any(str(key).split(".")[-1] in _IDENTITY_KEYS for key in details):
            return False
    return True


def refusal_names_values_only(response: requests.Response, body: JSON | None) -> bool:
    """``names_values_only`` for a whole answer: a 422 whose errors name values only (a
    404 or an answer without ``errors`` may mean the item is gone)."""
    if response.status_code != 422:
        return False
    body = body or {}
    entries = body.get("batch_errors")
    return names_values_only(entries if isinstance(entries, list) else [body])


def error_text(response: requests.Response, body: JSON | None = None) -> str:
    """The platform's error title and details, from a plain, batch or multi-status body.

    ``body``: the answer's JSON object when the caller already has it.
    """
    if body is None:
        body = body_of(response)
    entries = body.get("batch_errors")
    if not isinstance(entries, list) or not entries:
        multi = body.get("errors")
        # A 207's "errors" is one error object; a plain error's "errors" is its details.
        entries = [multi] if response.status_code == 207 and isinstance(multi, dict) else [body]
    texts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        text = str(entry.get("title") or "").strip()
        details = entry.get("errors")
        if isinstance(details, dict) and details:
            detail = "; ".join(f"{k}: {v}" for k, v in details.items())
            text = f"{text} ({detail})" if text else detail
        if text:
            texts.append(text)
    if texts:
        return " | ".join(texts)
    raw = response.text.strip()
    return raw[:300] if raw else f"HTTP {response.status_code} without details"
