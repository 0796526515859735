"""The one address rule: where feedsync may connect (supplier servers and stores alike)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from feedsync.adapters.addresses import AddressRules, embedded_ipv4, first_refused, refusal
from feedsync.adapters.ftp_source import FtpSourceFetcher
from feedsync.adapters.http_source import HttpSourceFetcher
from feedsync.errors import SourceError

REFUSED = [
    # IPv4: this host, private, loopback, link-local (metadata), CGNAT, multicast, reserved
    ("0.0.0.0", "the unspecified address"),
    ("10.0.0.1", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("169.254.169.254", "a link-local address"),
    ("100.64.0.1", "not a public address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("240.0.0.1", "a private address"),
    ("255.255.255.255", "a private address"),
    ("192.0.2.10", "a private address"),  # documentation
    # IPv6 of its own: unspecified, loopback, unique-local, link-local, site-local, multicast
    ("::", "the unspecified address"),
    ("::1", "a loopback address"),
    ("fd00:ec2::254", "a private address"),  # the EC2 metadata service over IPv6
    ("fc00::1", "a private address"),
    ("fe80::1", "a link-local address"),
    ("fec0::1", "a site-local address"),
    ("ff02::1", "a multicast address"),
    ("ff0e::1", "a multicast address"),
    ("2001:db8::1", "a private address"),  # documentation
    ("100::1", "a private address"),  # discard-only
    # IPv6 that reaches an IPv4 address: judged by that address
    ("64:ff9b::a00:1", "a NAT64 address for 10.0.0.1, a private address"),
    ("64:ff9b::7f00:1", "a NAT64 address for 127.0.0.1, a loopback address"),
    ("64:ff9b::a9fe:a9fe", "a NAT64 address for 169.254.169.254, a link-local address"),
    ("64:ff9b::c0a8:101", "a NAT64 address for 192.168.1.1, a private address"),
    ("64:ff9b::6440:1", "a NAT64 address for 100.64.0.1, not a public address"),
    ("::ffff:10.0.0.1", "an IPv4-mapped address for 10.0.0.1, a private address"),
    ("::ffff:127.0.0.1", "an IPv4-mapped address for 127.0.0.1, a loopback address"),
    ("::ffff:169.254.169.254", "an IPv4-mapped address for 169.254.169.254, a link-local"),
    ("::ffff:0:a00:1", "an IPv4-translated address for 10.0.0.1, a private address"),
    ("2002:a00:1::", "a 6to4 address for 10.0.0.1, a private address"),
    ("2002:7f00:1::1", "a 6to4 address for 127.0.0.1, a loopback address"),
    ("2002:a9fe:a9fe::", "a 6to4 address for 169.254.169.254, a link-local address"),
    # forms whose IPv4 address the IPv6 one does not tell: refused outright
    ("64:ff9b:1::a00:1", "a local-use NAT64 address"),
    ("64:ff9b:1:ffff::808:808", "a local-use NAT64 address"),
    ("::a00:1", "an IPv4-compatible address"),
    ("::808:808", "an IPv4-compatible address"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo tunnel address"),
]

ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8: an IPv6-only network's way to a public host
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_a_non_public_address_is_refused_with_the_reason(address: str, why: str) -> None:
    # Given an address that is not public, or an IPv6 form that reaches one
    # When the rule is asked, Then it refuses, saying why
    reason = refusal(ipaddress.ip_address(address))
    assert reason is not None and reason.startswith(why), reason


@pytest.mark.parametrize("address", ALLOWED)
def test_a_public_address_is_allowed(address: str) -> None:
    # Given a public address (an IPv6 form reaching a public IPv4 one included)
    # When the rule is asked, Then feedsync may connect to it
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("address", "ipv4"),
    [
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("::ffff:192.168.0.1", "192.168.0.1"),
        ("::ffff:0:c0a8:1", "192.168.0.1"),
        ("2002:c0a8:1:abcd::1", "192.168.0.1"),
        ("2606:4700::1", None),
        ("64:ff9b:1::a00:1", None),  # its IPv4 address depends on a prefix length unknown here
    ],
)
def test_the_ipv4_address_an_ipv6_address_carries_is_read(address: str, ipv4: str | None) -> None:
    # Given an IPv6 address, Then the IPv4 address it reaches (if it tells one) is read
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert (None if found is None else str(found[1])) == ipv4


def test_a_scoped_link_local_address_is_refused() -> None:
    # Given a link-local address with its interface (as getaddrinfo may answer it)
    # Then the scope does not hide it
    assert first_refused("router", [(socket.AF_INET6, ("fe80::1%1", 443, 0, 1))]) == (
        "router resolves to fe80::1, a link-local address (where cloud instance metadata lives)"
    )
    assert refusal(ipaddress.ip_address("fe80::1%eth0")) is not None


def test_one_private_answer_refuses_the_host() -> None:
    # Given a name with a public and a private address (the connection could take either)
    answers: list[tuple[socket.AddressFamily, Any]] = [
        (socket.AF_INET, ("93.184.216.34", 443)),
        (socket.AF_INET6, ("64:ff9b::a00:1", 443, 0, 0)),
    ]
    # Then the host is refused, naming the private one
    assert first_refused("shop.example", answers) == (
        "shop.example resolves to 64:ff9b::a00:1, a NAT64 address for 10.0.0.1, a private address"
    )
    assert first_refused("shop.example", answers[:1]) is None


def test_store_url_rules_look_the_name_up_unless_private_addresses_are_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a name that resolves to the metadata address through NAT64
    lookups: list[str] = []

    def dns(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::a9fe:a9fe", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # When a deployment checks a URL on it, Then it is refused
    assert AddressRules(allow_private=False).refusal("https://meta.example:8443/x") == (
        "meta.example resolves to 64:ff9b::a9fe:a9fe, a NAT64 address for 169.254.169.254, "
        "a link-local address (where cloud instance metadata lives)"
    )
    assert lookups == ["meta.example"]
    # And the local stack does not even look it up
    assert AddressRules(allow_private=True).refusal("https://meta.example/x") is None
    assert lookups == ["meta.example"]


def test_a_name_that_does_not_resolve_is_left_to_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a name DNS does not know (now)
    def dns(host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # Then the URL is not refused for it: the connection looks it up (and checks) again
    assert AddressRules(allow_private=False).refusal("https://new-shop.example") is None


@pytest.fixture
def nat64_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name resolves to 64:ff9b::a9fe:a9fe (the metadata address through NAT64)."""
    lookups: list[str] = []

    def dns(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::a9fe:a9fe", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return lookups


def test_the_supplier_fetchers_ask_the_same_rule(nat64_dns: list[str], tmp_path: Any) -> None:
    # Given a supplier host whose name resolves to a NAT64 address embedding the metadata
    # service's address
    # When a deployment's URL and FTP fetchers are asked for a file there
    with pytest.raises(SourceError) as by_url:
        HttpSourceFetcher().fetch_url("https://feed.example/stock.csv", str(tmp_path))
    with pytest.raises(SourceError) as by_ftp:
        FtpSourceFetcher().fetch(
            "feed.example", 21, "/stock.csv", "u", "p", tls="none", dest_dir=str(tmp_path)
        )
    # Then both refuse it by the embedded address, before connecting
    for err in (by_url, by_ftp):
        assert (
            "feed.example resolves to 64:ff9b::a9fe:a9fe, a NAT64 address for 169.254.169.254, "
            "a link-local address" in err.value.message
        ), err.value.message
    assert nat64_dns == ["feed.example", "feed.example"]
