"""The platforms the conformance suite runs against: a platform opts in with one line.

To add one: write ``harnesses/<name>.py`` (a ``Harness`` for its double: see ``base.py``)
and list it in ``HARNESSES``. Every conformance test then runs against it, once per write
operation its capabilities declare where the test is about writes.
"""

from __future__ import annotations

from harnesses.amazon import AmazonHarness
from harnesses.base import Harness
from harnesses.bigcommerce import BigCommerceHarness
from harnesses.shopify import ShopifyHarness
from harnesses.woocommerce import WooCommerceHarness

HARNESSES: list[type[Harness]] = [
    BigCommerceHarness,
    ShopifyHarness,
    WooCommerceHarness,
    AmazonHarness,
]
