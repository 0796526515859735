"""The API's size limits, in one place (README "Limits" lists them).

The models carry them as ``max_length`` (so the OpenAPI document shows them); the API
handler checks the raw request (size, nesting) before any model sees it.
"""

from __future__ import annotations

# An Idempotency-Key becomes part of a DynamoDB sort key (at most 1,024 bytes).
IDEMPOTENCY_KEY_MAX = 300

# A request body nested deeper than this is refused before it is parsed into a model
# (the API's bodies go 5 levels deep; Python's json gives up near 1,000).
MAX_BODY_DEPTH = 32

# The largest request body the API takes (API Gateway's own limit is 10 MB). Supplier
# files never pass through the API: they go to S3 by an upload URL.
MAX_BODY_BYTES = 1024 * 1024
