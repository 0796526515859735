"""Writing plan items to a WooCommerce shop in batches.

``POST /products/batch`` (simple products' price/stock/weight/image, any product's name,
description and status (visible: ``publish``, hidden: ``private``): ``products_batch`` and
``product_fields``) and
``POST /products/{parent}/variations/batch`` (one parent per request), 100 objects at
most. Per-item failures come inside HTTP 200 as ``{"id", "error": {...}}`` and are
matched to items by id. An error whose ``code`` says the id does not exist
(``woocommerce_rest_product_invalid_id``: the product; ``..._product_variation_invalid_id``:
the variation) reports the item gone (``item_gone``): deleted since the catalog was
read. A 413 (a site that lowered ``woocommerce_rest_batch_items_limit``) splits the
batch in halves. Updates carry absolute values, so a retry after a lost answer is
harmless (WooCommerce has no idempotency keys: ``batch_key`` is unused).

Images are sent as ``{"src": url}``: the shop downloads the file into its media library
and from then on answers its own URL, never the supplier's, so an image cannot be
compared. An image is therefore set only where the item has none, in full mode too
(``domain.content.NEVER_FORCED``): re-sending it would add a copy to the shop's media
library on every run. As only a product without any image (featured or gallery) gets
one, the product's ``images`` list that replaces both never removes a gallery. When the
shop cannot fetch an image, WooCommerce fails the whole object (price and stock too):
such an item is sent once more without the image, and reported failed with the image's
error and a note that its other changes were written.

A description is stored through ``wp_filter_post_kses``: markup it removes
(``<script>``, ``<style>``, ``<iframe>``, form fields, ``on*`` event handlers, any
element outside WordPress's allowlist) makes it read back different, so it is written
again on every run; the usual cases are logged as a warning naming the products. Other
spellings the index's canonical form does not share yet (an unquoted attribute value
``width=2``, stored as ``width="2"``; an entity without its ``;``) behave alike.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from typing import Any, Final

from feedsync.domain.capabilities import Capabilities
from feedsync.domain.writes import GoneScope, ItemResult, PlanItem, item_gone
from feedsync.platforms.woocommerce.client import ShopClient
from feedsync.platforms.woocommerce.endpoints import (
    IMAGE_KEYS,
    PRODUCT_OPS,
    PRODUCTS_BATCH,
    update_payload,
    variations_batch,
)
from feedsync.platforms.woocommerce.responses import Expect, error_text, item_error_text, json_dict

JSON = dict[str, Any]
log = logging.getLogger(__name__)

# A batch refused whole comes back to the writer: 413 splits it, 400/404 fail its items
# (e.g. the parent product is gone).
_BATCH = Expect(refusals=frozenset({400, 404, 413}))
# Markup ``wp_filter_post_kses`` removes from a description (the usual cases, not every
# element outside WordPress's allowlist): such a description never reads back as sent.
_KSES_REMOVES: Final = re.compile(
    r"<\s*/?\s*(?:script|style|iframe|frameset|frame|embed|applet|form|input|select|option"
    r"|noscript|svg|link|meta|base)\b|<[^>]*\son[a-z]+\s*=",
    re.IGNORECASE,
)
# The per-item errors of an image the shop could not fetch or use; the whole object
# failed, so the item is sent again without its image.
_IMAGE_ERRORS: Final = frozenset(
    {
        "woocommerce_product_image_upload_error",
        "woocommerce_product_invalid_image_id",
        "woocommerce_variation_image_upload_error",
        "woocommerce_variation_invalid_image_id",
    }
)
# A batch item's error code for an id the shop does not have (the REST controllers'
# "woocommerce_rest_{post_type}_invalid_id", "Invalid ID."): what no longer exists.
_MISSING: Final[dict[str, GoneScope]] = {
    "woocommerce_rest_product_invalid_id": "product",
    "woocommerce_rest_product_variation_invalid_id": "variant",
}


class BatchWriter:
    """Applies one batch of one write operation; one result per item, in order."""

    def __init__(self, client: ShopClient, capabilities: Capabilities) -> None:
        self._client = client
        self._capabilities = capabilities

    def apply(self, op: str, items: list[PlanItem]) -> list[ItemResult]:
        write_op = self._capabilities.op(op)
        if len(items) > write_op.max_batch:
            raise ValueError(f"{op} takes at most {write_op.max_batch} items, got {len(items)}")
        if not items:
            return []
        plan = list(items)
        if op in PRODUCT_OPS:
            path = PRODUCTS_BATCH
            ids = [int(item.product_id) for item in plan]
        elif op == "variations_batch":
            parents = {int(item.product_id) for item in plan}
            if len(parents) != 1:
                raise ValueError(
                    f"variations_batch carries one product's variations, got {sorted(parents)}"
                )
            path = variations_batch(parents.pop())
            ids = [int(item.variant_id) for item in plan]
        else:  # pragma: no cover - capabilities.op() knows only these
            raise ValueError(f"WooCommerce has no write operation {op!r}")
        results: list[ItemResult | None] = [None] * len(plan)
        payloads: list[JSON | None] = []
        for i, (item, item_id) in enumerate(zip(plan, ids, strict=True)):
            try:
                payloads.append(update_payload(item_id, item.changes or {}, op))
            except ValueError as exc:
                payloads.append(None)
                results[i] = ItemResult(False, str(exc))
        send = [i for i, p in enumerate(payloads) if p is not None]
        self._warn_of_filtered_descriptions([payloads[i] for i in send])
        self._post_batch(path, send, payloads, results)
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    def _warn_of_filtered_descriptions(self, payloads: list[JSON | None]) -> None:
        """Log the descriptions WordPress will store without some of their markup: they
        read back different, so every run writes them again (they are written)."""
        found: dict[int, str] = {}
        for payload in payloads:
            text = (payload or {}).get("description")
            match = _KSES_REMOVES.search(text) if isinstance(text, str) else None
            if payload is not None and match is not None:
                found[int(payload["id"])] = match.group(0)
        if found:
            log.warning(
                "WooCommerce shop %s: the descriptions of products %s hold markup that "
                "WordPress removes when it stores a description (wp_filter_post_kses), "
                "e.g. %r: they will read back different and be written again on every "
                "run until the feed drops that markup",
                self._client.site_url,
                ", ".join(map(str, found)),
                next(iter(found.values())),
            )

    def _post_batch(
        self,
        path: str,
        indexes: list[int],
        payloads: list[JSON | None],
        results: list[ItemResult | None],
        *,
        image_fallback: bool = True,
    ) -> None:
        if not indexes:
            return
        body = {"update": [payloads[i] for i in indexes]}
        reply = self._client.post(path, body, _BATCH)
        status = reply.response.status_code
        if reply.kind == "refused":
            if status == 413 and len(indexes) > 1:
                middle = len(indexes) // 2
                for half in (indexes[:middle], indexes[middle:]):
                    self._post_batch(path, half, payloads, results, image_fallback=image_fallback)
                return
            # The whole request was refused (e.g. the parent product is gone): every
            # item carries the platform's reason.
            reason = f"HTTP {status}: {error_text(reply.response, reply.body)}"
            for i in indexes:
                results[i] = ItemResult(False, reason)
            return
        entries = json_dict(reply.body, status, self._client.where("POST", path)).get("update")
        if not isinstance(entries, list):
            entries = []
        # Match by id (first unmatched item with that id, for a product written twice).
        waiting: dict[int, deque[int]] = {}
        for i in indexes:
            payload = payloads[i]
            assert payload is not None
            waiting.setdefault(int(payload["id"]), deque()).append(i)
        image_failed: list[int] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            try:
                entry_id = int(str(entry.get("id")))
            except ValueError:
                continue
            queue = waiting.get(entry_id)
            if not queue:
                continue
            i = queue.popleft()
            error = entry.get("error")
            results[i] = _entry_result(error)
            if error and image_fallback and isinstance(error, dict):
                others = set(payloads[i] or ()) - {"id", *IMAGE_KEYS}
                if error.get("code") in _IMAGE_ERRORS and others:
                    image_failed.append(i)
        for queue in waiting.values():
            for i in queue:
                results[i] = ItemResult(
                    False, "WooCommerce's batch answer did not mention this item"
                )
        if image_failed:
            self._resend_without_images(path, image_failed, payloads, results)

    def _resend_without_images(
        self,
        path: str,
        indexes: list[int],
        payloads: list[JSON | None],
        results: list[ItemResult | None],
    ) -> None:
        """The shop refused these objects for their image alone: write the rest of each,
        and report the item failed (its image is not there) with what was written."""
        stripped: list[JSON | None] = [None] * len(payloads)
        for i in indexes:
            payload = payloads[i] or {}
            stripped[i] = {k: v for k, v in payload.items() if k not in IMAGE_KEYS}
        again: list[ItemResult | None] = [None] * len(payloads)
        self._post_batch(path, indexes, stripped, again, image_fallback=False)
        for i in indexes:
            image_error = (results[i] or ItemResult(False, "")).message
            retried = again[i] or ItemResult(False, "not sent")
            if retried.ok:
                note = "the item's other changes were written without the image"
            else:
                note = f"without the image it failed too: {retried.message}"
            results[i] = ItemResult(False, f"{image_error}; {note}")


def _entry_result(error: Any) -> ItemResult:
    """A batch answer entry's result: ok without ``error``; gone when its code says the
    id does not exist (the code, never the message)."""
    if not error:
        return ItemResult(True, "")
    text = item_error_text(error)
    code = error.get("code") if isinstance(error, dict) else None
    scope = _MISSING.get(code) if isinstance(code, str) else None
    return item_gone(scope, text) if scope is not None else ItemResult(False, text)
