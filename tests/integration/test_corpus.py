"""Issue 3's corpus of awkward supplier files, each through a whole run.

Every file in ``tests/corpus`` (made by ``tests/corpus/build_corpus.py``) is served by
the supplier's file server to a fresh store seeded with the manifest's catalog, and
synced by the real state machine on moto. ``tests/corpus/expected.json`` says, per file,
the profile it needs and what must come out: a failed run whose error names the file
and the problem while the store receives no write at all, or a succeeded run with its
counts, the store's values afterwards, the rows the log reports as skipped (row number
and column), and how the file was read (encoding, BOM, delimiter, ...).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from integration_harness import Harness, Shop, simple_product

from feedsync.domain.runlog import LOG_HEADER
from feedsync.models import Run

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES: dict[str, dict[str, Any]] = MANIFEST["files"]
NOT_CORPUS = {"build_corpus.py", "expected.json", ".gitattributes"}

CATALOG = [
    {
        **simple_product(item["name"], item["sku"], item["price"], item["stock"]),
        **({"upc": item["upc"]} if item["upc"] else {}),
    }
    for item in MANIFEST["catalog"]
]
# sku -> (price in cents, stock) as seeded: what every item not changed must still hold.
SEEDED = {
    item["sku"]: (int(Decimal(item["price"]) * 100), item["stock"]) for item in MANIFEST["catalog"]
}
_COLUMN = re.compile(r"column '(.*?)'")


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_corpus", CORPUS / "build_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------- the corpus itself
def test_every_corpus_file_has_a_manifest_entry_and_every_entry_a_file() -> None:
    # Given the corpus folder and the manifest
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_CORPUS}
    # Then each names the same files, and each entry says what must come out
    assert on_disk == set(FILES), (
        f"no entry: {sorted(on_disk - set(FILES))}; no file: {sorted(set(FILES) - on_disk)}"
    )
    for name, spec in FILES.items():
        assert spec["status"] in ("succeeded", "failed"), name
        if spec["status"] == "failed":
            assert spec["error_contains"][0].startswith(name), name
        else:
            assert spec["store"] and spec["read_as"] and spec["counts"]["rows"] > 0, name
        assert (CORPUS / name).stat().st_size < 100_000, name


def test_the_committed_files_are_the_ones_the_builder_makes() -> None:
    # Given the builder script, When it builds the corpus in memory
    builder = _builder()
    # Then every committed file has exactly its bytes (and the builder makes no other)
    assert builder.differences(CORPUS) == []
    assert set(builder.FILES) == set(FILES)


# -------------------------------------------------------------------- the whole run
def _log(h: Harness, run: Run) -> dict[int, dict[str, str]]:
    assert run.log_key, "a finished run has a log"
    raw = h.deps.blobs.get_bytes(run.log_key).decode("utf-8")
    lines = list(csv.reader(io.StringIO(raw)))
    assert tuple(lines[0]) == LOG_HEADER
    by_row = {int(r[0]): dict(zip(LOG_HEADER, r, strict=True)) for r in lines[1:]}
    assert len(by_row) == len(lines) - 1, "one log line per row"
    return by_row


def _then_failed(h: Harness, shop: Shop, name: str, spec: dict[str, Any], run: Run) -> None:
    # Then the run failed, saying which file and what is wrong with it
    assert run.status == "failed", (run.status, run.counts)
    assert run.error is not None
    for part in spec["error_contains"]:
        assert part in run.error, f"{part!r} not in {run.error!r}"
    for part in spec["error_excludes"]:
        assert part not in run.error, f"{part!r} in {run.error!r}"
    assert h.execution(run.run_id)["status"] == "FAILED"
    # ... and the store got no write request; every value is as seeded
    assert h.puts_to(shop) == []
    assert h.store_values(shop) == SEEDED


def _then_succeeded(h: Harness, shop: Shop, name: str, spec: dict[str, Any], run: Run) -> None:
    # Then the run succeeded with the counts that matter
    assert run.status == "succeeded", run.error
    assert run.error is None
    got = {key: run.counts.get(key) for key in spec["counts"]}
    assert got == spec["counts"], run.counts
    assert run.counts["failed"] == 0, run.counts
    # ... the store holds the new values for the items touched, the seeded ones elsewhere
    expected = {**SEEDED, **{sku: tuple(v) for sku, v in spec["store"].items()}}
    assert h.store_values(shop) == expected
    # ... the file was read as expected, and the run records how
    assert run.source["file"] == name
    read_as = {key: run.source["format"].get(key) for key in spec["read_as"]}
    assert read_as == spec["read_as"], run.source["format"]
    # ... the log reports exactly the skipped rows, by spreadsheet row and column
    log = _log(h, run)
    skipped = {
        row: _COLUMN.match(line["error"])
        for row, line in log.items()
        if line["status"] == "row_error"
    }
    columns = {row: m.group(1) if m else None for row, m in skipped.items()}
    assert columns == {row: column for row, column, _ in spec["skipped"]}, log
    for row, _column, part in spec["skipped"]:
        assert part in log[row]["error"], log[row]
    # ... and the other rows worth a look have their status and say why
    for row, status, part in spec["log"]:
        assert log[row]["status"] == status, log[row]
        assert part in ",".join(log[row].values()), log[row]
    assert sum(line["status"] == "updated" for line in log.values()) == spec["counts"]["updated"]


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_corpus_file_through_a_whole_run(h: Harness, name: str) -> None:
    spec = FILES[name]
    # Given a store seeded with the corpus catalog, and the file on the supplier's server
    shop = h.shop(CATALOG)
    assert h.store_values(shop) == SEEDED
    url = h.feed_url((CORPUS / name).read_bytes(), name=name)
    profile = h.profile(shop, {"type": "url", "url": url}, **spec["profile"])
    # When a run goes through fetch, parse, match, update and finalize
    run = h.run_to_end(shop.tenant, profile.profile_id)
    # Then the outcome is the one the manifest gives for this file
    if spec["status"] == "failed":
        _then_failed(h, shop, name, spec, run)
    else:
        _then_succeeded(h, shop, name, spec, run)
