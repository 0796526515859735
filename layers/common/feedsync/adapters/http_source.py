"""Fetch a supplier file from an HTTP(S) URL, streamed to disk with a size cap.

Also the pieces the FTP and SFTP fetchers share: the downloaded-file record, the
private-address policy, connecting with errors a merchant can act on, the size-capped
sink, newest-match glob selection and secret redaction.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.models import REDIRECT_STATI

from feedsync.adapters.addresses import PinnedAdapter as _PinnedAdapter
from feedsync.adapters.addresses import (
    ascii_url,
    first_refused,
    lookup,
    origin,
    redirect_target,
)
from feedsync.adapters.addresses import pinned as _pinned
from feedsync.domain.source_state import ProbedSource
from feedsync.errors import (
    FeedsyncError,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceTooLarge,
    SourceUnavailable,
    SourceUnchanged,
    shorten,
)

_CHUNK = 1 << 20
_MAX_REDIRECTS = 5
_GLOB_CHARS = frozenset("*?[")


@dataclass
class DownloadedFile:
    path: str
    file_name: str
    size: int
    etag: str | None
    last_modified: str | None
    sha256: str
    # FTP/SFTP: the file actually taken (the newest match when the profile's path is a glob).
    remote_path: str | None = None
    # FTP/SFTP: its modification time on the server (Unix seconds; None: not given).
    mtime: float | None = None


# -- shared by the HTTP, FTP and SFTP fetchers -------------------------------------------


def resolve(
    host: str, port: int, *, allow_private: bool, where: str
) -> list[tuple[socket.AddressFamily, Any]]:
    """The host's addresses, refusing any ``addresses.refusal`` refuses unless allowed.

    Callers connect to exactly these addresses, so a second DNS answer cannot swap in a
    private address after the check.
    """
    try:
        found = lookup(host, port)
    except socket.gaierror as exc:
        raise SourceError(f"{where}: DNS lookup of {host!r} failed ({exc.strerror})") from exc
    except UnicodeError as exc:
        raise SourceError(f"{where}: {host!r} is not a valid host name") from exc
    if not allow_private:
        refused = first_refused(host, found)
        if refused is not None:
            raise SourceError(f"{where}: {refused}; feedsync only fetches from public addresses")
    return found


def connect(
    host: str, port: int, *, allow_private: bool, timeout_s: float, where: str
) -> socket.socket:
    """A TCP connection to ``host``; every failure names its cause (DNS, refused, timeout)."""
    last: OSError | None = None
    for family, sockaddr in resolve(host, port, allow_private=allow_private, where=where):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    if isinstance(last, TimeoutError):
        raise SourceUnavailable(
            f"{where}: timed out connecting to {host} port {port} after {timeout_s:g}s"
        ) from last
    if isinstance(last, ConnectionRefusedError):
        raise SourceError(
            f"{where}: connection refused by {host} port {port} "
            "(is the server running on that port?)"
        ) from last
    reason = last.strerror if last and last.strerror else "no address"
    raise SourceError(f"{where}: cannot connect to {host} port {port} ({reason})") from last


def is_glob(path: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in path)


def split_remote(path: str, where: str) -> tuple[str, str]:
    """(directory, file name or pattern); only the file name may hold a glob."""
    directory, _, name = path.rpartition("/")
    if is_glob(directory):
        raise SourceError(f"{where}: only the file name may contain * ? or [ ] (not the folder)")
    if not name:
        raise SourceError(f"{where}: the path names a folder, not a file")
    return directory or ("/" if path.startswith("/") else "."), name


def newest(
    entries: Iterable[tuple[str, float, int | None]], pattern: str
) -> tuple[str, float, int | None] | None:
    """The newest (by modification time, then name) of ``(name, mtime, size)`` matching."""
    matches = [e for e in entries if fnmatch.fnmatchcase(e[0], pattern)]
    return max(matches, key=lambda e: (e[1], e[0])) if matches else None


def http_date(mtime: float | None) -> str | None:
    return formatdate(mtime, usegmt=True) if mtime is not None else None


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= 3:  # a 1-2 character "secret" would mangle every message
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, "***")
    return text


def reraise_redacted(exc: FeedsyncError, secrets: Iterable[str]) -> None:
    """Raise ``exc`` again, without a secret anywhere in its message or its cause chain."""
    secrets = [s for s in secrets if s]
    clean = redact(exc.message, secrets)
    chained: BaseException | None = exc.__cause__ or exc.__context__
    leaky = False
    for _ in range(10):
        if chained is None:
            break
        if redact(str(chained), secrets) != str(chained):
            leaky = True
            break
        chained = chained.__cause__ or chained.__context__
    if clean == exc.message and not leaky:
        raise exc
    try:
        fresh = type(exc)(clean)
    except TypeError:  # an error class with a richer constructor
        fresh = SourceError(clean)
    raise fresh from None


class TransferDeadline(SourceUnavailable):
    """A transfer with a wall-clock limit (a preview's, a probe's hash) went past it."""


class Deadline:
    """A wall-clock limit across a whole transfer: per-read timeouts bound a slow read, not a
    server that trickles a byte just inside each one. The time left caps every read's
    timeout and every chunk is checked against it. ``seconds`` None: no limit."""

    def __init__(
        self, seconds: float | None, where: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds, self.where, self._clock = seconds, where, clock
        self._ends = None if seconds is None else clock() + seconds

    @property
    def limited(self) -> bool:
        return self._ends is not None

    def read_timeout(self, read_s: float) -> float:
        """A read's timeout: ``read_s``, or the time left when that is less."""
        if self._ends is None:
            return read_s
        return max(min(read_s, self._ends - self._clock()), 0.001)

    def passed(self) -> bool:
        return self._ends is not None and self._clock() >= self._ends

    def check(self) -> None:
        if self.passed():
            raise self.error()

    def naming(self, where: str) -> Deadline:
        """The same limit, its error naming ``where``."""
        named = Deadline(None, where, self._clock)
        named.seconds, named._ends = self.seconds, self._ends
        return named

    def error(self) -> TransferDeadline:
        return TransferDeadline(
            f"{self.where}: the server did not send the file within {self.seconds:g} s"
        )


NO_DEADLINE = Deadline(None, "")


class Watchdog:
    """Cuts a server connection's sockets when the deadline passes. A server that trickles
    its greeting, handshake or login answers a byte inside each read timeout is stopped at
    the deadline too (per-read timeouts alone never fire), and the failure that follows is
    reported as the deadline's. No deadline: it does nothing."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self.fired = False

    def watch(self, sock: socket.socket) -> socket.socket:
        self._sockets.append(sock)
        if self.fired:
            self._cut()
        return sock

    def _cut(self) -> None:
        self.fired = True
        for sock in self._sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        if self.deadline._ends is not None:
            left = max(self.deadline._ends - self.deadline._clock(), 0.0)
            self._timer = threading.Timer(left, self._cut)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        # A failure the cut caused (connection lost, no greeting) is the deadline's.
        caused = isinstance(exc, FeedsyncError) and not isinstance(exc, TransferDeadline)
        if caused and self.passed():
            raise self.deadline.error() from exc

    def passed(self) -> bool:
        """The deadline cut the connection (or has passed): the failure is its doing."""
        return self.fired or self.deadline.passed()


class CappedSink:
    """Write a download to ``dest_dir/download``: sha256, byte count, the size cap and the
    deadline (if any)."""

    def __init__(
        self, dest_dir: str, max_bytes: int, where: str, deadline: Deadline = NO_DEADLINE
    ) -> None:
        self.path = os.path.join(dest_dir, "download")
        self.max_bytes = max_bytes
        self.where = where
        self.deadline = deadline
        self.size = 0
        self.digest = hashlib.sha256()
        self._out = open(self.path, "wb")  # noqa: SIM115 - closed in __exit__

    def write(self, chunk: bytes) -> None:
        self.deadline.check()
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise SourceTooLarge(
                f"{self.where}: file exceeds the {self.max_bytes} byte limit; download stopped"
            )
        self.digest.update(chunk)
        self._out.write(chunk)

    def __enter__(self) -> CappedSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._out.close()
        if exc is not None:  # no partial file left for anyone to upload by mistake
            os.unlink(self.path)


class HashSink:
    """A download hashed as it streams and kept nowhere (a probe's sha256), size-capped."""

    def __init__(self, max_bytes: int, where: str, deadline: Deadline = NO_DEADLINE) -> None:
        self.max_bytes = max_bytes
        self.where = where
        self.deadline = deadline
        self.size = 0
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.deadline.check()
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise SourceTooLarge(
                f"{self.where}: file exceeds the {self.max_bytes} byte limit; download stopped"
            )
        self.digest.update(chunk)


def check_declared_size(size: int | None, max_bytes: int, where: str) -> None:
    if size is not None and size > max_bytes:
        raise SourceTooLarge(f"{where}: file is {size} bytes, over the {max_bytes} byte limit")


# -- HTTP --------------------------------------------------------------------------------


@dataclass
class _Auth:
    headers: dict[str, str] = field(default_factory=dict)
    query: tuple[str, str] | None = None
    secrets: list[str] = field(default_factory=list)


def _value(auth: Mapping[str, str], *keys: str) -> str:
    for key in keys:
        if auth.get(key):
            return str(auth[key])
    return ""


def _parse_auth(auth: Mapping[str, str] | None, where: str) -> _Auth:
    """``auth`` as the pipeline passes it: ``type`` (or ``kind``) and the values.

    basic: username (or user), password - bearer: token - header: name, value (or token)
    - query: param (or name), value (or token).
    """
    if not auth:
        return _Auth()
    kind = _value(auth, "type", "kind")
    if kind == "basic":
        user, password = _value(auth, "username", "user"), _value(auth, "password")
        if not user or ":" in user:
            raise SourceError(f"{where}: basic auth needs a user name without ':'")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        return _Auth({"Authorization": f"Basic {encoded}"}, None, [password, encoded])
    if kind == "bearer":
        token = _value(auth, "token", "value")
        if not token:
            raise SourceError(f"{where}: bearer auth has no token")
        _check_header_value(token, "the bearer token", where)
        return _Auth({"Authorization": f"Bearer {token}"}, None, [token])
    if kind == "header":
        name, value = _value(auth, "name", "header"), _value(auth, "value", "token")
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise SourceError(f"{where}: header auth needs a header name (letters, digits, -)")
        if not value:
            raise SourceError(f"{where}: header auth has no value for {name}")
        _check_header_value(value, f"the {name} header value", where)
        return _Auth({name: value}, None, [value])
    if kind == "query":
        param, value = _value(auth, "param", "name"), _value(auth, "value", "token")
        if not param or not value:
            raise SourceError(f"{where}: query auth needs a parameter name and a value")
        return _Auth({}, (param, value), [value])
    raise SourceError(f"{where}: unknown auth type {kind!r} (basic, bearer, header or query)")


def _check_header_value(value: str, what: str, where: str) -> None:
    # requests would reject these with the value in its message.
    if any(c in value for c in "\r\n\0") or value != value.strip():
        raise SourceError(f"{where}: {what} contains line breaks or surrounding spaces")


def _with_query(url: str, param: str, value: str) -> str:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == param for k, _ in pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode([*pairs, (param, value)])))


class ServerFetcher:
    """What every file-server fetcher (FTP, SFTP) is configured with."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = 2 * 1024**3,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        probe_hash_max_bytes: int = 256 * 1024**2,
        probe_hash_s: float = 60.0,
        total_timeout_s: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        # A probe hashes a file without a time up to this size and for at most this long;
        # a bigger or slower one cannot be told (the run's Fetch decides): a check stays
        # well inside the start function's time.
        self.probe_hash_max_bytes = probe_hash_max_bytes
        self.probe_hash_s = probe_hash_s
        # A whole download's wall-clock limit (a preview's); None: the timeouts alone.
        self.total_timeout_s = total_timeout_s

    def probed(
        self,
        remote: str,
        size: int | None,
        mtime: float | None,
        where: str,
        stream: Callable[[HashSink], None],
    ) -> ProbedSource:
        """A listed file as a probe tells it: its size and time, else (the server gives no
        time) its sha256 from ``stream``ing it into a hash, when that fits the probe's size and
        time budget; past either, size only (cannot tell: the run's Fetch decides)."""
        if mtime is not None:
            return ProbedSource(remote_path=remote, size=size, mtime=mtime)
        cap = min(self.max_bytes, self.probe_hash_max_bytes)
        if size is not None and size > cap:
            return ProbedSource(remote_path=remote, size=size)
        sink = HashSink(cap, where, Deadline(self.probe_hash_s, where))
        try:
            stream(sink)
        except TransferDeadline:  # too slow to tell within the start function's time
            return ProbedSource(remote_path=remote, size=size)
        return ProbedSource(remote_path=remote, size=sink.size, sha256=sink.digest.hexdigest())


class HttpSourceFetcher:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = 2 * 1024**3,
        session: requests.Session | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        total_timeout_s: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.session = session or requests.Session()
        self.timeout = (connect_timeout_s, read_timeout_s)
        # A whole download's wall-clock limit (a preview's); None: the timeouts alone.
        self.total_timeout_s = total_timeout_s

    def _check_host(self, url: str) -> Any:
        """The address to connect to (checked against the private-address policy)."""
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            raise SourceError(f"{url}: no host name in the URL")
        default_port = 443 if parts.scheme == "https" else 80
        addresses = resolve(
            host, parts.port or default_port, allow_private=self.allow_private, where=url
        )
        return addresses[0][1] if addresses else None

    def _get(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        auth: _Auth | None = None,
        deadline: Deadline = NO_DEADLINE,
    ) -> requests.Response:
        """GET following at most 5 redirects, checking every hop's address (no SSRF by redirect).

        Each hop connects to exactly the address that was checked (no DNS rebinding
        between the check and the connection); the Host header and TLS name stay the
        URL's own. Credentials go only to the URL's own origin (scheme, host, port): a
        redirect to another host or from https to http drops them. A redirect's body is
        never read, and a Location that is no usable http(s) URL is a ``SourceError`` naming
        the URL and the bad value (``_redirect_target``).
        """
        auth = auth or _Auth()
        target = _ascii(url, url)
        start = origin(target)
        for _hop in range(_MAX_REDIRECTS + 1):
            sockaddr = self._check_host(target)
            hop_headers = dict(headers or {})
            request_url = target
            if origin(target) == start:
                hop_headers.update(auth.headers)
                if auth.query:
                    request_url = _with_query(target, *auth.query)
            if sockaddr is not None:
                request_url, hop_headers["Host"], prefix = _pinned(request_url, sockaddr)
                self.session.mount(prefix, _PinnedAdapter(urlsplit(target).hostname or ""))
            taken: list[str] = []
            connect_s, read_s = self.timeout
            deadline.check()
            resp = self.session.get(
                request_url,
                stream=True,
                timeout=(deadline.read_timeout(connect_s), deadline.read_timeout(read_s)),
                allow_redirects=False,
                headers=hop_headers or None,
                hooks={"response": _take_location(taken)},
            )
            if resp.status_code not in REDIRECT_STATI:
                return resp
            resp.close()  # a redirect's body is never read
            location = taken[0] if taken else ""
            target = _ascii(
                url, _redirect_target(url, target, location, resp.status_code, auth.secrets)
            )
        raise SourceError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def fetch_url(
        self,
        url: str,
        dest_dir: str,
        unchanged_since: dict[str, Any] | None = None,
        auth: Mapping[str, str] | None = None,
    ) -> DownloadedFile:
        """Download ``url`` to ``dest_dir``; ``auth`` is the profile's auth with its secret."""
        parsed = _parse_auth(auth, url)
        try:
            deadline = Deadline(self.total_timeout_s, url)
            return self._fetch(url, dest_dir, unchanged_since, parsed, deadline)
        except FeedsyncError as exc:
            reraise_redacted(exc, parsed.secrets)
            raise  # unreachable: reraise_redacted always raises

    def probe_url(
        self,
        url: str,
        last: dict[str, Any] | None = None,
        auth: Mapping[str, str] | None = None,
    ) -> ProbedSource:
        """One conditional GET for the answer's headers only: a 200's body is never read
        (the connection is closed on it). Same addresses, redirects and auth as a fetch."""
        parsed = _parse_auth(auth, url)
        try:
            with self._answer(url, _conditional(last), parsed) as resp:
                if resp.status_code == 304:
                    return ProbedSource(location=url, not_modified=True)
                return ProbedSource(
                    location=url,
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                )
        except FeedsyncError as exc:
            reraise_redacted(exc, parsed.secrets)
            raise  # unreachable: reraise_redacted always raises

    def _fetch(
        self,
        url: str,
        dest_dir: str,
        unchanged_since: dict[str, Any] | None,
        auth: _Auth,
        deadline: Deadline = NO_DEADLINE,
    ) -> DownloadedFile:
        with self._answer(url, _conditional(unchanged_since), auth, deadline) as resp:
            if resp.status_code == 304:
                raise SourceUnchanged(f"{url}: not modified since the last run")
            declared = int(resp.headers.get("Content-Length") or 0)
            check_declared_size(declared, self.max_bytes, url)
            name = os.path.basename(unquote(urlsplit(resp.url).path)) or "feed.csv"
            try:
                with CappedSink(dest_dir, self.max_bytes, url, deadline) as sink:
                    for chunk in self._body(resp, deadline):
                        sink.write(chunk)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                if deadline.passed():
                    raise deadline.error() from exc
                what = "timed out" if "timed out" in str(exc).lower() else exc.__class__.__name__
                raise SourceUnavailable(f"{url}: download interrupted ({what})") from exc
            return DownloadedFile(
                path=sink.path,
                file_name=name,
                size=sink.size,
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
                sha256=sink.digest.hexdigest(),
            )

    def _body(self, resp: requests.Response, deadline: Deadline) -> Iterator[bytes]:
        """The answer's body in chunks. Under a deadline each read takes what has arrived
        (``read1``: one receive) with the time left as its timeout, so a server trickling a
        byte inside each read timeout is stopped at the deadline, not at the end of a chunk."""
        if not deadline.limited:
            yield from resp.iter_content(_CHUNK)
            return
        connection = getattr(resp.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        while True:
            if isinstance(sock, socket.socket):
                sock.settimeout(deadline.read_timeout(self.timeout[1]))
            chunk = resp.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                return
            yield chunk

    def _answer(
        self,
        url: str,
        conditional: dict[str, str],
        auth: _Auth,
        deadline: Deadline = NO_DEADLINE,
    ) -> requests.Response:
        """The server's answer, 2xx or 304 (its body unread); any other is a named error."""
        connect_s, read_s = self.timeout
        try:
            resp = self._get(url, conditional or None, auth, deadline)
        except requests.Timeout as exc:
            if deadline.passed():
                raise deadline.error() from exc
            if isinstance(exc, requests.ConnectTimeout):
                raise SourceUnavailable(
                    f"{url}: timed out connecting after {connect_s:g}s"
                ) from exc
            raise SourceUnavailable(
                f"{url}: the server accepted the connection but did not answer in {read_s:g}s"
            ) from exc
        except requests.ConnectionError as exc:
            raise SourceError(f"{url}: {_connection_problem(exc)}") from exc
        except requests.RequestException as exc:
            raise SourceError(f"{url}: request failed ({exc.__class__.__name__})") from exc
        if resp.status_code < 400:
            return resp
        with resp:
            if resp.status_code >= 500:
                raise SourceUnavailable(f"{url}: server answered {resp.status_code} {resp.reason}")
            if resp.status_code in (401, 403):
                if auth.headers or auth.query:
                    raise SourceAuthError(
                        f"{url}: the server refused the credentials "
                        f"({resp.status_code} {resp.reason})"
                    )
                raise SourceAuthError(
                    f"{url}: access denied ({resp.status_code} {resp.reason}); "
                    "the server may need credentials"
                )
            if resp.status_code in (404, 410):
                raise SourceNotFound(f"{url}: file not found ({resp.status_code})")
            raise SourceError(f"{url}: server answered {resp.status_code} {resp.reason}")


def _conditional(last: Mapping[str, Any] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last file's ETag and Last-Modified."""
    headers = {}
    if last and last.get("etag"):
        headers["If-None-Match"] = str(last["etag"])
    if last and last.get("last_modified"):
        headers["If-Modified-Since"] = str(last["last_modified"])
    return headers


def _take_location(taken: list[str]) -> Callable[..., None]:
    """A response hook that takes a redirect's Location (into ``taken``) out of requests' hands.

    Even with ``allow_redirects=False``, ``Session.send`` prepares the next request (for
    ``Response.next``) from the Location: it reads the redirect's whole body into memory,
    past any size cap, and a malformed Location escapes as a bare ``ValueError`` ("Invalid
    IPv6 URL"). Without the header the response is no redirect to requests; ``_get``
    follows it itself.
    """

    def hook(resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        if resp.status_code in REDIRECT_STATI and "Location" in resp.headers:
            raw = resp.headers.pop("Location")
            try:  # http.client decodes headers as Latin-1; servers send UTF-8
                taken.append(raw.encode("latin-1").decode("utf-8"))
            except UnicodeError:
                taken.append(raw)

    return hook


def _redirect_target(
    url: str, current: str, location: str, status: int, secrets: Iterable[str]
) -> str:
    """The absolute URL a redirect from ``current`` leads to, or a ``SourceError``.

    A Location that is no usable http(s) URL (``http://example.com:99999/f.csv``,
    ``http://[::1``, ``ftp://...``, empty or missing) fails here, naming the profile's
    ``url``, the server that sent it and the value (shortened, ``secrets`` hidden before the
    cut so no part of one is left): otherwise the next hop would fail with urllib's bare
    ``ValueError`` ("Port out of range 0-65535"), naming neither.
    """
    target, problem = redirect_target(current, location)
    if problem is None:
        return target
    sender = "the server" if current == url else f"the server at {current}"
    raise SourceError(
        f"{url}: {sender} sent a bad redirect ({status}), "
        f"Location {shorten(redact(location, secrets))} "
        f"({problem}); nothing was downloaded"
    )


def _ascii(url: str, target: str) -> str:
    """``target`` by its ASCII host name, or a ``SourceError`` naming the profile's ``url``."""
    try:
        return ascii_url(target)
    except ValueError as exc:
        raise SourceError(f"{url}: {exc}") from exc


def _connection_problem(exc: BaseException) -> str:
    """Name the cause a merchant can act on, from the exception chain."""
    seen: object = exc
    for _ in range(10):  # requests -> urllib3 -> socket; bounded in case of cycles
        if not isinstance(seen, BaseException):
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the server running on that port?)"
        if isinstance(seen, socket.gaierror):
            return "DNS lookup failed"
        if "SSL" in type(seen).__name__:
            return f"TLS handshake failed ({seen})"
        nested = seen.args[0] if seen.args else None
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "reason", None) or nested
    return f"connection failed ({exc})"
