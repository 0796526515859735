"""A catalog import shows itself on the store while it runs: asked for, counted as it
reads, cleared when it ends (so the stores page can show a count, and tell a finished
re-import from one still going)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fakes import World

from feedsync.core import api
from feedsync.core.catalog_import import import_catalog
from feedsync.errors import StoreUnavailable
from feedsync.models import CatalogImportInput, ImportCatalogBody

CATALOG = [(1, 10 + n, f"A-{n}", None, 1000, None, None, None, 5) for n in range(6)]


class SlowStore:
    """A store that takes three seconds a variant, and records the store's record as seen
    between variants (what a page polling the API would read meanwhile)."""

    default_location = None

    def __init__(self, world: World, fail_after: int | None = None) -> None:
        self.world = world
        self.fail_after = fail_after
        self.seen: list[Any] = []

    def iter_variants(self, **_: Any) -> Iterator[Any]:
        for n, variant in enumerate(CATALOG):
            if n == self.fail_after:
                raise StoreUnavailable("the store answered 503 for a minute")
            self.seen.append(self.world.repo.get_store(self.world.tenant, "s1").importing)
            self.world.clock.advance(3)
            yield variant


def _import(world: World) -> None:
    function, payload = world.invoker.calls[-1]
    assert function == "catalog-import"
    import_catalog(world.deps, CatalogImportInput.model_validate(payload))


def test_a_reimport_is_shown_at_once_counted_while_it_reads_and_cleared_at_the_end(
    world: World,
) -> None:
    # Given a ready store whose catalog reads slowly
    world.store(CATALOG)
    slow = SlowStore(world)
    world.connectors["s1"] = slow  # type: ignore[assignment]
    # When a full re-import is asked for
    answered = api.import_store_catalog(
        world.deps, world.tenant, "s1", ImportCatalogBody(mode="full")
    )
    # Then the answer already shows the import under way, with nothing read yet
    assert answered.importing is not None
    assert (answered.importing.mode, answered.importing.read) == ("full", 0)
    # When the import runs
    _import(world)
    # Then the count on the store grew as it read (written every 2 s, not per variant)
    counts = [seen.read for seen in slow.seen]
    assert counts[0] == 0 and counts == sorted(counts) and counts[-1] >= 4
    # And at the end the store is ready with its count, and no longer importing
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None
    assert after.importing is None and after.status == "ready" and after.variant_count == 6


def test_a_failed_import_is_no_longer_shown_as_running(world: World) -> None:
    # Given a ready store that fails part-way through a re-import
    world.store(CATALOG)
    world.connectors["s1"] = SlowStore(world, fail_after=2)  # type: ignore[assignment]
    api.import_store_catalog(world.deps, world.tenant, "s1", ImportCatalogBody(mode="full"))
    # When the import runs and fails
    _import(world)
    # Then the store keeps its index, says why, and shows no import running
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None
    assert after.importing is None and after.status == "ready"
    assert after.error is not None and "503" in after.error
