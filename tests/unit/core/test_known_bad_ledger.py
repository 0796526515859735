"""Known-bad items over fakes: finalize remembers what the platform refused (and forgets
what it later accepts); the next run's plan isolates or skips a still-identical payload."""

from __future__ import annotations

import json
from collections.abc import Callable

from fakes import NO_LIMITS, World, row, variant

from feedsync.core import keys
from feedsync.core.ports import ItemResult, PlanItem, item_refused_together
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.update import update
from feedsync.domain.fields import Row
from feedsync.models import FinalizeInput, MatchInput, Profile, RunRef, ShardRef, UpdateInput

CATALOG = [variant(7, 71, "A"), variant(7, 72, "B"), variant(8, 81, "C"), variant(9, 91, "D")]
Answer = Callable[[str, list[PlanItem]], list[ItemResult]]


def _sync(world: World, profile: Profile, rows: list[Row], run_id: str, *answers: Answer) -> RunRef:
    """One run through match, update (the store answering ``answers``, one per batch, then
    writing everything) and finalize."""
    ref = world.run(profile, run_id=run_id)
    connector = world.connectors["s1"]
    connector.script.extend(answers)
    parsed = world.parsed(ref, rows)
    out = match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))
    finalize(world.deps, FinalizeInput(run=ref))
    return ref


def _refusing(bad: str, why: str = "price: must be positive") -> Answer:
    """The store refuses the item of SKU ``bad`` (the others are written)."""

    def answer(op: str, items: list[PlanItem]) -> list[ItemResult]:
        del op
        return [ItemResult(item.key != bad, why if item.key == bad else "") for item in items]

    return answer


def _ledger(world: World) -> list[list[str]]:
    return world.blobs.csv(keys.refused_key("t1", "p1"))


def test_finalize_remembers_each_refused_item_with_its_payload_and_the_platforms_words(
    world: World,
) -> None:
    # Given a run where the store writes A, refuses C's new price and no longer has B
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)
    world.connectors["s1"].gone_variants.add(72)
    rows = [row(2, "A", price=1500), row(3, "B", price=1600), row(4, "C", price=1700)]

    def answer(op: str, items: list[PlanItem]) -> list[ItemResult]:
        return [
            _refusing("C")(op, [item])[0]
            if item.key == "C"
            else world.connectors["s1"].answer(item)
            for item in items
        ]

    # When it is finalized
    _sync(world, profile, rows, "run_1", answer)
    # Then only C is remembered: its operation, variant, the payload refused, the words,
    # the run and the time (the gone item and the written one are not)
    header, *entries = _ledger(world)
    assert header == ["op", "level", "id", "key", "payload", "reason", "run_id", "at"]
    assert entries == [
        [
            "variants", "variant", "81", "C", '{"price": 1700}', "price: must be positive",
            "run_1", world.clock().isoformat(),
        ]
    ]  # fmt: skip


def test_an_item_the_store_later_accepts_is_forgotten(world: World) -> None:
    # Given C's price 17.00 was refused by a first run
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)
    _sync(world, profile, [row(2, "C", price=1700)], "run_1", _refusing("C"))
    assert len(_ledger(world)) == 2
    # When a later run writes C's price (another value: the merchant fixed the feed)
    _sync(world, profile, [row(2, "C", price=1800)], "run_2")
    # Then C is forgotten
    assert _ledger(world) == [["op", "level", "id", "key", "payload", "reason", "run_id", "at"]]


def test_a_run_that_refuses_nothing_and_had_nothing_refused_reads_and_writes_no_ledger(
    world: World,
) -> None:
    # Given a profile that never had anything refused
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)
    # When a run writes every item
    _sync(world, profile, [row(2, "A", price=1500)], "run_1")
    # Then there is no ledger
    assert world.blobs.head(keys.refused_key("t1", "p1")) is None


def _sent(world: World) -> list[list[str]]:
    """The SKUs of each batch sent to the store, in order."""
    return [[item.key for item in call.items] for call in world.connectors["s1"].calls]


def _log(world: World, run_id: str) -> dict[str, tuple[str, str]]:
    """SKU -> (status, error) in the run's log."""
    return {r[1]: (r[4], r[6]) for r in world.blobs.csv(keys.log_key("t1", run_id))[1:]}


FOUR = [row(2, "A", price=1500), row(3, "B", price=1600), row(4, "C", price=1700)]
# The next file: new prices for A and B, C's refused one again.
NEXT = [row(2, "A", price=1510), row(3, "B", price=1610), row(4, "C", price=1700)]


def test_a_known_bad_item_goes_into_a_batch_of_its_own_and_stays_remembered(
    world: World,
) -> None:
    # Given C's price 17.00 was refused by a first run (in a batch with A and B)
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)
    _sync(world, profile, FOUR, "run_1", _refusing("C"))
    world.connectors["s1"].calls.clear()
    # When the next file changes A and B again, and C the same way, refused again
    _sync(world, profile, NEXT, "run_2", lambda op, items: [ItemResult(True)] * len(items),
          _refusing("C"))  # fmt: skip
    # Then C went alone, after a batch of the healthy items, and failed with the words
    assert _sent(world) == [["A", "B"], ["C"]]
    assert _log(world, "run_2")["C"] == ("failed", "price: must be positive")
    # And it is still remembered, now by the second run
    assert [e[6] for e in _ledger(world)[1:]] == ["run_2"]


def test_a_changed_payload_is_tried_with_the_others_and_forgotten_when_written(
    world: World,
) -> None:
    # Given C's price 17.00 was refused by a first run
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)
    _sync(world, profile, FOUR, "run_1", _refusing("C"))
    world.connectors["s1"].calls.clear()
    # When the next file has another price for C, and the store takes it
    rows = [*NEXT[:2], row(4, "C", price=1750)]
    _sync(world, profile, rows, "run_2")
    # Then C shared the batch with A and B, was written, and is forgotten
    assert _sent(world) == [["A", "B", "C"]]
    assert _log(world, "run_2")["C"][0] == "updated"
    assert _ledger(world)[1:] == []


def test_skip_sends_nothing_for_a_known_bad_item_and_logs_the_remembered_reason(
    world: World,
) -> None:
    # Given a profile that skips known-bad items, and C's price 17.00 refused by run 1
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS, known_bad="skip")
    _sync(world, profile, FOUR, "run_1", _refusing("C"))
    at = _ledger(world)[1][7]
    world.connectors["s1"].calls.clear()
    # When the next file changes A and B again, and C the same way
    ref = _sync(world, profile, NEXT, "run_2")
    # Then nothing was sent for C; it is logged failed with the remembered reason
    assert _sent(world) == [["A", "B"]]
    assert _log(world, "run_2")["C"] == (
        "failed",
        f"not sent: the platform refused this same change before (price: must be positive; "
        f"run run_1, {at})",
    )
    # And the remembered refusal is kept as it was (the platform was not asked again)
    assert [e[6] for e in _ledger(world)[1:]] == ["run_1"]
    assert world.run_record(ref).counts["failed"] == 1


def test_known_bad_items_refused_together_keep_their_own_remembered_words(world: World) -> None:
    # Given B's and C's prices refused by a first run, each in its own words
    profile = world.profile(world.store(CATALOG), limits=NO_LIMITS)

    def own_words(op: str, items: list[PlanItem]) -> list[ItemResult]:
        del op
        return [
            ItemResult(i.key == "A", "" if i.key == "A" else f"{i.key} is locked") for i in items
        ]

    _sync(world, profile, FOUR, "run_1", own_words)
    # When the next run sends both the same prices (and A a new one), and the store refuses
    # their request as a whole in words it does not attribute
    again = [row(2, "A", price=1510), *FOUR[1:]]
    together: Answer = lambda op, items: [item_refused_together("B or C is locked")] * len(items)  # noqa: E731
    ref = _sync(
        world, profile, again, "run_2", lambda op, items: [ItemResult(True)] * len(items), together
    )
    # Then B and C went together, apart from A, and each is logged with its own words from
    # last time
    assert _sent(world)[-2:] == [["A"], ["B", "C"]]
    log = _log(world, ref.run_id)
    assert log["B"] == ("failed", "refused again, as before: B is locked")
    assert log["C"] == ("failed", "refused again, as before: C is locked")
    # And the remembered words stay each item's own, now from the second run
    assert [(e[3], e[5], e[6]) for e in _ledger(world)[1:]] == [
        ("B", "B is locked", "run_2"),
        ("C", "C is locked", "run_2"),
    ]
