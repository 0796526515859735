"""Store platforms, one folder each, listed once in ``registry.py``.

A platform folder holds everything feedsync knows about that platform: its spec
(``spec.py``: capabilities, credentials, store URL and location rules, connector
factory) and its connector. Nothing outside ``platforms/`` names a platform.
"""
