"""``key_transform`` on a profile: what is refused when the profile is saved, and why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from feedsync.domain.keys import compile_key_transform
from feedsync.models import Profile, ProfileSettings, describe_error

BODY: dict[str, Any] = {
    "name": "acme",
    "store_id": "store-1",
    "source": {"type": "upload"},
    "mapping": {"sku": "Code", "barcode": "EAN", "price": "Price", "stock": "Qty"},
}


def _refusal(**settings: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        ProfileSettings.model_validate({**BODY, **settings})
    return describe_error(caught.value.errors()[0])


@pytest.mark.parametrize(
    "key_transform",
    [
        {"prefix": "ACME-"},
        {"suffix": "-EU"},
        {"prefix": "ACME-", "suffix": "-EU"},
        {"template": "{Brand}-{Code}"},
        {"template": "{{{Art.Nr.}}}"},
    ],
)
def test_a_valid_transform_is_kept_as_given(key_transform: dict[str, str]) -> None:
    # Given a profile body with a valid transform, When validated
    settings = ProfileSettings.model_validate({**BODY, "key_transform": key_transform})
    # Then its stored form is what was given, and it compiles
    assert settings.key_transform is not None
    assert settings.model_dump(mode="json")["key_transform"] == key_transform
    assert compile_key_transform(settings.key_transform.spec()) is not None


def test_a_profile_stored_before_the_setting_reads_without_a_transform() -> None:
    # Given a stored profile without the key (written before it existed)
    stored = {**BODY, "tenant_id": "t", "profile_id": "p", "created_at": "2026-01-01T00:00:00Z"}
    # When read, Then its keys are the file's as they are
    assert Profile.model_validate(stored).key_transform is None


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        ({"key_transform": {}}, "key_transform",
         "give a prefix, a suffix (or both), or a template"),
        ({"key_transform": {"prefix": "A-", "template": "{Code}"}}, "key_transform",
         "give a template, or a prefix and/or a suffix, not both"),
        ({"key_transform": {"template": "{Brand"}}, "key_transform",
         "template '{Brand': '{' at character 1 is never closed"),
        ({"key_transform": {"template": "{Code!r}"}}, "key_transform",
         "conversions and format specs ('!', ':') are not supported"),
        ({"key_transform": {"template": "{Code:>5}"}}, "key_transform",
         "conversions and format specs"),
        ({"key_transform": {"template": "ACME"}}, "key_transform", "names no column"),
        ({"key_transform": {"prefix": " ACME"}}, "key_transform",
         "prefix ' ACME' starts with a space, so the key would never match a SKU"),
        ({"key_transform": {"suffix": "EU "}}, "key_transform", "ends with a space"),
        ({"key_transform": {"prefix": "A" * 101}}, "key_transform.prefix",
         "at most 100 characters, got 101"),
        ({"key_transform": {"template": "{" + "C" * 200 + "}"}}, "key_transform.template",
         "at most 200 characters"),
        ({"key_transform": {"prefix": "A", "infix": "B"}}, "key_transform.infix",
         "unknown key; known keys are: prefix, suffix, template"),
        ({"key_transform": {"prefix": "A"}, "match_by": "barcode"}, "key_transform",
         "reshapes SKUs, and this profile matches by barcode"),
        ({"key_transform": {"prefix": "A"}, "match_by": "sku_then_barcode",
          "mapping": {"barcode": "EAN", "stock": "Qty"}, "fields": ["stock"]}, "key_transform",
         "reshapes the file's SKU: map a column to sku"),
    ],
)  # fmt: skip
def test_a_bad_transform_is_refused_naming_it_and_why(
    settings: dict[str, Any], field: str, says: str
) -> None:
    # Given a profile body with a transform the model refuses, When validated
    where, message = _refusal(**settings)
    # Then the error names the setting and says what is wrong
    assert where == field
    assert says in message
