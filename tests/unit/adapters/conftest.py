"""Adapter fixtures: a BigCommerce-compatible sandbox store on loopback, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedsync_local.bigcommerce_double import SandboxStore


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    with SandboxStore() as store:
        yield store


@pytest.fixture
def store(sandbox: SandboxStore) -> tuple[str, str]:
    return sandbox.create_store()
