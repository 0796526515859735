"""The one list of store platforms: adding a platform adds its folder and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from feedsync.domain.capabilities import Capabilities
from feedsync.platforms.amazon.spec import SPEC as _AMAZON
from feedsync.platforms.bigcommerce.spec import SPEC as _BIGCOMMERCE
from feedsync.platforms.shopify.spec import SPEC as _SHOPIFY
from feedsync.platforms.spec import PlatformSpec
from feedsync.platforms.woocommerce.spec import SPEC as _WOOCOMMERCE

PLATFORMS: Final[Mapping[str, PlatformSpec]] = {
    spec.name: spec for spec in (_BIGCOMMERCE, _SHOPIFY, _WOOCOMMERCE, _AMAZON)
}
PLATFORM_NAMES: Final[tuple[str, ...]] = tuple(PLATFORMS)


def platform(name: str) -> PlatformSpec:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(
            f"unsupported platform {name!r}; supported: {', '.join(PLATFORM_NAMES)}"
        ) from None


def capabilities_for(name: str, options: Mapping[str, Any] | None = None) -> Capabilities:
    return platform(name).capabilities(options or {})
