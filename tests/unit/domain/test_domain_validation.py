"""Pre-validation: each platform's own constraints, checked before anything is sent."""

from __future__ import annotations

import pytest

from feedsync.domain.capabilities import Capabilities, FieldRule, Quota, WriteOp
from feedsync.domain.validation import Validator, is_web_url, reason
from feedsync.platforms.bigcommerce.spec import capabilities as bigcommerce_caps
from feedsync.platforms.registry import PLATFORMS, capabilities_for

LONG_251 = "N" * 251
LONG_256 = "V" * 256


def _validator(platform: str) -> Validator:
    spec = PLATFORMS[platform]
    return Validator(spec.label, capabilities_for(platform))


@pytest.mark.parametrize(
    ("platform", "field", "value", "expected"),
    [
        # BigCommerce: product-variants_catalog.v3.yml / products_catalog.v3.yml
        (
            "bigcommerce",
            "price",
            -500,
            "price -5.00: BigCommerce refuses a negative price (minimum 0)",
        ),
        (
            "bigcommerce",
            "sale_price",
            -1,
            "sale_price -0.01: BigCommerce refuses a negative sale price (minimum 0)",
        ),
        (
            "bigcommerce",
            "retail_price",
            -100,
            "retail_price -1.00: BigCommerce refuses a negative retail price (minimum 0)",
        ),
        (
            "bigcommerce",
            "cost_price",
            -100,
            "cost_price -1.00: BigCommerce refuses a negative cost price (minimum 0)",
        ),
        (
            "bigcommerce",
            "stock",
            2_147_483_648,
            "stock 2,147,483,648: BigCommerce takes at most 2,147,483,647",
        ),
        ("bigcommerce", "stock", -1, "stock -1: BigCommerce refuses a negative stock (minimum 0)"),
        (
            "bigcommerce",
            "weight",
            "10000000000",
            "weight 10000000000: BigCommerce takes at most 9999999999",
        ),
        (
            "bigcommerce",
            "weight",
            "-0.5",
            "weight -0.5: BigCommerce refuses a negative weight (minimum 0)",
        ),
        ("bigcommerce", "name", LONG_251, "name (251 characters, 'NNNN"),
        ("bigcommerce", "brand", "B" * 256, "brand (256 characters, 'BBBB"),
        (
            "bigcommerce",
            "image_url",
            "ftp://cdn.example/a.jpg",
            "image_url 'ftp://cdn.example/a.jpg': BigCommerce downloads images from an absolute "
            "http(s) URL only",
        ),
        # Shopify: shopify_admin_schema.graphql
        ("shopify", "price", -500, "price -5.00: Shopify refuses a negative price (minimum 0)"),
        (
            "shopify",
            "retail_price",
            -500,
            "retail_price -5.00: Shopify refuses a negative retail price",
        ),
        ("shopify", "cost_price", -500, "cost_price -5.00: Shopify refuses a negative cost price"),
        (
            "shopify",
            "stock",
            1_000_000_001,
            "stock 1,000,000,001: Shopify takes at most 1,000,000,000",
        ),
        (
            "shopify",
            "stock",
            -1_000_000_001,
            "stock -1,000,000,001: Shopify takes at least -1,000,000,000",
        ),
        ("shopify", "weight", "-1", "weight -1: Shopify refuses a negative weight (minimum 0)"),
        ("shopify", "name", LONG_256, "name (256 characters, 'VVVV"),
        ("shopify", "brand", LONG_256, "brand (256 characters, 'VVVV"),
        (
            "shopify",
            "image_url",
            "/img/a.jpg",
            "image_url '/img/a.jpg': Shopify downloads images from an absolute http(s) URL only",
        ),
        # WooCommerce: its REST docs declare no maxima; prices and weights are never negative
        (
            "woocommerce",
            "price",
            -500,
            "price -5.00: WooCommerce refuses a negative price (minimum 0)",
        ),
        (
            "woocommerce",
            "sale_price",
            -500,
            "sale_price -5.00: WooCommerce refuses a negative sale price",
        ),
        (
            "woocommerce",
            "weight",
            "-2",
            "weight -2: WooCommerce refuses a negative weight (minimum 0)",
        ),
        (
            "woocommerce",
            "image_url",
            "https:///no-host.jpg",
            "image_url 'https:///no-host.jpg': WooCommerce downloads images",
        ),
    ],
)
def test_a_value_the_platforms_spec_refuses_is_named_with_its_limit(
    platform: str, field: str, value: int | str, expected: str
) -> None:
    # Given the platform's declared constraints
    validator = _validator(platform)
    # When a change carries a value its spec refuses
    refused = validator.refused([(field, None, value)])
    # Then that field is refused, the reason naming the field, the value and the limit
    assert refused is not None and list(refused) == [field]
    assert refused[field].startswith(expected)
    if field in ("name", "brand"):
        limit = 250 if (platform, field) == ("bigcommerce", "name") else 255
        assert refused[field].endswith(f"takes at most {limit} characters")
    assert validator.line(field, value) == refused[field]


@pytest.mark.parametrize(
    ("platform", "field", "value"),
    [
        ("bigcommerce", "price", 0),
        ("bigcommerce", "stock", 2_147_483_647),
        ("bigcommerce", "weight", "9999999999"),
        ("bigcommerce", "name", "N" * 250),
        ("bigcommerce", "brand", "B" * 255),
        ("bigcommerce", "description", "D" * 100_000),  # no maxLength in the spec
        ("bigcommerce", "image_url", "https://cdn.example/a.jpg"),
        ("shopify", "stock", 1_000_000_000),
        ("shopify", "name", "N" * 255),
        ("woocommerce", "name", "N" * 10_000),  # WooCommerce declares no maximum
        ("woocommerce", "stock", 10**12),
    ],
)
def test_a_value_at_the_limit_is_taken(platform: str, field: str, value: int | str) -> None:
    # Given the platform's constraints, When a change sits exactly at (or without) a limit
    validator = _validator(platform)
    # Then nothing is refused
    assert validator.refused([(field, None, value), ("price", 100, 200)]) is None
    assert validator.line(field, value) == ""


def test_every_platform_declares_its_constraints_with_where_they_come_from() -> None:
    # Given every registered platform, Then each constraint is on a field it writes and
    # names its source in the platform's specification
    for name in PLATFORMS:
        caps = capabilities_for(name)
        assert caps.constraints, name
        for field, rule in caps.constraints.items():
            assert field in caps.writable_fields, (name, field)
            assert rule.source, (name, field)


def test_a_platform_without_constraints_refuses_nothing() -> None:
    # Given a platform that declares no constraints
    caps = Capabilities("plain", (WriteOp("all", 10, ("price", "stock")),), Quota("none"), 1)
    # When a change is checked, Then nothing is refused (the check costs one lookup per field)
    assert Validator("Plain", caps).refused([("price", 1, -5)]) is None


def test_what_one_request_carries_with_a_refused_value_is_withheld_with_it() -> None:
    # Given BigCommerce writing price, stock and weight in one variant entry and the name
    # in a product batch
    validator = Validator("BigCommerce", bigcommerce_caps())
    changes = (("price", 1000, 1200), ("stock", 3, 2**31), ("name", "Old", "New"))
    refused = validator.refused(changes)
    assert refused is not None and list(refused) == ["stock"]
    # When the changes are split
    kept, withheld = validator.withheld(10, 11, changes, refused)
    # Then the variant entry (price with the refused stock) is withheld, the name still goes
    assert kept == (("name", "Old", "New"),)
    assert withheld["stock"].startswith("stock 2,147,483,648: BigCommerce takes at most")
    assert withheld["price"] == (
        "price not sent: BigCommerce takes it in one request with stock, which it refuses"
    )


def test_a_value_another_operation_writes_still_goes() -> None:
    # Given BigCommerce writing stock through inventory adjustments (a request of its own)
    validator = Validator("BigCommerce", bigcommerce_caps("adjustments"))
    changes = (("price", 1000, 1200), ("stock", 3, 2**31))
    refused = validator.refused(changes)
    assert refused is not None
    # When split, Then only the refused stock is withheld; the price goes
    kept, withheld = validator.withheld(10, 11, changes, refused)
    assert kept == (("price", 1000, 1200),)
    assert list(withheld) == ["stock"]


def test_a_long_text_is_shown_by_its_start() -> None:
    # Given a rule of at most 5 characters, When a 200-character text breaks it
    why = reason("Shop", "name", "x" * 200, FieldRule(max_length=5))
    # Then the reason shows its length and its first 60 characters, not all of it
    assert why == f"name (200 characters, {'x' * 60 + '...'!r}): Shop takes at most 5 characters"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://cdn.example/a.jpg", True),
        ("HTTP://cdn.example/a.jpg", True),
        ("//cdn.example/a.jpg", False),
        ("cdn.example/a.jpg", False),
        ("data:image/png;base64,AAAA", False),
        ("https://cdn.example/a b.jpg", False),
        ("http://[::1/a.jpg", False),
    ],
)
def test_only_an_absolute_http_url_with_a_host_is_an_image_url(url: str, ok: bool) -> None:
    assert is_web_url(url) is ok


def test_stock_amazon_holds_no_merchant_quantity_for_is_not_written_alone() -> None:
    # Given Amazon, which writes price and stock in one feed message per listing
    validator = _validator("amazon")
    # When a listing read with no merchant-fulfilled quantity (FBA) gets a price and stock
    changes = (("price", 2000, 1800), ("stock", None, 5))
    refused = validator.refused(changes)
    # Then its stock is not written, and says why
    assert refused is not None and list(refused) == ["stock"]
    assert refused["stock"] == (
        "stock 5: not written: the listing has no merchant-fulfilled quantity on Amazon "
        "(it is fulfilled by Amazon, whose stock it is, or a variation parent)"
    )
    assert validator.line("stock", 5, None) == refused["stock"]
    # and its price still goes (Amazon refuses nothing: feedsync does not send it)
    kept, withheld = validator.withheld(1, 1, changes, refused)
    assert (kept, list(withheld)) == ((("price", 2000, 1800),), ["stock"])
    # while a merchant-fulfilled listing's stock is taken, and so is stock the index does
    # not hold (written to another location)
    assert validator.refused([("stock", 3, 5)]) is None
    assert validator.line("stock", 5, 3) == ""
    elsewhere = Validator("Amazon", capabilities_for("amazon"), ("stock",))
    assert elsewhere.refused([("stock", None, 5)]) is None
