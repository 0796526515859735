"""GET /profiles serves the whole home page: each profile with its store, source and schedule
in words, the live phase of its run, its last run and Start's estimate, in a constant number
of reads however many profiles there are."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fakes import World

from feedsync.core import api
from feedsync.core.home import estimate, source_summary
from feedsync.models import ProfileSettings, Run, RunSummary, Store
from feedsync.models.responses import ProfileView

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


class CountingRepo:
    """The fake repository, counting every call the views make to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


def _finish(world: World, profile_id: str, run_id: str, **counts: int) -> None:
    """A run that took 2 min 40 s and released the profile's lock."""
    began = world.clock() - timedelta(minutes=10)
    world.repo.put_run(
        Run(
            tenant_id=world.tenant, run_id=run_id, profile_id=profile_id, store_id="s1",
            trigger="manual", mode="partial", status="succeeded", counts=counts,
            created_at=began, started_at=began, finished_at=began + timedelta(seconds=160),
        )
    )  # fmt: skip
    summary = RunSummary(
        run_id=run_id, status="succeeded", finished_at=began + timedelta(seconds=160),
        counts=counts,
    )  # fmt: skip
    world.repo.update_profile(world.tenant, profile_id, last_run=summary.model_dump(mode="json"))


def _views(world: World, repo: Any = None) -> dict[str, dict[str, Any]]:
    deps = dataclasses.replace(world.deps, repo=repo) if repo else world.deps
    profiles = (repo or world.repo).list_profiles(world.tenant)
    return {v["profile_id"]: v for v in api.profile_views(deps, world.tenant, profiles)}


def _many(world: World, count: int) -> None:
    store = world.store(CATALOG)
    for n in range(count):
        profile = world.profile(store, profile_id=f"p{n:04d}")
        if n % 3 == 0:
            world.run(profile, run_id=f"live_{n:04d}")
        elif n % 3 == 1:
            _finish(world, profile.profile_id, f"done_{n:04d}", changed=5)


def test_the_list_reads_the_table_a_constant_number_of_times(world: World, tmp_path: Any) -> None:
    # Given 5 profiles, and (another tenant's world) 500, a third running, a third finished
    small, large = world, World(str(tmp_path))
    _many(small, 5)
    _many(large, 500)
    # When each list is shown, counting the repository's calls
    counted_small, counted_large = CountingRepo(small.repo), CountingRepo(large.repo)
    assert len(_views(small, counted_small)) == 5
    views = _views(large, counted_large)
    # Then 500 profiles cost the same calls as 5: one query, settings, stores, one batch read
    assert counted_large.calls == counted_small.calls
    assert counted_large.calls == Counter(
        list_profiles=1, get_tenant_settings=1, list_stores=1, get_runs=1
    )
    # And every running tile has its live phase, every finished one its last run
    assert views["p0000"]["live"]["phase_label"] == "Queued"
    assert views["p0001"]["last_run"]["run_id"] == "done_0001"
    for view in views.values():
        ProfileView.model_validate(view)


def test_each_phase_of_the_current_run_is_labelled(world: World) -> None:
    # Given runs queued, matching, updating at 42 % and updating with every item sent,
    # and a lock whose run record is not written yet
    store = world.store(CATALOG)
    phases = {
        "p_queued": ("queued", None),
        "p_matching": ("matching", None),
        "p_updating": ("updating", {"done": 42, "total": 100}),
        "p_final": ("updating", {"done": 100, "total": 100}),
    }
    for profile_id, (status, progress) in phases.items():
        world.run(world.profile(store, profile_id=profile_id), run_id=f"run_{profile_id}")
        world.repo.update_run(
            world.tenant, f"run_{profile_id}", status=status,
            **({"progress": progress} if progress else {}),
        )  # fmt: skip
    lone = world.profile(store, profile_id="p_lock")
    assert world.repo.acquire_run_lock(world.tenant, lone.profile_id, "run_x", world.clock())
    world.profile(store, profile_id="p_idle")
    # When the profiles are listed
    views = _views(world)
    # Then each running tile shows its phase, with a percentage only once it is known
    live = {pid: v["live"] and (v["live"]["phase_label"], v["live"]["percent"])
            for pid, v in views.items()}  # fmt: skip
    assert live == {
        "p_queued": ("Queued", None),
        "p_matching": ("Matching", None),
        "p_updating": ("Updating", 42),
        "p_final": ("Finalizing", 100),
        "p_lock": ("Queued", None),
        "p_idle": None,
    }


def test_a_tile_names_its_store_source_and_schedule(world: World) -> None:
    # Given an SFTP profile syncing hourly outside 22:00-04:00 in Berlin
    store = world.store(CATALOG)
    sftp = {"type": "sftp", "host": "feeds.acme.com", "path": "/stock.csv", "username": "acme",
            "host_key_fingerprint": "SHA256:" + "A" * 43}  # fmt: skip
    schedule = {"type": "interval", "every_minutes": 60, "timezone": "Europe/Berlin",
                "blackouts": [{"start": "22:00", "end": "04:00"}]}  # fmt: skip
    world.profile(store, source=sftp, schedule=schedule)
    # When it is listed
    view = _views(world)["p1"]
    # Then the tile reads as the merchant says it
    assert (view["store_name"], view["platform"]) == ("store s1", "bigcommerce")
    assert view["source_summary"] == "SFTP feeds.acme.com/stock.csv"
    assert view["schedule_text"] == "every hour except 22:00-04:00, Europe/Berlin"


def test_an_after_schedule_names_the_profile_it_follows_in_a_single_view(world: World) -> None:
    # Given a profile that runs after another
    store = world.store(CATALOG)
    world.profile(store, profile_id="p_lead", name="Acme stock")
    follower = world.profile(store, profile_id="p_next", schedule={
        "type": "after", "profile_id": "p_lead"})  # fmt: skip
    # When only the follower is shown
    (view,) = api.profile_views(world.deps, world.tenant, [follower])
    # Then it names the profile it follows
    assert view["schedule_text"] == "after Acme stock"


@pytest.mark.parametrize(
    ("source", "summary"),
    [
        ({"type": "url", "url": "https://user:pw@acme.example/stock.csv?token=s3cret"},
         "URL https://acme.example/stock.csv?…"),
        ({"type": "url", "url": "https://acme.example/stock.csv"},
         "URL https://acme.example/stock.csv"),
        ({"type": "ftp", "host": "ftp.acme.example", "port": 2121, "path": "out/*.csv"},
         "FTP ftp.acme.example:2121/out/*.csv"),
        ({"type": "upload"}, "Upload"),
    ],
)  # fmt: skip
def test_the_source_summary_never_shows_a_secret(source: dict[str, Any], summary: str) -> None:
    # Given a source, When it is summarised, Then it says where without user, password or query
    settings = ProfileSettings.model_validate(
        {
            "name": "n",
            "store_id": "s1",
            "source": source,
            "mapping": {"sku": "SKU", "stock": "Q"},
            "fields": ["stock"],
        }
    )
    assert source_summary(settings.source) == summary


def test_the_estimate_comes_from_the_last_run(world: World) -> None:
    # Given a profile whose last run took 2 min 40 s for 1,204 changes
    world.profile(world.store(CATALOG))
    _finish(world, "p1", "run_1", changed=1204, updated=1200)
    # When it is listed
    got = _views(world)["p1"]["estimate"]
    # Then Start's confirmation can say how long, and why
    assert got == {
        "seconds": 160,
        "basis": "the last run took 2 min 40 s for 1,204 changes",
        "text": "about 3 minutes: the last run took 2 min 40 s for 1,204 changes",
    }


def test_a_first_run_is_estimated_from_the_catalog_and_the_quota(world: World) -> None:
    # Given a BigCommerce store of 5,000 variants, no run yet
    store = world.store(CATALOG).model_copy(update={"variant_count": 5000})
    # When the estimate is made
    got = estimate(None, store)
    # Then it counts the requests at the platform's batch size and request window
    assert got["seconds"] is not None and got["seconds"] > 30
    assert "a first run: up to 5,000 variants" in got["basis"]
    assert "requests/s (the store's quota)" in got["basis"]


def test_nothing_to_go_on_is_null_with_the_reason(world: World) -> None:
    # Given a store whose catalog is not read yet, and an Amazon store (token buckets)
    unread = world.store(CATALOG).model_copy(update={"variant_count": 0})
    amazon = Store.model_validate(
        {**unread.model_dump(), "platform": "amazon", "variant_count": 10,
         "options": {"seller_id": "A1SELLER01", "marketplace_id": "A1PA6795UKMFR9"}}
    )  # fmt: skip
    # When each is estimated, Then the seconds are null and the basis says why
    for store, why in ((unread, "catalog is not read"), (amazon, "gives no request rate")):
        got = estimate(None, store)
        assert got["seconds"] is None
        assert why in got["basis"]


def test_a_store_that_rejects_its_token_turns_its_profiles_red(world: World) -> None:
    # Given a profile whose last run succeeded, and a store whose token was refused since
    world.profile(world.store(CATALOG))
    _finish(world, "p1", "run_1", changed=1)
    world.repo.update_store(
        world.tenant, "s1", status="import_failed", error="401 from the store",
        error_code="store_auth_error",
    )  # fmt: skip
    # When the profile is listed
    view = _views(world)["p1"]
    # Then its health is red and says to replace the credentials
    assert view["health"]["status"] == "red"
    assert "replace them" in view["health"]["reason"]
