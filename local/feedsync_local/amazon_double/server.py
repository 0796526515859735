"""The Amazon double's HTTP side: routing, access tokens, usage plans, injected faults."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from feedsync_local.amazon_double.state import (
    AmazonState,
    Listing,
    errors,
)
from feedsync_local.httpserver import LoopbackService, QuietHandler

JSON = dict[str, Any]

TOKEN_PATH = "/auth/o2/token"
_DOCS = "/_documents/"  # the presigned-URL stand-in (no access token, like S3)

# (method, pattern) -> operation; the pattern's groups are the path parameters.
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), operation)
    for method, pattern, operation in (
        ("GET", r"/listings/2021-08-01/items/([^/]+)", "searchListingsItems"),
        ("GET", r"/listings/2021-08-01/items/([^/]+)/([^/]+)", "getListingsItem"),
        ("POST", r"/reports/2021-06-30/reports", "createReport"),
        ("GET", r"/reports/2021-06-30/reports/([^/]+)", "getReport"),
        ("GET", r"/reports/2021-06-30/documents/([^/]+)", "getReportDocument"),
        ("POST", r"/feeds/2021-06-30/documents", "createFeedDocument"),
        ("POST", r"/feeds/2021-06-30/feeds", "createFeed"),
        ("GET", r"/feeds/2021-06-30/feeds/([^/]+)", "getFeed"),
        ("GET", r"/feeds/2021-06-30/documents/([^/]+)", "getFeedDocument"),
    )
)
# The operations whose models list a 401 (the Feeds and Reports APIs'; the Listings Items
# API's and createFeedDocument's list only 403): where ``expire_tokens(401)`` answers so.
_ANSWER_401 = frozenset(
    ("createReport", "getReport", "getReportDocument", "createFeed", "getFeed", "getFeedDocument")
)


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: JSON


class AmazonDouble(LoopbackService):
    """One seller in one marketplace. Use as a context manager or ``start()``/``stop()``."""

    name = "the Amazon double"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seller_id: str = "A2FEEDSYNCSELLER",
        marketplace_id: str = "ATVPDKIKX0DER",
        currency: str = "USD",
        clock: Callable[[], float] | None = None,
        token_ttl_s: int = 3600,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the Amazon double listens on loopback only, not {host!r}")
        super().__init__(host, port)
        self.client_id = "amzn1.application-oa2-client." + secrets.token_hex(16)
        self.client_secret = "amzn1.oa2-cs.v1." + secrets.token_hex(32)
        self.refresh_token = "Atzr|" + secrets.token_urlsafe(48)
        self.state = AmazonState(
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            currency=currency,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            clock=clock or time.monotonic,
            token_ttl_s=token_ttl_s,
        )
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._log: list[tuple[str, str, int]] = []
        self.received: list[tuple[str, str, Any]] = []  # (operation, path, JSON body)
        self.expired_status = 403  # what a request with an expired token is answered
        self.answered: list[tuple[str, int, Any]] = []  # (operation, status, JSON body)

    def handler_class(self) -> type[_Handler]:
        return type("Handler", (_Handler,), {"double": self})

    # -- what a client is given --------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return self.base_url

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def seller_id(self) -> str:
        return self.state.seller_id

    @property
    def marketplace_id(self) -> str:
        return self.state.marketplace_id

    def info(self) -> dict[str, str]:
        """What ``feedsync serve`` writes for a client to connect."""
        return {
            "endpoint": self.endpoint,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id,
        }

    # -- catalog -------------------------------------------------------------------------------
    def seed(self, listings: Iterable[JSON]) -> list[Listing]:
        """Listings from ``{"sku", "name", "price" (cents), "quantity", "upc"|"ean"?}``;
        ``fulfillment`` (e.g. AMAZON_NA: an FBA listing, its quantity Amazon's), ``offer`` and
        ``availability`` (more sub-attributes: a sale price, a handling time) optional."""
        made = []
        now = self.state.now()
        for n, spec in enumerate(listings):
            id_type, product_id = "ASIN", ""
            for kind in ("UPC", "EAN", "ISBN"):
                if spec.get(kind.lower()):
                    id_type, product_id = kind, str(spec[kind.lower()])
                    break
            asin = spec.get("asin") or f"B0{abs(hash(spec['sku'])) % 10**8:08d}"
            listing = Listing(
                sku=spec["sku"],
                name=spec.get("name") or spec["sku"],
                asin=asin,
                id_type=id_type,
                product_id=product_id or asin,
                price_cents=spec.get("price"),
                quantity=spec.get("quantity"),
                created=spec.get("created") or now - timedelta(days=30, seconds=n),
                updated=spec.get("updated") or now - timedelta(days=1, seconds=n),
                channel=spec.get("fulfillment") or "DEFAULT",
                marketplace_id=self.state.marketplace_id,
                currency=self.state.currency,
            )
            for name, more in (
                ("purchasable_offer", spec.get("offer")),
                ("fulfillment_availability", spec.get("availability")),
            ):
                if more and listing.attributes.get(name):
                    listing.attributes[name][0].update(more)
            self.state.add(listing)
            made.append(listing)
        return made

    def listing(self, sku: str) -> Listing | None:
        self.state.advance()
        with self.state.lock:
            return self.state.listings.get(sku)

    def set_modified(self, sku: str, when: datetime) -> None:
        with self.state.lock:
            self.state.listings[sku].updated = when.astimezone(UTC)

    def delete(self, sku: str) -> None:
        with self.state.lock:
            self.state.listings.pop(sku, None)

    # -- faults --------------------------------------------------------------------------------
    def fail_next(
        self, status: int, count: int = 1, *, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next ``count`` requests (any route) with ``status``; nothing changes."""
        code = "QuotaExceeded" if status == 429 else "InternalFailure"
        text = f"Injected HTTP {status}"
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault(status, dict(headers or {}), errors(code, text)))

    def reject_sku(self, sku: str, message: str, code: str = "90244") -> None:
        """Every feed message for this SKU gets an ERROR issue (e.g. an invalid price)."""
        with self.state.lock:
            self.state.rejections[sku] = (code, message)

    def fatal_next_feeds(self, count: int = 1) -> None:
        with self.state.lock:
            self.state.fatal_feeds += count

    def expire_tokens(self, status: int = 403) -> None:
        """Every token handed out so far has expired; a request with one is answered
        ``status`` (403 as Amazon does; 401 where the operation's model lists it)."""
        self.state.expire_tokens()
        self.expired_status = status

    def scale_rates(self, factor: float) -> None:
        """Every operation's rate ``factor`` times the spec's (a benchmark's shortcut)."""
        self.state.scale_rates(factor)

    # -- what it received ----------------------------------------------------------------------
    def requests_log(self) -> list[tuple[str, str, int]]:
        """(method, operation or path, status) of every request answered."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self.received.clear()
            self.answered.clear()

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, method: str, what: str, status: int) -> None:
        with self._lock:
            self._log.append((method, what, status))


class _Handler(QuietHandler):
    double: AmazonDouble  # set on the per-server subclass
    server_version = "feedsync-amazon-double/1"

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _send(
        self,
        method: str,
        what: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        self.double._record(method, what, status)
        if not isinstance(body, bytes) and body is not None:
            with self.double._lock:
                self.double.answered.append((what, status, body))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", secrets.token_hex(8))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        double, state = self.double, self.double.state
        state.advance()
        routed = next(
            (
                (operation, match.groups())
                for route_method, pattern, operation in _ROUTES
                if route_method == method and (match := pattern.fullmatch(path))
            ),
            None,
        )
        what = routed[0] if routed else "token" if path == TOKEN_PATH else path
        fault = double._take_fault()
        if fault is not None:
            self._send(method, what, fault.status, fault.body, fault.headers)
            return
        if path == TOKEN_PATH and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
            status, body = state.exchange(form)
            self._send(method, "token", status, body)
            return
        if path.startswith(_DOCS):
            self._document(method, path[len(_DOCS) :], raw)
            return
        if routed is not None:
            self._operation(method, routed[0], routed[1], query, raw)
            return
        self._send(method, path, 404, errors("NotFound", f"No route for {method} {path}"))

    def _operation(
        self,
        method: str,
        operation: str,
        params: tuple[str, ...],
        query: dict[str, str],
        raw: bytes,
    ) -> None:
        state = self.double.state
        problem = state.token_problem(self.headers.get("x-amz-access-token"))
        if problem is not None:
            denied = "Access to requested resource is denied."
            detail = problem if problem != denied else ""
            status = 403
            if detail and operation in _ANSWER_401:
                status = self.double.expired_status
            self._send(method, operation, status, errors("Unauthorized", denied, detail))
            return
        limit = {"x-amzn-RateLimit-Limit": f"{state.rate(operation):g}"}
        if not state.admit(operation):
            body = errors("QuotaExceeded", "You exceeded your quota for the requested resource.")
            self._send(method, operation, 429, body, limit)
            return
        try:
            body_in = json.loads(raw) if raw else None
        except ValueError:
            self._send(
                method, operation, 400, errors("InvalidInput", "The body is not JSON"), limit
            )
            return
        with self.double._lock:
            self.double.received.append((operation, self.path, body_in))
        status, body = self._answer(operation, params, query, body_in)
        self._send(method, operation, status, body, limit)

    def _answer(
        self, operation: str, params: tuple[str, ...], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        state = self.double.state
        if operation in ("searchListingsItems", "getListingsItem"):
            if params[0] != state.seller_id:
                return 403, errors("Unauthorized", "Access to requested resource is denied.")
            if query.get("marketplaceIds") != state.marketplace_id:
                return 400, errors(
                    "InvalidInput", "marketplaceIds must name the seller's marketplace"
                )
            if operation == "searchListingsItems":
                return state.search(query)
            with state.lock:
                listing = state.listings.get(params[1])
                if listing is None:
                    text = f"SKU '{params[1]}' not found in marketplace {state.marketplace_id}"
                    return 404, errors("NOT_FOUND", text)
                included = set((query.get("includedData") or "summaries").split(","))
                return 200, state.item_json(listing, included)
        if operation == "createReport":
            return state.create_report(body)
        if operation == "createFeedDocument":
            status, made = state.create_feed_document(body)
            if status < 300:
                made["url"] = f"{self.double.base_url}{_DOCS}{made['feedDocumentId']}"
            return status, made
        if operation == "createFeed":
            return state.create_feed(body)
        if operation in ("getReport", "getFeed"):
            with state.lock:
                job = state.jobs.get(params[0])
                kind_ok = job is not None and (job.kind == "GET_MERCHANT_LISTINGS_ALL_DATA") == (
                    operation == "getReport"
                )
                if job is None or not kind_ok:
                    return 404, errors("NotFound", f"{params[0]} was not found")
                return 200, state.job_json(job)
        # getReportDocument / getFeedDocument
        doc = state.document(params[0])
        if doc is None or (doc.body is None and not doc.result):
            return 404, errors("NotFound", f"Document {params[0]} was not found")
        key = "reportDocumentId" if operation == "getReportDocument" else "feedDocumentId"
        out: JSON = {key: params[0], "url": f"{self.double.base_url}{_DOCS}{params[0]}"}
        if doc.compression:
            out["compressionAlgorithm"] = doc.compression
        return 200, out

    def _document(self, method: str, doc_id: str, raw: bytes) -> None:
        state = self.double.state
        if method == "PUT":
            content_type = self.headers.get("Content-Type") or ""
            status, body = state.upload(doc_id, content_type, raw)
            self._send(method, "upload", status, body)
            return
        doc = state.document(doc_id)
        if method != "GET" or doc is None or doc.body is None:
            self._send(method, "download", 404, errors("NoSuchKey", "The document does not exist"))
            return
        self._send(method, "download", 200, doc.body, content_type=doc.content_type)
