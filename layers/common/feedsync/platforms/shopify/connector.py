"""Shopify Admin GraphQL connector: read variants, write prices, costs, stock and content.

Stock is the ``available`` quantity at one location (the constructor's ``location``, else
the shop's primary location, looked up once), not ``inventoryQuantity`` (all locations
summed); a variant not stocked there reads stock None.

A full read (no range: the catalog import) runs ``bulkOperationRunQuery`` over products and
their variants, polls it (``node(id:)``) to the end, downloads the JSONL to a spooled
temporary file and rebuilds the variants from its lines (a variant line names its product
with ``__parentId``): about 15 points whatever the catalog's size, against ~23 points per
4-variant product paged. A bulk query already running (Shopify allows one per shop) or one
that fails or is refused falls back to pages; ``last_read`` says which path a read took.
Ranged reads (incremental refresh) page through ``products`` (with their variants; a product
with more variants than a page holds is completed with ``product(id).variants``).

Content, as ``domain.content`` keeps it in the index: the product's ``descriptionHtml`` as
its digest, ``vendor`` as the brand, the variant's ``image.url`` (the copy Shopify hosts,
None without an image) and its ``inventoryItem.measurement.weight`` as canonical decimal
text in the shop's ``weightUnit`` (a weight kept in another unit is converted). Weights are
written in that unit too, so what is written reads back the same. Writes:

* ``variants_bulk``: ``productVariantsBulkUpdate`` for one product, ``allowPartialUpdates``;
  userErrors name ``["variants", "<i>", ...]``, so each bad variant fails alone. A weight goes
  as ``inventoryItem.measurement.weight`` (value and the shop's unit); an image as the
  mutation's ``media`` (one ``IMAGE`` per URL, which Shopify fetches and hosts) plus the
  variant's ``mediaSrc`` naming it; an error on ``["media", "<j>", ...]`` fails the variants
  that named that URL.
* ``product_update``: ``productUpdate`` of one product's ``title``, ``descriptionHtml`` and
  ``vendor`` (name, description, brand); its userErrors are that item's result.
* ``inventory_set``: ``inventorySetQuantities`` (``available``, reason ``correction``) with
  ``compareQuantity`` = the stock we last read, so a sale in between is not overwritten. The
  mutation is all-or-nothing, so items with userErrors are dropped and the rest re-sent; a
  stale compare is re-read: already at the target (e.g. our own earlier attempt whose answer
  was lost) counts as done, anything else is reported, never overwritten.
* ``variants_bulk_operation``: the same variant updates as a bulk mutation (one JSONL line of
  variables per product) through a staged upload, polled to the end; per-line userErrors
  are mapped back to items.
* ``product_update_bulk_operation``: the same product updates as a bulk mutation of
  ``productUpdate`` (one JSONL line per product); a line's userErrors are that item's result.

An item the shop no longer has (deleted since the catalog was read) is reported with
``ports.item_gone``, from the userError codes of the schema's enums, never from message
text: ``PRODUCT_DOES_NOT_EXIST`` (every item of that product's call: the product is gone)
and ``PRODUCT_VARIANT_DOES_NOT_EXIST`` (that variant) of productVariantsBulkUpdate, in a
direct call or a bulk mutation's result line alike; ``INVALID_INVENTORY_ITEM`` of
inventorySetQuantities (the variant: its inventory item went with it). productUpdate's
userErrors carry no code (plain ``UserError``), so the products of refused updates are
looked up with one ``nodes(ids:)`` query: a null node is a product that is gone.

A bulk mutation's lines go in files of at most ``max_bulk_file_bytes`` (Shopify takes 20 MB),
one operation after the other, all within ``bulk_timeout_s``. Its polls come quickly at
first, then at the job's estimated end: the pace is measured between polls that show
progress (a job may sit queued first), and no single wait exceeds ``3 x bulk_poll_s``.

Throttling is cost based: every answer's ``extensions.cost`` says what the bucket holds and
how fast it refills; a request whose (last seen or estimated) cost exceeds what is left
waits just long enough first, and a THROTTLED answer (HTTP 200) waits for the refill and is
sent again. 5xx, 429, timeouts and connection resets back off exponentially with jitter,
then raise ``StoreUnavailable``; 401/403 raise ``StoreAuthError``; other GraphQL errors
``StoreRequestError``. ``points_spent`` sums the actual query costs.

The schema (``../shared/specs``) predates Shopify 2026-01, which requires ``@idempotent``
on inventory mutations and renames ``compareQuantity`` to ``changeFromQuantity``; against
this schema neither exists, so the batch key travels as ``referenceDocumentUri`` and
compare-and-set gives retries their safety.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final, cast
from urllib.parse import quote, urlsplit

import requests

from feedsync.core.ports import GoneScope, ItemResult, PlanItem, item_gone
from feedsync.domain.content import canonical_weight, description_digest
from feedsync.domain.fields import Variant
from feedsync.domain.money import amount_to_cents
from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.shopify.spec import capabilities as shopify_capabilities

JSON = dict[str, Any]
# What a variant takes from its product: title, updatedAt, description digest, vendor.
ProductFields = tuple[str | None, str | None, str | None, str | None]

API_VERSION = "2025-01"  # the schema file is 'unstable' of 2024-12-18; 2025-01 was then current
_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_TRANSIENT_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
_DONE = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})

_VARIANT_FIELDS = """
fragment FeedsyncVariant on ProductVariant {
  id
  sku
  barcode
  price
  compareAtPrice
  image { url }
  inventoryItem {
    id
    unitCost { amount }
    measurement { weight { value unit } }
    inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
  }
}
"""
PRODUCTS_QUERY = (
    """
query FeedsyncProducts(
  $first: Int!, $after: String, $query: String, $variants: Int!, $location: ID!
) {
  shop { weightUnit }
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      title
      updatedAt
      descriptionHtml
      vendor
      variants(first: $variants) {
        pageInfo { hasNextPage endCursor }
        nodes { ...FeedsyncVariant }
      }
    }
  }
}
"""
    + _VARIANT_FIELDS
)
PRODUCT_VARIANTS_QUERY = (
    """
query FeedsyncProductVariants($id: ID!, $first: Int!, $after: String, $location: ID!) {
  product(id: $id) {
    variants(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...FeedsyncVariant }
    }
  }
}
"""
    + _VARIANT_FIELDS
)
PRIMARY_LOCATION_QUERY = "query FeedsyncPrimaryLocation { location { id } }"
SHOP_QUERY = "query FeedsyncShop { shop { weightUnit } }"
VARIANTS_BULK_UPDATE = """
mutation FeedsyncVariantsBulkUpdate(
  $productId: ID!, $variants: [ProductVariantsBulkInput!]!, $media: [CreateMediaInput!]
) {
  productVariantsBulkUpdate(
    productId: $productId, variants: $variants, media: $media, allowPartialUpdates: true
  ) {
    userErrors { field message code }
  }
}
"""
PRODUCT_UPDATE = """
mutation FeedsyncProductUpdate($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    userErrors { field message }
  }
}
"""
INVENTORY_SET = """
mutation FeedsyncInventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { field message code }
  }
}
"""
PRODUCTS_EXIST_QUERY = """
query FeedsyncProductsExist($ids: [ID!]!) {
  nodes(ids: $ids) { id }
}
"""
INVENTORY_LEVELS_QUERY = """
query FeedsyncInventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""
STAGED_UPLOADS = """
mutation FeedsyncStagedUpload($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""
BULK_RUN = """
mutation FeedsyncBulkRun($mutation: String!, $path: String!, $client: String) {
  bulkOperationRunMutation(
    mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $client
  ) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
BULK_POLL_QUERY = """
query FeedsyncBulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}
"""
BULK_QUERY_RUN = """
mutation FeedsyncBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
# The document bulkOperationRunQuery runs (sent as its ``query`` variable, never on its own).
# It takes no variables, so ``bulk_products_query`` inlines the location in place of
# ``_LOCATION_SLOT``; no page sizes either: a bulk query returns every node of every connection.
_LOCATION_SLOT = '"gid://shopify/Location/0"'
BULK_PRODUCTS_QUERY = """
query FeedsyncBulkProducts {
  products {
    edges {
      node {
        id
        title
        updatedAt
        descriptionHtml
        vendor
        variants {
          edges {
            node {
              id
              sku
              barcode
              price
              compareAtPrice
              image { url }
              inventoryItem {
                id
                unitCost { amount }
                measurement { weight { value unit } }
                inventoryLevel(locationId: "gid://shopify/Location/0") {
                  quantities(names: ["available"]) { name quantity }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""
CURRENT_BULK_QUERY = """
query FeedsyncCurrentBulkMutation {
  currentBulkOperation(type: MUTATION) { id status }
}
"""


def to_cents(value: Any) -> int | None:
    """A Shopify Money/Decimal value (``"12.99"``) -> integer cents, rounded half-even."""
    return amount_to_cents(value)


def from_cents(cents: int | None) -> str | None:
    """Integer cents -> Shopify's decimal string, e.g. 1349 -> ``"13.49"``, -5 -> ``"-0.05"``."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


# Grams in one of each ``WeightUnit`` (the international pound and ounce).
_GRAMS_PER: Final = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}
_CONVERTED_PLACES: Final = Decimal("0.000001")  # a converted weight, to a millionth
# Canonical product field -> its ProductUpdateInput field.
_PRODUCT_INPUT: Final = {"name": "title", "description": "descriptionHtml", "brand": "vendor"}


def read_weight(weight: JSON | None, unit: str | None) -> str | None:
    """A ``Weight`` (``{"value": 0.25, "unit": "KILOGRAMS"}``) as the index keeps it:
    canonical decimal text in ``unit`` (the shop's), converted from the weight's own unit
    when Shopify keeps it in another; None without a weight."""
    if not weight or weight.get("value") is None:
        return None
    try:
        value = Decimal(str(weight["value"]))
        have = weight.get("unit")
        if unit and have != unit and have in _GRAMS_PER and unit in _GRAMS_PER:
            value = (value * _GRAMS_PER[have] / _GRAMS_PER[unit]).quantize(_CONVERTED_PLACES)
    except (InvalidOperation, ArithmeticError):
        return None
    return canonical_weight(value)


def weight_input(value: Any, unit: str) -> JSON | None:
    """The ``WeightInput`` for a feed weight (decimal text in the shop's unit, e.g. "0.250");
    None when it is not a weight. Shopify's ``value`` is a Float: the canonical decimal
    converts exactly back and forth for any weight a feed carries (15 significant digits)."""
    canonical = canonical_weight(value)
    if canonical is None or Decimal(canonical) < 0:
        return None
    return {"value": float(canonical), "unit": unit}


def _product_fields(product: JSON) -> ProductFields:
    return (
        product.get("title"),
        product.get("updatedAt"),
        description_digest(product.get("descriptionHtml")),
        product.get("vendor") or None,
    )


def bulk_products_query(location_gid: str) -> str:
    """The bulk query of every product and variant, stock at ``location_gid``."""
    return BULK_PRODUCTS_QUERY.replace(_LOCATION_SLOT, json.dumps(location_gid))


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str) -> int:
    """``gid://shopify/ProductVariant/123`` -> 123 (query strings after the id ignored)."""
    return int(value.rsplit("/", 1)[-1].split("?", 1)[0])


def _search_time(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyConnector:
    """One shop (``https://{shop}.myshopify.com``), authenticated by an Admin API token."""

    # Read page sizes: a variant costs 8 (itself, image, inventoryItem, unitCost, measurement,
    # weight, inventoryLevel, quantities), so shop + products(19) x variants(6) asks
    # 1 + 2 + 19 x (1 + 2 + 6 x 8) = 972 points, under the 1,000 single-query limit; longer
    # products are completed 124 variants at a time (3 + 124 x 8 = 995).
    page_products = 19
    page_variants = 6
    variant_page = 124
    variant_cost = 8
    spool_bytes = 16 * 1024 * 1024  # a bulk result larger than this is spooled to disk
    max_batch = 250
    max_bulk_lines_variants = 250
    max_bulk_file_bytes = 20 * 1024 * 1024  # Shopify's limit for a bulk mutation's JSONL
    max_throttle_waits = 30
    backoff_base_s = 0.5
    backoff_cap_s = 30.0
    bulk_timeout_s = 840.0  # under a Lambda's 15 minutes
    stock_reason = "correction"

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        *,
        api_version: str = API_VERSION,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 5,
        bulk_poll_s: float = 10.0,
        location: str | None = None,
        bulk_reads: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``location``: the stock location reads report (numeric id or Location GID; None:
        the primary location). ``bulk_reads``: full reads through a bulk query. ``clock``:
        seconds, monotonic (tests pass a fake one with ``sleep``)."""
        self.capabilities = shopify_capabilities()
        self.shop_url = shop_url.rstrip("/")
        self.api_version = api_version
        self.endpoint = f"{self.shop_url}/admin/api/{api_version}/graphql.json"
        self._token = access_token
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock
        self.timeout = timeout
        self.max_retries = max_retries
        self.bulk_poll_s = bulk_poll_s
        self.location = location
        self.bulk_reads = bulk_reads
        self.last_read = ""  # "bulk", "pages" or "pages (<why the bulk query was not used>)"
        self._random = random.Random()
        self._primary_location: str | None = None
        self._weight_unit: str | None = None  # the shop's, once looked up
        # Bucket as last reported, and the costs each document was last charged.
        self._bucket: tuple[float, float, float, float] | None = None  # avail, max, rate, t
        self._waited_s = 0.0
        self._requested: dict[str, int] = {}
        self.points_spent = 0
        self.requests_sent = 0
        self.throttled = 0

    def __repr__(self) -> str:  # never shows the token
        return f"ShopifyConnector({self.shop_url!r})"

    @property
    def default_location(self) -> str | None:
        """The primary location looked up for reads or writes (None until one was)."""
        return None if self.location else self._primary_location

    # -- reading ----------------------------------------------------------------------------
    def iter_variants(
        self, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> Iterator[Variant]:
        """Every variant of every product updated in the range (money in cents, stock at the
        read location); without a range through a bulk query when one can run."""
        location = self._location_gid(self.location)
        if modified_since is None and modified_until is None and self.bulk_reads:
            result = self._bulk_read(location)
            if not isinstance(result, str):
                self.last_read = "bulk"
                with result:
                    self.weight_unit()
                    yield from self._variants_from_jsonl(result)
                return
            self.last_read = f"pages ({result})"
        else:
            self.last_read = "pages"
        yield from self._paged_variants(modified_since, modified_until, location)

    def _paged_variants(
        self, modified_since: datetime | None, modified_until: datetime | None, location: str
    ) -> Iterator[Variant]:
        terms = []
        if modified_since is not None:
            terms.append(f"updated_at:>='{_search_time(modified_since)}'")
        if modified_until is not None:
            terms.append(f"updated_at:<='{_search_time(modified_until)}'")
        variables: JSON = {
            "first": self.page_products,
            "variants": self.page_variants,
            "after": None,
            "query": " ".join(terms) or None,
            "location": location,
        }
        estimate = 3 + self.page_products * (3 + self.variant_cost * self.page_variants)
        while True:
            data = self._graphql(PRODUCTS_QUERY, variables, "FeedsyncProducts", estimate)
            shop = data.get("shop") or {}
            if shop.get("weightUnit"):  # each page says it: no look-up of its own
                self._weight_unit = str(shop["weightUnit"])
            products = data["products"]
            for product in products["nodes"]:
                yield from self._product_variants(product, location)
            page = products["pageInfo"]
            if not page["hasNextPage"] or not products["nodes"]:
                return
            variables["after"] = page["endCursor"]

    def _product_variants(self, product: JSON, location: str) -> Iterator[Variant]:
        pid = gid_number(product["id"])
        fields = _product_fields(product)
        connection = product["variants"]
        while True:
            for v in connection["nodes"]:
                yield self._variant(pid, fields, v)
            page = connection["pageInfo"]
            if not page["hasNextPage"]:
                return
            data = self._graphql(
                PRODUCT_VARIANTS_QUERY,
                {
                    "id": product["id"],
                    "first": self.variant_page,
                    "after": page["endCursor"],
                    "location": location,
                },
                "FeedsyncProductVariants",
                3 + self.variant_cost * self.variant_page,
            )
            if data.get("product") is None:  # deleted while we were reading
                return
            connection = data["product"]["variants"]

    # -- bulk query -------------------------------------------------------------------------
    def _bulk_read(self, location: str) -> IO[bytes] | str:
        """The finished bulk query's JSONL (a spooled file), or why pages must do instead."""
        data = self._graphql(
            BULK_QUERY_RUN, {"query": bulk_products_query(location)}, "FeedsyncBulkQuery", 10
        )
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        if errors or not payload.get("bulkOperation"):
            text = "; ".join(_user_error_text(e) for e in errors) or "no bulk operation"
            if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
                return f"a bulk query is already running: {text}"
            return f"the bulk query was refused: {text}"
        operation = str(payload["bulkOperation"]["id"])
        final = self._wait_bulk(operation)
        status = final.get("status")
        if status != "COMPLETED":
            code = final.get("errorCode") or status
            if code == "ACCESS_DENIED":
                raise StoreAuthError(
                    f"Shopify store {self.shop_url}: bulk query {operation} was denied; check "
                    "the app's read_products and read_inventory scopes"
                )
            return f"bulk query {operation} ended {status} ({code})"
        spool = tempfile.SpooledTemporaryFile(max_size=self.spool_bytes)  # noqa: SIM115
        if final.get("url"):  # no url: nothing matched (an empty shop)
            try:
                self._download_into(str(final["url"]), spool)
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
                yield self._variant(gid_number(parent), (None, None, None, None), entry)

    def _variant(self, pid: int, product: ProductFields, v: JSON) -> Variant:
        vid = gid_number(v["id"])
        title, modified, description, brand = product
        item = v.get("inventoryItem") or {}
        cost = (item.get("unitCost") or {}).get("amount")
        try:
            price, compare_at, cost_cents = (
                to_cents(v.get("price")),
                to_cents(v.get("compareAtPrice")),
                to_cents(cost),
            )
        except ValueError as exc:
            raise StoreRequestError(
                f"Shopify store {self.shop_url}: product {pid} variant {vid} has an unreadable "
                f"price: {exc}"
            ) from None
        level = item.get("inventoryLevel")  # None: not stocked at the read location
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
            str(gid_number(item["id"])) if item.get("id") else None,
            description,
            brand,
            read_weight((item.get("measurement") or {}).get("weight"), self._weight_unit),
            (v.get("image") or {}).get("url") or None,
        )

    def weight_unit(self) -> str:
        """The shop's ``weightUnit`` (feed weights are in it), looked up once."""
        if self._weight_unit is None:
            data = self._graphql(SHOP_QUERY, {}, "FeedsyncShop", 1)
            unit = (data.get("shop") or {}).get("weightUnit")
            if not unit:
                raise StoreRequestError(
                    f"Shopify store {self.shop_url} did not say its weight unit"
                )
            self._weight_unit = str(unit)
        return self._weight_unit

    # -- writing ----------------------------------------------------------------------------
    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """One batch of one operation; ``(ok, message)`` per item, in order."""
        limit = self.capabilities.op(op).max_batch
        if len(items) > limit:
            raise ValueError(f"{op} takes at most {limit} items, got {len(items)}")
        if not items:
            return []
        if op == "variants_bulk":
            return self._variants_bulk(items)
        if op == "inventory_set":
            return self._inventory_set(items, batch_key, location)
        if op == "variants_bulk_operation":
            return self._variants_bulk_operation(items, batch_key)
        if op == "product_update":
            return self._product_updates(items)
        if op == "product_update_bulk_operation":
            return self._product_update_bulk_operation(items, batch_key)
        raise ValueError(f"shopify has no write operation {op!r}")

    def _variant_inputs(self, items: list[PlanItem]) -> list[JSON | str]:
        """Each item's ProductVariantsBulkInput, or why it cannot be sent; the shop's weight
        unit is looked up (once) only when a weight is written."""
        weights = any("weight" in (item.get("changes") or {}) for item in items)
        unit = self.weight_unit() if weights else None
        return [self._variant_input(item, unit) for item in items]

    @staticmethod
    def _variant_input(item: PlanItem, weight_unit: str | None = None) -> JSON | str:
        """The ProductVariantsBulkInput for an item, or why it cannot be sent."""
        payload: JSON = {"id": gid("ProductVariant", int(item["variant_id"]))}
        for name, change in (item.get("changes") or {}).items():
            new = change[1]
            if name == "price":
                if new is None:
                    return "Shopify requires a price: it cannot be emptied"
                payload["price"] = from_cents(int(new))
            elif name == "retail_price":
                payload["compareAtPrice"] = None if new is None else from_cents(int(new))
            elif name == "cost_price":
                cost = None if new is None else from_cents(int(new))
                payload.setdefault("inventoryItem", {})["cost"] = cost
            elif name == "weight":
                weight = None if weight_unit is None else weight_input(new, weight_unit)
                if weight is None:
                    return f"{new!r} is not a weight Shopify takes (a number >= 0)"
                payload.setdefault("inventoryItem", {})["measurement"] = {"weight": weight}
            elif name == "image_url":
                if not new:
                    return "an image cannot be removed by a sync"
                payload["mediaSrc"] = [str(new)]
            else:
                raise ValueError(f"variant field {name!r} is not writable with variants_bulk")
        return payload

    @staticmethod
    def _product_variables(pid: int, variants: list[JSON]) -> JSON:
        """productVariantsBulkUpdate's variables for one product: the variants and, for the
        images they name, one new IMAGE media per URL (Shopify fetches and hosts it, then
        ``mediaSrc`` ties it to the variants)."""
        variables: JSON = {"productId": gid("Product", pid), "variants": variants}
        urls = list(dict.fromkeys(url for v in variants for url in v.get("mediaSrc") or ()))
        if urls:
            variables["media"] = [{"originalSource": u, "mediaContentType": "IMAGE"} for u in urls]
        return variables

    def _variants_bulk(self, items: list[PlanItem]) -> list[ItemResult]:
        products = {int(i["product_id"]) for i in items}
        if len(products) != 1:
            raise ValueError(f"variants_bulk takes one product's items, got {sorted(products)}")
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        sent: list[int] = []
        variants: list[JSON] = []
        for i, payload in enumerate(self._variant_inputs(items)):
            if isinstance(payload, str):
                results[i] = ItemResult(False, payload)
            else:
                sent.append(i)
                variants.append(payload)
        if not variants:
            return results
        variables = self._product_variables(products.pop(), variants)
        data = self._graphql(VARIANTS_BULK_UPDATE, variables, "FeedsyncVariantsBulkUpdate", 10)
        errors = (data.get("productVariantsBulkUpdate") or {}).get("userErrors") or []
        self._map_variant_errors(errors, sent, variables, results)
        return results

    @staticmethod
    def _map_variant_errors(
        errors: list[JSON], sent: list[int], variables: JSON, results: list[ItemResult]
    ) -> None:
        """userErrors (``field: ["variants", "3", "price"]``) onto the items sent (``sent[k]``
        sent as ``variables["variants"][k]``); a ``["media", "<j>", ...]`` error onto the
        items whose ``mediaSrc`` names that media's URL."""
        per_item: dict[int, list[str]] = {}
        general: list[str] = []
        gone: dict[int, GoneScope] = {}
        product_gone = False
        variants: list[JSON] = variables.get("variants") or []
        media: list[JSON] = variables.get("media") or []
        for error in errors:
            path = error.get("field") or []
            message = _user_error_text(error)
            code = error.get("code")
            # The call is for one product: if it does not exist, neither do its variants.
            product_gone = product_gone or code in _PRODUCT_MISSING
            if len(path) >= 2 and str(path[1]).isdigit():
                position = int(path[1])
                if path[0] == "variants" and position < len(sent):
                    per_item.setdefault(sent[position], []).append(message)
                    if code in _VARIANT_MISSING:
                        gone[sent[position]] = "variant"
                    continue
                if path[0] == "media" and position < len(media):
                    url = media[position].get("originalSource")
                    text = "image: " + _user_error_text({**error, "field": None})
                    for k, variant in enumerate(variants):
                        if url in (variant.get("mediaSrc") or ()):
                            per_item.setdefault(sent[k], []).append(text)
                    continue
            general.append(message)
        for i in sent:
            messages = per_item.get(i, []) + general
            if not messages:
                continue
            scope = "product" if product_gone else gone.get(i)
            text = "; ".join(messages)
            results[i] = item_gone(scope, text) if scope else ItemResult(False, text)

    # -- product fields ---------------------------------------------------------------------
    @staticmethod
    def _product_input(item: PlanItem) -> JSON | str:
        """The ProductUpdateInput for an item (the fields it changes: title, descriptionHtml,
        vendor), or why it cannot be sent."""
        product: JSON = {"id": gid("Product", int(item["product_id"]))}
        for name, change in (item.get("changes") or {}).items():
            key = _PRODUCT_INPUT.get(name)
            if key is None:
                raise ValueError(f"product field {name!r} is not writable with product_update")
            new = change[1]
            if name == "name" and not new:
                return "Shopify requires a product title: it cannot be emptied"
            product[key] = "" if new is None else str(new)
        return product

    def _product_updates(self, items: list[PlanItem]) -> list[ItemResult]:
        """Each product's title, descriptionHtml and vendor (the fields its item changes),
        one productUpdate per item; its userErrors are that item's result."""
        results: list[ItemResult] = []
        refused: list[int] = []
        for i, item in enumerate(items):
            product = self._product_input(item)
            if isinstance(product, str):
                results.append(ItemResult(False, product))
                continue
            data = self._graphql(PRODUCT_UPDATE, {"product": product}, "FeedsyncProductUpdate", 10)
            payload = data.get("productUpdate")
            results.append(_product_result(payload))
            if _has_user_errors(payload):
                refused.append(i)
        self._mark_gone_products(items, results, refused)
        return results

    def _product_update_bulk_operation(
        self, items: list[PlanItem], batch_key: str
    ) -> list[ItemResult]:
        """The same product updates as one bulk mutation: one line (``{"product": ...}``) per
        item; a line's userErrors (or its missing result) are that item's result."""
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        sent: list[int] = []
        lines: list[JSON] = []
        for i, item in enumerate(items):
            product = self._product_input(item)
            if isinstance(product, str):
                results[i] = ItemResult(False, product)
            else:
                sent.append(i)
                lines.append({"product": product})
        if lines:
            answers = self._bulk_mutation(PRODUCT_UPDATE, "productUpdate", lines, batch_key)
            refused: list[int] = []
            for i, answer in zip(sent, answers, strict=True):
                results[i] = _product_result(answer)
                if _has_user_errors(answer):
                    refused.append(i)
            self._mark_gone_products(items, results, refused)
        return results

    def _mark_gone_products(
        self, items: list[PlanItem], results: list[ItemResult], refused: list[int]
    ) -> None:
        """productUpdate's userErrors are plain ``UserError`` (no ``code`` in the schema), so
        a refused update does not say whether its product still exists: ask, with one
        ``nodes(ids:)`` query for the products of the ``refused`` items (those answered
        with userErrors). A null node is a product the shop no longer has."""
        for start in range(0, len(refused), _MAX_NODES):
            part = refused[start : start + _MAX_NODES]
            ids = [gid("Product", int(items[i]["product_id"])) for i in part]
            data = self._graphql(
                PRODUCTS_EXIST_QUERY, {"ids": ids}, "FeedsyncProductsExist", len(ids)
            )
            nodes = data.get("nodes")
            if not isinstance(nodes, list) or len(nodes) != len(ids):
                continue  # no answer to go by: the refusals stand as they are
            for i, node in zip(part, nodes, strict=True):
                if node is None:
                    results[i] = item_gone("product", results[i].message)

    # -- stock ------------------------------------------------------------------------------
    def _location_gid(self, location: str | None) -> str:
        if location:
            return location if location.startswith("gid://") else gid("Location", location)
        if self._primary_location is None:
            data = self._graphql(PRIMARY_LOCATION_QUERY, {}, "FeedsyncPrimaryLocation", 1)
            found = data.get("location")
            if not found:
                raise StoreRequestError(
                    f"Shopify store {self.shop_url} has no primary location; "
                    "set the profile's stock location"
                )
            self._primary_location = str(found["id"])
        return self._primary_location

    def _inventory_set(
        self, items: list[PlanItem], batch_key: str, location: str | None
    ) -> list[ItemResult]:
        location_id = self._location_gid(location)
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        compared: list[int] = []
        blind: list[int] = []  # never read from the store: nothing to compare with
        for i, item in enumerate(items):
            change = (item.get("changes") or {}).get("stock")
            if change is None or change[1] is None:
                results[i] = ItemResult(False, "no stock quantity to set")
            elif not item.get("ref"):
                results[i] = ItemResult(
                    False, "the variant's inventory item is unknown; re-import the catalog"
                )
            elif change[0] is None:
                blind.append(i)
            else:
                compared.append(i)
        uri = f"gid://feedsync/SyncBatch/{quote(batch_key, safe='')}"
        for group, ignore in ((compared, False), (blind, True)):
            if group:
                self._set_quantities(items, group, ignore, location_id, uri, results)
        return results

    def _set_quantities(
        self,
        items: list[PlanItem],
        indexes: list[int],
        ignore_compare: bool,
        location_id: str,
        uri: str,
        results: list[ItemResult],
    ) -> None:
        stale: list[int] = []
        pending = list(indexes)
        while pending:
            quantities = []
            for i in pending:
                old, new = items[i]["changes"]["stock"]
                entry: JSON = {
                    "inventoryItemId": gid("InventoryItem", items[i]["ref"]),
                    "locationId": location_id,
                    "quantity": int(new),
                }
                if not ignore_compare:
                    entry["compareQuantity"] = int(old)
                quantities.append(entry)
            variables = {
                "input": {
                    "name": "available",
                    "reason": self.stock_reason,
                    "referenceDocumentUri": uri,
                    "ignoreCompareQuantity": ignore_compare,
                    "quantities": quantities,
                }
            }
            data = self._graphql(INVENTORY_SET, variables, "FeedsyncInventorySet", 10)
            errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
            if not errors:
                break
            bad: dict[int, list[str]] = {}
            general: list[str] = []
            missing: set[int] = set()  # items whose inventory item no longer exists
            for error in errors:
                path = error.get("field") or []
                if len(path) >= 3 and path[1] == "quantities" and str(path[2]).isdigit():
                    position = int(path[2])
                    if position < len(pending):
                        if error.get("code") == "COMPARE_QUANTITY_STALE":
                            stale.append(pending[position])
                        if error.get("code") in _INVENTORY_ITEM_MISSING:
                            missing.add(pending[position])
                        bad.setdefault(pending[position], []).append(_user_error_text(error))
                        continue
                general.append(_user_error_text(error))
            if general or not bad:  # nothing we can drop: the whole request is refused
                for i in pending:
                    results[i] = _stock_result(general + bad.get(i, []), i in missing)
                return
            for i, messages in bad.items():
                results[i] = _stock_result(messages, i in missing)
            pending = [i for i in pending if i not in bad]  # all-or-nothing: send the rest again
        if stale:
            self._recheck_stale(items, stale, location_id, results)

    def _recheck_stale(
        self, items: list[PlanItem], stale: list[int], location_id: str, results: list[ItemResult]
    ) -> None:
        """A stale compare is fine when the store already holds the target quantity."""
        ids = [gid("InventoryItem", items[i]["ref"]) for i in stale]
        data = self._graphql(
            INVENTORY_LEVELS_QUERY,
            {"ids": ids, "locationId": location_id},
            "FeedsyncInventoryLevels",
            3 * len(ids),
        )
        current: dict[str, int | None] = {}
        for node in data.get("nodes") or []:
            if not node or "id" not in node:
                continue
            level = node.get("inventoryLevel") or {}
            found = [
                q["quantity"] for q in level.get("quantities") or [] if q["name"] == "available"
            ]
            current[node["id"]] = found[0] if found else None
        for i, item_gid in zip(stale, ids, strict=True):
            old, new = items[i]["changes"]["stock"]
            now = current.get(item_gid)
            if now is not None and now == int(new):
                results[i] = ItemResult(True, "")
            else:
                results[i] = ItemResult(
                    False,
                    f"stock changed in the store since it was read (expected {old}, found "
                    f"{'unknown' if now is None else now}); not overwritten",
                )

    # -- bulk mutation ----------------------------------------------------------------------
    def _variants_bulk_operation(self, items: list[PlanItem], batch_key: str) -> list[ItemResult]:
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        by_product: dict[int, list[int]] = {}
        inputs: dict[int, JSON] = {}
        for i, (item, payload) in enumerate(zip(items, self._variant_inputs(items), strict=True)):
            if isinstance(payload, str):
                results[i] = ItemResult(False, payload)
                continue
            inputs[i] = payload
            by_product.setdefault(int(item["product_id"]), []).append(i)
        lines: list[list[int]] = []  # the items each line carries
        line_variables: list[JSON] = []
        for pid, indexes in by_product.items():
            for start in range(0, len(indexes), self.max_bulk_lines_variants):
                part = indexes[start : start + self.max_bulk_lines_variants]
                lines.append(part)
                line_variables.append(self._product_variables(pid, [inputs[i] for i in part]))
        if not lines:
            return results
        answers = self._bulk_mutation(
            VARIANTS_BULK_UPDATE, "productVariantsBulkUpdate", line_variables, batch_key
        )
        for sent, variables, answer in zip(lines, line_variables, answers, strict=True):
            if isinstance(answer, str):
                for i in sent:
                    results[i] = ItemResult(False, answer)
            else:
                errors = answer.get("userErrors") or []
                self._map_variant_errors(errors, sent, variables, results)
        return results

    def _bulk_mutation(
        self, document: str, root: str, lines: list[JSON], batch_key: str
    ) -> list[JSON | str]:
        """Run ``document`` once per line of variables as bulk mutation(s); per line its
        ``root`` payload (``{"userErrors": [...]}``) or why there is none.

        Staged upload, run, poll, download: the lines go in files of at most
        ``max_bulk_file_bytes``, one operation after the other (one bulk mutation per shop),
        all within ``bulk_timeout_s``. An operation that does not complete raises.
        """
        encoded = [json.dumps(line, separators=(",", ":")).encode() for line in lines]
        answers: list[JSON | str] = [_NO_BULK_RESULT] * len(lines)
        files = _files_of(encoded, self.max_bulk_file_bytes)
        started = self._clock()
        for part, (first, end) in enumerate(files):
            left = self.bulk_timeout_s - (self._clock() - started)
            if part and left <= 0:  # no time for another: a retry sends the values again
                raise StoreUnavailable(
                    f"Shopify store {self.shop_url}: {part} of {len(files)} bulk operations "
                    f"done; no time left for the others within {self.bulk_timeout_s:.0f} s"
                )
            key = batch_key if len(files) == 1 else f"{batch_key}-{part + 1}"
            path = self._stage_upload(b"\n".join(encoded[first:end]) + b"\n", key)
            operation = self._run_bulk_mutation(document, path, key, left)
            final = self._wait_bulk(
                operation, end - first, self.bulk_timeout_s - (self._clock() - started)
            )
            status = final.get("status")
            if status != "COMPLETED":
                code = final.get("errorCode") or status
                message = (
                    f"Shopify store {self.shop_url}: bulk operation {operation} ended {status} "
                    f"({code})"
                )
                if code == "ACCESS_DENIED":
                    raise StoreAuthError(message + "; check the app's write_products scope")
                raise StoreUnavailable(message)
            if not final.get("url"):
                continue
            for raw in self._download(str(final["url"])).splitlines():
                if not raw.strip():
                    continue
                entry = json.loads(raw)
                number = entry.get("__lineNumber")
                if not isinstance(number, int) or not 0 <= number < end - first:
                    continue
                if entry.get("errors"):
                    answers[first + number] = "; ".join(
                        str(e.get("message")) for e in entry["errors"]
                    )
                    continue
                payload = (entry.get("data") or {}).get(root)
                answers[first + number] = (
                    payload if isinstance(payload, dict) else _NO_MUTATION_RESULT
                )
        return answers

    def _stage_upload(self, body: bytes, batch_key: str) -> str:
        filename = f"feedsync-{quote(batch_key, safe='')}.jsonl"
        data = self._graphql(
            STAGED_UPLOADS,
            {
                "input": [
                    {
                        "resource": "BULK_MUTATION_VARIABLES",
                        "filename": filename,
                        "mimeType": "text/jsonl",
                        "httpMethod": "POST",
                    }
                ]
            },
            "FeedsyncStagedUpload",
            10,
        )
        payload = data.get("stagedUploadsCreate") or {}
        targets = payload.get("stagedTargets") or []
        if payload.get("userErrors") or not targets or not targets[0]:
            raise StoreRequestError(
                f"Shopify store {self.shop_url} refused a staged upload: "
                + "; ".join(_user_error_text(e) for e in payload.get("userErrors") or [])
            )
        target = targets[0]
        params = [(p["name"], p["value"]) for p in target.get("parameters") or []]
        key = next((v for n, v in params if n == "key"), None)
        self._transfer(
            "POST",
            str(target["url"]),
            data=params,
            files={"file": (filename, body, "text/jsonl")},
        )
        if key is None:  # no form key: the resource URL's path names the file
            key = urlsplit(str(target.get("resourceUrl") or "")).path.lstrip("/")
        return key

    def _run_bulk_mutation(
        self, document: str, path: str, batch_key: str, timeout_s: float | None = None
    ) -> str:
        """Start a bulk mutation of ``document`` over the staged file; its operation id. A
        bulk mutation already running is waited for (within ``timeout_s``) first."""
        busy_waits = 0
        started = self._clock()
        while True:
            data = self._graphql(
                BULK_RUN,
                {"mutation": document, "path": path, "client": batch_key},
                "FeedsyncBulkRun",
                10,
            )
            payload = data.get("bulkOperationRunMutation") or {}
            errors = payload.get("userErrors") or []
            if not errors and payload.get("bulkOperation"):
                return str(payload["bulkOperation"]["id"])
            if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors) and busy_waits < 3:
                # One bulk mutation per shop: wait for the running one (maybe our own earlier
                # attempt whose answer was lost), then start ours; the values are absolute.
                busy_waits += 1
                current = self._graphql(CURRENT_BULK_QUERY, {}, "FeedsyncCurrentBulkMutation", 1)
                running = current.get("currentBulkOperation")
                if running and running.get("status") not in _DONE:
                    left = None
                    if timeout_s is not None:
                        left = timeout_s - (self._clock() - started)
                    self._wait_bulk(str(running["id"]), timeout_s=left)
                continue
            raise StoreRequestError(
                f"Shopify store {self.shop_url} refused the bulk mutation: "
                + "; ".join(_user_error_text(e) for e in errors)
            )

    def _wait_bulk(
        self, operation: str, lines: int | None = None, timeout_s: float | None = None
    ) -> JSON:
        """Poll to the end (within ``timeout_s``, default ``bulk_timeout_s``) with as few polls
        (requests) as the job allows; the final node.

        Quickly at first (small jobs finish in well under a second), then less and less often,
        up to every ``bulk_poll_s``. When the job's size is known (a mutation's ``lines``) and
        its ``objectCount`` shows progress, the next poll goes at the estimated end instead,
        with a margin so that one more poll usually finds it done. The pace is measured
        between two polls that both show progress: a job may sit queued before it runs, so
        the pace since the start can be far too slow. With one such poll only, the pace since
        the last poll that showed none (the job started after it): never faster than the job
        runs, so that estimate errs late. No single wait exceeds ``_MAX_WAIT_POLLS`` x
        ``bulk_poll_s`` (what a wrong estimate can cost) nor runs past the timeout.
        """
        timeout = self.bulk_timeout_s if timeout_s is None else timeout_s
        longest = _MAX_WAIT_POLLS * self.bulk_poll_s
        # Nothing is done the instant a job starts: the first poll comes after one interval.
        interval = min(0.05, self.bulk_poll_s)
        started = self._clock()
        self._sleep(interval)
        waited = interval
        idle_at = 0.0  # when a poll last showed no progress yet (the job started after it)
        seen: tuple[float, int] | None = None  # (when, count): the last poll showing progress
        while True:
            data = self._graphql(BULK_POLL_QUERY, {"id": operation}, "FeedsyncBulkOperation", 1)
            node = data.get("node") or {}
            # The time since the start: the sleeps, or more (the polls took time too).
            now = max(waited, self._clock() - started)
            if node.get("status") in _DONE:
                return node
            if now >= timeout - 1e-6:
                raise StoreUnavailable(
                    f"Shopify store {self.shop_url}: bulk operation {operation} still "
                    f"{node.get('status')} after {now:.0f} s"
                )
            interval = min(interval * 2, self.bulk_poll_s)
            wait = interval
            done = _count(node.get("objectCount"))
            pace = 0.0  # lines per second, 0: unknown
            if seen is None:
                if done > 0 and now > idle_at:
                    pace = done / (now - idle_at)
                else:
                    idle_at = now
            elif done > seen[1] and now > seen[0]:
                pace = (done - seen[1]) / (now - seen[0])
            if done > (seen[1] if seen else 0):
                seen = (now, done)
            if lines and pace > 0 and done < lines:
                wait = max(interval, (lines - done) / pace * _ETA_MARGIN)
            wait = max(0.0, min(wait, longest, timeout - now))
            self._sleep(wait)
            waited = now + wait

    def _download(self, url: str) -> bytes:
        return self._transfer("GET", url).content

    def _download_into(self, url: str, spool: IO[bytes]) -> None:
        """Stream a result file into ``spool``; a transfer broken midway starts over."""
        failures = 0
        while True:
            response = self._transfer("GET", url, stream=True)
            try:
                with response:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        spool.write(chunk)
                return
            except _TRANSIENT_EXCEPTIONS as exc:
                if failures >= self.max_retries:
                    raise StoreUnavailable(
                        f"Shopify store {self.shop_url}: the bulk result download broke off "
                        f"{failures + 1} time(s); last: {type(exc).__name__} ({exc})"
                    ) from None
                spool.seek(0)
                spool.truncate()
                self._sleep(self._backoff(failures))
                failures += 1

    # -- transport --------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        return self._random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def _transfer(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Staged upload / result download: not the Admin API, so no token and no bucket."""
        failures = 0
        while True:
            try:
                response = self._session.request(method, url, timeout=self.timeout, **kwargs)
            except _TRANSIENT_EXCEPTIONS as exc:
                what = f"{type(exc).__name__} ({exc})"
            else:
                if response.status_code < 300:
                    return response
                what = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    raise StoreRequestError(
                        f"Shopify store {self.shop_url}: {method} of a bulk file was refused "
                        f"({what}: {response.text[:200]})"
                    )
            if failures >= self.max_retries:
                raise StoreUnavailable(
                    f"Shopify store {self.shop_url}: {method} of a bulk file failed after "
                    f"{failures + 1} attempt(s); last: {what}"
                )
            self._sleep(self._backoff(failures))
            failures += 1

    def _available_now(self) -> float | None:
        if self._bucket is None:
            return None
        available, maximum, rate, seen_at = self._bucket
        elapsed = max(self._clock() - seen_at, self._waited_s)
        return min(maximum, available + rate * elapsed)

    def _note_cost(self, body: JSON, operation: str) -> JSON:
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self._bucket = (
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
                self._clock(),
            )
            self._waited_s = 0.0
        except (KeyError, TypeError, ValueError):
            pass
        if isinstance(cost.get("requestedQueryCost"), int | float):
            self._requested[operation] = int(cost["requestedQueryCost"])
        if isinstance(cost.get("actualQueryCost"), int | float):
            self.points_spent += int(cost["actualQueryCost"])
        return cost

    def _wait_for_points(self, needed: float) -> None:
        available = self._available_now()
        if self._bucket is None or available is None or needed <= available:
            return
        rate = self._bucket[2] or 1.0
        wait = (needed - available) / rate
        self._sleep(wait)
        self._waited_s += wait

    def _graphql(self, query: str, variables: JSON, operation: str, estimate: int) -> JSON:
        """Send one document; waits, retries and error mapping live here. Returns ``data``."""
        failures = 0  # 5xx, timeouts, resets, 429s
        throttles = 0
        attempts = 0
        headers = {
            "X-Shopify-Access-Token": self._token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        body = {"query": query, "variables": variables, "operationName": operation}
        while True:
            attempts += 1
            self._wait_for_points(self._requested.get(operation, estimate))
            retry_after: float | None = None
            self.requests_sent += 1
            try:
                response = self._session.post(
                    self.endpoint, json=body, headers=headers, timeout=self.timeout
                )
            except _TRANSIENT_EXCEPTIONS as exc:
                what = f"{type(exc).__name__} ({exc})"
            else:
                status = response.status_code
                if status in (401, 403):
                    raise StoreAuthError(
                        f"Shopify store {self.shop_url} rejected the access token (HTTP "
                        f"{status}: {_text(response)}); reinstall the app or check its scopes"
                    )
                if status in (408, 429) or status >= 500:
                    what = f"HTTP {status}"
                    retry_after = _retry_after(response)
                elif status != 200:
                    raise StoreRequestError(
                        f"Shopify store {self.shop_url}: {operation} was rejected with HTTP "
                        f"{status}: {_text(response)}"
                    )
                else:
                    try:
                        answer = response.json()
                    except ValueError:
                        answer = None
                    if not isinstance(answer, dict):
                        what = "an answer that is not a JSON object"
                    else:
                        cost = self._note_cost(answer, operation)
                        errors = answer.get("errors") or []
                        codes = {
                            str((e.get("extensions") or {}).get("code"))
                            for e in errors
                            if isinstance(e, dict)
                        }
                        if not errors and isinstance(answer.get("data"), dict):
                            return dict(answer["data"])
                        if "THROTTLED" in codes:
                            throttles += 1
                            self.throttled += 1
                            if throttles > self.max_throttle_waits:
                                raise StoreUnavailable(
                                    f"Shopify store {self.shop_url}: {operation} throttled "
                                    f"{throttles - 1} times in a row"
                                )
                            self._wait_throttled(cost, operation, estimate)
                            continue
                        text = _errors_text(errors) or "no data in the answer"
                        if codes & _TRANSIENT_CODES:
                            what = text
                        elif "ACCESS_DENIED" in codes:
                            raise StoreAuthError(
                                f"Shopify store {self.shop_url}: {operation} was denied: {text}; "
                                "check the app's scopes"
                            )
                        else:
                            raise StoreRequestError(
                                f"Shopify store {self.shop_url}: {operation} failed: {text}"
                            )
            if failures >= self.max_retries:
                raise StoreUnavailable(
                    f"Shopify store {self.shop_url}: {operation} failed after {attempts} "
                    f"attempt(s); last: {what}"
                )
            self._sleep(retry_after if retry_after is not None else self._backoff(failures))
            failures += 1

    def _wait_throttled(self, cost: JSON, operation: str, estimate: int) -> None:
        status = cost.get("throttleStatus") or {}
        needed = cost.get("requestedQueryCost") or self._requested.get(operation, estimate)
        try:
            missing = float(needed) - float(status["currentlyAvailable"])
            rate = float(status["restoreRate"]) or 1.0
        except (KeyError, TypeError, ValueError):
            self._sleep(1.0)
            return
        # A throttled answer may come with room to spare (another client spent it first):
        # wait at least one restore tick.
        wait = max(missing / rate, 1.0 / rate)
        self._sleep(wait)
        self._waited_s += wait


# How much longer than the estimated end to wait before polling a bulk job again.
_ETA_MARGIN: Final = 1.15
# The longest single wait between two polls of a bulk job, in ``bulk_poll_s``.
_MAX_WAIT_POLLS: Final = 3.0
_NO_BULK_RESULT: Final = "the bulk operation returned no result for this item"
_NO_MUTATION_RESULT: Final = "Shopify answered no result for this item"
# userError codes (the schema's enums) saying what a write named does not exist.
# ProductVariantsBulkUpdateUserErrorCode:
_PRODUCT_MISSING: Final = frozenset({"PRODUCT_DOES_NOT_EXIST"})
_VARIANT_MISSING: Final = frozenset({"PRODUCT_VARIANT_DOES_NOT_EXIST"})
# InventorySetQuantitiesUserErrorCode ("The specified inventory item could not be found."):
_INVENTORY_ITEM_MISSING: Final = frozenset({"INVALID_INVENTORY_ITEM"})
_MAX_NODES: Final = 250  # ids per nodes(ids:) query


def _files_of(lines: list[bytes], limit: int) -> list[tuple[int, int]]:
    """``[first, end)`` ranges of ``lines`` whose JSONL (a newline after each) stays within
    ``limit`` bytes; a line longer than that goes alone (Shopify will say what it thinks)."""
    files: list[tuple[int, int]] = []
    first, size = 0, 0
    for n, line in enumerate(lines):
        if n > first and size + len(line) + 1 > limit:
            files.append((first, n))
            first, size = n, 0
        size += len(line) + 1
    if lines:
        files.append((first, len(lines)))
    return files


def _product_result(payload: JSON | str | None) -> ItemResult:
    """A productUpdate payload (or why there is none) as the item's result."""
    if isinstance(payload, str):
        return ItemResult(False, payload)
    if payload is None:
        return ItemResult(False, "Shopify answered no result for the product update")
    errors = payload.get("userErrors") or []
    if errors:
        return ItemResult(False, "; ".join(_user_error_text(e) for e in errors))
    return ItemResult(True, "")


def _has_user_errors(payload: JSON | str | None) -> bool:
    """Did a mutation's payload come back with userErrors (the shop refused the input)?"""
    return isinstance(payload, dict) and bool(payload.get("userErrors"))


def _stock_result(messages: list[str], missing: bool) -> ItemResult:
    """An inventorySetQuantities item's failure; ``missing``: its inventory item is gone
    (its variant was deleted: Shopify deletes a variant's inventory item with it)."""
    text = "; ".join(messages)
    return item_gone("variant", text) if missing else ItemResult(False, text)


def _count(value: Any) -> int:
    """A BulkOperation count (an UnsignedInt64, sent as a string)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _user_error_text(error: JSON) -> str:
    message = str(error.get("message") or "invalid")
    path = error.get("field") or []
    tail = [str(p) for p in path if not str(p).isdigit() and p not in ("variants", "input")]
    code = error.get("code")
    where = ".".join(tail)
    text = f"{where}: {message}" if where else message
    return f"{text} ({code})" if code else text


def _errors_text(errors: list[Any]) -> str:
    texts = []
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code")
            message = str(error.get("message") or "")
            texts.append(f"{message} ({code})" if code else message)
    return "; ".join(t for t in texts if t)


def _text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or "no details"
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return _errors_text(errors) or json.dumps(errors)[:300]
    return json.dumps(body)[:300]
