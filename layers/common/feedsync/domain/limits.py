"""Safety limits: a file that would change too much is held for the merchant, not applied.

A half-empty supplier file zeroes stock, a file in cents multiplies prices by 100: a run
whose changes break a limit ends ``held`` with its plan kept and its reasons, and writes
nothing until the merchant applies it on purpose. The tally runs over the changed rows
only (the match step's hot loop already has them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from feedsync.domain.capabilities import VISIBLE
from feedsync.domain.fields import MONEY_FIELDS

EXAMPLES: Final = 10  # example keys named per broken rule


@dataclass(frozen=True, slots=True)
class LimitRules:
    """A profile's limits; None switches a rule off."""

    max_changed_share: float | None = 0.5
    max_price_change_pct: float | None = 50
    max_zero_stock_share: float | None = 0.3
    min_rows_share: float | None = 0.5
    max_created: int | None = 1000  # items one run creates (create mode)


@dataclass(slots=True)
class LimitTally:
    """What the changed rows of one run would do, as the limits measure it."""

    rules: LimitRules
    changed: int = 0
    price_moves: int = 0
    largest_move_pct: float = 0.0  # the largest price move over the limit, in percent
    zeroed: int = 0
    changed_keys: list[str] = field(default_factory=list)
    price_keys: list[str] = field(default_factory=list)
    zeroed_keys: list[str] = field(default_factory=list)

    def add(self, key: str, changes: Sequence[tuple[str, Any, Any]]) -> None:
        """One changed row's changes ``(field, store value, new value)``. A full sync's
        rewrite of a value the store already holds is not a change it measures."""
        if all(old == new for _name, old, new in changes):
            return
        self.changed += 1
        if len(self.changed_keys) < EXAMPLES:
            self.changed_keys.append(key)
        pct = self.rules.max_price_change_pct
        moved = zeroed = False
        for name, old, new in changes:
            if name in MONEY_FIELDS:
                if pct is not None and isinstance(old, int) and isinstance(new, int) and old > 0:
                    move = abs(new - old) * 100 / old
                    if move > pct:
                        moved = True
                        self.largest_move_pct = max(self.largest_move_pct, move)
            elif name == "stock":
                zeroed = zeroed or (new == 0 and isinstance(old, int) and old > 0)
            elif name == VISIBLE:  # hiding a product takes it off sale as surely
                zeroed = zeroed or (old is True and new is False)
        if moved:
            self.price_moves += 1
            if len(self.price_keys) < EXAMPLES:
                self.price_keys.append(key)
        if zeroed:
            self.zeroed += 1
            if len(self.zeroed_keys) < EXAMPLES:
                self.zeroed_keys.append(key)

    def reasons(
        self, *, matched: int, rows: int, last_rows: int | None, shares_apply: bool
    ) -> list[dict[str, Any]]:
        """The broken rules, each ``{rule, limit, measured, examples}``.

        ``last_rows``: the rows of the profile's last successful run that read a file;
        ``shares_apply``: the profile synced before (the share rules start with its second
        successful run: a first sync changes everything by design).
        """
        rules = self.rules
        broken: list[dict[str, Any]] = []

        def hold(rule: str, limit: float, measured: float, examples: list[str]) -> None:
            broken.append(
                {"rule": rule, "limit": limit, "measured": round(measured, 4), "examples": examples}
            )

        if self.price_moves and rules.max_price_change_pct is not None:
            hold("max_price_change_pct", rules.max_price_change_pct, self.largest_move_pct,
                 self.price_keys)  # fmt: skip
        if not shares_apply:
            return broken
        if rules.min_rows_share is not None and last_rows:
            share = rows / last_rows
            if share < rules.min_rows_share:
                hold("min_rows_share", rules.min_rows_share, share, [])
        if matched and rules.max_changed_share is not None:
            share = self.changed / matched
            if share > rules.max_changed_share:
                hold("max_changed_share", rules.max_changed_share, share, self.changed_keys)
        if matched and rules.max_zero_stock_share is not None:
            share = self.zeroed / matched
            if share > rules.max_zero_stock_share:
                hold("max_zero_stock_share", rules.max_zero_stock_share, share,
                     self.zeroed_keys)  # fmt: skip
        return broken
