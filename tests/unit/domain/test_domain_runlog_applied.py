"""runlog.applied_status: what a planned row reads as once the store has answered."""

from __future__ import annotations

from feedsync.domain.runlog import (
    FAILED,
    GONE,
    GONE_MESSAGE,
    NOT_APPLIED,
    UPDATED,
    applied_status,
)


def test_a_written_row_is_updated_and_keeps_what_the_match_noted() -> None:
    assert applied_status((True, "", False)) == (UPDATED, "")
    assert applied_status((True, "", False), "conflict noted") == (UPDATED, "conflict noted")


def test_a_refused_row_is_failed_with_the_platforms_words_first() -> None:
    status = applied_status((False, "price: must be >= 0", False), "conflict noted")
    assert status == (FAILED, "price: must be >= 0; conflict noted")


def test_a_row_whose_item_is_gone_says_so_in_the_merchants_words() -> None:
    # Given a row whose variant the store no longer has (the platform said "not found")
    status, message = applied_status((False, "Variant 1001 was not found", True))
    # Then it is "gone", told as the merchant expects, not as a failure
    assert (status, message) == (GONE, GONE_MESSAGE)
    assert status == "gone" and message == (
        "no longer in the store (deleted since the catalog was read)"
    )


def test_a_row_never_sent_is_not_applied() -> None:
    status, message = applied_status(None)
    assert status == NOT_APPLIED and "stopped" in message
