"""Reading a seller's listings in one marketplace into variants, whole or by update time.

* Whole: the Reports API's ``GET_MERCHANT_LISTINGS_ALL_DATA`` (create, poll with backoff,
  fetch the document, gunzip it when Amazon compressed it): tab-separated, one row per
  SKU with its price and merchant-fulfilled quantity.
* By update time: ``searchListingsItems`` with ``lastUpdatedAfter``/``Before``, 20 a page
  in update order. Amazon pages through at most 1,000 results: when more changed, the
  whole catalog is read from the report instead (a superset: the index replaces what it
  reads).

Each SKU is one item: product id = variant id = ``listing_id(sku)``, ``ref`` the SKU
(what a feed message names). The barcode is the listing's UPC, EAN or ISBN, else its
ASIN. A listing without a price or a merchant quantity (a variation parent, an FBA
offer) reads with None there; the stock rule's ``needs_read`` (``spec.py``) then keeps
feedsync from writing it a quantity (one would make an FBA listing merchant-fulfilled).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsync.domain.fields import Variant
from feedsync.errors import StoreRequestError
from feedsync.platforms.amazon.client import SellerClient
from feedsync.platforms.amazon.endpoints import (
    LISTINGS_REPORT,
    MERCHANT_CHANNEL,
    REPORT,
    REPORT_DOCUMENT,
    REPORTS,
    SEARCH,
    SEARCH_DATA,
    SEARCH_LIMIT,
    SEARCH_PAGE,
    item_barcode,
    listing_id,
    report_barcode,
    to_cents,
)
from feedsync.platforms.amazon.jobs import Polling, wait_for

JSON = dict[str, Any]
log = logging.getLogger(__name__)
# One second either side of a range: a listing read twice at the edge is harmless.
_SLACK = timedelta(seconds=1)


class CatalogReader:
    def __init__(
        self, client: SellerClient, seller_id: str, marketplace_id: str, polling: Polling
    ) -> None:
        self._client = client
        self._seller = seller_id
        self._marketplace = marketplace_id
        self._polling = polling
        self.report_fallbacks = 0

    def iter_variants(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[Variant]:
        seen: dict[int, str] = {}
        rows = self._report() if since is None and until is None else self._search(since, until)
        for variant in rows:
            sku = str(variant[2])
            other = seen.setdefault(variant[0], sku)
            if other != sku:
                raise StoreRequestError(
                    f"{self._client.where}: SKUs {other!r} and {sku!r} share feedsync's id "
                    f"{variant[0]}; rename one of them in Seller Central"
                )
            yield variant

    # -- by update time ---------------------------------------------------------------------
    def _search(self, since: datetime | None, until: datetime | None) -> Iterator[Variant]:
        query: JSON = {
            "marketplaceIds": self._marketplace,
            "includedData": SEARCH_DATA,
            "sortBy": "lastUpdatedDate",
            "sortOrder": "ASC",
            "pageSize": SEARCH_PAGE,
        }
        if since is not None:
            query["lastUpdatedAfter"] = _iso(since - _SLACK)
        if until is not None:
            query["lastUpdatedBefore"] = _iso(until + _SLACK)
        path = SEARCH.format(seller=self._seller)
        first = True
        while True:
            body = _object(self._client.call("searchListingsItems", "GET", path, params=query).body)
            if first and int(body.get("numberOfResults") or 0) > SEARCH_LIMIT:
                log.info(
                    "%s: %s listings changed, more than search pages through (%d): "
                    "reading the listings report instead",
                    self._client.where,
                    body.get("numberOfResults"),
                    SEARCH_LIMIT,
                )
                self.report_fallbacks += 1
                yield from self._report()
                return
            first = False
            for item in body.get("items") or ():
                if isinstance(item, dict) and item.get("sku"):
                    yield self._item_variant(item)
            token = (body.get("pagination") or {}).get("nextToken")
            if not token:
                return
            query["pageToken"] = token

    def _item_variant(self, item: JSON) -> Variant:
        sku = str(item["sku"])
        summary = _mine(item.get("summaries"), self._marketplace, "marketplaceId")
        offer = next(
            (
                o
                for o in item.get("offers") or ()
                if isinstance(o, dict)
                and o.get("marketplaceId") == self._marketplace
                and o.get("offerType", "B2C") == "B2C"
            ),
            None,
        )
        price = self._cents(sku, (offer or {}).get("price", {}).get("amount"))
        quantity = None
        channels = [
            entry for entry in item.get("fulfillmentAvailability") or () if isinstance(entry, dict)
        ]
        for entry in channels:
            if entry.get("fulfillmentChannelCode") == MERCHANT_CHANNEL:
                quantity = _int(entry.get("quantity"))
        if quantity is None and offer is not None and not channels:
            quantity = 0  # an offer no channel fulfils yet: the merchant's, with none in stock
        name = summary.get("itemName") if summary else None
        modified = summary.get("lastUpdatedDate") if summary else None
        return _variant(sku, item_barcode(item), price, quantity, name, modified)

    # -- whole: the listings report -------------------------------------------------------------
    def _report(self) -> Iterator[Variant]:
        started = self._client.now()
        spec = {"reportType": LISTINGS_REPORT, "marketplaceIds": [self._marketplace]}
        made = _object(self._client.call("createReport", "POST", REPORTS, json_body=spec).body)
        report_id = str(made.get("reportId") or "")
        path = REPORT.format(id=report_id)
        report = wait_for(
            lambda: _object(self._client.call("getReport", "GET", path).body),
            polling=self._polling,
            first_s=self._polling.first_s,
            sleep=self._client.sleep,
            clock=self._client.now,
            started=started,
            what=f"{self._client.where}: listings report {report_id}",
        )
        status = report.get("processingStatus")
        if status == "CANCELLED":  # Amazon cancels a report without data: no listings
            return
        if status != "DONE" or not report.get("reportDocumentId"):
            raise StoreRequestError(
                f"{self._client.where}: Amazon could not produce the listings report "
                f"{report_id} ({status}); try the import again later"
            )
        doc_path = REPORT_DOCUMENT.format(id=report["reportDocumentId"])
        doc = _object(self._client.call("getReportDocument", "GET", doc_path).body)
        raw = self._client.download(str(doc.get("url") or ""), "listings report document")
        if doc.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        yield from self._report_rows(raw)

    def _report_rows(self, raw: bytes) -> Iterator[Variant]:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:  # some marketplaces' reports are Windows-1252
            text = raw.decode("cp1252", errors="replace")
        rows = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
        if rows.fieldnames is None or "seller-sku" not in rows.fieldnames:
            raise StoreRequestError(
                f"{self._client.where}: the listings report has no seller-sku column "
                f"(columns: {', '.join(rows.fieldnames or [])[:200]})"
            )
        for row in rows:
            sku = (row.get("seller-sku") or "").strip()
            if not sku:
                continue
            price = self._cents(sku, (row.get("price") or "").strip())
            quantity = _int((row.get("quantity") or "").strip())
            channel = (row.get("fulfillment-channel") or "").strip() or MERCHANT_CHANNEL
            if quantity is None and channel == MERCHANT_CHANNEL and price is not None:
                quantity = 0  # a merchant-fulfilled offer with no quantity set yet
            name = (row.get("item-name") or "").strip() or None
            yield _variant(sku, report_barcode(row), price, quantity, name, None)

    def _cents(self, sku: str, amount: Any) -> int | None:
        try:
            return to_cents(amount)
        except ValueError:
            raise StoreRequestError(
                f"{self._client.where}: SKU {sku!r} has an unreadable price {amount!r}"
            ) from None


def _variant(
    sku: str,
    barcode: str | None,
    price: int | None,
    quantity: int | None,
    name: str | None,
    modified: str | None,
) -> Variant:
    ident = listing_id(sku)
    return (
        ident,
        ident,
        sku,
        barcode,
        price,
        None,
        None,
        None,
        quantity,
        name,
        modified,
        sku,
        None,
        None,
        None,
        None,
        None,  # a listing has no store-wide visibility feedsync reads
    )


def _mine(entries: Any, marketplace: str, key: str) -> JSON | None:
    for entry in entries or ():
        if isinstance(entry, dict) and entry.get(key) == marketplace:
            return entry
    return None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _object(body: Any) -> JSON:
    return body if isinstance(body, dict) else {}


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
