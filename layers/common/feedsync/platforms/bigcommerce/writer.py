"""Writing plan items in batches, and finding the items the platform refuses.

The platform rejects a whole batch (422; 404/409 for products) when one item is bad;
the writer bisects such a batch so the good items are still written and each bad one
is reported with the platform's own words, at O(log n) extra requests per bad item. A
413 (the platform's batch limit shrank) sends halves. An inventory item "tracked by
product" goes by its product id when the index says so; otherwise the platform's 422
names it and it is reported.

An image travels in the same variant item as its price and stock, and an image the
platform cannot download makes it refuse the whole item. So a variant isolated as
refused while it sets an image along with other changes is sent once more without the
image (one request, whatever the refusal said: its text is never matched). When that
goes through, the item is still reported failed (its image is not there, so the index
must not claim it) with the platform's words and a note that the other changes were
written.

An item still refused once isolated is looked up (``gone.GoneCheck``): one the store no
longer has is reported with ``ports.item_gone``.
"""

from __future__ import annotations

from feedsync.core.ports import ItemResult, PlanItem, item_gone
from feedsync.domain.capabilities import Capabilities
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.endpoints import (
    JSON,
    VARIANT_FIELD,
    VARIANT_IDS,
    WRITES,
    location_id,
    payload,
    request_body,
)
from feedsync.platforms.bigcommerce.gone import GoneCheck
from feedsync.platforms.bigcommerce.responses import error_text, rejected, rejections
from feedsync.platforms.transport import Reply

Owner = tuple[int | None, int | None]  # (product id, variant id) an item writes


class _Batch:
    """One ``apply`` call: its operation, bodies, results so far, key and item owners."""

    def __init__(
        self,
        op: str,
        payloads: list[JSON],
        results: list[ItemResult | None],
        key: str,
        owners: list[Owner],
    ) -> None:
        self.op = op
        self.payloads = payloads
        self.results = results
        self.key = key
        # Per item: (product id, variant id) to look up when it is refused for good; the
        # variant id is None where the item stands for its product.
        self.owners = owners


class BatchWriter:
    """Writes one store's batches for the operations its capabilities declare."""

    def __init__(self, api: StoreApi, capabilities: Capabilities, gone: GoneCheck) -> None:
        self._api = api
        self.capabilities = capabilities
        self._gone = gone

    def apply(
        self, op: str, items: list[PlanItem], *, batch_key: str, location: str | None = None
    ) -> list[ItemResult]:
        """Write one batch of ``op``; one ``(ok, platform message)`` per item, in order.

        More items than the operation takes, or a field it cannot write, is a
        caller bug (ValueError, nothing sent). Items the platform refuses are
        reported, never raised; a store-wide failure raises a named error.
        """
        try:
            spec = self.capabilities.op(op)
        except KeyError:
            raise ValueError(
                f"BigCommerce (inventory via {self._inventory_mode()}) has no write operation "
                f"{op!r}; it has {', '.join(o.name for o in self.capabilities.ops)}"
            ) from None
        if len(items) > spec.max_batch:
            raise ValueError(f"{op} takes at most {spec.max_batch} items, got {len(items)}")
        for item in items:
            unknown = set(item.changes or {}) - set(spec.fields)
            if unknown:
                raise ValueError(
                    f"{op} cannot write {', '.join(sorted(unknown))} on BigCommerce "
                    f"(it writes {', '.join(spec.fields)})"
                )
        results: list[ItemResult | None] = [None] * len(items)
        payloads: list[JSON] = []
        send: list[int] = []
        at = location_id(location) if op == "inventory" else None
        for i, item in enumerate(items):
            body, problem = payload(op, item, at)
            payloads.append(body)
            if problem:
                results[i] = ItemResult(False, problem)
            else:
                send.append(i)
        batch = _Batch(op, payloads, results, batch_key, [_owner(op, item) for item in items])
        self._write(batch, send)
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    def _inventory_mode(self) -> str:
        names = {o.name for o in self.capabilities.ops}
        return "adjustments" if "inventory" in names else "variants"

    def _put(self, op: str, entries: list[JSON], batch_key: str) -> Reply:
        return self._api.put(WRITES[op], request_body(op, entries, batch_key))

    def _put_items(self, batch: _Batch, indexes: list[int]) -> Reply:
        return self._put(batch.op, [batch.payloads[i] for i in indexes], batch.key)

    def _too_large(self, batch: _Batch, reply: Reply) -> Exception:
        """A single item the platform calls too large: nothing to split, a request bug."""
        return rejected(self._api.where, f"PUT {WRITES[batch.op].path}", reply.response)

    def _write(self, batch: _Batch, indexes: list[int]) -> None:
        if not indexes:
            return
        reply = self._put_items(batch, indexes)
        if _went_through(reply):
            self._record_success(batch, reply, indexes)
            return
        status = reply.response.status_code
        if len(indexes) == 1:
            if status == 413:
                raise self._too_large(batch, reply)
            self._refused(batch, indexes[0], error_text(reply.response, reply.body))
            return
        if status == 413:  # the platform's batch limit shrank: send halves
            middle = len(indexes) // 2
            self._write(batch, indexes[:middle])
            self._write(batch, indexes[middle:])
            return
        # The whole batch was rejected (nothing applied) because of some item(s).
        self._isolate(batch, indexes, reply)

    def _isolate(self, batch: _Batch, indexes: list[int], rejection: Reply) -> None:
        """Find the refused item(s) of a rejected batch, writing every other item.

        Bisection that never re-sends what it already knows: when the first half of
        a rejected set goes through, the refusal lies in the second half, which is
        split again without being sent whole. One refused item among n costs about
        1.5 log2(n) extra requests instead of 2 log2(n).
        """
        while len(indexes) > 1:
            middle = len(indexes) // 2
            first, second = indexes[:middle], indexes[middle:]
            reply = self._put_items(batch, first)
            if _went_through(reply):
                self._record_success(batch, reply, first)
                indexes = second  # still rejected as a whole: narrow it down
                continue
            if reply.response.status_code == 413:
                raise self._too_large(batch, reply)
            # Both halves may hold refusals: the second is written (or isolated) as usual.
            self._write(batch, second)
            indexes, rejection = first, reply
        if len(rejections(rejection.body or {})) == 1:
            # The last rejection named exactly one problem and this is the only item left.
            self._refused(batch, indexes[0], error_text(rejection.response, rejection.body))
        else:
            self._write(batch, indexes)  # its own words

    def _refused(self, batch: _Batch, index: int, why: str) -> None:
        """Report the item the platform refused on its own, for ``why`` (its words).

        A variant that sets an image along with other changes is sent once more without
        the image (one request): an image the platform cannot download refuses the whole
        item, and its price and stock must not wait for the image. The decision is
        structural, never read from ``why``; if the item is refused without its image
        too, that request was the cost. Either way the item is reported failed, so
        nothing of it is taken as applied: the price and stock written here are read
        back by the next run's refresh (the write moved the product's ``date_modified``).
        """
        op, body = batch.op, batch.payloads[index]
        others = [key for key in body if key not in VARIANT_IDS and key != "image_url"]
        if op != "variants" or "image_url" not in body or not others:
            batch.results[index] = self._refusal(batch, index, why)
            return
        without = {key: value for key, value in body.items() if key != "image_url"}
        reply = self._put(op, [without], batch.key)
        if _went_through(reply):
            written = ", ".join(VARIANT_FIELD.get(key, key) for key in others)
            batch.results[index] = ItemResult(
                False,
                f"the image could not be set: {why}; the item's other changes ({written}) "
                "were written without it",
            )
            return
        if reply.response.status_code == 413:
            raise self._too_large(batch, reply)
        again = error_text(reply.response, reply.body)
        batch.results[index] = self._refusal(
            batch, index, f"{why}; sent again without its image, refused too: {again}"
        )

    def _refusal(self, batch: _Batch, index: int, why: str) -> ItemResult:
        """The result of an item refused for good: gone if the store no longer has it."""
        product_id, variant_id = batch.owners[index]
        scope = self._gone.scope(product_id, variant_id)
        return item_gone(scope, why) if scope is not None else ItemResult(False, why)

    def _record_success(self, batch: _Batch, reply: Reply, indexes: list[int]) -> None:
        """The request went through: every item written, but those a 207 says failed."""
        failed = _partial_failures(batch, reply, indexes)
        for i in indexes:
            batch.results[i] = ItemResult(False, failed[i]) if i in failed else ItemResult(True)


def _went_through(reply: Reply) -> bool:
    """Was the request applied (every item, or those a multi-status answer lists)?"""
    return reply.kind == "ok" or reply.response.status_code < 300


def _partial_failures(batch: _Batch, reply: Reply, indexes: list[int]) -> dict[int, str]:
    """A product batch answered 207: the products missing from ``data`` failed."""
    if reply.kind == "ok":
        return {}
    body = reply.body or {}
    data = body.get("data")
    done = {p.get("id") for p in data if isinstance(p, dict)} if isinstance(data, list) else set()
    why = error_text(reply.response, body)
    return {i: why for i in indexes if batch.payloads[i]["id"] not in done}


def _owner(op: str, item: PlanItem) -> Owner:
    """Which product (and variant of it) an item writes, to ask whether it still exists."""
    pid = item.product_id
    product_id = None if pid is None else int(pid)
    if op == "products" or (op == "inventory" and item.ref == "product"):
        return product_id, None
    return product_id, int(item.variant_id)
