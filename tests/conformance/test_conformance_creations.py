"""Conformance: create mode on every platform that can create (``capabilities.creation``),
against its double, through the connector's public surface only (``apply("create")``,
``find_created``, ``apply("delete")`` and the catalog read): what a create answers is what
a read then finds, hidden; a batch sent again after the look-up makes nothing twice; new
variants join a product the store has; a delete removes what was created and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conformance_kit import read_index
from harnesses import HARNESSES
from harnesses.base import Harness

from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.create import NewProduct, NewVariant, resume_creations
from feedsync.domain.fields import VARIANT_POS, VISIBLE_AT
from feedsync.domain.writes import PlanItem
from feedsync.platforms.registry import platform

CREATORS = [h for h in HARNESSES if platform(h.platform).capabilities({}).creation is not None]
SKU = VARIANT_POS["sku"]
PRICE = VARIANT_POS["price"]


@pytest.fixture(params=CREATORS, ids=lambda h: h.platform)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with request.param() as started:
        started.seed_catalog()
        yield started


def _single(sku: str, price: int) -> PlanItem:
    variant: NewVariant = {
        "row": 1,
        "key": sku,
        "options": {},
        "fields": {"price": price, "stock": 5},
    }
    new: NewProduct = {
        "group": None,
        "fields": {"name": f"New {sku}"},
        "option_names": [],
        "variants": [variant],
        "visible": False,
        "category": None,
    }
    return PlanItem(1, sku, 0, 0, {}, rows=[1], product_level=True, new=new)


def _group(key: str, sizes: list[str], product_id: int = 0) -> PlanItem:
    variants: list[NewVariant] = [
        {
            "row": 10 + i,
            "key": f"{key}-{size}",
            "options": {"Size": size},
            "fields": {"price": 2000 + i, "stock": 3},
        }
        for i, size in enumerate(sizes)
    ]
    new: NewProduct = {
        "group": key,
        "fields": {"name": f"New group {key}", "description": "New"},
        "option_names": ["Size"],
        "variants": variants,
        "visible": False,
        "category": None,
    }
    rows = [v["row"] for v in variants]
    return PlanItem(10, key, product_id, 0, {}, rows=rows, product_level=True, new=new)


def _send(connector: Any, op: str, items: list[PlanItem], key: str) -> list[Any]:
    """The items in batches of the operation's ``max_batch``, as the planner cuts them."""
    size = connector.capabilities.op(op).max_batch
    return [
        result
        for start in range(0, len(items), size)
        for result in connector.apply(op, items[start : start + size], batch_key=f"{key}-{start}")
    ]


def _made(results: list[Any]) -> dict[str, tuple[int, int]]:
    """SKU -> (product id, variant id) of what the results say was created."""
    out: dict[str, tuple[int, int]] = {}
    for result in results:
        assert result.ok and result.created is not None, result
        for sku, variant_id in result.created.variants.items():
            out[sku] = (result.created.product_id, variant_id)
    return out


def test_what_a_create_answers_is_what_a_read_finds_hidden(harness: Harness) -> None:
    # Given a single item and a group of three sizes the store lacks
    connector = harness.connector()
    items = [_single("NEWC-ONE", 1234), _group("NEWC-G", ["S", "M", "L"])]

    # When they are created
    made = _made(_send(connector, CREATE_OP, items, "create-1"))

    # Then the read finds each SKU at the ids the results gave, with its price, hidden
    assert set(made) == {"NEWC-ONE", "NEWC-G-S", "NEWC-G-M", "NEWC-G-L"}
    index = read_index(connector)
    for sku, ids in made.items():
        assert ids in index, (sku, ids)
        assert index[ids][SKU] == sku
        assert index[ids][VISIBLE_AT] is False
    assert index[made["NEWC-ONE"]][PRICE] == 1234
    assert len({made[f"NEWC-G-{s}"][0] for s in "SML"}) == 1


def test_a_batch_looked_up_before_it_is_sent_again_makes_nothing_twice(harness: Harness) -> None:
    # Given a create batch the store accepted (its answer lost)
    connector = harness.connector()
    items = [_single("NEWC-ONE", 1234), _group("NEWC-G", ["S", "M"])]
    made = _made(_send(connector, CREATE_OP, items, "create-1"))
    before = read_index(connector)

    # When the batch is looked up before sending it again
    resume = resume_creations(items, connector.find_created(items))

    # Then nothing is left to send, the answers name what was made, and the store is as it was
    assert resume.send == []
    assert _made([resume.known[0], resume.known[1]]) == made
    assert read_index(connector).keys() == before.keys()


def test_find_created_answers_nothing_for_items_never_made(harness: Harness) -> None:
    # When items never created are looked up
    connector = harness.connector()
    found = connector.find_created([_single("NEWC-NONE", 1), _group("NEWC-NO", ["S"])])

    # Then nothing is found
    assert found == [None, None]


def test_new_variants_join_a_product_the_store_has(harness: Harness) -> None:
    # Given a group the store has with sizes S and M
    connector = harness.connector()
    [first] = _send(connector, CREATE_OP, [_group("NEWC-G", ["S", "M"])], "c1")
    assert first.created is not None
    product_id = first.created.product_id

    # When size L of that group is created
    added = _made(_send(connector, CREATE_OP, [_group("NEWC-G", ["L"], product_id)], "c2"))

    # Then L is a third variant of the same product
    assert list(added) == ["NEWC-G-L"] and added["NEWC-G-L"][0] == product_id
    index = read_index(connector)
    assert sorted(v[SKU] for key, v in index.items() if key[0] == product_id) == [
        "NEWC-G-L",
        "NEWC-G-M",
        "NEWC-G-S",
    ]


def test_a_delete_removes_what_was_created_and_nothing_else(harness: Harness) -> None:
    # Given the store's catalog, and a run that created a single item and a group, and added
    # a variant to that group in a second run
    connector = harness.connector()
    assert connector.capabilities.can_delete  # every platform that creates can delete
    before = set(read_index(connector))
    made = _made(
        _send(connector, CREATE_OP, [_single("NEWC-ONE", 1234), _group("NEWC-G", ["S"])], "c1")
    )
    group_id = made["NEWC-G-S"][0]
    added = _made(_send(connector, CREATE_OP, [_group("NEWC-G", ["M"], group_id)], "c2"))

    # When the second run's variant, then the first run's products are deleted
    product_id, variant_id = added["NEWC-G-M"]
    [variant] = _send(
        connector, DELETE_OP, [PlanItem(11, "NEWC-G-M", product_id, variant_id, {})], "d1"
    )
    assert variant.ok, variant
    assert {v[SKU] for key, v in read_index(connector).items() if key[0] == group_id} == {
        "NEWC-G-S"
    }
    products = {ids[0]: sku for sku, ids in made.items()}
    results = _send(
        connector,
        DELETE_OP,
        [PlanItem(1, sku, pid, 0, {}, product_level=True) for pid, sku in products.items()],
        "d2",
    )

    # Then the store holds its catalog as it was
    assert all(r.ok for r in results), results
    assert set(read_index(connector)) == before
