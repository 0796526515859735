"""The store transport connects only where the address rule allows, on every platform.

Real HTTP(S) servers on loopback stand in for stores; a fake DNS (``socket.getaddrinfo``
monkeypatched) gives names to them and to private addresses nothing listens on, so no
request leaves this machine. The servers are on 127.0.0.1, which the rule refuses: the
tests that need a "public" store use ``_LoopbackIsPublic``, a transport that lets
127.0.0.1 (and only it) pass, so the look-up, the pinning and every other address are the
real ones.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from feedsync.adapters.addresses import SockAddr, first_refused
from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.registry import PLATFORMS
from feedsync.platforms.spec import ConnectorSetup
from feedsync.platforms.transport import HttpTransport, Outcome
from feedsync_local.httpserver import LoopbackServer, QuietHandler

if TYPE_CHECKING:  # fixtures' types; conftest is not importable by name in a full run
    from conftest import Cert

# What the fake DNS answers; other names fail to resolve (no real look-up ever happens).
NAMES = {
    "shop.example": ["127.0.0.1"],
    "other.example": ["127.0.0.1"],
    "localhost": ["127.0.0.1"],
    "xn--bcher-kva.example": ["127.0.0.1"],  # bücher.example
    "metadata.example": ["169.254.169.254"],
    "intranet.example": ["10.1.2.3"],
    "nat64.example": ["64:ff9b::a9fe:a9fe"],  # 169.254.169.254 through NAT64
    # A rebinding name: the store's address the first time, then one the rule refuses
    # (127.0.0.2: loopback, where nothing listens, so even a mistake stays on this machine).
    "rebind.example": ["127.0.0.1", "127.0.0.2"],
}


class _Store(QuietHandler):
    """``/to?url=U[&status=S]`` redirects to U (302 unless S); ``/hops/N`` redirects N
    times before ``/ok``; ``/platform/...`` refuses the credentials (401); anything else
    answers 200 with what it received. Every request is recorded on the server."""

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = {
            "method": method,
            "path": self.path,
            "host": self.headers.get("Host"),
            "auth": self.headers.get("Authorization"),
            "token": self.headers.get("X-Token"),
            "body": self.rfile.read(length).decode() if length else "",
        }
        self.server.seen.append(seen)  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/to":
            self._answer(int(query.get("status", ["302"])[0]), b"", query["url"][0])
        elif parts.path.startswith("/hops/"):
            left = int(parts.path.rsplit("/", 1)[1])
            self._answer(302, b"", f"/hops/{left - 1}" if left else "/ok")
        elif parts.path.startswith("/platform"):
            self._answer(401, b'{"errors": "denied"}')
        else:
            self._answer(200, json.dumps(seen).encode())

    def _answer(self, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(context: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(("127.0.0.1", 0), _Store)
    server.seen = []  # type: ignore[attr-defined]
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def _store_server() -> Iterator[LoopbackServer]:
    yield from _serve()


@pytest.fixture(scope="module")
def _other_server() -> Iterator[LoopbackServer]:
    yield from _serve()


@pytest.fixture(scope="module")
def _tls_server(cert: Cert) -> Iterator[LoopbackServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_file)
    yield from _serve(context)


def _fresh(server: LoopbackServer) -> tuple[int, list[dict[str, Any]]]:
    server.seen.clear()  # type: ignore[attr-defined]
    return int(server.server_address[1]), server.seen  # type: ignore[attr-defined]


@pytest.fixture
def store(_store_server: LoopbackServer) -> tuple[int, list[dict[str, Any]]]:
    """The store's port and the requests it received."""
    return _fresh(_store_server)


@pytest.fixture
def other(_other_server: LoopbackServer) -> tuple[int, list[dict[str, Any]]]:
    """Another origin: a second server's port and the requests it received."""
    return _fresh(_other_server)


@pytest.fixture
def tls_store(_tls_server: LoopbackServer) -> tuple[int, list[dict[str, Any]]]:
    return _fresh(_tls_server)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``NAMES`` resolve as listed (a rebinding name moves on after its first answer), IP
    literals as themselves, nothing else; every look-up is recorded."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def answer(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        answers = NAMES.get(host, [host])
        numeric = answers[min(lookups.count(host), len(answers) - 1)]
        lookups.append(host)
        return real(numeric, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    return lookups


class _LoopbackIsPublic(HttpTransport):
    """A deployment's transport for which this machine's test servers (127.0.0.1, and no
    other address) stand in for public stores."""

    def refused(self, host: str, addresses: list[tuple[Any, SockAddr]]) -> str | None:
        return first_refused(host, [a for a in addresses if a[1][0] != "127.0.0.1"])


def _json(response: requests.Response) -> Outcome:
    if response.status_code == 200:
        return Outcome.ok(response.json())
    return Outcome.fatal(StoreRequestError(f"HTTP {response.status_code}"))


def _deployment(session: requests.Session | None = None) -> HttpTransport:
    return _LoopbackIsPublic("Test store", session=session, sleep=_no_sleep)


def _local(session: requests.Session | None = None) -> HttpTransport:
    return HttpTransport("Test store", session=session, sleep=_no_sleep, allow_private=True)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"no test here retries, yet it waited {seconds} s")


CREDENTIALS: dict[str, Any] = {"headers": {"X-Token": "secret"}, "auth": ("ck", "cs")}


# -- the store URL itself ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "127.0.0.1 resolves to 127.0.0.1, a loopback address"),
        ("[::ffff:127.0.0.1]", "resolves to ::ffff:7f00:1, an IPv4-mapped address for 127.0.0.1"),
        ("metadata.example", "resolves to 169.254.169.254, a link-local address"),
        ("nat64.example", "resolves to 64:ff9b::a9fe:a9fe, a NAT64 address for 169.254.169.254"),
    ],
)
def test_a_store_at_a_private_address_is_refused_before_any_connection(
    host: str, why: str, store: tuple[int, list[dict[str, Any]]], dns: list[str]
) -> None:
    # Given a deployment's transport (private addresses not allowed) and a store URL whose
    # host is, or resolves to, a loopback, link-local or NAT64-embedded private address
    port, seen = store
    transport = HttpTransport("Test store", sleep=_no_sleep)
    # When a request is sent
    with pytest.raises(StoreRequestError) as err:
        transport.send("GET", f"http://{host}:{port}/ok", _json, what="GET /x")
    # Then it is refused, naming the store, the address and why, and nothing was sent
    assert err.value.message.startswith("Test store: ")
    assert why in err.value.message and "only to public addresses" in err.value.message
    assert seen == [] and transport.requests_sent == 0


# -- redirects ----------------------------------------------------------------------------------
def test_a_good_redirect_is_followed_on_the_checked_address(
    store: tuple[int, list[dict[str, Any]]], dns: list[str]
) -> None:
    # Given a deployment's transport and a store whose name first resolves to its address,
    # and to a refused one on any later look-up (DNS rebinding), that redirects
    port, seen = store
    transport = _deployment()
    # When a request meets the redirect
    reply = transport.send(
        "GET", f"http://rebind.example:{port}/to?url=/ok", _json, what="GET /x", **CREDENTIALS
    )
    # Then it was followed to the answer, on the same origin with the credentials and the
    # URL's own host name
    assert reply.kind == "ok" and [s["path"] for s in seen] == ["/to?url=/ok", "/ok"]
    assert reply.body["host"] == f"rebind.example:{port}" and reply.body["token"] == "secret"
    assert reply.body["auth"] is not None and transport.requests_sent == 2
    # And both connections went to the address that was checked: the name was looked up
    # once, so the rebinding answer never came into play
    assert dns.count("rebind.example") == 1


def test_an_international_name_is_looked_up_and_sent_in_its_ascii_form(
    store: tuple[int, list[dict[str, Any]]], dns: list[str]
) -> None:
    # Given a deployment's transport and a shop under an international domain name
    port, _seen = store
    # When a request is sent
    reply = _deployment().send("GET", f"http://bücher.example:{port}/ok", _json, what="GET /x")
    # Then the name was looked up, and named to the server, as DNS and HTTP spell it
    assert reply.body["host"] == f"xn--bcher-kva.example:{port}"
    assert dns.count("xn--bcher-kva.example") == 1


@pytest.mark.parametrize(
    ("location", "why"),
    [
        (
            "http://metadata.example/latest/meta-data",
            "redirected to http://metadata.example/latest/meta-data: metadata.example "
            "resolves to 169.254.169.254, a link-local address",
        ),
        (
            "http://10.0.0.1/admin?token=x",
            "redirected to http://10.0.0.1/admin: 10.0.0.1 resolves to 10.0.0.1, a private",
        ),
        (
            "http://[64:ff9b::a00:1]:8080/",
            "redirected to http://[64:ff9b::a00:1]:8080/: 64:ff9b::a00:1 resolves to "
            "64:ff9b::a00:1, a NAT64 address for 10.0.0.1, a private address",
        ),
        (
            "http://intranet.example/",
            "intranet.example resolves to 10.1.2.3, a private address",
        ),
        (
            "ftp://shop.example/x",
            "redirected to ftp://shop.example/x: it leads to ftp:, "
            "and only http and https are followed",
        ),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_naming_the_store_and_the_hop(
    location: str, why: str, store: tuple[int, list[dict[str, Any]]], dns: list[str]
) -> None:
    # Given a deployment's transport and a (public) store that redirects to a private
    # address, or away from http(s)
    port, seen = store
    url = f"http://shop.example:{port}/to?" + requests.compat.urlencode({"url": location})
    # When a request meets the redirect
    with pytest.raises(StoreRequestError) as err:
        _deployment().send("GET", url, _json, what="GET /x", **CREDENTIALS)
    # Then it stops there: a named error naming the store, the request and the hop (without
    # its query), and no request went anywhere but the store
    assert err.value.message.startswith("Test store: GET /x was redirected to ")
    assert why in err.value.message, err.value.message
    assert "token=x" not in err.value.message and len(seen) == 1


@pytest.mark.parametrize("mode", ["local stack", "deployment"])
def test_a_redirect_from_https_to_http_is_refused(
    mode: str,
    cert: Cert,
    tls_store: tuple[int, list[dict[str, Any]]],
    store: tuple[int, list[dict[str, Any]]],
    dns: list[str],
) -> None:
    # Given a store on https (its certificate trusted) that redirects to plain http, even
    # to its own host
    tls_port, tls_seen = tls_store
    port, seen = store
    session = requests.Session()
    session.trust_env = False
    session.verify = cert.ca_file
    transport = _local(session) if mode == "local stack" else _deployment(session)
    target = f"http://localhost:{port}/ok"
    # When a request meets the redirect
    with pytest.raises(StoreRequestError) as err:
        transport.send("GET", f"https://localhost:{tls_port}/to?url={target}", _json, what="GET /x")
    # Then it is refused (in every mode), and nothing went over plain http
    assert err.value.message == (
        f"Test store: GET /x was redirected to {target}: it leaves https for plain http; "
        "feedsync does not follow it"
    )
    assert len(tls_seen) == 1 and seen == []


def test_five_redirects_are_followed_and_a_sixth_is_refused(
    store: tuple[int, list[dict[str, Any]]],
) -> None:
    # Given a store whose answers lie behind five, and six, redirects
    port, seen = store
    transport = _local()
    # When each is asked for
    reply = transport.send("GET", f"http://127.0.0.1:{port}/hops/4", _json, what="GET /x")
    with pytest.raises(StoreRequestError) as err:
        transport.send("GET", f"http://127.0.0.1:{port}/hops/5", _json, what="GET /y")
    # Then five were followed, and the sixth refused naming the store and the hop
    assert reply.kind == "ok" and reply.body["path"] == "/ok"
    assert err.value.message == (
        f"Test store: GET /y was redirected more than 5 times "
        f"(the last time to http://127.0.0.1:{port}/ok)"
    )
    assert len(seen) == 6 + 6 and transport.requests_sent == 12


def test_credentials_do_not_follow_a_redirect_to_another_origin(
    store: tuple[int, list[dict[str, Any]]],
    other: tuple[int, list[dict[str, Any]]],
    dns: list[str],
) -> None:
    # Given a store that redirects to another (public) origin
    port, seen = store
    other_port, other_seen = other
    location = f"http://other.example:{other_port}/ok"
    # When a request with the store's credentials meets the redirect
    reply = _deployment().send(
        "GET", f"http://shop.example:{port}/to?url={location}", _json, what="GET /x", **CREDENTIALS
    )
    # Then the other origin got the request without them, under its own name
    assert seen[0]["token"] == "secret" and seen[0]["auth"] is not None
    assert other_seen == [reply.body]
    assert reply.body["host"] == f"other.example:{other_port}"
    assert reply.body["token"] is None and reply.body["auth"] is None


@pytest.mark.parametrize(
    ("status", "method", "body"), [(307, "POST", '{"a": 1}'), (308, "POST", '{"a": 1}'),
                                   (303, "GET", ""), (302, "GET", "")]
)  # fmt: skip
def test_a_post_is_repeated_on_307_and_308_and_becomes_a_get_on_302_and_303(
    status: int, method: str, body: str, store: tuple[int, list[dict[str, Any]]]
) -> None:
    # Given a store that redirects a POST with the given status
    port, _seen = store
    url = f"http://127.0.0.1:{port}/to?status={status}&url=/ok"
    # When a JSON body is posted
    reply = _local().send("POST", url, _json, what="POST /x", json_body={"a": 1})
    # Then the next hop is what HTTP says: the same request, or a GET without the body
    assert (reply.body["method"], reply.body["body"]) == (method, body)


# -- every platform's connector -------------------------------------------------------------
# Values of the right form for the options a platform requires.
REQUIRED_OPTIONS = {"seller_id": "A2FEEDSYNCSELLER", "marketplace_id": "ATVPDKIKX0DER"}


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_every_platform_connects_to_a_private_address_only_when_allowed(
    name: str, store: tuple[int, list[dict[str, Any]]], dns: list[str]
) -> None:
    # Given a store of the platform on a loopback address
    port, seen = store
    spec = PLATFORMS[name]
    credentials = {field: "x" for field in spec.credential_fields}
    options = {option: REQUIRED_OPTIONS[option] for option in spec.required_options}

    def connector(url: str, allow_private: bool) -> Any:
        # (a token endpoint of its own is the store's too, where private URLs are allowed)
        token = (
            {"token_url": f"{url}/token"} if allow_private and "token_url" in spec.options else {}
        )
        setup = ConnectorSetup(
            url, credentials, {**options, **token}, allow_private=allow_private, sleep=_no_sleep
        )
        return spec.connector(setup)

    # When a deployment's connector (built as the composition root builds it) reads it
    with pytest.raises(StoreRequestError) as err:
        list(connector(f"https://127.0.0.1:{port}/platform", False).iter_variants())
    # Then nothing is sent: the address is refused
    assert "127.0.0.1 resolves to 127.0.0.1, a loopback address" in err.value.message
    assert seen == []
    # And the local stack's connector (allow_private) reaches it (which refuses the key)
    with pytest.raises(StoreAuthError):
        list(connector(f"http://127.0.0.1:{port}/platform", True).iter_variants())
    assert seen and all(s["path"].startswith("/platform/") for s in seen)
