"""Changing a connected store: its name, its credentials, its options.

New credentials are a new secret version (a new ref on the record) and are checked at once
the way a new store's are: its catalog import starts in the background, the store reads
``setting_up`` meanwhile and ends ``ready`` or ``import_failed`` with the store's own words
(a rejected token: ``error_code`` ``store_auth_error``). New options re-read the whole
catalog (a stock location read elsewhere makes the index wrong).
"""

from __future__ import annotations

from pydantic import ValidationError

from feedsync.core.catalog_import import request_import
from feedsync.core.deps import Deps
from feedsync.errors import Conflict, InvalidRequest, NotFound
from feedsync.models import CatalogImportInput, CreateStore, Store, describe_error
from feedsync.models.stores import PatchStore, StoreOptions
from feedsync.platforms.registry import platform as platform_spec


def patch_store(deps: Deps, tenant_id: str, store_id: str, body: PatchStore) -> Store:
    store = deps.repo.get_store(tenant_id, store_id)
    if store is None:
        raise NotFound(f"store {store_id} not found")
    sent = body.model_fields_set
    rechecked = bool({"credentials", "options"} & sent)
    if rechecked:
        _check_for_platform(store, body)
        _hold_starts_while_idle(deps, store)
        try:
            return _apply(deps, store, body)
        except BaseException:
            # Nothing will end the import this was for: put the store's state back, or every
            # start on it would be refused as setting up for good.
            deps.repo.update_store(
                tenant_id, store_id,
                status=store.status, error=store.error, error_code=store.error_code,
            )  # fmt: skip
            raise
    return _apply(deps, store, body)


def _apply(deps: Deps, store: Store, body: PatchStore) -> Store:
    tenant_id, store_id = store.tenant_id, store.store_id
    sent = body.model_fields_set
    rechecked = bool({"credentials", "options"} & sent)
    fields: dict[str, object] = {}
    if body.name is not None:
        fields["name"] = body.name
    if body.options is not None:
        fields["options"] = merged_options(store, body).model_dump(mode="json")
    if body.credentials is not None:
        fields["secret_ref"] = deps.secrets.put(
            f"{deps.secret_prefix}/{tenant_id}/{store_id}",
            body.credentials.model_dump(exclude_none=True),
        )
    if rechecked:
        fields |= {"status": "setting_up", "error": None, "error_code": None}
    deps.repo.update_store(tenant_id, store_id, **fields)
    if "options" in sent:
        # Options may move the stock location: what a run writes changes with them, so the
        # store's automatic profiles sync their file again rather than find it unchanged.
        for profile in deps.repo.list_profiles(tenant_id):
            if profile.store_id == store_id and profile.last_source:
                deps.repo.update_profile(tenant_id, profile.profile_id, last_source=None)
    if rechecked:
        # Options may move the stock location: the whole catalog is read again. Credentials
        # alone: what changed since the last import (any read proves the token).
        full = "options" in sent or not store.catalog_key
        cmd = CatalogImportInput(
            tenant_id=tenant_id, store_id=store_id, mode="full" if full else "incremental"
        )
        request_import(deps, cmd)
    updated = deps.repo.get_store(tenant_id, store_id)
    assert updated is not None
    return updated


def _hold_starts_while_idle(deps: Deps, store: Store) -> None:
    """Mark the store ``setting_up`` first (every start's guard then refuses it), then look
    for runs holding their profiles' locks: a run found is a 409 and the store's state is put
    back; none found, the new credentials or options go in.

    Why: a run reads the store record at each step: new credentials or options mid-run would
    send the rest of its batches with other ones (perhaps to another account), and the
    re-import would rewrite the index the run matched against.

    The window left: a start that read the store ``ready`` before the mark and takes its
    profile's lock after the look (a few milliseconds between its two requests). That run
    reads the new credentials from its first step on and matches against an index the
    import may be rewriting. Closing it would take a second store read after every lock.
    Meanwhile a start in the moment between the mark and a 409 is refused as
    ``store_setting_up``, as during any import.
    """
    deps.repo.update_store(store.tenant_id, store.store_id, status="setting_up")
    running = [
        p.profile_id
        for p in deps.repo.list_profiles(store.tenant_id)
        if p.store_id == store.store_id and p.current_run_id
    ]
    if running:
        deps.repo.update_store(
            store.tenant_id, store.store_id,
            status=store.status, error=store.error, error_code=store.error_code,
        )  # fmt: skip
        raise Conflict(
            "already_running",
            f"profile(s) {', '.join(running[:5])} are syncing to this store: replace its "
            "credentials or options when their runs end (a rename is fine now)",
        )


def merged_options(store: Store, body: PatchStore) -> StoreOptions:
    """The options sent change, the others keep their values (a merge patch, as a profile's
    maps): a new stock location does not drop a marketplace seller's ids."""
    sent = body.options.model_dump(exclude_unset=True) if body.options else {}
    return StoreOptions.model_validate(store.options.model_dump() | sent)


def _required_kept(store: Store, sent: dict[str, object]) -> dict[str, object]:
    """The platform's required options the patch leaves as they are."""
    kept = store.options.model_dump()
    return {name: kept[name] for name in platform_spec(store.platform).required_options
            if name not in sent}  # fmt: skip


def _check_for_platform(store: Store, body: PatchStore) -> None:
    """The credentials and options sent, as POST /stores checks them for the store's platform
    (what is kept was checked when it was sent: the stored secret is not read)."""
    if body.credentials is not None:
        credentials = body.credentials.model_dump(exclude_none=True)
    else:
        credentials = {name: "kept" for name in platform_spec(store.platform).credential_fields}
    sent_options = body.options.model_dump(exclude_unset=True) if body.options else {}
    try:
        CreateStore.model_validate(
            {
                "name": body.name or store.name,
                "platform": store.platform,
                "api_url": store.api_url,
                "credentials": credentials,
                # The options sent are checked as on create; the kept ones were checked then.
                "options": sent_options | _required_kept(store, sent_options),
            }
        )
    except ValidationError as exc:
        field, message = describe_error(exc.errors()[0])
        if not field or field == "body":
            field = "credentials" if body.credentials is not None else "options"
        raise InvalidRequest(field, message) from exc
