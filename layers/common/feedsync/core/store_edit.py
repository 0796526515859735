"""Changing a connected store: its name, its credentials, its options.

New credentials are a new secret version (a new ref on the record) and are checked at once
the way a new store's are: its catalog import starts in the background, the store reads
``setting_up`` meanwhile and ends ``ready`` or ``import_failed`` with the store's own words
(a rejected token: ``error_code`` ``store_auth_error``). New options re-read the whole
catalog (a stock location read elsewhere makes the index wrong).
"""

from __future__ import annotations

from pydantic import ValidationError

from feedsync.core.deps import Deps
from feedsync.errors import Conflict, InvalidRequest, NotFound
from feedsync.models import CatalogImportInput, CreateStore, Store, describe_error
from feedsync.models.stores import PatchStore


def patch_store(deps: Deps, tenant_id: str, store_id: str, body: PatchStore) -> Store:
    store = deps.repo.get_store(tenant_id, store_id)
    if store is None:
        raise NotFound(f"store {store_id} not found")
    sent = body.model_fields_set
    rechecked = bool({"credentials", "options"} & sent)
    if rechecked:
        _refuse_while_running(deps, store)
        _check_for_platform(deps, store, body)
    fields: dict[str, object] = {}
    if body.name is not None:
        fields["name"] = body.name
    if body.options is not None:
        fields["options"] = body.options.model_dump(mode="json")
    if body.credentials is not None:
        fields["secret_ref"] = deps.secrets.put(
            f"{deps.secret_prefix}/{tenant_id}/{store_id}",
            body.credentials.model_dump(exclude_none=True),
        )
    if rechecked:
        fields |= {"status": "setting_up", "error": None, "error_code": None}
    deps.repo.update_store(tenant_id, store_id, **fields)
    if rechecked:
        # Options may move the stock location: the whole catalog is read again. Credentials
        # alone: what changed since the last import (any read proves the token).
        full = "options" in sent or not store.catalog_key
        cmd = CatalogImportInput(
            tenant_id=tenant_id, store_id=store_id, mode="full" if full else "incremental"
        )
        deps.invoker.invoke_async(deps.catalog_import_function, cmd.model_dump(mode="json"))
    updated = deps.repo.get_store(tenant_id, store_id)
    assert updated is not None
    return updated


def _refuse_while_running(deps: Deps, store: Store) -> None:
    """A run reads the store record at each step: new credentials or options mid-run would
    send the rest of its batches with other ones (perhaps to another account), and the
    re-import would rewrite the index the run matched against."""
    running = [
        p.profile_id
        for p in deps.repo.list_profiles(store.tenant_id)
        if p.store_id == store.store_id and p.current_run_id
    ]
    if running:
        raise Conflict(
            "already_running",
            f"profile(s) {', '.join(running[:5])} are syncing to this store: replace its "
            "credentials or options when their runs end (a rename is fine now)",
        )


def _check_for_platform(deps: Deps, store: Store, body: PatchStore) -> None:
    """The credentials and options the store's platform takes, as POST /stores checks them."""
    credentials = body.credentials.model_dump(exclude_none=True) if body.credentials else None
    if credentials is None:
        credentials = deps.secrets.get(store.secret_ref)
    options = body.options or store.options
    try:
        CreateStore.model_validate(
            {
                "name": body.name or store.name,
                "platform": store.platform,
                "api_url": store.api_url,
                "credentials": credentials,
                "options": options.model_dump(exclude_unset=body.options is not None),
            }
        )
    except ValidationError as exc:
        field, message = describe_error(exc.errors()[0])
        if not field or field == "body":
            field = "credentials" if body.credentials is not None else "options"
        raise InvalidRequest(field, message) from exc
