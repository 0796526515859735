"""Webhook deliveries over HTTP: one POST per attempt, to the checked address only.

The receiver's URL is the merchant's, so it gets the supplier fetcher's and the store
transport's rule (``addresses``): outside the local stack its host must resolve to public
addresses only, and the connection goes to the address that was checked (pinned; TLS
still verifies the URL's host name). Redirects are not followed: a delivery goes where
the merchant said, and a 3xx is its final answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from feedsync.adapters.addresses import PinnedAdapter, ascii_url, first_refused, lookup, pinned
from feedsync.domain.notifications import WebhookAnswer as Answer

_ERROR_MAX = 300


class RequestsWebhookPoster:
    """``ports.WebhookPoster`` over requests (``allow_private``: the local stack)."""

    def __init__(self, *, allow_private: bool, session: requests.Session | None = None) -> None:
        self.allow_private = allow_private
        self._session = session

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Answer:
        session = self._session or requests.Session()
        try:
            request_url, sent_headers = url, dict(headers)
            if not self.allow_private:
                checked = self._checked(url)
                if isinstance(checked, Answer):
                    return checked
                request_url, sent_headers["Host"], prefix = checked
                session.mount(prefix, PinnedAdapter(urlsplit(ascii_url(url)).hostname or ""))
            response = session.post(
                request_url,
                data=body,
                headers=sent_headers,
                timeout=timeout_s,
                allow_redirects=False,
            )
        except requests.Timeout:
            return Answer(None, f"no answer within {timeout_s:g} s")
        except requests.ConnectionError as exc:
            return Answer(None, f"could not connect: {_short(exc)}")
        except (requests.RequestException, ValueError) as exc:
            return Answer(None, f"the request failed: {_short(exc)}")
        finally:
            if self._session is None:
                session.close()
        with response:
            error = None
            if response.status_code >= 300:
                error = f"HTTP {response.status_code}: {_short(response.text)}"
                if 300 <= response.status_code < 400:
                    error = f"HTTP {response.status_code}: redirects are not followed"
            return Answer(response.status_code, error, _retry_after(response))

    def _checked(self, url: str) -> tuple[str, str, str] | Answer:
        """The pinned request URL, Host header and adapter prefix, or why not (an answer
        that is not retried: a refused address stays refused for this delivery)."""
        try:
            url = ascii_url(url)
        except ValueError as exc:
            return Answer(None, str(exc), refused=True)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = lookup(host, port)
        except OSError as exc:  # a DNS hiccup may pass: retried
            return Answer(None, f"DNS lookup of {host!r} failed ({exc})")
        except UnicodeError:
            return Answer(None, f"{host!r} is not a valid host name", refused=True)
        refused = first_refused(host, found)
        if refused is not None:
            return Answer(
                None, f"{refused}; feedsync delivers only to public addresses", refused=True
            )
        return pinned(url, found[0][1])


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _ERROR_MAX else text[: _ERROR_MAX - 3] + "..."
