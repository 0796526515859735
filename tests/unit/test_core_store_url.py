"""A store's API URL: the platform's own host, at a public address (the token is sent there)."""

from __future__ import annotations

import re
import socket
from typing import Any, cast

import pytest
from pydantic import ValidationError

from feedsync.adapters.addresses import AddressRules
from feedsync.core import api
from feedsync.core.deps import Deps
from feedsync.errors import InvalidRequest
from feedsync.models import CreateStore, ImportCatalogBody, Store


class _Recorder:
    """Stands in for the repository, secrets and invoker: records what the core writes."""

    def __init__(self) -> None:
        self.stores: list[Store] = []
        self.secrets: list[dict[str, str]] = []
        self.imports: list[dict[str, Any]] = []

    def put_store(self, store: Store) -> None:
        self.stores.append(store)

    def update_store(self, tenant_id: str, store_id: str, **fields: Any) -> None:
        (stored,) = [s for s in self.stores if s.store_id == store_id]
        merged = {**stored.model_dump(), **fields}
        self.stores[self.stores.index(stored)] = Store.model_validate(merged)

    def get_store(self, tenant_id: str, store_id: str) -> Store | None:
        return next((s for s in self.stores if s.store_id == store_id), None)

    def put(self, name: str, value: dict[str, str]) -> str:
        self.secrets.append(value)
        return f"arn:secret:{name}"

    def invoke_async(self, function: str, payload: dict[str, Any]) -> None:
        self.imports.append(payload)


def _deps(recorder: _Recorder, *, allow_custom: bool) -> Deps:
    """The core as the composition root builds it: one setting allows custom store URLs
    and private addresses (the local stack), and the address rule is the real one."""
    fake = cast(Any, recorder)
    return Deps(
        repo=fake,
        blobs=fake,
        secrets=fake,
        executions=fake,
        invoker=fake,
        fetcher=fake,
        connectors=fake,
        catalog_import_function="import",
        addresses=AddressRules(allow_private=allow_custom),
        allow_custom_store_urls=allow_custom,
    )


def _body(url: str) -> CreateStore:
    return CreateStore.model_validate(
        {
            "name": "Shop",
            "platform": "bigcommerce",
            "api_url": url,
            "credentials": {"access_token": "tok"},
        }
    )


# -- the address a store URL reaches ---------------------------------------------------------
# What the fake DNS answers; any other name is not looked up at all (no real network).
NAMES = {
    "api.bigcommerce.com": "93.184.216.34",
    "shop.example": "93.184.216.34",
    "intranet-shop.example": "192.168.1.5",
    "metadata.example": "169.254.169.254",
    "nat64-private.example": "64:ff9b::a00:1",  # 10.0.0.1 through NAT64
    "nat64-public.example": "64:ff9b::5db8:d822",  # 93.184.216.34 through NAT64
}


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names in ``NAMES`` resolve as listed; IP literals as themselves; lookups recorded."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def answer(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        numeric = NAMES.get(host, host)
        return real(numeric, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    return lookups


def test_the_platform_host_is_accepted_and_starts_an_import(dns: list[str]) -> None:
    # Given a deployment that allows only the platform's host
    rec = _Recorder()
    # When a store on api.bigcommerce.com is created
    store = api.create_store(
        _deps(rec, allow_custom=False), "t1", _body("https://api.bigcommerce.com/stores/abc123/v3/")
    )
    # Then it is saved (token in the secret, not the record) and its import is started
    assert store.api_url == "https://api.bigcommerce.com/stores/abc123/v3"
    assert rec.secrets == [{"access_token": "tok"}] and '"tok"' not in store.model_dump_json()
    assert rec.imports == [
        {
            "tenant_id": "t1",
            "store_id": store.store_id,
            "mode": "full",
            "since": None,
            "until": None,
        }
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://api.bigcommerce.com/stores/abc123/v3",  # not TLS
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://api.bigcommerce.com.evil.example/stores/abc123/v3",
        "http://127.0.0.1:8081/stores/abc123/v3",
    ],
)
def test_any_other_host_is_refused_naming_the_field(url: str) -> None:
    # Given a deployment that allows only the platform's host
    rec = _Recorder()
    # When a store elsewhere is created, then it is refused and nothing is stored
    with pytest.raises(InvalidRequest) as err:
        api.create_store(_deps(rec, allow_custom=False), "t1", _body(url))
    assert err.value.field == "api_url" and "api.bigcommerce.com" in err.value.message
    assert rec.stores == [] and rec.secrets == [] and rec.imports == []


def test_the_local_stack_may_use_its_sandbox_store() -> None:
    # Given the local stack (custom store URLs allowed)
    rec = _Recorder()
    # When a sandbox store on loopback is created, then it is accepted
    store = api.create_store(
        _deps(rec, allow_custom=True), "t1", _body("http://127.0.0.1:8081/stores/abc123/v3")
    )
    assert store.api_url.startswith("http://127.0.0.1:8081/")


def _shop(url: str) -> CreateStore:
    return CreateStore.model_validate(
        {
            "name": "Shop",
            "platform": "woocommerce",
            "api_url": url,
            "credentials": {"consumer_key": "ck", "consumer_secret": "cs"},
        }
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.0.0.1", r"10\.0\.0\.1, a private address"),
        ("https://169.254.169.254/latest", r"169\.254\.169\.254, a link-local address"),
        ("https://127.0.0.1:8443", r"127\.0\.0\.1, a loopback address"),
        ("https://[::1]", r"::1, a loopback address"),
        ("https://100.64.0.7", r"100\.64\.0\.7, not a public address"),  # carrier-grade NAT
        ("https://[::ffff:10.0.0.1]", r"IPv4-mapped address for 10\.0\.0\.1, a private"),
        ("https://[64:ff9b::a9fe:a9fe]", r"NAT64 address for 169\.254\.169\.254, a link-local"),
        ("https://intranet-shop.example", r"resolves to 192\.168\.1\.5, a private address"),
        ("https://metadata.example", r"resolves to 169\.254\.169\.254, a link-local"),
        ("https://nat64-private.example", r"64:ff9b::a00:1, a NAT64 address for 10\.0\.0\.1"),
    ],
)
def test_a_store_at_a_private_address_is_refused_naming_the_field_and_why(
    url: str, why: str, dns: list[str]
) -> None:
    # Given a deployment (private addresses not allowed) and a shop URL whose host is, or
    # resolves to, an address inside a private, loopback, link-local or NAT64-embedded range
    rec = _Recorder()
    # When the store is created
    with pytest.raises(InvalidRequest) as err:
        api.create_store(_deps(rec, allow_custom=False), "t1", _shop(url))
    # Then it is refused: the 422 names api_url, the address and why; nothing is stored
    assert err.value.field == "api_url"
    assert re.search(why, err.value.message), err.value.message
    assert "public addresses" in err.value.message
    assert rec.stores == [] and rec.secrets == [] and rec.imports == []


@pytest.mark.parametrize("url", ["https://shop.example", "https://nat64-public.example"])
def test_a_store_at_a_public_address_is_accepted(url: str, dns: list[str]) -> None:
    # Given a deployment and a shop whose name resolves to a public address (directly, or
    # through NAT64 to a public IPv4 address)
    rec = _Recorder()
    # When the store is created
    store = api.create_store(_deps(rec, allow_custom=False), "t1", _shop(url))
    # Then it is saved and imported, after its name was looked up
    assert store.api_url == url and len(rec.stores) == 1 and len(rec.imports) == 1
    assert dns == [url.removeprefix("https://")]


@pytest.mark.parametrize("url", ["https://10.0.0.1", "https://metadata.example"])
def test_the_local_stack_may_name_private_addresses(url: str, dns: list[str]) -> None:
    # Given the local stack (private addresses allowed)
    rec = _Recorder()
    # When a shop at a private address is created, Then it is accepted (nothing looked up)
    store = api.create_store(_deps(rec, allow_custom=True), "t1", _shop(url))
    assert store.api_url == url and dns == []


@pytest.mark.parametrize(
    ("platform", "credentials", "options", "expected"),
    [
        ("woocommerce", {"access_token": "t"}, {}, "needs credentials consumer_key"),
        ("shopify", {"access_token": "t"}, {"inventory": "adjustments"}, "BigCommerce setting"),
        ("bigcommerce", {"access_token": "t"}, {"location_id": "main"}, "is a number"),
        ("woocommerce", {"consumer_key": "k", "consumer_secret": "s"}, {"location_id": "1"},
         "no stock locations"),
    ],
)  # fmt: skip
def test_store_bodies_are_checked_per_platform(
    platform: str, credentials: dict[str, str], options: dict[str, str], expected: str
) -> None:
    # Given a store body that does not fit its platform, When validated, Then it says why
    body = {
        "name": "Shop",
        "platform": platform,
        "api_url": "https://shop.example",
        "credentials": credentials,
        "options": options,
    }
    with pytest.raises(ValidationError, match=expected):
        CreateStore.model_validate(body)


def test_import_ranges_need_timezones_and_order() -> None:
    # A naive time is refused (not a server error), as is an empty range
    with pytest.raises(ValidationError, match="timezone"):
        ImportCatalogBody.model_validate({"mode": "by_date", "since": "2026-01-01T00:00:00"})
    with pytest.raises(ValidationError, match="until must be after since"):
        ImportCatalogBody.model_validate(
            {"mode": "by_date", "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
        )
    assert ImportCatalogBody.model_validate({}).mode == "incremental"
