"""The WooCommerce double's ``create`` and ``delete`` entries of the batch endpoints (apart from
``woo_double.py``, which holds the store, the reads and the updates).

``POST /products/batch`` ``create``: products as ``POST /products`` takes them: ``type``
(``simple`` by default; ``simple``, ``grouped``, ``external`` or ``variable``), ``name``,
``status`` (``publish`` by default; ``private`` kept), ``sku``, ``global_unique_id``,
prices, stock, ``description``, ``weight``, ``images``, ``categories`` (``[{"id"}]``) and
``attributes`` (``[{"name", "options": [...], "variation": true, "visible", "position"}]``).
``POST /products/{id}/variations/batch`` ``create``: variations with ``attributes``
(``[{"name", "option"}]``) and the same value fields. Each entry answers the created object or
``{"id": 0, "error": {...}}``; a failing entry creates nothing.

As WooCommerce refuses them: a SKU another product or variation has, in any case as MySQL's
collation compares (``product_invalid_sku``, "Invalid or duplicated SKU.", ``data.resource_id``
the holder, as ``wc_product_has_unique_sku`` answers), a ``global_unique_id`` another has
(``product_invalid_global_unique_id``), a type or
status outside the schema's enum (``rest_invalid_param``), an entry with an ``id``
(``woocommerce_rest_{kind}_exists``), an image the shop cannot download (the whole entry:
``woocommerce_product_image_upload_error``, as ``set_product_images`` throwing).

Stricter than WooCommerce, on purpose (so a connector bug shows as an error): a product needs a
non-empty ``name``; a category id the shop does not have is refused
(``woocommerce_rest_term_invalid``); a variation's parent must be a ``variable`` product
(``woocommerce_rest_product_variation_invalid_parent``) and the variation must give one
``option`` for each of the parent's variation attributes, among that attribute's ``options``
(``woocommerce_rest_product_variation_invalid_attribute``; WooCommerce would store any value
and an omitted one as "any").

``delete``: ids, deleted for good as the batch endpoint does (``force``): a product goes with its
variations; each answers the object as it was, or ``woocommerce_rest_{kind}_invalid_id``
"Invalid ID." for an id the shop does not have (or another parent's variation).

WooCommerce has no limit of its own on the variations of a product; ``max_variations`` on
the double (None: no limit) stands in for a shop that sets one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from feedsync_local.woo_double import WooCommerceDouble, _Item

JSON = dict[str, Any]

PRODUCT_TYPES: Final = ("simple", "grouped", "external", "variable")


def _error(code: str, message: str, status: int = 400, **data: Any) -> JSON:
    return {
        "id": 0,
        "error": {"code": code, "message": message, "data": {"status": status, **data}},
    }


def _invalid_param(name: str, why: str) -> JSON:
    return _error("rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: why})


def _unique(double: WooCommerceDouble, attr: str, value: str) -> int | None:
    """The id of the item that already has ``value`` (None: it is free), compared
    case-insensitively as MySQL's default collation does (``mug-1`` holds ``MUG-1``)."""
    if not value:
        return None
    wanted = value.casefold()
    return next(
        (i.id for i in double._items.values() if getattr(i, attr).casefold() == wanted), None
    )


def product_attributes(raw: Any) -> list[JSON] | str:
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        return "attributes is not of type array of objects."
    out: list[JSON] = []
    for position, attribute in enumerate(raw):
        name = attribute.get("name")
        options = attribute.get("options") or []
        if not isinstance(name, str) or not name.strip():
            return f"attributes[{position}][name] is not a non-empty string."
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            return f"attributes[{position}][options] is not of type array of strings."
        out.append(
            {
                "name": name.strip(),
                "position": int(attribute.get("position", position)),
                "visible": bool(attribute.get("visible", False)),
                "variation": bool(attribute.get("variation", False)),
                "options": [o.strip() for o in options],
            }
        )
    return out


def _variation_attributes(parent: _Item, raw: Any) -> list[JSON] | str:
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        return "attributes is not of type array of objects."
    wanted = {a["name"].lower(): a for a in parent.attributes if a.get("variation")}
    given: dict[str, str] = {}
    for attribute in raw:
        name = str(attribute.get("name") or "").strip()
        option = str(attribute.get("option") or "").strip()
        own = wanted.get(name.lower())
        if own is None:
            return f"'{name}' is not a variation attribute of product {parent.id}."
        if option not in own["options"]:
            return (
                f"'{option}' is not one of the options of '{own['name']}' on product {parent.id}."
            )
        given[own["name"]] = option
    missing = [a["name"] for a in wanted.values() if a["name"] not in given]
    if missing:
        return f"No option given for {', '.join(missing)}."
    return [{"name": name, "option": option} for name, option in given.items()]


def create_one(double: WooCommerceDouble, parent_id: int | None, kind: str, obj: Any) -> JSON:
    from feedsync_local.woo_double import _Item

    if not isinstance(obj, dict):
        return _invalid_param("create", "create[] is not of type object.")
    if obj.get("id"):
        return _error(f"woocommerce_rest_{kind}_exists", f"Cannot create existing {kind}.")
    with double._lock:
        parent: _Item | None = None
        if parent_id is not None:
            parent = double._items.get(parent_id)
            if parent is None or parent.parent_id or parent.type != "variable":
                return _error(
                    "woocommerce_rest_product_variation_invalid_parent",
                    "Variation parent is not a valid variable product.",
                    404,
                )
            limit = double.max_variations
            if limit is not None and len(parent.variation_ids) >= limit:
                return _error(
                    "woocommerce_rest_product_variation_limit",
                    f"A product may have at most {limit} variations.",
                )
        ptype = "variation" if parent is not None else obj.get("type", "simple")
        if parent is None and ptype not in PRODUCT_TYPES:
            return _invalid_param("type", f"type is not one of {', '.join(PRODUCT_TYPES)}.")
        name = parent.name if parent is not None else obj.get("name")
        if not isinstance(name, str) or not name.strip():
            return _invalid_param("name", "name is not a non-empty string.")
        attributes = (
            _variation_attributes(parent, obj.get("attributes") or [])
            if parent is not None
            else product_attributes(obj.get("attributes") or [])
        )
        if isinstance(attributes, str):
            if parent is not None:
                return _error("woocommerce_rest_product_variation_invalid_attribute", attributes)
            return _invalid_param("attributes", attributes)
        categories: list[int] = []
        for entry in obj.get("categories") or [] if parent is None else []:
            term = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(term, int) or term not in double._categories:
                return _error("woocommerce_rest_term_invalid", "Term does not exist.")
            categories.append(term)
        sku = str(obj.get("sku") or "").strip()
        holder = _unique(double, "sku", sku)
        if holder is not None:
            return _error(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                resource_id=holder,
                unique_sku=sku,
            )
        gtin = str(obj.get("global_unique_id") or "").strip()
        if _unique(double, "global_unique_id", gtin) is not None:
            return _error(
                "product_invalid_global_unique_id",
                "Invalid or duplicated GTIN, UPC, EAN or ISBN.",
            )
        now = double._clock()
        item = _Item(
            id=0,
            parent_id=parent_id or 0,
            type=str(ptype),
            name=name.strip(),
            sku=sku,
            global_unique_id=gtin,
            attributes=attributes,
            category_ids=categories,
            date_created_gmt=now,
            date_modified_gmt=now,
        )
        error = double._write_fields(item, obj, parent_id, kind)
        if error is not None:
            return {"id": 0, "error": error}
        double._next_id += 1
        item.id = double._next_id
        double._items[item.id] = item
        if parent is not None:
            parent.variation_ids.append(item.id)
        return double._item_json(item)


def delete_one(double: WooCommerceDouble, parent_id: int | None, kind: str, raw: Any) -> JSON:
    invalid = {
        "id": raw,
        "error": {
            "code": f"woocommerce_rest_{kind}_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    try:
        item_id = int(str(raw))
    except ValueError:
        return invalid
    with double._lock:
        item = double._items.get(item_id)
        if item is None or (item.parent_id or None) != parent_id:
            return invalid
        before = double._item_json(item)
        double.delete(item_id)
        return before
