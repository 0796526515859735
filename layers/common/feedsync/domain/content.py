"""Content fields (description, brand, weight, image URL): how the index keeps them and
when a feed value counts as different from the store's.

Prices and stock compare as integers; content needs care:

* a description can be many kilobytes, so the index keeps a digest of it, taken from a
  canonical spelling of its HTML (see ``description_digest``);
* a weight compares as a number to four decimal places, as BigCommerce keeps it
  ("0.250" is "0.25"), kept in canonical decimal text;
* a brand compares ignoring letter case: BigCommerce files "ACME" under an existing
  "Acme", so an exact comparison would rewrite it on every run;
* an image URL cannot be compared at all: platforms copy the image to their own CDN
  and answer with that URL. So an image is set only where the item has none, in
  full mode too: re-sending it would add a copy to the store's media on every run
  (and on WooCommerce replace the gallery). To replace images, remove them in the
  store first.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

_WEIGHT_STEP: Final = Decimal("0.0001")


def description_digest(text: str | None) -> str | None:
    """The index's form of a description; None for no description.

    Platforms store HTML in their own spelling (WordPress turns ``&`` into ``&amp;`` and
    ``<br/>`` into ``<br />``; editors reflow lines), so the text is compared in a form
    those spellings share: entities decoded, self-closing tags without their slash,
    attribute values in double quotes, whitespace folded, none between tags.
    """
    if text is None:
        return None
    folded = _canonical_html(text)
    if not folded:
        return None
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()


_TAG: Final = re.compile(r"<[^<>]+>")
_SELF_CLOSING: Final = re.compile(r"\s*/\s*>$")
_ATTRIBUTE: Final = re.compile(r"""=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_BETWEEN_TAGS: Final = re.compile(r">\s+<")


def _canonical_tag(match: re.Match[str]) -> str:
    tag = _SELF_CLOSING.sub(">", match.group(0))
    return _ATTRIBUTE.sub(lambda m: '="' + next(g for g in m.groups() if g is not None) + '"', tag)


def _unescaped(text: str) -> str:
    # Twice at most: WordPress stores "&copy 2024" (no ";") as "&amp;copy 2024".
    for _ in range(2):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _canonical_html(text: str) -> str:
    text = _TAG.sub(_canonical_tag, _unescaped(text))
    text = " ".join(text.split())
    return _BETWEEN_TAGS.sub("><", text)


def canonical_weight(value: object) -> str | None:
    """A weight as canonical decimal text ("0.25", "3"); None when absent or not a number."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    text = format(number.quantize(_WEIGHT_STEP, ROUND_HALF_UP).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _same_description(new: object, old: object) -> bool:
    return description_digest(str(new)) == old


def _same_name(new: object, old: object) -> bool:
    # WordPress stores "AT&T" as "AT&amp;T".
    return old is not None and _unescaped(str(new)) == _unescaped(str(old))


def _same_weight(new: object, old: object) -> bool:
    return canonical_weight(new) == old


def _same_brand(new: object, old: object) -> bool:
    return old is not None and str(new).casefold() == str(old).casefold()


def _has_image(new: object, old: object) -> bool:
    return old is not None


# field -> "does the feed value ``new`` match the index value ``old``?" (partial mode);
# fields not listed compare with ``==``.
SAME: Final[dict[str, Callable[[object, object], bool]]] = {
    "name": _same_name,
    "description": _same_description,
    "weight": _same_weight,
    "brand": _same_brand,
    "image_url": _has_image,
}


def same_feed_values(field: str, a: object, b: object) -> bool:
    """Do two feed values of ``field`` say the same (two rows of one product)?"""
    if a == b:
        return True
    if field == "description":
        return description_digest(str(a)) == description_digest(str(b))
    if field == "weight":
        return canonical_weight(a) == canonical_weight(b)
    if field == "brand":
        return str(a).casefold() == str(b).casefold()
    if field == "name":
        return _unescaped(str(a)) == _unescaped(str(b))
    return False


# Fields a full sync still writes only when ``SAME`` says they differ.
NEVER_FORCED: Final = frozenset({"image_url"})


def index_value(field: str, written: int | str | None) -> int | str | None:
    """What the index keeps after ``written`` reached the store."""
    if field == "description":
        return description_digest(None if written is None else str(written))
    if field == "weight":
        return canonical_weight(written)
    return written
