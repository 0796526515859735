"""A profile's ``key_transform`` (issue 17): the store's SKU made from the file's.

What can be told when the profile is saved is checked here (lengths, a template's syntax,
that the profile matches SKUs); whether the template's columns are in the file is told
when a file is read (``RecordFeed.use_key_transform``: a file-level error naming them).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from feedsync.domain.keys import check_ends, parse_template
from feedsync.models.limits import KEY_AFFIX_MAX, NAME_MAX
from feedsync.models.validation import Spec


class KeyTransformSettings(Spec):
    """``{"prefix": "ACME-"}``, ``{"suffix": "-EU"}``, both, or a template
    (``{"template": "{Brand}-{Code}"}``)."""

    prefix: str | None = Field(
        default=None,
        min_length=1,
        max_length=KEY_AFFIX_MAX,
        description="put before the file's SKU: ACME- makes 12345 the store's ACME-12345",
    )
    suffix: str | None = Field(
        default=None,
        min_length=1,
        max_length=KEY_AFFIX_MAX,
        description="put after the file's SKU",
    )
    template: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_MAX,
        description="the store's SKU from the file's columns, each in braces: {Brand}-{Code} "
        "({{ and }} are literal braces); a row with a SKU but an empty column of the template "
        "is a row error",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> KeyTransformSettings:
        if self.template is not None:
            if self.prefix is not None or self.suffix is not None:
                raise ValueError(
                    "give a template, or a prefix and/or a suffix, not both: a template "
                    "writes the whole key (put literal text in it)"
                )
            try:
                parse_template(self.template)
                check_ends(self.template, start=True, end=True)
            except ValueError as exc:
                raise ValueError(f"template {self.template!r}: {exc}") from None
        elif self.prefix is None and self.suffix is None:
            raise ValueError("give a prefix, a suffix (or both), or a template")
        for name, text in (("prefix", self.prefix), ("suffix", self.suffix)):
            if text is not None:
                try:
                    check_ends(text, start=name == "prefix", end=name == "suffix")
                except ValueError as exc:
                    raise ValueError(f"{name} {text!r} {exc}") from None
        return self


def check_key_transform(
    key_transform: KeyTransformSettings | None, match_by: str | None, mapping: dict[str, str]
) -> KeyTransformSettings | None:
    """A transform reshapes SKUs: refused for a profile matching by barcode (a GTIN is the
    same in the file and the store) and for one without a column mapped to sku."""
    if key_transform is None:
        return None
    if match_by == "barcode":
        raise ValueError(
            "reshapes SKUs, and this profile matches by barcode: a barcode is the same in the "
            "file and the store (match by sku or sku_then_barcode to use it)"
        )
    if "sku" not in mapping:
        raise ValueError("reshapes the file's SKU: map a column to sku")
    return key_transform
