"""Conformance: create mode (issue 17) on every platform whose capabilities say it can
create, against its double: new single items and a group of variants are created with
the ids the connector answers, a fresh read lists them, a look-up by their SKUs finds
them (so a retried batch sends nothing again), and a revert's delete removes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from conformance_kit import read_index
from harnesses import HARNESSES
from harnesses.base import Harness

from feedsync.core.ports import Creator
from feedsync.domain.capabilities import CREATE_OP, DELETE_OP
from feedsync.domain.create import CreateSettings, gather_creations, resume_creations, row_of
from feedsync.domain.fields import VARIANT_POS
from feedsync.domain.writes import ItemResult, PlanItem
from feedsync.platforms.registry import platform

CREATING = [
    pytest.param(h, id=h.platform)
    for h in HARNESSES
    if platform(h.platform).capabilities(h.option_sets[0]).creation is not None
]
SIZES = ("S", "M", "L")


@pytest.fixture(params=CREATING)
def creating(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with request.param() as started:
        started.seed_catalog()
        yield started


def _items(harness: Harness) -> list[PlanItem]:
    """Two new single items and a new group of three sizes."""
    rows = [
        row_of(2, {"sku": "CFN-NEW-1", "name": "Conformance lamp 1", "price": 1234, "stock": 5}),
        row_of(3, {"sku": "CFN-NEW-2", "name": "Conformance lamp 2", "price": 999, "stock": 0}),
        *(
            row_of(
                4 + i,
                {
                    "sku": f"CFN-TEE-{s}",
                    "name": "Conformance new tee",
                    "price": 1500 + i,
                    "stock": i + 1,
                },
                group="CFN-TEE",
                options=(s,),
            )
            for i, s in enumerate(SIZES)
        ),
    ]
    caps = harness.capabilities
    creation = caps.check_create()
    settings = CreateSettings({"Size": "Size"}, "Parent", creation.max_variants, caps.platform)
    items, skipped = gather_creations(rows, settings)
    assert skipped == []
    return items


def _send(connector: Any, op: str, items: list[PlanItem]) -> list[ItemResult]:
    size = connector.capabilities.op(op).max_batch
    out: list[ItemResult] = []
    for start in range(0, len(items), size):
        out += connector.apply(op, items[start : start + size], batch_key=f"cf-{op}-{start}")
    return out


def test_new_items_are_created_read_back_found_again_and_deleted(creating: Harness) -> None:
    # Given two new single items and a group of three, none of them in the store
    connector = creating.connector()
    items = _items(creating)
    # When they are created
    results = _send(connector, CREATE_OP, items)
    # Then each is created, with its product's id and each variant's id by SKU
    assert [r.ok for r in results] == [True] * len(items), results
    made = {sku: (r.created.product_id, vid) for r in results if r.created
            for sku, vid in r.created.variants.items()}  # fmt: skip
    assert set(made) == {"CFN-NEW-1", "CFN-NEW-2", "CFN-TEE-S", "CFN-TEE-M", "CFN-TEE-L"}
    # and a fresh read lists them under those ids, with their prices and stock
    index = read_index(creating.connector())
    by_sku = {v[VARIANT_POS["sku"]]: v for v in index.values()}
    for sku, (pid, vid) in made.items():
        assert (by_sku[sku][0], by_sku[sku][1]) == (pid, vid), sku
    assert by_sku["CFN-NEW-1"][VARIANT_POS["price"]] == 1234
    assert by_sku["CFN-TEE-L"][VARIANT_POS["stock"]] == 3
    assert len({made[f"CFN-TEE-{s}"][0] for s in SIZES}) == 1  # one product, three variants
    # When a retry looks the same items up before sending them again
    found = cast(Creator, connector).find_created(items)
    resume = resume_creations(items, found)
    # Then it finds every one of them: nothing is sent again
    assert resume.send == []
    assert {
        sku: (r.created.product_id, vid)
        for r in resume.known.values() if r.created
        for sku, vid in r.created.variants.items()
    } == made  # fmt: skip
    # When a revert deletes what was created (each product whole)
    if DELETE_OP not in {op.name for op in creating.capabilities.ops}:
        return
    products = sorted({pid for pid, _ in made.values()})
    deletes = [PlanItem(0, str(pid), pid, 0, {}, product_level=True) for pid in products]
    assert all(r.ok for r in _send(connector, DELETE_OP, deletes))
    # Then a fresh read no longer lists them, and the seeded catalog is as it was
    after = read_index(creating.connector())
    assert not {v[VARIANT_POS["sku"]] for v in after.values()} & set(made)
    assert set(after) == creating.catalog.keys
