"""A refused BigCommerce batch's known-good pile carried into the caller's next batch
(``carried`` in, ``defer`` out), at the store double, which counts every request."""

from __future__ import annotations

import random
from typing import Any

import pytest
from bigcommerce_items import counting_connector, price_plan, seeded

from feedsync.core.in_flight import InFlight
from feedsync.core.run_results import ShardResults
from feedsync.core.shard_send import send_shard
from feedsync.domain.plan import Batch
from feedsync.domain.writes import ItemResult, PlanItem
from feedsync_local.bigcommerce_double import SandboxStore


def _puts(sandbox: SandboxStore) -> int:
    return sum(1 for method, _, _ in sandbox.requests_log if method == "PUT")


def _written(sandbox: SandboxStore, store_hash: str, cents: int) -> list[bool]:
    return [v["price"] == cents / 100 for v in sandbox.variants(store_hash)]


def _state(results: list[ItemResult]) -> list[str]:
    return ["deferred" if r.deferred else "ok" if r.ok else "failed" for r in results]


def test_a_refused_batchs_pile_is_deferred_then_sent_with_the_next_batch(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 60 variants, the 13th refused by the platform, and a first batch of 50
    variants = seeded(sandbox, store[0], 60)
    sandbox.reject_variant(store[0], variants[12]["id"], "Variant is locked by PIM")
    connector = counting_connector(sandbox, store)
    plan = price_plan(variants, 2000)
    sandbox.reset_log()
    # When the first batch is applied with defer
    first = connector.apply("variants", plan[:50], batch_key="k-0", defer=True)
    # Then the refused item failed, some items were written by the tests, and the pile
    # left when it was found is deferred: not written, and no request of its own
    states = _state(first)
    assert states[12] == "failed" and "locked by PIM" in first[12].message
    pile = [i for i, s in enumerate(states) if s == "deferred"]
    assert len(pile) == 11 and states.count("ok") == 49 - len(pile)
    written = _written(sandbox, store[0], 2000)
    assert [written[i] for i in range(50)] == [s == "ok" for s in states]
    tests = _puts(sandbox)
    # When the caller sends the pile first in its next batch, with the last 10 items
    sandbox.reset_log()
    second = connector.apply(
        "variants", [plan[i] for i in pile] + plan[50:], batch_key="k-1", carried=len(pile)
    )
    # Then one request wrote them all, and every item but the refused one is in the store
    assert _puts(sandbox) == 1 and all(r.ok for r in second)
    assert _written(sandbox, store[0], 2000) == [i != 12 for i in range(60)]
    # and the first batch cost one request less than the same batch written whole
    sandbox.clear_rejections(store[0])
    sandbox.reject_variant(store[0], variants[12]["id"], "Variant is locked by PIM")
    sandbox.reset_log()
    whole = connector.apply("variants", price_plan(variants, 2100)[:50], batch_key="k-2")
    assert not any(r.deferred for r in whole)
    assert _puts(sandbox) == tests + 1


def test_carried_items_are_suspected_after_the_new_ones(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 49 carried items (good when an earlier call sent them) and one new
    # item the platform refuses
    variants = seeded(sandbox, store[0], 50)
    sandbox.reject_variant(store[0], variants[49]["id"], "Variant is archived")
    connector = counting_connector(sandbox, store)
    sandbox.reset_log()
    # When it is applied
    results = connector.apply(
        "variants", price_plan(variants, 2000), batch_key="k", carried=49, defer=True
    )
    # Then the carried ones are tested together first (one request that writes them), and
    # the count then names the new item: two requests in all, the refused one with its words
    assert _puts(sandbox) == 2
    assert _state(results) == ["ok"] * 49 + ["failed"]
    assert "archived" in results[49].message


def test_a_carried_item_the_store_refuses_since_is_found_and_no_new_item_is_blamed(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 20 carried items, one of which the merchant has locked since an
    # earlier call found it good, and 30 new, healthy items
    variants = seeded(sandbox, store[0], 50)
    sandbox.reject_variant(store[0], variants[7]["id"], "Variant is locked")
    connector = counting_connector(sandbox, store)
    # When it is applied
    results = connector.apply(
        "variants", price_plan(variants, 2000), batch_key="k", carried=20, defer=True
    )
    # Then the locked carried item is the one refused, with its own words, and every new
    # item is written or deferred, none blamed
    states = _state(results)
    assert states[7] == "failed" and "locked" in results[7].message
    assert all(state in ("ok", "deferred") for n, state in enumerate(states) if n != 7)


def test_without_defer_everything_is_written_before_apply_returns(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given carried items and a refused one among the new ones
    variants = seeded(sandbox, store[0], 50)
    sandbox.reject_variant(store[0], variants[30]["id"], "Variant is archived")
    connector = counting_connector(sandbox, store)
    # When the batch is applied without defer (a shard's last call)
    results = connector.apply("variants", price_plan(variants, 2000), batch_key="k", carried=20)
    # Then nothing is deferred: every other item is written, the refused one failed
    assert _state(results) == ["failed" if i == 30 else "ok" for i in range(50)]
    assert _written(sandbox, store[0], 2000) == [i != 30 for i in range(50)]


def test_one_and_two_refused_among_50_with_defer_leave_every_other_item_written_or_deferred(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    variants = seeded(sandbox, store[0], 50)
    connector = counting_connector(sandbox, store)
    for n, bad in enumerate(([17], [3, 41])):
        # Given a batch of 50 with one, then two, items refused
        sandbox.clear_rejections(store[0])
        for i in bad:
            sandbox.reject_variant(store[0], variants[i]["id"], f"Variant {i} is archived")
        cents = 3000 + n
        # When it is applied with defer
        results = connector.apply(
            "variants", price_plan(variants, cents), batch_key=f"k{n}", defer=True
        )
        # Then exactly those failed, with their own words; each other item is written
        # (the store holds it) or deferred (the store does not), none of them lost
        states = _state(results)
        assert [i for i, s in enumerate(states) if s == "failed"] == bad
        for i in bad:
            assert f"Variant {i} is archived" in results[i].message
        written = _written(sandbox, store[0], cents)
        assert [s == "ok" for s in states] == written
        assert states.count("ok") + states.count("deferred") == 50 - len(bad)


class _Sink:
    """The loop's marks, kept: each marker and the result lines after each call."""

    def __init__(self) -> None:
        self.marks: list[InFlight] = []

    def mark(self, marker: InFlight) -> None:
        self.marks.append(marker)

    def record(self, results: ShardResults) -> bool:
        return False

    def cancelled(self) -> bool:
        return False


@pytest.mark.parametrize("seed", range(6))
def test_a_shard_sent_as_a_stream_writes_every_good_item_once_and_refuses_only_the_bad(
    sandbox: SandboxStore, store: tuple[str, str], seed: int
) -> None:
    # Given a shard of 12 stored batches of 50 and a few refused items, placed at random:
    # sometimes two in a batch, in neighbouring batches or in the shard's last batch
    variants = seeded(sandbox, store[0], 600)
    rng = random.Random(seed)
    bad = set(rng.sample(range(600), rng.randint(1, 6)))
    for i in bad:
        sandbox.reject_variant(store[0], variants[i]["id"], f"Variant {i} is archived")
    plan = price_plan(variants, 4000 + seed)
    batches: list[Batch] = [
        {"op": "variants", "items": plan[b : b + 50]} for b in range(0, 600, 50)
    ]
    sink = _Sink()
    sandbox.reset_log()
    # When the update step's loop sends it
    results = send_shard(counting_connector(sandbox, store), batches, sink, key_prefix="r-0")
    # Then each item has exactly one result: the refused ones failed with their words,
    # every other one written, and the store holds exactly those
    lines = {int(r[0]): r for r in results.records()}
    assert len(results.records()) == len(lines) == 600
    assert {row - 1 for row, r in lines.items() if r[3] == "0"} == bad
    for i in bad:
        assert f"Variant {i} is archived" in lines[i + 1][4]
    assert _written(sandbox, store[0], 4000 + seed) == [i not in bad for i in range(600)]
    # and no request carried more than 50 items
    sizes = [len(body) for method, _, body in sandbox.write_bodies(store[0]) if method == "PUT"]
    assert sizes and max(sizes) <= 50


def test_tests_filled_with_the_callers_next_items_decide_a_refused_one_among_them_too(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 50 with its 21st item refused, and the caller's next 100 items,
    # the 11th of which (item 60) is refused as well
    variants = seeded(sandbox, store[0], 150)
    for i in (20, 60):
        sandbox.reject_variant(store[0], variants[i]["id"], f"Variant {i} is archived")
    connector = counting_connector(sandbox, store)
    plan = price_plan(variants, 5000)
    handed: list[PlanItem] = []

    def more(n: int) -> list[PlanItem]:
        given = plan[50 + len(handed) : 50 + len(handed) + n]
        handed.extend(given)
        return given

    sandbox.reset_log()
    # When the batch is applied, its tests filled with the next items
    results = connector.apply("variants", plan[:50], batch_key="k", defer=True, more=more)
    # Then every next item was asked for (the tests took them all), and there is one
    # answer per item of the batch and per item handed over, in that order
    assert handed == plan[50:] and len(results) == 150
    states = _state(results)
    # and both refused items are found, each with its own words
    assert [i for i, s in enumerate(states) if s == "failed"] == [20, 60]
    assert "Variant 20 is archived" in results[20].message
    assert "Variant 60 is archived" in results[60].message
    # and every other item is written (the store holds it) or deferred (it does not)
    assert _written(sandbox, store[0], 5000) == [s == "ok" for s in states]
    assert states.count("ok") + states.count("deferred") == 148
    # and no request carried more than the batch size
    sizes = [len(body) for method, _, body in sandbox.write_bodies(store[0]) if method == "PUT"]
    assert max(sizes) == 50


def test_a_shrunk_batch_limit_with_a_refused_item_sends_smaller_tests(
    sandbox: SandboxStore, store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a platform whose variant batch limit shrank to 25 (413 above it) and one
    # refused item among 200
    import feedsync_local.bigcommerce_double as double

    monkeypatch.setattr(double, "MAX_VARIANT_BATCH", 25)
    variants = seeded(sandbox, store[0], 200)
    sandbox.reject_variant(store[0], variants[12]["id"], "Variant is locked", field="price")
    plan = price_plan(variants, 2000)
    batches: list[Batch] = [
        {"op": "variants", "items": plan[b : b + 50]} for b in range(0, 200, 50)
    ]
    # When the shard is sent
    results = send_shard(counting_connector(sandbox, store), batches, _Sink(), key_prefix="r-0")
    # Then the refused item is found and every other one written: no test larger than
    # the limit once it was learnt (the run does not fail on a 413)
    failed = [int(r[0]) - 1 for r in results.records() if r[3] == "0"]
    assert failed == [12]
    assert _written(sandbox, store[0], 2000) == [i != 12 for i in range(200)]


def test_a_count_that_changes_with_the_request_size_ends_in_bisection(
    sandbox: SandboxStore, store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a platform that answers three entries for one refused item in a request of
    # more than 10 items, and one entry in a smaller one (its counts do not add up)
    from feedsync.platforms.bigcommerce import writer

    counted = writer.rejections
    sizes: list[int] = []
    real_put = writer.BatchWriter._put

    def put(self: Any, op: str, entries: list[Any], key: str) -> Any:
        sizes.append(len(entries))
        assert len(sizes) < 500, "runaway requests"
        return real_put(self, op, entries, key)

    def rejections(body: Any) -> list[Any]:
        return [e for e in counted(body) for _ in range(3 if sizes[-1] > 10 else 1)]

    monkeypatch.setattr(writer.BatchWriter, "_put", put)
    monkeypatch.setattr(writer, "rejections", rejections)
    variants = seeded(sandbox, store[0], 1000)
    sandbox.reject_variant(store[0], variants[12]["id"], "Variant is archived", field="price")
    plan = price_plan(variants, 2000)
    batches: list[Batch] = [
        {"op": "variants", "items": plan[b : b + 50]} for b in range(0, 1000, 50)
    ]
    # When the shard is sent
    results = send_shard(counting_connector(sandbox, store), batches, _Sink(), key_prefix="r")
    # Then the refused item is found, every other one written, and no request was empty
    failed = [int(r[0]) - 1 for r in results.records() if r[3] == "0"]
    assert failed == [12]
    assert 0 not in sizes
