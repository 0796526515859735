"""How the Amazon double applies a JSON Patch operation to a listing's offer attributes.

``purchasable_offer`` and ``fulfillment_availability`` are arrays of entries, each named
by its selectors (an offer by marketplace_id, currency and audience, ALL when absent; an
availability by fulfillment_channel_code). As listingsItems_2021-08-01 says of
PatchOperation: ``add`` and ``replace`` set the whole attribute (every sub-attribute not
given is gone: a sale price, a handling time), ``merge`` merges each given entry into
the entry with its selectors (the sub-attributes it does not give stay) or adds it,
``delete`` removes the entries with the given selectors (the whole attribute without a
value). The values feedsync reads (our price, the merchant-fulfilled quantity) are then
checked the way Amazon's product type definitions would.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Final

JSON = dict[str, Any]

MERCHANT: Final = "DEFAULT"
SELECTORS: Final = {
    "purchasable_offer": ("marketplace_id", "currency", "audience"),
    "fulfillment_availability": ("fulfillment_channel_code",),
}
_DEFAULTS: Final = {"audience": "ALL"}


def patched(op: str, name: str, current: Any, value: Any) -> Any:
    """The attribute's value after the operation (None: the attribute is gone)."""
    given = [dict(v) for v in value or [] if isinstance(v, dict)]
    selectors = SELECTORS.get(name)
    if op in ("add", "replace") or selectors is None:
        return None if op == "delete" else given
    kept = [dict(v) for v in current or [] if isinstance(v, dict)]
    if op == "delete":
        if not given:
            return None
        drop = {_key(v, selectors) for v in given}
        left = [v for v in kept if _key(v, selectors) not in drop]
        return left or None
    for entry in given:  # merge
        key = _key(entry, selectors)
        mine = next((v for v in kept if _key(v, selectors) == key), None)
        if mine is None:
            kept.append(entry)
        else:
            mine.update(entry)
    return kept


def check(name: str, op: str, value: Any, marketplace: str, currency: str) -> None:
    """Amazon's complaint about the given value (ValueError), as the product type
    definitions have it for our price and the merchant-fulfilled quantity."""
    if op == "delete" or name not in SELECTORS:
        return
    given = [v for v in value or [] if isinstance(v, dict)]
    if name == "purchasable_offer":
        mine = [v for v in given if v.get("marketplace_id") == marketplace]
        if not mine:
            raise ValueError(f"'purchasable_offer' has no value for marketplace {marketplace}.")
        for offer in mine:
            if offer.get("currency") != currency:
                raise ValueError(f"The currency for 'purchasable_offer' must be {currency}.")
            if "our_price" in offer or op != "merge":
                _price(offer)
        return
    for entry in given:
        if entry.get("fulfillment_channel_code") != MERCHANT:
            continue
        quantity = entry.get("quantity")
        if "quantity" not in entry and op == "merge":
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ValueError(
                "'fulfillment_availability.quantity' must be a whole number >= 0 "
                "for fulfillment_channel_code DEFAULT."
            )


def our_price(offers: Any, marketplace: str) -> int | None:
    """The marketplace's price for all buyers, in cents (None: no such offer)."""
    for offer in offers or ():
        if offer.get("marketplace_id") == marketplace and offer.get("audience", "ALL") == "ALL":
            try:
                return int(_price(offer).scaleb(2))
            except ValueError:
                return None
    return None


def merchant_quantity(entries: Any) -> int | None:
    for entry in entries or ():
        if entry.get("fulfillment_channel_code") == MERCHANT:
            quantity = entry.get("quantity")
            return quantity if isinstance(quantity, int) else None
    return None


def channel(entries: Any) -> str:
    """The listing's fulfillment channel: DEFAULT (merchant) when it has that entry."""
    codes = [str(e.get("fulfillment_channel_code")) for e in entries or ()]
    return MERCHANT if MERCHANT in codes or not codes else codes[0]


def _price(offer: JSON) -> Decimal:
    try:
        price = Decimal(str(offer["our_price"][0]["schedule"][0]["value_with_tax"]))
    except (KeyError, IndexError, TypeError, InvalidOperation):
        raise ValueError(
            "'purchasable_offer.our_price' needs a schedule with value_with_tax."
        ) from None
    if not price.is_finite() or price <= 0 or price != price.quantize(Decimal("0.01")):
        raise ValueError(
            f"The value '{price}' for 'purchasable_offer.our_price' is invalid: "
            "a positive amount with at most 2 decimals is required."
        )
    return price


def _key(entry: JSON, selectors: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(entry.get(s, _DEFAULTS.get(s)) for s in selectors)
