"""What several steps read again: the run's records, and where its stock is written."""

from __future__ import annotations

from feedsync.core.catalog_import import refresh_before_match
from feedsync.core.deps import Deps
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.fields import CONTENT_FIELDS
from feedsync.domain.missing import DISABLE
from feedsync.errors import NotFound, RunCancelled
from feedsync.models import Profile, Run, RunRef, Store
from feedsync.platforms.registry import platform


def profile_of(deps: Deps, ref: RunRef) -> Profile:
    profile = deps.repo.get_profile(ref.tenant_id, ref.profile_id)
    if profile is None:
        raise NotFound(f"profile {ref.profile_id} was deleted during the run")
    return profile


def store_of(deps: Deps, ref: RunRef) -> Store:
    store = deps.repo.get_store(ref.tenant_id, ref.store_id)
    if store is None:
        raise NotFound(f"store {ref.store_id} was deleted during the run")
    return store


def ref_of(run: Run) -> RunRef:
    """What the states of the run's current execution carry."""
    return RunRef(
        tenant_id=run.tenant_id,
        run_id=run.run_id,
        profile_id=run.profile_id,
        store_id=run.store_id,
        round=run.round,
    )


def run_of(deps: Deps, ref: RunRef) -> Run:
    run = deps.repo.get_run(ref.tenant_id, ref.run_id)
    if run is None:
        raise NotFound(f"run {ref.run_id} not found")
    return run


def unless_cancelled(run: Run) -> Run:
    """The run, unless a cancel was requested: then the step stops before doing anything."""
    if run.cancel_requested_at is not None:
        raise RunCancelled(f"run {run.run_id} was cancelled")
    return run


def start_matching(deps: Deps, ref: RunRef) -> tuple[Run, Profile, Store, CatalogIndex]:
    """The run (unless cancelled) marked matching, its profile and store, and the catalog
    index as the store is now (the refresh every matching step starts with)."""
    run = unless_cancelled(run_of(deps, ref))
    deps.repo.update_run(ref.tenant_id, ref.run_id, status="matching")
    profile = profile_of(deps, ref)
    store = store_of(deps, ref)
    index = refresh_before_match(
        deps,
        store,
        needs_content=not set(profile.fields).isdisjoint(CONTENT_FIELDS),
        needs_visibility=profile.missing == DISABLE,
    )
    return run, profile, store, index


def stock_elsewhere(profile: Profile, store: Store) -> bool:
    """Does the profile write stock at another location than the one the index reads?
    Then the index does not know the stock there: it is written, never compared."""
    mine, indexed = profile.location_id, store.options.location_id
    if mine is None or indexed is None:
        return mine is not None
    same = platform(store.platform).location_key
    return same(mine) != same(indexed)
