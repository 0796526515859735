"""The Selling Partner API as data: paths, marketplaces, and how values are spelled in
both directions (money, report rows, feed messages, listing ids).

Nothing here sends a request.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Final

from feedsync.domain.money import amount_to_cents

JSON = dict[str, Any]

# Login with Amazon: where a refresh token buys an access token.
LWA_TOKEN_URL: Final = "https://api.amazon.com/auth/o2/token"

SEARCH: Final = "/listings/2021-08-01/items/{seller}"
REPORTS: Final = "/reports/2021-06-30/reports"
REPORT: Final = "/reports/2021-06-30/reports/{id}"
REPORT_DOCUMENT: Final = "/reports/2021-06-30/documents/{id}"
FEED_DOCUMENTS: Final = "/feeds/2021-06-30/documents"
FEED_DOCUMENT: Final = "/feeds/2021-06-30/documents/{id}"
FEEDS: Final = "/feeds/2021-06-30/feeds"
FEED: Final = "/feeds/2021-06-30/feeds/{id}"

LISTINGS_REPORT: Final = "GET_MERCHANT_LISTINGS_ALL_DATA"
LISTINGS_FEED: Final = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE: Final = "application/json; charset=UTF-8"
# Offer-only PATCH messages name this generic product type (no product facts change).
OFFER_PRODUCT_TYPE: Final = "PRODUCT"
# The offer for all buyers (not a B2B one): a selector of purchasable_offer.
OFFER_AUDIENCE: Final = "ALL"
# The merchant-fulfilled channel: the only quantity a seller sets (FBA stock is Amazon's).
MERCHANT_CHANNEL: Final = "DEFAULT"
# searchListingsItems pages through at most this many results, 20 a page.
SEARCH_LIMIT: Final = 1000
SEARCH_PAGE: Final = 20
SEARCH_DATA: Final = "summaries,attributes,offers,fulfillmentAvailability"

# Each operation's usage plan (requests per second, burst): the specs' defaults. A seller
# with a higher plan says so in x-amzn-RateLimit-Limit, which the pacer then follows.
RATES: Final[dict[str, tuple[float, int]]] = {
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "searchListingsItems": (5.0, 5),
}

# The marketplace's currency: prices go to Amazon in it (Amazon's marketplace ids).
CURRENCIES: Final[dict[str, str]] = {
    "ATVPDKIKX0DER": "USD",  # United States
    "A2EUQ1WTGCTBG2": "CAD",  # Canada
    "A1AM78C64UM0Y8": "MXN",  # Mexico
    "A2Q3Y263D00KWC": "BRL",  # Brazil
    "A1F83G8C2ARO7P": "GBP",  # United Kingdom
    "A1PA6795UKMFR9": "EUR",  # Germany
    "A13V1IB3VIYZZH": "EUR",  # France
    "APJ6JRA9NG5V4": "EUR",  # Italy
    "A1RKKUPIHCS9HS": "EUR",  # Spain
    "A1805IZSGTT6HS": "EUR",  # Netherlands
    "AMEN7PMS3EDWL": "EUR",  # Belgium
    "A2NODRKZP88ZB9": "SEK",  # Sweden
    "A1C3SOZRARQ6R3": "PLN",  # Poland
    "A33AVAJ2PDY3EV": "TRY",  # Turkey
    "A2VIGQ35RCS4UG": "AED",  # United Arab Emirates
    "A17E79C6D8DWNP": "SAR",  # Saudi Arabia
    "ARBP9OOSHTCHU": "EGP",  # Egypt
    "A21TJRUUN4KGV": "INR",  # India
    "A1VC38T7YXB528": "JPY",  # Japan
    "A39IBJ37TRP1C6": "AUD",  # Australia
    "A19VAU5U5O7RUS": "SGD",  # Singapore
}
# Report product-id-type codes that are barcodes (1 is an ASIN: kept only when no
# barcode is known).
_ID_TYPES: Final = {"2": "ISBN", "3": "UPC", "4": "EAN"}


def listing_id(sku: str) -> int:
    """The id feedsync keys a listing by: stable for its SKU, positive, under 2**52 (safe
    as a JSON number everywhere). Each SKU is its own product and variant."""
    digest = hashlib.blake2b(sku.encode(), digest_size=8, person=b"feedsync-sku").digest()
    return (int.from_bytes(digest, "big") >> 12) or 1


def price_value(cents: int) -> float:
    """Cents as the JSON number ``value_with_tax`` takes (two decimals, exact in repr)."""
    return float(Decimal(int(cents)).scaleb(-2))


def to_cents(value: Any) -> int | None:
    return amount_to_cents(value)


def offer_patch(marketplace_id: str, currency: str, cents: int) -> JSON:
    """Our price, merged into the offer its selectors name (marketplace, currency, all
    buyers): ``merge`` keeps the offer's other sub-attributes (sale price, minimum and
    maximum seller allowed price, list price), which ``replace`` would drop."""
    if cents <= 0:
        raise ValueError(f"Amazon needs a price above 0, got {Decimal(cents).scaleb(-2)}")
    offer = {
        "marketplace_id": marketplace_id,
        "currency": currency,
        "audience": OFFER_AUDIENCE,
        "our_price": [{"schedule": [{"value_with_tax": price_value(cents)}]}],
    }
    return {"op": "merge", "path": "/attributes/purchasable_offer", "value": [offer]}


def quantity_patch(quantity: int) -> JSON:
    """The merchant-fulfilled quantity, merged into that channel's availability: its
    handling time and restock date stay (``replace`` would drop them)."""
    if quantity < 0:
        raise ValueError(f"Amazon needs a quantity of 0 or more, got {quantity}")
    value = [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": int(quantity)}]
    return {"op": "merge", "path": "/attributes/fulfillment_availability", "value": value}


def message(message_id: int, sku: str, patches: list[JSON]) -> JSON:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": OFFER_PRODUCT_TYPE,
        "patches": patches,
    }


def feed_document(seller_id: str, messages: list[JSON]) -> JSON:
    header = {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}
    return {"header": header, "messages": messages}


def report_barcode(row: dict[str, str]) -> str | None:
    """A report row's product identifier: its UPC, EAN or ISBN, else its ASIN."""
    product_id = (row.get("product-id") or "").strip()
    if product_id and (row.get("product-id-type") or "").strip() in _ID_TYPES:
        return product_id
    return (row.get("asin1") or "").strip() or product_id or None


def item_barcode(item: JSON) -> str | None:
    """A listings item's external identifier (UPC, EAN, ...), else its ASIN."""
    attributes = item.get("attributes") or {}
    for entry in attributes.get("externally_assigned_product_identifier") or ():
        if isinstance(entry, dict) and entry.get("value"):
            return str(entry["value"])
    for summary in item.get("summaries") or ():
        if isinstance(summary, dict) and summary.get("asin"):
            return str(summary["asin"])
    return None
