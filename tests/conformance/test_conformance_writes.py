"""Conformance: every write operation a platform declares, its refusals, gone items and
re-sends, each against the platform's double."""

from __future__ import annotations

from collections import Counter

import pytest
from conformance_cases import Running, op_cases
from conformance_kit import (
    apply_all,
    by_item,
    covered,
    holds,
    plain_fields,
    plan_batches,
    read_index,
    readable_fields,
    resendable_fields,
    stored,
)
from harnesses.base import Harness

from feedsync.domain.capabilities import WriteOp
from feedsync.domain.fields import VARIANT_POS
from feedsync.domain.writes import PlanItem


@pytest.mark.parametrize("running", op_cases(), indirect=True)
def test_every_write_operation_changes_the_store_and_reads_back(running: Running) -> None:
    # Given every item the operation takes, changing every field it writes that a read shows
    harness, op = running.harness, running.op
    connector = harness.connector()
    assert connector.capabilities.op(op.name) == op
    batches = plan_batches(op, harness.catalog, read_index(connector), readable_fields(op))
    items = [item for batch in batches for item in batch]
    assert items, f"the catalog has nothing {op.name} writes"
    for item in items:  # (so the checks below can tell a write from no write)
        before = harness.state(item.product_id, item.variant_id)
        for field, (_, new) in item.changes.items():
            if field in before:
                assert not holds(field, new, stored(field, before[field])), field
    # When the batches are applied
    results = apply_all(connector, op, batches, key=f"write-{op.name}")
    # Then every item succeeded
    assert [(r.ok, r.message) for _, r in results] == [(True, "")] * len(items)
    # and the double holds the new values
    for item in items:
        now = harness.state(item.product_id, item.variant_id)
        for field, (_, new) in item.changes.items():
            if field in now:
                assert holds(field, new, stored(field, now[field])), (field, now[field])
    # and a fresh read shows them on every variant the item covers
    after = read_index(harness.connector())
    assert set(after) == harness.catalog.keys
    for item in items:
        for key in covered(item, harness.catalog):
            for field, (_, new) in item.changes.items():
                value = after[key][VARIANT_POS[field]]
                assert holds(field, new, value), (key, field, new, value)


@pytest.mark.parametrize("running", op_cases(), indirect=True)
def test_a_refused_item_fails_alone_with_the_platforms_message(running: Running) -> None:
    # Given every item the operation takes, and the store refusing one of them
    harness, op = running.harness, running.op
    connector = harness.connector()
    batches = plan_batches(op, harness.catalog, read_index(connector), plain_fields(op))
    items = [item for batch in batches for item in batch]
    refused = _second_of_the_biggest_product(items)
    message = harness.refuse(op.name, refused)
    # When the batches are applied
    results = apply_all(connector, op, batches, key=f"refused-{op.name}")
    # Then that item failed with the platform's words, not as gone, and was not written
    for item, result in results:
        if item is refused:
            assert not result.ok and result.gone is None
            assert message in result.message
            assert not _written(harness, item)
        else:  # and every other item was
            assert (result.ok, result.message) == (True, ""), item
            assert _written(harness, item), item


def _written(harness: Harness, item: PlanItem) -> bool:
    """Does the double hold every value the item wrote?"""
    state = harness.state(item.product_id, item.variant_id)
    return all(holds(f, new, stored(f, state[f])) for f, (_, new) in item.changes.items())


def _second_of_the_biggest_product(items: list[PlanItem]) -> PlanItem:
    """A variant past the first of the product with the most items (so its siblings share
    its batch), else the second item."""
    product_id, count = Counter(i.product_id for i in items).most_common(1)[0]
    if count > 1:
        return [i for i in items if i.product_id == product_id][1]
    assert len(items) > 1
    return items[1]


def _takes_variations(op: WriteOp) -> bool:
    """Operations that write a product's variants one by one."""
    return not op.product_level and op.applies != "simple"


@pytest.mark.parametrize("running", op_cases(_takes_variations), indirect=True)
def test_a_deleted_variant_comes_back_gone_as_a_variant(running: Running) -> None:
    # Given the items of every variant the operation takes, and the merchant deleting one
    # size of the tee after the catalog was read
    harness, op = running.harness, running.op
    connector = harness.connector()
    batches = plan_batches(op, harness.catalog, read_index(connector), plain_fields(op))
    tee = harness.catalog.products[2]
    deleted = tee.variants[1].variant_id
    harness.delete_variant(tee.product_id, deleted)
    # When the batches are applied
    results = by_item(apply_all(connector, op, batches, key=f"gone-{op.name}"))
    # Then that variant is reported gone, as a variant, with the platform's words
    gone = results.pop((tee.product_id, deleted))
    assert (gone.ok, gone.gone) == (False, "variant") and gone.message
    # and every other item (its sibling sizes too) was written
    assert results and all((r.ok, r.gone) == (True, None) for r in results.values())
    for batch in batches:
        for item in batch:
            if item.variant_id != deleted:
                assert _written(harness, item), item


@pytest.mark.parametrize("running", op_cases(), indirect=True)
def test_a_deleted_product_comes_back_gone(running: Running) -> None:
    # Given the items of everything the operation takes, and the merchant deleting the
    # first product among them after the catalog was read
    harness, op = running.harness, running.op
    connector = harness.connector()
    batches = plan_batches(op, harness.catalog, read_index(connector), plain_fields(op))
    deleted = batches[0][0].product_id
    harness.delete_product(deleted)
    # When the batches are applied
    results = apply_all(connector, op, batches, key=f"gone-{op.name}")
    # Then each of its items is reported gone, as the platform can tell it (the whole
    # product, unless the harness declares it names only the variant)
    scope = harness.product_gone_scope.get(op.name, "product")
    for item, result in results:
        if item.product_id == deleted:
            assert (result.ok, result.gone) == (False, scope) and result.message, item
        else:  # and every other product's items were written
            assert (result.ok, result.gone) == (True, None), item
            assert _written(harness, item), item
    assert any(item.product_id != deleted for item, _ in results)


@pytest.mark.parametrize("running", op_cases(), indirect=True)
def test_resending_a_batch_under_its_key_leaves_the_same_store(running: Running) -> None:
    # Given a batch of the operation (the fields a sync may send again: not images)
    harness, op = running.harness, running.op
    connector = harness.connector()
    batches = plan_batches(op, harness.catalog, read_index(connector), resendable_fields(op))
    batch = max(batches, key=len)
    keyed = op.name in harness.keyed_ops
    # When it is sent, and sent again under the same key (a retry of the same shard)
    harness.reset_log()
    first = connector.apply(op.name, batch, batch_key="resend-1")
    first_keys = harness.batch_keys()
    after_first = [harness.state(i.product_id, i.variant_id) for i in batch]
    harness.reset_log()
    again = connector.apply(op.name, batch, batch_key="resend-1")
    again_keys = harness.batch_keys()
    # Then both report every item written
    assert [(r.ok, r.message) for r in first] == [(True, "")] * len(batch)
    assert [(r.ok, r.message) for r in again] == [(True, "")] * len(batch)
    # and the store holds the same values as after the first (they are absolute)
    assert [harness.state(i.product_id, i.variant_id) for i in batch] == after_first
    for item, state in zip(batch, after_first, strict=True):
        for field, (_, new) in item.changes.items():
            assert holds(field, new, stored(field, state[field]))
    # and where the platform carries the batch key, both sends carried the same one
    if keyed:
        assert first_keys and all("resend-1" in k for k in first_keys)
        assert again_keys == first_keys
    else:
        assert first_keys == again_keys == []
