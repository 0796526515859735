"""Create mode's gathering (domain/create.py): rows the store lacks -> one create item per
product, and every row that cannot be created named with its reason."""

from __future__ import annotations

from typing import Any

from feedsync.domain.create import (
    CreateSettings,
    created_changes,
    gather_creations,
    merge_created,
    resume_creations,
    row_of,
)
from feedsync.domain.writes import Created, ItemResult, item_created

SETTINGS = CreateSettings({"Size": "Size", "Colour": "Color"}, "Parent", 3, "TestShop")


def _row(n: int, sku: str | None, group: str | None = None, *options: str | None,
         **values: Any) -> tuple[Any, ...]:  # fmt: skip
    base: dict[str, Any] = {"sku": sku, "name": f"Item {sku}", "price": 1000} | values
    return row_of(n, base, group=group, options=tuple(options))


def test_rows_of_a_group_become_one_product_and_singles_one_each() -> None:
    # Given two single rows and three rows of one group, the group's rows disagreeing on name
    rows = [
        _row(2, "A"),
        _row(3, "T-S", "TEE", "S", "Red", name="Tee", brand="Acme", stock=4),
        _row(4, "B", stock=0),
        _row(5, "T-M", "TEE", "M", "Red", name="Tee (other name)", brand="Other"),
        _row(6, "T-L", "TEE", "L", "Red"),
    ]
    # When they are gathered
    items, skipped = gather_creations(rows, SETTINGS._replace(visible=True, category="9"))
    # Then there are three products, in the order their first rows came
    assert skipped == []
    assert [(i.key, i.rows, i.product_id) for i in items] == [
        ("A", [2], 0), ("TEE", [3, 5, 6], 0), ("B", [4], 0)]  # fmt: skip
    tee = items[1].new
    assert tee is not None
    # and the group's product fields are its first row's
    assert tee["fields"] == {"name": "Tee", "brand": "Acme"}
    assert tee["option_names"] == ["Size", "Colour"]
    assert [(v["key"], v["options"]) for v in tee["variants"]] == [
        ("T-S", {"Size": "S", "Colour": "Red"}),
        ("T-M", {"Size": "M", "Colour": "Red"}),
        ("T-L", {"Size": "L", "Colour": "Red"}),
    ]
    assert tee["variants"][0]["fields"] == {"price": 1000, "stock": 4}
    assert (tee["visible"], tee["category"]) == (True, "9")
    # and a single item has no options; its stock of 0 is kept (a value, not a blank)
    single = items[2].new
    assert single is not None and single["group"] is None and single["option_names"] == []
    assert single["variants"][0]["fields"] == {"price": 1000, "stock": 0}
    # and each created variant is one change line with field "create"
    assert [(r, k) for r, k, _ in created_changes(items[1])] == [(3, "T-S"), (5, "T-M"), (6, "T-L")]


def test_rows_that_cannot_be_created_are_skipped_with_the_reason() -> None:
    # Given rows without a SKU, a price or a name, one missing an option value and a
    # second row with the same options as the first
    rows = [
        _row(2, None),
        _row(3, "NP", price=None),
        _row(4, "NN", name=None),
        _row(5, "T-S", "TEE", "S", None),
        _row(6, "T-M", "TEE", "M", "Red"),
        _row(7, "T-M2", "TEE", "M", "Red"),
        _row(8, "NP", price=5),
    ]
    # When they are gathered
    items, skipped = gather_creations(rows, SETTINGS)
    # Then only the first good row of the group and the repaired NP make items
    assert [i.key for i in items] == ["TEE", "NP"]
    reasons = {s.row: s.reason for s in skipped}
    assert reasons[2] == "a new item needs a SKU: the row has none"
    assert reasons[3] == "a new item needs a price: the row has none"
    assert reasons[4] == "a new item needs a name: the row has none"
    # and the missing option value is named by row and column
    assert reasons[5] == (
        "row 5, column 'Color': a variant of group 'TEE' needs a value for option 'Colour'"
    )
    assert reasons[7] == "group 'TEE': the same option values as row 6 (M, Red)"


def test_a_group_over_the_platforms_variant_limit_is_refused_by_name() -> None:
    # Given a group of four where the platform allows three
    rows = [_row(n, f"T-{n}", "TEE", str(n), "Red") for n in range(2, 6)]
    # When it is gathered
    items, skipped = gather_creations(rows, SETTINGS)
    # Then nothing of it is created and every row says why, with the platform's limit
    assert items == []
    assert {s.reason for s in skipped} == {
        "group 'TEE' has 4 variants; TestShop allows at most 3 per product"
    }
    assert [s.row for s in skipped] == [2, 3, 4, 5]


def test_a_group_the_store_has_gets_its_new_rows_as_variants_without_a_name() -> None:
    # Given a group the store already has as product 77, and a new row without a name
    rows = [_row(9, "T-XL", "TEE", "XL", "Red", name=None)]
    # When it is gathered
    items, skipped = gather_creations(rows, SETTINGS, existing={"TEE": 77})
    # Then it is one item adding a variant to product 77
    assert skipped == []
    assert [(i.key, i.product_id, i.rows) for i in items] == [("TEE", 77, [9])]


def test_a_resumed_batch_sends_only_what_the_store_lacks_and_merges_the_ids() -> None:
    # Given a batch of three: one wholly made, one made in part, one not at all
    rows = [_row(2, "A"), _row(3, "T-S", "TEE", "S", "Red"), _row(4, "T-M", "TEE", "M", "Red"),
            _row(5, "B")]  # fmt: skip
    items, _ = gather_creations(rows, SETTINGS)
    found = [Created(10, {"A": 11}), Created(20, {"T-S": 21}), None]
    # When it is resumed
    resume = resume_creations(items, found)
    # Then A is answered from the store, the group sends only T-M to product 20, B as it is
    assert set(resume.known) == {0}
    known = resume.known[0].created
    assert known is not None and (known.product_id, dict(known.variants)) == (10, {"A": 11})
    assert [(i, item.product_id, item.rows) for i, item in resume.send] == [
        (1, 20, [4]), (2, 0, [5])]  # fmt: skip
    # and the group's answer, merged, has both variants
    merged = merge_created(item_created(20, {"T-M": 22}), resume.earlier[1])
    assert merged.created is not None and dict(merged.created.variants) == {"T-S": 21, "T-M": 22}
    # and a failed answer stays failed
    assert merge_created(ItemResult(False, "no"), resume.earlier[1]) == (False, "no")


def test_a_created_result_still_unpacks_and_compares_as_ok_and_message() -> None:
    result = item_created(5, {"A": 6}, "created without its images: bad host")
    ok, message = result
    assert (ok, message) == (True, "created without its images: bad host")
    assert result == ItemResult(True, "created without its images: bad host")
    assert ItemResult(True).created is None
