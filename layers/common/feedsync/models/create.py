"""A profile's create mode (issue 17): what it does with the rows the store lacks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from feedsync.models.limits import ENTRIES_MAX, NAME_MAX, Name

# Option names a product may be told apart by (Shopify's limit is 3; a wider file is a
# mapping mistake more often than a product).
OPTIONS_MAX = 10


class CreateSettings(BaseModel):
    """Off by default. On, a row whose key matches nothing becomes a new item (its name,
    description, brand, image, weight, prices, stock, SKU and barcode from the mapping);
    rows sharing a ``group`` value become one product whose variants are told apart by
    the ``options`` columns."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    visible: bool = Field(
        default=False,
        description="Create items visible in the store; false (the default) creates them "
        "hidden (not visible / draft / private, by platform) for the merchant to check first.",
    )
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_MAX,
        description="The store's category for every created item (a category or collection "
        "id, as the platform calls it); null: none.",
    )
    group: Name | None = Field(
        default=None,
        min_length=1,
        description="The column whose value rows of one product share (e.g. the supplier's "
        "parent code); null: every new row is a product of its own.",
    )
    options: dict[Name, Name] = Field(
        default_factory=dict,
        max_length=OPTIONS_MAX,
        description="Option name -> the column holding each variant's value, e.g. "
        '{"Size": "Size", "Colour": "Color"}.',
    )

    @model_validator(mode="after")
    def _options_tell_variants_apart(self) -> CreateSettings:
        if self.group is not None and not self.options:
            raise ValueError(
                "options: the variants of a group are told apart by their option values: "
                "name at least one option column"
            )
        if self.options and self.group is None:
            raise ValueError("group: options need the column that groups rows into products")
        empty = sorted(k for k, v in self.options.items() if not k.strip() or not v.strip())
        if empty:
            raise ValueError(f"options: empty option name or column for {empty}")
        return self


assert OPTIONS_MAX <= ENTRIES_MAX
