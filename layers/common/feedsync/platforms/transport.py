"""One HTTP transport for every store connector.

Retries, backoff with jitter, ``Retry-After``, throttle waits, timeouts and the
rate budget live here, once. A platform supplies only how to read a response: its
``classify`` function turns each response into an ``Outcome`` (ok, refused item,
gone, retry, throttle, fatal), and its ``Pacer`` (if any) keeps the store's quota.
The connector then sees only answers it has to act on (``ok``, ``refused``,
``gone``) or a named error.

Modelled on meltano/sdk's ``validate_response`` plus one request decorator: the
loop is the same for every platform, the judgement of a response is not.

Where it connects is the transport's too, for every platform: outside the local stack
(``allow_private``) each host is looked up, refused if ``adapters.addresses.refusal``
refuses any of its addresses, and connected to at exactly the checked address (DNS
rebinding cannot swap one in). Redirects are followed here, not by ``requests``: each
hop is checked the same way, may not leave https for http, and at most
``max_redirects`` are followed; credentials go only to the first URL's origin.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from feedsync.adapters.addresses import (
    PinnedAdapter,
    SockAddr,
    ascii_url,
    first_refused,
    lookup,
    origin,
    pinned,
    redirect_target,
)
from feedsync.core.ports import RateBudget
from feedsync.errors import FeedsyncError, StoreRequestError, StoreUnavailable

# Failures of the exchange itself, worth another try: the store may answer next time.
TRANSIENT_EXCEPTIONS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

OutcomeKind = Literal["ok", "refused", "gone", "retry", "throttle", "fatal"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a platform makes of one response.

    ``ok``, ``refused`` (the store refused an item of the request) and ``gone`` (what
    the request named no longer exists) go back to the connector with the response.
    ``retry`` is sent again after ``wait_s`` (the server's word, capped) or a jittered
    backoff; ``throttle`` after ``wait_s`` without spending the retry allowance, up to
    the throttle patience; ``fatal`` raises ``error``. ``what`` describes a retry or
    throttle for the message when patience runs out; ``body`` carries a body the
    classifier already parsed, so nobody parses it twice.
    """

    kind: OutcomeKind
    what: str = ""
    wait_s: float | None = None
    error: FeedsyncError | None = None
    body: Any = None

    @classmethod
    def ok(cls, body: Any = None) -> Outcome:
        return cls("ok", body=body)

    @classmethod
    def refused(cls, what: str = "", body: Any = None) -> Outcome:
        return cls("refused", what, body=body)

    @classmethod
    def gone(cls, what: str = "", body: Any = None) -> Outcome:
        return cls("gone", what, body=body)

    @classmethod
    def retry(cls, what: str, wait_s: float | None = None, body: Any = None) -> Outcome:
        return cls("retry", what, wait_s, body=body)

    @classmethod
    def throttle(cls, what: str, wait_s: float, body: Any = None) -> Outcome:
        return cls("throttle", what, wait_s, body=body)

    @classmethod
    def fatal(cls, error: FeedsyncError, body: Any = None) -> Outcome:
        return cls("fatal", error=error, body=body)


class Reply(NamedTuple):
    """A response the connector acts on, with the platform's reading of it."""

    response: requests.Response
    outcome: Outcome
    # Requests sent for it (more than one: an earlier one timed out or failed, and may have
    # reached the store; a non-idempotent write learns it here).
    attempts: int = 1

    @property
    def kind(self) -> OutcomeKind:
        return self.outcome.kind

    @property
    def body(self) -> Any:
        return self.outcome.body


Classify = Callable[[requests.Response], Outcome]


class Pacer(Protocol):
    """Keeps one store's quota: waits before a request, learns from each answer."""

    # True when the pacer itself holds requests back after a throttle (a shared
    # budget does): the transport then skips its own wait for the first one in a row.
    paces_throttles: bool

    def before_request(self, cost: float) -> None: ...

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        """``response`` None: the exchange failed (it still counts as spent)."""
        ...

    def waited(self, seconds: float) -> None:
        """The transport slept this long (a fake sleep does not move a clock)."""
        ...


class NoPacing:
    """For stores without a quota of their own (the shop's server is the limit)."""

    paces_throttles = False

    def before_request(self, cost: float) -> None:
        return None

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        return None

    def waited(self, seconds: float) -> None:
        return None


class WindowHeaders(NamedTuple):
    """A request window as a platform's rate headers describe it (seconds)."""

    left: float | None
    reset_s: float | None
    quota: float | None
    window_s: float | None


class RequestWindowPacer:
    """A quota of N requests per window, read from the platform's rate headers.

    With a ``RateBudget`` every worker writing to the store shares the window; without
    one, this worker waits for the reset once the headers say the window is used up.
    """

    def __init__(
        self,
        read_headers: Callable[[requests.Response], WindowHeaders],
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.read_headers = read_headers
        self.budget = budget
        self.paces_throttles = budget is not None
        self._sleep = sleep
        self._wait_before_next_s = 0.0

    def before_request(self, cost: float) -> None:
        if self.budget is not None:
            self.budget.before_request()
        elif self._wait_before_next_s > 0:
            wait, self._wait_before_next_s = self._wait_before_next_s, 0.0
            self._sleep(wait)

    def after_response(self, response: requests.Response | None, outcome: Outcome | None) -> None:
        if response is None:
            if self.budget is not None:
                self.budget.after_response(None, None)
            return
        left, reset_s, quota, window_s = self.read_headers(response)
        status = response.status_code
        if self.budget is None:
            if status != 429 and left is not None and left <= 0 and reset_s is not None:
                self._wait_before_next_s = max(reset_s, 0.0)
            return
        if status == 429 and left is None and reset_s is not None:
            left = 0
        if window_s is not None and response.elapsed.total_seconds() * 4 > window_s:
            # So slow an answer may describe the window before this one: count it as
            # spent, but learn nothing from its headers.
            left = reset_s = None
        self.budget.after_response(
            None if left is None else int(left),
            reset_s,
            None if quota is None else int(quota),
            window_s,
        )

    def waited(self, seconds: float) -> None:
        return None


def retry_after_s(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110); None if absent."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HttpTransport:
    """Sends one logical request until the platform's reading of it settles.

    ``where`` names the store in error messages ("BigCommerce store https://...").
    """

    def __init__(
        self,
        where: str,
        *,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_throttle_waits: int = 20,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        retry_after_cap_s: float = 120.0,
        rng: random.Random | None = None,
        allow_private: bool = False,
        max_redirects: int = 5,
    ) -> None:
        """``allow_private``: connect anywhere, unchecked and unpinned (the local stack and
        the tests' loopback doubles); redirects are still checked for https -> http and
        counted."""
        self.where = where
        self.session = session if session is not None else requests.Session()
        self.pacer: Pacer = pacer if pacer is not None else NoPacing()
        self._sleep = sleep
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_throttle_waits = max_throttle_waits
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self._random = rng if rng is not None else random.Random()
        self.requests_sent = 0
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        # (host, port) -> the address that passed the check, kept while it answers.
        self._checked: dict[tuple[str, int], SockAddr] = {}

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)
        self.pacer.waited(seconds)

    def send(
        self,
        method: str,
        url: str,
        classify: Classify,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | Sequence[tuple[str, str]] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        cost: float = 1.0,
        stream: bool = False,
        resend_unanswered: bool = True,
    ) -> Reply:
        """One logical request (``what``: e.g. "PUT /catalog/variants", for messages).

        ``data``: a raw body, or a form's (name, value) fields (sent before ``files``).
        ``resend_unanswered=False``: a request that got no answer (a timeout, a reset) is not
        sent again but raises ``StoreUnavailable``: one the store may have carried out and
        that must not be repeated blind (a create), so the caller's retry looks first.
        """
        failures = 0  # retries spent: 5xx, timeouts, resets, throttles without a wait
        throttles = 0  # throttles in a row
        attempts = 0
        while True:
            attempts += 1
            self.pacer.before_request(cost)
            request: dict[str, Any] = {"timeout": self.timeout}
            for name, value in (
                ("params", params),
                ("json", json_body),
                ("data", data),
                ("files", files),
                ("headers", dict(headers) if headers else None),
                ("auth", auth),
            ):
                if value is not None:
                    request[name] = value
            if stream:
                request["stream"] = True
            outcome: Outcome | None = None
            response: requests.Response | None = None
            try:
                response = self._exchange(method, url, request, what)
            except TRANSIENT_EXCEPTIONS as exc:
                self._checked.clear()  # the next attempt looks the host up (and checks) again
                self.pacer.after_response(None, None)
                if not resend_unanswered:
                    raise StoreUnavailable(
                        f"{self.where}: {what} got no answer ({type(exc).__name__}); not sent "
                        "again blind, as the store may have carried it out"
                    ) from exc
                outcome = Outcome.retry(f"{type(exc).__name__} ({exc})")
            except BaseException:
                self.pacer.after_response(None, None)  # the request still counts as spent
                raise
            else:
                try:
                    outcome = classify(response)
                finally:
                    self.pacer.after_response(response, outcome)
            assert outcome is not None
            kind = outcome.kind
            if kind == "fatal":
                assert outcome.error is not None
                raise outcome.error
            if response is not None and kind in ("ok", "refused", "gone"):
                return Reply(response, outcome, attempts)
            if kind == "throttle":
                throttles += 1
                if throttles > self.max_throttle_waits:
                    raise StoreUnavailable(
                        f"{self.where}: {what} failed after {attempts} attempt(s); "
                        f"last: {outcome.what} {throttles} times in a row"
                    )
                # A pacer that holds every worker back until the reset already waits;
                # wait here too only if it let a second throttle through.
                if not (self.pacer.paces_throttles and throttles == 1):
                    self.sleep(max(outcome.wait_s or 0.0, 0.0))
                continue
            throttles = 0
            if failures >= self.max_retries:
                raise StoreUnavailable(
                    f"{self.where}: {what} failed after {attempts} attempt(s); last: {outcome.what}"
                )
            if outcome.wait_s is not None:
                wait = min(max(outcome.wait_s, 0.0), self.retry_after_cap_s)
            else:
                wait = self.backoff(failures)
            self.sleep(wait)
            failures += 1

    # -- one attempt: the request, its redirects, each hop checked ---------------------------
    def _exchange(
        self, method: str, url: str, request: dict[str, Any], what: str
    ) -> requests.Response:
        """The answer to ``request`` once redirects are followed (each hop checked).

        301/302 of a POST and every 303 continue as a GET without the body, as browsers and
        ``requests`` do; 307 and 308 repeat the request. ``auth`` and the caller's headers
        (the store's credentials) go only to ``url``'s origin.
        """
        start = origin(url)
        target, call = url, request
        for hop in range(self.max_redirects + 1):
            response = self._send_one(method, target, call, what, redirected=hop > 0)
            if not response.is_redirect:
                return response
            base = _with_params(target, call.get("params"))
            location = response.headers.get("Location", "")
            response.close()
            following, problem = _hop_problem(base, location)
            if problem is not None:
                shown = _shown(following) if following else repr(location[:100])
                raise StoreRequestError(
                    f"{self.where}: {what} was redirected to {shown}: {problem}; "
                    "feedsync does not follow it"
                )
            method, call = _redirected(method, response.status_code, call)
            if origin(following) != start:
                call = {k: v for k, v in call.items() if k not in ("auth", "headers")}
            target = following
        raise StoreRequestError(
            f"{self.where}: {what} was redirected more than {self.max_redirects} times "
            f"(the last time to {_shown(following)})"
        )

    def _send_one(
        self, method: str, url: str, call: dict[str, Any], what: str, *, redirected: bool
    ) -> requests.Response:
        """One HTTP request, to the checked address unless ``allow_private``."""
        request = dict(call)
        if not self.allow_private:
            host = urlsplit(url).hostname or ""
            if not host.isascii():  # an international name: its ASCII (punycode) form
                try:
                    url = ascii_url(url)
                except ValueError as exc:
                    raise StoreRequestError(f"{self.where}: {what}: {exc}") from exc
                host = urlsplit(url).hostname or ""
            sockaddr = self._address(url, what, redirected)
            url, host_header, prefix = pinned(url, sockaddr)
            request["headers"] = {**(request.get("headers") or {}), "Host": host_header}
            mounted = self.session.adapters.get(prefix)
            if not (isinstance(mounted, PinnedAdapter) and mounted.server_hostname == host):
                self.session.mount(prefix, PinnedAdapter(host))
        self.requests_sent += 1
        return self.session.request(method, url, allow_redirects=False, **request)

    def refused(self, host: str, addresses: list[tuple[Any, SockAddr]]) -> str | None:
        """Why ``host`` may not be reached at ``addresses`` (None: it may): the shared rule.
        A method so tests can let their loopback servers stand in for public stores."""
        return first_refused(host, addresses)

    def _address(self, url: str, what: str, redirected: bool) -> SockAddr:
        """The address to connect to for ``url``'s host, checked (and remembered)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        known = self._checked.get((host, port))
        if known is not None:
            return known
        hop = f"{what} was redirected to {_shown(url)}: " if redirected else ""
        try:
            found = lookup(host, port)
        except UnicodeError:
            raise StoreRequestError(f"{self.where}: {hop}{host!r} is not a host name") from None
        except OSError as exc:  # a failed lookup, retried as a failed connection would be
            raise requests.ConnectionError(f"DNS lookup of {host!r} failed ({exc})") from exc
        refused = self.refused(host, found)
        if refused is not None:
            raise StoreRequestError(
                f"{self.where}: {hop}{refused}; feedsync connects only to public addresses"
            )
        if not found:
            raise requests.ConnectionError(f"DNS lookup of {host!r} gave no address")
        self._checked[(host, port)] = found[0][1]
        return found[0][1]


def _shown(url: str) -> str:
    """A URL for a message: scheme, host, port and path (no user, query or fragment)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        pass
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _with_params(url: str, params: Any) -> str:
    """``url`` with the query ``params`` added (the base a relative ``Location`` resolves on)."""
    if not params:
        return url
    return requests.Request("GET", url, params=params).prepare().url or url


def _hop_problem(current: str, location: str) -> tuple[str, str | None]:
    """Where a redirect leads and why it is not followed (None: it is): the shared hop
    rule, and a store never leaves https for plain http (its credentials would)."""
    following, problem = redirect_target(current, location)
    leaves_https = urlsplit(current).scheme == "https" and urlsplit(following).scheme == "http"
    if problem is None and leaves_https:
        problem = "it leaves https for plain http"
    return following, problem


def _redirected(method: str, status: int, call: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The method and request of the next hop (``requests``' rules; its params are in the
    URL already)."""
    call = {k: v for k, v in call.items() if k != "params"}
    to_get = (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST")
    if not to_get:
        return method, call
    call = {k: v for k, v in call.items() if k not in ("json", "data", "files")}
    if call.get("headers"):
        call["headers"] = {k: v for k, v in call["headers"].items() if k.lower() != "content-type"}
    return "GET", call
