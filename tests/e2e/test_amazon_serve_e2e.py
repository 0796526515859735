"""End-to-end: the Amazon seller account `feedsync serve` announces, used as any SP-API
client would, and as a feedsync store."""

from __future__ import annotations

import time

import pytest
import requests
from e2e_support import Api, Served

pytestmark = pytest.mark.e2e


def test_an_sp_api_client_reads_the_announced_seller(serve: Served) -> None:
    # Given the values feedsync serve wrote into its info file
    amazon = serve.info["amazon"]
    assert set(amazon) == {
        "endpoint", "token_url", "client_id", "client_secret", "refresh_token",
        "seller_id", "marketplace_id",
    }  # fmt: skip
    # When a client exchanges the refresh token for an access token
    token = requests.post(
        amazon["token_url"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": amazon["refresh_token"],
            "client_id": amazon["client_id"],
            "client_secret": amazon["client_secret"],
        },
        timeout=10,
    ).json()
    headers = {"x-amz-access-token": token["access_token"]}
    base = f"{amazon['endpoint']}/listings/2021-08-01/items/{amazon['seller_id']}"
    market = {"marketplaceIds": amazon["marketplace_id"]}
    # and searches the listings, then reads one with its offer and availability
    found = requests.get(base, params={**market, "pageSize": 20}, headers=headers, timeout=10)
    skus = [item["sku"] for item in found.json()["items"]]
    item = requests.get(
        f"{base}/{skus[0]}",
        params={**market, "includedData": "offers,fulfillmentAvailability"},
        headers=headers,
        timeout=10,
    ).json()
    # Then the seeded catalog is there, priced in the marketplace's currency
    assert found.json()["numberOfResults"] == 20 and len(skus) == 20
    assert item["offers"][0]["price"]["currencyCode"] == "USD"
    assert item["fulfillmentAvailability"][0]["fulfillmentChannelCode"] == "DEFAULT"


def test_an_amazon_store_imports_the_announced_seller(api: Api, serve: Served) -> None:
    # Given the announced seller, When a store is created on it through the REST API
    amazon = serve.info["amazon"]
    created = api.ok(
        "POST",
        "/stores",
        {
            "name": "Amazon",
            "platform": "amazon",
            "api_url": amazon["endpoint"],
            "credentials": {k: amazon[k] for k in ("client_id", "client_secret", "refresh_token")},
            "options": {k: amazon[k] for k in ("seller_id", "marketplace_id", "token_url")},
        },
        status=201,
    )
    # Then its catalog is imported from the listings report
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        store = api.ok("GET", f"/stores/{created['store_id']}")
        if store["status"] != "setting_up":
            break
        time.sleep(0.2)
    assert store["status"] == "ready", store
    assert store["variant_count"] == 20
