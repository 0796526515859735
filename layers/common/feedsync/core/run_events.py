"""Every run outcome is announced once on the event bus (``Run Finished``).

The notify function's rule listens to it, and so may anything else (a merchant's own
rule, an archive). Announcing is after the fact: a bus that cannot take the event must
never fail or change the run that ended, so trouble is logged and swallowed here.
"""

from __future__ import annotations

import logging

from feedsync.core.deps import Deps
from feedsync.models import ACTIVE_STATUSES, Run
from feedsync.models.notifications import RunFinished

log = logging.getLogger(__name__)
RUN_FINISHED = "Run Finished"


def finished_event(run: Run) -> RunFinished:
    return RunFinished(
        tenant_id=run.tenant_id,
        profile_id=run.profile_id,
        store_id=run.store_id,
        run_id=run.run_id,
        trigger=run.trigger,
        status=run.status,
        round=run.round,
        preview=run.preview,
        parent_run_id=run.parent_run_id,
        counts=run.counts,
        error=run.error,
        reason=run.reason,
        held_reasons=run.held_reasons,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def announce(deps: Deps, tenant_id: str, run_id: str) -> None:
    """Put the run's outcome on the bus, read from its record as it now stands (so every
    closing path says the same). A run still active has nothing to announce."""
    if deps.events is None:
        return
    try:
        run = deps.repo.get_run(tenant_id, run_id)
        if run is not None:
            announce_run(deps, run)
    except Exception:  # the run has ended whatever the bus says
        log.exception("could not read run %s to announce its end", run_id)


def announce_run(deps: Deps, run: Run) -> None:
    """Put ``run``'s outcome on the bus; trouble is logged, never raised."""
    if deps.events is None or run.status in ACTIVE_STATUSES:
        return
    try:
        detail = finished_event(run).model_dump(mode="json")
        deps.events.put(RUN_FINISHED, detail)
    except Exception:
        log.exception("could not announce the end of run %s (%s)", run.run_id, run.status)
