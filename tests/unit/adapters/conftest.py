"""Adapter fixtures: a BigCommerce-compatible sandbox store on loopback, one per test; the
app's DynamoDB table in moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from feedsync_local.bigcommerce_double import SandboxStore
from feedsync_local.template import load_template

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    with SandboxStore() as store:
        yield store


@pytest.fixture
def store(sandbox: SandboxStore) -> tuple[str, str]:
    return sandbox.create_store()


@pytest.fixture
def table() -> Iterator[tuple[str, Any]]:
    """The app's table, created from template.yaml's definition, in moto."""
    props = load_template(REPO / "template.yaml")["Resources"]["Table"]["Properties"]
    allowed = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="feedsync-Table", **{k: props[k] for k in allowed})
        ttl = props["TimeToLiveSpecification"]
        client.update_time_to_live(
            TableName="feedsync-Table",
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
        yield "feedsync-Table", client
