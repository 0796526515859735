"""The tenant's stores."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from feedsync.core import api, store_edit
from feedsync.models import CreateStore, ImportCatalogBody
from feedsync.models.responses import StoreList, StoreView
from feedsync.models.stores import PatchStore
from routes import common
from routes.audit import recorded
from routes.common import answers, json_answer, no_content, tenant

router = Router()  # type: ignore[no-untyped-call]


@router.post(
    "/stores",
    responses=answers(201, "Created; its catalog import runs in the background.", StoreView,
                      body=True),
)  # fmt: skip
def create_store(body: Annotated[CreateStore, Body()]) -> Response[Any]:
    store = api.create_store(common.deps(), tenant(), body)
    recorded("store.created", store.store_id, store.name)
    return json_answer(201, api.store_view(store))


@router.get("/stores", responses=answers(200, "The tenant's stores.", StoreList))
def list_stores() -> dict[str, Any]:
    return {"stores": [api.store_view(s) for s in api.list_stores(common.deps(), tenant())]}


@router.get("/stores/<store_id>", responses=answers(200, "The store.", StoreView, 404))
def get_store(store_id: str) -> dict[str, Any]:
    return api.store_view(api.get_store(common.deps(), tenant(), store_id))


@router.patch(
    "/stores/<store_id>",
    responses=answers(
        200, "The store as changed. New `credentials` (a new secret version) or `options` are "
        "checked at once by a catalog import in the background (`options`: the whole catalog "
        "again): the store reads `setting_up` until it ends `ready`, or `import_failed` with "
        "the store's `error` and `error_code` (`store_auth_error`: the credentials are "
        "refused). Credentials or options are refused (409 `already_running`) while a profile "
        "syncs to the store: its remaining steps would use other ones; a rename is not.",
        StoreView, 404, 409, body=True,
    ),
)  # fmt: skip
def patch_store(store_id: str, body: Annotated[PatchStore, Body()]) -> dict[str, Any]:
    store = store_edit.patch_store(common.deps(), tenant(), store_id, body)
    recorded("store.changed", store_id, ", ".join(sorted(body.model_fields_set)))
    return api.store_view(store)


@router.delete(
    "/stores/<store_id>",
    responses=answers(204, "Deleted with its token and catalog index.", None, 404, 409),
)
def delete_store(store_id: str) -> Response[Any]:
    api.delete_store(common.deps(), tenant(), store_id)
    recorded("store.deleted", store_id)
    return no_content()


@router.post(
    "/stores/<store_id>/import",
    responses=answers(202, "The import started; the store as it is now.", StoreView, 404,
                      body=True),
)  # fmt: skip
def import_catalog(store_id: str, body: Annotated[ImportCatalogBody, Body()]) -> Response[Any]:
    store = api.import_store_catalog(common.deps(), tenant(), store_id, body)
    recorded("store.changed", store_id, "catalog import")
    return json_answer(202, api.store_view(store))
