"""The GraphQL documents the connector sends, and Shopify's global ids.

Every document here is validated against Shopify's Admin schema by the contract tests
(``tests/contract/test_shopify_contract.py`` sweeps each upper-case ``query``/``mutation``
string of this module).

The schema (``../shared/specs``) predates Shopify 2026-01, which requires ``@idempotent``
on inventory mutations and renames ``compareQuantity`` to ``changeFromQuantity``; against
this schema neither exists, so the batch key travels as ``referenceDocumentUri`` and
compare-and-set gives retries their safety.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

API_VERSION = "2025-01"  # the schema file is 'unstable' of 2024-12-18; 2025-01 was then current

_VARIANT_FIELDS = """
fragment FeedsyncVariant on ProductVariant {
  id
  sku
  barcode
  price
  compareAtPrice
  image { url }
  inventoryItem {
    id
    unitCost { amount }
    measurement { weight { value unit } }
    inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
  }
}
"""
PRODUCTS_QUERY = (
    """
query FeedsyncProducts(
  $first: Int!, $after: String, $query: String, $variants: Int!, $location: ID!
) {
  shop { weightUnit }
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      title
      updatedAt
      descriptionHtml
      vendor
      status
      variants(first: $variants) {
        pageInfo { hasNextPage endCursor }
        nodes { ...FeedsyncVariant }
      }
    }
  }
}
"""
    + _VARIANT_FIELDS
)
PRODUCT_VARIANTS_QUERY = (
    """
query FeedsyncProductVariants($id: ID!, $first: Int!, $after: String, $location: ID!) {
  product(id: $id) {
    variants(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...FeedsyncVariant }
    }
  }
}
"""
    + _VARIANT_FIELDS
)
PRIMARY_LOCATION_QUERY = "query FeedsyncPrimaryLocation { location { id } }"
SHOP_QUERY = "query FeedsyncShop { shop { weightUnit } }"
VARIANTS_BULK_UPDATE = """
mutation FeedsyncVariantsBulkUpdate(
  $productId: ID!, $variants: [ProductVariantsBulkInput!]!, $media: [CreateMediaInput!]
) {
  productVariantsBulkUpdate(
    productId: $productId, variants: $variants, media: $media, allowPartialUpdates: true
  ) {
    userErrors { field message code }
  }
}
"""
PRODUCT_UPDATE = """
mutation FeedsyncProductUpdate($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    userErrors { field message }
  }
}
"""
INVENTORY_SET = """
mutation FeedsyncInventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { field message code }
  }
}
"""
PRODUCTS_EXIST_QUERY = """
query FeedsyncProductsExist($ids: [ID!]!) {
  nodes(ids: $ids) { id }
}
"""
INVENTORY_LEVELS_QUERY = """
query FeedsyncInventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""
STAGED_UPLOADS = """
mutation FeedsyncStagedUpload($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""
BULK_RUN = """
mutation FeedsyncBulkRun($mutation: String!, $path: String!, $client: String) {
  bulkOperationRunMutation(
    mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $client
  ) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
BULK_POLL_QUERY = """
query FeedsyncBulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}
"""
BULK_QUERY_RUN = """
mutation FeedsyncBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
# The document bulkOperationRunQuery runs (sent as its ``query`` variable, never on its own).
# It takes no variables, so ``bulk_products_query`` inlines the location in place of
# ``_LOCATION_SLOT``; no page sizes either: a bulk query returns every node of every connection.
_LOCATION_SLOT = '"gid://shopify/Location/0"'
BULK_PRODUCTS_QUERY = """
query FeedsyncBulkProducts {
  products {
    edges {
      node {
        id
        title
        updatedAt
        descriptionHtml
        vendor
        status
        variants {
          edges {
            node {
              id
              sku
              barcode
              price
              compareAtPrice
              image { url }
              inventoryItem {
                id
                unitCost { amount }
                measurement { weight { value unit } }
                inventoryLevel(locationId: "gid://shopify/Location/0") {
                  quantities(names: ["available"]) { name quantity }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""
CURRENT_BULK_QUERY = """
query FeedsyncCurrentBulkMutation {
  currentBulkOperation(type: MUTATION) { id status }
}
"""


def bulk_products_query(location_gid: str) -> str:
    """The bulk query of every product and variant, stock at ``location_gid``."""
    return BULK_PRODUCTS_QUERY.replace(_LOCATION_SLOT, json.dumps(location_gid))


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str) -> int:
    """``gid://shopify/ProductVariant/123`` -> 123 (query strings after the id ignored)."""
    return int(value.rsplit("/", 1)[-1].split("?", 1)[0])


def search_time(moment: datetime) -> str:
    """A moment as the ``updated_at:`` search syntax takes it (UTC, seconds)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
