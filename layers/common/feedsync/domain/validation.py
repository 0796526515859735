"""Refuse before sending what the platform's own specification says it will refuse.

Each platform declares its constraints (``Capabilities.constraints``: per canonical field
a ``FieldRule`` in canonical units); the match step asks ``Validator.refused`` of every
changed row, and the select step of every change it would send. A refused value costs
no request and fails no batch: the row is reported with the reason (field, value, the
platform's limit). A field whose rule ``needs_read`` is not written to an item whose read
shows no value for it (Amazon: a listing fulfilled by Amazon has no merchant quantity);
that withholds nothing else of the item, as the platform refuses nothing.

What is withheld with a refused value: the changes one request would carry with it. The
platform takes or refuses an item of one write operation whole (a BigCommerce variant
entry carries its price, stock, weight and image together), so sending the rest of that
item would only be refused with it; a change another operation writes (BigCommerce's
name on the product batch, Shopify's stock on its own mutation) still goes.

Per changed row this is a dict lookup and two comparisons per changed money or stock field
(a weight's decimal text is parsed); nothing else is allocated unless a value is refused
(rare): about 0.1 us per changed row (``bench/bench_validation.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlsplit

from feedsync.domain.capabilities import Capabilities, FieldRule
from feedsync.domain.fields import INT_FIELDS, MONEY_FIELDS
from feedsync.domain.money import format_money
from feedsync.domain.reconcile import Change

# The match log's status of a row with a refused value (the run's log says "failed").
REFUSED: Final = "refused"
# A long text is shown by its start in the reason.
_SHOWN_CHARS: Final = 60
_INF: Final = float("inf")


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host: the only kind a platform downloads an image from."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    scheme_ok = parts.scheme.lower() in ("http", "https")
    return scheme_ok and bool(host) and not any(c.isspace() for c in value)


def _shown(field: str, value: int | Decimal) -> str:
    if field in MONEY_FIELDS and isinstance(value, int):
        return format_money(value)
    return f"{value:,}" if field in INT_FIELDS else str(value)


def _noun(field: str) -> str:
    return field.replace("_", " ")


def _short(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


def _number(value: int | str) -> int | Decimal | None:
    """A value to compare with a rule's bounds: ints as they are, a weight's decimal text
    as a Decimal; None when it is not a number (the connector reports that itself)."""
    if isinstance(value, int):
        return value
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() else None


def reason(label: str, field: str, value: int | str, rule: FieldRule) -> str:
    """Why ``label`` would refuse ``value`` for ``field`` ("" when it would take it), e.g.
    "price -5.00: BigCommerce refuses a negative price (minimum 0)"."""
    if rule.minimum is not None or rule.maximum is not None:
        number = _number(value)
        low, high = rule.minimum, rule.maximum
        if number is not None and low is not None and number < low:
            said = f"{field} {_shown(field, number)}: {label}"
            if low == 0:
                return f"{said} refuses a negative {_noun(field)} (minimum 0)"
            return f"{said} takes at least {_shown(field, low)}"
        if number is not None and high is not None and number > high:
            return f"{field} {_shown(field, number)}: {label} takes at most {_shown(field, high)}"
    if isinstance(value, str):
        if rule.max_length is not None and len(value) > rule.max_length:
            return (
                f"{field} ({len(value):,} characters, {_short(value)}): {label} takes at most "
                f"{rule.max_length:,} characters"
            )
        if rule.web_url and not is_web_url(value):
            return (
                f"{field} {_short(value)}: {label} downloads images from an absolute http(s) "
                "URL only"
            )
    return ""


class Validator:
    """One platform's constraints, checked over a row's changes. ``unknown``: fields whose
    store value the index does not hold (no old value says nothing of them)."""

    def __init__(self, label: str, caps: Capabilities, unknown: Iterable[str] = ()) -> None:
        self.label = label
        self.caps = caps
        self.rules: Mapping[str, FieldRule] = dict(caps.constraints)
        skip = set(unknown)
        self._needs_read = {
            name: rule.needs_read
            for name, rule in self.rules.items()
            if rule.needs_read and name not in skip
        }
        # Fields bounded by numbers only (money, stock): an int inside them is taken with two
        # comparisons, the common case of the hot loop.
        self._bounds: dict[str, tuple[float, float]] = {
            name: (
                -_INF if rule.minimum is None else rule.minimum,
                _INF if rule.maximum is None else rule.maximum,
            )
            for name, rule in self.rules.items()
            if rule.max_length is None and not rule.web_url
        }
        self.refused = self._checker()

    def _checker(self) -> Callable[[Iterable[Change]], dict[str, str] | None]:
        """``refused``, with what it looks at in locals (it runs once per changed row)."""
        rule_of, bound_of, label = self.rules.get, self._bounds.get, self.label
        needs_read = self._needs_read

        def refused(changes: Iterable[Change]) -> dict[str, str] | None:
            """The refused fields of a row's changes and why; None when all are taken."""
            found: dict[str, str] | None = None
            for name, old, new in changes:
                bound = bound_of(name)
                if (
                    bound is not None
                    and type(new) is int
                    and bound[0] <= new <= bound[1]
                    and (old is not None or name not in needs_read)
                ):
                    continue
                rule = rule_of(name)
                if rule is None:
                    continue
                why = self.unread(name, old, new) or reason(label, name, new, rule)
                if why:
                    if found is None:
                        found = {}
                    found[name] = why
            return found

        return refused

    def line(self, field: str, value: int | str | None, old: int | str | None = 0) -> str:
        """Why one change would be refused ("" when it would not); ``old``: the store's."""
        rule = self.rules.get(field)
        if rule is None or value is None:
            return ""
        return self.unread(field, old, value) or reason(self.label, field, value, rule)

    def unread(self, field: str, old: int | str | None, new: int | str) -> str:
        """Why a field is not written to an item whose read has no value for it ("")."""
        why = self._needs_read.get(field) if old is None else None
        if not why:
            return ""
        shown = _shown(field, new) if isinstance(new, int) else _short(new)
        return f"{field} {shown}: not written: {why}"

    def withheld(
        self,
        product_id: int,
        variant_id: int,
        changes: tuple[Change, ...],
        refused: Mapping[str, str],
    ) -> tuple[tuple[Change, ...], dict[str, str]]:
        """The changes still to send, and those withheld with why: each refused value, and
        the changes one request would carry with it (see the module docstring)."""
        names = {name: None for name, _old, _new in changes}
        withheld = dict(refused)
        # Not written by feedsync's choice (no value read): nothing goes down with it.
        unread = {name for name, old, _new in changes if old is None and name in self._needs_read}
        for _op, mine in self.caps.route(product_id, variant_id, names):
            bad = [name for name in mine if name in refused and name not in unread]
            if not bad:
                continue
            for name in mine:
                if name not in withheld:
                    withheld[name] = (
                        f"{name} not sent: {self.label} takes it in one request with "
                        f"{', '.join(bad)}, which it refuses"
                    )
        kept = tuple(change for change in changes if change[0] not in withheld)
        return kept, withheld
