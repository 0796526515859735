"""What passes between the plan, the connectors and the results: typed records.

A ``PlanItem`` is one item of one write batch, as the match step plans it and the
update step hands it to a connector; it goes to storage between the two steps as
JSON (``to_json`` / ``from_json``). An ``ItemResult`` is what the connector answers
for it, one per item, in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from feedsync.domain.create import NewProduct

# One change: the store's value and the feed's, in canonical form (money in cents).
Change = list[Any]  # [old, new]; a list because it travels as JSON


@dataclass(slots=True)
class PlanItem:
    """One item of a write batch.

    For a product-level operation the item stands for the product: ``variant_id`` is
    the first variant's id, ``changes`` holds only product fields, ``rows`` every feed
    row it carries and ``conflicts`` the rows that wanted another value for it.
    ``ref`` is the platform's own reference for the variant where it has one (e.g.
    an inventory item id).

    A create item (operation ``create``, create mode) carries the product to create in
    ``new`` (``domain/create.py``: its fields and variants, each with its row and key):
    ``key`` is the product's key (its group, or a single item's SKU), ``rows`` its
    variants' rows, ``product_id`` the store's product when the group already exists
    there (only the new variants are added to it), else 0; ``variant_id`` is 0. A delete
    item (operation ``delete``, a revert) names what a run created: the whole product
    (``product_level``) or one variant it added to an existing product.
    """

    row: int
    key: str
    product_id: int
    variant_id: int
    changes: dict[str, Change]
    ref: str | None = None
    rows: list[int] | None = None
    product_level: bool = False
    conflicts: list[int] = field(default_factory=list)
    new: NewProduct | None = None

    @property
    def result_rows(self) -> list[int]:
        """The feed rows whose outcome this item decides."""
        return self.rows or [self.row]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row": self.row,
            "key": self.key,
            "product_id": self.product_id,
            "variant_id": self.variant_id,
            "changes": self.changes,
        }
        if self.ref is not None:
            out["ref"] = self.ref
        if self.rows is not None:
            out["rows"] = self.rows
        if self.product_level:
            out["product_level"] = True
        if self.conflicts:
            out["conflicts"] = self.conflicts
        if self.new is not None:
            out["new"] = self.new
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanItem:
        return cls(
            row=data["row"],
            key=data["key"],
            product_id=data["product_id"],
            variant_id=data["variant_id"],
            changes=data["changes"],
            ref=data.get("ref"),
            rows=data.get("rows"),
            product_level=bool(data.get("product_level")),
            conflicts=list(data.get("conflicts") or ()),
            new=data.get("new"),
        )


# What a write found missing from the store: the item's variant, or its whole product.
GoneScope = Literal["product", "variant"]


class ItemResult(NamedTuple):
    """One per plan item, in order: ``(ok, the platform's message when not ok)``.

    ``gone`` says the write failed because the item no longer exists in the store (the
    connector learned it structurally: a platform error code or status, never message
    text): ``"variant"`` for the item's variant, ``"product"`` for its whole product. A
    gone result is built with ``item_gone``; it still unpacks and compares as
    ``(ok, message)``. ``stale`` says the store refused to overwrite a value that changed
    since it was read (``item_stale``); ``shared`` that the message is the words for
    several items refused together (``item_refused_together``).
    """

    ok: bool
    message: str = ""

    @property
    def gone(self) -> GoneScope | None:
        return None

    @property
    def stale(self) -> bool:
        return False

    @property
    def shared(self) -> bool:
        """The message is the platform's words for several items refused together (it did
        not say whose are whose): ``item_refused_together``."""
        return False

    @property
    def created(self) -> Created | None:
        """What a create item made in the store (``item_created``): None otherwise."""
        return None

    @property
    def deferred(self) -> bool:
        """Known good but not sent yet (``item_deferred``): the caller sends it with its
        next batch of the same operation; not a result to record."""
        return False


class Created(NamedTuple):
    """A create item's product id and its variants' ids by SKU: they enter the catalog
    index at once, so the next run updates them instead of creating them again. A
    variant of the item missing from ``variants`` was not created (the result's message
    says why)."""

    product_id: int
    variants: Mapping[str, int]


class _Created(ItemResult):
    # No __slots__: the ids ride in the instance's __dict__ (a tuple's subclass cannot
    # have slots of its own), so the result still unpacks as ``(ok, message)``.
    _ids: Created

    @property
    def created(self) -> Created | None:
        return self._ids


def item_created(product_id: int, variants: Mapping[str, int], message: str = "") -> ItemResult:
    """A create item's result: the product (new, or the existing one the variants were
    added to) and each created variant's id by SKU. ``message``: what was left out (an
    image the platform could not load, a variant it refused), else empty."""
    result = _Created(True, message)
    result._ids = Created(product_id, dict(variants))
    return result


class _Stale(ItemResult):
    __slots__ = ()

    @property
    def stale(self) -> bool:
        return True


def item_stale(message: str) -> ItemResult:
    """A failed result for an item whose value changed in the store since it was read: a
    compare-and-set write that did not match, so nothing was overwritten (``message``: what
    the store holds)."""
    return _Stale(False, message)


class _Shared(ItemResult):
    __slots__ = ()

    @property
    def shared(self) -> bool:
        return True


def item_refused_together(message: str) -> ItemResult:
    """A failed result whose ``message`` holds the platform's words for every item of a
    request it refused as a whole, not this item's alone."""
    return _Shared(False, message)


class _Deferred(ItemResult):
    __slots__ = ()

    @property
    def deferred(self) -> bool:
        return True


def item_deferred() -> ItemResult:
    """An item the connector found good but left for the caller's next batch (a pile it
    carries: ``Capabilities.carries_pile``); not ok, because nothing of it was written."""
    return _Deferred(False, "")


class _VariantGone(ItemResult):
    __slots__ = ()

    @property
    def gone(self) -> GoneScope | None:
        return "variant"


class _ProductGone(ItemResult):
    __slots__ = ()

    @property
    def gone(self) -> GoneScope | None:
        return "product"


def item_gone(scope: GoneScope, message: str) -> ItemResult:
    """A failed result for an item the store no longer has (``message``: the platform's)."""
    if scope == "product":
        return _ProductGone(False, message)
    if scope == "variant":
        return _VariantGone(False, message)
    raise ValueError(f"gone scope must be 'product' or 'variant', not {scope!r}")
