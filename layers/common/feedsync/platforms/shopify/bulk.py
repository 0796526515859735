"""Shopify's bulk operations: staged upload, run, poll, download.

A bulk mutation runs one document once per line of a JSONL file of variables: the file
goes to a staged upload target, ``bulkOperationRunMutation`` starts it (one bulk mutation
per shop at a time: a running one is waited for first), polls (``node(id:)``) follow it
to the end, and the result file says per line (``__lineNumber``) what the document
answered. The lines go in files of at most ``max_bulk_file_bytes`` (Shopify takes 20 MB),
one operation after the other, all within ``bulk_timeout_s``.

Polls come quickly at first, then at the job's estimated end: the pace is measured between
polls that show progress (a job may sit queued first), and no single wait exceeds
``MAX_WAIT_POLLS x bulk_poll_s``. Bulk query reads (``reader``) poll and download here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any, Final, Protocol
from urllib.parse import quote, urlsplit

from feedsync.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from feedsync.platforms.shopify.client import AdminClient
from feedsync.platforms.shopify.queries import (
    BULK_POLL_QUERY,
    BULK_RUN,
    CURRENT_BULK_QUERY,
    STAGED_UPLOADS,
)
from feedsync.platforms.shopify.responses import user_error_text
from feedsync.platforms.transport import TRANSIENT_EXCEPTIONS

JSON = dict[str, Any]

DONE: Final = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
# How much longer than the estimated end to wait before polling a bulk job again.
ETA_MARGIN: Final = 1.15
# The longest single wait between two polls of a bulk job, in ``bulk_poll_s``.
MAX_WAIT_POLLS: Final = 3.0
NO_BULK_RESULT: Final = "the bulk operation returned no result for this item"
NO_MUTATION_RESULT: Final = "Shopify answered no result for this item"


class BulkSettings(Protocol):
    """The connector's tuning the bulk path reads (when it runs: tests change it)."""

    bulk_poll_s: float
    bulk_timeout_s: float
    max_bulk_file_bytes: int


class BulkOperations:
    def __init__(
        self,
        client: AdminClient,
        settings: BulkSettings,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._settings = settings
        self._sleep = sleep
        self._clock = clock

    def run_mutation(
        self, document: str, root: str, lines: list[JSON], batch_key: str
    ) -> list[JSON | str]:
        """Run ``document`` once per line of variables as bulk mutation(s); per line its
        ``root`` payload (``{"userErrors": [...]}``) or why there is none. An operation
        that does not complete raises."""
        where = self._client.where
        timeout_s = self._settings.bulk_timeout_s
        encoded = [json.dumps(line, separators=(",", ":")).encode() for line in lines]
        answers: list[JSON | str] = [NO_BULK_RESULT] * len(lines)
        files = files_of(encoded, self._settings.max_bulk_file_bytes)
        started = self._clock()
        for part, (first, end) in enumerate(files):
            left = timeout_s - (self._clock() - started)
            if part and left <= 0:  # no time for another: a retry sends the values again
                raise StoreUnavailable(
                    f"{where}: {part} of {len(files)} bulk operations done; no time left for "
                    f"the others within {timeout_s:.0f} s"
                )
            key = batch_key if len(files) == 1 else f"{batch_key}-{part + 1}"
            path = self.stage_upload(b"\n".join(encoded[first:end]) + b"\n", key)
            operation = self.start_mutation(document, path, key, left)
            final = self.wait(operation, end - first, timeout_s - (self._clock() - started))
            status = final.get("status")
            if status != "COMPLETED":
                code = final.get("errorCode") or status
                message = f"{where}: bulk operation {operation} ended {status} ({code})"
                if code == "ACCESS_DENIED":
                    raise StoreAuthError(message + "; check the app's write_products scope")
                raise StoreUnavailable(message)
            if not final.get("url"):
                continue
            for raw in self.download(str(final["url"])).splitlines():
                if not raw.strip():
                    continue
                entry = json.loads(raw)
                number = entry.get("__lineNumber")
                if not isinstance(number, int) or not 0 <= number < end - first:
                    continue
                if entry.get("errors"):
                    answers[first + number] = "; ".join(
                        str(e.get("message")) for e in entry["errors"]
                    )
                    continue
                payload = (entry.get("data") or {}).get(root)
                answers[first + number] = (
                    payload if isinstance(payload, dict) else NO_MUTATION_RESULT
                )
        return answers

    def stage_upload(self, body: bytes, batch_key: str) -> str:
        """Upload a JSONL file of variables; the path a bulk mutation names it by."""
        filename = f"feedsync-{quote(batch_key, safe='')}.jsonl"
        data = self._client.graphql(
            STAGED_UPLOADS,
            {
                "input": [
                    {
                        "resource": "BULK_MUTATION_VARIABLES",
                        "filename": filename,
                        "mimeType": "text/jsonl",
                        "httpMethod": "POST",
                    }
                ]
            },
            "FeedsyncStagedUpload",
            10,
        )
        payload = data.get("stagedUploadsCreate") or {}
        targets = payload.get("stagedTargets") or []
        if payload.get("userErrors") or not targets or not targets[0]:
            raise StoreRequestError(
                f"{self._client.where} refused a staged upload: "
                + "; ".join(user_error_text(e) for e in payload.get("userErrors") or [])
            )
        target = targets[0]
        params = [(p["name"], p["value"]) for p in target.get("parameters") or []]
        key = next((v for n, v in params if n == "key"), None)
        self._client.transfer(
            "POST",
            str(target["url"]),
            form=params,
            files={"file": (filename, body, "text/jsonl")},
        )
        if key is None:  # no form key: the resource URL's path names the file
            key = urlsplit(str(target.get("resourceUrl") or "")).path.lstrip("/")
        return key

    def start_mutation(
        self, document: str, path: str, batch_key: str, timeout_s: float | None = None
    ) -> str:
        """Start a bulk mutation of ``document`` over the staged file; its operation id. A
        bulk mutation already running is waited for (within ``timeout_s``) first."""
        busy_waits = 0
        started = self._clock()
        while True:
            data = self._client.graphql(
                BULK_RUN,
                {"mutation": document, "path": path, "client": batch_key},
                "FeedsyncBulkRun",
                10,
            )
            payload = data.get("bulkOperationRunMutation") or {}
            errors = payload.get("userErrors") or []
            if not errors and payload.get("bulkOperation"):
                return str(payload["bulkOperation"]["id"])
            if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors) and busy_waits < 3:
                # One bulk mutation per shop: wait for the running one (maybe our own earlier
                # attempt whose answer was lost), then start ours; the values are absolute.
                busy_waits += 1
                current = self._client.graphql(
                    CURRENT_BULK_QUERY, {}, "FeedsyncCurrentBulkMutation", 1
                )
                running = current.get("currentBulkOperation")
                if running and running.get("status") not in DONE:
                    left = None
                    if timeout_s is not None:
                        left = timeout_s - (self._clock() - started)
                    self.wait(str(running["id"]), timeout_s=left)
                continue
            raise StoreRequestError(
                f"{self._client.where} refused the bulk mutation: "
                + "; ".join(user_error_text(e) for e in errors)
            )

    def wait(
        self, operation: str, lines: int | None = None, timeout_s: float | None = None
    ) -> JSON:
        """Poll to the end (within ``timeout_s``, default ``bulk_timeout_s``) with as few polls
        (requests) as the job allows; the final node.

        Quickly at first (small jobs finish in well under a second), then less and less often,
        up to every ``bulk_poll_s``. When the job's size is known (a mutation's ``lines``) and
        its ``objectCount`` shows progress, the next poll goes at the estimated end instead,
        with a margin so that one more poll usually finds it done. The pace is measured
        between two polls that both show progress: a job may sit queued before it runs, so
        the pace since the start can be far too slow. With one such poll only, the pace since
        the last poll that showed none (the job started after it): never faster than the job
        runs, so that estimate errs late. No single wait exceeds ``MAX_WAIT_POLLS`` x
        ``bulk_poll_s`` (what a wrong estimate can cost) nor runs past the timeout.
        """
        poll_s = self._settings.bulk_poll_s
        timeout = self._settings.bulk_timeout_s if timeout_s is None else timeout_s
        longest = MAX_WAIT_POLLS * poll_s
        # Nothing is done the instant a job starts: the first poll comes after one interval.
        interval = min(0.05, poll_s)
        started = self._clock()
        self._sleep(interval)
        waited = interval
        idle_at = 0.0  # when a poll last showed no progress yet (the job started after it)
        seen: tuple[float, int] | None = None  # (when, count): the last poll showing progress
        while True:
            data = self._client.graphql(
                BULK_POLL_QUERY, {"id": operation}, "FeedsyncBulkOperation", 1
            )
            node = data.get("node") or {}
            # The time since the start: the sleeps, or more (the polls took time too).
            now = max(waited, self._clock() - started)
            if node.get("status") in DONE:
                return node
            if now >= timeout - 1e-6:
                raise StoreUnavailable(
                    f"{self._client.where}: bulk operation {operation} still "
                    f"{node.get('status')} after {now:.0f} s"
                )
            interval = min(interval * 2, poll_s)
            wait = interval
            done = count(node.get("objectCount"))
            pace = 0.0  # lines per second, 0: unknown
            if seen is None:
                if done > 0 and now > idle_at:
                    pace = done / (now - idle_at)
                else:
                    idle_at = now
            elif done > seen[1] and now > seen[0]:
                pace = (done - seen[1]) / (now - seen[0])
            if done > (seen[1] if seen else 0):
                seen = (now, done)
            if lines and pace > 0 and done < lines:
                wait = max(interval, (lines - done) / pace * ETA_MARGIN)
            wait = max(0.0, min(wait, longest, timeout - now))
            self._sleep(wait)
            waited = now + wait

    def download(self, url: str) -> bytes:
        return self._client.transfer("GET", url).content

    def download_into(self, url: str, spool: IO[bytes]) -> None:
        """Stream a result file into ``spool``; a transfer broken midway starts over (the
        transport retries the request; a body broken while read is retried here)."""
        files = self._client.files
        failures = 0
        while True:
            response = self._client.transfer("GET", url, stream=True)
            try:
                with response:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        spool.write(chunk)
                return
            except TRANSIENT_EXCEPTIONS as exc:
                if failures >= files.max_retries:
                    raise StoreUnavailable(
                        f"{self._client.where}: the bulk result download broke off "
                        f"{failures + 1} time(s); last: {type(exc).__name__} ({exc})"
                    ) from None
                spool.seek(0)
                spool.truncate()
                files.sleep(files.backoff(failures))
                failures += 1


def files_of(lines: list[bytes], limit: int) -> list[tuple[int, int]]:
    """``[first, end)`` ranges of ``lines`` whose JSONL (a newline after each) stays within
    ``limit`` bytes; a line longer than that goes alone (Shopify will say what it thinks)."""
    files: list[tuple[int, int]] = []
    first, size = 0, 0
    for n, line in enumerate(lines):
        if n > first and size + len(line) + 1 > limit:
            files.append((first, n))
            first, size = n, 0
        size += len(line) + 1
    if lines:
        files.append((first, len(lines)))
    return files


def count(value: Any) -> int:
    """A BulkOperation count (an UnsignedInt64, sent as a string)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
