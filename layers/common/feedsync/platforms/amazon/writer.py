"""Writing plan items to Amazon through one JSON_LISTINGS_FEED per batch.

A batch (up to 25,000 items, what one feed document may hold) becomes one document of
PATCH messages, one per item, each a ``merge`` (the rest of the attribute stays):
``purchasable_offer`` (our price, in the marketplace's currency) and
``fulfillment_availability`` (the merchant-fulfilled quantity). Then:
createFeedDocument, the upload to its URL, createFeed, status polls with backoff, the
processing report (getFeedDocument and its download). Each message's ERROR issues are
its item's failure, with Amazon's codes and messages; a SKU Amazon does not know is
``gone``; a message without an ERROR issue was accepted. A FATAL feed changed nothing:
every item fails with its reason. Values are absolute, so sending a batch again is
harmless (a feed has no idempotency key: ``batch_key`` is unused).
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Final

from feedsync.domain.capabilities import Capabilities
from feedsync.domain.writes import ItemResult, PlanItem, item_gone
from feedsync.platforms.amazon.client import SellerClient
from feedsync.platforms.amazon.endpoints import (
    FEED,
    FEED_CONTENT_TYPE,
    FEED_DOCUMENT,
    FEED_DOCUMENTS,
    FEEDS,
    LISTINGS_FEED,
    feed_document,
    message,
    offer_patch,
    quantity_patch,
)
from feedsync.platforms.amazon.jobs import Polling, wait_for

JSON = dict[str, Any]
# The processing report's issue code for a SKU the seller has no listing for.
UNKNOWN_SKU: Final = frozenset({"8541"})


class FeedWriter:
    def __init__(
        self,
        client: SellerClient,
        capabilities: Capabilities,
        seller_id: str,
        marketplace_id: str,
        currency: str,
        polling: Polling,
        feed_s_per_message: float,
    ) -> None:
        self._client = client
        self._capabilities = capabilities
        self._seller = seller_id
        self._marketplace = marketplace_id
        self._currency = currency
        self._polling = polling
        self._s_per_message = feed_s_per_message
        self.feeds_sent = 0

    def apply(self, op: str, items: list[PlanItem]) -> list[ItemResult]:
        write_op = self._capabilities.op(op)
        if len(items) > write_op.max_batch:
            raise ValueError(f"{op} takes at most {write_op.max_batch} items, got {len(items)}")
        results: list[ItemResult | None] = [None] * len(items)
        messages: list[JSON] = []
        sent: dict[int, int] = {}  # messageId -> item index
        for i, item in enumerate(items):
            try:
                patches = self._patches(item)
            except ValueError as exc:
                results[i] = ItemResult(False, str(exc))
                continue
            message_id = len(messages) + 1
            sent[message_id] = i
            messages.append(message(message_id, str(item.ref), patches))
        if messages:
            for message_id, result in self._send(messages).items():
                results[sent[message_id]] = result
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    def _patches(self, item: PlanItem) -> list[JSON]:
        if not item.ref:
            raise ValueError("the listing's SKU is not known (import the catalog again)")
        patches = []
        for field, change in (item.changes or {}).items():
            new = change[1] if isinstance(change, list | tuple) else change
            if field == "price":
                if new is None:
                    raise ValueError("Amazon cannot remove a listing's price through a feed")
                patches.append(offer_patch(self._marketplace, self._currency, int(new)))
            elif field == "stock":
                if new is None:
                    raise ValueError("Amazon needs a quantity for a merchant-fulfilled offer")
                patches.append(quantity_patch(int(new)))
            else:
                raise ValueError(f"Amazon cannot write {field} through a listings feed")
        if not patches:
            raise ValueError("nothing to write")
        return patches

    def _send(self, messages: list[JSON]) -> dict[int, ItemResult]:
        client = self._client
        started = client.now()  # the patience counts from here: the feed's upload is in it
        body = json.dumps(feed_document(self._seller, messages)).encode()
        made = _object(
            client.call(
                "createFeedDocument",
                "POST",
                FEED_DOCUMENTS,
                json_body={"contentType": FEED_CONTENT_TYPE},
            ).body
        )
        client.upload(str(made.get("url") or ""), body, FEED_CONTENT_TYPE)
        spec = {
            "feedType": LISTINGS_FEED,
            "marketplaceIds": [self._marketplace],
            "inputFeedDocumentId": made.get("feedDocumentId"),
        }
        feed_id = str(
            _object(client.call("createFeed", "POST", FEEDS, json_body=spec).body)["feedId"]
        )
        self.feeds_sent += 1
        path = FEED.format(id=feed_id)
        feed = wait_for(
            lambda: _object(client.call("getFeed", "GET", path).body),
            polling=self._polling,
            first_s=self._polling.first_s + self._s_per_message * len(messages),
            sleep=client.sleep,
            clock=client.now,
            started=started,
            what=f"{client.where}: feed {feed_id}",
        )
        status = str(feed.get("processingStatus"))
        report = self._report(feed)
        issues = [i for i in report.get("issues") or () if isinstance(i, dict)]
        if status != "DONE":
            said = "; ".join(_issue_text(i) for i in issues) or "no reason given"
            reason = f"Amazon did not process feed {feed_id} ({status}): {said}"
            return {m["messageId"]: ItemResult(False, reason) for m in messages}
        errors: dict[int, list[JSON]] = {}
        for issue in issues:
            if issue.get("severity") == "ERROR" and isinstance(issue.get("messageId"), int):
                errors.setdefault(issue["messageId"], []).append(issue)
        out: dict[int, ItemResult] = {}
        for m in messages:
            found = errors.get(m["messageId"])
            if not found:
                out[m["messageId"]] = ItemResult(True, "")
                continue
            text = "; ".join(_issue_text(i) for i in found)
            if any(str(i.get("code")) in UNKNOWN_SKU for i in found):
                out[m["messageId"]] = item_gone("product", text)
            else:
                out[m["messageId"]] = ItemResult(False, text)
        return out

    def _report(self, feed: JSON) -> JSON:
        doc_id = feed.get("resultFeedDocumentId")
        if not doc_id:
            return {}
        doc = _object(
            self._client.call("getFeedDocument", "GET", FEED_DOCUMENT.format(id=doc_id)).body
        )
        raw = self._client.download(str(doc.get("url") or ""), "feed processing report")
        if doc.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        try:
            return _object(json.loads(raw))
        except ValueError:
            return {}


def _issue_text(issue: JSON) -> str:
    text = str(issue.get("message") or "refused").strip()
    code = issue.get("code")
    return f"{text} [{code}]" if code else text


def _object(body: Any) -> JSON:
    return body if isinstance(body, dict) else {}
