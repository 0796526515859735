"""Fetch a supplier file from an HTTP(S) URL, streamed to disk with a size cap."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests

from feedsync.errors import SourceError, SourceUnavailable, SourceUnchanged

_CHUNK = 1 << 20
_MAX_REDIRECTS = 5


@dataclass
class DownloadedFile:
    path: str
    file_name: str
    size: int
    etag: str | None
    last_modified: str | None
    sha256: str


class HttpSourceFetcher:
    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = 2 * 1024**3,
        session: requests.Session | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
    ) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.session = session or requests.Session()
        self.timeout = (connect_timeout_s, read_timeout_s)

    def _check_host(self, url: str) -> None:
        host = urlsplit(url).hostname
        if not host:
            raise SourceError(f"{url}: no host name in the URL")
        try:
            infos = socket.getaddrinfo(host, None)
        except socket.gaierror as exc:
            raise SourceError(f"{url}: DNS lookup of {host!r} failed ({exc.strerror})") from exc
        if self.allow_private:
            return
        for info in infos:
            addr = ipaddress.ip_address(info[4][0])
            if not addr.is_global:  # private, loopback, link-local/metadata, CGNAT, reserved
                raise SourceError(
                    f"{url}: {host} resolves to {addr}, a private/loopback address; "
                    "feedsync only fetches from public addresses"
                )

    def _get(self, url: str, headers: dict[str, str] | None = None) -> requests.Response:
        """GET following at most 5 redirects, checking every hop's address (no SSRF by redirect).

        DNS rebinding between the check and the connection remains possible; the Lambda
        should run outside a VPC with private resources (see ARCHITECTURE.md).
        """
        target = url
        for _hop in range(_MAX_REDIRECTS + 1):
            self._check_host(target)
            resp = self.session.get(
                target, stream=True, timeout=self.timeout, allow_redirects=False, headers=headers
            )
            if not resp.is_redirect:
                return resp
            location = resp.headers.get("Location", "")
            resp.close()
            target = urljoin(target, location)
        raise SourceError(f"{url}: more than {_MAX_REDIRECTS} redirects")

    def fetch_url(
        self, url: str, dest_dir: str, unchanged_since: dict[str, Any] | None = None
    ) -> DownloadedFile:
        conditional = {}
        if unchanged_since and unchanged_since.get("etag"):
            conditional["If-None-Match"] = str(unchanged_since["etag"])
        if unchanged_since and unchanged_since.get("last_modified"):
            conditional["If-Modified-Since"] = str(unchanged_since["last_modified"])
        try:
            resp = self._get(url, conditional or None)
        except requests.Timeout as exc:
            raise SourceUnavailable(f"{url}: timed out connecting") from exc
        except requests.ConnectionError as exc:
            raise SourceError(f"{url}: {_connection_problem(exc)}") from exc
        with resp:
            if resp.status_code == 304:
                raise SourceUnchanged(f"{url}: not modified since the last run")
            if resp.status_code >= 500:
                raise SourceUnavailable(f"{url}: server answered {resp.status_code} {resp.reason}")
            if resp.status_code in (401, 403):
                raise SourceError(f"{url}: access denied ({resp.status_code} {resp.reason})")
            if resp.status_code == 404:
                raise SourceError(f"{url}: file not found (404)")
            if resp.status_code >= 400:
                raise SourceError(f"{url}: server answered {resp.status_code} {resp.reason}")
            declared = int(resp.headers.get("Content-Length") or 0)
            if declared > self.max_bytes:
                raise SourceError(
                    f"{url}: file is {declared} bytes, over the {self.max_bytes} limit"
                )
            name = os.path.basename(unquote(urlsplit(resp.url).path)) or "feed.csv"
            path = os.path.join(dest_dir, "download")
            digest = hashlib.sha256()
            size = 0
            try:
                with open(path, "wb") as out:
                    for chunk in resp.iter_content(_CHUNK):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise SourceError(
                                f"{url}: file exceeds the {self.max_bytes} byte limit"
                            )
                        digest.update(chunk)
                        out.write(chunk)
            except requests.RequestException as exc:
                raise SourceUnavailable(
                    f"{url}: download interrupted ({exc.__class__.__name__})"
                ) from exc
            return DownloadedFile(
                path=path,
                file_name=name,
                size=size,
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
                sha256=digest.hexdigest(),
            )


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
