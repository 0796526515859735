"""The Shopify double's product creation and deletion (apart from ``shopify_double.py``, which
holds the store, the reads and the update mutations).

* ``productSet`` without an ``id`` creates a product: ``title`` (required), ``descriptionHtml``,
  ``vendor``, ``status`` (ACTIVE unless given: a ``DRAFT`` is kept), ``collections`` (ids of
  the shop's collections), ``files`` (images by ``originalSource``; a source the shop cannot
  download leaves a FAILED media and the product created), ``productOptions`` (at most 3,
  each with at least one value, names and values unique) and ``variants`` (at most 2,048;
  each names one value of every option, among that option's values, combinations unique;
  ``price``, ``compareAtPrice``, ``sku``, ``barcode``, ``inventoryQuantities`` at the shop's
  locations, ``file`` naming one of ``files``). No variants and no options: one "Default
  Title" variant. Any userError creates nothing (``ProductSetUserErrorCode``, ``field``
  under ``["input", ...]``). An ``id`` or ``upsertInput`` (an update) is not implemented.
* ``productVariantsBulkCreate`` adds variants to a product: option values by ``optionName``
  and ``name`` (a new value joins its option; an unknown option is refused), ``price``,
  ``compareAtPrice``, ``barcode``, ``inventoryItem.sku``, ``inventoryQuantities``, ``mediaSrc``
  naming one of ``media``; ``REMOVE_STANDALONE_VARIANT`` drops a product's lone default
  variant. All or nothing; more than 2,048 variants on the product is refused.
* ``productVariantsBulkDelete`` removes variants of one product (all or nothing): a variant
  of another product ``AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT``, the last one
  ``CANNOT_DELETE_LAST_VARIANT``, an unknown product ``PRODUCT_DOES_NOT_EXIST``.
* ``productDelete`` removes a product with its variants and media; an unknown id answers the
  ``["id"]`` "Product does not exist" userError.

The limits are Shopify's documented ones (``productOptions``: "maximum of 3 per product" in
``ProductSetInput``; 2,048 variants per product since API 2024-04).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphql import GraphQLError

if TYPE_CHECKING:
    from feedsync_local.shopify_double import ShopifyDouble, _Product, _Variant

JSON = dict[str, Any]

MAX_OPTIONS = 3
MAX_VARIANTS = 2048
MAX_TITLE = 255
DEFAULT_OPTION = ("Title", "Default Title")


def creation_mutations(double: ShopifyDouble) -> dict[str, Callable[..., JSON]]:
    """The mutation root's creation fields, bound to ``double``."""
    return {
        "productSet": lambda info, **args: product_set(double, **args),
        "productVariantsBulkCreate": lambda info, **args: variants_bulk_create(double, **args),
        "productDelete": lambda info, **args: product_delete(double, info, **args),
        "productVariantsBulkDelete": lambda info, **args: variants_bulk_delete(double, **args),
    }


def _error(path: list[Any], message: str, code: str | None) -> JSON:
    out: JSON = {"field": [str(p) for p in path], "message": message}
    if code is not None:
        out["code"] = code
    return out


def _cents(value: Any, path: list[Any], errors: list[JSON], code: str) -> int | None:
    from feedsync_local.shopify_double import _to_cents

    if value is None:
        return None
    try:
        cents = _to_cents(value)
    except ValueError:
        errors.append(_error(path, f"{value!r} is not a valid amount", code))
        return None
    if cents < 0:
        errors.append(_error(path, "Price must be greater than or equal to 0", code))
        return None
    return cents


def _is_web_url(value: Any) -> bool:
    parts = urlsplit(value if isinstance(value, str) else "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_options(options: list[JSON], errors: list[JSON]) -> list[tuple[str, list[str]]]:
    where = ["input", "productOptions"]
    if len(options) > MAX_OPTIONS:
        errors.append(
            _error(
                where,
                f"Can only specify a maximum of {MAX_OPTIONS} options",
                "OPTIONS_OVER_LIMIT",
            )
        )
    out: list[tuple[str, list[str]]] = []
    for i, option in enumerate(options):
        name = (option.get("name") or "").strip()
        if not name:
            errors.append(
                _error([*where, i, "name"], "Option name can't be blank", "INVALID_INPUT")
            )
            continue
        if any(name == seen for seen, _ in out):
            errors.append(
                _error(
                    [*where, i, "name"],
                    f"Duplicated option name '{name}'",
                    "DUPLICATED_OPTION_NAME",
                )
            )
            continue
        values = [str(v.get("name") or "").strip() for v in option.get("values") or []]
        if not values or not all(values):
            errors.append(
                _error(
                    [*where, i, "values"],
                    "Each option must have at least one option value specified",
                    "OPTION_VALUES_MISSING",
                )
            )
            continue
        if len(set(values)) != len(values):
            errors.append(
                _error([*where, i, "values"], "Duplicated option value", "DUPLICATED_OPTION_VALUE")
            )
            continue
        out.append((name, values))
    return out


def _quantities(
    double: ShopifyDouble, entries: list[JSON], path: list[Any], errors: list[JSON], code: str
) -> dict[int, int]:
    from feedsync_local.shopify_double import parse_gid

    out: dict[int, int] = {}
    for k, entry in enumerate(entries):
        location = parse_gid(entry.get("locationId"), "Location")
        if location is None or location not in double._locations:
            errors.append(_error([*path, k, "locationId"], "Location does not exist", code))
            continue
        name = entry.get("name", "available")
        if name not in ("available", "on_hand"):
            errors.append(
                _error([*path, k, "name"], "Must be one of `available` or `on_hand`", code)
            )
            continue
        out[location] = int(entry.get("quantity") or entry.get("availableQuantity") or 0)
    return out


def product_set(
    double: ShopifyDouble,
    input: JSON,
    synchronous: bool = True,
    productPreferences: Any = None,
    upsertInput: Any = None,
) -> JSON:
    from feedsync_local.shopify_double import parse_gid

    if input.get("id") is not None or upsertInput is not None:
        raise GraphQLError("The Shopify double implements productSet for creating products only")
    errors: list[JSON] = []
    title = input.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(_error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT"))
    elif len(title) > MAX_TITLE:
        errors.append(
            _error(
                ["input", "title"],
                f"Title is too long (maximum is {MAX_TITLE} characters)",
                "INVALID_PRODUCT",
            )
        )
    collections: list[int] = []
    for k, ref in enumerate(input.get("collections") or []):
        number = parse_gid(ref, "Collection")
        if number is None or number not in double._collections:
            errors.append(
                _error(["input", "collections", k], "Collection does not exist", "INVALID_INPUT")
            )
        else:
            collections.append(number)
    files: list[str] = []
    for k, spec in enumerate(input.get("files") or []):
        source = spec.get("originalSource")
        if not _is_web_url(source):
            errors.append(
                _error(
                    ["input", "files", k, "originalSource"], "Image URL is invalid", "INVALID_INPUT"
                )
            )
        elif source not in files:
            files.append(source)
    raw_options = input.get("productOptions") or []
    variants = input.get("variants") or []
    options = _check_options(raw_options, errors)
    if raw_options and not variants:
        errors.append(
            _error(
                ["input", "variants"],
                "Must specify variants when updating options",
                "VARIANTS_INPUT_MISSING",
            )
        )
    if variants and not raw_options:
        errors.append(
            _error(
                ["input", "productOptions"],
                "Must specify product options when updating variants",
                "PRODUCT_OPTIONS_INPUT_MISSING",
            )
        )
    if len(variants) > MAX_VARIANTS:
        errors.append(
            _error(
                ["input", "variants"],
                f"Number of product variants exceeds shop limit of {MAX_VARIANTS}",
                "VARIANTS_OVER_LIMIT",
            )
        )
    planned: list[JSON] = []
    seen: set[tuple[str, ...]] = set()
    for i, spec in enumerate(variants):
        where: list[Any] = ["input", "variants", i]
        chosen = _variant_option_values(options, spec, where, errors, "set")
        if chosen is not None:
            if tuple(chosen) in seen:
                errors.append(
                    _error(
                        where,
                        f"The variant '{' / '.join(chosen)}' already exists.",
                        "INVALID_VARIANT",
                    )
                )
            seen.add(tuple(chosen))
        price = _cents(spec.get("price"), [*where, "price"], errors, "INVALID_VARIANT")
        compare = _cents(
            spec.get("compareAtPrice"), [*where, "compareAtPrice"], errors, "INVALID_VARIANT"
        )
        stock = _quantities(
            double,
            spec.get("inventoryQuantities") or [],
            [*where, "inventoryQuantities"],
            errors,
            "INVALID_VARIANT",
        )
        image = (spec.get("file") or {}).get("originalSource")
        if image is not None and image not in files:
            errors.append(
                _error(
                    [*where, "file"],
                    "The file must also be specified in the product's files",
                    "INVALID_VARIANT",
                )
            )
        planned.append(
            {
                "options": chosen or [],
                "price": price or 0,
                "compare": compare,
                "sku": spec.get("sku"),
                "barcode": spec.get("barcode"),
                "stock": stock,
                "image": image,
            }
        )
    if errors:
        return {"product": None, "productSetOperation": None, "userErrors": errors}
    product = _new_product(double, input, str(title), options or [_default_option()])
    product.collection_ids = collections
    media = {source: double._create_media(product, source).id for source in files}
    for spec in planned or [{"options": [DEFAULT_OPTION[1]], "price": 0, "stock": {}}]:
        variant = _new_variant(double, product, spec)
        if spec.get("image") is not None:
            variant.media_id = media[spec["image"]]
    return {"product": double._product_view(product), "productSetOperation": None, "userErrors": []}


def _default_option() -> tuple[str, list[str]]:
    return DEFAULT_OPTION[0], [DEFAULT_OPTION[1]]


def _variant_option_values(
    options: list[tuple[str, list[str]]],
    spec: JSON,
    where: list[Any],
    errors: list[JSON],
    mode: str,
) -> list[str] | None:
    """The variant's value for each option, in the options' order (None: refused). ``mode``
    "set" (productSet): a value must be among its option's values; "add" (bulk create): a
    new value is allowed (it joins the option)."""
    given: dict[str, str] = {}
    problems = len(errors)
    for j, entry in enumerate(spec.get("optionValues") or []):
        name = (entry.get("optionName") or "").strip()
        value = (entry.get("name") or "").strip()
        known = dict(options)
        if name not in known:
            code = (
                "OPTION_DOES_NOT_EXIST"
                if mode == "set"
                else "OPTION_VALUES_FOR_NUMBER_OF_UNKNOWN_OPTIONS"
            )
            errors.append(
                _error([*where, "optionValues", j], f"Option '{name}' does not exist", code)
            )
        elif not value:
            code = "INVALID_VARIANT" if mode == "set" else "BLANK"
            errors.append(
                _error([*where, "optionValues", j, "name"], "Option value can't be blank", code)
            )
        elif mode == "set" and value not in known[name]:
            errors.append(
                _error(
                    [*where, "optionValues", j],
                    f"Option value '{value}' does not exist on option '{name}'",
                    "OPTION_VALUE_DOES_NOT_EXIST",
                )
            )
        else:
            given[name] = value
    missing = [name for name, _ in options if name not in given]
    if missing and len(errors) == problems:
        code = "INVALID_VARIANT" if mode == "set" else "NEED_TO_ADD_OPTION_VALUES"
        errors.append(
            _error(
                [*where, "optionValues"],
                f"The variant has no value for the option(s) {', '.join(missing)}",
                code,
            )
        )
    if len(errors) != problems:
        return None
    return [given[name] for name, _ in options]


def _new_product(
    double: ShopifyDouble, spec: JSON, title: str, options: list[tuple[str, list[str]]]
) -> _Product:
    from feedsync_local.shopify_double import _now, _Product

    number = 8_000_000_000_000 + next(double._ids)
    stamp = _now()
    product = _Product(number, title, stamp, stamp)
    product.description_html = str(spec.get("descriptionHtml") or "")
    product.vendor = str(spec.get("vendor") or "")
    product.status = str(spec.get("status") or "ACTIVE")
    product.options = [(name, list(values)) for name, values in options]
    double._products[number] = product
    return product


def _new_variant(double: ShopifyDouble, product: _Product, spec: JSON) -> _Variant:
    from feedsync_local.shopify_double import _Variant

    values = list(spec["options"])
    variant = _Variant(
        id=44_000_000_000_000 + next(double._ids),
        product_id=product.id,
        inventory_item_id=46_000_000_000_000 + next(double._ids),
        sku=spec.get("sku"),
        barcode=spec.get("barcode"),
        price=int(spec.get("price") or 0),
        compare_at_price=spec.get("compare"),
        cost=None,
        title=" / ".join(values),
        updated_at=product.updated_at,
        weight=Decimal(0),
        weight_unit=double.weight_unit,
        option_values=values,
    )
    double._variants[variant.id] = variant
    double._item_variant[variant.inventory_item_id] = variant.id
    product.variant_ids.append(variant.id)
    stock: dict[int, int] = spec.get("stock") or {}
    for location in double._locations:
        qty = stock.get(location, 0)
        double._levels[(variant.inventory_item_id, location)] = {"available": qty, "on_hand": qty}
    return variant


def variants_bulk_create(
    double: ShopifyDouble,
    productId: str,
    variants: list[JSON],
    strategy: str = "DEFAULT",
    media: list[JSON] | None = None,
) -> JSON:
    from feedsync_local.shopify_double import _media_input_problem, _now, parse_gid

    product = double._products.get(parse_gid(productId, "Product") or -1)
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                _error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            ],
        }
    errors: list[JSON] = []
    sources: list[str] = []
    for j, spec in enumerate(media or []):
        problem = _media_input_problem(j, spec)
        if problem is not None:
            errors.append(problem)
        else:
            sources.append(spec["originalSource"])
    standalone = (
        strategy == "REMOVE_STANDALONE_VARIANT"
        and len(product.variant_ids) == 1
        and product.options == [_default_option()]
    )
    options = [] if standalone else [(n, list(v)) for n, v in product.options]
    if standalone:  # the new variants' options replace the default one
        names = [
            (e.get("optionName") or "").strip()
            for e in (variants[0].get("optionValues") or [] if variants else [])
        ]
        options = [(name, []) for name in names if name]
    kept = 0 if standalone else len(product.variant_ids)
    if kept + len(variants) > MAX_VARIANTS:
        errors.append(
            _error(
                ["variants"],
                f"You can only have a maximum of {MAX_VARIANTS} variants per product",
                "INVALID",
            )
        )
    existing = (
        set()
        if standalone
        else {tuple(double._variants[v].option_values) for v in product.variant_ids}
    )
    planned: list[JSON] = []
    for i, spec in enumerate(variants):
        where: list[Any] = ["variants", i]
        chosen = _variant_option_values(options, spec, where, errors, "add")
        if chosen is not None:
            if tuple(chosen) in existing:
                errors.append(
                    _error(
                        where,
                        f"The variant '{' / '.join(chosen)}' already exists.",
                        "VARIANT_ALREADY_EXISTS",
                    )
                )
            existing.add(tuple(chosen))
        price = _cents(spec.get("price"), [*where, "price"], errors, "INVALID")
        compare = _cents(spec.get("compareAtPrice"), [*where, "compareAtPrice"], errors, "INVALID")
        levels = [
            {"locationId": e.get("locationId"), "quantity": e.get("availableQuantity", 0)}
            for e in spec.get("inventoryQuantities") or []
        ]
        stock = _quantities(double, levels, [*where, "inventoryQuantities"], errors, "INVALID")
        image = (spec.get("mediaSrc") or [None])[0]
        if image is not None and image not in sources:
            errors.append(
                _error(
                    [*where, "mediaSrc"], "Media source must be one of the media created", "INVALID"
                )
            )
        planned.append(
            {
                "options": chosen or [],
                "price": price or 0,
                "compare": compare,
                "sku": (spec.get("inventoryItem") or {}).get("sku"),
                "barcode": spec.get("barcode"),
                "stock": stock,
                "image": image,
            }
        )
    if errors:
        return {
            "product": double._product_view(product),
            "productVariants": [],
            "userErrors": errors,
        }
    if standalone:
        for variant_id in list(product.variant_ids):
            product.variant_ids.remove(variant_id)
            double._drop_variant(variant_id)
    product.updated_at = _now()
    created_media = {source: double._create_media(product, source).id for source in sources}
    created: list[_Variant] = []
    for spec in planned:
        for position, value in enumerate(spec["options"]):
            values = options[position][1]
            if value not in values:
                values.append(value)
        product.options = options
        variant = _new_variant(double, product, spec)
        if spec.get("image") is not None:
            variant.media_id = created_media[spec["image"]]
        created.append(variant)
    return {
        "product": double._product_view(product),
        "productVariants": [double._variant_view(v) for v in created],
        "userErrors": [],
    }


def product_delete(double: ShopifyDouble, info: Any, input: JSON, synchronous: bool = True) -> JSON:
    from feedsync_local.shopify_double import gid, parse_gid

    number = parse_gid(input.get("id"), "Product")
    shop = double._q_shop(info)
    if number is None or number not in double._products:
        return {
            "deletedProductId": None,
            "productDeleteOperation": None,
            "shop": shop,
            "userErrors": [_error(["id"], "Product does not exist", None)],
        }
    double.delete_product(number)
    return {
        "deletedProductId": gid("Product", number),
        "productDeleteOperation": None,
        "shop": shop,
        "userErrors": [],
    }


def variants_bulk_delete(double: ShopifyDouble, productId: str, variantsIds: list[str]) -> JSON:
    from feedsync_local.shopify_double import parse_gid

    product = double._products.get(parse_gid(productId, "Product") or -1)
    if product is None:
        error = _error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "userErrors": [error]}
    numbers = [parse_gid(v, "ProductVariant") for v in variantsIds]
    if any(n is None or n not in product.variant_ids for n in numbers):
        error = _error(
            ["variantsIds"],
            "At least one variant does not belong to the product",
            "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT",
        )
        return {"product": double._product_view(product), "userErrors": [error]}
    if len(set(numbers)) >= len(product.variant_ids):
        error = _error(
            ["variantsIds"], "Cannot delete the last variant", "CANNOT_DELETE_LAST_VARIANT"
        )
        return {"product": double._product_view(product), "userErrors": [error]}
    for number in set(numbers):
        assert number is not None
        product.variant_ids.remove(number)
        double._drop_variant(number)
    return {"product": double._product_view(product), "userErrors": []}
