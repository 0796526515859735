"""Integration fixtures: one in-process local stack (moto + the real ASL) per session.

moto's backends are process-global, so a single ``LocalEnvironment`` serves every test;
isolation comes from fresh ids per test (tenant, sandbox store, feedsync store, profile).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from integration_harness import Harness, StatusSpy

from feedsync_local.environment import LocalEnvironment
from feedsync_local.shopify_double import ShopifyDouble
from feedsync_local.woo_double import WooCommerceDouble


@pytest.fixture(scope="session")
def _environment(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LocalEnvironment, Path]]:
    files_dir = tmp_path_factory.mktemp("supplier-files")
    env = LocalEnvironment(files_dir=files_dir, run_scheduler=False)
    env.start()
    try:
        yield env, files_dir
    finally:
        env.stop()


@pytest.fixture(scope="session")
def _spy(_environment: tuple[LocalEnvironment, Path]) -> StatusSpy:
    """Wrap the shared repository so every run-status write is recorded (handlers run in
    this process and share ``feedsync.wiring.deps()``)."""
    from feedsync.wiring import deps

    spy = StatusSpy()
    repo = deps().repo
    original = repo.update_run

    def update_run(tenant_id: str, run_id: str, **fields: Any) -> None:
        original(tenant_id, run_id, **fields)
        if "status" in fields:
            spy.record(run_id, fields["status"])

    repo.update_run = update_run  # type: ignore[method-assign]
    return spy


@pytest.fixture
def h(_environment: tuple[LocalEnvironment, Path], _spy: StatusSpy) -> Iterator[Harness]:
    env, files_dir = _environment
    harness = Harness(env, files_dir, _spy)
    env.stack.faults.clear()
    try:
        yield harness
    finally:
        env.stack.faults.clear()


@pytest.fixture
def shopify() -> Iterator[ShopifyDouble]:
    """A Shopify store double on loopback (a test module may override it, e.g. its weight unit)."""
    with ShopifyDouble() as double:
        yield double


@pytest.fixture
def woo() -> Iterator[WooCommerceDouble]:
    """A WooCommerce store double on loopback."""
    with WooCommerceDouble() as double:
        yield double
