"""Create mode on WooCommerce: new products from the feed, and their deletion on revert.

One ``create`` batch (at most 100 plan items, one per product) is:

* one ``POST /products/batch``: a ``create`` object per new product (``simple`` for a single
  item; ``variable`` for a group, with one ``attributes`` entry per option, ``variation:
  true``, its values as ``options``, and the group value as the product's own SKU unless one
  of its variants has that SKU) and, for
  a group the shop already has, an ``update`` of its attributes with the new values added
  (its attributes read first, one ``GET /products?include=``), so the variations' options
  are among the product's;
* per variable product, ``POST /products/{id}/variations/batch`` ``create`` (100 at most per
  request), each variation's ``attributes`` ``[{"name", "option"}]``.

New products are ``private`` unless the profile's ``create.visible`` (then ``publish``); the
profile's category id goes in ``categories``. Brands are not written (WooCommerce keeps them as
terms the shop manages). An image the shop cannot download fails the whole object, so such an
object is sent once more without it and the item says so.

Sent twice (a lost answer the transport retries), nothing is made twice: WooCommerce refuses
a SKU another item has (``product_invalid_sku``) and names that item (``data.resource_id``);
on a POST the transport sent more than once, a holder with exactly our SKU (where this create
would have put it) is the earlier attempt's and is taken as made. Any other refusal (a first
attempt, or a SKU held under another case: WooCommerce's uniqueness is case-insensitive) fails
the item, "SKU already in the store (product N)": the merchant's product is never adopted, so
a revert never deletes it. ``find_created`` looks the SKUs
up (``GET /products?sku=``, ``GET /products/{id}/variations?sku=``) for the update step; a
group made without a SKU of its own (its value is a variant's SKU) is found through its
variations (``GET /variations?sku=`` and their ``parent_id``, else the newest variable products
of its name).

``delete`` (a revert) removes products (``products/batch`` ``delete``, for good, with their
variations) and added variations (their product's ``variations/batch``).
"""

from __future__ import annotations

from typing import Any, Final

from feedsync.domain.writes import Created, ItemResult, PlanItem, item_created, item_gone
from feedsync.platforms.woocommerce.client import ShopClient
from feedsync.platforms.woocommerce.endpoints import (
    HIDDEN,
    PRODUCTS,
    PRODUCTS_BATCH,
    PUBLISHED,
    STORE_VARIATIONS,
    money_text,
    product_variations,
    variations_batch,
    weight_text,
)
from feedsync.platforms.woocommerce.responses import (
    Expect,
    error_text,
    item_error_text,
    json_dict,
    json_list,
)

JSON = dict[str, Any]

BATCH_LIMIT: Final = 100  # objects per batch request (woocommerce_rest_batch_items_limit)
_BATCH: Final = Expect(refusals=frozenset({400, 404, 413}))
_OPTIONAL_ROUTE: Final = Expect(optional_route=True)  # GET /variations: WooCommerce 10.3+
_DUPLICATE_SKU: Final = "product_invalid_sku"
_IMAGE_ERRORS: Final = frozenset(
    {"woocommerce_product_image_upload_error", "woocommerce_variation_image_upload_error"}
)
_GONE: Final = frozenset(
    {"woocommerce_rest_product_invalid_id", "woocommerce_rest_product_variation_invalid_id"}
)


def _values(fields: JSON, *, variation: bool) -> JSON:
    """A new item's own values (a simple product's or a variation's) as WooCommerce takes them."""
    out: JSON = {}
    if fields.get("price") is not None:
        out["regular_price"] = money_text(int(fields["price"]))
    if fields.get("sale_price") is not None:
        out["sale_price"] = money_text(int(fields["sale_price"]))
    if fields.get("stock") is not None:
        out["manage_stock"] = True
        out["stock_quantity"] = int(fields["stock"])
    if fields.get("weight") is not None:
        out["weight"] = weight_text(fields["weight"])
    if fields.get("barcode"):
        out["global_unique_id"] = str(fields["barcode"])
    image = str(fields.get("image_url") or "").strip()
    if image:
        if variation:
            out["image"] = {"src": image}
        else:
            out["images"] = [{"src": image}]
    return out


def _option_values(new: JSON) -> dict[str, list[str]]:
    """Each option's values in the order the variants first name them."""
    out: dict[str, list[str]] = {name: [] for name in new["option_names"]}
    for variant in new["variants"]:
        for name, value in variant["options"].items():
            if value not in out.setdefault(name, []):
                out[name].append(value)
    return out


def _product_object(item: PlanItem) -> JSON:
    new: JSON = dict(item.new or {})
    fields = new["fields"]
    body: JSON = {
        "name": str(fields.get("name") or item.key),
        "status": PUBLISHED if new.get("visible") else HIDDEN,
    }
    if fields.get("description"):
        body["description"] = str(fields["description"])
    if new.get("category") is not None:
        body["categories"] = [{"id": int(str(new["category"]))}]
    if new.get("group") is None:
        [variant] = new["variants"]
        body.update(
            type="simple", sku=variant["key"], **_values(variant["fields"], variation=False)
        )
        return body
    body["type"] = "variable"
    if str(item.key) not in {v["key"] for v in new["variants"]}:  # else a variation's SKU
        body["sku"] = str(item.key)
    body["attributes"] = [
        {"name": name, "options": values, "variation": True, "visible": True, "position": i}
        for i, (name, values) in enumerate(_option_values(new).items())
    ]
    return body


def _merged_attributes(current: list[JSON], new: JSON) -> list[JSON]:
    """A product's attributes with the new variants' option values added."""
    out = [dict(a) for a in current]
    for name, values in _option_values(new).items():
        own = next((a for a in out if str(a.get("name", "")).lower() == name.lower()), None)
        if own is None:
            out.append({"name": name, "options": values, "variation": True, "visible": True})
            continue
        own["options"] = list(own.get("options") or []) + [
            v for v in values if v not in (own.get("options") or [])
        ]
        own["variation"] = True
    return out


def _variation_object(variant: JSON) -> JSON:
    return {
        "sku": variant["key"],
        "attributes": [{"name": k, "option": v} for k, v in variant["options"].items()],
        **_values(variant["fields"], variation=True),
    }


def _holder(error: Any) -> int | None:
    """The id of the item that already has the SKU a create sent (a duplicate-SKU refusal)."""
    if not isinstance(error, dict) or error.get("code") != _DUPLICATE_SKU:
        return None
    data = error.get("data")
    found = data.get("resource_id") if isinstance(data, dict) else None
    return found if isinstance(found, int) and found > 0 else None


def _already_there(holder: int) -> str:
    return f"SKU already in the store (product {holder})"


class ProductCreator:
    """Creates and deletes through the batch endpoints; one result per plan item."""

    def __init__(self, client: ShopClient) -> None:
        self._client = client

    # -- create ---------------------------------------------------------------------------
    def create(self, items: list[PlanItem]) -> list[ItemResult]:
        if len(items) > BATCH_LIMIT:
            raise ValueError(f"create takes at most {BATCH_LIMIT} items, got {len(items)}")
        products: list[int | None] = [int(item.product_id) or None for item in items]
        notes: list[list[str]] = [[] for _ in items]
        failed: dict[int, str] = {}
        new = [i for i, item in enumerate(items) if not item.product_id]
        existing = [i for i, item in enumerate(items) if item.product_id]
        updates: list[JSON] = []
        if existing:
            current = self._attributes({int(items[i].product_id) for i in existing})
            for i in existing:
                pid = int(items[i].product_id)
                merged = _merged_attributes(current.get(pid, []), dict(items[i].new or {}))
                updates.append({"id": pid, "attributes": merged})
        objects = [_product_object(items[i]) for i in new]
        answers = self._send(PRODUCTS_BATCH, objects, updates)
        for i, (made, message) in zip(new, answers, strict=True):
            if made is None:
                failed[i] = message
            else:
                products[i] = made
                if message:
                    notes[i].append(message)
        results: list[ItemResult] = []
        for i, item in enumerate(items):
            new_product: JSON = dict(item.new or {})
            made = products[i]
            if made is None:
                results.append(ItemResult(False, failed.get(i, "not created")))
                continue
            if new_product.get("group") is None:
                [variant] = new_product["variants"]
                results.append(item_created(made, {variant["key"]: made}, "; ".join(notes[i])))
                continue
            made_variants = self._create_variations(made, new_product["variants"], notes[i])
            results.append(item_created(made, made_variants, "; ".join(notes[i])))
        return results

    def _attributes(self, product_ids: set[int]) -> dict[int, list[JSON]]:
        ids = sorted(product_ids)
        params = {
            "include": ",".join(map(str, ids)),
            "per_page": BATCH_LIMIT,
            "_fields": "id,attributes",
        }
        reply = self._client.get(PRODUCTS, params)
        rows = json_list(
            reply.body, reply.response.status_code, self._client.where("GET", PRODUCTS)
        )
        return {int(row["id"]): list(row.get("attributes") or []) for row in rows}

    def _create_variations(
        self, product_id: int, variants: list[JSON], notes: list[str]
    ) -> dict[str, int]:
        made: dict[str, int] = {}
        path = variations_batch(product_id)
        for start in range(0, len(variants), BATCH_LIMIT):
            chunk = variants[start : start + BATCH_LIMIT]
            answers = self._send(path, [_variation_object(v) for v in chunk], [], product_id)
            for variant, (variation_id, message) in zip(chunk, answers, strict=True):
                if variation_id is None:
                    notes.append(f"variant {variant['key']}: {message}")
                else:
                    made[variant["key"]] = variation_id
                    if message:
                        notes.append(f"variant {variant['key']}: {message}")
        return made

    def _send(
        self, path: str, creates: list[JSON], updates: list[JSON], parent: int | None = None
    ) -> list[tuple[int | None, str]]:
        """POST ``creates`` (and ``updates``) to a batch endpoint (``parent``: the product of a
        variations batch): per create, the id made (or adopted) and a note, or None and why
        not. Objects the shop refused for their image alone are sent again without it."""
        if not creates and not updates:
            return []
        body: JSON = {}
        if creates:
            body["create"] = creates
        if updates:
            body["update"] = updates
        reply = self._client.post(path, body, _BATCH)
        status = reply.response.status_code
        if reply.kind == "refused":
            reason = f"HTTP {status}: {error_text(reply.response, reply.body)}"
            return [(None, reason)] * len(creates)
        answer = json_dict(reply.body, status, self._client.where("POST", path))
        # Only a POST the transport had to send again may be refused for what its own
        # earlier attempt made; a first attempt refused a SKU someone else's item holds.
        resent = reply.attempts > 1
        for entry in answer.get("update") or []:
            error = entry.get("error") if isinstance(entry, dict) else None
            if error:  # the product's attributes: its new variations may then be refused
                reason = item_error_text(error)
                return [(None, f"its product's options could not be extended: {reason}")] * len(
                    creates
                )
        entries = answer.get("create") or []
        out: list[tuple[int | None, str]] = []
        resend: list[int] = []
        for k in range(len(creates)):
            entry = entries[k] if k < len(entries) and isinstance(entries[k], dict) else {}
            error = entry.get("error")
            if not entry:
                out.append((None, "WooCommerce's batch answer did not mention this item"))
            elif not error:
                out.append((int(entry["id"]), ""))
            elif (holder := _holder(error)) is not None:
                ours = resent and self._holds_exactly(holder, str(creates[k].get("sku")), parent)
                out.append((holder, "") if ours else (None, _already_there(holder)))
            elif isinstance(error, dict) and error.get("code") in _IMAGE_ERRORS:
                out.append((None, item_error_text(error)))
                resend.append(k)
            else:
                out.append((None, item_error_text(error)))
        if resend:
            bare = [
                {k: v for k, v in creates[k].items() if k not in ("image", "images")}
                for k in resend
            ]
            again = self._send(path, bare, [], parent)
            for k, (made, message) in zip(resend, again, strict=True):
                image_error = out[k][1]
                if made is not None:
                    out[k] = (made, f"created without its image ({image_error})")
                else:
                    out[k] = (None, f"{image_error}; without the image: {message}")
        return out

    def _holds_exactly(self, holder: int, sku: str, parent: int | None) -> bool:
        """Whether ``holder`` is where this create would have put ``sku``: a product (a
        variation of ``parent``) with exactly that SKU. WooCommerce's SKU uniqueness is
        case-insensitive (MySQL's collation), so a merchant's ``mug-1`` refuses ``MUG-1``."""
        if not sku or holder == parent:
            return False
        path = PRODUCTS if parent is None else product_variations(parent)
        return self._skus(path, [sku]).get(sku) == holder

    # -- find (before a create batch is sent again) ---------------------------------------------
    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        keys: list[str] = []
        for item in items:
            new: JSON = dict(item.new or {})
            if item.product_id:
                continue
            keys.append(
                str(item.key) if new.get("group") is not None else new["variants"][0]["key"]
            )
        by_sku = self._skus(PRODUCTS, keys)
        out: list[Created | None] = []
        for item in items:
            new = dict(item.new or {})
            if new.get("group") is None and not item.product_id:
                sku = new["variants"][0]["key"]
                pid = by_sku.get(sku)
                out.append(None if pid is None else Created(pid, {sku: pid}))
                continue
            wanted = [v["key"] for v in new["variants"]]
            pid = int(item.product_id) or by_sku.get(str(item.key))
            if pid is None and str(item.key) in wanted:  # made without a SKU of its own
                pid = self._parent_of(wanted, str(new["fields"].get("name") or item.key))
            if pid is None:
                out.append(None)
                continue
            found = self._skus(product_variations(pid), wanted)
            if not found and item.product_id:
                out.append(None)
            else:
                out.append(Created(pid, found))
        return out

    def _parent_of(self, skus: list[str], name: str) -> int | None:
        """The product an earlier attempt made for a group whose value is one of its
        variants' SKUs (so the product has no SKU to find it by), through its variations:
        the store-wide ``GET /variations?sku=`` and their ``parent_id`` (WooCommerce
        10.3+); on an older shop, the newest variable products of that name asked for
        those SKUs."""
        query = {"sku": ",".join(skus[:BATCH_LIMIT]), "per_page": BATCH_LIMIT}
        query["_fields"] = "id,sku,parent_id"
        reply = self._client.get(STORE_VARIATIONS, query, _OPTIONAL_ROUTE)
        if reply.kind != "gone":
            where = self._client.where("GET", STORE_VARIATIONS)
            rows = json_list(reply.body, reply.response.status_code, where)
            parents = {int(r["parent_id"]) for r in rows if r.get("sku") in skus}
            parents.discard(0)
            return parents.pop() if len(parents) == 1 else None
        newest = {"type": "variable", "per_page": BATCH_LIMIT, "_fields": "id,name"}
        reply = self._client.get(PRODUCTS, newest)
        rows = json_list(
            reply.body, reply.response.status_code, self._client.where("GET", PRODUCTS)
        )
        for row in rows:
            if row.get("name") == name and self._skus(product_variations(int(row["id"])), skus):
                return int(row["id"])
        return None

    def _skus(self, path: str, skus: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(skus), BATCH_LIMIT):
            chunk = skus[start : start + BATCH_LIMIT]
            params = {"sku": ",".join(chunk), "per_page": BATCH_LIMIT, "_fields": "id,sku"}
            reply = self._client.get(path, params)
            rows = json_list(
                reply.body, reply.response.status_code, self._client.where("GET", path)
            )
            found.update({str(r["sku"]): int(r["id"]) for r in rows if r.get("sku") in chunk})
        return found

    # -- delete (a revert) ----------------------------------------------------------------------
    def delete(self, items: list[PlanItem]) -> list[ItemResult]:
        results: list[ItemResult] = [ItemResult(False, "not sent")] * len(items)
        groups: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            if item.product_level or item.variant_id == item.product_id:
                groups.setdefault(PRODUCTS_BATCH, []).append(i)
            else:
                groups.setdefault(variations_batch(int(item.product_id)), []).append(i)
        for path, indexes in groups.items():
            ids = [
                int(items[i].product_id if path == PRODUCTS_BATCH else items[i].variant_id)
                for i in indexes
            ]
            for start in range(0, len(ids), BATCH_LIMIT):
                part = indexes[start : start + BATCH_LIMIT]
                reply = self._client.post(
                    path, {"delete": ids[start : start + BATCH_LIMIT]}, _BATCH
                )
                status = reply.response.status_code
                if reply.kind == "refused":
                    reason = f"HTTP {status}: {error_text(reply.response, reply.body)}"
                    for i in part:
                        results[i] = ItemResult(False, reason)
                    continue
                answer = json_dict(reply.body, status, self._client.where("POST", path))
                entries = answer.get("delete") or []
                for k, i in enumerate(part):
                    entry = entries[k] if k < len(entries) and isinstance(entries[k], dict) else {}
                    error = entry.get("error")
                    if entry and not error:
                        results[i] = ItemResult(True, "")
                    elif isinstance(error, dict) and error.get("code") in _GONE:
                        text = item_error_text(error)
                        results[i] = item_gone(
                            "product" if path == PRODUCTS_BATCH else "variant", text
                        )
                    else:
                        results[i] = ItemResult(
                            False, item_error_text(error) if error else "not answered"
                        )
        return results
