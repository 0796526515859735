"""Each profile says whether Start is taken now, and why not (issue 11: the dashboard's
Start button), from one read of the tenant's stores for the whole list."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import World

from feedsync.core import api

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


def _views(world: World) -> dict[str, dict[str, Any]]:
    profiles = world.repo.list_profiles(world.tenant)
    return {v["profile_id"]: v for v in api.profile_views(world.deps, world.tenant, profiles)}


def test_start_is_offered_or_refused_with_the_reason(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ready profile, a running one, a disabled one, one whose store still imports
    # its catalog, and an upload profile with no file yet
    ready = world.store(CATALOG)
    importing = world.store(CATALOG, store_id="s2")
    world.repo.update_store(world.tenant, "s2", status="setting_up")
    world.profile(ready, profile_id="p_ready")
    world.profile(ready, profile_id="p_running")
    assert world.repo.acquire_run_lock(world.tenant, "p_running", "run_9", since=world.clock())
    world.profile(ready, profile_id="p_off", enabled=False)
    world.profile(importing, profile_id="p_importing")
    world.profile(ready, profile_id="p_upload", source={"type": "upload"})

    def no_store_per_profile(*args: Any) -> Any:
        raise AssertionError("a store was read per profile")

    monkeypatch.setattr(world.repo, "get_store", no_store_per_profile)
    # When the profiles are listed
    views = _views(world)
    # Then each says whether Start is taken, and why not
    blocked = {pid: (v["can_start"], (v["start_blocked"] or {}).get("reason"))
               for pid, v in views.items()}  # fmt: skip
    assert blocked == {
        "p_ready": (True, None),
        "p_running": (False, "already_running"),
        "p_off": (False, "profile_disabled"),
        "p_importing": (False, "store_setting_up"),
        "p_upload": (False, "no_file"),
    }
    assert "run_9" in views["p_running"]["start_blocked"]["message"]
