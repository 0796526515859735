"""Profile rules: price and stock transformations, identifier clean-up, spec errors."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from feedsync.domain.rules import (
    compile_price_rules,
    compile_rules,
    compile_stock_rules,
    gtin_check_digit,
    normalize_sku,
)
from feedsync.models import validate_price_rules, validate_rules, validate_stock_rules

CENT = Decimal("0.01")


def price(spec: dict[str, Any], cents: int, cost: int | None = None) -> int:
    rule = compile_price_rules(spec)
    assert rule is not None
    return rule(cents, cost)


# --- price rules -------------------------------------------------------------


@pytest.mark.parametrize("spec", [None, {}, {"round": "none"}, {"apply_to": ["sale_price"]}])
def test_no_effective_price_rules_compile_to_none(spec: dict[str, Any] | None) -> None:
    # Given a spec that changes nothing
    # When it is compiled
    rule = compile_price_rules(spec)
    # Then there is no rule to call per row (identity)
    assert rule is None


@pytest.mark.parametrize(
    ("spec", "cents", "expected"),
    [
        ({"markup_percent": "25"}, 1000, 1250),
        ({"markup_percent": "25"}, 1999, 2499),  # 24.9875 -> 24.99, no float drift
        ({"markup_percent": 25}, 1999, 2499),  # JSON number accepted
        ({"markup_percent": "25%"}, 1999, 2499),
        ({"add": "1.50"}, 1000, 1150),
        ({"markup_percent": "10", "add": "0.99"}, 1000, 1199),  # markup first, then add
        ({"markup_percent": "-10"}, 1000, 900),  # a discount
        ({"add": "-5.00"}, 300, 0),  # never below zero
        ({"markup_percent": "33.333"}, 300, 400),  # 3.99999 -> 4.00
        ({"markup_percent": "0.5"}, 1, 1),  # 0.01005 -> 0.01
        ({"markup_percent": "50"}, 1, 2),  # 0.015 -> 0.02 (half up)
    ],
)
def test_flat_markup_and_add(spec: dict[str, Any], cents: int, expected: int) -> None:
    # Given a flat markup/add rule
    # When a price is transformed
    result = price(spec, cents)
    # Then it is exact to the cent, half up
    assert result == expected


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (1000, 1080),  # 10.00 * 1.08
        (1999, 2159),  # 21.5892 -> 21.59
        (2, 2),  # 0.0216 -> 0.02
        (7, 8),  # 0.0756 -> 0.08
    ],
)
def test_currency_factor(cents: int, expected: int) -> None:
    # Given a currency factor alone
    # When a price is converted
    # Then it is rounded half up to the cent
    assert price({"currency_factor": "1.08"}, cents) == expected


def test_currency_factor_applies_before_markup() -> None:
    # Given a factor and a markup
    spec = {"currency_factor": "1.1", "markup_percent": "10"}
    # When 10.05 is transformed: 10.05 * 1.1 = 11.055 -> 11.06, then * 1.1 = 12.166 -> 12.17
    # Then the conversion was rounded to cents before the markup
    assert price(spec, 1005) == 1217


TIERS = [
    {"min": "0", "max": "10", "markup_percent": "50", "add": "0.5"},
    {"min": "10", "max": "100", "markup_percent": "30"},
    {"min": "200"},  # no markup: sold at cost
]


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (0, 50),  # 0 * 1.5 + 0.50
        (999, 1549),  # 9.99 * 1.5 + 0.5 = 15.485 -> 15.49
        (1000, 1300),  # min is inclusive: second tier
        (9999, 12999),  # 99.99 * 1.3 = 129.987 -> 129.99
        (10000, 12000),  # max is exclusive: gap 100..200 -> flat 20%
        (20000, 20000),  # open-ended tier without markup
    ],
)
def test_tiers_by_price_override_flat_markup(cents: int, expected: int) -> None:
    # Given tiers by price with a flat 20% for the gap
    spec = {"tiers": TIERS, "markup_percent": "20"}
    # When prices in each range are transformed
    # Then the tier holding the price sets markup and add
    assert price(spec, cents) == expected


def test_tiers_listed_out_of_order_are_sorted() -> None:
    # Given the same tiers in reverse order
    spec = {"tiers": list(reversed(TIERS)), "markup_percent": "20"}
    # When validated and applied
    # Then they are sorted by min and pick the same tier
    assert [t["min"] for t in validate_price_rules(spec)["tiers"]] == ["0.00", "10.00", "200.00"]
    assert price(spec, 999) == 1549


def test_tiers_by_cost_use_the_rows_cost_price() -> None:
    # Given tiers chosen by cost: cheap items +100%, others +10%
    spec = {
        "tiers_by": "cost",
        "tiers": [{"max": "5", "markup_percent": "100"}, {"min": "5", "markup_percent": "10"}],
    }
    # When a 20.00 price is transformed with a cost of 4.00, of 6.00 and without a cost
    cheap, dear, no_cost = price(spec, 2000, 400), price(spec, 2000, 600), price(spec, 2000)
    # Then the cost picks the tier, and the price itself when there is no cost
    assert (cheap, dear, no_cost) == (4000, 2200, 2200)


def test_tiers_by_cost_convert_the_cost_with_the_currency_factor() -> None:
    # Given tiers by cost with a boundary at 10.00 (store money) and a factor of 2
    spec = {
        "currency_factor": "2",
        "tiers_by": "cost",
        "tiers": [{"max": "10", "markup_percent": "100"}, {"min": "10"}],
    }
    # When the cost is 6.00 in the supplier's money (12.00 converted)
    # Then the upper tier applies to the converted price
    assert price(spec, 1000, 600) == 2000


@pytest.mark.parametrize(
    ("mode", "cents", "expected"),
    [
        ("0.99", 1299, 1299),  # already .99 stays
        ("0.99", 1300, 1399),
        ("0.99", 1201, 1299),
        ("0.99", 0, 99),
        (".99", 1250, 1299),
        ("0.95", 1295, 1295),  # already .95 stays
        ("0.95", 1296, 1395),  # above .95 -> next whole
        ("0.95", 1200, 1295),
        ("0.05", 1202, 1200),
        ("0.05", 1203, 1205),  # nearest, half up
        ("0.05", 1297, 1295),
        ("0.05", 1298, 1300),
        ("1", 1249, 1200),
        ("1", 1250, 1300),  # half up
        ("1", 1299, 1300),
        (1, 1249, 1200),
    ],
)
def test_rounding(mode: str | int, cents: int, expected: int) -> None:
    # Given a rounding rule
    # When a price is rounded
    # Then it ends as configured
    assert price({"round": mode}, cents) == expected


def test_rounding_applies_after_markup() -> None:
    # Given 25% and .99 endings: 19.99 -> 24.99 (already .99)
    # When 19.99 and 20.00 are transformed (20.00 -> 25.00 -> 25.99)
    # Then rounding saw the marked-up value
    spec = {"markup_percent": "25", "round": "0.99"}
    assert (price(spec, 1999), price(spec, 2000)) == (2499, 2599)


@pytest.mark.parametrize(("cents", "expected"), [(100, 500), (2000, 2099), (99999, 99999)])
def test_clamp_after_rounding(cents: int, expected: int) -> None:
    # Given min 5.00 and max 999.99 with .99 rounding
    spec = {"round": "0.99", "min": "5.00", "max": "999.99"}
    # When low, middle and high prices are transformed
    # Then the result is clamped last
    assert price(spec, cents) == expected


def test_clamp_max_can_break_the_ending() -> None:
    # Given a max that does not end in .99
    # When a price rounds above it
    # Then the clamp wins (documented order)
    assert price({"round": "0.99", "max": "50"}, 5050) == 5000


def _reference(spec: dict[str, Any], cents: int) -> int:
    """The documented steps done naively in Decimal with ROUND_HALF_UP."""
    v = (Decimal(cents) / 100 * Decimal(spec["currency_factor"])).quantize(CENT, ROUND_HALF_UP)
    m = 1 + Decimal(spec["markup_percent"]) / 100
    v = max(Decimal(0), (v * m + Decimal(spec["add"])).quantize(CENT, ROUND_HALF_UP))
    return int(v * 100)


@pytest.mark.parametrize(
    "spec",
    [
        {"currency_factor": "1.08", "markup_percent": "25", "add": "1.50"},
        {"currency_factor": "0.913", "markup_percent": "17.5", "add": "0"},
        {"currency_factor": "1.000001", "markup_percent": "-33.333333", "add": "-0.01"},
        {"currency_factor": "3", "markup_percent": "0.1", "add": "0.07"},
    ],
)
def test_integer_pipeline_matches_decimal_reference(spec: dict[str, Any]) -> None:
    # Given awkward factors and percentages
    rule = compile_price_rules(spec)
    assert rule is not None
    # When every price from 0.00 to 150.00 (and some large ones) is transformed
    values = [*range(15_001), 999_999_999, 123_456_789_01]
    # Then each equals the Decimal computation exactly
    mismatches = [c for c in values if rule(c) != _reference(spec, c)]
    assert mismatches == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"markup_percent": "abc"}, "price_rules.markup_percent: expected a number"),
        ({"markup_percent": True}, "price_rules.markup_percent: expected a number"),
        ({"markup_percent": "-150"}, "price_rules.markup_percent: must be between -100 and"),
        ({"markup_percent": "1e-9"}, "price_rules.markup_percent: at most 6 decimal places"),
        ({"add": "1,50"}, "price_rules.add: expected a number (use a dot for decimals)"),
        ({"add": "1.505"}, "price_rules.add: at most 2 decimal places"),
        ({"add": "NaN"}, "price_rules.add: expected a number"),
        ({"currency_factor": "0"}, "price_rules.currency_factor: must be greater than 0"),
        ({"min": "-1"}, "price_rules.min: cannot be negative"),
        ({"min": "10", "max": "5"}, "price_rules.max: must not be less than min (10.00)"),
        ({"round": "0.9"}, "price_rules.round: expected one of 0.99, 0.95, 0.05, 1, none"),
        ({"tiers_by": "weight"}, "price_rules.tiers_by: expected one of price, cost"),
        ({"markup": "25"}, "price_rules.markup: unknown key; known keys are: currency_factor"),
        ({"tiers": {"min": 0}}, "price_rules.tiers: expected a list"),
        ({"tiers": [{"min": "0"}, "x"]}, "price_rules.tiers[1]: expected an object"),
        (
            {"tiers": [{"min": "0", "max": "10"}, {"min": "10", "max": "ten"}]},
            "price_rules.tiers[1].max: expected a number",
        ),
        ({"tiers": [{"min": "5", "max": "5"}]}, "price_rules.tiers[0].max: must be greater"),
        (
            {"tiers": [{"min": "0", "max": "10"}, {"min": "9"}]},
            "price_rules.tiers[1].min: tier overlaps tiers[0]",
        ),
        ({"tiers": [{"min": "0"}, {"min": "9"}]}, "price_rules.tiers[1].min: tier overlaps"),
        ({"tiers": [{"mni": "0"}]}, "price_rules.tiers[0].mni: unknown key"),
        ({"apply_to": ["cost_price"]}, "price_rules.apply_to[0]: expected one of price, sale_"),
        ({"apply_to": "price"}, "price_rules.apply_to: expected a list"),
        ({"apply_to": []}, "price_rules.apply_to: must not be empty"),
    ],
)
def test_invalid_price_specs_name_the_key_path(spec: dict[str, Any], message: str) -> None:
    # Given an invalid spec
    # When it is validated (by the PriceRules model, before anything is compiled)
    with pytest.raises(ValueError) as exc:
        validate_price_rules(spec)
    # Then the message starts with the key path and says what is wrong
    assert str(exc.value).startswith(message)


def test_validate_price_rules_normalises() -> None:
    # Given a spec mixing JSON numbers and strings
    spec = {
        "currency_factor": 1.08,
        "markup_percent": "25.0",
        "add": "1.5",
        "round": ".99",
        "min": 5,
        "tiers": [{"min": "10", "markup_percent": "30"}],
        "apply_to": ["price", "sale_price", "price"],
    }
    # When it is validated
    norm = validate_price_rules(spec)
    # Then numbers are canonical strings and only given keys appear
    assert norm == {
        "currency_factor": "1.08",
        "markup_percent": "25",
        "add": "1.50",
        "round": "0.99",
        "min": "5.00",
        "tiers": [{"min": "10.00", "markup_percent": "30"}],
        "apply_to": ["price", "sale_price"],
    }
    # And the normalised form compiles to the same rule
    assert price(norm, 1234) == price(spec, 1234)


# --- stock rules -------------------------------------------------------------

WORDS = {"In Stock": 100, "out of stock": 0, "yes": 10, "no": 0}


def stock(spec: dict[str, Any], text: str) -> int:
    rule = compile_stock_rules(spec)
    assert rule is not None
    return rule(text)


def test_no_stock_rules_compile_to_none() -> None:
    # Given no stock rules
    # When compiled
    # Then the parser keeps parse_stock (identity)
    assert compile_stock_rules(None) is None
    assert compile_stock_rules({}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("7.0", 7),
        (" 12 ", 12),
        ("1,200", 1200),
        ("in stock", 100),
        ("IN  STOCK", 100),
        ("instock", 100),
        (" Yes ", 10),
        ("Out of Stock", 0),
        ("no", 0),
        (">10", 10),
        ("> 10", 10),
        ("10+", 10),
    ],
)
def test_stock_text_forms(text: str, expected: int) -> None:
    # Given a word table and no other rules
    # When a cell is read
    # Then numbers, words and ">N"/"N+" forms give a quantity
    assert stock({"text": WORDS}, text) == expected


def test_greater_than_as_value_plus_one() -> None:
    # Given greater_than_as value+1
    spec = {"greater_than_as": "value+1"}
    # When ">10" and "10+" and a plain 10 are read
    # Then only the open forms are bumped
    assert [stock(spec, t) for t in (">10", "10+", "10")] == [11, 11, 10]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 0),  # buffer floors at 0
        ("4", 0),  # 4 - 2 = 2, below 3 -> 0
        ("5", 3),  # 5 - 2 = 3, not below 3
        ("502", 500),
        ("1000", 500),  # capped
        ("in stock", 98),  # words go through the same steps
        ("yes", 8),
        (">10", 8),
    ],
)
def test_buffer_then_threshold_then_cap(text: str, expected: int) -> None:
    # Given buffer 2, zero below 3, cap 500
    spec = {"buffer": 2, "zero_below": 3, "cap": 500, "text": WORDS}
    # When quantities are read
    # Then buffer, threshold and cap apply in that order
    assert stock(spec, text) == expected


@pytest.mark.parametrize(
    ("spec", "text", "message"),
    [
        (
            {"text": WORDS},
            "maybe",
            "expected a quantity or one of: in stock, out of stock, yes, no",
        ),
        ({"buffer": 1}, "maybe", "expected a whole number of items such as 7"),
        ({"text": WORDS}, "-3", "stock cannot be negative"),
        ({"text": WORDS}, ">-3", "stock cannot be negative"),
        ({"text": WORDS}, ">lots", "expected a quantity or one of: in stock"),
        ({"text": WORDS}, "7.5", "stock must be a whole number"),
    ],
)
def test_unreadable_stock_raises(spec: dict[str, Any], text: str, message: str) -> None:
    # Given stock rules
    # When an unreadable cell is read
    with pytest.raises(ValueError) as exc:
        stock(spec, text)
    # Then the message tells the merchant what is accepted
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"buffer": -1}, "stock_rules.buffer: cannot be negative"),
        ({"buffer": "two"}, "stock_rules.buffer: expected a whole number"),
        ({"cap": 2.5}, "stock_rules.cap: expected a whole number"),
        ({"zero_below": True}, "stock_rules.zero_below: expected a whole number"),
        ({"text": ["in stock"]}, "stock_rules.text: expected an object"),
        ({"text": {"in stock": -1}}, "stock_rules.text['in stock']: cannot be negative"),
        ({"text": {"In Stock": 1, "instock": 2}}, "stock_rules.text['instock']: same word as"),
        ({"text": {"7": 1}}, "stock_rules.text['7']: a number is already read as a quantity"),
        ({"greater_than_as": "more"}, "stock_rules.greater_than_as: expected one of value"),
        ({"bufer": 2}, "stock_rules.bufer: unknown key"),
    ],
)
def test_invalid_stock_specs_name_the_key_path(spec: dict[str, Any], message: str) -> None:
    # Given an invalid stock spec
    # When it is validated (by the StockRules model, before anything is compiled)
    with pytest.raises(ValueError) as exc:
        validate_stock_rules(spec)
    # Then the message starts with the key path
    assert str(exc.value).startswith(message)


def test_validate_stock_rules_normalises() -> None:
    # Given counts as strings and a padded word
    spec = {"buffer": "2", "cap": 500, "text": {"  In   Stock ": "100"}}
    # When validated
    # Then counts are ints and words lower-case with single spaces
    assert validate_stock_rules(spec) == {"buffer": 2, "cap": 500, "text": {"in stock": 100}}


# --- identifiers -------------------------------------------------------------


def test_gtin_check_digit() -> None:
    # Given the body of a GTIN-13
    # When its check digit is computed
    # Then it matches the published one
    assert gtin_check_digit("400638133393") == 1


@pytest.mark.parametrize(
    ("text", "ci", "expected"),
    [
        ("  AB-12 ", False, "AB-12"),
        ("AB 12", False, "AB 12"),  # inner spaces kept
        ("  Ab-12x ", True, "ab-12x"),
        ("STRASSE", True, "strasse"),
        ("Straße", True, "strasse"),  # casefold, not just lower()
        ("Straße", False, "Straße"),
    ],
)
def test_normalize_sku(text: str, ci: bool, expected: str) -> None:
    # Given a SKU cell
    # When normalised with or without case-insensitive matching
    # Then it is trimmed and folded only when asked
    assert normalize_sku(text, case_insensitive=ci) == expected


# --- combined rules ------------------------------------------------------------


def test_compile_rules_defaults() -> None:
    # Given no rules in the profile
    # When compiled
    rules = compile_rules(None)
    # Then nothing is transformed, SKUs are case-sensitive, barcodes are validated
    assert rules.money == {}
    assert rules.stock is None
    assert (rules.sku_case_insensitive, rules.validate_barcodes, rules.money_uses_cost) == (
        False,
        True,
        False,
    )


def test_compile_rules_applies_price_rule_to_chosen_fields() -> None:
    # Given price rules for price and sale_price, tiers by cost, stock rules and flags
    rules = compile_rules(
        {
            "price_rules": {
                "markup_percent": "10",
                "tiers_by": "cost",
                "tiers": [{"min": "100", "markup_percent": "0"}],
                "apply_to": ["price", "sale_price"],
            },
            "stock_rules": {"buffer": 1},
            "sku_case_insensitive": True,
            "validate_barcodes": False,
        }
    )
    # When the compiled parts are used the way the parser does
    price_rule, sale_rule = rules.money["price"], rules.money["sale_price"]
    assert rules.stock is not None
    # Then both money fields use the rule, with the row's cost choosing the tier
    assert set(rules.money) == {"price", "sale_price"}
    assert (price_rule(1000, 500), sale_rule(900, 500), price_rule(1000, 20000)) == (
        1100,
        990,
        1000,
    )
    assert rules.money_uses_cost is True
    assert rules.stock("5") == 4
    assert (rules.sku_case_insensitive, rules.validate_barcodes) == (True, False)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"price_rules": {"add": "x"}}, "price_rules.add: expected a number"),
        ({"stock_rules": {"cap": -1}}, "stock_rules.cap: cannot be negative"),
        ({"validate_barcodes": "yes"}, "validate_barcodes: expected true or false"),
        ({"sku_rules": {}}, "sku_rules: unknown key; known keys are: price_rules"),
    ],
)
def test_compile_rules_errors_name_the_key_path(spec: dict[str, Any], message: str) -> None:
    # Given an invalid rules object
    # When validated (by the Rules model, before anything is compiled)
    with pytest.raises(ValueError) as exc:
        validate_rules(spec)
    # Then the error names the key path
    assert str(exc.value).startswith(message)


def test_validate_rules_round_trips() -> None:
    # Given a rules object
    spec = {"price_rules": {"add": 1}, "stock_rules": {"cap": "9"}, "sku_case_insensitive": True}
    # When validated
    norm = validate_rules(spec)
    # Then it is normalised and compiles the same
    assert norm == {
        "price_rules": {"add": "1.00"},
        "stock_rules": {"cap": 9},
        "sku_case_insensitive": True,
    }
    assert validate_rules(norm) == norm
