"""What the log says of an in-flight item, from what the store holds (never a guess)."""

from __future__ import annotations

from feedsync.domain.content import description_digest
from feedsync.domain.fields import VARIANT_POS, Variant
from feedsync.domain.readback import KEPT_MESSAGE, UNCHANGED_MESSAGE, read_back_status
from feedsync.domain.writes import PlanItem

BASE: Variant = (7, 71, "A", None, 1000, None, None, None, 5, "Mug", None, None,
                 None, None, None, None)  # fmt: skip


def held(**values: object) -> Variant:
    out = list(BASE)
    for name, value in values.items():
        out[VARIANT_POS[name]] = value
    return tuple(out)  # type: ignore[return-value]


ITEM = PlanItem(2, "A", 7, 71, {"price": [1000, 1200], "stock": [5, 9]})


def test_the_planned_values_are_updated_and_the_old_ones_not_applied() -> None:
    assert read_back_status(ITEM, held(price=1200, stock=9)) == ("updated", "")
    assert read_back_status(ITEM, held()) == ("not_applied", KEPT_MESSAGE)
    # an item the modified-since read did not list was not changed by anyone
    assert read_back_status(ITEM, None) == ("not_applied", UNCHANGED_MESSAGE)


def test_part_applied_or_a_third_value_is_failed_naming_what_the_store_holds() -> None:
    status, message = read_back_status(ITEM, held(price=1200))
    assert status == "failed" and "only part of it: price changed, stock did not" in message
    status, message = read_back_status(ITEM, held(price=1100, stock=9))
    assert status == "failed" and "price is 11.00 (planned 12.00)" in message


def test_content_compares_as_the_match_does_and_stock_elsewhere_is_not_guessed() -> None:
    # Given a description change (the store side holds a digest) and one of stock only
    text = "<p>New</p>"
    item = PlanItem(2, "A", 7, 71, {"description": [None, text]}, product_level=True)
    assert read_back_status(item, held(description=description_digest(text)))[0] == "updated"
    assert read_back_status(item, held(description="other"))[1].endswith(
        "description holds other text"
    )
    stock = PlanItem(2, "A", 7, 71, {"stock": [5, 9]})
    status, message = read_back_status(stock, held(stock=9), unreadable=("stock",))
    assert status == "failed" and "could not be read back" in message
