"""The API's size limits, in one place (README "Limits" lists them).

The models carry them as ``max_length`` (so the OpenAPI document shows them and a value
over one is a 422 naming the field and the limit); the API handler checks the raw
request (size, nesting) before any model sees it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# An Idempotency-Key becomes part of a DynamoDB sort key (at most 1,024 bytes).
IDEMPOTENCY_KEY_MAX = 300

# A request body nested deeper than this is refused before it is parsed into a model
# (the API's bodies go 5 levels deep; Python's json gives up near 1,000).
MAX_BODY_DEPTH = 32

# The largest request body the API takes (API Gateway's own limit is 10 MB). Supplier
# files never pass through the API: they go to S3 by an upload URL.
MAX_BODY_BYTES = 1024 * 1024

# Strings: names and ids; URLs, paths, column names and other values; a PEM key.
NAME_MAX = 200
HOST_MAX = 253
TEXT_MAX = 2048
PEM_MAX = 16384
# An uploaded file's name ends up in the upload trigger's idempotency key (with the
# tenant, profile and object version): short enough to keep that under its limit.
FILE_NAME_MAX = 100
# A key_transform's prefix or suffix (the store's SKU is the file's with them around it).
KEY_AFFIX_MAX = 100

# Lists and objects: black-out windows per schedule (every profile read evaluates them),
# weekdays per window, price tiers, stock words, and the entries of mapping, constants,
# fields and namespaces.
BLACKOUTS_MAX = 50
WEEKDAYS_MAX = 7
PRICE_TIERS_MAX = 100
STOCK_WORDS_MAX = 100
ENTRIES_MAX = 50

# POST /runs/{id}/apply: item keys (SKUs or barcodes) one request may select, and the
# largest processing limit (a run's changes are at most a file's rows).
KEY_MAX = 255
APPLY_KEYS_MAX = 10_000
APPLY_LIMIT_MAX = 10_000_000

Name = Annotated[str, Field(max_length=NAME_MAX)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]
Pem = Annotated[str, Field(max_length=PEM_MAX)]
