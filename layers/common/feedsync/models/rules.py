"""Price and stock rules as the API takes them and the store keeps them."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)

from feedsync.domain.rules import (
    GreaterThanAs,
    PriceRuleField,
    Rounding,
    TiersBy,
    count,
    factor_text,
    money_cents,
    money_text,
    percent_text,
    rounding_text,
    stock_word,
    stock_word_key,
)
from feedsync.models.limits import ENTRIES_MAX, PRICE_TIERS_MAX, STOCK_WORDS_MAX, Name
from feedsync.models.validation import (
    ErrorAt,
    Spec,
    validated,
)

# --------------------------------------------------------------------------- rules
# The rule set's shape; the values are read with the domain's parsers
# (feedsync.domain.rules), which compile the same values for the per-row path.


def _signed_money(value: object) -> str:
    return money_text(value, negative_ok=True)


_NUMBER_INPUT: Any = str | float
Money = Annotated[
    str,
    BeforeValidator(money_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description="an amount, at most 2 decimals", examples=["1.50"]),
]
SignedMoney = Annotated[
    str,
    BeforeValidator(_signed_money, json_schema_input_type=_NUMBER_INPUT),
    Field(description="an amount, may be negative", examples=["-0.50"]),
]
Percent = Annotated[
    str,
    BeforeValidator(percent_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description='a percentage -100..100000 ("25" or "25%")', examples=["25"]),
]
Factor = Annotated[
    str,
    BeforeValidator(factor_text, json_schema_input_type=_NUMBER_INPUT),
    Field(description="greater than 0, at most 6 decimals", examples=["1.08"]),
]
_COUNT_INPUT: Any = Annotated[int, Field(ge=0)] | str
Count = Annotated[
    int, Field(ge=0, examples=[2]), BeforeValidator(count, json_schema_input_type=_COUNT_INPUT)
]


class PriceTier(Spec):
    """The markup for values from ``min`` (inclusive) to ``max`` (exclusive; open when
    left out); its missing ``markup_percent``/``add`` are 0."""

    min: Money = "0.00"
    max: Money | None = None
    markup_percent: Percent | None = None
    add: SignedMoney | None = None

    @field_validator("max")
    @classmethod
    def _above_min(cls, high: str | None, info: ValidationInfo) -> str | None:
        low = info.data.get("min")
        if high is not None and low is not None and money_cents(high) <= money_cents(low):
            raise ValueError(f"must be greater than min ({low})")
        return high


class PriceRules(Spec):
    """How supplier prices become store prices: factor, markup (or tiers), rounding,
    clamp, in that order (see feedsync.domain.rules)."""

    currency_factor: Factor | None = None
    markup_percent: Percent | None = None
    add: SignedMoney | None = None
    tiers: list[PriceTier] | None = Field(
        default=None,
        max_length=PRICE_TIERS_MAX,
        description="non-overlapping ranges; sorted by min when stored",
    )
    tiers_by: TiersBy | None = Field(default=None, description="the tier basis (default price)")
    round: Rounding | None = Field(
        default=None, description="price endings; also written .99, 1 (default none)"
    )
    min: Money | None = None
    max: Money | None = None
    apply_to: list[PriceRuleField] | None = Field(
        default=None,
        min_length=1,
        max_length=ENTRIES_MAX,
        description='the money fields ruled (default ["price"])',
    )

    @field_validator("round", mode="before")
    @classmethod
    def _rounding(cls, value: object) -> object:
        return None if value is None else rounding_text(value)

    @field_validator("tiers")
    @classmethod
    def _sorted_apart(cls, tiers: list[PriceTier] | None) -> list[PriceTier] | None:
        if tiers is None:
            return None
        ranked = sorted(enumerate(tiers), key=lambda it: money_cents(it[1].min))
        for (i0, lower), (i1, upper) in pairwise(ranked):
            if lower.max is None or money_cents(upper.min) < money_cents(lower.max):
                raise ErrorAt(f"[{i1}].min", f"tier overlaps tiers[{i0}]")
        return [tier for _, tier in ranked]

    @field_validator("max")
    @classmethod
    def _not_below_min(cls, high: str | None, info: ValidationInfo) -> str | None:
        low = info.data.get("min")
        if high is not None and low is not None and money_cents(high) < money_cents(low):
            raise ValueError(f"must not be less than min ({low})")
        return high

    @field_validator("apply_to")
    @classmethod
    def _once_each(cls, fields: list[PriceRuleField] | None) -> list[PriceRuleField] | None:
        return None if fields is None else list(dict.fromkeys(fields))


class StockRules(Spec):
    """How the stock cell becomes a quantity: words, ``>10``, then buffer, zero below,
    cap (see feedsync.domain.rules)."""

    buffer: Count | None = None
    zero_below: Count | None = None
    cap: Count | None = None
    text: dict[Name, Count] | None = Field(
        default=None,
        max_length=STOCK_WORDS_MAX,
        description='words read as quantities, e.g. {"in stock": 100, "no": 0}',
    )
    greater_than_as: GreaterThanAs | None = Field(
        default=None, description='">10" / "10+" read as 10 (value) or 11 (value+1)'
    )

    @field_validator("text", mode="before")
    @classmethod
    def _words(cls, words: object) -> object:
        if not isinstance(words, Mapping) or len(words) > STOCK_WORDS_MAX:
            return words  # "expected an object" / "at most 100 entries"
        out: dict[str, int] = {}
        seen: dict[str, object] = {}
        for word, qty in words.items():
            where = f"[{word!r}]"
            try:
                norm = stock_word(word)
            except ValueError as exc:
                raise ErrorAt(where, str(exc)) from None
            key = stock_word_key(norm)
            if key in seen:
                raise ErrorAt(where, f"same word as {seen[key]!r}")
            seen[key] = word
            try:
                out[norm] = count(qty)
            except ValueError as exc:
                raise ErrorAt(where, str(exc)) from None
        return out


class Rules(Spec):
    """A profile's rules: price rules, stock rules and identifier handling."""

    price_rules: PriceRules | None = None
    stock_rules: StockRules | None = None
    sku_case_insensitive: StrictBool | None = Field(
        default=None, description="match SKUs ignoring case (default false)"
    )
    validate_barcodes: StrictBool | None = Field(
        default=None,
        description=(
            "skip a row whose barcode is no GTIN: 8-14 digits, zero-padded to 14, GS1 check "
            "digit (default true); false matches internal codes as written"
        ),
    )


RULES: TypeAdapter[Rules] = TypeAdapter(Rules)
PRICE_RULES: TypeAdapter[PriceRules] = TypeAdapter(PriceRules)
STOCK_RULES: TypeAdapter[StockRules] = TypeAdapter(StockRules)


def validate_rules(raw: object) -> dict[str, Any]:
    """A profile's raw ``rules`` in their stored form; InvalidValue names the key path."""
    return validated(RULES, raw or {}).spec()


def validate_price_rules(raw: object) -> dict[str, Any]:
    """Raw ``price_rules`` in their stored form (``price_rules.tiers[1].max: ...``)."""
    return validated(PRICE_RULES, raw or {}, "price_rules").spec()


def validate_stock_rules(raw: object) -> dict[str, Any]:
    """Raw ``stock_rules`` in their stored form (``stock_rules.cap: ...``)."""
    return validated(STOCK_RULES, raw or {}, "stock_rules").spec()
