"""Where the platforms' own specifications are read: never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    """``$FEEDSYNC_SPECS_DIR``, else ``<repo>/../shared/specs``."""
    given = os.environ.get("FEEDSYNC_SPECS_DIR")
    return Path(given) if given else REPO.parent / "shared" / "specs"
