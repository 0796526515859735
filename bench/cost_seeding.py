"""A large store's catalog import, its reads of the store taken from the double in process.

The cost model's 1,000,000-row scenario needs a store whose catalog index holds 1,000,000
items. Importing them through a double's HTTP API is quadratic on the double's side (the
WooCommerce double and the BigCommerce sandbox build and sort the whole catalog for every
page they answer): it had not finished after 26 minutes. The import is a one-off per store,
not what the scenario prices, so at that size the store is set up with its reads seeded:

- the merchant's ``POST /stores`` goes through the API as at 10,000 rows, and the product's
  own catalog import runs (``core/catalog_import.import_catalog``: ``CatalogIndex``,
  ``save_catalog``, the store marked ready, the stock location remembered);
- only the full read's pages come from the double in process instead of over HTTP: the
  double's items in the API's own shape (what its handler would answer for each page),
  turned into variants by the platform reader's own code. Ranged reads (a run's refresh of
  what changed since) are not touched.

So the index saved is the one the HTTP import would save (``tests/integration/
test_cost_seeding.py`` checks it at a small size, item for item). Shopify's full read is a
bulk query, linear on its double: it is not seeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from feedsync.core.ports import StoreConnector
from feedsync.domain.fields import Variant
from feedsync.models import Store

# A full read of the connector's store, from the double in process.
FullRead = Callable[[Any], Iterator[Variant]]


class RecordingStack(ExitStack):
    """An ExitStack that remembers the contexts entered (the doubles a twin starts)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered: list[Any] = []

    def enter_context(self, cm: Any) -> Any:
        self.entered.append(cm)
        return super().enter_context(cm)


def woocommerce_read(double: Any) -> FullRead:
    """The reader's full read with its pages listed by the double in process: every
    product (``context=edit``, by id, as ``GET /products`` pages it) and each variable
    product's variations."""
    from feedsync.platforms.woocommerce.endpoints import PRODUCTS

    def read(connector: Any) -> Iterator[Variant]:
        reader = connector._reader

        def pages(path: str, _params: dict[str, Any], _expect: Any = None) -> Iterator[Any]:
            if path == PRODUCTS:
                return iter(sorted(double.products("edit"), key=lambda p: int(p["id"])))
            product_id = int(path.strip("/").split("/")[1])  # /products/{id}/variations
            return iter(sorted(double.variations(product_id, "edit"), key=lambda v: int(v["id"])))

        reader._pages = pages
        return reader.iter_variants()  # type: ignore[no-any-return]

    return read


def bigcommerce_read(sandbox: Any, store_hash: str) -> FullRead:
    """The reader's conversion of every product as ``GET /catalog/products?include=
    variants,primary_image`` answers it, the brands as ``GET /catalog/brands`` lists them."""
    from feedsync.platforms.bigcommerce import reader

    include = frozenset({"variants", "primary_image"})

    def read(connector: Any) -> Iterator[Variant]:
        api = connector._api
        brands = reader.BrandNames(lambda: sandbox.brands(store_hash))
        with sandbox._lock:
            store = sandbox._store(store_hash)
            products = [
                sandbox._product_json(store, p, with_variants=True, include=include)
                for p in store.products.values()
            ]
        for product in products:
            yield from reader._product_variants(api, product, brands)

    return read


def full_read(platform: str, env: Any, doubles: RecordingStack, api_url: str) -> FullRead | None:
    """How the twin's store is read in process, or None where HTTP is read (Shopify)."""
    if platform == "woocommerce":
        return woocommerce_read(doubles.entered[-1])
    if platform == "bigcommerce":
        store_hash = urlsplit(api_url).path.strip("/").split("/")[1]  # /stores/{hash}/v3
        return bigcommerce_read(env.sandbox, store_hash)
    return None


class _SeededReads:
    """The store's connector, its full read served by ``read``."""

    def __init__(self, inner: StoreConnector, read: FullRead) -> None:
        self._inner, self._read = inner, read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        if modified_since is None and modified_until is None:
            return self._read(self._inner)
        return self._inner.iter_variants(modified_since, modified_until)


@contextmanager
def seeded_reads(tenant_id: str, read: FullRead | None) -> Iterator[None]:
    """While it lasts, the tenant's stores' full reads are ``read`` (nothing without one)."""
    from feedsync.wiring import deps

    if read is None:
        yield
        return
    wired = deps()
    real = wired.connectors

    def connectors(store: Store, credentials: dict[str, str]) -> StoreConnector:
        connector = real(store, credentials)
        if store.tenant_id != tenant_id:
            return connector
        return _SeededReads(connector, read)  # type: ignore[return-value]

    wired.connectors = connectors
    try:
        yield
    finally:
        wired.connectors = real
