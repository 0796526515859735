"""A local Amazon Selling Partner API for the tests, the benchmarks and the local stack.

Serves, on loopback, what the connector (and any SP-API client) uses, shaped as the
specs in ``../shared/specs/amazon/`` (``FEEDSYNC_SPECS_DIR`` overrides) describe it::

    POST /auth/o2/token                                    Login with Amazon, refresh_token grant
    GET  /listings/2021-08-01/items/{sellerId}             searchListingsItems
    GET  /listings/2021-08-01/items/{sellerId}/{sku}       getListingsItem
    POST /reports/2021-06-30/reports                       createReport (merchant listings)
    GET  /reports/2021-06-30/reports/{reportId}            getReport
    GET  /reports/2021-06-30/documents/{reportDocumentId}  getReportDocument
    POST /feeds/2021-06-30/documents                       createFeedDocument
    PUT  {url}                                             the upload (S3's presigned URL)
    POST /feeds/2021-06-30/feeds                           createFeed (JSON_LISTINGS_FEED)
    GET  /feeds/2021-06-30/feeds/{feedId}                  getFeed
    GET  /feeds/2021-06-30/documents/{feedDocumentId}      getFeedDocument
    GET  {url}                                             a document's download

Behaviour reproduced:

* The access token from the token endpoint (``expires_in`` seconds) goes in
  ``x-amz-access-token``; none, an unknown one or an expired one -> 403 ``Unauthorized``
  (an expired one says so in ``details``; ``expire_tokens(401)``: 401 where the
  operation's model lists it, the Feeds and Reports APIs).
* Every operation has its usage plan (rate per second, burst) from the specs' tables, a
  token bucket per operation; past it -> 429 ``QuotaExceeded``. Every answer carries
  ``x-amzn-RateLimit-Limit`` (the rate). ``scale_rates`` makes every plan faster.
* Reports and feeds are processed asynchronously on the double's clock (IN_QUEUE ->
  IN_PROGRESS -> DONE/FATAL); a report's document is the listings as tab-separated
  text (gzip with ``gzip_reports``); a feed's document is validated against
  ``listings-feed-schema-v2.json``: an invalid document is FATAL, an invalid message an
  ERROR issue of that message; PATCH messages change ``purchasable_offer`` (our price, in
  the marketplace's currency, more than 0 with at most 2 decimals) and
  ``fulfillment_availability`` (DEFAULT channel quantity), ``replace`` the whole attribute,
  ``merge`` only the sub-attributes given of the entry its selectors name (``offers.py``);
  a listing fulfilled by Amazon (``fulfillment``: AMAZON_NA, ...) has no DEFAULT quantity
  until one is sent, which makes it merchant-fulfilled; the processing report follows
  ``listings-feed-processing-report-schema-v2.json``.
* Faults: ``fail_next`` (429, 5xx, with or without headers), ``reject_sku`` (an ERROR
  issue with the given code), ``fatal_next_feeds``, ``expire_tokens``; an unknown SKU is
  the ERROR issue ``CODE_UNKNOWN_SKU``.

``clock`` (monotonic seconds) drives the rate limits and the processing: a test or a
benchmark gives a virtual one and nothing ever waits for real.
"""

from feedsync_local.amazon_double.clock import VirtualClock
from feedsync_local.amazon_double.server import AmazonDouble
from feedsync_local.amazon_double.state import (
    CODE_INVALID_VALUE,
    CODE_UNKNOWN_SKU,
    RATES,
    Listing,
)

__all__ = [
    "CODE_INVALID_VALUE", "CODE_UNKNOWN_SKU", "RATES", "AmazonDouble", "Listing", "VirtualClock",
]  # fmt: skip
