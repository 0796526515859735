"""What the store holds for an item whose batch was in flight when its shard stopped.

The update step records each batch as in flight before sending it. When a shard stops
before recording that batch's results, nobody knows whether the store accepted it, so
finalize reads the items back and logs what the store holds, never a guess: the planned
value (``updated``), the old one (``not_applied``), or something else (``failed``, saying
what the store holds).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from feedsync.domain.content import SAME
from feedsync.domain.fields import VARIANT_POS, Variant
from feedsync.domain.runlog import FAILED, NOT_APPLIED, UPDATED, value_text
from feedsync.domain.writes import PlanItem

IN_DOUBT: Final = "the run stopped while this item was being sent"
KEPT_MESSAGE: Final = f"{IN_DOUBT}; the store did not apply it (it holds the old value)"
UNCHANGED_MESSAGE: Final = f"{IN_DOUBT}; the store shows no change to it since the run began"


def read_back_status(
    item: PlanItem, held: Variant | None, unreadable: Collection[str] = ()
) -> tuple[str, str]:
    """``(status, message)`` of an in-flight item from what the store holds now.

    ``held``: the item's variant as a read of the products modified since the run began
    gives it, None when that read did not list it (the store did not change it);
    ``unreadable``: fields that read cannot tell (stock kept at another location).
    """
    if held is None:
        return NOT_APPLIED, UNCHANGED_MESSAGE
    planned: list[str] = []
    kept: list[str] = []
    other: list[str] = []
    for name, (old, new) in item.changes.items():
        pos = VARIANT_POS.get(name)
        if pos is None or name in unreadable:  # (a field the index does not hold)
            continue
        value = held[pos]
        same = SAME.get(name)
        if same(new, value) if same is not None else new == value:
            planned.append(name)
        elif value == old:
            kept.append(name)
        else:
            if name == "description":  # the index keeps a digest: no text to quote
                other.append("description holds other text")
            else:
                other.append(
                    f"{name} is {value_text(name, value)} (planned {value_text(name, new)})"
                )
    if other:
        return FAILED, f"{IN_DOUBT}; the store holds neither the old nor the new value: " + (
            "; ".join(other)
        )
    if planned and kept:
        return FAILED, (
            f"{IN_DOUBT}; the store applied only part of it: {', '.join(planned)} "
            f"changed, {', '.join(kept)} did not"
        )
    if planned:
        return UPDATED, ""
    if kept:
        return NOT_APPLIED, KEPT_MESSAGE
    return FAILED, f"{IN_DOUBT}; what the store holds could not be read back: check it there"
