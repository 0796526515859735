"""Writing prices, costs, stock and content: one batch of plan items at a time.

* ``variants_bulk``: ``productVariantsBulkUpdate`` for one product, ``allowPartialUpdates``;
  userErrors name ``["variants", "<i>", ...]``, so each bad variant fails alone. A weight goes
  as ``inventoryItem.measurement.weight`` (value and the shop's unit); an image as the
  mutation's ``media`` (one ``IMAGE`` per URL, which Shopify fetches and hosts) plus the
  variant's ``mediaSrc`` naming it; an error on ``["media", "<j>", ...]`` fails the variants
  that named that URL.
* ``product_update``: ``productUpdate`` of one product's ``title``, ``descriptionHtml``,
  ``vendor`` and ``status`` (name, description, brand, visible: ``ACTIVE`` shown, ``DRAFT``
  hidden from every sales channel but kept with its publications); its userErrors are that
  item's result.
* ``inventory_set``: ``inventorySetQuantities`` (``available``, reason ``correction``) with
  ``compareQuantity`` = the stock we last read, so a sale in between is not overwritten. The
  mutation is all-or-nothing, so items with userErrors are dropped and the rest re-sent; a
  stale compare is re-read: already at the target (e.g. our own earlier attempt whose answer
  was lost) counts as done, anything else is reported, never overwritten.
* ``variants_bulk_operation``: the same variant updates as a bulk mutation (one JSONL line of
  variables per product, ``bulk``); per-line userErrors are mapped back to items.
* ``product_update_bulk_operation``: the same product updates as a bulk mutation of
  ``productUpdate`` (one JSONL line per product); a line's userErrors are that item's result.

An item the shop no longer has (deleted since the catalog was read) is reported with
``item_gone``, from the userError codes of the schema's enums, never from message text:
``PRODUCT_DOES_NOT_EXIST`` (every item of that product's call: the product is gone) and
``PRODUCT_VARIANT_DOES_NOT_EXIST`` (that variant) of productVariantsBulkUpdate, in a direct
call or a bulk mutation's result line alike; ``INVALID_INVENTORY_ITEM`` of
inventorySetQuantities (the variant: its inventory item went with it). productUpdate's
userErrors carry no code (plain ``UserError``), so the products of refused updates are
looked up with one ``nodes(ids:)`` query: a null node is a product that is gone.
"""

from __future__ import annotations

from typing import Any, Final, Protocol
from urllib.parse import quote

from feedsync.core.ports import GoneScope, ItemResult, PlanItem, item_gone, item_stale
from feedsync.platforms.shopify.bulk import BulkOperations
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.queries import (
    INVENTORY_LEVELS_QUERY,
    INVENTORY_SET,
    PRODUCT_UPDATE,
    PRODUCTS_EXIST_QUERY,
    VARIANTS_BULK_UPDATE,
    gid,
)
from feedsync.platforms.shopify.responses import user_error_text
from feedsync.platforms.shopify.shop import ShopFacts
from feedsync.platforms.shopify.values import from_cents, weight_input

JSON = dict[str, Any]

# Canonical product field -> its ProductUpdateInput field.
_PRODUCT_INPUT: Final = {
    "name": "title", "description": "descriptionHtml", "brand": "vendor", "visible": "status",
}  # fmt: skip
# userError codes (the schema's enums) saying what a write named does not exist.
# ProductVariantsBulkUpdateUserErrorCode:
_PRODUCT_MISSING: Final = frozenset({"PRODUCT_DOES_NOT_EXIST"})
_VARIANT_MISSING: Final = frozenset({"PRODUCT_VARIANT_DOES_NOT_EXIST"})
# InventorySetQuantitiesUserErrorCode ("The specified inventory item could not be found."):
_INVENTORY_ITEM_MISSING: Final = frozenset({"INVALID_INVENTORY_ITEM"})
_MAX_NODES: Final = 250  # ids per nodes(ids:) query


class WriteSettings(Protocol):
    """The connector's tuning the writer reads (when it writes: tests change it)."""

    max_bulk_lines_variants: int
    stock_reason: str


class CatalogWriter:
    def __init__(
        self,
        client: AdminClient,
        shop: ShopFacts,
        bulk: BulkOperations,
        settings: WriteSettings,
    ) -> None:
        self._client = client
        self._shop = shop
        self._bulk = bulk
        self._settings = settings

    def apply(
        self, op: str, items: list[PlanItem], batch_key: str, location: str | None
    ) -> list[ItemResult]:
        """One batch of one operation (within its size limit); a result per item, in order."""
        if op == "variants_bulk":
            return self._variants_bulk(items)
        if op == "inventory_set":
            return self._inventory_set(items, batch_key, location)
        if op == "variants_bulk_operation":
            return self._variants_bulk_operation(items, batch_key)
        if op == "product_update":
            return self._product_updates(items)
        if op == "product_update_bulk_operation":
            return self._product_update_bulk_operation(items, batch_key)
        raise ValueError(f"shopify has no write operation {op!r}")

    # -- variants ---------------------------------------------------------------------------
    def _variant_inputs(self, items: list[PlanItem]) -> list[JSON | str]:
        """Each item's ProductVariantsBulkInput, or why it cannot be sent; the shop's weight
        unit is looked up (once) only when a weight is written."""
        weights = any("weight" in item.changes for item in items)
        unit = self._shop.weight_unit() if weights else None
        return [_variant_input(item, unit) for item in items]

    def _variants_bulk(self, items: list[PlanItem]) -> list[ItemResult]:
        products = {int(item.product_id) for item in items}
        if len(products) != 1:
            raise ValueError(f"variants_bulk takes one product's items, got {sorted(products)}")
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        sent: list[int] = []
        variants: list[JSON] = []
        for i, payload in enumerate(self._variant_inputs(items)):
            if isinstance(payload, str):
                results[i] = ItemResult(False, payload)
            else:
                sent.append(i)
                variants.append(payload)
        if not variants:
            return results
        variables = _product_variables(products.pop(), variants)
        data = self._client.graphql(
            VARIANTS_BULK_UPDATE, variables, "FeedsyncVariantsBulkUpdate", 10
        )
        errors = (data.get("productVariantsBulkUpdate") or {}).get("userErrors") or []
        _map_variant_errors(errors, sent, variables, results)
        return results

    def _variants_bulk_operation(self, items: list[PlanItem], batch_key: str) -> list[ItemResult]:
        per_line = self._settings.max_bulk_lines_variants
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        by_product: dict[int, list[int]] = {}
        inputs: dict[int, JSON] = {}
        for i, (item, payload) in enumerate(zip(items, self._variant_inputs(items), strict=True)):
            if isinstance(payload, str):
                results[i] = ItemResult(False, payload)
                continue
            inputs[i] = payload
            by_product.setdefault(int(item.product_id), []).append(i)
        lines: list[list[int]] = []  # the items each line carries
        line_variables: list[JSON] = []
        for pid, indexes in by_product.items():
            for start in range(0, len(indexes), per_line):
                part = indexes[start : start + per_line]
                lines.append(part)
                line_variables.append(_product_variables(pid, [inputs[i] for i in part]))
        if not lines:
            return results
        answers = self._bulk.run_mutation(
            VARIANTS_BULK_UPDATE, "productVariantsBulkUpdate", line_variables, batch_key
        )
        for sent, variables, answer in zip(lines, line_variables, answers, strict=True):
            if isinstance(answer, str):
                for i in sent:
                    results[i] = ItemResult(False, answer)
            else:
                errors = answer.get("userErrors") or []
                _map_variant_errors(errors, sent, variables, results)
        return results

    # -- product fields ---------------------------------------------------------------------
    def _product_updates(self, items: list[PlanItem]) -> list[ItemResult]:
        """Each product's title, descriptionHtml and vendor (the fields its item changes),
        one productUpdate per item; its userErrors are that item's result."""
        results: list[ItemResult] = []
        refused: list[int] = []
        for i, item in enumerate(items):
            product = _product_input(item)
            if isinstance(product, str):
                results.append(ItemResult(False, product))
                continue
            data = self._client.graphql(
                PRODUCT_UPDATE, {"product": product}, "FeedsyncProductUpdate", 10
            )
            payload = data.get("productUpdate")
            results.append(_product_result(payload))
            if _has_user_errors(payload):
                refused.append(i)
        self._mark_gone_products(items, results, refused)
        return results

    def _product_update_bulk_operation(
        self, items: list[PlanItem], batch_key: str
    ) -> list[ItemResult]:
        """The same product updates as one bulk mutation: one line (``{"product": ...}``) per
        item; a line's userErrors (or its missing result) are that item's result."""
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        sent: list[int] = []
        lines: list[JSON] = []
        for i, item in enumerate(items):
            product = _product_input(item)
            if isinstance(product, str):
                results[i] = ItemResult(False, product)
            else:
                sent.append(i)
                lines.append({"product": product})
        if lines:
            answers = self._bulk.run_mutation(PRODUCT_UPDATE, "productUpdate", lines, batch_key)
            refused: list[int] = []
            for i, answer in zip(sent, answers, strict=True):
                results[i] = _product_result(answer)
                if _has_user_errors(answer):
                    refused.append(i)
            self._mark_gone_products(items, results, refused)
        return results

    def _mark_gone_products(
        self, items: list[PlanItem], results: list[ItemResult], refused: list[int]
    ) -> None:
        """productUpdate's userErrors are plain ``UserError`` (no ``code`` in the schema), so
        a refused update does not say whether its product still exists: ask, with one
        ``nodes(ids:)`` query for the products of the ``refused`` items (those answered
        with userErrors). A null node is a product the shop no longer has."""
        for start in range(0, len(refused), _MAX_NODES):
            part = refused[start : start + _MAX_NODES]
            ids = [gid("Product", int(items[i].product_id)) for i in part]
            data = self._client.graphql(
                PRODUCTS_EXIST_QUERY, {"ids": ids}, "FeedsyncProductsExist", len(ids)
            )
            nodes = data.get("nodes")
            if not isinstance(nodes, list) or len(nodes) != len(ids):
                continue  # no answer to go by: the refusals stand as they are
            for i, node in zip(part, nodes, strict=True):
                if node is None:
                    results[i] = item_gone("product", results[i].message)

    # -- stock ------------------------------------------------------------------------------
    def _inventory_set(
        self, items: list[PlanItem], batch_key: str, location: str | None
    ) -> list[ItemResult]:
        location_id = self._shop.location_gid(location)
        results: list[ItemResult] = [ItemResult(True, "")] * len(items)
        compared: list[int] = []
        blind: list[int] = []  # never read from the store: nothing to compare with
        for i, item in enumerate(items):
            change = item.changes.get("stock")
            if change is None or change[1] is None:
                results[i] = ItemResult(False, "no stock quantity to set")
            elif not item.ref:
                results[i] = ItemResult(
                    False, "the variant's inventory item is unknown; re-import the catalog"
                )
            elif change[0] is None:
                blind.append(i)
            else:
                compared.append(i)
        uri = f"gid://feedsync/SyncBatch/{quote(batch_key, safe='')}"
        for group, ignore in ((compared, False), (blind, True)):
            if group:
                self._set_quantities(items, group, ignore, location_id, uri, results)
        return results

    def _set_quantities(
        self,
        items: list[PlanItem],
        indexes: list[int],
        ignore_compare: bool,
        location_id: str,
        uri: str,
        results: list[ItemResult],
    ) -> None:
        stale: list[int] = []
        pending = list(indexes)
        while pending:
            quantities = []
            for i in pending:
                old, new = items[i].changes["stock"]
                entry: JSON = {
                    "inventoryItemId": gid("InventoryItem", _ref(items[i])),
                    "locationId": location_id,
                    "quantity": int(new),
                }
                if not ignore_compare:
                    entry["compareQuantity"] = int(old)
                quantities.append(entry)
            variables = {
                "input": {
                    "name": "available",
                    "reason": self._settings.stock_reason,
                    "referenceDocumentUri": uri,
                    "ignoreCompareQuantity": ignore_compare,
                    "quantities": quantities,
                }
            }
            data = self._client.graphql(INVENTORY_SET, variables, "FeedsyncInventorySet", 10)
            errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
            if not errors:
                break
            bad: dict[int, list[str]] = {}
            general: list[str] = []
            missing: set[int] = set()  # items whose inventory item no longer exists
            for error in errors:
                path = error.get("field") or []
                if len(path) >= 3 and path[1] == "quantities" and str(path[2]).isdigit():
                    position = int(path[2])
                    if position < len(pending):
                        if error.get("code") == "COMPARE_QUANTITY_STALE":
                            stale.append(pending[position])
                        if error.get("code") in _INVENTORY_ITEM_MISSING:
                            missing.add(pending[position])
                        bad.setdefault(pending[position], []).append(user_error_text(error))
                        continue
                general.append(user_error_text(error))
            if general or not bad:  # nothing we can drop: the whole request is refused
                for i in pending:
                    results[i] = _stock_result(general + bad.get(i, []), i in missing)
                return
            for i, messages in bad.items():
                results[i] = _stock_result(messages, i in missing)
            pending = [i for i in pending if i not in bad]  # all-or-nothing: send the rest again
        if stale:
            self._recheck_stale(items, stale, location_id, results)

    def _recheck_stale(
        self, items: list[PlanItem], stale: list[int], location_id: str, results: list[ItemResult]
    ) -> None:
        """A stale compare is fine when the store already holds the target quantity."""
        ids = [gid("InventoryItem", _ref(items[i])) for i in stale]
        data = self._client.graphql(
            INVENTORY_LEVELS_QUERY,
            {"ids": ids, "locationId": location_id},
            "FeedsyncInventoryLevels",
            3 * len(ids),
        )
        current: dict[str, int | None] = {}
        for node in data.get("nodes") or []:
            if not node or "id" not in node:
                continue
            level = node.get("inventoryLevel") or {}
            found = [
                q["quantity"] for q in level.get("quantities") or [] if q["name"] == "available"
            ]
            current[node["id"]] = found[0] if found else None
        for i, item_gid in zip(stale, ids, strict=True):
            old, new = items[i].changes["stock"]
            now = current.get(item_gid)
            if now is not None and now == int(new):
                results[i] = ItemResult(True, "")
            else:
                results[i] = item_stale(
                    f"stock changed in the store since it was read (expected {old}, found "
                    f"{'unknown' if now is None else now}); not overwritten",
                )


def _ref(item: PlanItem) -> str:
    """The item's inventory item id (``_inventory_set`` sends only items that have one)."""
    return str(item.ref)


def _variant_input(item: PlanItem, weight_unit: str | None = None) -> JSON | str:
    """The ProductVariantsBulkInput for an item, or why it cannot be sent."""
    payload: JSON = {"id": gid("ProductVariant", int(item.variant_id))}
    for name, change in item.changes.items():
        new = change[1]
        if name == "price":
            if new is None:
                return "Shopify requires a price: it cannot be emptied"
            payload["price"] = from_cents(int(new))
        elif name == "retail_price":
            payload["compareAtPrice"] = None if new is None else from_cents(int(new))
        elif name == "cost_price":
            cost = None if new is None else from_cents(int(new))
            payload.setdefault("inventoryItem", {})["cost"] = cost
        elif name == "weight":
            weight = None if weight_unit is None else weight_input(new, weight_unit)
            if weight is None:
                return f"{new!r} is not a weight Shopify takes (a number >= 0)"
            payload.setdefault("inventoryItem", {})["measurement"] = {"weight": weight}
        elif name == "image_url":
            if not new:
                return "an image cannot be removed by a sync"
            payload["mediaSrc"] = [str(new)]
        else:
            raise ValueError(f"variant field {name!r} is not writable with variants_bulk")
    return payload


def _product_variables(pid: int, variants: list[JSON]) -> JSON:
    """productVariantsBulkUpdate's variables for one product: the variants and, for the
    images they name, one new IMAGE media per URL (Shopify fetches and hosts it, then
    ``mediaSrc`` ties it to the variants)."""
    variables: JSON = {"productId": gid("Product", pid), "variants": variants}
    urls = list(dict.fromkeys(url for v in variants for url in v.get("mediaSrc") or ()))
    if urls:
        variables["media"] = [{"originalSource": u, "mediaContentType": "IMAGE"} for u in urls]
    return variables


def _map_variant_errors(
    errors: list[JSON], sent: list[int], variables: JSON, results: list[ItemResult]
) -> None:
    """userErrors (``field: ["variants", "3", "price"]``) onto the items sent (``sent[k]``
    sent as ``variables["variants"][k]``); a ``["media", "<j>", ...]`` error onto the
    items whose ``mediaSrc`` names that media's URL."""
    per_item: dict[int, list[str]] = {}
    general: list[str] = []
    gone: dict[int, GoneScope] = {}
    product_gone = False
    variants: list[JSON] = variables.get("variants") or []
    media: list[JSON] = variables.get("media") or []
    for error in errors:
        path = error.get("field") or []
        message = user_error_text(error)
        code = error.get("code")
        # The call is for one product: if it does not exist, neither do its variants.
        product_gone = product_gone or code in _PRODUCT_MISSING
        if len(path) >= 2 and str(path[1]).isdigit():
            position = int(path[1])
            if path[0] == "variants" and position < len(sent):
                per_item.setdefault(sent[position], []).append(message)
                if code in _VARIANT_MISSING:
                    gone[sent[position]] = "variant"
                continue
            if path[0] == "media" and position < len(media):
                url = media[position].get("originalSource")
                text = "image: " + user_error_text({**error, "field": None})
                for k, variant in enumerate(variants):
                    if url in (variant.get("mediaSrc") or ()):
                        per_item.setdefault(sent[k], []).append(text)
                continue
        general.append(message)
    for i in sent:
        messages = per_item.get(i, []) + general
        if not messages:
            continue
        scope: GoneScope | None = "product" if product_gone else gone.get(i)
        text = "; ".join(messages)
        results[i] = item_gone(scope, text) if scope else ItemResult(False, text)


def _product_input(item: PlanItem) -> JSON | str:
    """The ProductUpdateInput for an item (the fields it changes: title, descriptionHtml,
    vendor, status), or why it cannot be sent."""
    product: JSON = {"id": gid("Product", int(item.product_id))}
    for name, change in item.changes.items():
        key = _PRODUCT_INPUT.get(name)
        if key is None:
            raise ValueError(f"product field {name!r} is not writable with product_update")
        new = change[1]
        if name == "visible":
            if not isinstance(new, bool):
                return "visible is shown (true) or hidden (false)"
            product[key] = "ACTIVE" if new else "DRAFT"
            continue
        if name == "name" and not new:
            return "Shopify requires a product title: it cannot be emptied"
        product[key] = "" if new is None else str(new)
    return product


def _product_result(payload: JSON | str | None) -> ItemResult:
    """A productUpdate payload (or why there is none) as the item's result."""
    if isinstance(payload, str):
        return ItemResult(False, payload)
    if payload is None:
        return ItemResult(False, "Shopify answered no result for the product update")
    errors = payload.get("userErrors") or []
    if errors:
        return ItemResult(False, "; ".join(user_error_text(e) for e in errors))
    return ItemResult(True, "")


def _has_user_errors(payload: JSON | str | None) -> bool:
    """Did a mutation's payload come back with userErrors (the shop refused the input)?"""
    return isinstance(payload, dict) and bool(payload.get("userErrors"))


def _stock_result(messages: list[str], missing: bool) -> ItemResult:
    """An inventorySetQuantities item's failure; ``missing``: its inventory item is gone
    (its variant was deleted: Shopify deletes a variant's inventory item with it)."""
    text = "; ".join(messages)
    return item_gone("variant", text) if missing else ItemResult(False, text)
