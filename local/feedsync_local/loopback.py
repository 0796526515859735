"""``feedsync serve --loopback-only``: this process connects to and looks up loopback only.

The local stack allows private addresses (its stores and supplier servers are loopback
doubles), so a store URL or a supplier URL a fuzzer makes up (``https://0.com``) would be
fetched for real. With this guard every outbound path in the process (the store connectors,
the supplier fetchers, FTP, SFTP, a catalog import in the background) is refused before it
leaves the machine: a Python audit hook sees every socket ``connect``/``sendto`` and every
name lookup, whatever library makes it. Audit hooks cannot be removed: the process keeps
the rule until it exits.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_installed = False


def is_loopback_host(host: object) -> bool:
    """Whether ``host`` (a name or an address, str or bytes) can only mean this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard / loopback of a local server
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in _NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _refused(address: object) -> str | None:
    """Why a socket address is not allowed (None: it is loopback or a local socket)."""
    if not (isinstance(address, tuple) and address and isinstance(address[0], str | bytes)):
        return None  # a Unix socket path, a netlink pair: nothing leaves the machine
    if is_loopback_host(address[0]):
        return None
    return f"{address[0]!r} is not a loopback address"


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if not is_loopback_host(args[0]):
            raise socket.gaierror(socket.EAI_NONAME, f"loopback only: {args[0]!r} is not loopback")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        why = _refused(args[1] if len(args) > 1 else None)
        if why is not None:
            raise ConnectionRefusedError(f"loopback only: {why}")


def confine_to_loopback() -> None:
    """Refuse, from now on, every connection and name lookup that is not loopback."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
