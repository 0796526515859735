"""ports.ItemResult: what a connector answers per plan item, "gone" included."""

from __future__ import annotations

import pytest

from feedsync.core.ports import ItemResult, item_gone


def test_a_plain_result_unpacks_as_ok_and_message_and_is_not_gone() -> None:
    # Given a written item and a refused one
    written, refused = ItemResult(True, ""), ItemResult(False, "price must be >= 0")
    # When they are read the way every consumer reads them
    (ok_1, message_1), (ok_2, message_2) = written, refused
    # Then they are (ok, message) pairs, and neither says its item is gone
    assert (ok_1, message_1, ok_2, message_2) == (True, "", False, "price must be >= 0")
    assert written.gone is None and refused.gone is None


@pytest.mark.parametrize("scope", ["variant", "product"])
def test_a_gone_result_is_a_failure_that_names_what_is_gone(scope: str) -> None:
    # Given an item whose variant (or product) the store no longer has
    result = item_gone(scope, "Variant 1001 was not found")  # type: ignore[arg-type]
    # Then it is a failure with the platform's words, and says what is gone
    ok, message = result
    assert (ok, message, result.gone) == (False, "Variant 1001 was not found", scope)
    # And it keeps saying so when its message is replaced
    assert result._replace(message="other words").gone == scope


def test_gone_takes_only_a_product_or_a_variant() -> None:
    with pytest.raises(ValueError, match="product' or 'variant"):
        item_gone("store", "x")  # type: ignore[arg-type]
