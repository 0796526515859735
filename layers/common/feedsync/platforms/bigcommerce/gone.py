"""Is an item the store refused one the merchant deleted since the catalog was read?

A batch naming an unknown id is refused like any invalid one, so an item still refused
once isolated is looked up with one ``GET /catalog/products/{id}`` (``include=variants``
when the item is a variant): a 404 means the product is gone, a product whose variants no
longer list the item's variant means the variant is gone. Such an item is reported with
``ports.item_gone``; any other answer leaves it an ordinary refusal. Never decided by the
refusal's words, and asked only for a refusal that could mean one (the writer skips an
item whose refusal names values of it only, ``responses.names_values_only``: the store
read it). Several items refused in one batch are looked up together: one
``GET /catalog/products?id:in=...&include=variants`` per 50 products (a product missing
from that 200 answer is gone: the answer itself shows the store answers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from feedsync.core.ports import GoneScope
from feedsync.errors import StoreRequestError, StoreUnavailable
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.endpoints import PRODUCTS, product_path
from feedsync.platforms.bigcommerce.responses import body_of

# How long a 200 from the store's product list vouches for the store: a mass deletion
# then costs one look-up per product, not two.
ALIVE_FOR_S: Final = 60.0
# Products per look-up of several refused items (their ids go in the query string).
IDS_PER_LOOKUP: Final = 50


class GoneCheck:
    """The deletion look-up of one store; ``clock``: monotonic seconds."""

    def __init__(self, api: StoreApi, clock: Callable[[], float]) -> None:
        self._api = api
        self._clock = clock
        self._alive_at: float | None = None  # when the store last proved it answers

    def scope(self, product_id: int | None, variant_id: int | None) -> GoneScope | None:
        """Does the store still have this product (and this variant of it)? One GET.

        ``GET /catalog/products/{id}`` answers 404 for a product that does not exist (the
        products spec); with ``include=variants`` its ``variants`` list every variant of
        it, as the catalog read relies on. A 404 counts only once the store's product
        list still answers (a closed store, or a platform incident, answers 404 to
        everything: that must not empty the index). Anything else (an error, an
        unreadable answer) is not taken as gone: the item is an ordinary failure.
        """
        if product_id is None:
            return None
        params = {"include": "variants"} if variant_id is not None else None
        try:
            reply = self._api.get(product_path(product_id), params, gone=(404,))
            if reply.kind == "gone":
                return "product" if self._store_answers() else None
        except (StoreRequestError, StoreUnavailable):
            return None
        if variant_id is None:
            return None
        data = body_of(reply.response).get("data")
        variants = data.get("variants") if isinstance(data, dict) else None
        if not isinstance(variants, list):
            return None
        ids = {v.get("id") for v in variants if isinstance(v, dict)}
        return None if variant_id in ids else "variant"

    def scopes(self, owners: Sequence[tuple[int | None, int | None]]) -> list[GoneScope | None]:
        """``scope`` for each (product id, variant id | None), in as few requests as can be:
        one item as ``scope`` does; several with one product list per 50 products."""
        if len(owners) == 1:
            return [self.scope(*owners[0])]
        ids = sorted({pid for pid, _vid in owners if pid is not None})
        held: dict[int, set[Any]] = {}  # product id -> its variant ids, as the store lists them
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ids[start : start + IDS_PER_LOOKUP]
            params = {"id:in": ",".join(map(str, chunk)), "include": "variants", "limit": 250}
            try:
                reply = self._api.get(PRODUCTS, params)
            except (StoreRequestError, StoreUnavailable):
                return [None] * len(owners)  # not known: ordinary refusals
            data = body_of(reply.response).get("data")
            if reply.response.status_code != 200 or not isinstance(data, list):
                return [None] * len(owners)
            for product in data:
                variants = product.get("variants") if isinstance(product, dict) else None
                if isinstance(variants, list):
                    held[product.get("id")] = {v.get("id") for v in variants if isinstance(v, dict)}
        out: list[GoneScope | None] = []
        for pid, vid in owners:
            if pid is None:
                out.append(None)
            elif pid not in held:
                out.append("product")
            else:
                out.append("variant" if vid is not None and vid not in held[pid] else None)
        return out

    def _store_answers(self) -> bool:
        """Does the store's product list answer 200? Asked at most once a minute."""
        now = self._clock()
        if self._alive_at is not None and now - self._alive_at < ALIVE_FOR_S:
            return True
        probe = self._api.get(PRODUCTS, {"limit": 1}, gone=(404,))
        if probe.response.status_code != 200:
            return False
        self._alive_at = now
        return True
