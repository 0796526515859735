"""Where feedsync may connect: the one address rule for supplier servers and stores.

A deployment connects only to public addresses (the local stack, whose servers and
store doubles run on loopback, is the one exception: ``allow_private``). ``refusal`` is
the rule; the supplier fetchers (``http_source.resolve``), the store transport
(``platforms.transport``) and ``POST /stores`` (``AddressRules``) all ask it, about every
address a host name resolves to, and then connect to exactly the address they checked
(``PinnedAdapter``), so a second DNS answer cannot swap a private one in.

IPv6 addresses that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated
``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4 ``2002:AABB:CCDD::``) reach that
IPv4 address, so they are judged by it. Forms whose IPv4 address cannot be told from the
IPv6 one alone (the local-use NAT64 prefix ``64:ff9b:1::/48``, whose length the operator
chooses; deprecated IPv4-compatible ``::a.b.c.d``; Teredo ``2001::/32``) are refused.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SockAddr = tuple[Any, ...]

_MAPPED: Final = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_LOCAL_NAT64: Final = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")
_TEREDO: Final = ipaddress.IPv6Network("2001::/32")
_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address reaches, with the form's name; None if none."""
    for form, network in (
        ("an IPv4-mapped address", _MAPPED),
        ("an IPv4-translated address", _TRANSLATED),
        ("a NAT64 address", _NAT64),
    ):
        if address in network:
            return form, ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return "a 6to4 address", ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why feedsync may not connect to ``address`` (None: it is public, it may).

    The one rule: loopback, private, link-local (cloud metadata), carrier-grade NAT,
    multicast, reserved and documentation ranges are refused, and an IPv6 address that
    carries an IPv4 one is judged by the IPv4 address it reaches.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        embedded = embedded_ipv4(address)
        if embedded is not None:
            form, ipv4 = embedded
            why = refusal(ipv4)
            return None if why is None else f"{form} for {ipv4}, {why}"
        if address in _LOCAL_NAT64:
            return "a local-use NAT64 address (64:ff9b:1::/48), which reaches a private network"
        if address in _TEREDO:
            return "a Teredo tunnel address"
        if address in _COMPATIBLE and int(address) > 1:
            return "an IPv4-compatible address (::a.b.c.d, deprecated)"
        if address.is_site_local:
            return "a site-local address"
    if address.is_unspecified:
        return "the unspecified address (this host)"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud instance metadata lives)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global or address.is_reserved:
        return "not a public address"
    return None


def lookup(host: str, port: int) -> list[tuple[socket.AddressFamily, SockAddr]]:
    """The host's TCP addresses, as ``socket.getaddrinfo`` gives them (its errors pass:
    ``socket.gaierror``, ``UnicodeError`` for a name that is not one)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(info[0], info[4]) for info in infos]


def first_refused(host: str, addresses: list[tuple[socket.AddressFamily, SockAddr]]) -> str | None:
    """``"<host> resolves to <address>, <why>"`` for the first refused address, else None.

    One refused address refuses the host: the connection could go to any of them.
    """
    for _family, sockaddr in addresses:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        why = refusal(address)
        if why is not None:
            return f"{host} resolves to {address}, {why}"
    return None


class AddressRules:
    """``POST /stores``' look at a store URL (``ports.AddressPolicy``)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def refusal(self, url: str) -> str | None:
        """Why feedsync may not connect to the URL's host (None: it may).

        A name that does not resolve now is not refused here: the connection checks
        again, every time.
        """
        if self.allow_private:
            return None
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            return "the URL has no host name"
        port = parts.port or (80 if parts.scheme == "http" else 443)
        try:
            addresses = lookup(host, port)
        except UnicodeError:
            return f"{host!r} is not a valid host name"
        except OSError:
            return None
        return first_refused(host, addresses)


# -- connecting to the checked address ---------------------------------------------------


class PinnedAdapter(HTTPAdapter):
    """Connects to the address that passed the check, not to a second DNS answer; TLS
    still sends and verifies the URL's own host name (SNI)."""

    def __init__(self, server_hostname: str) -> None:
        self.server_hostname = server_hostname
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        # urllib3 drops TLS-only keywords (this one included) for plain-http pools.
        pool_kwargs["server_hostname"] = self.server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def ascii_url(url: str) -> str:
    """``url`` with an international host name in its ASCII (punycode) form.

    DNS, the ``Host`` header and the TLS name all take the ASCII form; a name IDNA cannot
    encode raises ``ValueError`` naming it, so each caller can say which URL it was.
    """
    host = urlsplit(url).hostname or ""
    if host.isascii():
        return url
    try:
        prepared = requests.Request("GET", url).prepare().url
    except requests.exceptions.InvalidURL as exc:
        raise ValueError(f"{host!r} is not a valid host name") from exc
    return prepared or url


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: where credentials may go (the URL's own origin only)."""
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or DEFAULT_PORTS.get(parts.scheme),
    )


def redirect_target(current: str, location: str) -> tuple[str, str | None]:
    """Where a redirect from ``current`` leads, and why it is not followed (None: it is).

    The one hop rule of the supplier fetcher and the store transport: a ``Location`` that
    is no usable http(s) URL (``http://host:99999/f.csv``, ``http://[::1``, ``ftp:``, empty)
    is named here, before urllib's bare ``ValueError`` could surface from the next hop.
    """
    try:
        target = urljoin(current, location)
        parts = urlsplit(target)
    except ValueError:  # unbalanced [ ] around an IPv6 address, and the like
        return "", "it is not a valid URL"
    if not location.strip():
        return target, "it is empty or missing"
    if parts.scheme not in DEFAULT_PORTS:
        return target, f"it leads to {parts.scheme}:, and only http and https are followed"
    if not parts.hostname:
        return target, "it has no host name"
    try:
        bad_port = parts.port == 0
    except ValueError:  # out of range or not a number
        bad_port = True
    if bad_port:
        return target, "its port is not a number from 1 to 65535"
    return target, None


def pinned(url: str, sockaddr: SockAddr) -> tuple[str, str, str]:
    """``url`` aimed at the checked address: (request URL, Host header, adapter prefix)."""
    parts = urlsplit(url)
    ip = str(sockaddr[0])
    literal = f"[{ip}]" if ":" in ip else ip
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    netloc = literal if port == default_port else f"{literal}:{port}"
    host = parts.hostname or ""
    host_header = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != default_port:
        host_header = f"{host_header}:{parts.port}"
    request_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return request_url, host_header, f"{parts.scheme}://{netloc}/"
