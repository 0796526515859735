"""The API's operations, one Powertools ``Router`` per resource; ``app.py`` includes them.

Imported as the top-level package ``routes``: Lambda puts the function's directory on
``sys.path`` (its CodeUri, copied whole by functions/Makefile), and so do the local stack and
pytest (pyproject's ``pythonpath``).
"""
