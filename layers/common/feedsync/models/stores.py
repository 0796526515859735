"""A store's credentials and options: the union of every platform's fields (which
platform takes which is in its spec's ``credential_fields`` and ``options``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from feedsync.models.limits import TEXT_MAX


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreCredentials(_Strict):
    """Write-only; which of them a platform takes is its spec's ``credential_fields``."""

    access_token: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    consumer_key: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    consumer_secret: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    # An SP-API app's client id and secret, and the seller's refresh token for it.
    client_id: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    client_secret: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX)


class StoreOptions(_Strict):
    """Which platform reads which option is in its spec's ``options``."""

    # Write stock on the variant or through absolute inventory adjustments at a
    # location (multi-location stores).
    inventory: Literal["variants", "adjustments"] = "variants"
    # The stock location written when a profile names none.
    location_id: str | None = Field(default=None, min_length=1, max_length=200)
    # A marketplace seller: who, in which marketplace, and where its app's tokens come from.
    seller_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8,20}$")
    marketplace_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8,20}$")
    token_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=500)


class PatchStore(_Strict):
    """Rename a store, replace its credentials (a rotated or rejected token), change its
    options; any of them, at least one. Which credentials and options the platform takes
    is checked against the store's platform (as on create)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: StoreCredentials | None = None
    options: StoreOptions | None = None

    @model_validator(mode="after")
    def _something(self) -> PatchStore:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, credentials, options")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null: leave it out to keep it")
        return self
