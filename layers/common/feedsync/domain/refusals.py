"""Known-bad items: what the platform refused, remembered per profile with the payload.

An item the platform refused (not gone, not stale, not a conflict, not in doubt) is
remembered under its operation and item id (the product's for a product-level
operation, else the variant's) with the payload it carried (field -> new value, as the
plan holds it: money in cents) and the platform's words. The next plan compares a
changed item's payload for that operation with the remembered one: identical, it is
known bad (``KNOWN_BAD``); the profile isolates it (its own batches, where a refusal
rejects the whole request) or skips it (logged failed with the remembered reason). A
field the store later accepts for the item is struck from its payload; an empty payload
is forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from feedsync.domain.writes import Change, PlanItem

ISOLATE: Final = "isolate"
SKIP: Final = "skip"
# The result kind of an item skipped as known bad: failed, with the remembered reason.
KNOWN_BAD: Final = "known_bad"

RefusalKey = tuple[str, int]  # (operation, product id for a product-level one, else variant id)


class Refusal(NamedTuple):
    """One remembered refusal: what was sent, the platform's words, when and by which run."""

    payload: dict[str, Any]
    reason: str
    run_id: str
    at: str
    key: str = ""  # the item's feed key, for a reader of the file
    product_level: bool = False
    # ``reason`` is the platform's words for several items refused together (not stored:
    # an earlier reason of the item's own, for the same payload, is kept instead)
    shared: bool = False


def refusal_key(op: str, item: PlanItem) -> RefusalKey:
    return (op, item.product_id if item.product_level else item.variant_id)


def payload_of(changes: Mapping[str, Change]) -> dict[str, Any]:
    """The payload an item's changes send: field -> new value."""
    return {name: change[1] for name, change in changes.items()}


def known_bad(
    known: Mapping[RefusalKey, Refusal], op: str, item_id: int, changes: Mapping[str, Change]
) -> Refusal | None:
    """The remembered refusal when ``changes`` send exactly what was refused, else None."""
    refusal = known.get((op, item_id))
    if refusal is None or len(refusal.payload) != len(changes):
        return None
    payload = refusal.payload
    for name, change in changes.items():
        if name not in payload or payload[name] != change[1]:
            return None
    return refusal


def skipped_message(refusal: Refusal) -> str:
    """Why a known-bad item was not sent (the profile skips them)."""
    return (
        f"not sent: the platform refused this same change before ({refusal.reason}; "
        f"run {refusal.run_id}, {refusal.at})"
    )


def merged(known: dict[RefusalKey, Refusal], refused: Mapping[RefusalKey, Refusal]) -> None:
    """Add this run's refusals; one in words shared by several items keeps the item's own
    earlier words when it sent the same payload."""
    for refusal_id, refusal in refused.items():
        was = known.get(refusal_id)
        if refusal.shared and was is not None and was.payload == refusal.payload:
            refusal = refusal._replace(reason=was.reason)
        known[refusal_id] = refusal._replace(shared=False)


def forget_accepted(
    known: dict[RefusalKey, Refusal],
    applied: Mapping[int, Mapping[str, Any]],
    applied_products: Mapping[int, Mapping[str, Any]],
) -> bool:
    """Strike the fields the store accepted for an item from its remembered payload; an
    empty payload is forgotten. True when anything changed."""
    changed = False
    for refusal_id, refusal in list(known.items()):
        _op, item_id = refusal_id
        wrote = (applied_products if refusal.product_level else applied).get(item_id)
        if not wrote:
            continue
        left = {f: v for f, v in refusal.payload.items() if f not in wrote}
        if len(left) == len(refusal.payload):
            continue
        changed = True
        if left:
            known[refusal_id] = refusal._replace(payload=left)
        else:
            del known[refusal_id]
    return changed
