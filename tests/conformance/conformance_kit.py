"""What the conformance suite shares across platforms: time, a recording rate budget and
session, the seeded catalog, and plan items built the way the match step builds them.

Nothing here knows a platform: the harnesses (``harnesses/``) do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import requests

from feedsync.core.ports import RateBudget, StoreConnector
from feedsync.domain.capabilities import WriteOp
from feedsync.domain.content import NEVER_FORCED, SAME, index_value
from feedsync.domain.fields import REF, VARIANT_POS, VISIBLE_AT, Variant
from feedsync.domain.writes import ItemResult, PlanItem


# -- time ------------------------------------------------------------------------------------
class VirtualClock:
    """Monotonic seconds that pass only when someone sleeps on them.

    The connector's sleep, the double's quota window or cost bucket and the rate budget
    all read this one clock, so a 10 s wait is over at once and every party agrees it
    happened: the suite asserts waits without ever waiting.
    """

    def __init__(self, start: float = 10_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)
        time.sleep(0)  # let the double's threads run (a bulk job finishing meanwhile)

    def clear(self) -> None:
        with self._lock:
            self.sleeps.clear()


# -- what the connector told its collaborators ------------------------------------------------
class Report(NamedTuple):
    left: int | None
    reset_s: float | None
    quota: int | None
    window_s: float | None


class RecordingBudget:
    """A ``RateBudget`` that remembers every reservation and report, around a real one."""

    def __init__(self, inner: RateBudget) -> None:
        self.inner = inner
        self.reserved = 0
        self.reports: list[Report] = []

    def before_request(self) -> None:
        self.reserved += 1
        self.inner.before_request()

    def after_response(
        self,
        left: int | None,
        reset_s: float | None,
        quota: int | None = None,
        window_s: float | None = None,
    ) -> None:
        self.reports.append(Report(left, reset_s, quota, window_s))
        self.inner.after_response(left, reset_s, quota, window_s)


class BudgetFactory:
    """``ConnectorSetup.budget``: hands out one budget and counts how often it was asked."""

    def __init__(self, budget: RateBudget) -> None:
        self.budget = budget
        self.calls = 0

    def __call__(self) -> RateBudget:
        self.calls += 1
        return self.budget


class Sent(NamedTuple):
    method: str
    url: str
    json: Any


class RecordingSession(requests.Session):
    """The connector's HTTP session, keeping what each request carried (for platforms whose
    double does not keep request bodies)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(Sent(str(method), str(url), kwargs.get("json")))
        return super().request(method, url, *args, **kwargs)


# -- the catalog every harness seeds ----------------------------------------------------------
@dataclass(frozen=True)
class VariantSpec:
    sku: str
    barcode: str
    price: int  # cents
    stock: int
    option: str | None = None  # the size, on a product with options


@dataclass(frozen=True)
class ProductSpec:
    name: str
    variants: tuple[VariantSpec, ...]

    @property
    def simple(self) -> bool:
        """A product without options: it is its own only variant."""
        return len(self.variants) == 1 and self.variants[0].option is None


# Two simple products and two with options (one of three sizes, one of two): enough for a
# batch to hold items that must succeed beside the one that must not, on every operation.
CATALOG: tuple[ProductSpec, ...] = (
    ProductSpec("Conformance Mug", (VariantSpec("CF-MUG", "012345678905", 1299, 7),)),
    ProductSpec("Conformance Cap", (VariantSpec("CF-CAP", "012345678912", 1010, 0),)),
    ProductSpec(
        "Conformance Tee",
        (
            VariantSpec("CF-TEE-S", "012345678929", 1999, 4, "S"),
            VariantSpec("CF-TEE-M", "012345678936", 2099, 11, "M"),
            VariantSpec("CF-TEE-L", "012345678943", 2199, 2, "L"),
        ),
    ),
    ProductSpec(
        "Conformance Hoodie",
        (
            VariantSpec("CF-HOOD-M", "012345678950", 4999, 5, "M"),
            VariantSpec("CF-HOOD-L", "012345678967", 5049, 1, "L"),
        ),
    ),
)


@dataclass(frozen=True)
class SeededVariant:
    spec: VariantSpec
    variant_id: int
    ref: str | None  # what the platform's reads give as ``ref`` (None where it has none)


@dataclass(frozen=True)
class SeededProduct:
    spec: ProductSpec
    product_id: int
    variants: tuple[SeededVariant, ...]

    @property
    def variant_ids(self) -> list[int]:
        return [v.variant_id for v in self.variants]


@dataclass(frozen=True)
class Catalog:
    products: tuple[SeededProduct, ...]

    def product(self, product_id: int) -> SeededProduct:
        return next(p for p in self.products if p.product_id == product_id)

    @property
    def keys(self) -> set[tuple[int, int]]:
        return {(p.product_id, v.variant_id) for p in self.products for v in p.variants}

    def keys_of(self, products: Iterable[SeededProduct]) -> set[tuple[int, int]]:
        return {(p.product_id, v.variant_id) for p in products for v in p.variants}


# -- reading -----------------------------------------------------------------------------------
Index = dict[tuple[int, int], Variant]


def read_index(
    connector: StoreConnector, since: datetime | None = None, until: datetime | None = None
) -> Index:
    """The connector's read as the catalog index keys it; a variant read twice fails."""
    index: Index = {}
    for variant in connector.iter_variants(since, until):
        key = (variant[0], variant[1])
        assert key not in index, f"variant {key} was read twice"
        index[key] = variant
    return index


# -- plan items ----------------------------------------------------------------------------------
def new_value(field: str, variant: Variant) -> Any:
    """A value for ``field`` that differs from what the store holds, valid on every platform
    (a sale price under both the old and the new price, a compare-at price above them)."""
    price = int(variant[VARIANT_POS["price"]] or 1000)
    stock = int(variant[VARIANT_POS["stock"]] or 0)
    name = str(variant[VARIANT_POS["name"]] or "Product")
    values: dict[str, Any] = {
        "price": price + 111,
        "sale_price": price - 89,
        "retail_price": price + 611,
        "cost_price": 444,
        "stock": stock + 5,
        "name": f"{name} Renamed",
        "description": "<p>Written by the conformance suite</p>",
        "brand": "Conformance Brand",
        "weight": "1.25",
        "image_url": f"https://images.example/conformance/{variant[1]}.jpg",
        "visible": variant[VISIBLE_AT] is not True,  # shown -> hidden, else shown
    }
    return values[field]


def _read_back(field: str) -> bool:
    """A field the catalog index holds (a product's visibility too; its own contract
    tests, ``tests/contract/test_product_visibility.py``, read each double's states)."""
    return field in VARIANT_POS


def readable_fields(op: WriteOp) -> tuple[str, ...]:
    """The operation's fields a catalog read shows again."""
    return tuple(f for f in op.fields if _read_back(f))


def plain_fields(op: WriteOp) -> tuple[str, ...]:
    """One field of the operation whose written value reads back as sent."""
    return tuple(f for f in op.fields if f not in NEVER_FORCED and _read_back(f))[:1]


def resendable_fields(op: WriteOp) -> tuple[str, ...]:
    """The operation's fields a sync may send again and a read shows: not images, which
    every platform re-hosts as a new copy (so a sync never forces them,
    ``content.NEVER_FORCED``)."""
    return tuple(f for f in op.fields if f not in NEVER_FORCED and _read_back(f))


def plan_batches(
    op: WriteOp,
    catalog: Catalog,
    index: Index,
    fields: tuple[str, ...],
    products: Callable[[SeededProduct], bool] = lambda p: True,
) -> list[list[PlanItem]]:
    """Every item of the catalog ``op`` takes, in batches as the planner cuts them.

    A product-level operation gets one item per product (its first variant's id); a
    per-product operation one batch per product; every batch within ``max_batch``.
    Old values come from ``index`` (the platform's own read), as a plan's do.
    """
    groups: list[list[PlanItem]] = []
    row = 0
    for product in catalog.products:
        if not products(product):
            continue
        targets = product.variants[:1] if op.product_level else product.variants
        group: list[PlanItem] = []
        for seeded in targets:
            if not op.product_level and not op.takes(product.product_id, seeded.variant_id):
                continue
            read = index[(product.product_id, seeded.variant_id)]
            row += 1
            group.append(
                PlanItem(
                    row=row,
                    key=seeded.spec.sku,
                    product_id=product.product_id,
                    variant_id=seeded.variant_id,
                    changes={f: [read[VARIANT_POS[f]], new_value(f, read)] for f in fields},
                    ref=read[REF],
                    rows=[row],
                    product_level=op.product_level,
                )
            )
        if group:
            groups.append(group)
    if not op.per_product:
        groups = [[item for group in groups for item in group]]
    return [g[i : i + op.max_batch] for g in groups for i in range(0, len(g), op.max_batch)]


def covered(item: PlanItem, catalog: Catalog) -> list[tuple[int, int]]:
    """The variants an item writes: all of its product's for a product-level item."""
    if item.product_level:
        product = catalog.product(item.product_id)
        return [(product.product_id, vid) for vid in product.variant_ids]
    return [(item.product_id, item.variant_id)]


def holds(field: str, written: Any, value: Any) -> bool:
    """Does ``value`` (as the index keeps it) show that ``written`` reached the store?

    The platforms keep descriptions, weights, names and brands in their own spelling
    and re-host images, so those compare as a sync compares them (``content.SAME``).
    """
    same: Callable[[object, object], bool] = SAME.get(field, lambda a, b: a == b)
    return same(written, value)


def stored(field: str, value: Any) -> Any:
    """A value the double holds, in the form the index keeps."""
    return index_value(field, value)


def apply_all(
    connector: StoreConnector, op: WriteOp, batches: list[list[PlanItem]], key: str
) -> list[tuple[PlanItem, ItemResult]]:
    """Apply every batch (one key per batch); each item with its result."""
    out: list[tuple[PlanItem, ItemResult]] = []
    for n, batch in enumerate(batches):
        results = connector.apply(op.name, batch, batch_key=f"{key}-{n}")
        assert len(results) == len(batch), "one result per item, in order"
        out.extend(zip(batch, results, strict=True))
    return out


def by_item(pairs: list[tuple[PlanItem, ItemResult]]) -> dict[tuple[int, int], ItemResult]:
    return {(item.product_id, item.variant_id): result for item, result in pairs}
