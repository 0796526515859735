"""WooCommerce (REST v3): the spec in ``spec.py``, the connector in ``connector.py``."""
