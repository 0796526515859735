"""Webhook deliveries over HTTP: one POST per attempt, to the checked address only.

The receiver's URL is the merchant's, so it gets the supplier fetcher's and the store
transport's rule (``addresses``): outside the local stack its host must resolve to public
addresses only, and the connection goes to the address that was checked (pinned; TLS
still verifies the URL's host name). Redirects are not followed: a delivery goes where
the merchant said, and a 3xx is its final answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError

from feedsync.adapters.addresses import PinnedAdapter, ascii_url, first_refused, lookup, pinned
from feedsync.domain.notifications import WebhookAnswer as Answer

_ERROR_MAX = 300


# What is read of an answer: its status and the start of an error's text, nothing more.
_BODY_MAX = 4096


class RequestsWebhookPoster:
    """``ports.WebhookPoster`` over requests (``allow_private``: the local stack).

    ``timeout_s`` bounds the whole attempt, connect to the last byte read: requests'
    timeout bounds each connect and each read only, so a receiver trickling its answer a
    byte at a time would hold the delivery (and every webhook after it) for ever.
    """

    def __init__(self, *, allow_private: bool, session: requests.Session | None = None) -> None:
        self.allow_private = allow_private
        self._session = session

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Answer:
        session = self._session or requests.Session()
        deadline: _Deadline | None = None
        try:
            request_url, sent_headers = url, dict(headers)
            parts = urlsplit(ascii_url(url))
            prefix = f"{parts.scheme}://{parts.netloc}/"
            if not self.allow_private:
                checked = self._checked(url)
                if isinstance(checked, Answer):
                    return checked
                request_url, sent_headers["Host"], prefix = checked
            adapter = _CuttableAdapter(parts.hostname or "")
            session.mount(prefix, adapter)
            deadline = _Deadline(timeout_s, adapter.opened)
            with session.post(
                request_url,
                data=body,
                headers=sent_headers,
                timeout=timeout_s,
                allow_redirects=False,
                stream=True,
            ) as response:
                if deadline.hit:  # cut in its headers (http.client takes that as their end)
                    return Answer(None, f"no answer within {timeout_s:g} s")
                return _answer(response, deadline, timeout_s)
        except (requests.RequestException, OSError, ValueError) as exc:
            if (deadline is not None and deadline.hit) or isinstance(exc, requests.Timeout):
                return Answer(None, f"no answer within {timeout_s:g} s")
            if isinstance(exc, requests.ConnectionError):
                return Answer(None, f"could not connect: {_short(exc)}")
            return Answer(None, f"the request failed: {_short(exc)}")
        finally:
            if deadline is not None:
                deadline.stop()
            if self._session is None:
                session.close()

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


def _answer(response: requests.Response, deadline: _Deadline, timeout_s: float) -> Answer:
    """The status, and for a refusal the start of its text (at most ``_BODY_MAX`` bytes,
    cut at the deadline: what came by then is the reason)."""
    code = response.status_code
    if code < 300:
        return Answer(code, None, _retry_after(response))
    if code < 400:
        return Answer(code, f"HTTP {code}: redirects are not followed", _retry_after(response))
    text = b""
    with contextlib.suppress(requests.RequestException, OSError, ValueError, HTTPError):
        text = response.raw.read(_BODY_MAX, decode_content=True) or b""
    said = _short(text.decode("utf-8", "replace")) if text else ""
    if deadline.hit:
        said = f"{said} (answer cut at {timeout_s:g} s)".strip()
    return Answer(code, f"HTTP {code}: {said}".rstrip(": "), _retry_after(response))


class _CuttableAdapter(PinnedAdapter):
    """Pinned to the URL's host name as TLS sees it, and keeping the connections it
    opens so that ``_Deadline`` can cut one in the middle of an answer."""

    def __init__(self, server_hostname: str) -> None:
        self.opened: list[Any] = []
        super().__init__(server_hostname)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        opened = self.opened

        def recording(base: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
            class Recording(base):  # type: ignore[valid-type,misc]
                def _new_conn(self) -> Any:
                    conn = super()._new_conn()
                    opened.append(conn)
                    return conn

            return Recording

        self.poolmanager.pool_classes_by_scheme = {
            "http": recording(HTTPConnectionPool),
            "https": recording(HTTPSConnectionPool),
        }


class _Deadline:
    """Shuts the attempt's sockets down once ``seconds`` have passed (a blocked read then
    ends at once); keeps doing so until stopped, for a connection opened just after."""

    def __init__(self, seconds: float, opened: list[Any]) -> None:
        self.hit = False
        self._opened = opened
        self._stopped = threading.Event()
        threading.Thread(target=self._watch, args=(seconds,), daemon=True).start()

    def _watch(self, seconds: float) -> None:
        if self._stopped.wait(seconds):
            return
        self.hit = True
        while not self._stopped.is_set():
            for conn in list(self._opened):
                sock = getattr(conn, "sock", None)
                if sock is not None:  # the plain socket's: TLS state is left to its reader
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self._stopped.wait(0.1)

    def stop(self) -> None:
        self._stopped.set()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _ERROR_MAX else text[: _ERROR_MAX - 3] + "..."
