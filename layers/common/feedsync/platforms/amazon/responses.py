"""How Amazon's answers are read: the ``classify`` the shared transport asks about every
response of the Selling Partner API, of Login with Amazon and of a document URL.

* 429: ``throttle`` for one token of the operation's usage plan when
  ``x-amzn-RateLimit-Limit`` gives its rate (1 / rate seconds), else ``retry`` after the
  transport's backoff (Amazon under load says nothing);
* 5xx (and 408): ``retry``, after ``Retry-After`` when sent;
* 401/403 ``Unauthorized`` whose details say the token expired: ``refused`` with
  ``EXPIRED`` (the client buys a new token and sends again); any other 401/403: ``fatal``
  ``StoreAuthError`` naming what the seller has to do;
* 404 where the caller expects it: ``gone``; 400 and the rest: ``fatal``
  ``StoreRequestError`` with Amazon's errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import requests

from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.transport import Outcome, retry_after_s

EXPIRED: Final = "the access token expired"
RATE_HEADER: Final = "x-amzn-RateLimit-Limit"


def rate_limit(response: requests.Response) -> float | None:
    """The operation's rate (requests per second) Amazon applied, when it says."""
    try:
        rate = float(response.headers.get(RATE_HEADER) or "")
    except ValueError:
        return None
    return rate if rate > 0 else None


def parse_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_text(response: requests.Response, body: Any = None) -> str:
    """Amazon's ``{"errors": [{"code", "message", "details"}]}`` as one line."""
    body = parse_body(response) if body is None else body
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        parts = []
        for error in body["errors"]:
            if isinstance(error, dict):
                text = str(error.get("message") or "").strip()
                if error.get("details"):
                    text += f" ({error['details']})"
                parts.append(f"{text} [{error.get('code')}]" if error.get("code") else text)
        if parts:
            return "; ".join(parts)
    if isinstance(body, dict) and body.get("error"):  # Login with Amazon
        return f"{body.get('error_description') or ''} [{body['error']}]".strip()
    raw = response.text.strip()
    return raw[:300] if raw else f"HTTP {response.status_code} without details"


def _transient(response: requests.Response) -> Outcome | None:
    status = response.status_code
    if status == 429:
        rate = rate_limit(response)
        what = f"HTTP 429 {error_text(response)}"
        if rate is not None:
            return Outcome.throttle(what, 1.0 / rate)
        return Outcome.retry(what, retry_after_s(response))
    if status == 408 or status >= 500:
        return Outcome.retry(f"HTTP {status} {error_text(response)}", retry_after_s(response))
    return None


@dataclass(frozen=True, slots=True)
class Classify:
    """The transport's ``classify`` for one Selling Partner API operation."""

    where: str  # "Amazon seller A... in marketplace ..."
    operation: str
    gone_on_404: bool = False

    def __call__(self, response: requests.Response) -> Outcome:
        transient = _transient(response)
        if transient is not None:
            return transient
        status = response.status_code
        if status < 300:
            return Outcome.ok(parse_body(response))
        body = parse_body(response)
        if status in (401, 403):
            if _expired(body):
                return Outcome.refused(EXPIRED, body)
            return Outcome.fatal(
                StoreAuthError(
                    f"{self.where}: Amazon refused {self.operation} (HTTP {status}: "
                    f"{error_text(response, body)}); check in Seller Central (Apps and "
                    "Services > Manage Your Apps) that the app is still authorized and "
                    "has the Product Listing role, and that seller_id is "
                    "the seller who authorized it"
                )
            )
        if status == 404 and self.gone_on_404:
            return Outcome.gone(f"HTTP 404 {error_text(response, body)}", body)
        return Outcome.fatal(
            StoreRequestError(
                f"{self.where}: {self.operation} was rejected with HTTP {status}: "
                f"{error_text(response, body)}"
            )
        )


@dataclass(frozen=True, slots=True)
class ClassifyToken:
    """Login with Amazon's token endpoint."""

    where: str

    def __call__(self, response: requests.Response) -> Outcome:
        transient = _transient(response)
        if transient is not None:
            return transient
        body = parse_body(response)
        if response.status_code < 300 and isinstance(body, dict) and body.get("access_token"):
            return Outcome.ok(body)
        return Outcome.fatal(
            StoreAuthError(
                f"{self.where}: Login with Amazon refused the app's credentials or the "
                f"seller's refresh token (HTTP {response.status_code}: "
                f"{error_text(response, body)}); check client_id and client_secret (the "
                "app's LWA credentials in Developer Central) and authorize the app again "
                "for a new refresh token"
            )
        )


@dataclass(frozen=True, slots=True)
class ClassifyDocument:
    """A feed or report document's URL (S3): the upload and the download."""

    where: str
    what: str

    def __call__(self, response: requests.Response) -> Outcome:
        transient = _transient(response)
        if transient is not None:
            return transient
        if response.status_code < 300:
            return Outcome.ok()
        return Outcome.fatal(
            StoreRequestError(
                f"{self.where}: the {self.what} was refused with HTTP "
                f"{response.status_code}: {error_text(response)}"
            )
        )


def _expired(body: Any) -> bool:
    """Does an Unauthorized answer say the access token expired (rather than denied)?"""
    if not isinstance(body, dict):
        return False
    for error in body.get("errors") or ():
        if isinstance(error, dict) and error.get("code") == "Unauthorized":
            text = f"{error.get('message') or ''} {error.get('details') or ''}".lower()
            if "expired" in text:
                return True
    return False
