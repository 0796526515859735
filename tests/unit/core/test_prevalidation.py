"""A value the platform's spec refuses is never sent: match, select and finalize over fakes."""

from __future__ import annotations

import json

from fakes import NO_LIMITS, World, variant

from feedsync.core import keys
from feedsync.core.change_files import read_changes
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.select import select
from feedsync.core.steps.update import update
from feedsync.domain.changes import FAILED, PENDING, SENDING
from feedsync.domain.fields import Row
from feedsync.models import (
    FinalizeInput,
    MatchInput,
    MatchOutput,
    RunRef,
    SelectInput,
    ShardRef,
    UpdateInput,
)

CATALOG = [variant(7, 71, "A"), variant(7, 72, "B"), variant(8, 81, "C"), variant(9, 91, "D")]
TOO_MANY = 2_147_483_648  # BigCommerce: inventory_level maximum 2,147,483,647
LONG_NAME = "N" * 251  # BigCommerce: a product's name maxLength 250
MAPPING = {"sku": "SKU", "price": "Price", "stock": "Qty", "name": "Name"}
FIELDS = ["price", "stock", "name"]


def _row(no: int, sku: str, price: int, stock: int | None = None, name: str | None = None) -> Row:
    return (no, sku, None, price, None, None, None, stock, name, None, None, None, None)


ROWS = [
    _row(2, "A", 1500),
    _row(3, "B", 1600, stock=TOO_MANY),  # its variant entry would be refused whole
    _row(4, "C", 1700, name=LONG_NAME),  # the name goes in a product batch of its own
    _row(5, "D", 1800, stock=3),
]


def _ref(world: World, limits: object = NO_LIMITS) -> RunRef:
    store = world.store(CATALOG)
    profile = world.profile(store, mapping=MAPPING, fields=FIELDS, limits=limits)
    return world.run(profile)


def _match(world: World, ref: RunRef, rows: list[Row] = ROWS) -> MatchOutput:
    parsed = world.parsed(ref, rows)
    return match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))


def _update_all(world: World, ref: RunRef, out: MatchOutput) -> None:
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))


def _changes(world: World, ref: RunRef) -> dict[tuple[str, str], tuple[str, str]]:
    key = keys.changes_key(ref.tenant_id, ref.run_id)
    return {(c.key, c.field): (c.status, c.error) for c in read_changes(world.deps, key)}


def test_a_refused_value_is_not_sent_and_the_row_is_failed_with_the_reason(
    world: World,
) -> None:
    # Given a BigCommerce store and a file where B's stock is over the platform's maximum and
    # C's name longer than its maxLength, beside two good rows
    ref = _ref(world)
    # When matched
    out = _match(world, ref)
    # Then B's variant entry (its price rides with the refused stock) is not planned, C's price
    # is (the name would go in a product batch of its own), and no product batch is planned
    connector = world.connectors["s1"]
    _update_all(world, ref, out)
    assert sorted((op, vid) for op, vid, _ in connector.written()) == [
        ("variants", 71),
        ("variants", 81),
        ("variants", 91),
    ]
    sent_values = [new for _, _, ch in connector.written() for _old, new in ch.values()]
    assert TOO_MANY not in sent_values and LONG_NAME not in sent_values
    assert ("variants", 81, {"price": [1000, 1700]}) in connector.written()
    # and the changes file fails what was withheld, naming field, value and limit
    changes = _changes(world, ref)
    assert changes[("B", "stock")] == (
        FAILED,
        "stock 2,147,483,648: BigCommerce takes at most 2,147,483,647",
    )
    assert changes[("B", "price")] == (
        FAILED,
        "price not sent: BigCommerce takes it in one request with stock, which it refuses",
    )
    status, error = changes[("C", "name")]
    assert status == FAILED
    assert error.startswith("name (251 characters, 'NNN") and error.endswith(
        "BigCommerce takes at most 250 characters"
    )
    assert changes[("C", "price")] == (SENDING, "")
    # and the match counts what is planned and what the spec refused
    counts = world.run_record(ref).counts
    assert (counts["changed"], counts["invalid"]) == (3, 2)

    # When finalized
    result = finalize(world.deps, FinalizeInput(run=ref))
    # Then both rows with a refused value are failed, the others updated, the reasons logged
    assert {k: result.counts[k] for k in ("changed", "updated", "failed", "invalid")} == {
        "changed": 3,
        "updated": 2,
        "failed": 2,
        "invalid": 2,
    }
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert {k: log[k][4] for k in "ABCD"} == {
        "A": "updated",
        "B": "failed",
        "C": "failed",
        "D": "updated",
    }
    assert log["B"][6] == (
        "stock 2,147,483,648: BigCommerce takes at most 2,147,483,647 (not sent with it: price)"
    )
    assert "BigCommerce takes at most 250 characters" in log["C"][6]
    # and the index holds C's price (written) but not B's
    index = world.index()
    assert index.by_sku["C"][4] == 1700 and index.by_sku["B"][4] == 1000


def test_a_preview_keeps_refused_changes_failed_and_applies_only_the_rest(world: World) -> None:
    # Given a preview of the same file
    ref = _ref(world)
    run = world.run_record(ref)
    world.repo.put_run(run.model_copy(update={"preview": True}))
    out = _match(world, ref)
    assert out.preview and out.shards == 0
    # Then the refused changes are failed, the rest pending for the merchant
    changes = _changes(world, ref)
    assert changes[("B", "stock")][0] == FAILED and changes[("C", "name")][0] == FAILED
    assert changes[("C", "price")][0] == PENDING and changes[("A", "price")][0] == PENDING
    finalize(world.deps, FinalizeInput(run=ref, previewed=True))
    log = {r[1]: r for r in world.blobs.csv(keys.log_key("t1", "run_1"))[1:]}
    assert (log["B"][4], log["C"][4], log["A"][4]) == ("failed", "failed", "pending")
    assert len(log) == 4  # one line per row: the match log's "refused" is not repeated


def test_a_retry_of_a_refused_change_fails_again_without_a_request(world: World) -> None:
    # Given a run whose B stock and C name were refused before sending
    ref = _ref(world)
    _update_all(world, ref, _match(world, ref))
    finalize(world.deps, FinalizeInput(run=ref))
    connector = world.connectors["s1"]
    sent = len(connector.calls)
    # When the merchant retries its failed changes
    retry = world.run(world.profile_record(), trigger="retry", run_id="run_2")
    record = world.run_record(retry)
    world.repo.put_run(record.model_copy(update={"parent_run_id": "run_1"}))
    out = select(world.deps, SelectInput(run=retry, action="retry"))
    _update_all(world, retry, out)
    # Then the refused values are failed again with their reason and never sent; B's price,
    # withheld only for riding with the stock, goes now on its own
    changes = _changes(world, retry)
    assert changes[("B", "stock")][0] == FAILED
    assert changes[("B", "stock")][1].startswith("stock 2,147,483,648: BigCommerce takes")
    assert changes[("C", "name")][0] == FAILED
    assert [(c.op, [i.variant_id for i in c.items]) for c in connector.calls[sent:]] == [
        ("variants", [72])
    ]
    assert connector.calls[sent].items[0].changes == {"price": [1000, 1600]}


def test_a_held_run_keeps_its_refused_changes_failed(world: World) -> None:
    # Given the safety limits on and a file that also moves A's price tenfold
    ref = _ref(world, limits={})
    # When matched
    out = _match(world, ref, [_row(2, "A", 10_000), *ROWS[1:]])
    # Then the run is held for the price, nothing is planned, and the changes the platform
    # would refuse stay failed with their reason while the rest wait for the merchant
    assert out.held and out.shards == 0
    assert [r["rule"] for r in world.run_record(ref).held_reasons] == ["max_price_change_pct"]
    changes = _changes(world, ref)
    assert changes[("B", "stock")][0] == FAILED and changes[("C", "name")][0] == FAILED
    assert changes[("A", "price")] == (PENDING, "")
    assert changes[("C", "price")] == (PENDING, "")
