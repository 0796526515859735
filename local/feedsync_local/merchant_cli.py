"""`feedsync stores|profiles|run|runs|log|upload`: the REST API from a terminal or a script.

Against the local stack or a deployed API (``FEEDSYNC_API_URL``, ``FEEDSYNC_API_KEY``).
click parses the commands; rich draws the live progress on a terminal (a script gets plain
lines). Exit codes a script can act on: 0 succeeded, 1 the run failed, 2 it could not
start (or the API refused the request), 3 any other outcome (skipped, held, previewed,
partially applied, cancelled). ``--json`` prints the API's answer instead of text.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click
import requests
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from feedsync.models import ACTIVE_STATUSES

SUCCEEDED, FAILED, NOT_STARTED, OTHER = 0, 1, 2, 3
PHASE_WORDS = {
    "queued": "Queued",
    "preparing": "Preparing",
    "matching": "Matching",
    "updating": "Updating",
}


class ApiError(click.ClickException):
    """The API refused a request: its status and its own words; exit code 2."""

    exit_code = NOT_STARTED


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            resp = self.session.request(
                method,
                self.url + path,
                json=body,
                params={k: v for k, v in params.items() if v is not None},
                timeout=60,
            )
        except requests.RequestException as exc:
            raise ApiError(f"{method} {path}: the API did not answer ({exc})") from exc
        if resp.status_code >= 400:
            raise ApiError(f"{method} {path} -> {resp.status_code}: {_words(resp)}")
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            return resp.json()
        return resp.text


def _words(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)


class Context:
    def __init__(self, api: Api, as_json: bool) -> None:
        self.api = api
        self.as_json = as_json
        # A pipe or a file gets whole ids, not a terminal's 80 columns.
        self.out = Console(highlight=False, width=None if sys.stdout.isatty() else 240)

    def emit(self, body: Any, text: str | Table | None = None) -> None:
        if self.as_json or text is None:
            click.echo(json.dumps(body, indent=2, default=str))
        else:
            self.out.print(text)


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--api-url", envvar="FEEDSYNC_API_URL", required=True, help="FEEDSYNC_API_URL")
@click.option("--api-key", envvar="FEEDSYNC_API_KEY", required=True, help="FEEDSYNC_API_KEY")
@click.option("--json", "as_json", is_flag=True, help="print the API's answers as JSON")
@click.pass_context
def cli(ctx: click.Context, api_url: str, api_key: str, as_json: bool) -> None:
    """feedsync from a terminal: stores, profiles, runs and their logs."""
    ctx.obj = Context(Api(api_url, api_key), as_json)


# ------------------------------------------------------------------------------- stores
@cli.group()
def stores() -> None:
    """The stores feedsync writes to."""


@stores.command("list")
@pass_context
def stores_list(c: Context) -> None:
    body = c.api.call("GET", "/stores")
    table = Table("store", "name", "platform", "status", "variants")
    for s in body["stores"]:
        table.add_row(s["store_id"], s["name"], s["platform"], s["status"],
                      str(s.get("variant_count", "")))  # fmt: skip
    c.emit(body, table)


@stores.command("show")
@click.argument("store_id")
@pass_context
def stores_show(c: Context, store_id: str) -> None:
    c.emit(c.api.call("GET", f"/stores/{store_id}"))


# ----------------------------------------------------------------------------- profiles
@cli.group()
def profiles() -> None:
    """Profiles: which supplier file goes to which store, how and when."""


@profiles.command("list")
@pass_context
def profiles_list(c: Context) -> None:
    body = c.api.call("GET", "/profiles")
    table = Table("profile", "name", "status", "health", "last sync", "next sync")
    for p in body["profiles"]:
        last = (p.get("last_run") or {}).get("finished_at") or ""
        table.add_row(p["profile_id"], p["name"], p.get("status", ""),
                      str((p.get("health") or {}).get("status", "")), str(last),
                      str(p.get("next_run_at") or ""))  # fmt: skip
    c.emit(body, table)


@profiles.command("show")
@click.argument("profile_id")
@pass_context
def profiles_show(c: Context, profile_id: str) -> None:
    c.emit(c.api.call("GET", f"/profiles/{profile_id}"))


@profiles.command("create")
@click.argument("settings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def profiles_create(c: Context, settings: Path) -> None:
    """Create a profile from a YAML or JSON file of its settings."""
    body = c.api.call("POST", "/profiles", _settings(settings))
    c.emit(body, f"profile {body['profile_id']} created ({body['name']})")


@profiles.command("edit")
@click.argument("profile_id")
@click.argument("changes", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def profiles_edit(c: Context, profile_id: str, changes: Path) -> None:
    """Change a profile: the file holds only the settings to change (YAML or JSON)."""
    body = c.api.call("PATCH", f"/profiles/{profile_id}", _settings(changes))
    c.emit(body, f"profile {profile_id} changed")


def _settings(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"{path}: not valid YAML or JSON ({exc})") from exc
    if not isinstance(loaded, dict):
        raise click.BadParameter(f"{path}: expected the settings as a mapping")
    return loaded


# --------------------------------------------------------------------------------- runs
@cli.command()
@click.argument("profile_id")
@click.option("--full", is_flag=True, help="a full sync (every value written again)")
@click.option("--preview", is_flag=True, help="compute the changes, write nothing")
@click.option("--wait", is_flag=True, help="follow the run to its end (exit code says how)")
@pass_context
def run(c: Context, profile_id: str, full: bool, preview: bool, wait: bool) -> None:
    """Start a sync of PROFILE."""
    body: dict[str, Any] = {"preview": preview}
    if full:
        body["mode"] = "full"
    started = c.api.call("POST", f"/profiles/{profile_id}/runs", body)
    if not wait:
        c.emit(started, f"run {started['run_id']}: {started['status']}")
        return
    _finish(c, follow(c, started["run_id"]))


def follow(c: Context, run_id: str) -> dict[str, Any]:
    """The run at its end, its phases shown as they happen (a bar while it updates; `feedsync
    demo` follows its run with it too)."""
    if c.as_json or not c.out.is_terminal:
        seen = ""
        while (now := c.api.call("GET", f"/runs/{run_id}"))["status"] in ACTIVE_STATUSES:
            if now["status"] != seen and not c.as_json:
                click.echo(PHASE_WORDS.get(now["status"], now["status"]))
            seen = now["status"]
            time.sleep(0.5)
        return now  # type: ignore[no-any-return]
    columns = (TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.fields[n]}"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=c.out, transient=False) as bar:
        task = bar.add_task("Queued", total=None, n="")
        while (now := c.api.call("GET", f"/runs/{run_id}"))["status"] in ACTIVE_STATUSES:
            p = now["progress"]
            known = p.get("percent") is not None and p["total"]
            bar.update(task, description=PHASE_WORDS.get(now["status"], now["status"]),
                       total=p["total"] if known else None, completed=p["done"],
                       n=f"{p['done']}/{p['total']}" if known else "")  # fmt: skip
            time.sleep(0.5)
        bar.update(task, description=now["status"].capitalize())
    return now  # type: ignore[no-any-return]


def _finish(c: Context, done: dict[str, Any]) -> NoReturn:
    counts = done["counts"]
    text = (
        f"run {done['run_id']}: {done['status']}  (updated {counts['updated']}, failed "
        f"{counts['failed']}, not found {counts['not_found']}, row errors {counts['row_errors']})"
    )
    if done.get("error"):
        text += f"\n  reason: {done['error']}"
    c.emit(done, text)
    status = done["status"]
    sys.exit(SUCCEEDED if status == "succeeded" else FAILED if status == "failed" else OTHER)


@cli.command()
@click.argument("profile_id")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--cursor", help="the `next` of the page before")
@pass_context
def runs(c: Context, profile_id: str, limit: int, cursor: str | None) -> None:
    """The runs of PROFILE, newest first."""
    body = c.api.call("GET", f"/profiles/{profile_id}/runs", limit=limit, cursor=cursor)
    table = Table("run", "trigger", "status", "updated", "failed", "created")
    for r in body["runs"]:
        table.add_row(r["run_id"], r["trigger"], r["status"], str(r["counts"]["updated"]),
                      str(r["counts"]["failed"]), str(r.get("created_at", "")))  # fmt: skip
    if body.get("next"):
        table.caption = f"more: --cursor {body['next']}"
    c.emit(body, table)


@cli.command()
@click.argument("run_id")
@click.option("--status", help="only the lines of this status (e.g. failed)")
@pass_context
def log(c: Context, run_id: str, status: str | None) -> None:
    """The per-row log of RUN as CSV."""
    text = c.api.call("GET", f"/runs/{run_id}/log", status=status)
    rows = list(csv.DictReader(io.StringIO(text)))
    if c.as_json:
        c.emit(rows)
        return
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    click.echo(out.getvalue(), nl=False)


@cli.command()
@click.argument("profile_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", is_flag=True, help="start a sync on the file as it lands")
@click.option("--wait", is_flag=True, help="with --start: follow the sync the upload starts")
@pass_context
def upload(c: Context, profile_id: str, file: Path, start: bool, wait: bool) -> None:
    """Upload FILE as PROFILE's supplier file. Without --start it is only stored (the
    dashboard's Update): `feedsync run PROFILE` then syncs it."""
    if wait and not start:
        raise click.UsageError("--wait follows the sync --start begins: add --start")
    body = {"file_name": file.name, "start": start}
    grant = c.api.call("POST", f"/profiles/{profile_id}/upload-url", body)
    history = c.api.call("GET", f"/profiles/{profile_id}/runs", limit=5)["runs"]
    before = {r["run_id"] for r in history}
    with file.open("rb") as data:
        headers = grant.get("headers") or {}
        put = requests.put(grant["upload_url"], data=data, headers=headers, timeout=600)
    if put.status_code >= 300:
        raise ApiError(f"the upload was refused: {put.status_code} {put.text[:300]}")
    if not wait:
        then = "a sync starts on it" if start else f"stored: `feedsync run {profile_id}` syncs it"
        c.emit(grant, f"uploaded {file.name} ({file.stat().st_size:,} bytes); {then}")
        return
    _finish(c, follow(c, _run_of_upload(c, profile_id, before)))


def _run_of_upload(c: Context, profile_id: str, before: set[str]) -> str:
    """The run the upload started (its S3 event arrives a moment after the PUT)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for r in c.api.call("GET", f"/profiles/{profile_id}/runs", limit=5)["runs"]:
            if r["trigger"] == "upload" and r["run_id"] not in before:
                return str(r["run_id"])
        time.sleep(0.5)
    raise ApiError("the upload started no run within 60 s")


def main(argv: list[str]) -> int:
    try:
        cli.main(args=argv, prog_name="feedsync", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        return NOT_STARTED
    return SUCCEEDED
