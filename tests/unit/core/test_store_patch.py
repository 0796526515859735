"""PATCH /stores/{id}: a rename, new credentials (a new secret version, checked at once by the
catalog import), new options; refused while a profile syncs to the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes import World
from pydantic import ValidationError

from feedsync.core import api, store_edit
from feedsync.core.catalog_import import import_catalog
from feedsync.errors import Conflict, InvalidRequest, NotFound, StoreAuthError
from feedsync.models import CatalogImportInput
from feedsync.models.stores import PatchStore

CATALOG = [(1, 11, "A-1", None, 1000, None, None, None, 5)]


class RefusingConnector:
    """A store that refuses the token it was given (401): every read raises."""

    default_location = None

    def iter_variants(self, **_: Any) -> Iterator[Any]:
        raise StoreAuthError("the store answered 401: the access token is not accepted")


def _patch(world: World, **body: Any) -> Any:
    return store_edit.patch_store(world.deps, world.tenant, "s1", PatchStore.model_validate(body))


def _run_import(world: World) -> None:
    """The catalog import the PATCH asked for, as its function would run it."""
    function, payload = world.invoker.calls[-1]
    assert function == "catalog-import"
    import_catalog(world.deps, CatalogImportInput.model_validate(payload))


def test_a_rename_changes_the_name_and_checks_nothing(world: World) -> None:
    # Given a ready store
    store = world.store(CATALOG)
    # When it is renamed
    updated = _patch(world, name="Acme shop")
    # Then the name changed, the token and status stayed, and no import was started
    assert updated.name == "Acme shop"
    assert updated.secret_ref == store.secret_ref
    assert updated.status == "ready"
    assert world.invoker.calls == []


def test_new_credentials_are_a_new_secret_version_checked_by_an_import(world: World) -> None:
    # Given a ready store
    store = world.store(CATALOG)
    # When its token is replaced
    updated = _patch(world, credentials={"access_token": "new-token"})
    # Then the record names a new secret version holding the new token, and reads setting_up
    assert updated.secret_ref != store.secret_ref
    assert world.secrets.get(updated.secret_ref) == {"access_token": "new-token"}
    assert updated.status == "setting_up"
    # And the import started at once reads the store with the new token and ends ready
    assert world.invoker.calls[-1][1]["mode"] == "incremental"
    _run_import(world)
    assert world.credentials_seen[-1] == {"access_token": "new-token"}
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None and after.status == "ready" and after.error is None


def test_refused_credentials_leave_the_store_import_failed_saying_why(world: World) -> None:
    # Given a ready store whose new token the store will refuse
    world.store(CATALOG)
    world.connectors["s1"] = RefusingConnector()  # type: ignore[assignment]
    # When the token is replaced and the check runs
    _patch(world, credentials={"access_token": "wrong"})
    _run_import(world)
    # Then the store says the import failed, with the store's words and the error's name
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None
    assert after.status == "import_failed"
    assert after.error_code == "store_auth_error"
    assert "401" in (after.error or "")


def test_a_store_that_rejected_its_token_is_ready_again_with_working_credentials(
    world: World,
) -> None:
    # Given a store whose token was rejected
    world.store(CATALOG)
    world.repo.update_store(
        world.tenant, "s1", status="import_failed", error="401", error_code="store_auth_error"
    )
    # When working credentials replace it and the check runs
    _patch(world, credentials={"access_token": "good"})
    _run_import(world)
    # Then the store is ready with no error left
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None
    assert (after.status, after.error, after.error_code) == ("ready", None, None)


def test_new_options_read_the_whole_catalog_again(world: World) -> None:
    # Given a ready store
    world.store(CATALOG)
    # When its stock location changes
    _patch(world, options={"location_id": "7"})
    # Then a full import was started
    assert world.invoker.calls[-1][1]["mode"] == "full"


def test_credentials_the_platform_does_not_take_are_a_422_naming_them(world: World) -> None:
    # Given a BigCommerce store (it takes an access token only)
    world.store(CATALOG)
    # When a WooCommerce key pair is sent
    with pytest.raises(InvalidRequest) as refused:
        _patch(world, credentials={"consumer_key": "ck", "consumer_secret": "cs"})
    # Then the refusal names the credentials and nothing changed
    assert refused.value.field == "credentials"
    assert "access_token" in refused.value.message
    assert world.invoker.calls == []


def test_credentials_are_refused_while_a_profile_syncs_to_the_store(world: World) -> None:
    # Given a profile of the store with a run in progress
    profile = world.profile(world.store(CATALOG))
    world.run(profile)
    # When the token is replaced, Then it is refused naming the running profile
    with pytest.raises(Conflict) as refused:
        _patch(world, credentials={"access_token": "new"})
    assert refused.value.reason == "already_running"
    assert profile.profile_id in refused.value.message
    # And a rename is still fine
    assert _patch(world, name="renamed").name == "renamed"


def test_an_unknown_store_is_not_found(world: World) -> None:
    # Given no store, When one is patched, Then it is NotFound
    with pytest.raises(NotFound):
        _patch(world, name="x")


def test_an_empty_patch_is_refused_by_the_model() -> None:
    # Given a body with nothing to change, When it is read, Then it is refused saying what to send
    with pytest.raises(ValidationError, match="at least one of name, credentials, options"):
        PatchStore.model_validate({})


def test_options_sent_are_merged_into_the_stores(world: World) -> None:
    # Given an Amazon store with its seller and marketplace
    world.store(
        CATALOG, platform="amazon",
        options={"seller_id": "A1SELLER01", "marketplace_id": "A1PA6795UKMFR9"},
    )  # fmt: skip
    # When an option Amazon does not take is sent, Then it is refused naming the options
    with pytest.raises(InvalidRequest) as refused:
        _patch(world, options={"inventory": "adjustments"})
    assert refused.value.field == "options"
    # When only a new marketplace is sent, Then the store keeps the seller it had
    updated = _patch(world, options={"marketplace_id": "ATVPDKIKX0DER"})
    assert updated.options.seller_id == "A1SELLER01"
    assert updated.options.marketplace_id == "ATVPDKIKX0DER"


def test_a_start_during_the_credentials_check_is_refused_as_setting_up(world: World) -> None:
    # Given an idle profile of the store
    world.profile(world.store(CATALOG))
    refusals: list[str] = []
    list_profiles = world.repo.list_profiles

    def a_start_arrives_while_runs_are_looked_for(tenant_id: str) -> Any:
        try:
            api.start(world.deps, tenant_id, "p1", "manual", None)
        except Conflict as exc:
            refusals.append(exc.reason)
        return list_profiles(tenant_id)

    world.repo.list_profiles = a_start_arrives_while_runs_are_looked_for  # type: ignore[method-assign]
    # When the token is replaced while a Start comes in
    updated = _patch(world, credentials={"access_token": "new"})
    # Then the Start was refused (the store was already setting up), and the token replaced
    assert refusals == ["store_setting_up"]
    assert world.executions.started == {}
    assert world.secrets.get(updated.secret_ref) == {"access_token": "new"}


def test_a_refused_credentials_change_leaves_the_store_as_it_was(world: World) -> None:
    # Given a store whose last import failed, and a profile of it with a run in progress
    store = world.store(CATALOG)
    world.repo.update_store(world.tenant, "s1", status="import_failed", error="401",
                            error_code="store_auth_error")  # fmt: skip
    world.run(world.profile(store))
    # When its token is replaced
    with pytest.raises(Conflict):
        _patch(world, credentials={"access_token": "new"})
    # Then the store keeps its state, its error and its secret; no import was started
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None
    assert (after.status, after.error, after.error_code) == (
        "import_failed",
        "401",
        "store_auth_error",
    )
    assert after.secret_ref == store.secret_ref
    assert world.invoker.calls == []


def test_new_options_make_the_stores_profiles_sync_their_file_again(world: World) -> None:
    # Given a store whose profile has synced a file (an automatic fire would find it unchanged)
    store = world.store(CATALOG)
    profile = world.profile(store)
    world.repo.update_profile(world.tenant, profile.profile_id, last_source={"sha256": "ab"})
    # When its stock location changes
    _patch(world, options={"location_id": "7"})
    # Then the profile no longer remembers a synced file: its next fire runs
    after = world.repo.get_profile(world.tenant, profile.profile_id)
    assert after is not None and after.last_source is None


def test_a_failure_after_the_mark_puts_the_stores_state_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ready store, and a secrets store that fails to take a new version
    world.store(CATALOG)

    def refuse(*_: Any) -> str:
        raise RuntimeError("Secrets Manager is throttling")

    monkeypatch.setattr(world.deps.secrets, "put", refuse)
    # When its token is replaced
    with pytest.raises(RuntimeError):
        _patch(world, credentials={"access_token": "new"})
    # Then the store is ready again, not setting up for good, and no import was started
    after = world.repo.get_store(world.tenant, "s1")
    assert after is not None and after.status == "ready"
    assert world.invoker.calls == []


@pytest.mark.parametrize(
    ("platform", "options", "why"),
    [
        ("bigcommerce", {}, None),
        ("shopify", {}, None),
        ("woocommerce", {}, None),
        (
            "amazon",
            {"seller_id": "A1B2C3D4E5", "marketplace_id": "ATVPDKIKX0DER"},
            "Amazon: creating listings needs a product type; create mode is not available",
        ),
    ],
)
def test_the_store_as_the_api_shows_it_says_whether_its_profiles_can_create(
    world: World, platform: str, options: dict[str, str], why: str | None
) -> None:
    # Given a store of each platform
    store = world.store(CATALOG, platform=platform, options=options)
    # When the API shows it
    view = api.store_view(store)
    # Then it says why create mode is not available there (null where it is), and the
    # token's reference stays out of it
    assert view["cannot_create"] == why
    assert "secret_ref" not in view and view["store_id"] == "s1"
