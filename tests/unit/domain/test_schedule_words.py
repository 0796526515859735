"""Every schedule shape in words, as the home page's tiles show it."""

from __future__ import annotations

from typing import Any

import pytest

from feedsync.domain.schedule_words import schedule_text

NAMES = {"prof_1": "Acme stock"}


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (
            {"type": "interval", "every_minutes": 60, "timezone": "Europe/Berlin",
             "blackouts": [{"start": "22:00", "end": "04:00"}]},
            "every hour except 22:00-04:00, Europe/Berlin",
        ),
        ({"type": "interval", "every_minutes": 15, "timezone": "UTC"}, "every 15 minutes, UTC"),
        ({"type": "interval", "every_minutes": 240}, "every 4 hours"),
        ({"type": "interval", "every_minutes": 90}, "every 90 minutes"),
        ({"type": "interval", "every_minutes": 1440}, "every day"),
        (
            {"type": "interval", "every_minutes": 60,
             "blackouts": [{"start": "00:00", "end": "00:00", "weekdays": [5, 6]},
                           {"start": "12:00", "end": "13:00"}]},
            "every hour except all day on Sat, Sun and 12:00-13:00",
        ),
        (
            {"type": "daily", "at": "06:00", "timezone": "Europe/Berlin"},
            "daily at 06:00, Europe/Berlin",
        ),
        ({"type": "cron", "expression": "cron(0 */4 * * ? *)"}, "cron 0 */4 * * ? *"),
        (
            {"type": "cron", "expression": "cron(0 6 ? * MON-FRI *)", "timezone": "UTC"},
            "cron 0 6 ? * MON-FRI *, UTC",
        ),
        (
            {"type": "automatic", "every_minutes": 15},
            "when the file changes (checked every 15 minutes)",
        ),
        ({"type": "after", "profile_id": "prof_1"}, "after Acme stock"),
        ({"type": "after", "profile_id": "prof_gone"}, "after prof_gone"),
        ({"type": "manual"}, "manual"),
        ({"type": "default"}, "the account's schedule"),
    ],
)  # fmt: skip
def test_each_schedule_shape_reads_in_words(schedule: dict[str, Any], words: str) -> None:
    # Given an effective schedule, When it is put in words, Then it reads as a merchant says it
    assert schedule_text(schedule, NAMES) == words
