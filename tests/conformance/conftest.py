"""Conformance fixtures: each test runs once per registered harness (and, for the write
tests, once per write operation a platform declares), against a fresh double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_cases import OpCase, Running
from harnesses import HARNESSES
from harnesses.base import Harness


@pytest.fixture(params=HARNESSES, ids=lambda h: h.platform)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A started double with the suite's catalog seeded, default store options."""
    with request.param() as started:
        started.seed_catalog()
        yield started


@pytest.fixture
def running(request: pytest.FixtureRequest) -> Iterator[Running]:
    """The ``OpCase`` a test is parametrised with (``op_cases()``, indirect), its double
    started and seeded."""
    case: OpCase = request.param
    with case.harness(case.options) as started:
        started.seed_catalog()
        yield Running(started, started.capabilities.op(case.op))
