"""Create mode on Shopify: new products from the feed, and their deletion on revert.

One ``create`` batch (at most ``CREATE_BATCH`` plan items, one per product) is one GraphQL
document with a mutation field per item, aliased ``i0``, ``i1``...:

* a new product: ``productSet`` (synchronous): ``title``, ``descriptionHtml``, ``vendor``
  (the brand), ``status`` ``DRAFT`` unless the profile's ``create.visible`` (then
  ``ACTIVE``), ``collections`` (the profile's category: a collection id), ``files`` (the
  variants' images, which Shopify downloads), ``productOptions`` (a group's options and their
  values; a single item has Shopify's ``Title`` / ``Default Title``) and ``variants`` (each
  with its option values, ``price``, ``compareAtPrice`` (the retail price), ``sku``,
  ``barcode``, its image as ``file`` and its stock as ``inventoryQuantities`` ``available`` at
  the profile's location, else the shop's primary one);
* variants of a group the shop already has: ``productVariantsBulkCreate`` on that product
  (new option values join its options), ``inventoryItem.sku`` and ``cost``, the weight as
  ``inventoryItem.measurement``.

``ProductVariantSetInput`` (this schema's ``productSet``) has no inventory item, so a new
product's variants are made without a weight or a cost: the next run writes them as
updates. Each mutation is all or nothing, so an item's userErrors are its result. An image
the shop cannot download leaves a media ``FAILED`` and the product made: the item says so.
The variants' ids come back by SKU (pages of 250 past the first), so they enter the catalog
index at once. A create document that gets no answer (a timeout, a reset) is not sent again by
the transport: Shopify may have made the products, and a second ``productSet`` would make
them twice; the batch fails ``StoreUnavailable`` and the update step's retry looks it up.

``find_created`` asks ``products(query: "sku:... OR sku:...")`` for the first SKU of each
item (a mutation makes all its variants or none) and answers the variants found by SKU.

``delete`` (a revert): ``productDelete`` per product, ``productVariantsBulkDelete`` per
product for the variants a run added to it; a product already gone is reported ``gone``.
"""

from __future__ import annotations

from typing import Any, Final

from feedsync.domain.writes import Created, ItemResult, PlanItem, item_created, item_gone
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.queries import gid, gid_number
from feedsync.platforms.shopify.responses import user_error_text
from feedsync.platforms.shopify.shop import ShopFacts
from feedsync.platforms.shopify.spec import CREATE_BATCH, DELETE_BATCH
from feedsync.platforms.shopify.values import from_cents, weight_input

JSON = dict[str, Any]

_PAGE: Final = 250
_FIND_VARIANTS: Final = 90  # 2 + 10 x (1 + 2 + 90) = 932 points, under the 1,000 limit
_DEFAULT_OPTION: Final = ("Title", "Default Title")
_PRODUCT_GONE: Final = frozenset({"PRODUCT_DOES_NOT_EXIST"})
_VARIANTS_PAGE: Final = """
id
variants(first: 250) { nodes { id sku } pageInfo { hasNextPage endCursor } }
media(first: 20) { nodes { status mediaErrors { code } } }
"""


def _set_field(alias: str) -> str:
    return (
        f"{alias}: productSet(input: ${alias}, synchronous: true) "
        f"{{ product {{ {_VARIANTS_PAGE} }} userErrors {{ field message code }} }}"
    )


def _add_field(alias: str) -> str:
    return (
        f"{alias}: productVariantsBulkCreate(productId: ${alias}p, variants: ${alias}v) "
        "{ productVariants { id sku } userErrors { field message code } }"
    )


MORE_VARIANTS_QUERY: Final = """
query FeedsyncCreatedVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 250, after: $after) { nodes { id sku } pageInfo { hasNextPage endCursor } }
  }
}
"""
FIND_CREATED_QUERY: Final = """
query FeedsyncFindCreated($query: String!, $first: Int!) {
  products(first: $first, query: $query) {
    nodes { id variants(first: 90) { nodes { id sku } } }
  }
}
"""


def _variants_of(item: PlanItem) -> list[JSON]:
    new: JSON = dict(item.new or {})
    return list(new.get("variants") or [])


def _search_term(sku: str) -> str:
    return 'sku:"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _images(new: JSON) -> list[str]:
    seen: dict[str, None] = {}
    for variant in new["variants"]:
        url = str(variant["fields"].get("image_url") or "").strip()
        if url:
            seen[url] = None
    return list(seen)


def _option_values(new: JSON) -> list[tuple[str, list[str]]]:
    out: dict[str, list[str]] = {name: [] for name in new["option_names"]}
    for variant in new["variants"]:
        for name, value in variant["options"].items():
            if value not in out.setdefault(name, []):
                out[name].append(value)
    return list(out.items())


def product_set_input(new: JSON, location_gid: str) -> JSON:
    """The ``ProductSetInput`` that makes one new product with its variants."""
    fields = new["fields"]
    options = _option_values(new) if new.get("group") is not None else []
    if not options:
        options = [(_DEFAULT_OPTION[0], [_DEFAULT_OPTION[1]])]
    body: JSON = {
        "title": str(fields.get("name") or new["variants"][0]["key"]),
        "status": "ACTIVE" if new.get("visible") else "DRAFT",
        "productOptions": [
            {"name": name, "values": [{"name": v} for v in values]} for name, values in options
        ],
    }
    if fields.get("description"):
        body["descriptionHtml"] = str(fields["description"])
    if fields.get("brand"):
        body["vendor"] = str(fields["brand"])
    if new.get("category") is not None:
        category = str(new["category"])
        body["collections"] = [
            category if category.startswith("gid://") else gid("Collection", category)
        ]
    images = _images(new)
    if images:
        body["files"] = [{"originalSource": url, "contentType": "IMAGE"} for url in images]
    variants = []
    for variant in new["variants"]:
        own = variant["fields"]
        chosen = variant["options"] or {_DEFAULT_OPTION[0]: _DEFAULT_OPTION[1]}
        entry: JSON = {
            "sku": variant["key"],
            "optionValues": [{"optionName": k, "name": v} for k, v in chosen.items()],
        }
        entry.update(_money(own))
        if own.get("barcode"):
            entry["barcode"] = str(own["barcode"])
        if own.get("stock") is not None:
            entry["inventoryQuantities"] = [
                {"locationId": location_gid, "name": "available", "quantity": int(own["stock"])}
            ]
        image = str(own.get("image_url") or "").strip()
        if image:
            entry["file"] = {"originalSource": image, "contentType": "IMAGE"}
        variants.append(entry)
    body["variants"] = variants
    return body


def _money(own: JSON) -> JSON:
    out: JSON = {}
    if own.get("price") is not None:
        out["price"] = from_cents(int(own["price"]))
    if own.get("retail_price") is not None:
        out["compareAtPrice"] = from_cents(int(own["retail_price"]))
    return out


def variants_bulk_input(new: JSON, location_gid: str, unit: str | None) -> list[JSON]:
    """The ``ProductVariantsBulkInput`` list adding a group's new variants to its product."""
    out = []
    for variant in new["variants"]:
        own = variant["fields"]
        item: JSON = {"sku": variant["key"]}
        if own.get("cost_price") is not None:
            item["cost"] = from_cents(int(own["cost_price"]))
        if unit is not None and own.get("weight") is not None:
            measured = weight_input(own["weight"], unit)
            if measured is not None:
                item["measurement"] = {"weight": measured}
        entry: JSON = {
            "optionValues": [{"optionName": k, "name": v} for k, v in variant["options"].items()],
            "inventoryItem": item,
            **_money(own),
        }
        if own.get("barcode"):
            entry["barcode"] = str(own["barcode"])
        if own.get("stock") is not None:
            entry["inventoryQuantities"] = [
                {"locationId": location_gid, "availableQuantity": int(own["stock"])}
            ]
        out.append(entry)
    return out


class ProductCreator:
    """Creates and deletes products; one result per plan item, in order."""

    def __init__(self, client: AdminClient, shop: ShopFacts) -> None:
        self._client = client
        self._shop = shop

    # -- create -------------------------------------------------------------------------------
    def create(self, items: list[PlanItem], location: str | None) -> list[ItemResult]:
        if len(items) > CREATE_BATCH:
            raise ValueError(f"create takes at most {CREATE_BATCH} items, got {len(items)}")
        if not items:
            return []
        location_gid = self._shop.location_gid(location)
        adding = any(item.product_id for item in items)
        weights = adding and any(
            v["fields"].get("weight") is not None
            for item in items
            if item.product_id
            for v in _variants_of(item)
        )
        unit = self._shop.weight_unit() if weights else None
        fields: list[str] = []
        declared: list[str] = []
        variables: JSON = {}
        for i, item in enumerate(items):
            new: JSON = dict(item.new or {})
            alias = f"i{i}"
            if item.product_id:
                fields.append(_add_field(alias))
                declared += [f"${alias}p: ID!", f"${alias}v: [ProductVariantsBulkInput!]!"]
                variables[f"{alias}p"] = gid("Product", int(item.product_id))
                variables[f"{alias}v"] = variants_bulk_input(new, location_gid, unit)
            else:
                fields.append(_set_field(alias))
                declared.append(f"${alias}: ProductSetInput!")
                variables[alias] = product_set_input(new, location_gid)
        document = (
            f"mutation FeedsyncCreate({', '.join(declared)}) {{\n" + "\n".join(fields) + "\n}"
        )
        # Never sent again blind: a lost answer fails the batch, and the update step's retry
        # looks its SKUs up first (find_created).
        data = self._client.graphql(
            document, variables, "FeedsyncCreate", 10 * len(items), resend_unanswered=False
        )
        return [self._result(item, data.get(f"i{i}") or {}) for i, item in enumerate(items)]

    def _result(self, item: PlanItem, answer: JSON) -> ItemResult:
        errors = answer.get("userErrors") or []
        if errors:
            text = "; ".join(user_error_text(e) for e in errors)
            if any(e.get("code") in _PRODUCT_GONE for e in errors):
                return item_gone("product", text)
            return ItemResult(False, text)
        if item.product_id:
            made = {
                str(v.get("sku")): gid_number(str(v["id"]))
                for v in answer.get("productVariants") or []
            }
            return item_created(int(item.product_id), made)
        product = answer.get("product")
        if not product:
            return ItemResult(False, "Shopify's answer did not mention the product")
        made = self._variants(product)
        failed = [
            m
            for m in (product.get("media") or {}).get("nodes") or []
            if m.get("status") == "FAILED"
        ]
        note = ""
        if failed:
            codes = sorted({e.get("code") for m in failed for e in m.get("mediaErrors") or []})
            note = (
                f"{len(failed)} image(s) could not be loaded ({', '.join(map(str, codes))}); "
                "created without them"
            )
        return item_created(gid_number(str(product["id"])), made, note)

    def _variants(self, product: JSON) -> dict[str, int]:
        """The product's variant ids by SKU, every page."""
        page = product.get("variants") or {}
        made: dict[str, int] = {}
        while True:
            made.update(
                {str(v.get("sku")): gid_number(str(v["id"])) for v in page.get("nodes") or []}
            )
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return made
            data = self._client.graphql(
                MORE_VARIANTS_QUERY,
                {"id": product["id"], "after": info.get("endCursor")},
                "FeedsyncCreatedVariants",
                2 + _PAGE,
            )
            page = (data.get("product") or {}).get("variants") or {}

    # -- find (before a create batch is sent again) --------------------------------------
    def find_created(self, items: list[PlanItem]) -> list[Created | None]:
        if not items:
            return []
        keys = [[v["key"] for v in _variants_of(item)] for item in items]
        query = " OR ".join(_search_term(k[0]) for k in keys if k)
        data = self._client.graphql(
            FIND_CREATED_QUERY,
            {"query": query, "first": len(items)},
            "FeedsyncFindCreated",
            2 + len(items) * (3 + _FIND_VARIANTS),
        )
        products = [
            (
                gid_number(str(p["id"])),
                {str(v.get("sku")): gid_number(str(v["id"])) for v in p["variants"]["nodes"]},
            )
            for p in (data.get("products") or {}).get("nodes") or []
        ]
        out: list[Created | None] = []
        for item, wanted in zip(items, keys, strict=True):
            found: Created | None = None
            for product_id, skus in products:
                have = {k: skus[k] for k in wanted if k in skus}
                if have and (not item.product_id or product_id == int(item.product_id)):
                    found = Created(product_id, have)
                    break
            out.append(found)
        return out

    # -- delete (a revert) -----------------------------------------------------------------
    def delete(self, items: list[PlanItem]) -> list[ItemResult]:
        if len(items) > DELETE_BATCH:
            raise ValueError(f"delete takes at most {DELETE_BATCH} items, got {len(items)}")
        if not items:
            return []
        fields: list[str] = []
        declared: list[str] = []
        variables: JSON = {}
        owner: list[str] = []  # per item, the alias answering it
        variant_groups: dict[int, str] = {}
        for i, item in enumerate(items):
            if item.product_level or item.variant_id in (0, item.product_id):
                alias = f"d{i}"
                fields.append(
                    f"{alias}: productDelete(input: {{id: ${alias}}}) "
                    "{ deletedProductId userErrors { field message } }"
                )
                declared.append(f"${alias}: ID!")
                variables[alias] = gid("Product", int(item.product_id))
            else:
                product_id = int(item.product_id)
                alias = variant_groups.get(product_id, "")
                if not alias:
                    alias = variant_groups[product_id] = f"v{i}"
                    fields.append(
                        f"{alias}: productVariantsBulkDelete(productId: ${alias}p, "
                        f"variantsIds: ${alias}v) {{ userErrors {{ field message code }} }}"
                    )
                    declared += [f"${alias}p: ID!", f"${alias}v: [ID!]!"]
                    variables[f"{alias}p"] = gid("Product", product_id)
                    variables[f"{alias}v"] = []
                variables[f"{alias}v"].append(gid("ProductVariant", int(item.variant_id)))
            owner.append(alias)
        document = (
            f"mutation FeedsyncDelete({', '.join(declared)}) {{\n" + "\n".join(fields) + "\n}"
        )
        data = self._client.graphql(document, variables, "FeedsyncDelete", 10 * len(fields))
        results: list[ItemResult] = []
        for alias in owner:
            answer = data.get(alias) or {}
            errors = answer.get("userErrors") or []
            if not errors:
                results.append(ItemResult(True, ""))
                continue
            text = "; ".join(user_error_text(e) for e in errors)
            gone = (
                alias.startswith("d")
                and answer.get("deletedProductId") is None
                and any(list(e.get("field") or []) == ["id"] for e in errors)
            )
            gone = gone or any(e.get("code") in _PRODUCT_GONE for e in errors)
            results.append(item_gone("product", text) if gone else ItemResult(False, text))
        return results
