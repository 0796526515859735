"""Shopify (Admin GraphQL): the spec in ``spec.py``, the connector in ``connector.py``."""
