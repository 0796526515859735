"""The local stack accounts for every resource type of template.yaml."""

from __future__ import annotations

from pathlib import Path

from feedsync_local.stack import CREATED, NOT_CREATED, unhandled_resources
from feedsync_local.template import load_template

ROOT = Path(__file__).resolve().parents[3]


def test_every_template_resource_is_created_on_moto_or_deliberately_skipped() -> None:
    # Given the template's resources
    resources = load_template(ROOT / "template.yaml")["Resources"]
    # Then the local stack knows what to do with each type
    assert unhandled_resources(resources) == []
    # ... and no type is both created and skipped
    assert not CREATED & NOT_CREATED


def test_a_resource_of_a_type_the_local_stack_does_not_know_is_named() -> None:
    # Given a template gaining a resource type the local stack has never seen
    resources = {
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Stream": {"Type": "AWS::Kinesis::Stream"},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm"},
    }
    # Then it is named, so the start fails instead of the stack silently lacking it
    assert unhandled_resources(resources) == ["Stream (AWS::Kinesis::Stream)"]
