"""Per-profile transformation rules: price rules, stock rules and identifier clean-up.

Rules arrive as JSON from the profile, are validated once (``validate_*`` returns the
normalised spec for the API; errors are ValueError naming the key path, such as
``price_rules.tiers[1].max: expected a number``) and compiled once into closures over
plain ints. The closures run on the per-row path, so they do integer arithmetic only.

Price rules (all keys optional; amounts are in the feed's money, strings preferred)::

    {"currency_factor": "1.08", "markup_percent": "25", "add": "1.50",
     "tiers": [{"min": "0", "max": "10", "markup_percent": "50", "add": "0.5"},
               {"min": "10", "markup_percent": "30"}],
     "tiers_by": "price" | "cost", "round": "0.99" | "0.95" | "0.05" | "1" | "none",
     "min": "5.00", "max": "999.99", "apply_to": ["price", "sale_price"]}

Order of operations, each step rounding ROUND_HALF_UP to whole cents:

1. currency factor: ``v = v * currency_factor``.
2. markup: the tier whose range holds the tier basis (``min <= basis < max``; a tier
   without ``max`` is open-ended) gives ``v = v * (1 + markup_percent/100) + add``;
   a tier's missing markup/add is 0 (tiers override the flat values). When there
   are no tiers, or the basis falls in a gap between tiers, the flat
   ``markup_percent``/``add`` apply. The basis is the value after step 1
   (``tiers_by: "price"``, the default) or the row's ``cost_price`` after step 1
   (``tiers_by: "cost"``; falls back to the value itself when the row has no cost).
   A negative result (discount markup, negative add) becomes 0.
3. rounding: ``"0.99"``/``"0.95"`` = the smallest price ending in .99/.95 at or
   above the value (12.99 stays 12.99, 13.00 -> 13.99); ``"0.05"`` = nearest 0.05,
   half up; ``"1"`` = nearest whole unit, half up; ``"none"`` (default) = unchanged.
4. clamp to ``min``/``max`` (a clamped price may lose its .99 ending).

The arithmetic is exact: the decimal spec values are turned into integer ratios with
:mod:`decimal` at compile time, so ``19.99 * 1.25 = 24.9875 -> 24.99`` with no float
drift, and the result equals the same steps done in Decimal with ROUND_HALF_UP.

Stock rules::

    {"buffer": 2, "zero_below": 3, "cap": 500,
     "text": {"in stock": 100, "out of stock": 0, "yes": 10, "no": 0},
     "greater_than_as": "value" | "value+1"}

The stock callable takes the raw cell text: a number ("7", "7.0", "1,200"), a word
from ``text`` (case- and whitespace-insensitive: "In Stock" = "instock"), or ">10" /
"10+" (10, or 11 with ``greater_than_as: "value+1"``). Then: subtract ``buffer``
(floor 0); below ``zero_below`` -> 0; at most ``cap``. Words go through the same steps.

How the CSV parser uses :func:`compile_rules` (see :class:`CompiledRules`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Final, Protocol

from feedsync.domain.money import STOCK_HINT, format_money, parse_stock

# ---------------------------------------------------------------------------
# Shared spec helpers
# ---------------------------------------------------------------------------

_MAX_AMOUNT: Final = Decimal(1_000_000_000)  # money values in a spec, in major units
_MAX_PERCENT: Final = Decimal(100_000)
_MAX_FACTOR: Final = Decimal(1_000_000)
_MAX_PLACES: Final = 6  # decimal places allowed in a factor or a percentage
_MAX_QTY: Final = 1_000_000_000


def _expect_mapping(spec: object, path: str) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{path}: expected an object")
    return spec


def _check_keys(spec: Mapping[str, Any], known: tuple[str, ...], path: str) -> None:
    for key in spec:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            raise ValueError(f"{where}: unknown key; known keys are: {', '.join(known)}")


def _decimal(value: object, path: str) -> Decimal:
    """A finite Decimal from a JSON string or number (floats via their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{path}: expected a number")
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        d = Decimal(text)
    except InvalidOperation:
        hint = " (use a dot for decimals)" if re.fullmatch(r"-?\d+,\d+", text) else ""
        raise ValueError(f"{path}: expected a number{hint}") from None
    if not d.is_finite():
        raise ValueError(f"{path}: expected a number")
    return d


def _amount(value: object, path: str, *, negative_ok: bool = False) -> int:
    """A money value from the spec ("1.50") -> cents (150)."""
    d = _decimal(value, path)
    if d < 0 and not negative_ok:
        raise ValueError(f"{path}: cannot be negative")
    if abs(d) >= _MAX_AMOUNT:
        raise ValueError(f"{path}: too large")
    cents = d * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{path}: at most 2 decimal places")
    return int(cents)


def _ratio_value(value: object, path: str, *, low: Decimal, high: Decimal) -> Decimal:
    """A percentage or factor: bounded, at most _MAX_PLACES decimals (kept exact)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    d = _decimal(value, path).normalize()
    if not low <= d <= high:
        raise ValueError(f"{path}: must be between {low} and {high}")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_PLACES:
        raise ValueError(f"{path}: at most {_MAX_PLACES} decimal places")
    return d


def _dec_str(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _count(value: object, path: str) -> int:
    """A whole, non-negative quantity from the spec (JSON int or integer string)."""
    if isinstance(value, bool):
        raise ValueError(f"{path}: expected a whole number")
    if isinstance(value, int):
        n = value
    else:
        try:
            d = _decimal(value, path)
        except ValueError:
            raise ValueError(f"{path}: expected a whole number") from None
        if d != d.to_integral_value():
            raise ValueError(f"{path}: expected a whole number")
        n = int(d)
    if n < 0:
        raise ValueError(f"{path}: cannot be negative")
    if n > _MAX_QTY:
        raise ValueError(f"{path}: too large")
    return n


# ---------------------------------------------------------------------------
# Price rules
# ---------------------------------------------------------------------------

PRICE_KEYS: Final = (
    "currency_factor",
    "markup_percent",
    "add",
    "tiers",
    "tiers_by",
    "round",
    "min",
    "max",
    "apply_to",
)
TIER_KEYS: Final = ("min", "max", "markup_percent", "add")
TIERS_BY: Final = ("price", "cost")
ROUNDINGS: Final = ("0.99", "0.95", "0.05", "1", "none")
PRICE_RULE_FIELDS: Final = ("price", "sale_price", "retail_price")

_ROUND_BY_VALUE: Final = {Decimal(r): r for r in ROUNDINGS if r != "none"}


class PriceRule(Protocol):
    """A compiled price rule: cents in, cents out.

    ``cost`` is the row's raw ``cost_price`` in cents (or None); it is only read when
    the rule has tiers chosen by cost. Never raises for a non-negative input.
    """

    def __call__(self, cents: int, cost: int | None = None, /) -> int: ...


def validate_price_rules(
    spec: Mapping[str, Any] | None, path: str = "price_rules"
) -> dict[str, Any]:
    """Check a price-rules spec; return it normalised (only the keys given).

    Numbers come back as canonical strings (money as "1.50", percentages as "25"),
    tiers sorted by ``min``. Raises ValueError naming the key path.
    """
    if spec is None:
        return {}
    spec = _expect_mapping(spec, path)
    _check_keys(spec, PRICE_KEYS, path)
    out: dict[str, Any] = {}
    if "currency_factor" in spec:
        f = _ratio_value(
            spec["currency_factor"], f"{path}.currency_factor", low=Decimal(0), high=_MAX_FACTOR
        )
        if f == 0:
            raise ValueError(f"{path}.currency_factor: must be greater than 0")
        out["currency_factor"] = _dec_str(f)
    if "markup_percent" in spec:
        out["markup_percent"] = _percent_str(spec["markup_percent"], f"{path}.markup_percent")
    if "add" in spec:
        out["add"] = format_money(_amount(spec["add"], f"{path}.add", negative_ok=True))
    if "tiers" in spec:
        out["tiers"] = _validate_tiers(spec["tiers"], f"{path}.tiers")
    if "tiers_by" in spec:
        by = spec["tiers_by"]
        if by not in TIERS_BY:
            raise ValueError(f"{path}.tiers_by: expected one of {', '.join(TIERS_BY)}")
        out["tiers_by"] = by
    if "round" in spec:
        out["round"] = _rounding(spec["round"], f"{path}.round")
    low = high = None
    if "min" in spec:
        low = _amount(spec["min"], f"{path}.min")
        out["min"] = format_money(low)
    if "max" in spec:
        high = _amount(spec["max"], f"{path}.max")
        out["max"] = format_money(high)
    if low is not None and high is not None and high < low:
        raise ValueError(f"{path}.max: must not be less than min ({format_money(low)})")
    if "apply_to" in spec:
        out["apply_to"] = _apply_to(spec["apply_to"], f"{path}.apply_to")
    return out


def _percent_str(value: object, path: str) -> str:
    return _dec_str(_ratio_value(value, path, low=Decimal(-100), high=_MAX_PERCENT))


def _rounding(value: object, path: str) -> str:
    msg = f"{path}: expected one of {', '.join(ROUNDINGS)}"
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return "none"
    try:
        d = _decimal(value, path)
    except ValueError:
        raise ValueError(msg) from None
    try:
        return _ROUND_BY_VALUE[d]
    except KeyError:
        raise ValueError(msg) from None


def _apply_to(value: object, path: str) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{path}: expected a non-empty list of fields")
    fields: list[str] = []
    for i, f in enumerate(value):
        if f not in PRICE_RULE_FIELDS:
            raise ValueError(f"{path}[{i}]: expected one of {', '.join(PRICE_RULE_FIELDS)}")
        if f not in fields:
            fields.append(f)
    return fields


def _validate_tiers(value: object, path: str) -> list[dict[str, str]]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{path}: expected a list of tiers")
    parsed: list[tuple[int, int | None, int, dict[str, str]]] = []
    for i, tier in enumerate(value):
        tpath = f"{path}[{i}]"
        tier = _expect_mapping(tier, tpath)
        _check_keys(tier, TIER_KEYS, tpath)
        lo = _amount(tier.get("min", 0), f"{tpath}.min")
        hi = _amount(tier["max"], f"{tpath}.max") if tier.get("max") is not None else None
        if hi is not None and hi <= lo:
            raise ValueError(f"{tpath}.max: must be greater than min ({format_money(lo)})")
        norm = {"min": format_money(lo)}
        if hi is not None:
            norm["max"] = format_money(hi)
        if "markup_percent" in tier:
            norm["markup_percent"] = _percent_str(tier["markup_percent"], f"{tpath}.markup_percent")
        if "add" in tier:
            norm["add"] = format_money(_amount(tier["add"], f"{tpath}.add", negative_ok=True))
        parsed.append((lo, hi, i, norm))
    parsed.sort(key=lambda t: t[0])
    for (_lo0, hi0, i0, _n0), (lo1, _hi1, i1, _n1) in pairwise(parsed):
        if hi0 is None or lo1 < hi0:
            raise ValueError(f"{path}[{i1}].min: tier overlaps tiers[{i0}]")
    return [t[3] for t in parsed]


def _markup(percent: str | None, add: str | None) -> tuple[int, int, int]:
    """(numerator, denominator, add_cents) for ``v * (1 + percent/100) + add``."""
    m = (Decimal(100) + Decimal(percent or "0")) / 100  # exact: percent has <= 6 places
    num, den = m.as_integer_ratio()
    return num, den, int(Decimal(add or "0") * 100)


def _round_step(mode: str) -> Callable[[int], int] | None:
    if mode == "0.99":
        return lambda v: v - v % 100 + 99
    if mode == "0.95":
        return lambda v: v - v % 100 + (95 if v % 100 <= 95 else 195)
    if mode == "0.05":
        return lambda v: (v + 2) // 5 * 5
    if mode == "1":
        return lambda v: (v + 50) // 100 * 100
    return None


def compile_price_rules(
    spec: Mapping[str, Any] | None, path: str = "price_rules"
) -> PriceRule | None:
    """Validate and compile a price-rules spec; None when it changes nothing.

    The result is called per row as ``rule(cents)`` or ``rule(cents, cost_cents)``.
    """
    norm = validate_price_rules(spec, path)
    f_num, f_den = Decimal(norm.get("currency_factor", "1")).as_integer_ratio()
    f2_den = 2 * f_den
    flat = _markup(norm.get("markup_percent"), norm.get("add"))
    tiers = tuple(
        (
            int(Decimal(t["min"]) * 100),
            int(Decimal(t["max"]) * 100) if "max" in t else None,
            *_markup(t.get("markup_percent"), t.get("add")),
        )
        for t in norm.get("tiers", ())
    )
    by_cost = norm.get("tiers_by", "price") == "cost"
    rnd = _round_step(norm.get("round", "none"))
    low = int(Decimal(norm["min"]) * 100) if "min" in norm else None
    high = int(Decimal(norm["max"]) * 100) if "max" in norm else None
    has_factor = f_num != f_den
    if (has_factor, flat, tiers, rnd, low, high) == (False, (1, 1, 0), (), None, None, None):
        return None  # nothing configured that changes a price

    def rule(cents: int, cost: int | None = None, /) -> int:
        v = (2 * cents * f_num + f_den) // f2_den if has_factor else cents
        num, den, add = flat
        if tiers:
            if by_cost and cost is not None:
                basis = (2 * cost * f_num + f_den) // f2_den if has_factor else cost
            else:
                basis = v
            for lo, hi, t_num, t_den, t_add in tiers:
                if basis >= lo and (hi is None or basis < hi):
                    num, den, add = t_num, t_den, t_add
                    break
        if den == 1:
            v = v * num + add
            if v < 0:
                v = 0
        else:
            n = v * num + add * den
            v = (2 * n + den) // (2 * den) if n > 0 else 0
        if rnd is not None:
            v = rnd(v)
        if low is not None and v < low:
            v = low
        if high is not None and v > high:
            v = high
        return v

    return rule


# ---------------------------------------------------------------------------
# Stock rules
# ---------------------------------------------------------------------------

STOCK_KEYS: Final = ("buffer", "zero_below", "cap", "text", "greater_than_as")
GREATER_THAN_AS: Final = ("value", "value+1")
_GT_RE: Final = re.compile(r">\s*(.+)|(.+?)\s*\+")
_WORDS_LISTED: Final = 10


def _word_key(text: str) -> str:
    return "".join(text.split()).casefold()


def validate_stock_rules(
    spec: Mapping[str, Any] | None, path: str = "stock_rules"
) -> dict[str, Any]:
    """Check a stock-rules spec; return it normalised (only the keys given).

    Counts come back as ints; ``text`` words lower-cased with single spaces.
    """
    if spec is None:
        return {}
    spec = _expect_mapping(spec, path)
    _check_keys(spec, STOCK_KEYS, path)
    out: dict[str, Any] = {}
    for key in ("buffer", "zero_below", "cap"):
        if key in spec:
            out[key] = _count(spec[key], f"{path}.{key}")
    if "greater_than_as" in spec:
        if spec["greater_than_as"] not in GREATER_THAN_AS:
            raise ValueError(
                f"{path}.greater_than_as: expected one of {', '.join(GREATER_THAN_AS)}"
            )
        out["greater_than_as"] = spec["greater_than_as"]
    if "text" in spec:
        words = _expect_mapping(spec["text"], f"{path}.text")
        norm: dict[str, int] = {}
        seen: dict[str, str] = {}
        for word, qty in words.items():
            wpath = f"{path}.text[{word!r}]"
            if not isinstance(word, str) or not word.strip():
                raise ValueError(f"{wpath}: expected a word")
            key = _word_key(word)
            if key in seen:
                raise ValueError(f"{wpath}: same word as {seen[key]!r}")
            if _is_quantity(word.strip()):
                raise ValueError(f"{wpath}: a number is already read as a quantity")
            seen[key] = word
            norm[" ".join(word.split()).casefold()] = _count(qty, wpath)
        out["text"] = norm
    return out


def _is_quantity(text: str) -> bool:
    try:
        parse_stock(text)
    except ValueError:
        return False
    return True


def compile_stock_rules(
    spec: Mapping[str, Any] | None, path: str = "stock_rules"
) -> Callable[[str], int] | None:
    """Validate and compile stock rules; None when the spec is absent or empty.

    The result replaces ``parse_stock`` for the stock cell: raw text in, final
    quantity out; ValueError (merchant-readable) for text it cannot read.
    """
    norm = validate_stock_rules(spec, path)
    if not norm:
        return None
    buffer: int = norm.get("buffer", 0)
    zero_below: int = norm.get("zero_below", 0)
    cap: int | None = norm.get("cap")
    plus = 1 if norm.get("greater_than_as") == "value+1" else 0
    words: dict[str, int] = {_word_key(w): q for w, q in norm.get("text", {}).items()}
    names = list(norm.get("text", {}))
    listed = ", ".join(names[:_WORDS_LISTED]) + (", ..." if len(names) > _WORDS_LISTED else "")
    unknown = f"expected a quantity or one of: {listed}" if names else STOCK_HINT

    def read(text: str) -> int:
        q = words.get(_word_key(text))
        if q is not None:
            return q
        s = text.strip()
        m = _GT_RE.fullmatch(s)
        try:
            return parse_stock(m[1] or m[2]) + plus if m is not None else parse_stock(s)
        except ValueError as exc:
            if str(exc) == STOCK_HINT:  # not a number at all: list the accepted words
                raise ValueError(unknown) from None
            raise  # negative or fractional: parse_stock's message is already precise

    def stock(text: str) -> int:
        q = int(text) if text.isascii() and text.isdigit() else read(text)
        q -= buffer
        if q < zero_below or q < 0:
            return 0
        if cap is not None and q > cap:
            return cap
        return q

    return stock


# ---------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------

_SCI_RE: Final = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_DECIMAL_RE: Final = re.compile(r"\d+[.,]\d+")
_SEPARATORS_RE: Final = re.compile(r"[\s\-]+")
_GTIN_LENGTHS: Final = {8: "GTIN-8", 12: "GTIN-12", 13: "GTIN-13", 14: "GTIN-14"}


def normalize_sku(text: str, *, case_insensitive: bool) -> str:
    """SKU match key: surrounding whitespace removed (inner text kept as is);
    ``casefold()``-ed when the profile matches SKUs case-insensitively."""
    s = text.strip()
    return s.casefold() if case_insensitive else s


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before it (any GTIN length)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def _upc_e_to_upc_a(code: str) -> str | None:
    """Expand an 8-digit UPC-E (number system 0/1) to its 12-digit UPC-A, else None."""
    if code[0] not in "01":
        return None
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def normalize_barcode(text: str, *, check_digit: bool = True) -> str:
    """Barcode match key: digits only, leading zeros kept; ValueError when corrupt.

    - Scientific notation ("1.23457E+11") and decimals ("4006381333931.0") are
      refused: the spreadsheet stored the code as a number and lost digits.
    - Spaces and dashes are removed; anything else that is not a digit is refused.
    - With ``check_digit`` (the default), the code must be a GTIN-8/12/13/14 with a
      valid GS1 check digit (an 8-digit UPC-E is accepted by its own check digit);
      other lengths are refused, naming the lengths a GTIN may have. Without it, any
      run of digits is kept unchanged (internal or non-GTIN codes).
    """
    s = text.strip()
    if not s:
        raise ValueError("barcode is empty")
    if _SCI_RE.fullmatch(s):
        raise ValueError(
            f"barcode '{s}' is in scientific notation (the spreadsheet rounded it): "
            "re-export the column as text"
        )
    if _DECIMAL_RE.fullmatch(s):
        raise ValueError(
            f"barcode '{s}' has a decimal point (the spreadsheet stored it as a number): "
            "re-export the column as text"
        )
    digits = _SEPARATORS_RE.sub("", s)
    if not (digits.isascii() and digits.isdigit()):
        bad = next(ch for ch in digits if not ("0" <= ch <= "9"))
        raise ValueError(f"barcode '{s}' must contain only digits (found {bad!r})")
    if not check_digit:
        return digits
    kind = _GTIN_LENGTHS.get(len(digits))
    if kind is None:
        hint = (
            " (a leading zero may have been dropped: re-export the column as text)"
            if len(digits) in (7, 11)
            else ""
        )
        raise ValueError(
            f"barcode '{s}' has {len(digits)} digits; a GTIN has 8, 12, 13 or 14{hint}"
        )
    expected = gtin_check_digit(digits[:-1])
    if expected != ord(digits[-1]) - 48:
        if len(digits) == 8:
            upc_a = _upc_e_to_upc_a(digits)
            if upc_a is not None and gtin_check_digit(upc_a[:-1]) == ord(upc_a[-1]) - 48:
                return digits
        raise ValueError(f"barcode '{s}' fails the {kind} check digit (expected {expected})")
    return digits


# ---------------------------------------------------------------------------
# All rules of a profile
# ---------------------------------------------------------------------------

RULES_KEYS: Final = ("price_rules", "stock_rules", "sku_case_insensitive", "validate_barcodes")


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A profile's rules, compiled once per run. How the parser applies them per row:

    - ``sku``: ``normalize_sku(text, case_insensitive=rules.sku_case_insensitive)``
      (the catalog side's SKUs must go through the same call to match).
    - ``barcode``: ``normalize_barcode(text, check_digit=rules.validate_barcodes)``;
      a ValueError skips the row (row number, column, value, message).
    - ``stock``: ``(rules.stock or parse_stock)(text)`` on the stripped, non-empty
      cell; a ValueError skips the row. The callable is pure, so it can be memoised
      per text exactly like ``parse_stock``.
    - money: parse each money cell with ``parse_money`` first, then for each
      ``field, rule in rules.money.items()`` with a value ``v`` that is not None:
      ``v = rule(v, raw_cost)`` where ``raw_cost`` is the row's parsed
      ``cost_price`` before any rule (None when unmapped/empty). The rule never
      raises. When ``rules.money_uses_cost`` is False the result depends on ``v``
      alone, so the parser may memoise ``rule(parse_money(text))`` per text.
    With no ``money`` rules and no ``stock`` rule the numeric cells need nothing
    beyond today's parsing, so the existing fast path can stay as it is.
    """

    money: dict[str, PriceRule] = field(default_factory=dict)
    money_uses_cost: bool = False
    stock: Callable[[str], int] | None = None
    sku_case_insensitive: bool = False
    validate_barcodes: bool = True


def _flag(spec: Mapping[str, Any], key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValueError(f"{key}: expected true or false")
    return value


def validate_rules(profile_rules: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check a profile's ``rules`` object; return it normalised (keys given only).

    ``{"price_rules": {...}, "stock_rules": {...}, "sku_case_insensitive": false,
    "validate_barcodes": true}``; errors name the key path ("price_rules.add: ...").
    """
    if profile_rules is None:
        return {}
    spec = _expect_mapping(profile_rules, "rules")
    _check_keys(spec, RULES_KEYS, "")
    out: dict[str, Any] = {}
    if spec.get("price_rules") is not None:
        out["price_rules"] = validate_price_rules(spec["price_rules"])
    if spec.get("stock_rules") is not None:
        out["stock_rules"] = validate_stock_rules(spec["stock_rules"])
    for key, default in (("sku_case_insensitive", False), ("validate_barcodes", True)):
        if key in spec:
            out[key] = _flag(spec, key, default)
    return out


def compile_rules(profile_rules: Mapping[str, Any] | None) -> CompiledRules:
    """Validate and compile a profile's ``rules`` object (None: defaults).

    Defaults: no price or stock rules, SKUs case-sensitive, barcodes validated.
    ``price_rules.apply_to`` (default ``["price"]``) picks the money fields the price
    rule applies to; ``cost_price`` is never transformed (it is the tier basis).
    """
    norm = validate_rules(profile_rules)
    price_spec: dict[str, Any] = norm.get("price_rules", {})
    rule = compile_price_rules(price_spec)
    money: dict[str, PriceRule] = {}
    if rule is not None:
        for f in price_spec.get("apply_to", ["price"]):
            money[f] = rule
    uses_cost = bool(rule and price_spec.get("tiers") and price_spec.get("tiers_by") == "cost")
    return CompiledRules(
        money=money,
        money_uses_cost=uses_cost,
        stock=compile_stock_rules(norm.get("stock_rules")),
        sku_case_insensitive=norm.get("sku_case_insensitive", False),
        validate_barcodes=norm.get("validate_barcodes", True),
    )
