"""What each store platform can write, how much per request, and under which quota.

Each platform declares its own in ``platforms/<name>/spec.py``; the match step plans
batches from the declaration and the update step applies them, so neither needs to
know a platform. A plan item's changes are routed to
one or more write operations (e.g. prices and stock on a variant batch, the name on
a product batch); each operation says how many items one
request may carry and whether a request may mix products.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Applies = Literal["any", "simple", "variation"]
QuotaModel = Literal["request_window", "cost_bucket", "token_bucket", "none"]


@dataclass(frozen=True)
class WriteOp:
    """One kind of write request.

    ``per_product``: a request carries one product's items only (a per-product
    variants endpoint or mutation).
    ``product_level``: the fields belong to the product, so the variants of one
    product collapse into a single item keyed by the product id.
    ``serial``: the platform processes these one at a time per store, so the
    planner keeps all of them in one shard (never two in flight).
    ``applies``: which items it takes: every item, simple products only (the
    product is its own variant, ``product_id == variant_id``) or variations only.
    ``range_read_sees``: a modified-since read lists what it wrote (False where the
    platform does not move the modification time for it: reading such a write back after
    a crash then takes a whole-catalog read).
    ``refusal_rejects_batch``: one refused item makes the platform reject the whole
    request, so the plan gives known-bad items requests of their own (where the platform
    answers per item, they cost the others nothing and ride along).
    """

    name: str
    max_batch: int
    fields: tuple[str, ...]
    per_product: bool = False
    product_level: bool = False
    serial: bool = False
    applies: Applies = "any"
    range_read_sees: bool = True
    refusal_rejects_batch: bool = False

    def takes(self, product_id: int, variant_id: int) -> bool:
        if self.applies == "any":
            return True
        simple = product_id == variant_id
        return simple if self.applies == "simple" else not simple


@dataclass(frozen=True)
class Quota:
    """The platform's rate model: a request window (``requests`` per ``window_s``), a
    cost bucket (``points`` capacity restored at ``restore_per_s``), a token bucket per
    operation (rates and bursts the platform's connector keeps) or none."""

    model: QuotaModel
    requests: int = 0
    window_s: float = 0.0
    points: int = 0
    restore_per_s: float = 0.0


@dataclass(frozen=True)
class BulkPath:
    """Above ``threshold`` items of ``op``, send them through ``bulk_op`` instead."""

    op: str
    bulk_op: str
    threshold: int


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What the platform's own specification says a value of one canonical field must be,
    in canonical units (money in cents, stock in units, a weight as the index holds it:
    decimal text in the store's unit). ``domain/validation.py`` checks a row's changes
    against these before anything is sent, so a value the platform would refuse costs no
    request. ``source``: where the specification says so."""

    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None  # characters
    web_url: bool = False  # an absolute http(s) URL with a host (the platform downloads it)
    source: str = ""
    # Set: the field is written only to an item whose read shows a value for it (the
    # platform's stock of the others is not the merchant's); the text says why.
    needs_read: str = ""


@dataclass(frozen=True)
class Creation:
    """How a platform creates products (create mode): the ``create`` operation sends one
    plan item per product (``domain/create.py``: its fields and variants); ``delete``, where
    the platform has it, undoes a run's creations (else a revert hides them).

    ``max_variants``: the most variants one product may have (a larger group is refused by
    name with this limit); ``source``: where the platform's specification says so.
    """

    max_variants: int
    source: str = ""


@dataclass(frozen=True)
class Capabilities:
    platform: str
    ops: tuple[WriteOp, ...]
    quota: Quota
    # Update shards that run at once without outrunning the quota.
    concurrency: int
    bulk: tuple[BulkPath, ...] = ()
    # Why a canonical field cannot be written here, for the merchant's error message.
    unwritable: Mapping[str, str] = field(default_factory=dict)
    # What the platform's spec refuses, per canonical field (checked before sending).
    constraints: Mapping[str, FieldRule] = field(default_factory=dict)
    # At most this many batches in one update shard (None: the deployment's setting), for
    # platforms whose batch takes minutes (a feed processed asynchronously).
    batches_per_shard: int | None = None
    # Create mode: how the platform creates products (None: it cannot, for the reason
    # ``cannot_create`` gives the merchant).
    creation: Creation | None = None
    cannot_create: str = ""
    # The connector can leave a refused batch's known-good items to the caller's next
    # batch of the operation and fill the requests that narrow a refusal down with the
    # caller's next items (``ports.PileCarrier``): the update step then sends a shard's
    # plain batches of an operation as one stream (``core/shard_send.py``).
    carries_pile: bool = False

    def __post_init__(self) -> None:
        names = [op.name for op in self.ops]
        if len(set(names)) != len(names):  # results and index patches are keyed by name
            raise ValueError(f"{self.platform}: write operation names repeat: {names}")

    @property
    def writable_fields(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for op in self.ops:
            if op.name in {b.bulk_op for b in self.bulk}:
                continue
            for f in op.fields:
                seen[f] = None
        return tuple(seen)

    def check_create(self) -> Creation:
        """The platform's ``Creation``; ValueError with the platform's reason when it has none."""
        if self.creation is None or CREATE_OP not in {op.name for op in self.ops}:
            raise ValueError(self.cannot_create or f"{self.platform}: create mode is not available")
        return self.creation

    @property
    def can_delete(self) -> bool:
        """A revert deletes what a run created (else it hides it)."""
        return DELETE_OP in {op.name for op in self.ops}

    def op(self, name: str) -> WriteOp:
        for op in self.ops:
            if op.name == name:
                return op
        raise KeyError(f"{self.platform} has no write operation {name!r}")

    def route(
        self, product_id: int, variant_id: int, changes: Mapping[str, Any]
    ) -> list[tuple[WriteOp, dict[str, Any]]]:
        """Split one item's changes over the operations that write them (first op wins)."""
        bulk_ops = {b.bulk_op for b in self.bulk}
        left = dict(changes)
        out: list[tuple[WriteOp, dict[str, Any]]] = []
        for op in self.ops:
            if op.name in bulk_ops or not op.takes(product_id, variant_id):
                continue
            mine = {f: left.pop(f) for f in op.fields if f in left}
            if mine:
                out.append((op, mine))
        if left:
            raise ValueError(f"{self.platform} cannot write {', '.join(sorted(left))}")
        return out

    def check_fields(self, fields: list[str] | tuple[str, ...]) -> None:
        """ValueError naming each field this platform cannot write, and why."""
        bad = [f for f in fields if f not in self.writable_fields]
        if bad:
            reasons = "; ".join(
                f"{f}: {self.unwritable.get(f, 'not writable on ' + self.platform)}" for f in bad
            )
            raise ValueError(
                f"{self.platform} cannot write {', '.join(bad)} ({reasons}); "
                f"writable fields: {', '.join(self.writable_fields)}"
            )


# Canonical fields grouped as the platforms write them.
VARIANT_MONEY: Final = ("price", "sale_price", "retail_price", "cost_price")
# Content written with a variant's own fields, and with its product's (one per product).
VARIANT_CONTENT: Final = ("weight", "image_url")
PRODUCT_CONTENT: Final = ("name", "description", "brand")
# Whether the product is shown in the store (True) or hidden (False): never a feed column,
# only written for items missing from the feed (``missing: disable``) and when they return.
VISIBLE: Final = "visible"
# Create mode's operations (``Creation``). Their ``fields`` are empty, so ``route`` never
# sends an update through them: a create item carries ``PlanItem.new``, a delete item names
# the product (``product_level``) or the variant a run created.
CREATE_OP: Final = "create"
DELETE_OP: Final = "delete"
