"""Create mode on BigCommerce: new products with their variants, new variants of a product
the store has, deleting what a run created, and finding what an earlier attempt made.

* ``create`` -> ``POST /catalog/products``: one product per request (the platform makes
  one at a time), its variants in the same body (``variants``, each ``option_values``
  by ``option_display_name`` and ``label``: the platform makes the options); a single
  item is a product without options whose base variant carries its SKU. The product's
  ``sku`` is the item's key (a group's value), so a look-up by ``sku:in`` finds it.
  Hidden (``is_visible: false``) unless the profile says visible; the profile's category
  in ``categories``.
* an item with a ``product_id`` (its group is in the store) -> ``POST
  /catalog/products/{id}/variants``, one variant per request (the platform's only way).
* ``delete`` -> ``DELETE /catalog/products?id:in=`` (250 per request) for products a run
  created; ``DELETE /catalog/products/{id}/variants/{id}`` for variants it added. Already
  gone (404) is what a revert wants: reported done.
* ``find_created``: ``GET /catalog/products?sku:in=...&include=variants`` for new
  products, ``GET /catalog/products/{id}?include=variants`` for added variants.

An image the platform cannot download makes it refuse the whole product (422): the item is
sent once more without its images and, made, reported created with the platform's words
for the image (whatever they were: their text is never matched).

A POST is not idempotent: when the transport had to send one again (the first attempt
timed out or failed, and may have reached the store) and the platform then refuses it,
the item is looked up by its SKUs; found whole, it is the earlier attempt's product.
"""

from __future__ import annotations

from typing import Any, Final

from feedsync.core.ports import Created, ItemResult, PlanItem, item_created, item_gone
from feedsync.domain.create import NewProduct, NewVariant
from feedsync.platforms.bigcommerce.client import StoreApi
from feedsync.platforms.bigcommerce.endpoints import (
    JSON,
    PRODUCTS,
    from_cents,
    is_web_url,
    product_path,
    weight_number,
)
from feedsync.platforms.bigcommerce.responses import error_text
from feedsync.platforms.transport import Reply

# The platform refuses a product or variant it cannot make with these (404: the product a
# variant is added to is gone).
_REFUSED: Final = (400, 409, 413, 422)
MAX_DELETE: Final = 250  # DELETE /catalog/products?id:in= (products_catalog.v3.yml)
_MONEY: Final = ("price", "sale_price", "retail_price", "cost_price")


def _money_fields(fields: dict[str, Any], body: JSON) -> None:
    for name in _MONEY:
        if fields.get(name) is not None:
            body[name] = from_cents(int(fields[name]))


def _variant_body(variant: NewVariant, option_names: list[str]) -> tuple[JSON, str]:
    fields = variant["fields"]
    body: JSON = {
        "sku": variant["key"],
        "option_values": [
            {"option_display_name": name, "label": variant["options"][name]}
            for name in option_names
        ],
    }
    _money_fields(fields, body)
    if fields.get("stock") is not None:
        body["inventory_level"] = int(fields["stock"])
    if fields.get("barcode"):
        body["upc"] = str(fields["barcode"])
    if fields.get("weight") is not None:
        weight = weight_number(fields["weight"])
        if weight is None:
            return body, f"not a weight BigCommerce takes (a number >= 0): {fields['weight']!r}"
        body["weight"] = weight
    image = _image(fields)
    if image:
        body["image_url"] = image
    return body, ""


def _image(fields: dict[str, Any]) -> str:
    url = fields.get("image_url")
    return url.strip() if isinstance(url, str) and is_web_url(url.strip()) else ""


def product_body(item: PlanItem) -> tuple[JSON, str]:
    """``POST /catalog/products``'s body for a create item, and why it cannot be sent."""
    new = item.new
    assert new is not None  # a create item
    first = new["variants"][0]["fields"]
    fields = new["fields"]
    weight = weight_number(first.get("weight", 0))
    body: JSON = {
        "name": fields.get("name"),
        "type": "physical",
        "sku": item.key,
        "weight": weight if weight is not None else 0,
        "price": from_cents(first.get("price")),
        "is_visible": bool(new["visible"]),
    }
    if fields.get("description") is not None:
        body["description"] = str(fields["description"])
    if fields.get("brand"):
        body["brand_name"] = str(fields["brand"])
    category = new["category"]
    if category is not None:
        if not str(category).isdigit():
            return body, f"a BigCommerce category is a numeric category id, not {category!r}"
        body["categories"] = [int(category)]
    if new["group"] is None:  # a single item: the product is its own variant
        variant, problem = _variant_body(new["variants"][0], [])
        if problem:
            return body, problem
        variant.pop("option_values")
        image = variant.pop("image_url", None)
        body.update(variant)
        body["sku"] = item.key
        body["inventory_tracking"] = "product" if "inventory_level" in variant else "none"
        if image:
            body["images"] = [{"image_url": image, "is_thumbnail": True}]
        return body, ""
    body["inventory_tracking"] = "variant"
    body["variants"] = []
    for v in new["variants"]:
        variant, problem = _variant_body(v, new["option_names"])
        if problem:
            return body, f"row {v['row']}: {problem}"
        body["variants"].append(variant)
    return body, ""


def _without_images(body: JSON) -> JSON | None:
    """The body with no image at all, or None when it had none."""
    out = dict(body)
    had = bool(out.pop("images", None))
    variants = []
    for v in out.get("variants") or ():
        had = had or "image_url" in v
        variants.append({k: x for k, x in v.items() if k != "image_url"})
    if "variants" in out:
        out["variants"] = variants
    if "image_url" in out:
        had = True
        del out["image_url"]
    return out if had else None


def _ids(data: Any, variants: list[NewVariant]) -> dict[str, int]:
    """Our SKUs -> the variant ids the platform answered (its SKUs compare case-blind)."""
    answered = {
        str(v.get("sku", "")).lower(): int(v["id"])
        for v in (data.get("variants") or [] if isinstance(data, dict) else [])
        if isinstance(v, dict) and "id" in v
    }
    return {v["key"]: answered[v["key"].lower()] for v in variants if v["key"].lower() in answered}


class ProductCreator:
    """One store's create, delete and look-up requests for create mode."""

    def __init__(self, api: StoreApi) -> None:
        self._api = api

    # -- create ---------------------------------------------------------------------------
    def create(self, items: list[PlanItem]) -> list[ItemResult]:
        return [self._create_one(item) for item in items]

    def _create_one(self, item: PlanItem) -> ItemResult:
        if item.new is None or not item.new["variants"]:
            raise ValueError(f"create item {item.key!r} carries no product to create")
        if item.product_id:
            return self._add_variants(item.product_id, item.new)
        body, problem = product_body(item)
        if problem:
            return ItemResult(False, problem)
        reply = self._post(PRODUCTS, body)
        note = ""
        if reply.kind == "refused" and reply.attempts > 1:
            # A retried POST the platform refuses (a duplicate) may be refusing what the
            # earlier attempt made before its answer was lost: the store says which.
            [have] = self.find_created([item])
            if have is not None and len(have.variants) == len(item.new["variants"]):
                return item_created(have.product_id, have.variants)
        if reply.kind == "refused":
            bare = _without_images(body)
            if bare is None:
                return ItemResult(False, error_text(reply.response, reply.body))
            note = f"created without its images: {error_text(reply.response, reply.body)}"
            reply = self._post(PRODUCTS, bare)
            if reply.kind == "refused":
                return ItemResult(False, error_text(reply.response, reply.body))
        data = _json(reply).get("data")
        if not isinstance(data, dict) or "id" not in data:
            return ItemResult(False, "the store answered the create without the product's id")
        return item_created(int(data["id"]), _ids(data, item.new["variants"]), note)

    def _add_variants(self, product_id: int, new: NewProduct) -> ItemResult:
        path = f"{product_path(product_id)}/variants"
        made: dict[str, int] = {}
        notes: list[str] = []
        for v in new["variants"]:
            body, problem = _variant_body(v, new["option_names"])
            if problem:
                notes.append(f"{v['key']}: {problem}")
                continue
            body["product_id"] = product_id
            reply = self._api.send("POST", path, refused=_REFUSED, gone=(404,), json_body=body)
            if reply.kind == "gone":
                return item_gone("product", f"HTTP 404: product {product_id} is not in the store")
            if reply.kind == "refused" and "image_url" in body:
                notes.append(f"{v['key']} created without its image: {error_text(reply.response)}")
                body.pop("image_url")
                reply = self._api.send("POST", path, refused=_REFUSED, gone=(404,), json_body=body)
            if reply.kind == "refused":
                notes.append(f"{v['key']}: {error_text(reply.response)}")
                continue
            data = _json(reply).get("data")
            if isinstance(data, dict) and "id" in data:
                made[v["key"]] = int(data["id"])
        if not made:
            return ItemResult(False, "; ".join(notes) or "no variant was created")
        return item_created(product_id, made, "; ".join(notes))

    def _post(self, path: str, body: JSON) -> Reply:
        return self._api.send("POST", path, refused=_REFUSED, json_body=body)

    # -- delete (a revert) ----------------------------------------------------------------
    def delete(self, items: list[PlanItem]) -> list[ItemResult]:
        if len(items) > MAX_DELETE:
            raise ValueError(f"delete takes at most {MAX_DELETE} items, got {len(items)}")
        results: list[ItemResult | None] = [None] * len(items)
        # Variants first: a product deleted in the same batch takes its variants with it.
        for i, item in enumerate(items):
            if item.product_level:
                continue
            path = f"{product_path(item.product_id)}/variants/{int(item.variant_id)}"
            reply = self._api.send("DELETE", path, refused=_REFUSED, gone=(404,))
            # Already gone is what a revert wants.
            ok = reply.kind in ("ok", "gone")
            results[i] = ItemResult(ok, "" if ok else error_text(reply.response, reply.body))
        products = [i for i, item in enumerate(items) if item.product_level]
        if products:
            ids = ",".join(str(int(items[i].product_id)) for i in products)
            reply = self._api.send("DELETE", PRODUCTS, refused=_REFUSED, params={"id:in": ids})
            words = "" if reply.kind == "ok" else error_text(reply.response, reply.body)
            for i in products:
                results[i] = ItemResult(reply.kind == "ok", words)
        return [r if r is not None else ItemResult(False, "not sent") for r in results]

    # -- what an earlier attempt made ------------------------------------------------------
    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        found: list[Created | None] = [None] * len(items)
        new_products = [i for i, item in enumerate(items) if not item.product_id]
        for start in range(0, len(new_products), MAX_DELETE):
            chunk = new_products[start : start + MAX_DELETE]
            params = {
                "sku:in": ",".join(items[i].key for i in chunk),
                "include": "variants",
                "limit": MAX_DELETE,
            }
            page = self._api.get_json(PRODUCTS, params)
            by_sku = {
                str(p.get("sku", "")).lower(): p
                for p in page.get("data") or []
                if isinstance(p, dict) and "id" in p
            }
            for i in chunk:
                product = by_sku.get(items[i].key.lower())
                new = items[i].new
                if product is not None and new is not None:
                    found[i] = Created(int(product["id"]), _ids(product, new["variants"]))
        for i, item in enumerate(items):
            if not item.product_id or item.new is None:
                continue
            reply = self._api.get(
                product_path(item.product_id), {"include": "variants"}, gone=(404,)
            )
            if reply.kind == "ok":
                data = _json(reply).get("data")
                found[i] = Created(item.product_id, _ids(data, item.new["variants"]))
        return found


def _json(reply: Reply) -> JSON:
    try:
        body = reply.response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
