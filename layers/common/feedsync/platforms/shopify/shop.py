"""What the connector looks up about the shop once: its primary location, its weight unit.

Stock is the ``available`` quantity at one location: the profile's, else the shop's
primary location. Weights are read and written in the shop's ``weightUnit``.
"""

from __future__ import annotations

from feedsync.errors import StoreRequestError
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.queries import PRIMARY_LOCATION_QUERY, SHOP_QUERY, gid


class ShopFacts:
    def __init__(self, client: AdminClient) -> None:
        self._client = client
        self.primary_location: str | None = None  # its GID, once looked up
        self.unit: str | None = None  # the shop's weightUnit, once known

    def location_gid(self, location: str | None) -> str:
        """``location`` (a number or a Location GID) as a GID; None: the primary location."""
        if location:
            return location if location.startswith("gid://") else gid("Location", location)
        if self.primary_location is None:
            data = self._client.graphql(PRIMARY_LOCATION_QUERY, {}, "FeedsyncPrimaryLocation", 1)
            found = data.get("location")
            if not found:
                raise StoreRequestError(
                    f"{self._client.where} has no primary location; "
                    "set the profile's stock location"
                )
            self.primary_location = str(found["id"])
        return self.primary_location

    def weight_unit(self) -> str:
        """The shop's ``weightUnit`` (feed weights are in it), looked up once."""
        if self.unit is None:
            data = self._client.graphql(SHOP_QUERY, {}, "FeedsyncShop", 1)
            unit = (data.get("shop") or {}).get("weightUnit")
            if not unit:
                raise StoreRequestError(f"{self._client.where} did not say its weight unit")
            self.unit = str(unit)
        return self.unit
