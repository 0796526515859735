"""Fixtures for the core step tests: a ``World`` of in-memory fakes (no moto, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(str(tmp_path))
