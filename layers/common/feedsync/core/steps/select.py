"""Select (matching): the stored changes an apply, retry or revert sends, checked against
the store as it is now, as plan shards for the update step.

No file is fetched: an apply writes exactly the values its run previewed. Whether the
store still holds what the plan expects comes from the catalog refresh every run does
before matching (one modified-since read, never a read per item): a change whose store
value moved on is ``stale`` and is not sent.

- ``apply``: the run's own pending changes, all of them, those of the selected keys, or
  those of the next N items (``core/keys.selection_key``);
- ``retry``: the parent run's failed changes, with the values it meant to write;
- ``revert``: the parent run's updated changes turned around: the value it wrote is the
  one expected in the store, the value it replaced the one to write.

Create mode's lines (``field: "create"``) are checked by SKU: one the refreshed index now
holds (a later run made it) is ``stale``, "already in the store", and not sent; an apply or
retry sends the run's stored create items cut to the other selected rows
(``core/creating.py``), a group the store now has (one of its variants is there) as variants
added to that product; a revert deletes what the parent created (the whole product when
every variant the store has of it is the parent's, else those variants), or, where the
platform cannot delete, hides the products.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator

from feedsync.core import creating, keys
from feedsync.core.change_files import changes_writer, read_changes
from feedsync.core.deps import Deps
from feedsync.core.steps.common import ref_of, start_matching, stock_elsewhere
from feedsync.core.steps.planning import write_plan
from feedsync.core.written import open_conflicts
from feedsync.domain.capabilities import VISIBLE, Capabilities
from feedsync.domain.changes import (
    FAILED,
    PENDING,
    SENDING,
    SKIPPED,
    STALE,
    UPDATED,
    ChangeLine,
)
from feedsync.domain.content import index_value
from feedsync.domain.create import CREATE_FIELD
from feedsync.domain.fields import PRODUCT_ID, REF, VARIANT_ID, VARIANT_POS, Variant
from feedsync.domain.reconcile import CHANGED, Outcome
from feedsync.domain.runlog import GONE_MESSAGE, value_text
from feedsync.domain.validation import Validator
from feedsync.domain.writes import PlanItem
from feedsync.errors import NotFound
from feedsync.models import MatchOutput, Run, SelectInput
from feedsync.platforms.registry import capabilities_for, platform

# The store keeps a digest of a description, never the text: there is nothing to put back.
NOT_KEPT = {"description": "the store's earlier description is not kept (only its digest)"}
NO_EARLIER_VALUE = "the store had no value here before the run: nothing to put back"
SKU = VARIANT_POS["sku"]


def select(deps: Deps, step: SelectInput) -> MatchOutput:
    ref = step.run
    run, profile, store, index = start_matching(deps, ref)
    gc.freeze()  # the index's tuples live for the whole step (see the match step)
    try:
        held = {v[VARIANT_ID]: v for v in index.variants}
        in_store = {v[SKU]: v[PRODUCT_ID] for v in index.variants if v[SKU]}
        refs = {v[VARIANT_ID]: v[REF] for v in index.variants if v[REF]}
        del index
        unchecked = ("stock",) if stock_elsewhere(profile, store) else ()
        caps = capabilities_for(store.platform, store.options.model_dump())
        refused = Validator(platform(store.platform).label, caps, unchecked).line
        changed: list[Outcome] = []
        create_rows: set[int] = set()
        joined: dict[int, int] = {}  # a create row the store now holds -> its product
        created_lines: list[ChangeLine] = []  # (a revert's) lines of created variants
        changes_key = keys.changes_key(ref.tenant_id, ref.run_id)
        with changes_writer(deps, changes_key) as out:
            for line in _candidates(deps, run, step.action):
                if line.field == CREATE_FIELD:
                    if line.status == SENDING and step.action == "revert":
                        created_lines.append(line)
                    elif line.status == SENDING and line.key in in_store:
                        joined[line.row] = in_store[line.key]
                        line = line._replace(status=STALE, error=_already_there(in_store[line.key]))
                    elif line.status == SENDING:
                        create_rows.add(line.row)
                    out.add(line)
                    continue
                if line.status == SENDING:
                    line = _checked(line, held.get(line.variant_id), unchecked)
                if line.status == SENDING:  # a value the platform would refuse is not sent
                    why = refused(line.field, line.new_value, line.store_value)
                    if why:
                        line = line._replace(status=FAILED, error=why)
                out.add(line)
                if line.status == SENDING:
                    _add_to_outcomes(changed, line)
        undo = _undo_creations(created_lines, held, caps) if created_lines else []
    finally:
        gc.unfreeze()

    creations: list[PlanItem] = []
    if create_rows:
        source = run if step.action == "apply" else _parent(deps, run)
        creations = creating.only_rows(creating.load(deps, ref_of(source)), create_rows, joined)
        if step.action != "apply":  # the retry's own items (its finalize indexes them)
            creating.save(deps, ref, creations)
    for item in undo:
        if item.changes:  # a platform that cannot delete: the product is hidden
            changed.append(
                (item.row, item.key, CHANGED, item.product_id, item.variant_id,
                 ((VISIBLE, True, False),), "")
            )  # fmt: skip
    deletes = [item for item in undo if not item.changes]
    manifest = write_plan(
        deps, ref, profile, changed, caps, refs, creations or None, deletes or None
    )
    mkey = keys.manifest_key(ref.tenant_id, ref.run_id, ref.round)
    deps.blobs.put_bytes(mkey, json.dumps(manifest).encode(), "application/json")
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status="updating",
        changes_key=changes_key,
        change_counts=out.counts.as_dict(),
        progress={"done": 0, "total": sum(m["items"] for m in manifest), "shards": {}},
    )
    return MatchOutput(
        manifest_bucket=deps.blobs.bucket,
        manifest_key=mkey,
        shards=len(manifest),
        items=len(changed) + len(creations) + len(deletes),
        concurrency=max(1, min(caps.concurrency, len(manifest))),
    )


def _candidates(deps: Deps, run: Run, action: str) -> Iterator[ChangeLine]:
    """The lines of the run's new changes file: to send (``SENDING``) or kept as they are."""
    if action == "apply":
        chosen = _selection(deps, run)
        yield from (
            line._replace(status=SENDING, error="") if chosen(line) else line
            for line in read_changes(deps, keys.changes_key(run.tenant_id, run.run_id))
        )
        return
    if action == "reapply":
        yield from _reapplied(deps, run)
        return
    parent = _parent_changes(deps, run)
    if action == "retry":
        for line in parent:
            if line.status == FAILED:
                yield line._replace(status=SENDING, error="")
        return
    for line in parent:  # revert
        if line.status != UPDATED:
            continue
        if line.field == CREATE_FIELD:  # undone by deleting (or hiding) what was made
            yield line._replace(store_value=line.new_value, new_value=None, status=SENDING)
            continue
        expected = index_value(line.field, line.new_value)  # what the run left in the store
        back = line._replace(store_value=expected, new_value=line.store_value, error="")
        why = NOT_KEPT.get(line.field) or (NO_EARLIER_VALUE if line.store_value is None else "")
        yield back._replace(status=SKIPPED, error=why) if why else back._replace(status=SENDING)


def _selection(deps: Deps, run: Run) -> Callable[[ChangeLine], bool]:
    """Which of the run's lines this apply sends: pending ones (a line left ``sending`` by an
    apply that never finished is pending too) of the chosen keys or the next N items."""
    chosen = json.loads(
        deps.blobs.get_bytes(keys.selection_key(run.tenant_id, run.run_id, run.round))
    )
    wanted = set(chosen["keys"]) if chosen.get("keys") is not None else None
    limit = chosen.get("limit")
    taken: set[str] = set()

    def chosen_line(line: ChangeLine) -> bool:
        if line.status not in (PENDING, SENDING):
            return False
        if wanted is not None:
            return line.key in wanted
        if limit is not None and line.key not in taken:
            if len(taken) >= limit:
                return False
            taken.add(line.key)
        return True

    return chosen_line


def _reapplied(deps: Deps, run: Run) -> Iterator[ChangeLine]:
    """The profile's open conflicts the merchant chose (all, or those of some keys), as
    changes that write the feed's values over the store's."""
    key = keys.selection_key(run.tenant_id, run.run_id, 0)
    chosen = json.loads(deps.blobs.get_bytes(key)) if deps.blobs.head(key) is not None else {}
    wanted = set(chosen["keys"]) if chosen.get("keys") is not None else None
    for c in open_conflicts(deps, run.tenant_id, run.profile_id):
        if wanted is None or c["key"] in wanted:
            yield ChangeLine(
                c["row"], c["key"], c["product_id"], c["variant_id"], c["field"],
                c["store_value"], c["feed_value"], SENDING,
            )  # fmt: skip


def _parent(deps: Deps, run: Run) -> Run:
    parent = run.parent_run_id and deps.repo.get_run(run.tenant_id, run.parent_run_id)
    if not parent or not parent.changes_key:
        raise NotFound(f"run {run.parent_run_id} (the run to {run.trigger}) has no changes")
    return parent


def _parent_changes(deps: Deps, run: Run) -> Iterator[ChangeLine]:
    parent = _parent(deps, run)
    assert parent.changes_key is not None
    return read_changes(deps, parent.changes_key)


def _undo_creations(
    lines: list[ChangeLine], held: dict[int, Variant], caps: Capabilities
) -> list[PlanItem]:
    """What undoes a run's creations: per product, a delete of the product when every
    variant the store has of it is one the run created, else of those variants; where the
    platform cannot delete, one item per product hiding it (``changes`` set)."""
    by_product: dict[int, list[ChangeLine]] = {}
    for line in lines:
        by_product.setdefault(line.product_id, []).append(line)
    store_has: dict[int, set[int]] = {}
    for vid, variant in held.items():
        if variant[PRODUCT_ID] in by_product:
            store_has.setdefault(variant[PRODUCT_ID], set()).add(vid)
    items: list[PlanItem] = []
    for pid, made in by_product.items():
        rows = [line.row for line in made]
        ours = {line.variant_id for line in made}
        whole = store_has.get(pid, set()) <= ours
        first = made[0]
        if not caps.can_delete:
            hide = {VISIBLE: [True, False]}
            items.append(PlanItem(first.row, first.key, pid, first.variant_id, hide, rows=rows))
        elif whole:
            items.append(PlanItem(first.row, first.key, pid, 0, {}, rows=rows, product_level=True))
        else:
            items.extend(PlanItem(line.row, line.key, pid, line.variant_id, {}) for line in made)
    return items


def _already_there(product_id: int) -> str:
    return f"already in the store (product {product_id}): not created again"


def _checked(line: ChangeLine, variant: Variant | None, unchecked: tuple[str, ...]) -> ChangeLine:
    """The line still to send, or why not: the item is gone, or the store moved on."""
    if variant is None:
        return line._replace(status=SKIPPED, error=GONE_MESSAGE)
    pos = VARIANT_POS.get(line.field)
    if pos is None or line.field in unchecked:
        return line
    now = variant[pos]
    if now == line.store_value:
        return line
    field = line.field
    return line._replace(
        status=STALE,
        error=(
            f"the store now holds {value_text(field, now)}, not "
            f"{value_text(field, line.store_value)} as when the change was planned: not written"
        ),
    )


def _add_to_outcomes(changed: list[Outcome], line: ChangeLine) -> None:
    """Lines of one row (consecutive in the file) become that row's one changed outcome."""
    change = (line.field, line.store_value, line.new_value)
    if changed and changed[-1][0] == line.row:
        last = changed[-1]
        changed[-1] = (*last[:5], (*last[5], change), last[6])
        return
    changed.append((line.row, line.key, CHANGED, line.product_id, line.variant_id, (change,), ""))
