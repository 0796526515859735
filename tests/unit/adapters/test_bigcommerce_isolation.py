"""Isolating refused items of a rejected BigCommerce batch by their count (the double
counts every request; the writer never reads the refusals' words to decide)."""

from __future__ import annotations

import pytest
from bigcommerce_items import counting_connector, price_plan, seeded

from feedsync.platforms.bigcommerce.writer import _one_bad
from feedsync_local.bigcommerce_double import SandboxStore


def _puts(sandbox: SandboxStore) -> list[int]:
    return [status for method, _, status in sandbox.requests_log if method == "PUT"]


def test_one_refused_item_costs_what_the_strategy_promises_wherever_it_is(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 50 variants and, in turn, each one of them refused by the platform
    variants = seeded(sandbox, store[0], 50)
    connector = counting_connector(sandbox, store)
    sent: list[int] = []
    for bad in range(50):
        sandbox.clear_rejections(store[0])
        sandbox.reject_variant(store[0], variants[bad]["id"], "Variant is locked by PIM")
        sandbox.reset_log()
        # When the batch is applied
        results = connector.apply("variants", price_plan(variants, 2000 + bad), batch_key="k")
        # Then exactly that item failed, with the platform's words, and every other was
        # written
        assert [ok for ok, _ in results] == [i != bad for i in range(50)]
        assert "locked by PIM" in results[bad][1]
        prices = [v["price"] for v in sandbox.variants(store[0])]
        assert [p == (2000 + bad) / 100 for p in prices] == [i != bad for i in range(50)]
        sent.append(len(_puts(sandbox)))
    # And, the item being anywhere alike, the writes average what the strategy promises:
    # the rejected batch, then its expected 6.08 (bisection: about 8.5), never more than 9
    assert sum(sent) / 50 == pytest.approx(1 + _one_bad(50)[0]) == 7.08
    assert max(sent) <= 9


def test_two_refused_items_are_isolated_each_with_its_own_words(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 50 where the platform refuses items 10 and 40, for different reasons
    variants = seeded(sandbox, store[0], 50)
    sandbox.reject_variant(store[0], variants[10]["id"], "Variant is locked by PIM")
    sandbox.reject_variant(store[0], variants[40]["id"], "Variant is archived")
    sandbox.reset_log()
    # When it is applied
    results = counting_connector(sandbox, store).apply(
        "variants", price_plan(variants, 1500), batch_key="k"
    )
    # Then exactly those two failed, each with its own words, and the 48 others are written
    assert [ok for ok, _ in results] == [i not in (10, 40) for i in range(50)]
    assert "locked by PIM" in results[10][1] and "archived" not in results[10][1]
    assert "archived" in results[40][1] and "PIM" not in results[40][1]
    prices = [v["price"] for v in sandbox.variants(store[0])]
    assert [p == 15.0 for p in prices] == [i not in (10, 40) for i in range(50)]
    # And the writes are the strategy's, driven by the counts the answers give: 0-49 (2
    # refused); a group of 50 / 2: 0-24 (1: so 25-49 hold the other); 0-11 (1: 12-24
    # join the pile); 0-5 with 12-24 ok; 6-8 ok; 9-10 (1: 11 joins the pile); 9 with 11
    # ok (10 convicted, its words the last answer's); 25-36 ok; 37-42 (1: 43-49 join the
    # pile); 37-39 with 43-49 ok; 40-41 (1); 40 with 42 (1: 40 convicted); 41-42 ok
    assert _puts(sandbox) == [422, 422, 422, 200, 200, 422, 200, 200, 422, 200, 422, 422, 200]


def test_items_as_many_as_the_refusals_need_no_request_of_their_own(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 3 variants the platform refuses, all for the same reason
    variants = seeded(sandbox, store[0], 3)
    for v in variants:
        sandbox.reject_variant(store[0], v["id"], "Variant is locked by PIM")
    sandbox.reset_log()
    # When it is applied
    results = counting_connector(sandbox, store).apply(
        "variants", price_plan(variants, 1500), batch_key="k"
    )
    # Then all three failed with the platform's words, after one write (3 refusals, 3
    # items) and one look-up of all three (the store still has them)
    assert [ok for ok, _ in results] == [False] * 3
    assert all("locked by PIM" in message for _, message in results)
    assert [r.gone for r in results] == [None] * 3
    assert [(method, status) for method, _, status in sandbox.requests_log] == [
        ("PUT", 422),
        ("GET", 200),
    ]


def test_items_refused_together_for_different_reasons_are_told_every_reason(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given a batch of 2 variants the platform refuses, for different reasons
    variants = seeded(sandbox, store[0], 2)
    sandbox.reject_variant(store[0], variants[0]["id"], "Variant is locked by PIM")
    sandbox.reject_variant(store[0], variants[1]["id"], "Variant is archived")
    sandbox.reset_log()
    # When it is applied
    results = counting_connector(sandbox, store).apply(
        "variants", price_plan(variants, 1500), batch_key="k"
    )
    # Then both failed after one write, each told both reasons (the answer does not say
    # whose is whose)
    assert [ok for ok, _ in results] == [False, False]
    assert [r.shared for r in results] == [True, True]  # the words are not each one's own
    for _, message in results:
        assert message.startswith("refused with the 1 other item(s) of its request")
        assert "PIM" in message and "archived" in message
    assert _puts(sandbox) == [422]


def test_an_answer_without_a_count_falls_back_to_bisection(
    sandbox: SandboxStore, store: tuple[str, str]
) -> None:
    # Given 8 variants, none of them bad, and a 422 answer without batch_errors (nothing
    # to count) for the first request
    variants = seeded(sandbox, store[0], 8)
    sandbox.reset_log()
    sandbox.fail_next(422, route="/catalog/variants")
    # When the batch is applied
    results = counting_connector(sandbox, store).apply(
        "variants", price_plan(variants, 1500), batch_key="k"
    )
    # Then it was bisected (halves that go through narrow the rest down) and every item
    # written in the end: 0-7 refused, 0-3 ok, 4-5 ok, 6 ok, 7 ok
    assert [ok for ok, _ in results] == [True] * 8
    assert _puts(sandbox) == [422, 200, 200, 200, 200]
