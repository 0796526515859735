"""Create mode through a run: the match step's creations, the update step's resumed create
batches and the created items' place in the changes file and the catalog index.

The pure part (what a row becomes, what a retried batch still sends) is
``domain/create.py``; this module feeds it the rows that matched nothing and carries its
items through storage: ``runs/…/creations.json`` holds the run's create items, so an
apply after a preview or a hold sends exactly what the merchant reviewed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, cast

from feedsync.core import keys
from feedsync.core.catalog_store import rewrite_catalog
from feedsync.core.change_files import ChangesOut
from feedsync.core.deps import Deps
from feedsync.core.ports import Creator, ItemResult, PlanItem, StoreConnector
from feedsync.core.rowfile import FileKeySlot
from feedsync.core.run_results import RunOutcome
from feedsync.domain.capabilities import CREATE_OP, Capabilities
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.changes import FAILED, ChangeLine
from feedsync.domain.content import index_value
from feedsync.domain.create import (
    CREATE_FIELD,
    CreateSettings,
    Skipped,
    created_changes,
    gather_creations,
    merge_created,
    resume_creations,
)
from feedsync.domain.fields import PRODUCT_ID, ROW_POS, VARIANT_ID, VARIANT_POS, VISIBLE_AT, Row
from feedsync.domain.reconcile import NOT_FOUND, Outcome
from feedsync.domain.rules import barcode_key
from feedsync.models import Profile, RunRef, Store

SKU = VARIANT_POS["sku"]
ROW_SKU = ROW_POS["sku"]


class Collector:
    """The rows a create profile's file has and the store lacks, as the match step's loop
    meets them, and the groups the store already has (a row of the group matched)."""

    def __init__(self, slot: FileKeySlot) -> None:
        self.slot = slot
        self.last: Row | None = None
        self.rows: list[tuple[Any, ...]] = []
        self.file_keys: dict[int, str] = {}
        self.existing: dict[str, int] = {}

    def tap(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows, each remembered while ``reconcile`` decides it (it yields one outcome
        per row before it reads the next)."""
        for row in rows:
            self.last = row
            yield row

    def see(self, outcome: Outcome) -> None:
        slot, row = self.slot, self.last
        if row is None or row[0] != outcome[0]:
            return
        if outcome[2] == NOT_FOUND:
            self.rows.append((*row, slot.key or None, slot.group, slot.options))
            if slot.key:
                self.file_keys[row[0]] = slot.key
        elif slot.group and outcome[3] is not None:
            self.existing.setdefault(slot.group, outcome[3])


def settings_of(profile: Profile, caps: Capabilities, label: str) -> CreateSettings | None:
    """The gatherer's settings, or None when the profile does not create on this store."""
    create = profile.create
    if not create.enabled or caps.creation is None:
        return None
    return CreateSettings(
        option_columns=dict(create.options),
        group_column=create.group,
        max_variants=caps.creation.max_variants,
        platform_label=label,
        visible=create.visible,
        category=create.category,
    )


def gather(
    collector: Collector, settings: CreateSettings, index: CatalogIndex
) -> tuple[list[PlanItem], list[Skipped]]:
    """The create items of the rows that matched nothing, but for a row whose SKU the store
    holds in any case: matched by barcode only, or under another case (WooCommerce's and
    BigCommerce's SKUs are unique regardless of case), creating it would duplicate or adopt
    the store's own item."""
    held = {str(v[SKU]).casefold(): v[PRODUCT_ID] for v in index.variants if v[SKU]}
    rows: list[tuple[Any, ...]] = []
    taken: list[Skipped] = []
    for row in collector.rows:
        sku = row[ROW_SKU]
        holder = held.get(str(sku).casefold()) if sku else None
        if holder is None:
            rows.append(row)
        else:
            taken.append(Skipped(row[0], sku, f"SKU already in the store (product {holder})"))
    items, skipped = gather_creations(rows, settings, collector.existing)
    return items, sorted([*skipped, *taken])


def write_lines(
    out: ChangesOut,
    items: list[PlanItem],
    skipped: list[Skipped],
    status: str,
    file_keys: dict[int, str],
) -> int:
    """One change line per variant to create (``field: "create"``), one failed line per
    row that cannot be; the number of variants to create."""
    variants = 0
    for item in items:
        for row, key, (old, new) in created_changes(item):
            out.add(
                ChangeLine(
                    row, key, item.product_id, 0, CREATE_FIELD, old, new, status, "",
                    file_keys.get(row, ""),
                )
            )  # fmt: skip
            variants += 1
    for skip in skipped:
        out.add(
            ChangeLine(
                skip.row, skip.key or "", 0, 0, CREATE_FIELD, None, None, FAILED, skip.reason,
                file_keys.get(skip.row, ""),
            )
        )  # fmt: skip
    return variants


def save(deps: Deps, ref: RunRef, items: list[PlanItem]) -> None:
    body = json.dumps([item.to_json() for item in items]).encode()
    deps.blobs.put_bytes(keys.creations_key(ref.tenant_id, ref.run_id), body, "application/json")


def load(deps: Deps, ref: RunRef) -> list[PlanItem]:
    key = keys.creations_key(ref.tenant_id, ref.run_id)
    if deps.blobs.head(key) is None:
        return []
    return [PlanItem.from_json(data) for data in json.loads(deps.blobs.get_bytes(key))]


def only_rows(
    items: list[PlanItem], rows: set[int], joined: dict[int, int] | None = None
) -> list[PlanItem]:
    """The create items cut down to the variants of ``rows`` (an apply's selection).

    ``joined``: rows the store holds since the items were planned -> their product; a group
    one of whose variants is there now gets its other variants added to that product."""
    joined = joined or {}
    out: list[PlanItem] = []
    for item in items:
        new = item.new
        assert new is not None
        kept = [v for v in new["variants"] if v["row"] in rows]
        if not kept:
            continue
        product_id = item.product_id
        if not product_id and new["group"] is not None:
            product_id = next((joined[v["row"]] for v in new["variants"] if v["row"] in joined), 0)
        if len(kept) == len(new["variants"]) and product_id == item.product_id:
            out.append(item)
            continue
        out.append(
            PlanItem(
                kept[0]["row"], item.key, product_id, 0, {}, rows=[v["row"] for v in kept],
                product_level=True, new={**new, "variants": kept},
            )
        )  # fmt: skip
    return out


def send(
    connector: StoreConnector,
    items: list[PlanItem],
    batch_key: str,
    resumed: bool,
    location: str | None = None,
) -> list[ItemResult]:
    """Send a create batch (new stock at ``location``, the profile's or the store's);
    ``resumed``: an earlier attempt began it, so what the store already has of it is
    looked up first and not sent again."""
    if not resumed:
        return connector.apply(CREATE_OP, items, batch_key=batch_key, location=location)
    creator = cast(Creator, connector)
    resume = resume_creations(items, creator.find_created(items))
    answers: dict[int, ItemResult] = dict(resume.known)
    if resume.send:
        again = [item for _, item in resume.send]
        sent = connector.apply(CREATE_OP, again, batch_key=batch_key, location=location)
        for (index, _item), answer in zip(resume.send, sent, strict=True):
            answers[index] = merge_created(answer, resume.earlier.get(index))
    return [answers[i] for i in range(len(items))]


def created_variants(items: list[PlanItem], created: dict[int, tuple[int, int, str]]) -> list[Any]:
    """Catalog index entries for the variants created (``created``: row -> product id,
    variant id, note), from the create items that carried them: hidden unless the profile
    said visible; the next catalog refresh replaces them with the store's own reading."""
    out: list[Any] = []
    for item in items:
        new = item.new
        assert new is not None
        product = new["fields"]
        for v in new["variants"]:
            made = created.get(v["row"])
            if made is None:
                continue
            fields = v["fields"]
            barcode = fields.get("barcode")
            try:
                barcode = barcode_key(barcode) if barcode else None
            except ValueError:
                barcode = None
            values: list[Any] = [None] * (VISIBLE_AT + 1)
            values[PRODUCT_ID], values[VARIANT_ID] = made[0], made[1]
            values[VARIANT_POS["sku"]], values[VARIANT_POS["barcode"]] = v["key"], barcode
            for name in ("price", "sale_price", "retail_price", "cost_price", "stock"):
                values[VARIANT_POS[name]] = fields.get(name)
            values[VARIANT_POS["name"]] = product.get("name")
            for name in ("description", "brand"):
                values[VARIANT_POS[name]] = index_value(name, product.get(name))
            for name in ("weight", "image_url"):
                values[VARIANT_POS[name]] = index_value(name, fields.get(name))
            values[VISIBLE_AT] = bool(new["visible"])
            out.append(tuple(values))
    return out


def add_created_to_catalog(deps: Deps, store: Store, ref: RunRef, outcome: RunOutcome) -> None:
    """The variants a run created join the store's index at once (a retried finalize adds
    none twice), so the next run updates them instead of creating them again."""
    variants = created_variants(load(deps, ref), outcome.created)
    if not variants:
        return

    def change(index: CatalogIndex) -> CatalogIndex:
        known = {v[VARIANT_ID] for v in index.variants}
        fresh = [v for v in variants if v[VARIANT_ID] not in known]
        return index.like([*index.variants, *fresh]) if fresh else index

    index = rewrite_catalog(deps, store, change)
    deps.repo.update_store(store.tenant_id, store.store_id, variant_count=len(index))
