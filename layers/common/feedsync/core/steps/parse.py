"""Parse (preparing, part 2): the supplier file -> canonical rows and row errors.

A file-level problem (unreadable, no rows, over the plan) raises before anything is
recorded as parsed, so the run fails with the store untouched.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import replace

from feedsync.core import keys, plans, schedules
from feedsync.core.blobcsv import csv_to_blob
from feedsync.core.deps import Deps
from feedsync.core.rowfile import write_rows
from feedsync.core.steps.common import profile_of, run_of, unless_cancelled
from feedsync.domain.keys import compile_key_transform
from feedsync.domain.rules import CompiledRules, compile_rules
from feedsync.domain.runlog import LOG_HEADER, row_error_log_row
from feedsync.errors import PlanLimitExceeded
from feedsync.formats import open_feed
from feedsync.models import ParseInput, ParseOutput, Profile


def parse(deps: Deps, step: ParseInput) -> ParseOutput:
    ref = step.run
    unless_cancelled(run_of(deps, ref))
    profile = profile_of(deps, ref)
    rows_key = keys.rows_key(ref.tenant_id, ref.run_id)
    with tempfile.TemporaryDirectory(dir=deps.work_dir) as tmp:
        # The supplier's own file name: readers (openpyxl) go by its extension.
        local = os.path.join(tmp, os.path.basename(step.fetch.file_name) or "feed")
        deps.blobs.download_file(step.fetch.key, local)
        feed, info = open_feed(
            local,
            step.fetch.file_name,
            profile.format.reader_options(),
            profile.mapping,
            work_dir=tmp,
        )
        with feed:
            feed.use_constants(profile.constants)
            transform = compile_key_transform(
                profile.key_transform.spec() if profile.key_transform else None
            )
            feed.use_key_transform(transform)
            feed.use_rules(_compiled_rules(profile))
            create = profile.create
            options = list(create.options) if create.enabled else None
            if create.enabled:  # the group and option columns ride after the fields
                feed.use_create_columns(
                    [create.group] if create.group else [], list(create.options.values())
                )
            with csv_to_blob(deps, rows_key) as out:
                write_rows(out, feed, file_keys=transform is not None, options=options)
                feed.require_rows()
                _check_rows_within_plan(deps, profile, step.fetch.file_name, feed.rows_read)
    run = run_of(deps, ref)
    deps.repo.update_run(ref.tenant_id, ref.run_id, source={**run.source, "format": info})
    errors_key = keys.row_errors_key(ref.tenant_id, ref.run_id)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(LOG_HEADER)
    writer.writerows(row_error_log_row(err) for err in feed.row_errors)
    deps.blobs.put_bytes(errors_key, buf.getvalue().encode(), "text/csv")
    deps.repo.update_run(
        ref.tenant_id,
        ref.run_id,
        counts={"rows": feed.rows_read, "row_errors": len(feed.row_errors)},
    )
    return ParseOutput(
        rows_key=rows_key,
        rows=feed.rows_read,
        row_errors=len(feed.row_errors),
        row_errors_key=errors_key,
    )


def _compiled_rules(profile: Profile) -> CompiledRules:
    """The profile's rules; barcodes are keyed and checked only when rows are matched by
    them (a profile matching by SKU keeps its barcode cells as they are, unused)."""
    rules = compile_rules(profile.rules.spec())
    if profile.match_by == "sku":
        rules = replace(rules, validate_barcodes=False, match_barcodes=False)
    return rules


def _check_rows_within_plan(deps: Deps, profile: Profile, file_name: str, rows: int) -> None:
    """A file over the plan's rows stops here (store untouched) and holds the profile."""
    plan = schedules.tenant_settings(deps, profile.tenant_id).plan
    if rows > plan.max_rows:
        deps.repo.update_profile(profile.tenant_id, profile.profile_id, rows_over_plan=rows)
        plans.apply_plan(deps, profile.tenant_id)
        raise PlanLimitExceeded(
            f"{file_name}: {rows} rows; the plan allows {plan.max_rows} rows per file "
            "(the profile is disabled until the plan is raised)"
        )
    if profile.rows_over_plan is not None:
        deps.repo.update_profile(profile.tenant_id, profile.profile_id, rows_over_plan=None)
