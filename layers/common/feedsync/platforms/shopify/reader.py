"""Reading the catalog: every variant, with money in cents and stock at one location.

A full read (no range: the catalog import) runs ``bulkOperationRunQuery`` over products and
their variants, polls it to the end, downloads the JSONL to a spooled temporary file and
rebuilds the variants from its lines (a variant line names its product with
``__parentId``): about 15 points whatever the catalog's size, against ~23 points per
4-variant product paged. A bulk query already running (Shopify allows one per shop) or one
that fails or is refused falls back to pages; ``last_read`` says which path a read took.
Ranged reads (incremental refresh) page through ``products`` (with their variants; a product
with more variants than a page holds is completed with ``product(id).variants``).

Stock is the ``available`` quantity at the read location, not ``inventoryQuantity`` (all
locations summed); a variant not stocked there reads stock None. Content, as
``domain.content`` keeps it in the index: the product's ``descriptionHtml`` as its digest,
``vendor`` as the brand, the variant's ``image.url`` (the copy Shopify hosts, None without
an image) and its ``inventoryItem.measurement.weight`` in the shop's ``weightUnit``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Protocol, cast

from feedsync.domain.content import description_digest
from feedsync.domain.fields import Variant
from feedsync.errors import StoreAuthError, StoreRequestError
from feedsync.platforms.shopify.bulk import BulkOperations
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.queries import (
    BULK_QUERY_RUN,
    PRODUCT_VARIANTS_QUERY,
    PRODUCTS_QUERY,
    bulk_products_query,
    gid_number,
    search_time,
)
from feedsync.platforms.shopify.responses import user_error_text
from feedsync.platforms.shopify.shop import ShopFacts
from feedsync.platforms.shopify.values import read_weight, to_cents

JSON = dict[str, Any]
# What a variant takes from its product: title, updatedAt, description digest, vendor.
# title, updatedAt, description digest, vendor, visible (``_visible``)
ProductFields = tuple[str | None, str | None, str | None, str | None, bool | None]


class ReadSettings(Protocol):
    """The connector's page sizes (read when a read runs: tests change them)."""

    page_products: int
    page_variants: int
    variant_page: int
    variant_cost: int
    spool_bytes: int


class CatalogReader:
    def __init__(
        self,
        client: AdminClient,
        shop: ShopFacts,
        bulk: BulkOperations,
        settings: ReadSettings,
    ) -> None:
        self._client = client
        self._shop = shop
        self._bulk = bulk
        self._settings = settings
        self.last_read = ""  # "bulk", "pages" or "pages (<why the bulk query was not used>)"

    def iter_variants(
        self,
        modified_since: datetime | None,
        modified_until: datetime | None,
        *,
        location: str | None,
        bulk_reads: bool,
    ) -> Iterator[Variant]:
        """Every variant of every product updated in the range (money in cents, stock at
        ``location``, None: the primary one); without a range through a bulk query when
        ``bulk_reads`` and one can run."""
        location_gid = self._shop.location_gid(location)
        if modified_since is None and modified_until is None and bulk_reads:
            result = self._bulk_read(location_gid)
            if not isinstance(result, str):
                self.last_read = "bulk"
                with result:
                    self._shop.weight_unit()
                    yield from self._variants_from_jsonl(result)
                return
            self.last_read = f"pages ({result})"
        else:
            self.last_read = "pages"
        yield from self._paged_variants(modified_since, modified_until, location_gid)

    def _paged_variants(
        self, modified_since: datetime | None, modified_until: datetime | None, location: str
    ) -> Iterator[Variant]:
        settings = self._settings
        terms = []
        if modified_since is not None:
            terms.append(f"updated_at:>='{search_time(modified_since)}'")
        if modified_until is not None:
            terms.append(f"updated_at:<='{search_time(modified_until)}'")
        variables: JSON = {
            "first": settings.page_products,
            "variants": settings.page_variants,
            "after": None,
            "query": " ".join(terms) or None,
            "location": location,
        }
        estimate = 3 + settings.page_products * (3 + settings.variant_cost * settings.page_variants)
        while True:
            data = self._client.graphql(PRODUCTS_QUERY, variables, "FeedsyncProducts", estimate)
            shop = data.get("shop") or {}
            if shop.get("weightUnit"):  # each page says it: no look-up of its own
                self._shop.unit = str(shop["weightUnit"])
            products = data["products"]
            for product in products["nodes"]:
                yield from self._product_variants(product, location)
            page = products["pageInfo"]
            if not page["hasNextPage"] or not products["nodes"]:
                return
            variables["after"] = page["endCursor"]

    def _product_variants(self, product: JSON, location: str) -> Iterator[Variant]:
        settings = self._settings
        pid = gid_number(product["id"])
        fields = _product_fields(product)
        connection = product["variants"]
        while True:
            for v in connection["nodes"]:
                yield self._variant(pid, fields, v)
            page = connection["pageInfo"]
            if not page["hasNextPage"]:
                return
            data = self._client.graphql(
                PRODUCT_VARIANTS_QUERY,
                {
                    "id": product["id"],
                    "first": settings.variant_page,
                    "after": page["endCursor"],
                    "location": location,
                },
                "FeedsyncProductVariants",
                3 + settings.variant_cost * settings.variant_page,
            )
            if data.get("product") is None:  # deleted while we were reading
                return
            connection = data["product"]["variants"]

    # -- bulk query -------------------------------------------------------------------------
    def _bulk_read(self, location: str) -> IO[bytes] | str:
        """The finished bulk query's JSONL (a spooled file), or why pages must do instead."""
        data = self._client.graphql(
            BULK_QUERY_RUN, {"query": bulk_products_query(location)}, "FeedsyncBulkQuery", 10
        )
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        if errors or not payload.get("bulkOperation"):
            text = "; ".join(user_error_text(e) for e in errors) or "no bulk operation"
            if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
                return f"a bulk query is already running: {text}"
            return f"the bulk query was refused: {text}"
        operation = str(payload["bulkOperation"]["id"])
        final = self._bulk.wait(operation)
        status = final.get("status")
        if status != "COMPLETED":
            code = final.get("errorCode") or status
            if code == "ACCESS_DENIED":
                raise StoreAuthError(
                    f"{self._client.where}: bulk query {operation} was denied; check "
                    "the app's read_products and read_inventory scopes"
                )
            return f"bulk query {operation} ended {status} ({code})"
        spool = tempfile.SpooledTemporaryFile(max_size=self._settings.spool_bytes)  # noqa: SIM115
        if final.get("url"):  # no url: nothing matched (an empty shop)
            try:
                self._bulk.download_into(str(final["url"]), spool)
            except BaseException:
                spool.close()
                raise
        spool.seek(0)
        return cast(IO[bytes], spool)

    def _variants_from_jsonl(self, lines: Iterable[bytes]) -> Iterator[Variant]:
        """Variants from the bulk query's lines: a product line comes before its variants'
        lines, which name it with ``__parentId`` (a variant seen first waits for it)."""
        products: dict[str, ProductFields] = {}
        waiting: dict[str, list[JSON]] = {}
        for raw in lines:
            if not raw.strip():
                continue
            entry = json.loads(raw)
            parent = entry.get("__parentId")
            if parent is None:
                key = str(entry.get("id"))
                products[key] = _product_fields(entry)
                for early in waiting.pop(key, []):
                    yield self._variant(gid_number(key), products[key], early)
            elif parent in products:
                yield self._variant(gid_number(parent), products[parent], entry)
            else:
                waiting.setdefault(parent, []).append(entry)
        for parent, orphans in waiting.items():  # product line missing: keep what is known
            for entry in orphans:
                yield self._variant(gid_number(parent), (None, None, None, None, None), entry)

    def _variant(self, pid: int, product: ProductFields, v: JSON) -> Variant:
        vid = gid_number(v["id"])
        title, modified, description, brand, visible = product
        inventory = v.get("inventoryItem") or {}
        cost = (inventory.get("unitCost") or {}).get("amount")
        try:
            price, compare_at, cost_cents = (
                to_cents(v.get("price")),
                to_cents(v.get("compareAtPrice")),
                to_cents(cost),
            )
        except ValueError as exc:
            raise StoreRequestError(
                f"{self._client.where}: product {pid} variant {vid} has an unreadable price: {exc}"
            ) from None
        level = inventory.get("inventoryLevel")  # None: not stocked at the read location
        quantities = (level or {}).get("quantities") or []
        found = [q.get("quantity") for q in quantities if q.get("name") == "available"]
        stock = found[0] if found else None
        return (
            pid,
            vid,
            v.get("sku") or None,
            v.get("barcode") or None,
            price,
            None,  # Shopify has no sale price
            compare_at,
            cost_cents,
            int(stock) if stock is not None else None,
            title,
            modified,
            str(gid_number(inventory["id"])) if inventory.get("id") else None,
            description,
            brand,
            read_weight((inventory.get("measurement") or {}).get("weight"), self._shop.unit),
            (v.get("image") or {}).get("url") or None,
            visible,
        )


def _product_fields(product: JSON) -> ProductFields:
    return (
        product.get("title"),
        product.get("updatedAt"),
        description_digest(product.get("descriptionHtml")),
        product.get("vendor") or None,
        _visible(product.get("status")),
    )


def _visible(status: Any) -> bool | None:
    """ACTIVE is on view, DRAFT hidden as feedsync hides a product; ARCHIVED (the merchant's
    own way to set a product aside) or no status: None (``fields.VISIBLE_AT``)."""
    return {"ACTIVE": True, "DRAFT": False}.get(status) if isinstance(status, str) else None
