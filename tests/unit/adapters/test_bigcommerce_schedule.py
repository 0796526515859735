"""The group-testing schedule of BigCommerce's writer against the double: what each refused
item costs (the figures in ``writer``'s docstring), whose words each one gets, which ones
are looked up as possibly deleted, and, for any places and number of refused items, one
outcome per item."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from fake_sleep import FakeSleep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsync.core.ports import ItemResult
from feedsync.domain.writes import PlanItem
from feedsync.platforms.bigcommerce.connector import BigCommerceConnector
from feedsync_local.bigcommerce_double import SandboxStore


class _Batch:
    """A fresh store of ``n`` simple products, some of whose variants the platform refuses."""

    def __init__(self, sandbox: SandboxStore, n: int, refused: dict[int, str]) -> None:
        self.sandbox = sandbox
        sandbox.set_quota(10**9, 30.0)  # counting requests, not waiting
        self.store_hash, token = sandbox.create_store()
        sandbox.seed(
            self.store_hash,
            [
                {"name": f"P{i}", "type": "physical", "weight": 1, "price": 10.0, "sku": f"P-{i}"}
                for i in range(n)
            ],
        )
        self.variants = sandbox.variants(self.store_hash)
        for place, field in refused.items():
            variant_id = self.variants[place]["id"]
            sandbox.reject_variant(self.store_hash, variant_id, f"reason <{place}>", field=field)
        self.connector = BigCommerceConnector(
            sandbox.api_url(self.store_hash), token, sleep=FakeSleep(), allow_private=True
        )

    def write(self) -> list[ItemResult]:
        self.sandbox.reset_log()
        items = [
            PlanItem(i + 1, v["sku"], v["product_id"], v["id"], {"price": [1000, 1500]})
            for i, v in enumerate(self.variants)
        ]
        return self.connector.apply("variants", items, batch_key="k")

    def requests(self, method: str) -> list[tuple[str, int]]:
        return [(path, status) for m, path, status in self.sandbox.requests_log if m == method]

    def written(self) -> Counter[int]:
        """How many requests that went through carried each item (by place in the batch)."""
        place = {v["id"]: i for i, v in enumerate(self.variants)}
        bodies = [body for method, _, body in self.sandbox.write_bodies(self.store_hash)]
        statuses = [status for _, status in self.requests("PUT")]
        assert len(bodies) == len(statuses)
        return Counter(
            place[entry["id"]]
            for body, status in zip(bodies, statuses, strict=True)
            if status == 200
            for entry in body
        )


def _each_refused_with_its_words(results: list[ItemResult], refused: set[int]) -> None:
    """Exactly ``refused`` failed, each with its own words; items refused together in an
    answer that cannot say whose words are whose say so, and carry every one of them."""
    assert [r.ok for r in results] == [i not in refused for i in range(len(results))]
    for place in refused:
        message = results[place].message
        others = {f"reason <{other}>" for other in refused - {place}}
        if results[place].shared:
            assert message.startswith("refused with the")
        else:
            assert f"reason <{place}>" in message
            assert not any(words in message for words in others)


@pytest.fixture(scope="module")
def shared_sandbox() -> Any:
    with SandboxStore() as sandbox:
        yield sandbox


def test_one_refused_item_among_ten_costs_4_8_writes_and_no_look_up_when_it_names_a_value(
    shared_sandbox: SandboxStore,
) -> None:
    puts = []
    for bad in range(10):
        # Given a batch of 10 whose item at place `bad` the platform refuses for its price
        batch = _Batch(shared_sandbox, 10, {bad: "price"})
        # When it is written
        results = batch.write()
        # Then exactly that item is refused, with its own words, and every other one
        # written by exactly one request
        _each_refused_with_its_words(results, {bad})
        assert not results[bad].shared
        assert batch.written() == Counter(i for i in range(10) if i != bad)
        # And its refusal (errors naming its price) says the store has it: no look-up
        assert batch.requests("GET") == []
        assert results[bad].gone is None
        puts.append(len(batch.requests("PUT")))
    # And the writes average the docstring's 4.8 (the rejected batch, then 3.8)
    assert sum(puts) / 10 == pytest.approx(4.8)


def test_two_refused_items_among_ten_cost_6_49_writes_on_average(
    shared_sandbox: SandboxStore,
) -> None:
    puts = []
    for pair in itertools.combinations(range(10), 2):
        # Given a batch of 10 whose items at the two places are refused
        batch = _Batch(shared_sandbox, 10, dict.fromkeys(pair, "price"))
        # When it is written
        results = batch.write()
        # Then exactly those two are refused, each with its own words (or both with both,
        # when one answer refused just the two of them), and every other item is written
        # by exactly one request
        _each_refused_with_its_words(results, set(pair))
        assert batch.written() == Counter(i for i in range(10) if i not in pair)
        puts.append(len(batch.requests("PUT")))
    # And the writes average the docstring's 6.49 (292 requests over the 45 layouts)
    assert sum(puts) == 292
    assert sum(puts) / len(puts) == pytest.approx(6.49, abs=0.005)


def test_an_item_found_by_subtraction_keeps_its_own_words_without_a_request_of_its_own(
    shared_sandbox: SandboxStore,
) -> None:
    # Given a batch of 10 whose items 5 and 9 the platform refuses
    batch = _Batch(shared_sandbox, 10, {5: "price", 9: "price"})
    # When it is written
    results = batch.write()
    # Then 0-9 (2 refused); 0-4 ok; 5-6 (1: so 7-9 hold the other, whose words are the
    # first answer's less this one's); 5 (1: 5 convicted, 6 joins the pile); 7-8 with 6
    # ok: 9 is the one left, convicted with the words left, and never sent alone
    assert [status for _, status in batch.requests("PUT")] == [422, 200, 422, 422, 200]
    _each_refused_with_its_words(results, {5, 9})
    assert not results[5].shared and not results[9].shared


def test_only_a_refusal_that_could_mean_a_deletion_is_looked_up(
    shared_sandbox: SandboxStore,
) -> None:
    # Given a batch of 10 where item 2 is refused for its price and item 7 as an item (its
    # answer names its id, as for a variant the store no longer has)
    batch = _Batch(shared_sandbox, 10, {2: "price", 7: "id"})
    # When it is written
    results = batch.write()
    # Then both are refused with their own words, and only item 7's product is looked up
    # (the store still has it: an ordinary refusal)
    _each_refused_with_its_words(results, {2, 7})
    assert not results[2].shared and not results[7].shared
    product = batch.variants[7]["product_id"]
    path = f"/stores/{batch.store_hash}/v3/catalog/products/{product}?include=variants"
    assert batch.requests("GET") == [(path, 200)]
    assert [results[2].gone, results[7].gone] == [None, None]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.integers(min_value=1, max_value=50).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.dictionaries(
                st.integers(min_value=0, max_value=n - 1), st.sampled_from(["price", "id"])
            ),
        )
    )
)
def test_any_number_of_refused_items_anywhere_gives_each_item_exactly_one_outcome(
    shared_sandbox: SandboxStore, layout: tuple[int, dict[int, str]]
) -> None:
    # Given a batch of n variants, any of which the platform refuses (for a value or as
    # an item)
    n, refused = layout
    batch = _Batch(shared_sandbox, n, refused)
    # When it is written
    results = batch.write()
    # Then exactly the refused items failed and every other one was written by exactly one
    # request that went through
    assert [r.ok for r in results] == [i not in refused for i in range(n)]
    assert batch.written() == Counter(i for i in range(n) if i not in refused)
    # And each refused item carries its own words, or, refused together with others in
    # words the answer does not attribute, says so; none is taken for deleted
    _each_refused_with_its_words(results, set(refused))
    assert all(results[place].gone is None for place in refused)
    # And one look-up at most, only when a refusal names an item as such
    looked_up = len(batch.requests("GET"))
    assert looked_up == (1 if "id" in refused.values() else 0)
