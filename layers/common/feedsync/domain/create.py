"""Create mode: the feed rows the store lacks, turned into products to create.

A row whose key matches nothing becomes a creation when the profile's ``create`` is on.
Rows sharing a group value (the profile's ``create.group`` column, e.g. the supplier's
parent code) become one product with a variant per row, each told apart by its option
values (``create.options``: option name -> column); a row without a group value is a
product of its own. Each product is one ``PlanItem`` of the ``create`` operation, its
product and variants in ``PlanItem.new`` (``NewProduct``): JSON as it is, so the plan
shard carries it as it is.

The rows come in the parsed layout (``fields.ROW_POS``) with the group value at
``fields.GROUP`` and the option values at ``fields.OPTION_VALUES`` (a tuple in the order
of ``create.options``). Only rows that matched nothing reach here, so the per-row work of
a sync that creates nothing is untouched.

What cannot be created is reported per row, never raised: no SKU, no name (a new
product), no price; a group's row missing an option value (row and column); two
variants of one group with the same option values; a group with more variants than
the platform allows (``Creation.max_variants``, named with the platform). Rows of one
group that disagree on a product-level field (name, description, brand) follow the
group's first row, as updates do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple, TypedDict

from feedsync.domain.fields import CANONICAL_FIELDS, GROUP, OPTION_VALUES, ROW_NO, ROW_POS
from feedsync.domain.writes import Change, Created, ItemResult, PlanItem, item_created

# Fields of the product (its first row's), and of each variant (each row's own).
PRODUCT_NEW_FIELDS: Final = ("name", "description", "brand")
VARIANT_NEW_FIELDS: Final = (
    "barcode",
    "price",
    "sale_price",
    "retail_price",
    "cost_price",
    "stock",
    "weight",
    "image_url",
)
# A change line's field for a created variant (changes.csv, GET /runs/{id}/changes).
CREATE_FIELD: Final = "create"

_SKU: Final = ROW_POS["sku"]
_NAME: Final = ROW_POS["name"]
_PRICE: Final = ROW_POS["price"]
_PRODUCT_POS: Final = tuple((f, ROW_POS[f]) for f in PRODUCT_NEW_FIELDS)
_VARIANT_POS: Final = tuple((f, ROW_POS[f]) for f in VARIANT_NEW_FIELDS)


class NewVariant(TypedDict):
    """One variant to create: its feed row, its SKU (the store's key), its option values
    (name -> value; empty for a single item) and its own fields (canonical units: money
    in cents, stock in units, weight as decimal text; only those the row has)."""

    row: int
    key: str
    options: dict[str, str]
    fields: dict[str, Any]


class NewProduct(TypedDict):
    """One product to create (or, with the plan item's ``product_id``, the new variants of
    one the store has). ``group``: the group value (None for a single item); ``fields``:
    the product-level fields of its first row; ``option_names``: in the profile's order;
    ``visible`` and ``category``: the profile's ``create`` settings (hidden unless it says
    ``visible``; the platform's category id for every created product, or None)."""

    group: str | None
    fields: dict[str, Any]
    option_names: list[str]
    variants: list[NewVariant]
    visible: bool
    category: str | None


class CreateSettings(NamedTuple):
    """What the gatherer needs of the profile and the platform."""

    option_columns: Mapping[str, str]  # option name -> its column, in the profile's order
    group_column: str | None
    max_variants: int
    platform_label: str
    visible: bool = False
    category: str | None = None


class Skipped(NamedTuple):
    """A row that cannot be created, and why (the merchant's words)."""

    row: int
    key: str | None
    reason: str


def row_of(
    row_no: int,
    values: Mapping[str, Any],
    *,
    group: str | None = None,
    options: tuple[str | None, ...] = (),
    file_key: str | None = None,
) -> tuple[Any, ...]:
    """A parsed row in the create layout from canonical values by name (the layout the
    parse step writes; tests and the reference parser build rows with it)."""
    return (
        row_no,
        *(values.get(name) for name in CANONICAL_FIELDS),
        file_key,
        group,
        tuple(options),
    )


def gather_creations(
    rows: Iterable[tuple[Any, ...]],
    settings: CreateSettings,
    existing: Mapping[str, int] | None = None,
) -> tuple[list[PlanItem], list[Skipped]]:
    """The create items for the rows that matched nothing, and the rows skipped.

    ``existing``: group value -> the store's product id, for groups the store already
    has (a row of the group matched one of its variants): their new rows become variants
    added to that product.
    """
    existing = existing or {}
    option_names = list(settings.option_columns)
    columns = list(settings.option_columns.values())
    skipped: list[Skipped] = []
    products: dict[str, PlanItem] = {}  # group value (or a single item's SKU) -> item
    seen_options: dict[str, dict[tuple[str, ...], int]] = {}
    seen_keys: dict[str, int] = {}
    for row in rows:
        row_no: int = row[ROW_NO]
        sku = row[_SKU]
        group = row[GROUP] if len(row) > GROUP else None
        if not sku:
            skipped.append(Skipped(row_no, None, "a new item needs a SKU: the row has none"))
            continue
        if sku in seen_keys:
            skipped.append(
                Skipped(row_no, sku, f"SKU {sku!r} is created from row {seen_keys[sku]} already")
            )
            continue
        if row[_PRICE] is None:
            skipped.append(Skipped(row_no, sku, "a new item needs a price: the row has none"))
            continue
        product_id = existing.get(group, 0) if group else 0
        item = products.get(group) if group else None
        if item is None and not product_id and not row[_NAME]:
            skipped.append(Skipped(row_no, sku, "a new item needs a name: the row has none"))
            continue
        options: dict[str, str] = {}
        if group:
            values = row[OPTION_VALUES] if len(row) > OPTION_VALUES else ()
            values = tuple(values) + (None,) * (len(option_names) - len(values))
            missing = [i for i, v in enumerate(values) if v is None or v == ""]
            if missing:
                i = missing[0]
                skipped.append(
                    Skipped(
                        row_no,
                        sku,
                        f"row {row_no}, column {columns[i]!r}: a variant of group {group!r} "
                        f"needs a value for option {option_names[i]!r}",
                    )
                )
                continue
            combo = tuple(str(v) for v in values)
            first = seen_options.setdefault(group, {}).get(combo)
            if first is not None:
                skipped.append(
                    Skipped(
                        row_no,
                        sku,
                        f"group {group!r}: the same option values as row {first} "
                        f"({', '.join(combo) or 'none'})",
                    )
                )
                continue
            seen_options[group][combo] = row_no
            options = dict(zip(option_names, combo, strict=True))
        variant: NewVariant = {
            "row": row_no,
            "key": sku,
            "options": options,
            "fields": {f: row[pos] for f, pos in _VARIANT_POS if row[pos] is not None},
        }
        seen_keys[sku] = row_no
        if item is None:
            new: NewProduct = {
                "group": group or None,
                "fields": {f: row[pos] for f, pos in _PRODUCT_POS if row[pos] is not None},
                "option_names": option_names if group else [],
                "variants": [variant],
                "visible": settings.visible,
                "category": settings.category,
            }
            item = PlanItem(
                row_no, group or sku, product_id, 0, {}, rows=[row_no], product_level=True, new=new
            )
            products[group or f"\0{sku}"] = item
        else:
            assert item.new is not None and item.rows is not None  # made above
            item.new["variants"].append(variant)
            item.rows.append(row_no)
    items: list[PlanItem] = []
    for item in products.values():
        assert item.new is not None
        count = len(item.new["variants"])
        if count > settings.max_variants:
            reason = (
                f"group {item.key!r} has {count} variants; {settings.platform_label} allows "
                f"at most {settings.max_variants} per product"
            )
            skipped.extend(Skipped(v["row"], v["key"], reason) for v in item.new["variants"])
            continue
        items.append(item)
    return items, skipped


def created_changes(item: PlanItem) -> list[tuple[int, str, Change]]:
    """One change line per variant a create item makes: (row, SKU, [None, what is made])."""
    assert item.new is not None
    group = item.new["group"]
    return [(v["row"], v["key"], [None, _describe(v, group)]) for v in item.new["variants"]]


def _describe(variant: NewVariant, group: str | None) -> str:
    options = ", ".join(f"{k}: {v}" for k, v in variant["options"].items())
    return f"{group} ({options})" if group and options else variant["key"]


class Resume(NamedTuple):
    """A create batch to send again: the items still to send (with their index in the
    batch), the answers already known by index, and per index what an earlier attempt
    made of an item sent again in part (merged into its answer by ``merge_created``)."""

    send: list[tuple[int, PlanItem]]
    known: dict[int, ItemResult]
    earlier: dict[int, Created]


def resume_creations(items: list[PlanItem], found: list[Created | None]) -> Resume:
    """What is left to send of a create batch an earlier attempt may have sent.

    ``found``: per item, what the store already has of it (``Creator.find_created``).
    An item wholly there is answered without a request (``item_created`` with the ids
    found); an item partly there is sent again as new variants of the product found;
    an item not there is sent as it is.
    """
    resume = Resume([], {}, {})
    for index, (item, have) in enumerate(zip(items, found, strict=True)):
        assert item.new is not None  # a create item
        if have is None:
            resume.send.append((index, item))
            continue
        left = [v for v in item.new["variants"] if v["key"] not in have.variants]
        if not left:
            resume.known[index] = item_created(have.product_id, have.variants)
            continue
        new: NewProduct = {**item.new, "variants": left}
        rest = PlanItem(
            item.row,
            item.key,
            have.product_id,
            0,
            {},
            rows=[v["row"] for v in left],
            product_level=True,
            new=new,
        )
        resume.send.append((index, rest))
        resume.earlier[index] = have
    return resume


def merge_created(result: ItemResult, earlier: Created | None) -> ItemResult:
    """An item's answer with what an earlier attempt already made of it."""
    made = result.created
    if earlier is None or made is None:
        return result
    return item_created(made.product_id, {**earlier.variants, **made.variants}, result.message)
