"""The bodies of preview, apply and retry, and a profile's safety limits (issues 12, 13)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from feedsync.domain.conflicts import NEVER_STORE_WINS
from feedsync.domain.fields import WRITABLE_FIELDS
from feedsync.domain.limits import LimitRules
from feedsync.models.limits import APPLY_KEYS_MAX, APPLY_LIMIT_MAX, KEY_MAX

# What the next run does with an item still sending the payload the platform refused.
KnownBad = Annotated[
    Literal["isolate", "skip"],
    Field(
        description="An item whose payload the platform refused before, unchanged: send it "
        "in requests of its own so it costs no healthy item a request (isolate), or send "
        "nothing and log it failed with the remembered reason (skip)."
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplyBody(_Strict):
    """``{}``: every pending change; ``keys``: those items; ``limit``: the next N items."""

    keys: list[Annotated[str, Field(min_length=1, max_length=KEY_MAX)]] | None = Field(
        default=None, min_length=1, max_length=APPLY_KEYS_MAX
    )
    limit: int | None = Field(default=None, ge=1, le=APPLY_LIMIT_MAX)

    @model_validator(mode="after")
    def _one_selection(self) -> ApplyBody:
        if self.keys is not None and self.limit is not None:
            raise ValueError("give keys or limit, not both")
        return self


class RetryBody(_Strict):
    only: Literal["failed"]


class SafetyLimits(_Strict):
    """A run that breaks one ends ``held``: nothing written, plan kept, reasons given; the
    merchant applies it on purpose. ``null`` switches a rule off."""

    max_changed_share: float | None = Field(
        default=0.5, ge=0, le=1, description="changed items / matched items"
    )
    max_price_change_pct: float | None = Field(
        default=50, ge=0, description="any item whose price moves more than this, up or down"
    )
    max_zero_stock_share: float | None = Field(
        default=0.3, ge=0, le=1, description="items going from in stock to 0 / matched items"
    )
    min_rows_share: float | None = Field(
        default=0.5,
        ge=0,
        le=1,
        description="this file's rows / the rows of the last successful run that read a file",
    )
    max_created: int | None = Field(
        default=1000, ge=0, description="items one run creates (create mode)"
    )

    def rules(self) -> LimitRules:
        return LimitRules(**self.model_dump())


# Every limit switched off, as a profile body's "limits" says it.
LIMITS_OFF: dict[str, None] = dict.fromkeys(SafetyLimits.model_fields)


def _policies(value: dict[str, str]) -> dict[str, str]:
    for field, policy in value.items():
        if field not in WRITABLE_FIELDS:
            raise ValueError(f"{field}: unknown field; allowed: {list(WRITABLE_FIELDS)}")
        if field in NEVER_STORE_WINS and policy == "store_wins":
            raise ValueError(f"{field}: always follows the feed (orders move it all the time)")
    return value


# Per field: does a value changed in the store since feedsync wrote it stay (store_wins) or
# get the feed's (feed_wins)? Unnamed fields: store_wins for prices and content.
ConflictPolicies = Annotated[
    dict[str, Literal["store_wins", "feed_wins"]],
    Field(max_length=len(WRITABLE_FIELDS)),
    AfterValidator(_policies),
]
