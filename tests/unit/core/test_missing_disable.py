"""missing: disable over fakes: a product this profile wrote that today's file lacks is
hidden once, remembered, shown again when it returns; counted against the limits (issue 13)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from fakes import NO_LIMITS, World, row, variant

from feedsync.core import api
from feedsync.core.catalog_store import apply_to_catalog, load_catalog
from feedsync.core.steps.finalize import finalize
from feedsync.core.steps.match import match
from feedsync.core.steps.update import update
from feedsync.core.written import load_written
from feedsync.domain.fields import VISIBLE_AT, Row
from feedsync.errors import InvalidRequest
from feedsync.models import (
    FinalizeInput,
    MatchInput,
    ProfileSettings,
    Run,
    ShardRef,
    UpdateInput,
)
from feedsync.platforms.registry import capabilities_for

# Simple products A..D (product 10 + i, variant 100 + i) and product 20 with E1, E2.
CATALOG = [variant(10 + i, 100 + i, sku, price=1000, stock=5) for i, sku in enumerate("ABCD")]
CATALOG += [variant(20, 200, "E1", stock=3), variant(20, 201, "E2", stock=4)]
ALL = [row(2, "A", stock=7), row(3, "B", stock=8), row(4, "C", stock=9)]


def _run(world: World, rows: list[Row], run_id: str, row_errors: int = 0) -> Run:
    ref = world.run(world.profile_record(), run_id=run_id)
    parsed = world.parsed(ref, rows, row_errors=row_errors)
    out = match(world.deps, MatchInput(run=ref, fetch=world.fetched(ref), parse=parsed))
    if out.held:
        finalize(world.deps, FinalizeInput(run=ref, previewed=True))
        return world.run_record(ref)
    for entry in json.loads(world.blobs.get_bytes(out.manifest_key)):
        update(world.deps, UpdateInput(run=ref, shard=ShardRef.model_validate(entry)))
    finalize(world.deps, FinalizeInput(run=ref))
    return world.run_record(ref)


def _sent(world: World) -> list[tuple[str, int, dict[str, list[object]]]]:
    return world.connectors["s1"].written()


def test_disable_hides_the_missing_product_once_and_shows_it_when_it_returns(
    world: World,
) -> None:
    # Given a profile that wrote A, B and C
    world.profile(world.store(CATALOG), missing="disable", limits=NO_LIMITS)
    _run(world, ALL, "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lists A and B only
    run = _run(world, ALL[:2], "run_2")
    # Then C's product alone is hidden, with the products write
    assert _sent(world) == [("products", 102, {"visible": [True, False]})]
    assert (run.counts["missing"], run.counts["updated"]) == (1, 1)
    log = world.blobs.csv(run.log_key or "")[1:]
    assert [(r[0], r[1], r[4]) for r in log][-1] == ("4", "C", "missing")
    assert log[-1][5] == "visible: shown -> hidden"
    assert log[-1][6] == "not in today's file: disabled (hidden in the store)"
    # and the profile's ledger remembers that feedsync hid product 12
    assert load_written(world.deps, "t1", "p1")[(12, "visible")] is False
    # When the next file still lacks C
    world.connectors["s1"].calls.clear()
    again = _run(world, ALL[:2], "run_3")
    # Then nothing is sent: it is hidden already (a merchant who showed it again wins)
    assert _sent(world) == [] and again.counts["missing"] == 0
    # When C is back in the file
    back = _run(world, ALL, "run_4")
    # Then its product is shown again, counted as changed and logged as updated
    assert _sent(world) == [("products", 102, {"visible": [False, True]})]
    assert back.counts["changed"] == 1 and back.counts["updated"] == 1
    line = world.blobs.csv(back.log_key or "")[-1]
    assert (line[1], line[4], line[5]) == ("C", "updated", "visible: hidden -> shown")
    assert load_written(world.deps, "t1", "p1")[(12, "visible")] is True


def test_a_missing_variant_whose_sibling_is_listed_goes_to_0_and_its_product_stays_shown(
    world: World,
) -> None:
    # Given a profile that wrote both variants of product 20
    world.profile(world.store(CATALOG), missing="disable", limits=NO_LIMITS)
    _run(world, [row(2, "E1", stock=6), row(3, "E2", stock=6)], "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lists E1 only
    run = _run(world, [row(2, "E1", stock=6)], "run_2")
    # Then E2 goes to stock 0 and nothing is hidden
    assert _sent(world) == [("variants", 201, {"stock": [6, 0]})]
    assert run.counts["missing"] == 1


def test_a_file_with_refused_rows_hides_nothing(world: World) -> None:
    # Given a profile that wrote A, B and C
    world.profile(world.store(CATALOG), missing="disable", limits=NO_LIMITS)
    _run(world, ALL, "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lists A and B, and has a row the parser refused (it may be C's)
    run = _run(world, ALL[:2], "run_2", row_errors=1)
    # Then nothing is hidden
    assert _sent(world) == [] and run.counts["missing"] == 0


def test_hiding_counts_against_the_limits(world: World) -> None:
    # Given a profile with its default limits that wrote A..D
    world.profile(world.store(CATALOG), missing="disable")
    rows = [row(i + 2, sku, stock=9) for i, sku in enumerate("ABCD")]
    assert _run(world, rows, "run_1").status == "succeeded"
    world.connectors["s1"].calls.clear()
    # When the next file lists 3 of the 4
    run = _run(world, rows[:3], "run_2")
    # Then hiding D takes 1 of 3 matched items off sale (over 0.3): held, nothing sent
    assert run.status == "held" and world.connectors["s1"].calls == []
    [reason] = run.held_reasons
    assert reason["rule"] == "max_zero_stock_share" and reason["examples"] == ["D"]


def test_a_profile_may_disable_only_where_the_platform_can_hide_a_product(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store on a platform that can hide a product, a profile may ask for disable
    store = world.store(CATALOG)
    body = {
        "name": "hide",
        "store_id": store.store_id,
        "source": {"type": "url", "url": "https://supplier.example/stock.csv"},
        "mapping": {"sku": "SKU", "price": "Price", "stock": "Qty"},
        "missing": "disable",
    }
    made = api.create_profile(world.deps, world.tenant, ProfileSettings.model_validate(body))
    assert made.missing == "disable"
    # When the platform could not hide one (its capabilities without visible)
    caps = capabilities_for("bigcommerce", {})
    ops = tuple(
        dataclasses.replace(op, fields=tuple(f for f in op.fields if f != "visible"))
        for op in caps.ops
    )
    blind = dataclasses.replace(caps, ops=ops)
    monkeypatch.setattr(api, "capabilities_for", lambda name, options: blind)
    # Then a profile asking for disable is refused, naming the setting and the way out
    with pytest.raises(InvalidRequest) as refused:
        api.create_profile(world.deps, world.tenant, ProfileSettings.model_validate(body))
    assert refused.value.field == "missing"
    assert "cannot hide a product: use zero_stock or ignore" in str(refused.value)


def test_a_product_the_store_does_not_show_is_left_alone_and_never_published(
    world: World,
) -> None:
    # Given C held back as a draft (None: a state feedsync never sets) and D hidden by the
    # merchant (False), both written by the profile
    held_back = [variant(12, 102, "C", visible=None), variant(13, 103, "D", visible=False)]
    world.profile(world.store(CATALOG[:2] + held_back), missing="disable", limits=NO_LIMITS)
    rows = [*ALL, row(5, "D", stock=9)]
    _run(world, rows, "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file drops them
    dropped = _run(world, ALL[:2], "run_2")
    # Then nothing is sent for them and the ledger does not call them feedsync's
    assert _sent(world) == [] and dropped.counts["missing"] == 0
    assert (12, "visible") not in load_written(world.deps, "t1", "p1")
    # When they come back
    _run(world, rows, "run_3")
    # Then they are not published either
    assert [w for w in _sent(world) if "visible" in w[2]] == []


def test_finalize_keeps_the_index_in_step_with_what_a_run_wrote_to_visible(
    world: World,
) -> None:
    # Given a profile that wrote A, B and C
    store = world.store(CATALOG)
    world.profile(store, missing="disable", limits=NO_LIMITS)
    _run(world, ALL, "run_1")

    def shown() -> bool | None:
        current = world.repo.get_store("t1", store.store_id)
        assert current is not None
        index = load_catalog(world.deps, current)
        return next(v[VISIBLE_AT] for v in index.variants if v[0] == 12)

    # When a file without C hides it
    _run(world, ALL[:2], "run_2")
    # Then the index holds it hidden (so the next file that lists C shows it again)
    assert shown() is False
    # When C is back
    _run(world, ALL, "run_3")
    # Then the index holds it shown
    assert shown() is True


def test_a_product_with_a_variant_another_profile_writes_is_not_hidden(world: World) -> None:
    # Given product 20 whose E1 this profile writes and E2 it never did (another profile's)
    world.profile(world.store(CATALOG), missing="disable", limits=NO_LIMITS)
    _run(world, [*ALL, row(5, "E1", stock=6)], "run_1")
    world.connectors["s1"].calls.clear()
    # When today's file lacks E1 (and lists nothing of product 20)
    run = _run(world, ALL, "run_2")
    # Then the product stays on view and E1 alone goes to stock 0
    assert _sent(world) == [("variants", 200, {"stock": [6, 0]})]
    assert run.counts["missing"] == 1
    line = world.blobs.csv(run.log_key or "")[-1]
    assert (line[1], line[4], line[6]) == (
        "E1",
        "missing",
        "not in today's file: stock set to 0 (was 6)",
    )


def test_an_index_from_before_visibility_is_read_whole_once_and_then_hides(
    world: World,
) -> None:
    # Given a store whose index was saved before it kept the products' visibility
    store = world.store(CATALOG)
    key = store.catalog_key or ""
    lines = world.blobs.get_bytes(key).decode().splitlines()
    old = "".join(line.rsplit(",", 1)[0] + "\n" for line in lines)  # (no visible column)
    world.blobs.put_bytes(key, old.encode(), "text/csv")
    world.profile(store, missing="disable", limits=NO_LIMITS)
    reads = world.connectors["s1"].reads
    # When the profile's first run matches
    _run(world, ALL, "run_1")
    # Then the whole catalog was read first, once
    assert reads.count((None, None)) == 1
    # When the next file lacks C
    world.connectors["s1"].calls.clear()
    _run(world, ALL[:2], "run_2")
    # Then C's product is hidden (the index knows the store shows it), with no further
    # whole read
    assert _sent(world) == [("products", 102, {"visible": [True, False]})]
    assert reads.count((None, None)) == 1


def test_patching_an_index_from_before_visibility_keeps_it_unknown(world: World) -> None:
    # Given a store whose index was saved before it kept the products' visibility
    store = world.store(CATALOG)
    key = store.catalog_key or ""
    lines = world.blobs.get_bytes(key).decode().splitlines()
    world.blobs.put_bytes(key, "".join(ln.rsplit(",", 1)[0] + "\n" for ln in lines).encode())
    # When a run's writes are patched into it
    apply_to_catalog(
        world.deps, store, {100: {"price": [1000, 1100]}}, {12: {"visible": [True, False]}}
    )
    # Then it still says the products' visibility is unknown (a run that hides products
    # reads the whole catalog first), with the written price kept
    index = load_catalog(world.deps, store)
    assert not index.has_visibility and all(v[VISIBLE_AT] is None for v in index.variants)
    assert next(v[4] for v in index.variants if v[1] == 100) == 1100


def test_a_product_the_merchant_showed_again_can_be_hidden_the_next_time_it_goes(
    world: World,
) -> None:
    # Given C's product hidden by feedsync, then shown again by the merchant by hand
    world.profile(world.store(CATALOG), missing="disable", limits=NO_LIMITS)
    _run(world, ALL, "run_1")
    _run(world, ALL[:2], "run_2")
    world.connectors["s1"].modified = [variant(12, 102, "C", stock=9, visible=True)]
    # When C is listed again (nothing to show: the store shows it), then dropped again
    _run(world, ALL, "run_3")
    assert load_written(world.deps, "t1", "p1")[(12, "visible")] is True  # theirs now
    world.connectors["s1"].calls.clear()
    world.connectors["s1"].modified = []
    gone = _run(world, ALL[:2], "run_4")
    # Then it is hidden again (the ledger did not keep saying feedsync had hidden it)
    assert _sent(world) == [("products", 102, {"visible": [True, False]})]
    assert gone.counts["missing"] == 1
