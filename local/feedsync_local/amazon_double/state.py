"""What the Amazon double holds and does, without HTTP: listings, access tokens, reports,
feeds and their processing, the per-operation rate limits.

Everything runs on one clock (``clock``: seconds, monotonic). Reports and feeds move from
IN_QUEUE through IN_PROGRESS to DONE (or FATAL) as that clock passes their times, so a
test or a benchmark with a virtual clock never waits: whatever asks the double anything
first lets it catch up (``advance``), which is when a due feed is processed.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from feedsync_local.amazon_double import offers
from feedsync_local.specs import specs_dir

JSON = dict[str, Any]

SPECS = specs_dir() / "amazon"
FEED_SCHEMA = "listings-feed-schema-v2.json"
REPORT_SCHEMA = "listings-feed-processing-report-schema-v2.json"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
LISTINGS_FEED = "JSON_LISTINGS_FEED"

# Each operation's usage plan (requests per second, burst), as the specs' tables give it.
RATES: dict[str, tuple[float, int]] = {
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "getFeedDocument": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "getListingsItem": (5.0, 10),
    "searchListingsItems": (5.0, 5),
}

# Issue codes of the double's processing reports (Amazon's codes are not in the specs;
# these are stable, and the connector knows them as Amazon's).
CODE_UNKNOWN_SKU = "8541"
CODE_INVALID_VALUE = "90244"
CODE_INVALID_MESSAGE = "4000001"
CODE_FATAL = "5000"
CODE_UNSUPPORTED = "4000002"

# The report's columns (GET_MERCHANT_LISTINGS_ALL_DATA, the ones a merchant file has).
REPORT_COLUMNS = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "item-note",
    "item-condition",
    "asin1",
    "product-id",
    "fulfillment-channel",
    "status",
)
# product-id-type as the report spells it.
ID_TYPES = {"ASIN": "1", "ISBN": "2", "UPC": "3", "EAN": "4"}


@cache
def schema(name: str) -> JSON:
    """One of the specs' JSON schemas, read from the shared specs (never copied)."""
    loaded: JSON = json.loads((SPECS / name).read_text())
    return loaded


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class Listing:
    sku: str
    name: str
    asin: str
    id_type: str  # UPC, EAN, ISBN or ASIN: what product_id is
    product_id: str
    price_cents: int | None
    quantity: int | None
    created: datetime
    updated: datetime
    product_type: str = "PRODUCT"
    attributes: JSON = field(default_factory=dict)
    # DEFAULT: merchant-fulfilled; AMAZON_NA, AMAZON_EU, ...: fulfilled by Amazon (FBA),
    # whose stock is Amazon's (``quantity`` is the merchant-fulfilled one: None there).
    channel: str = offers.MERCHANT
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"

    def __post_init__(self) -> None:
        """The offer attributes from the price and quantity given, unless given whole."""
        attributes = self.attributes
        if "purchasable_offer" not in attributes and self.price_cents is not None:
            price = float(Decimal(self.price_cents).scaleb(-2))
            offer: JSON = {"marketplace_id": self.marketplace_id, "currency": self.currency}
            offer["our_price"] = [{"schedule": [{"value_with_tax": price}]}]
            attributes["purchasable_offer"] = [offer]
        if "fulfillment_availability" not in attributes and (
            self.quantity is not None or self.channel != offers.MERCHANT
        ):
            entry: JSON = {"fulfillment_channel_code": self.channel}
            if self.quantity is not None:
                entry["quantity"] = self.quantity
            attributes["fulfillment_availability"] = [entry]
        self.sync()

    def sync(self) -> None:
        """Price, quantity and channel as the offer attributes now say."""
        entries = self.attributes.get("fulfillment_availability")
        self.price_cents = offers.our_price(
            self.attributes.get("purchasable_offer"), self.marketplace_id
        )
        self.quantity = offers.merchant_quantity(entries)
        self.channel = offers.channel(entries)


@dataclass
class Bucket:
    """A usage plan: ``rate`` requests per second, up to ``burst`` at once."""

    rate: float
    burst: int
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Job:
    """A report or a feed: its times on the double's clock, and what it produced."""

    job_id: str
    kind: str  # the report or feed type
    marketplace_ids: list[str]
    created: float
    starts: float
    ends: float
    document_id: str | None = None  # a feed's input document
    status: str = "IN_QUEUE"
    result_id: str | None = None
    fatal: bool = False


@dataclass
class Document:
    content_type: str
    body: bytes | None = None
    compression: str | None = None
    result: bool = False  # the double's own output: not uploadable


class AmazonState:
    """A seller's listings in one marketplace, and the SP-API's machinery around them."""

    def __init__(
        self,
        *,
        seller_id: str,
        marketplace_id: str,
        currency: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        clock: Callable[[], float],
        token_ttl_s: int = 3600,
    ) -> None:
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.currency = currency
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.clock = clock
        self.token_ttl_s = token_ttl_s
        self.lock = threading.RLock()
        self.listings: dict[str, Listing] = {}
        self.tokens: dict[str, float] = {}  # access token -> expiry on the clock
        self.buckets: dict[str, Bucket] = {}
        self.rate_scale = 1.0
        self.jobs: dict[str, Job] = {}
        self.documents: dict[str, Document] = {}
        # How long the double takes (clock seconds): queued, then processing.
        self.queue_s = 2.0
        self.report_s = 5.0
        self.feed_min_s = 5.0
        self.feed_s_per_message = 0.002
        self.gzip_reports = False
        self.fatal_feeds = 0
        self.rejections: dict[str, tuple[str, str]] = {}
        self._origin = clock()
        self._wall0 = datetime.now(UTC).replace(microsecond=0)
        self._ids = 50_000

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Wall time on the double's clock."""
        return self._wall0 + timedelta(seconds=self.clock() - self._origin)

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    # -- tokens -------------------------------------------------------------------------------
    def exchange(self, form: dict[str, str]) -> tuple[int, JSON]:
        """Login with Amazon's refresh_token grant."""
        if form.get("grant_type") != "refresh_token":
            return 400, _lwa(
                "unsupported_grant_type", "The authorization grant type is not supported"
            )
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", "").encode(), self.client_secret.encode()
        ):
            return 401, _lwa("invalid_client", "Client authentication failed")
        if not secrets.compare_digest(
            form.get("refresh_token", "").encode(), self.refresh_token.encode()
        ):
            return 400, _lwa(
                "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        token = "Atza|" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = self.clock() + self.token_ttl_s
        body = {"access_token": token, "refresh_token": self.refresh_token}
        return 200, {**body, "token_type": "bearer", "expires_in": self.token_ttl_s}

    def token_problem(self, token: str | None) -> str | None:
        """Why an SP-API request's ``x-amz-access-token`` is refused (None: it is good)."""
        with self.lock:
            expiry = self.tokens.get(token or "")
        if expiry is None:
            return "Access to requested resource is denied."
        if self.clock() >= expiry:
            return "The access token you provided has expired."
        return None

    def expire_tokens(self) -> None:
        """Every access token handed out so far has expired."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, self.clock() - 1)

    # -- rate limits --------------------------------------------------------------------------
    def rate(self, operation: str) -> float:
        return RATES[operation][0] * self.rate_scale

    def admit(self, operation: str) -> bool:
        """Spend one of the operation's tokens; False: 429."""
        with self.lock:
            rate, burst = RATES[operation]
            now = self.clock()
            bucket = self.buckets.get(operation)
            if bucket is None:
                bucket = self.buckets[operation] = Bucket(rate * self.rate_scale, burst, burst, now)
            return bucket.take(now)

    def scale_rates(self, factor: float) -> None:
        """Every usage plan ``factor`` times faster (bursts unchanged); buckets refill."""
        with self.lock:
            self.rate_scale = factor
            self.buckets.clear()

    # -- listings ------------------------------------------------------------------------------
    def add(self, listing: Listing) -> None:
        with self.lock:
            self.listings[listing.sku] = listing

    def item_json(self, listing: Listing, included: set[str]) -> JSON:
        m = self.marketplace_id
        out: JSON = {"sku": listing.sku}
        if "summaries" in included:
            status = ["DISCOVERABLE"] + (["BUYABLE"] if listing.quantity else [])
            out["summaries"] = [
                {
                    "marketplaceId": m,
                    "asin": listing.asin,
                    "productType": listing.product_type,
                    "conditionType": "new_new",
                    "status": status,
                    "itemName": listing.name,
                    "createdDate": iso(listing.created),
                    "lastUpdatedDate": iso(listing.updated),
                }
            ]
        if "attributes" in included:
            out["attributes"] = self._attributes(listing)
        if "issues" in included:
            out["issues"] = []
        if "offers" in included:
            out["offers"] = []
            if listing.price_cents is not None:
                amount = str(Decimal(listing.price_cents).scaleb(-2))
                price = {"currencyCode": self.currency, "amount": amount}
                out["offers"] = [{"marketplaceId": m, "offerType": "B2C", "price": price}]
        if "fulfillmentAvailability" in included:
            out["fulfillmentAvailability"] = [
                {"fulfillmentChannelCode": e.get("fulfillment_channel_code")}
                | ({"quantity": e["quantity"]} if isinstance(e.get("quantity"), int) else {})
                for e in listing.attributes.get("fulfillment_availability") or ()
            ]
        return out

    def _attributes(self, listing: Listing) -> JSON:
        m = self.marketplace_id
        attributes: JSON = {
            "item_name": [{"value": listing.name, "marketplace_id": m}],
            **listing.attributes,
        }
        if listing.id_type != "ASIN":
            ident = {
                "type": listing.id_type.lower(),
                "value": listing.product_id,
                "marketplace_id": m,
            }
            attributes["externally_assigned_product_identifier"] = [ident]
        return attributes

    def search(self, query: dict[str, str]) -> tuple[int, JSON]:
        """searchListingsItems: filters, order, pages of ``pageSize`` (at most 20); only the
        first 1,000 results can be paged through (``numberOfResults`` counts them all)."""
        try:
            size = int(query.get("pageSize") or 10)
            bounds = {
                name: parse_iso(query[name])
                for name in (
                    "lastUpdatedAfter",
                    "lastUpdatedBefore",
                    "createdAfter",
                    "createdBefore",
                )
                if query.get(name)
            }
            offset = _offset(query.get("pageToken"))
        except ValueError as exc:
            return 400, errors("InvalidInput", f"Invalid request parameter: {exc}")
        if not 1 <= size <= 20:
            return 400, errors("InvalidInput", "pageSize must be between 1 and 20")
        sort_by = query.get("sortBy") or "lastUpdatedDate"
        if sort_by not in ("sku", "createdDate", "lastUpdatedDate"):
            return 400, errors("InvalidInput", f"Invalid sortBy {sort_by!r}")
        with self.lock:
            found = [x for x in self.listings.values() if _within(x, bounds)]
        key = {
            "sku": lambda x: (x.sku,),
            "createdDate": lambda x: (x.created, x.sku),
            "lastUpdatedDate": lambda x: (x.updated, x.sku),
        }[sort_by]
        found.sort(key=key, reverse=(query.get("sortOrder") or "DESC") == "DESC")
        reachable = found[:1000]
        page = reachable[offset : offset + size]
        included = _included(query)
        body: JSON = {
            "numberOfResults": len(found),
            "items": [self.item_json(x, included) for x in page],
        }
        if offset + size < len(reachable):
            body["pagination"] = {"nextToken": _token(offset + size)}
        return 200, body

    # -- reports -------------------------------------------------------------------------------
    def create_report(self, body: Any) -> tuple[int, JSON]:
        if (
            not isinstance(body, dict)
            or not body.get("reportType")
            or not body.get("marketplaceIds")
        ):
            return 400, errors("InvalidInput", "reportType and marketplaceIds are required")
        if body["reportType"] != LISTINGS_REPORT:
            return 400, errors("InvalidInput", f"Report type {body['reportType']} is not supported")
        if body["marketplaceIds"] != [self.marketplace_id]:
            return 400, errors("InvalidInput", "The seller is not registered in that marketplace")
        now = self.clock()
        job = Job(
            self._next_id(),
            LISTINGS_REPORT,
            body["marketplaceIds"],
            now,
            now + self.queue_s,
            now + self.queue_s + self.report_s,
        )
        with self.lock:
            self.jobs[job.job_id] = job
        return 202, {"reportId": job.job_id}

    def report_tsv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\"
        )
        writer.writerow(REPORT_COLUMNS)
        with self.lock:
            listings = sorted(self.listings.values(), key=lambda x: x.sku)
        for x in listings:
            price = "" if x.price_cents is None else str(Decimal(x.price_cents).scaleb(-2))
            writer.writerow(
                (
                    x.name,
                    "",
                    "0" + x.asin[-9:],
                    x.sku,
                    price,
                    "" if x.quantity is None else str(x.quantity),
                    x.created.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    "",
                    "y",
                    ID_TYPES[x.id_type],
                    "",
                    "11",
                    x.asin,
                    x.product_id,
                    x.channel,
                    "Active" if x.quantity or x.channel != offers.MERCHANT else "Inactive",
                )
            )
        return out.getvalue().encode()

    def job_json(self, job: Job) -> JSON:
        out: JSON = {
            "createdTime": iso(self._wall(job.created)),
            "processingStatus": job.status,
            "marketplaceIds": job.marketplace_ids,
        }
        if job.kind == LISTINGS_REPORT:
            out |= {"reportId": job.job_id, "reportType": job.kind}
            if job.result_id:
                out["reportDocumentId"] = job.result_id
        else:
            out |= {"feedId": job.job_id, "feedType": job.kind}
            if job.result_id:
                out["resultFeedDocumentId"] = job.result_id
        if job.status != "IN_QUEUE":
            out["processingStartTime"] = iso(self._wall(job.starts))
        if job.status in ("DONE", "FATAL"):
            out["processingEndTime"] = iso(self._wall(job.ends))
        return out

    def _wall(self, at: float) -> datetime:
        return self._wall0 + timedelta(seconds=at - self._origin)

    # -- documents -----------------------------------------------------------------------------
    def create_feed_document(self, body: Any) -> tuple[int, JSON]:
        if not isinstance(body, dict) or not isinstance(body.get("contentType"), str):
            return 400, errors("InvalidInput", "contentType is required")
        doc_id = "amzn1.tortuga.4.na." + secrets.token_hex(12)
        with self.lock:
            self.documents[doc_id] = Document(body["contentType"])
        return 201, {"feedDocumentId": doc_id}

    def upload(self, doc_id: str, content_type: str, data: bytes) -> tuple[int, JSON | None]:
        """The upload URL's PUT: the content type must be the one the document was made for
        (S3 signs it into the URL)."""
        with self.lock:
            doc = self.documents.get(doc_id)
            if doc is None or doc.result:
                return 403, errors("AccessDenied", "Request has expired or the URL is unknown")
            if content_type != doc.content_type:
                return 403, errors(
                    "SignatureDoesNotMatch", "The Content-Type is not the signed one"
                )
            doc.body = data
        return 200, None

    def document(self, doc_id: str) -> Document | None:
        with self.lock:
            return self.documents.get(doc_id)

    def _result(self, body: bytes, content_type: str) -> str:
        doc_id = "amzn1.tortuga.4.na." + secrets.token_hex(12)
        compression = None
        if self.gzip_reports and content_type.startswith("text/tab"):
            body, compression = gzip.compress(body), "GZIP"
        self.documents[doc_id] = Document(content_type, body, compression, result=True)
        return doc_id

    # -- feeds ---------------------------------------------------------------------------------
    def create_feed(self, body: Any) -> tuple[int, JSON]:
        if not isinstance(body, dict) or not all(
            body.get(k) for k in ("feedType", "marketplaceIds", "inputFeedDocumentId")
        ):
            return 400, errors(
                "InvalidInput", "feedType, marketplaceIds and inputFeedDocumentId are required"
            )
        if body["feedType"] != LISTINGS_FEED:
            return 400, errors("InvalidInput", f"Feed type {body['feedType']} is not supported")
        doc = self.document(body["inputFeedDocumentId"])
        if doc is None or doc.body is None:
            return 400, errors(
                "InvalidInput", "The input feed document was not found or not uploaded"
            )
        now = self.clock()
        size = _message_count(doc.body)  # processing takes longer for more messages
        ends = now + self.queue_s + max(self.feed_min_s, size * self.feed_s_per_message)
        job = Job(
            self._next_id(),
            LISTINGS_FEED,
            body["marketplaceIds"],
            now,
            now + self.queue_s,
            ends,
            document_id=body["inputFeedDocumentId"],
        )
        with self.lock:
            if self.fatal_feeds > 0:
                self.fatal_feeds -= 1
                job.fatal = True
            self.jobs[job.job_id] = job
        return 202, {"feedId": job.job_id}

    def advance(self) -> None:
        """Move every report and feed on as the clock says (processing the due ones)."""
        now = self.clock()
        with self.lock:
            for job in self.jobs.values():
                if job.status == "IN_QUEUE" and now >= job.starts:
                    job.status = "IN_PROGRESS"
                if job.status == "IN_PROGRESS" and now >= job.ends:
                    if job.kind == LISTINGS_REPORT:
                        job.result_id = self._result(self.report_tsv(), "text/tab-separated-values")
                        job.status = "DONE"
                    else:
                        self._process(job)

    def _process(self, job: Job) -> None:
        doc = self.documents[job.document_id or ""]
        report, fatal = self.process_feed(job.job_id, doc.body or b"", fatal=job.fatal)
        job.status = "FATAL" if fatal else "DONE"
        job.result_id = self._result(json.dumps(report).encode(), "application/json")

    def process_feed(self, feed_id: str, raw: bytes, *, fatal: bool = False) -> tuple[JSON, bool]:
        """Apply a JSON_LISTINGS_FEED document; its processing report and whether it was FATAL."""
        from jsonschema import Draft7Validator

        header = {"sellerId": self.seller_id, "version": "2.0", "feedId": feed_id}
        try:
            document = json.loads(raw)
        except ValueError as exc:
            return _fatal(header, f"The feed document is not JSON: {exc}"), True
        if fatal:
            return _fatal(header, "The feed could not be processed (injected FATAL)."), True
        shell, message_schema = _split_feed_schema()
        for error in Draft7Validator(shell).iter_errors(document):
            where = "/".join(map(str, error.absolute_path)) or "document"
            return _fatal(
                header, f"The feed document is invalid at {where}: {error.message[:300]}"
            ), True
        problems = _message_problems(document["messages"], Draft7Validator(message_schema))
        if document["header"]["sellerId"] != self.seller_id:
            return _fatal(header, "The feed's sellerId is not this seller."), True
        issues: list[JSON] = []
        invalid = 0
        for index, message in enumerate(document["messages"]):
            found = self._message_issues(message, problems.get(index))
            issues.extend(found)
            invalid += any(i["severity"] == "ERROR" for i in found)
        processed = len(document["messages"])
        errors_ = sum(1 for i in issues if i["severity"] == "ERROR")
        summary = {
            "errors": errors_,
            "warnings": len(issues) - errors_,
            "messagesProcessed": processed,
            "messagesAccepted": processed - invalid,
            "messagesInvalid": invalid,
        }
        return {"header": header, "issues": issues, "summary": summary}, False

    def _message_issues(self, message: Any, problems: list[str] | None) -> list[JSON]:
        ids = message if isinstance(message, dict) else {}
        mid, sku = ids.get("messageId"), ids.get("sku")

        def issue(code: str, text: str, attribute: str | None = None) -> JSON:
            out: JSON = {"code": code, "severity": "ERROR", "message": text}
            if isinstance(mid, int) and mid >= 1:
                out["messageId"] = mid
            if isinstance(sku, str) and sku:
                out["sku"] = sku
            if attribute:
                out["attributeName"] = attribute
            return out

        if problems:
            return [issue(CODE_INVALID_MESSAGE, p) for p in problems]
        sku = str(sku)
        listing = self.listings.get(sku)
        operation = message["operationType"]
        if operation == "DELETE":
            self.listings.pop(sku, None)
            return []
        if operation == "UPDATE":
            return [
                issue(CODE_UNSUPPORTED, "The double supports PATCH, PARTIAL_UPDATE and DELETE.")
            ]
        if listing is None:
            return [
                issue(
                    CODE_UNKNOWN_SKU,
                    f"SKU '{sku}' does not exist in marketplace {self.marketplace_id}.",
                )
            ]
        if sku in self.rejections:
            code, text = self.rejections[sku]
            return [issue(code, text)]
        if operation == "PATCH":
            changes = [
                (p["op"], p["path"].removeprefix("/attributes/"), p.get("value"))
                for p in message["patches"]
            ]
        else:
            changes = [("replace", k, v) for k, v in message["attributes"].items()]
        attributes = dict(listing.attributes)  # the message applies whole or not at all
        for op, name, value in changes:
            try:
                offers.check(name, op, value, self.marketplace_id, self.currency)
            except ValueError as exc:
                return [issue(CODE_INVALID_VALUE, str(exc), name)]
            attributes[name] = offers.patched(op, name, attributes.get(name), value)
        listing.attributes = {k: v for k, v in attributes.items() if v is not None}
        listing.sync()
        listing.updated = self.now()
        return []


def errors(code: str, message: str, details: str = "") -> JSON:
    """The SP-API's ErrorList."""
    return {"errors": [{"code": code, "message": message, "details": details}]}


def _lwa(error: str, description: str) -> JSON:
    return {"error": error, "error_description": description}


def _fatal(header: JSON, text: str) -> JSON:
    summary = {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 0,
        "messagesAccepted": 0,
        "messagesInvalid": 0,
    }
    issue = {"code": CODE_FATAL, "severity": "ERROR", "message": text}
    return {"header": header, "issues": [issue], "summary": summary}


def _within(listing: Listing, bounds: dict[str, datetime]) -> bool:
    updated, created = listing.updated, listing.created
    for name, bound in bounds.items():
        value = updated if name.startswith("lastUpdated") else created
        if (value < bound) if name.endswith("After") else (value > bound):
            return False
    return True


@cache
def _split_feed_schema() -> tuple[JSON, JSON]:
    """The listings feed schema as the document around its messages (each message any
    value) and the schema of one message: together the whole schema, checked apart so
    that a message's problem is that message's ERROR and not the feed's."""
    whole = schema(FEED_SCHEMA)
    messages = whole["properties"]["messages"]
    shell = {
        **whole,
        "properties": {**whole["properties"], "messages": {**messages, "items": {}}},
    }
    return shell, messages["items"]


def _message_problems(messages: list[Any], validator: Any) -> dict[int, list[str]]:
    """Each invalid message's problems, by index. Messages are checked in a canonical form
    (messageId 1 and sku "x" when they are a valid id and SKU, each patch value's objects
    empty: the schema takes any object there), each form once: 25,000 messages of a few
    shapes take a moment, not the ten seconds a check of each would."""
    seen: dict[str, list[str]] = {}
    problems: dict[int, list[str]] = {}
    for index, message in enumerate(messages):
        key = json.dumps(_canonical(message), sort_keys=True)
        found = seen.get(key)
        if found is None:
            found = seen[key] = [
                e.message[:300] for e in validator.iter_errors(_canonical(message))
            ]
        if found:
            problems[index] = found
    return problems


def _canonical(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = dict(message)
    mid, sku = out.get("messageId"), out.get("sku")
    if isinstance(mid, int) and not isinstance(mid, bool) and 1 <= mid <= 2147483647:
        out["messageId"] = 1
    if isinstance(sku, str) and sku:
        out["sku"] = "x"
    patches = out.get("patches")
    if isinstance(patches, list):
        out["patches"] = [_canonical_patch(p) for p in patches]
    return out


def _canonical_patch(patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(patch.get("value"), list):
        return patch
    value = [{} if isinstance(v, dict) else v for v in patch["value"]]
    return {**patch, "value": value}


def _message_count(raw: bytes) -> int:
    try:
        messages = json.loads(raw).get("messages")
    except (ValueError, AttributeError):
        return 1
    return len(messages) if isinstance(messages, list) else 1


def _included(query: dict[str, str]) -> set[str]:
    return set((query.get("includedData") or "summaries").split(","))


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("pageToken is not valid") from None
    if not text.startswith("o:") or not text[2:].isdigit():
        raise ValueError("pageToken is not valid")
    return int(text[2:])
