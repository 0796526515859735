"""Match (matching): rows x the refreshed catalog index -> match log, plan shards, manifest."""

from __future__ import annotations

import csv
import gc
import json
from typing import Any

from feedsync.core import creating, keys
from feedsync.core.blobcsv import csv_records, csv_to_blob, text_lines
from feedsync.core.change_files import ChangesOut, changes_writer, rewrite_changes
from feedsync.core.deps import Deps
from feedsync.core.rowfile import FileKeySlot, read_rows
from feedsync.core.steps.common import start_matching, stock_elsewhere
from feedsync.core.steps.planning import write_plan
from feedsync.core.written import load_dismissed, load_written, remember_written, save_conflicts
from feedsync.domain.capabilities import VISIBLE
from feedsync.domain.catalog import CatalogIndex
from feedsync.domain.changes import FAILED, PENDING, SENDING, ChangeLine
from feedsync.domain.conflicts import CONFLICT, Conflict, Key, split_conflicts, store_wins_fields
from feedsync.domain.fields import REF, VARIANT_ID, VARIANT_POS, Variant
from feedsync.domain.limits import EXAMPLES, LimitTally
from feedsync.domain.missing import (
    DISABLE,
    MISSING,
    ZERO_STOCK,
    disable_outcomes,
    hidden_products,
    missing_outcomes,
    released_products,
)
from feedsync.domain.reconcile import CHANGED, Counts, Outcome, ReconcileSpec, reconcile
from feedsync.domain.rules import normalize_sku
from feedsync.domain.runlog import LOG_HEADER, outcome_log_row
from feedsync.domain.validation import REFUSED, Validator
from feedsync.domain.writes import PlanItem
from feedsync.models import MatchInput, MatchOutput, Profile, Run, RunRef, Store
from feedsync.platforms.registry import capabilities_for, platform


def match(deps: Deps, step: MatchInput) -> MatchOutput:
    run, profile, store, index = start_matching(deps, step.run)
    # A million long-lived index tuples make every full GC pass walk them; park them.
    gc.freeze()
    try:
        return _match(deps, step, store, run, profile, index)
    finally:
        gc.unfreeze()


def _match(
    deps: Deps, step: MatchInput, store: Store, run: Run, profile: Profile, index: CatalogIndex
) -> MatchOutput:
    ref = step.run
    if profile.rules.sku_case_insensitive:
        index = _folded(index)  # the feed's SKUs were folded the same way when parsed
    spec = ReconcileSpec(
        match_by=profile.match_by,
        fields=tuple(profile.fields),
        mode=run.mode,
        unknown=("stock",) if stock_elsewhere(profile, store) else (),
    )
    counts = Counts()
    caps = capabilities_for(store.platform, store.options.model_dump())
    changed: list[Outcome] = []
    raw = deps.blobs.open_read(step.parse.rows_key)
    # A preview's changes wait for the merchant; a direct run's are on their way.
    planned = PENDING if run.preview else SENDING
    changes_key = keys.changes_key(ref.tenant_id, ref.run_id)
    with (
        csv_to_blob(deps, keys.match_log_key(ref.tenant_id, ref.run_id)) as log,
        changes_writer(deps, changes_key) as plan_out,
    ):
        writer = csv.writer(log, lineterminator="\n")
        writer.writerow(LOG_HEADER)
        add_changes = plan_out.add_row
        tally = LimitTally(profile.limits.rules())
        add_to_tally = tally.add
        # A refused row may be a "missing" item (its key is not known), stock written at
        # another location is not the stock the index holds: zero nothing then.
        file_whole = step.parse.row_errors == 0
        stock_here = "stock" in profile.fields and not stock_elsewhere(profile, store)
        zero_missing = profile.missing == ZERO_STOCK and stock_here and file_whole
        disable = profile.missing == DISABLE  # (it also shows again what it hid)
        edits = _StoreEdits(deps, ref, profile, zero_missing or disable)
        listed = edits.listed
        last_row = 0

        def into_plan(outcome: Outcome, lines: bool = True, file_key: str = "") -> None:
            """A row with changes: into the plan, the changes file and the limits' tally."""
            changed.append(outcome)
            row, key, _status, pid, vid, row_changes, _note = outcome
            if lines:
                add_changes(row, key, pid, vid, row_changes, planned, file_key)  # type: ignore[arg-type]
            add_to_tally(key, row_changes)  # type: ignore[arg-type]

        validator = Validator(platform(store.platform).label, caps, spec.unknown)
        refusals = _Refusals(validator, plan_out, planned)
        check = refusals.validator.refused if refusals.validator.rules else None
        file_keys = FileKeySlot()  # the file's SKU of the row each outcome is about
        create = creating.settings_of(profile, caps, platform(store.platform).label)
        creations = creating.Collector(file_keys) if create is not None else None
        try:
            rows = read_rows(text_lines(raw), file_keys)
            if creations is not None:  # (rows the store lacks are kept: create mode)
                rows = creations.tap(rows)
            for outcome in reconcile(rows, index, spec, counts):
                if creations is not None:
                    creations.see(outcome)
                if edits.store_wins_written and outcome[2] == "changed":
                    outcome = edits.resolve(outcome)
                if listed is not None and outcome[4] is not None:
                    listed.add(outcome[4])
                last_row = outcome[0]
                file_key = file_keys.key if file_keys.row == last_row else ""  # (inline .of)
                refused = check(outcome[5]) if check and outcome[2] == "changed" else None
                if refused is not None:  # a value the platform would refuse: never sent
                    outcome, kept = refusals.take(outcome, refused, file_key)
                    if kept is not None:
                        into_plan(kept, lines=False)
                writer.writerow(outcome_log_row(outcome, file_key))
                if outcome[2] == "changed":
                    into_plan(outcome, file_key=file_key)
        finally:
            raw.close()
        if listed is not None:  # missing: zero_stock or disable
            first = max(last_row, _last_row_error(deps, step.parse.row_errors_key)) + 1
            if disable:
                hidden = hidden_products(edits.written)
                gone_from_file = disable_outcomes(index.variants, edits.wrote, hidden, listed,
                                                  first, file_whole=file_whole,
                                                  zero_siblings=stock_here)  # fmt: skip
                # Listed again, changed by the merchant: theirs now (feedsync forgets it hid it)
                released = released_products(index.variants, hidden, listed)
                if released and not run.preview:
                    forgot = {pid: {VISIBLE: [False, True]} for pid in released}
                    remember_written(deps, ref.tenant_id, ref.profile_id, {}, forgot)
            else:
                gone_from_file = missing_outcomes(index.variants, edits.wrote, listed, first)
            for outcome in gone_from_file:
                writer.writerow(outcome_log_row(outcome))  # logged as missing (or changed)
                into_plan((*outcome[:2], "changed", *outcome[3:]))
            edits.missing = sum(1 for outcome in gone_from_file if outcome[2] == MISSING)
            edits.shown_again = len(gone_from_file) - edits.missing
        new_items: list[PlanItem] = []
        to_create = 0
        if creations is not None and create is not None:
            new_items, skipped = creating.gather(creations, create, index)
            to_create = creating.write_lines(
                plan_out, new_items, skipped, planned, creations.file_keys
            )
            creating.save(deps, ref, new_items)
    totals = counts.as_dict()
    if refusals.rows:  # (the API answers 0 for a count a run does not hold)
        totals["changed"] -= refusals.whole  # planned rows only
        totals["invalid"] = refusals.rows
    totals["row_errors"] += step.parse.row_errors
    totals["rows"] = step.parse.rows
    edits.adjust(totals)
    if not run.preview:  # the profile's open conflicts are what this file found
        save_conflicts(deps, ref.tenant_id, ref.profile_id, edits.found, ref.run_id, deps.clock())
    held = tally.reasons(
        matched=totals["matched"],
        rows=step.parse.rows,
        last_rows=profile.last_file_rows,
        shares_apply=profile.last_sync_at is not None,
    )
    max_created = profile.limits.max_created
    if max_created is not None and to_create > max_created:
        examples = [item.key for item in new_items[:EXAMPLES]]
        held.append(
            {"rule": "max_created", "limit": max_created, "measured": to_create,
             "examples": examples}
        )  # fmt: skip
    change_counts = plan_out.counts
    if held and not run.preview:  # nothing goes to the store until the merchant says so
        change_counts = rewrite_changes(deps, changes_key, _pending)
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        changes_key=changes_key,
        change_counts=change_counts.as_dict(),
        held_reasons=held,
    )
    if run.preview or held:  # nothing is planned for the store: the merchant reviews first
        mkey = keys.manifest_key(ref.tenant_id, ref.run_id)
        deps.blobs.put_bytes(mkey, b"[]", "application/json")
        deps.repo.update_run(ref.tenant_id, ref.run_id, counts=totals)
        return MatchOutput(
            manifest_bucket=deps.blobs.bucket,
            manifest_key=mkey,
            shards=0,
            items=len(changed) + len(new_items),
            concurrency=1,
            preview=run.preview,
            held=not run.preview,
        )

    refs = {v[VARIANT_ID]: v[REF] for v in index.variants if v[REF]} if changed else {}
    manifest = write_plan(deps, ref, profile, changed, caps, refs, new_items)
    progress_total = sum(m["items"] for m in manifest)
    mkey = keys.manifest_key(ref.tenant_id, ref.run_id)
    deps.blobs.put_bytes(mkey, json.dumps(manifest).encode(), "application/json")
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        status="updating",
        counts=totals,
        progress={"done": 0, "total": progress_total, "shards": {}},
    )
    return MatchOutput(
        manifest_bucket=deps.blobs.bucket,
        manifest_key=mkey,
        shards=len(manifest),
        items=len(changed) + len(new_items),
        concurrency=max(1, min(caps.concurrency, len(manifest))),
    )


class _Refusals:
    """Changed rows with a value the platform's spec refuses (``domain/validation.py``):
    what one request would carry with it is withheld and failed in the changes file with
    the reason; the rest of the row is planned as usual."""

    def __init__(self, validator: Validator, plan_out: ChangesOut, planned: str) -> None:
        self.validator = validator
        self.add = plan_out.add
        self.planned = planned
        self.rows = 0  # rows with a refused value
        self.whole = 0  # ... of which nothing is left to send

    def take(
        self, outcome: Outcome, refused: dict[str, str], file_key: str = ""
    ) -> tuple[Outcome, Outcome | None]:
        """The row's match-log outcome (``refused``, with the reasons) and what is still
        planned of it (None: nothing)."""
        row, key, _status, pid, vid, changes, note = outcome
        assert key is not None and pid is not None and vid is not None  # a changed row
        kept, withheld = self.validator.withheld(pid, vid, changes, refused)
        for name, old, new in changes:
            why = withheld.get(name, "")
            status = FAILED if why else self.planned
            self.add(ChangeLine(row, key, pid, vid, name, old, new, status, why, file_key))
        self.rows += 1
        reasons = "; ".join(refused.values())
        also = [name for name in withheld if name not in refused]
        if also:
            reasons += f" (not sent with it: {', '.join(also)})"
        logged = (row, key, REFUSED, pid, vid, changes, "; ".join(t for t in (reasons, note) if t))
        if not kept:
            self.whole += 1
            return logged, None
        return logged, (row, key, CHANGED, pid, vid, kept, note)


class _StoreEdits:
    """Changed rows against what the profile last wrote: the store's edits it keeps."""

    def __init__(self, deps: Deps, ref: RunRef, profile: Profile, missing: bool) -> None:
        self.store_wins = store_wins_fields(profile.conflicts)
        self.written: dict[Key, Any] = {}
        self.dismissed: dict[Key, Any] = {}
        if self.store_wins or missing:
            self.written = load_written(deps, ref.tenant_id, ref.profile_id)
            if self.written and self.store_wins:
                self.dismissed = load_dismissed(deps, ref.tenant_id, ref.profile_id)
        self.store_wins_written = bool(self.store_wins and self.written)
        # missing: zero_stock or disable: the variants the file listed, those the profile wrote
        self.listed: set[int] | None = set() if missing and self.written else None
        self.wrote = (
            {vid for vid, field in self.written if field != VISIBLE}  # (a product's: hidden)
            if self.listed is not None
            else set()
        )
        self.found: list[Conflict] = []
        self.rows = self.now_conflict = self.now_unchanged = self.missing = 0
        self.shown_again = 0  # products feedsync had hidden, listed again (missing: disable)

    def resolve(self, outcome: Outcome) -> Outcome:
        resolved, found = split_conflicts(outcome, self.written, self.dismissed, self.store_wins)
        if found:
            self.found.extend(found)
            self.rows += 1
        if resolved[2] == CONFLICT:
            self.now_conflict += 1
        elif resolved[2] != "changed":
            self.now_unchanged += 1
        return resolved

    def adjust(self, totals: dict[str, int]) -> None:
        """Rows the store's edits took out of "changed": conflicts, or unchanged."""
        totals["changed"] += self.shown_again - self.now_conflict - self.now_unchanged
        totals["unchanged"] += self.now_unchanged
        totals["conflicts"] = self.rows
        totals["missing"] = self.missing


def _last_row_error(deps: Deps, key: str) -> int:
    """The last row the parser refused (the missing items are numbered after it)."""
    last = 0
    for rec in csv_records(deps, key):
        last = int(rec[0])
    return last


def _pending(line: ChangeLine) -> ChangeLine:
    """A held run's planned lines wait for the merchant (a refused one stays failed)."""
    return line._replace(status=PENDING) if line.status == SENDING else line


def _folded(index: CatalogIndex) -> CatalogIndex:
    """The index with case-folded SKUs (two SKUs differing only in case become ambiguous)."""
    pos = VARIANT_POS["sku"]

    def fold(variant: Variant) -> Variant:
        sku = variant[pos]
        if not isinstance(sku, str):
            return variant
        values = list(variant)
        values[pos] = normalize_sku(sku, case_insensitive=True)
        return tuple(values)  # type: ignore[return-value]

    return CatalogIndex.from_variants(fold(v) for v in index.variants)
