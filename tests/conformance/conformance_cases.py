"""What the conformance tests are parametrised with: the harnesses, and every write
operation each platform declares (under the store options that enable it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from harnesses import HARNESSES
from harnesses.base import Harness

from feedsync.domain.capabilities import CREATE_OP, DELETE_OP, WriteOp
from feedsync.platforms.registry import platform


@dataclass(frozen=True)
class OpCase:
    """One write operation of one platform, under the store options that enable it."""

    harness: type[Harness]
    options: dict[str, Any] = field(hash=False)
    op: str = ""

    @property
    def id(self) -> str:
        return f"{self.harness.platform}-{self.op}"


def op_cases(keep: Callable[[WriteOp], bool] = lambda op: True) -> list[Any]:
    """Every write operation of every harness's platform (each under the first option set
    that has it), as params of the ``running`` fixture; ``keep`` narrows them to the
    operations a test is about (a filter at collection: nothing is skipped)."""
    cases = []
    for harness in HARNESSES:
        seen: set[str] = set()
        for options in harness.option_sets:
            for op in platform(harness.platform).capabilities(options).ops:
                # Create mode's operations take no changes: test_conformance_create.py.
                if op.name in seen or op.name in (CREATE_OP, DELETE_OP):
                    continue
                seen.add(op.name)
                if keep(op):
                    case = OpCase(harness, dict(options), op.name)
                    cases.append(pytest.param(case, id=case.id))
    return cases


@dataclass
class Running:
    """A write test's double, started and seeded, and the operation under test."""

    harness: Harness
    op: WriteOp
