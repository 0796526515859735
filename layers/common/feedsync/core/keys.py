"""The S3 key layout, in one place."""

from __future__ import annotations


def upload_prefix(tenant_id: str, profile_id: str) -> str:
    return f"uploads/{tenant_id}/{profile_id}/"


# An upload under this folder is stored as the profile's file without starting a run (the
# upload URL's body said ``"start": false``): the key is signed into the URL, so the choice
# travels with the PUT and the ObjectCreated notification on uploads/ sees it.
STORE_ONLY = "stored"


def upload_key(tenant_id: str, profile_id: str, upload_id: str, name: str, start: bool) -> str:
    folder = f"{upload_id}/" if start else f"{STORE_ONLY}/{upload_id}/"
    return f"{upload_prefix(tenant_id, profile_id)}{folder}{name}"


def upload_starts_run(key: str) -> bool:
    """Whether the upload at ``key`` starts a run (False: store it only)."""
    return key.split("/")[3:4] != [STORE_ONLY]


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """uploads/{tenant}/{profile}/{file} -> (tenant, profile)."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "uploads" or not all(parts[1:4]):
        return None
    return parts[1], parts[2]


def run_prefix(tenant_id: str, run_id: str) -> str:
    return f"runs/{tenant_id}/{run_id}/"


def source_key(tenant_id: str, run_id: str, file_name: str) -> str:
    return f"{run_prefix(tenant_id, run_id)}source/{file_name}"


def rows_key(tenant_id: str, run_id: str) -> str:
    return f"{run_prefix(tenant_id, run_id)}rows.csv"


def row_errors_key(tenant_id: str, run_id: str) -> str:
    return f"{run_prefix(tenant_id, run_id)}row_errors.csv"


def match_log_key(tenant_id: str, run_id: str) -> str:
    return f"{run_prefix(tenant_id, run_id)}match_log.csv"


def _round_prefix(tenant_id: str, run_id: str, round_no: int) -> str:
    """Where one execution of a run keeps its plan and results: the run itself (0) or its
    n-th apply, so an apply never reads an earlier one's result files as its own."""
    prefix = run_prefix(tenant_id, run_id)
    return prefix if round_no == 0 else f"{prefix}apply-{round_no}/"


def shard_key(tenant_id: str, run_id: str, index: int, round_no: int = 0) -> str:
    return f"{_round_prefix(tenant_id, run_id, round_no)}plan/shard-{index:05d}.json"


def manifest_key(tenant_id: str, run_id: str, round_no: int = 0) -> str:
    return f"{_round_prefix(tenant_id, run_id, round_no)}plan/manifest.json"


def result_key(tenant_id: str, run_id: str, index: int, round_no: int = 0) -> str:
    return f"{_round_prefix(tenant_id, run_id, round_no)}results/shard-{index:05d}.csv"


def selection_key(tenant_id: str, run_id: str, round_no: int) -> str:
    """What ``POST /runs/{id}/apply`` selected (keys or a limit), for the select step."""
    return f"{_round_prefix(tenant_id, run_id, round_no)}selection.json"


def creations_key(tenant_id: str, run_id: str) -> str:
    """Create mode: the run's create items, as the match step planned them (JSON)."""
    return f"{run_prefix(tenant_id, run_id)}creations.json"


def changes_key(tenant_id: str, run_id: str) -> str:
    """The run's changes: its plan and before-image (``domain/changes.py``)."""
    return f"{run_prefix(tenant_id, run_id)}changes.csv"


def _profile_prefix(tenant_id: str, profile_id: str) -> str:
    return f"profiles/{tenant_id}/{profile_id}/"


def written_key(tenant_id: str, profile_id: str) -> str:
    """What the profile last wrote, per variant and field (``core/written.py``)."""
    return f"{_profile_prefix(tenant_id, profile_id)}written.csv"


def refused_key(tenant_id: str, profile_id: str) -> str:
    """The items the platform refused, with the payload refused (``core/written.py``)."""
    return f"{_profile_prefix(tenant_id, profile_id)}refused.csv"


def conflicts_key(tenant_id: str, profile_id: str) -> str:
    return f"{_profile_prefix(tenant_id, profile_id)}conflicts.csv"


def dismissed_key(tenant_id: str, profile_id: str) -> str:
    return f"{_profile_prefix(tenant_id, profile_id)}dismissed.csv"


def log_key(tenant_id: str, run_id: str) -> str:
    return f"{run_prefix(tenant_id, run_id)}log.csv"


def changes_export_key(tenant_id: str, run_id: str, digest: str) -> str:
    """A filtered CSV of the changes too big to answer inline (``digest``: of the filter and
    the changes file's version, so one export serves every download of the same list)."""
    return f"{run_prefix(tenant_id, run_id)}exports/changes-{digest}.csv"


def log_export_key(tenant_id: str, run_id: str, status: str) -> str:
    """The log's lines of one status, when too big to answer inline."""
    return f"{run_prefix(tenant_id, run_id)}exports/log-{status}.csv"


def catalog_key(tenant_id: str, store_id: str) -> str:
    return f"catalog/{tenant_id}/{store_id}/index.csv"


def in_flight_key(tenant_id: str, run_id: str, index: int, round_no: int = 0) -> str:
    """Which batch a shard is sending (written before each batch; see ``core/in_flight``)."""
    prefix = _round_prefix(tenant_id, run_id, round_no)
    return f"{prefix}results/shard-{index:05d}.in-flight.json"
