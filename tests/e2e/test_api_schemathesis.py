"""Schemathesis against ``feedsync serve``: the running API answers what ``/openapi.json`` says.

Its own ``feedsync serve --loopback-only`` (the made-up store and supplier URLs Schemathesis
sends are refused before they leave the machine), a tenant seeded with a ready store, two
profiles and a finished run whose ids Schemathesis draws half the time (so the 200, 204, 409
and 410 answers are reached, not only 404), then ``schemathesis run`` with the checks
``not_a_server_error``, ``status_code_conformance``, ``response_schema_conformance`` and
``content_type_conformance``, bounded examples per operation. Any failure fails the test with
Schemathesis's report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import FINAL, ROOT, START_TIMEOUT_S, STOP_TIMEOUT_S, Api, Supplier, free_port

# The run's own limit plus starting, seeding and stopping `feedsync serve` (pytest's default 300 s
# was reached in the teardown on a loaded machine once the dashboard's operations were added).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
)
# Test cases per operation and phase; with the seed, the run is the same each time.
MAX_EXAMPLES = 5
SEED = 20261206
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def loopback_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``feedsync serve --loopback-only`` on free loopback ports; its info file's content."""
    tmp = tmp_path_factory.mktemp("serve-loopback")
    info_file = tmp / "info.json"
    err_path = tmp / "stderr.txt"
    cmd = [
        sys.executable, "-m", "feedsync_local.cli", "serve", "--loopback-only",
        "--port", str(free_port()), "--sandbox-port", str(free_port()),
        "--files-port", str(free_port()), "--info-file", str(info_file),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(tmp / "stdout.txt", "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not info_file.exists() or not info_file.read_text(encoding="utf-8").strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("feedsync serve did not come up:\n" + err_path.read_text()[-4000:])
            time.sleep(0.2)
        time.sleep(0.2)  # written in one call: let it be flushed
        yield dict(json.loads(info_file.read_text(encoding="utf-8")))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _seed(api: Api, sandbox: dict[str, str], supplier: Supplier) -> dict[str, list[str]]:
    """A ready store, a URL and an upload profile, and a finished run with its log: ids."""
    store = api.ok(
        "POST",
        "/stores",
        {
            "name": "fuzz store",
            "platform": "bigcommerce",
            "api_url": sandbox["api_url"],
            "credentials": {"access_token": sandbox["access_token"]},
        },
        status=201,
    )
    store_id = store["store_id"]
    deadline = time.monotonic() + 60
    while api.ok("GET", f"/stores/{store_id}")["status"] == "setting_up":
        assert time.monotonic() < deadline, "the catalog import did not finish in 60 s"
        time.sleep(0.2)
    common = {
        "store_id": store_id,
        "format": {"type": "csv"},
        "mapping": {"sku": "SKU", "price": "Price"},
        "fields": ["price"],
    }
    feed = supplier.put("fuzz.csv", "SKU,Price\nFUZZ-1,9.99\n")
    by_url = api.ok(
        "POST",
        "/profiles",
        {**common, "name": "fuzz url", "source": {"type": "url", "url": feed}},
        status=201,
    )
    upload = api.ok(
        "POST",
        "/profiles",
        {**common, "name": "fuzz upload", "source": {"type": "upload"}},
        status=201,
    )
    # A profile Schemathesis is not told about: the store's DELETE is a 409 until the stateful
    # phase finds this profile in GET /profiles and deletes it first.
    api.ok("POST", "/profiles", {**common, "name": "keeps the store", "source": {"type": "upload"}},
           status=201)  # fmt: skip
    run = api.ok("POST", f"/profiles/{by_url['profile_id']}/runs", {}, status=202)
    deadline = time.monotonic() + 60
    while api.ok("GET", f"/runs/{run['run_id']}")["status"] not in FINAL:
        assert time.monotonic() < deadline, "the seeded run did not finish in 60 s"
        time.sleep(0.2)
    log = api.get(f"/runs/{run['run_id']}/log")
    assert log.status_code == 200, log.text
    return {
        "store_id": [store_id],
        "profile_id": [by_url["profile_id"], upload["profile_id"]],
        "run_id": [run["run_id"]],
    }


def _config(path: Path, api_key: str, ids: dict[str, list[str]]) -> None:
    """schemathesis.toml: the API key, and the seeded ids drawn for half the path values."""
    lines = [f'headers = {{ Authorization = "Bearer {api_key}" }}', "", "[parameters]"]
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in ids]
    for name, values in ids.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_running_api_matches_its_openapi_document(
    loopback_serve: dict[str, Any], supplier: Supplier, tmp_path: Path
) -> None:
    # Given feedsync serve, loopback only, with a seeded tenant
    api_url = loopback_serve["api_url"].rstrip("/")
    api = Api(api_url, loopback_serve["api_key"])
    ids = _seed(api, loopback_serve["sandbox"], supplier)
    operations = sum(len(ops) for ops in api.ok("GET", "/openapi.json")["paths"].values())
    config = tmp_path / "schemathesis.toml"
    _config(config, loopback_serve["api_key"], ids)
    # When Schemathesis runs every operation of /openapi.json against it
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", f"{api_url}/openapi.json",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--request-timeout", "30", "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    started = time.monotonic()
    done = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env
    )
    took = time.monotonic() - started
    report = done.stdout[-15_000:] + done.stderr[-3_000:]
    # Then it finds nothing: no 5xx, no undocumented status, body or content type
    assert done.returncode == 0, f"Schemathesis failed ({took:.0f} s):\n{report}"
    # Every operation was tested (Schemathesis leaves out the document's own GET /openapi.json)
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
    assert selected is not None, report
    assert len(set(selected.groups())) == 1, selected.group(0)
    assert int(selected.group(1)) == operations - 1, (selected.group(0), operations)
    print(f"Schemathesis: {took:.0f} s\n{report[-3000:]}")
