"""Per-profile transformation rules: price rules, stock rules and identifier clean-up.

The shape of a rule set is declared once, by the pydantic models in
``feedsync.models`` (``Rules``, ``PriceRules``, ``PriceTier``, ``StockRules``): they
refuse unknown keys, say which key path is wrong (``rules.price_rules.tiers[1].max:
expected a number``) and give the OpenAPI schema. This module stays free of pydantic:
the models call its value parsers (``money_text``, ``percent_text``, ...) so a value
means the same when validated and when compiled, and :func:`compile_rules` takes the
validated rules as the plain dict the model dumps (``Rules.spec()``, also the stored
form) and compiles them once into closures over plain ints. The closures run on the
per-row path, so they do integer arithmetic only.

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
from typing import Any, Final, Literal, Protocol, get_args

from feedsync.domain.money import STOCK_HINT, format_money, parse_stock

# ---------------------------------------------------------------------------
# Value parsers: what the models validate with and the compilers read with
# ---------------------------------------------------------------------------

_MAX_AMOUNT: Final = Decimal(1_000_000_000)  # money values in a spec, in major units
_MAX_PERCENT: Final = Decimal(100_000)
_MAX_FACTOR: Final = Decimal(1_000_000)
_MAX_PLACES: Final = 6  # decimal places allowed in a factor or a percentage
_MAX_QTY: Final = 1_000_000_000


def parse_decimal(value: object) -> Decimal:
    """A finite Decimal from a JSON string or number (floats via their shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("expected a number")
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        d = Decimal(text)
    except InvalidOperation:
        hint = " (use a dot for decimals)" if re.fullmatch(r"-?\d+,\d+", text) else ""
        raise ValueError(f"expected a number{hint}") from None
    if not d.is_finite():
        raise ValueError("expected a number")
    return d


def money_cents(value: object, *, negative_ok: bool = False) -> int:
    """A money value from the spec ("1.50", 1.5) -> cents (150)."""
    d = parse_decimal(value)
    if d < 0 and not negative_ok:
        raise ValueError("cannot be negative")
    if abs(d) >= _MAX_AMOUNT:
        raise ValueError("too large")
    cents = d * 100
    if cents != cents.to_integral_value():
        raise ValueError("at most 2 decimal places")
    return int(cents)


def money_text(value: object, *, negative_ok: bool = False) -> str:
    """A money value in its stored form: ``1.5`` -> ``"1.50"``."""
    return format_money(money_cents(value, negative_ok=negative_ok))


def _ratio_value(value: object, *, low: Decimal, high: Decimal) -> Decimal:
    """A percentage or factor: bounded, at most _MAX_PLACES decimals (kept exact)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    d = parse_decimal(value).normalize()
    if not low <= d <= high:
        raise ValueError(f"must be between {low} and {high}")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_PLACES:
        raise ValueError(f"at most {_MAX_PLACES} decimal places")
    return d


def _dec_str(d: Decimal) -> str:
    return format(d.normalize(), "f")


def percent_text(value: object) -> str:
    """A markup percentage in its stored form: ``25.0`` / ``"25%"`` -> ``"25"``."""
    return _dec_str(_ratio_value(value, low=Decimal(-100), high=_MAX_PERCENT))


def factor_text(value: object) -> str:
    """A currency factor (> 0) in its stored form: ``1.080`` -> ``"1.08"``."""
    f = _ratio_value(value, low=Decimal(0), high=_MAX_FACTOR)
    if f == 0:
        raise ValueError("must be greater than 0")
    return _dec_str(f)


def count(value: object) -> int:
    """A whole, non-negative quantity from the spec (JSON int or integer string)."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, int):
        n = value
    else:
        try:
            d = parse_decimal(value)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if d != d.to_integral_value():
            raise ValueError("expected a whole number")
        n = int(d)
    if n < 0:
        raise ValueError("cannot be negative")
    if n > _MAX_QTY:
        raise ValueError("too large")
    return n


# ---------------------------------------------------------------------------
# Price rules
# ---------------------------------------------------------------------------

Rounding = Literal["0.99", "0.95", "0.05", "1", "none"]
TiersBy = Literal["price", "cost"]
PriceRuleField = Literal["price", "sale_price", "retail_price"]
ROUNDINGS: Final[tuple[Rounding, ...]] = get_args(Rounding)
PRICE_RULE_FIELDS: Final[tuple[PriceRuleField, ...]] = get_args(PriceRuleField)

_ROUND_BY_VALUE: Final[dict[Decimal, Rounding]] = {Decimal(r): r for r in ROUNDINGS if r != "none"}


class PriceRule(Protocol):
    """A compiled price rule: cents in, cents out.

    ``cost`` is the row's raw ``cost_price`` in cents (or None); it is only read when
    the rule has tiers chosen by cost. Never raises for a non-negative input.
    """

    def __call__(self, cents: int, cost: int | None = None, /) -> int: ...


def rounding_text(value: object) -> Rounding:
    """A rounding in its stored form: ``".99"`` -> ``"0.99"``, ``1`` -> ``"1"``, None -> none."""
    msg = f"expected one of {', '.join(ROUNDINGS)}"
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return "none"
    try:
        d = parse_decimal(value)
    except ValueError:
        raise ValueError(msg) from None
    try:
        return _ROUND_BY_VALUE[d]
    except KeyError:
        raise ValueError(msg) from None


def _markup(percent: object, add: object) -> tuple[int, int, int]:
    """(numerator, denominator, add_cents) for ``v * (1 + percent/100) + add``."""
    pct = Decimal(percent_text(percent)) if percent is not None else Decimal(0)
    m = (Decimal(100) + pct) / 100  # exact: percent has <= 6 places
    num, den = m.as_integer_ratio()
    return num, den, money_cents(add, negative_ok=True) if add is not None else 0


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


def compile_price_rules(spec: Mapping[str, Any] | None) -> PriceRule | None:
    """Compile validated price rules (``PriceRules.spec()``); None when they change nothing.

    Values are read with the parsers above, so loose numbers (``25``, ``"25%"``) compile
    as the model would store them; the shape is the model's to check. The result is
    called per row as ``rule(cents)`` or ``rule(cents, cost_cents)``.
    """
    spec = spec or {}
    factor = spec.get("currency_factor")
    f_num, f_den = Decimal(factor_text(factor) if factor is not None else "1").as_integer_ratio()
    f2_den = 2 * f_den
    flat = _markup(spec.get("markup_percent"), spec.get("add"))
    tiers = tuple(
        sorted(
            (
                (
                    money_cents(t.get("min") or 0),
                    money_cents(t["max"]) if t.get("max") is not None else None,
                    *_markup(t.get("markup_percent"), t.get("add")),
                )
                for t in spec.get("tiers") or ()
            ),
            key=lambda t: t[0],
        )
    )
    by_cost = spec.get("tiers_by") == "cost"
    rnd = _round_step(rounding_text(spec.get("round")))
    low = money_cents(spec["min"]) if spec.get("min") is not None else None
    high = money_cents(spec["max"]) if spec.get("max") is not None else None
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

GreaterThanAs = Literal["value", "value+1"]
_GT_RE: Final = re.compile(r">\s*(.+)|(.+?)\s*\+")
_WORDS_LISTED: Final = 10


def stock_word_key(text: str) -> str:
    """How a stock word is looked up: no whitespace, casefolded ("In Stock" = "instock")."""
    return "".join(text.split()).casefold()


def stock_word(word: object) -> str:
    """A ``text`` word in its stored form (lower case, single spaces); refuses words
    that are empty or already read as a quantity ("7", ">10")."""
    if not isinstance(word, str) or not word.strip():
        raise ValueError("expected a word")
    if _is_quantity(word.strip()):
        raise ValueError("a number is already read as a quantity")
    return " ".join(word.split()).casefold()


def _is_quantity(text: str) -> bool:
    try:
        parse_stock(text)
    except ValueError:
        return False
    return True


def compile_stock_rules(spec: Mapping[str, Any] | None) -> Callable[[str], int] | None:
    """Compile validated stock rules (``StockRules.spec()``); None when absent or empty.

    The result replaces ``parse_stock`` for the stock cell: raw text in, final
    quantity out; ValueError (merchant-readable) for text it cannot read.
    """
    if not spec:
        return None
    buffer = count(spec.get("buffer") or 0)
    zero_below = count(spec.get("zero_below") or 0)
    cap = count(spec["cap"]) if spec.get("cap") is not None else None
    plus = 1 if spec.get("greater_than_as") == "value+1" else 0
    text: Mapping[str, object] = spec.get("text") or {}
    words: dict[str, int] = {stock_word_key(w): count(q) for w, q in text.items()}
    names = [" ".join(w.split()).casefold() for w in text]
    listed = ", ".join(names[:_WORDS_LISTED]) + (", ..." if len(names) > _WORDS_LISTED else "")
    unknown = f"expected a quantity or one of: {listed}" if names else STOCK_HINT

    def read(text: str) -> int:
        q = words.get(stock_word_key(text))
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


# What the digits' weighted byte sum counts for "0" bytes alone, per length (GS1 weights
# 3 and 1 alternate from the digit left of the check digit).
_ZERO_BYTES: Final = tuple(48 * (3 * (n // 2) + (n + 1) // 2) for n in range(15))


def _check_digit_ok(digits: str) -> bool:
    """Whether 1-14 ASCII ``digits`` end in their GS1 check digit (leading zeros do not
    change it). Sums bytes in C: the store side runs this once per variant imported."""
    b = digits.encode()
    return (3 * sum(b[-2::-2]) + sum(b[-1::-2]) - _ZERO_BYTES[len(b)]) % 10 == 0


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


def _gtin14(digits: str) -> str | None:
    """The GTIN-14 of 8-14 ASCII digits, else None: left-padded with zeros when the check
    digit holds, or an 8-digit UPC-E expanded to its UPC-A when its own check digit does."""
    if _check_digit_ok(digits):
        return digits.zfill(14)
    if len(digits) == 8:
        upc_a = _upc_e_to_upc_a(digits)
        if upc_a is not None and _check_digit_ok(upc_a):
            return upc_a.zfill(14)
    return None


def gtin_key(text: str) -> str:
    """A barcode's match key: its GTIN-14 (14 digits); ValueError, saying why, otherwise.

    Spaces and dashes are removed and the digits left-padded to 14, so a UPC-A written
    ``84500001002`` (the spreadsheet dropped its zero), ``084500001002`` or
    ``0084500001002`` (as an EAN-13) is one key. 8 to 14 digits are taken, the padded code
    must pass the GS1 check digit; an 8-digit code that is no valid GTIN-8 but a valid
    UPC-E becomes its UPC-A's key. Fewer than 8 digits is not a GTIN with zeros dropped (the
    shortest GTIN has 8) and is most often a wrong column (quantities, internal numbers),
    so it is refused like more than 14, scientific notation, decimals and letters.
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
    n = len(digits)
    if n > 14:
        raise ValueError(f"barcode '{s}' has {n} digits; a GTIN has at most 14")
    if n < 8:
        hint = (
            "a leading zero may have been dropped: re-export the column as text"
            if n == 7
            else "is the right column mapped?"
        )
        raise ValueError(f"barcode '{s}' has {n} digits; a GTIN has at least 8 ({hint})")
    key = _gtin14(digits)
    if key is None:
        kind = _GTIN_LENGTHS.get(n) or "GTIN-12"  # 9-11 digits: a UPC-A that lost zeros
        width = int(kind[5:])
        read_as = f"read as {digits.zfill(width)}, " if width != n else ""
        expected = gtin_check_digit(digits[:-1])
        raise ValueError(
            f"barcode '{s}' fails the {kind} check digit ({read_as}expected {expected})"
        )
    return key


def barcode_key(text: str) -> str:
    """A barcode's match key without refusing anything: its GTIN-14 when it is a valid
    GTIN (as :func:`gtin_key` reads it), else the code as written, stripped.

    Store barcodes go through this (a store may hold internal codes), and so do feed
    barcodes when ``validate_barcodes`` is off: an internal code then matches the same
    internal code in the store, and a real GTIN matches however many zeros it lost.
    """
    s = text.strip()
    n = len(s)
    if 8 <= n <= 14 and s.isdigit() and s.isascii():  # the usual case, kept short
        if _check_digit_ok(s):
            return s.zfill(14)
        return (n == 8 and _gtin14(s)) or s
    digits = _SEPARATORS_RE.sub("", s)
    if 8 <= len(digits) <= 14 and digits.isascii() and digits.isdigit():
        key = _gtin14(digits)
        if key is not None:
            return key
    return s


# ---------------------------------------------------------------------------
# All rules of a profile
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A profile's rules, compiled once per run. How the parser applies them per row:

    - ``sku``: ``normalize_sku(text, case_insensitive=rules.sku_case_insensitive)``
      (the catalog side's SKUs must go through the same call to match).
    - ``barcode`` (only when ``match_barcodes``: rows are matched by barcode):
      ``gtin_key(text)`` when ``validate_barcodes``, a ValueError skipping the row (row
      number, column, value, message); else ``barcode_key(text)``, which refuses nothing.
      The catalog side keys its barcodes with ``barcode_key``, so both meet as GTIN-14.
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
    match_barcodes: bool = True


def compile_rules(profile_rules: Mapping[str, Any] | None) -> CompiledRules:
    """Compile a profile's validated ``rules`` (``Rules.spec()``; None: defaults).

    Takes the plain dict rather than the model so the domain stays free of pydantic
    and the per-row closures hold nothing but ints. Defaults: no price or stock
    rules, SKUs case-sensitive, barcodes validated. ``price_rules.apply_to`` (default
    ``["price"]``) picks the money fields the price rule applies to; ``cost_price`` is
    never transformed (it is the tier basis).
    """
    spec = profile_rules or {}
    price_spec: Mapping[str, Any] = spec.get("price_rules") or {}
    rule = compile_price_rules(price_spec)
    money: dict[str, PriceRule] = {}
    if rule is not None:
        for f in price_spec.get("apply_to") or ["price"]:
            money[f] = rule
    uses_cost = bool(rule and price_spec.get("tiers") and price_spec.get("tiers_by") == "cost")
    return CompiledRules(
        money=money,
        money_uses_cost=uses_cost,
        stock=compile_stock_rules(spec.get("stock_rules")),
        sku_case_insensitive=spec.get("sku_case_insensitive") is True,
        validate_barcodes=spec.get("validate_barcodes") is not False,
    )
