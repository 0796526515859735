"""Issue 14: error messages quote at most 20 names (then "and N more") and stay short."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import read_all

from feedsync.errors import MESSAGE_LIMIT, FeedFormatError, MissingColumnsError


def test_a_missing_column_in_a_100000_column_header_lists_20_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    # Given a CSV whose header has 100,000 columns, none of them the mapped "Qty"
    header = ",".join(f"col{i}" for i in range(100_000))
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n" + ",".join("1" for _ in range(100_000)) + "\n", encoding="utf-8")
    # When it is read with a mapping naming Qty
    with pytest.raises(MissingColumnsError) as err:
        read_all(path, None, {"sku": "col0", "stock": "Qty"})
    # Then the message names the file and the missing column, shows the first 20
    # columns and says how many more there are, in well under a few KB
    msg = str(err.value)
    assert msg.startswith("wide.csv: mapped column(s) 'Qty' not found")
    assert "'col19' and 99,980 more" in msg and "'col20'" not in msg
    assert len(msg) < 1000


def test_a_huge_column_name_is_cut_saying_how_much_more(tmp_path: Path) -> None:
    # Given a header made of one 50,000-character name
    path = tmp_path / "blob.csv"
    path.write_text("x" * 50_000 + "\n1\n", encoding="utf-8")
    # When it is read, Then the name is quoted to its first 100 characters
    with pytest.raises(MissingColumnsError) as err:
        read_all(path, {"type": "csv"}, {"sku": "SKU"})
    assert f"{'x' * 100!r}... (49,900 more characters)" in str(err.value)
    assert len(str(err.value)) < 400


def test_any_feedsync_error_is_capped() -> None:
    # Given a message longer than the limit, When it becomes an error
    err = FeedFormatError("f.csv: " + "y" * 10_000)
    # Then it is cut at the limit and says how many characters were left out
    assert len(err.message) < MESSAGE_LIMIT + 40 and str(err) == err.message
    assert err.message.endswith(f"... ({10_007 - MESSAGE_LIMIT:,} more characters)")
